//! Agreement on several data instances, end to end through `qt validate --db A --db B`:
//! hand-written rewrites that equal the original on the primary (scale 1, 1% of the facts)
//! but not on a tiny instance (scale 0.01, where the filtered set is empty) pass with one
//! instance and fail with two; a constant answer fails whatever its speed; `qt db survey`
//! flags queries a sample cannot judge.

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn generate(args: &[&str]) -> PathBuf {
    let out = qt().args(["db", "generate", "--quiet"]).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().lines().last().unwrap().trim())
}

/// Scale 1 with 1% of the facts: runs of tickets spread over all 240,000.
fn primary() -> PathBuf {
    generate(&["--scale", "1", "--sample", "0.01"])
}

/// Scale 0.01: about 2,400 tickets, so `ss_ticket_number > 10000` selects nothing.
fn tiny() -> PathBuf {
    generate(&["--scale", "0.01"])
}

fn validate(dbs: &[&Path], original: &str, candidate: &str) -> (Option<i32>, Value) {
    let dir = tempfile::tempdir().unwrap();
    let (o, c) = (dir.path().join("orig.sql"), dir.path().join("cand.sql"));
    std::fs::write(&o, original).unwrap();
    std::fs::write(&c, candidate).unwrap();
    let mut cmd = qt();
    // One-row originals: this file is about agreement across instances, not about the
    // evidence a pass needs (tests/validate_sparse.rs), so a single row is enough here.
    cmd.args(["validate", "--json", "--rounds", "1", "--min-rows", "1"]);
    for db in dbs {
        cmd.arg("--db").arg(db);
    }
    let out = cmd.arg(&o).arg(&c).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("--json output: {e}\n{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), v)
}

const FILTER: &str = "from store_sales where ss_ticket_number > 10000";

#[test]
fn rewrites_wrong_only_on_empty_sets_fail_with_two_instances_and_pass_with_one() {
    let (p, t) = (primary(), tiny());
    let cases = [
        // COUNT vs SUM of an empty set: 0 vs NULL.
        (
            format!("select count(*) as n, count(distinct ss_ticket_number) as t {FILTER}"),
            format!("select sum(1) as n, count(distinct ss_ticket_number) as t {FILTER}"),
        ),
        // Empty-side division: NULLIF's NULL turned into 0.
        (
            format!("select sum(ss_net_paid) / nullif(count(*), 0) as avg_paid {FILTER}"),
            format!("select coalesce(sum(ss_net_paid) / nullif(count(*), 0), 0) as avg_paid {FILTER}"),
        ),
    ];
    for (original, candidate) in &cases {
        let (code, one) = validate(&[&p], original, candidate);
        assert_eq!(code, Some(0), "one instance must pass: {one:#}");
        assert_eq!(one["status"], "pass", "{one:#}");

        let (code, two) = validate(&[&p, &t], original, candidate);
        assert_eq!(code, Some(1), "{two:#}");
        assert_eq!(two["status"], "validation_failed", "{two:#}");
        assert!(two["error"].as_str().unwrap().contains("instance 2"), "{two:#}");
        let inst = two["instances"].as_array().expect("instances list");
        assert_eq!(inst.len(), 2, "{two:#}");
        assert_eq!(inst[0]["agreement"], "agree");
        assert_eq!(inst[1]["agreement"], "disagree");
        assert!(inst[0]["db_fingerprint"].as_str().unwrap().len() == 64);
        assert_ne!(inst[0]["db_fingerprint"], inst[1]["db_fingerprint"]);

        // The original against itself agrees everywhere (empty = empty agrees).
        let (code, same) = validate(&[&p, &t], original, original);
        assert_eq!(code, Some(0), "{same:#}");
        assert_eq!(same["instances"][1]["agreement"], "agree", "{same:#}");
    }
}

#[test]
fn a_constant_answer_fails_whatever_its_speed() {
    let t = tiny();
    let c = qt::db::open_read_only(&t).unwrap();
    let n: i64 = c.query_row("select count(*) from store", [], |r| r.get(0)).unwrap();
    drop(c);
    let (code, v) = validate(&[&t], "select count(*) as n from store", &format!("select {n} as n"));
    assert_eq!(code, Some(1), "{v:#}");
    assert_eq!(v["status"], "validation_failed", "{v:#}");
    assert_eq!(v["reason"], "constant_result", "{v:#}");
    let (_, v) = validate(&[&t], "select count(*) as n from store", &format!("select * from (values ({n})) t(n)"));
    assert_eq!(v["reason"], "constant_result", "{v:#}");
}

#[test]
fn an_extra_db_that_is_not_duckdb_is_bad_input() {
    let t = tiny();
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.duckdb");
    std::fs::write(&junk, "not a database").unwrap();
    let q = repo().join("queries/demo/demo1.sql");
    qt().args(["validate", "--db"])
        .arg(&t)
        .arg("--db")
        .arg(&junk)
        .arg(&q)
        .arg(&q)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("junk.duckdb"));
}

#[test]
fn survey_flags_queries_the_sample_cannot_judge() {
    let t = tiny();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("q_empty.sql"), "select s_store_id from store where s_state = 'ZZ'").unwrap();
    std::fs::write(dir.path().join("q_rows.sql"), "select s_state, count(*) from store group by 1;\nselect 1 as x").unwrap();
    let out = qt().args(["db", "survey", "--db"]).arg(&t).arg(dir.path()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let line = |name: &str| text.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name} in {text}"));
    assert!(line("q_empty.sql").contains("empty: rescued by re-binding (s_state 'ZZ'->"), "{text}");
    assert!(!line("q_rows.sql#1").contains("empty"), "{text}");
    assert!(line("q_rows.sql#2").contains("1 rows"), "{text}");
    // One row on one DB, or one constant, is thin evidence (issue 22); the empty one is
    // rescued by re-binding its state to one the data holds.
    assert!(line("q_rows.sql#2").contains("thin: 0 row(s) of evidence"), "{text}");
    assert!(
        text.contains("3 statements: 0 judgeable, 1 empty (q_empty.sql), 2 thin (q_rows.sql#1, q_rows.sql#2), 0 errors; re-binding rescues 1 of the 3 (q_empty.sql)"),
        "{text}"
    );
}
