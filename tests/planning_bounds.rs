//! Planning bounded (issue 21): DuckDB computes constant arguments while it plans, outside
//! the deadline and `memory_limit` (`len(range(300000000))` ran 75 s at 15 GB against a
//! 1 s deadline), and its parser has no deadline at all (a 50 MB IN list held it for 15
//! minutes). So the gate refuses constant sizes above 1,000,000 and SQL above 1 MiB before
//! DuckDB sees it, and query files above 1 MiB are refused unread, naming the file.

mod common;
use common::*;
use qt::db::{ExecError, Sandbox};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn db(dir: &Path) -> PathBuf {
    small_db(dir, "t.duckdb", "CREATE TABLE t AS SELECT range AS v FROM range(50);")
}

/// A query of `bytes` bytes: an IN list of numbers.
fn big_in_list(bytes: usize) -> String {
    let mut sql = String::from("SELECT v FROM t WHERE v IN (0");
    let mut k = 1u64;
    while sql.len() < bytes {
        sql.push_str(&format!(", {k}"));
        k += 1;
    }
    sql.push(')');
    sql
}

#[test]
fn the_sandbox_refuses_constant_expansions_and_huge_texts_before_duckdb_sees_them() {
    let dir = tempfile::tempdir().unwrap();
    let sb = Sandbox::open(db(dir.path()), 1, "512MB").unwrap();
    for sql in [
        "SELECT len(range(300000000)) AS n",
        "SELECT length(repeat(repeat('ab', 100000), 100000)) AS n",
        "SELECT len(range(1e9)) AS n FROM t",
    ] {
        match sb.run(sql, Duration::from_secs(1)) {
            Err(ExecError::Failed(m)) => assert!(m.contains("refused before planning") && m.contains("1,000,000"), "{sql}: {m}"),
            other => panic!("{sql}: {other:?}"),
        }
    }
    let huge = big_in_list(2 << 20);
    match sb.run(&huge, Duration::from_secs(1)) {
        Err(ExecError::Failed(m)) => assert!(m.contains("1 MiB"), "{m}"),
        other => panic!("{other:?}"),
    }
    // What stays allowed: small constants, table functions in FROM (they stream under the
    // deadline), a 100 KB IN list.
    assert_eq!(sb.run("SELECT len(range(1000)) AS n", Duration::from_secs(30)).unwrap().result.rows.len(), 1);
    assert_eq!(sb.run("SELECT count(*) AS n FROM range(2000000)", Duration::from_secs(30)).unwrap().result.rows.len(), 1);
    assert_eq!(sb.run(&big_in_list(100_000), Duration::from_secs(30)).unwrap().result.rows.len(), 50);
}

#[test]
fn qt_validate_gives_an_error_verdict_saying_why_and_refuses_large_query_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(dir.path());
    let write = |name: &str, sql: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, sql).unwrap();
        p
    };
    let orig = write("orig.sql", "SELECT count(*) AS n FROM t");
    let cand = write("cand.sql", "SELECT len(range(300000000)) AS n FROM t LIMIT 1");
    let out = qt().args(["validate", "--json", "--rounds", "1", "--db"]).arg(&path).arg(&orig).arg(&cand).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("--json output: {e}\n{}", String::from_utf8_lossy(&out.stderr)));
    let text = v.to_string();
    assert_eq!(v["status"], "error", "{text}");
    assert!(text.contains("refused before planning") && text.contains("range"), "{text}");

    let big = write("big.sql", &big_in_list(2 << 20));
    for args in [[&big, &cand], [&orig, &big]] {
        let out = qt().args(["validate", "--db"]).arg(&path).arg(args[0]).arg(args[1]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("big.sql") && stderr.contains("1 MiB"), "{stderr}");
    }
}

#[test]
fn qt_run_refuses_a_query_file_over_1_mib_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("q_big.sql");
    std::fs::write(&big, big_in_list(2 << 20)).unwrap();
    let spec = write_spec(dir.path(), "big.toml", &offline_spec(dir.path(), "big", &[big.to_str().unwrap()]));
    let out = qt().args(["run", "--quiet"]).arg(&spec).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("q_big.sql") && stderr.contains("1 MiB"), "{stderr}");
    assert!(!dir.path().join("out/big").exists() || count_files(&dir.path().join("out/big"), "validation.json") == 0);
}
