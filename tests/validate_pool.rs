//! The correctness pool: connections are reused (not opened per candidate), a reused one
//! is still read-only and locked, and a DB file replaced at the same path is never read
//! through an old connection. One test function: the pool's open counter is per process.

mod validate_support;
use qt::validate::sandbox::pool;
use qt::validate::{TimingLane, check_candidate, prepare_baseline};
use std::time::Duration;
use validate_support::*;

const D: Duration = Duration::from_secs(10);

fn first_cell(sb: &qt::validate::sandbox::Sandbox) -> String {
    let x = sb.run("SELECT a FROM t", D).expect("query");
    qt::validate::resultset::render_row(&x.result.rows[0])
}

#[test]
fn pooled_connections_are_reused_locked_and_follow_the_file() {
    let db = db_with("CREATE TABLE t AS SELECT 1 AS a;");
    let cfg = quick_cfg();
    let lane = TimingLane::new();
    let base = prepare_baseline(&db.path, "SELECT a FROM t", &cfg, &lane).expect("baseline");
    let before = pool::opened();
    for i in 0..20 {
        let c = check_candidate(&db.path, &base, &format!("SELECT a FROM t WHERE a > -{i}"), &cfg);
        assert!(c.is_ok(), "{c:?}");
    }
    assert!(pool::opened() - before <= 1, "20 checks opened {} connections", pool::opened() - before);

    let sb = pool::checkout(&db.path, 1, "1GB").expect("checkout");
    assert!(sb.intact());
    for setting in ["SET threads = 4", "SET lock_configuration = false", "SET enable_external_access = true"] {
        assert!(sb.run_unchecked(setting, D).is_err(), "{setting} must stay refused on a reused connection");
    }
    assert_eq!(first_cell(&sb), "(1)");
    drop(sb);

    // Replace the file at the same path: the next checkout must see the new data.
    std::fs::remove_file(&db.path).unwrap();
    let conn = duckdb::Connection::open(&db.path).unwrap();
    conn.execute_batch("CREATE TABLE t AS SELECT 2 AS a;").unwrap();
    conn.close().map_err(|(_, e)| e).unwrap();
    let sb = pool::checkout(&db.path, 1, "1GB").expect("checkout");
    assert_eq!(first_cell(&sb), "(2)");
}
