//! Issue 22: no wrong pass on thin or lucky data, end to end through `qt validate`.
//! The dense primary is TPC-DS scale 1 with 1% of the facts; "the defaults" are its
//! default instance set (another slice, scale 0.01, the sparse instance). Each bug class
//! below passes on the dense primary alone and fails with the defaults; a one-row original
//! is `thin_evidence`, not a pass; an original empty on the primary is judged by the other
//! instances; an original empty everywhere is re-bound; files of two statements are judged
//! statement by statement.

mod common;
use common::*;
use serde_json::Value;
use std::path::PathBuf;

fn generate(args: &[&str]) -> PathBuf {
    let out = qt().args(["db", "generate", "--quiet"]).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().lines().last().unwrap().trim())
}

fn dense() -> PathBuf {
    generate(&["--scale", "1", "--sample", "0.01"])
}

/// The primary and its default instances (what `qt run` checks a generated DB on).
fn defaults() -> Vec<PathBuf> {
    vec![
        dense(),
        generate(&["--scale", "1", "--sample", "0.01", "--instance", "2"]),
        generate(&["--scale", "0.01"]),
        generate(&["--scale", "0.01", "--sparse"]),
    ]
}

fn validate(dbs: &[PathBuf], original: &str, candidate: &str) -> Value {
    validate_with(dbs, original, candidate, &[])
}

fn validate_with(dbs: &[PathBuf], original: &str, candidate: &str, flags: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let (o, c) = (dir.path().join("orig.sql"), dir.path().join("cand.sql"));
    std::fs::write(&o, original).unwrap();
    std::fs::write(&c, candidate).unwrap();
    let mut cmd = qt();
    cmd.args(["validate", "--json", "--rounds", "1"]).args(flags);
    for db in dbs {
        cmd.arg("--db").arg(db);
    }
    let out = cmd.arg(&o).arg(&c).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("--json output: {e}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(if v["status"] == "pass" { 0 } else { 1 }), "{v:#}");
    v
}

const REASONS: &str = "from reason left join store_returns on sr_reason_sk = r_reason_sk
group by r_reason_desc order by r_reason_desc";

/// (bug class, original, wrong candidate).
fn bug_classes() -> Vec<(&'static str, String, String)> {
    let not_exists = "select c_customer_id from customer where c_customer_sk <= 40
  and not exists (select 1 from store_sales where ss_ticket_number = 75 and ss_customer_sk = c_customer_sk)
order by c_customer_id";
    let not_in = "select c_customer_id from customer where c_customer_sk <= 40
  and c_customer_sk not in (select ss_customer_sk from store_sales where ss_ticket_number = 75)
order by c_customer_id";
    vec![
        (
            "outer join turned inner",
            format!("select r_reason_desc, count(sr_ticket_number) as n {REASONS}"),
            format!("select r_reason_desc, count(sr_ticket_number) as n {}", REASONS.replace("left join", "join")),
        ),
        (
            "count(*) for count(col)",
            format!("select r_reason_desc, count(sr_ticket_number) as n {REASONS}"),
            format!("select r_reason_desc, count(*) as n {REASONS}"),
        ),
        ("NOT IN for NOT EXISTS over NULLs", not_exists.to_string(), not_in.to_string()),
        (
            "AVG over an empty group made 0",
            format!("select r_reason_desc, avg(sr_return_amt) as a {REASONS}"),
            format!("select r_reason_desc, coalesce(sum(sr_return_amt) / nullif(count(sr_return_amt), 0), 0) as a {REASONS}"),
        ),
        (
            "dropped COALESCE",
            format!("select r_reason_desc, coalesce(sum(sr_return_amt), 0) as s {REASONS}"),
            format!("select r_reason_desc, sum(sr_return_amt) as s {REASONS}"),
        ),
    ]
}

#[test]
fn each_bug_class_passes_on_one_dense_instance_and_fails_with_the_defaults() {
    let all = defaults();
    for (bug, original, candidate) in bug_classes() {
        let one = validate(&all[..1], &original, &candidate);
        assert_eq!(one["status"], "pass", "{bug}: the dense primary alone cannot see it: {one:#}");
        let four = validate(&all, &original, &candidate);
        assert_eq!(four["status"], "validation_failed", "{bug}: {four:#}");
        assert!(four["error"].as_str().unwrap().contains("instance 4"), "{bug}: the sparse instance decides: {four:#}");
        // The original against itself agrees everywhere.
        assert_eq!(validate(&all, &original, &original)["status"], "pass", "{bug}");
    }
}

#[test]
fn dropping_an_outer_join_or_a_coalesce_gets_a_risk_note_even_on_a_pass() {
    let (_, original, candidate) = &bug_classes()[0];
    let v = validate(&[dense()], original, candidate);
    let notes = v["notes"].to_string();
    assert!(notes.contains("risk: the candidate has 0 outer join where the original has 1"), "{v:#}");
}

#[test]
fn one_row_of_evidence_is_thin_not_a_pass_and_instances_add_up() {
    let all = defaults();
    // One row per instance: thin on one instance, enough on four (4 rows of evidence).
    let original = "select count(*) as n, sum(ss_quantity) as q from store_sales";
    let right = "select count(ss_item_sk) as n, sum(ss_quantity) as q from store_sales";
    let v = validate(&all[..1], original, right);
    assert_eq!((v["status"].as_str(), v["reason"].as_str()), (Some("inconclusive"), Some("thin_evidence")), "{v:#}");
    assert!(v["error"].as_str().unwrap().contains("fewer than min_rows = 2"), "{v:#}");
    assert_eq!(validate(&all, original, right)["status"], "pass");
    // A difference is still a failure, however thin.
    let wrong = validate(&all[..1], original, "select count(ss_customer_sk) as n, sum(ss_quantity) as q from store_sales");
    assert_eq!(wrong["status"], "validation_failed", "{wrong:#}");
}

#[test]
fn an_original_empty_on_the_primary_is_judged_by_the_other_instances() {
    let all = defaults();
    // The primary's 1% slice holds tickets 1-12 of every 1,200; tickets 13-24 are in the
    // second slice and at scale 0.01 only.
    let original = "select ss_ticket_number, count(*) as n from store_sales where ss_ticket_number between 13 and 24 group by ss_ticket_number order by ss_ticket_number";
    let v = validate(&all, original, &original.replace("between 13 and 24", ">= 13 and ss_ticket_number <= 24"));
    assert_eq!(v["status"], "pass", "{v:#}");
    assert_eq!(v["instances"][0]["original_rows"], 0, "{v:#}");
    assert!(v["notes"].to_string().contains("no rows on the primary"), "{v:#}");
    let wrong = validate(&all, original, &original.replace("between 13 and 24", "between 13 and 23"));
    assert_eq!(wrong["status"], "validation_failed", "{wrong:#}");
}

#[test]
fn an_original_empty_everywhere_is_re_bound_the_same_way_for_the_candidate() {
    let all = defaults();
    let original = "select d_moy, count(*) as lines, sum(ss_quantity) as qty
from store_sales join date_dim on ss_sold_date_sk = d_date_sk
where d_year = 2030 and d_moy between 3 and 4
group by d_moy order by d_moy";
    let right = "select d.d_moy, count(*) as lines, sum(s.ss_quantity) as qty
from date_dim d join store_sales s on s.ss_sold_date_sk = d.d_date_sk
where d.d_moy between 3 and 4 and d.d_year in (2030)
group by d.d_moy order by d.d_moy";
    let v = validate(&all, original, right);
    assert_eq!(v["status"], "pass", "{v:#}");
    let r = &v["rebinding"];
    assert_eq!(r["applied"], true, "{v:#}");
    assert!(r["description"].as_str().unwrap().starts_with("d_year 2030->"), "{v:#}");
    assert!(r["tries"].as_u64().unwrap() >= 1);
    assert_eq!(r["evidence_written"], 0);
    // A candidate that hard-codes the written year's (empty) answer fails once re-bound.
    let fitted = "select d_moy, 0::BIGINT as lines, NULL::HUGEINT as qty from date_dim where d_year = 2030 and d_moy between 3 and 4 and false group by d_moy order by d_moy";
    let f = validate(&all, original, fitted);
    assert_ne!(f["status"], "pass", "{f:#}");
    // With re-binding off, the same candidate is only `empty_result`.
    let off = validate_with(&all, original, right, &["--rebind-tries", "0"]);
    assert_eq!((off["status"].as_str(), off["reason"].as_str()), (Some("inconclusive"), Some("empty_result")), "{off:#}");
}

#[test]
fn two_statement_files_are_judged_statement_by_statement() {
    let Some(q) = tpcds_queries() else { return };
    let q39 = std::fs::read_to_string(q.join("query_39.sql")).unwrap();
    let all = defaults();
    let same = validate(&all[..1], &q39, &q39);
    assert_eq!(same["status"], "pass", "A/A of both statements: {same:#}");
    // A rewrite of statement 1 alone keeps statement 2 (the qt run prompts' shape).
    let first = qt::db::split_statements(&q39).remove(0);
    let one = validate(&all[..1], &q39, &first.replace("inv1.d_moy=1\n", "inv1.d_moy = 1\n"));
    assert_ne!(one["reason"], "not_select", "{one:#}");
    // A wrong second statement is named.
    let wrong = q39.replace("and inv1.cov > 1.5", "and inv1.cov > 99");
    let w = validate(&all[..1], &q39, &wrong);
    assert_ne!(w["status"], "pass", "{w:#}");
    assert!(w["error"].as_str().unwrap_or("").contains("statement 2 of 2"), "{w:#}");
    // More statements than the original is refused.
    let three = format!("{q39}\nselect 1;");
    assert_eq!(validate(&all[..1], &q39, &three)["reason"], "not_select");
}
