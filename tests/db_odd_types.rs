//! No panic anywhere in qt for any SELECT DuckDB accepts: result columns of type NULL
//! (`SELECT NULL AS x`), typed NULLs, nested lists/structs/maps/unions holding NULL, ENUM,
//! INTERVAL, BLOB, BIT, UUID, HUGEINT/UHUGEINT, TIME WITH TIME ZONE, wide DECIMAL, VARINT,
//! infinities. The duckdb crate's row reader panicked (`unreachable!`) on an Arrow `Null`
//! column; qt reads result batches itself. Checked through the sandbox (every fetch path:
//! validation, baseline, sort keys and survey read through it) and end to end through
//! `qt validate` and `qt db survey`.

mod common;
use common::*;
use qt::db::Sandbox;
use qt::db::value::Cell;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Every SELECT here is accepted by DuckDB 1.2 (or refused with an error, never a panic).
const BATTERY: &[&str] = &[
    "SELECT NULL AS x",
    "SELECT NULL AS x FROM range(3)",
    "SELECT NULL AS a, NULL AS b, 1 AS c",
    "SELECT NULL::INTEGER AS i, NULL::VARCHAR AS v, NULL::DATE AS d, NULL::DECIMAL(18,3) AS m",
    "SELECT [NULL] AS l, [NULL, NULL] AS l2, [] AS e",
    "SELECT [[NULL]] AS ll, [[1, NULL], NULL] AS lm",
    "SELECT {'a': NULL} AS s, {'a': NULL, 'b': [NULL]} AS s2",
    "SELECT MAP {'k': NULL} AS m, MAP {} AS m0",
    "SELECT union_value(k := NULL) AS u",
    "SELECT union_value(n := 1) AS u UNION ALL SELECT union_value(n := NULL)",
    "SELECT [NULL]::INTEGER[1] AS arr, [1, 2, 3]::INTEGER[3] AS arr3",
    "SELECT 'x'::ENUM('x', 'y') AS e",
    "SELECT INTERVAL '1 day' AS d, INTERVAL 3 MONTH AS m, INTERVAL '1 microsecond' AS us",
    "SELECT '\\xAA\\xBB'::BLOB AS b, ''::BLOB AS e",
    "SELECT '10101'::BIT AS bits",
    "SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID AS u",
    "SELECT 170141183460469231731687303715884105727::HUGEINT AS h, -170141183460469231731687303715884105728::HUGEINT AS hmin",
    "SELECT 340282366920938463463374607431768211455::UHUGEINT AS uh",
    "SELECT '12:34:56+02'::TIMETZ AS t, '12:34:56.123456'::TIME AS t2",
    "SELECT TIMESTAMPTZ '2024-01-01 00:00:00+00' AS tz, '2024-01-01'::TIMESTAMP_NS AS ns, '2024-01-01'::TIMESTAMP_MS AS ms, '2024-01-01'::TIMESTAMP_S AS s",
    "SELECT 12345678901234567890123456.789012345678::DECIMAL(38,12) AS wide, 1::DECIMAL(38,0) AS d38",
    "SELECT 123456789012345678901234567890123456789012345678901234567890::VARINT AS vi",
    "SELECT 'infinity'::DATE AS d, '-infinity'::TIMESTAMP AS t, 'nan'::DOUBLE AS n, 'inf'::FLOAT AS f",
    "SELECT [{'k': MAP {'a': [NULL]}}] AS deep",
    "SELECT x FROM (VALUES (NULL), (1)) t(x)",
    "SELECT NULL AS x UNION ALL SELECT NULL",
    "SELECT NULL AS x ORDER BY 1",
    "SELECT 1 AS y ORDER BY NULL",
    "SELECT * EXCLUDE (x) FROM (SELECT 1 AS x)",
    "SELECT v FROM t ORDER BY v NULLS FIRST",
    "SELECT v, NULL AS n FROM t",
];

fn db(dir: &Path) -> PathBuf {
    small_db(dir, "odd.duckdb", "CREATE TABLE t AS SELECT * FROM (VALUES (1), (NULL), (3)) v(v);")
}

#[test]
fn every_odd_select_runs_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(dir.path());
    let sb = Sandbox::open(&path, 1, "512MB").unwrap();
    for sql in BATTERY {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sb.run_unchecked(sql, Duration::from_secs(30))));
        assert!(r.is_ok(), "{sql}: panicked");
        if let Ok(Err(e)) = &r {
            eprintln!("{sql}: refused by DuckDB: {e}");
        }
    }
    let x = sb.run("SELECT NULL AS x FROM range(2)", Duration::from_secs(30)).unwrap();
    assert_eq!(x.result.rows, vec![vec![Cell::Null], vec![Cell::Null]]);
    assert_eq!(x.result.columns[0].type_name, "NULL");
    let l = sb.run("SELECT [NULL] AS l, {'a': NULL} AS s, 1 AS one", Duration::from_secs(30)).unwrap();
    assert_eq!(l.result.rows[0][2], Cell::Int(1));
    assert!(matches!(&l.result.rows[0][0], Cell::Other(t) if t.contains("NULL")), "{:?}", l.result.rows);
    let h = sb.run("SELECT 170141183460469231731687303715884105727::HUGEINT AS h, 1::DECIMAL(38,0) AS d", Duration::from_secs(30)).unwrap();
    assert_eq!(h.result.rows[0][0], Cell::Int(i128::MAX));
    assert_eq!(h.result.rows[0][1], Cell::Decimal { value: 1, scale: 0 });
    let e = sb.run("SELECT 'x'::ENUM('x', 'y') AS e, INTERVAL '1 day' AS i", Duration::from_secs(30)).unwrap();
    assert_eq!(e.result.rows[0][0], Cell::Text("x".into()));
    assert_eq!(e.result.rows[0][1], Cell::Interval { months: 0, days: 1, nanos: 0 });
}

#[test]
fn validate_and_survey_take_null_typed_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(dir.path());
    let write = |name: &str, sql: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, sql).unwrap();
        p
    };
    for (i, sql) in BATTERY.iter().enumerate() {
        let q = write(&format!("q{i}.sql"), sql);
        let out = qt().args(["validate", "--db", path.to_str().unwrap(), q.to_str().unwrap(), q.to_str().unwrap()]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(101), "qt validate panicked on {sql}:\n{stderr}");
        assert!(!stderr.contains("panicked"), "{sql}: {stderr}");
    }
    let orig = write("orig.sql", "SELECT v, NULL AS n FROM t ORDER BY v");
    let cand = write("cand.sql", "SELECT v, NULL AS n FROM (SELECT v FROM t) ORDER BY v");
    let out = qt().args(["validate", "--db", path.to_str().unwrap(), orig.to_str().unwrap(), cand.to_str().unwrap()]).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_ne!(out.status.code(), Some(101), "{text}");
    assert!(text.contains("pass"), "an original with a NULL column can be judged: {text}");
    let out = qt().args(["db", "survey", "--db", path.to_str().unwrap(), dir.path().to_str().unwrap()]).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_ne!(out.status.code(), Some(101), "qt db survey panicked:\n{text}");
    assert!(!text.contains("panicked"), "{text}");
}
