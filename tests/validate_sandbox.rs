//! The sandbox: hostile candidates are rejected, the DB file is byte-identical afterwards,
//! no file is created, and deadlines interrupt runaway queries.

mod common;

mod validate_support;
use qt::validate::sandbox::{ExecError, Sandbox, check_single_query};
use qt::validate::{TimingLane, prepare_baseline, validate_candidate};
use std::path::PathBuf;
use std::time::Duration;
use validate_support::*;

const SETUP: &str =
    "CREATE TABLE t(a INTEGER, b VARCHAR); INSERT INTO t SELECT i, 'v' || i FROM range(100) r(i);";

#[test]
fn hostile_candidates_are_rejected_and_leave_no_trace() {
    let db = db_with(SETUP);
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("x.csv");
    let attached = out.path().join("other.db");
    let before_hash = sha256(&db.path);
    let before_files = listing(db.dir.path());
    let cfg = quick_cfg();
    let lane = TimingLane::new();
    let base = prepare_baseline(&db.path, "SELECT a, b FROM t", &cfg, &lane).expect("baseline");
    let hostile = [
        "DROP TABLE t".to_string(),
        "DELETE FROM t".into(),
        format!("COPY t TO '{}'", target.display()),
        format!(
            "COPY (SELECT * FROM t) TO '{}' (FORMAT csv)",
            target.display()
        ),
        format!("ATTACH '{}' AS other", attached.display()),
        "SELECT * FROM read_csv('/etc/passwd')".into(),
        "SELECT * FROM '/etc/passwd'".into(),
        "INSTALL httpfs".into(),
        "LOAD httpfs".into(),
        "SELECT 1; DROP TABLE t".into(),
        "SELECT a, b FROM t; DELETE FROM t".into(),
        "PRAGMA database_list".into(),
        "SET threads = 8".into(),
        "CREATE TABLE t2 AS SELECT * FROM t".into(),
        "SELECT * INTO t3 FROM t".into(),
        "CHECKPOINT".into(),
    ];
    for sql in &hostile {
        let v = validate_candidate(&db.path, &base, sql, &cfg, &lane);
        assert_eq!(v.status(), "error", "{sql} -> {}", v.render_human());
        assert!(
            // `SELECT .. INTO` is no DuckDB syntax: DuckDB's parse error says so.
            matches!(v.reason(), Some("not_select") | Some("execution_error") | Some("parse_error")),
            "{sql} -> {}",
            v.render_human()
        );
    }
    assert_eq!(sha256(&db.path), before_hash, "the sample DB changed");
    assert_eq!(
        listing(db.dir.path()),
        before_files,
        "files appeared next to the DB"
    );
    assert!(!target.exists() && !attached.exists());
    assert!(listing(out.path()).is_empty(), "{:?}", listing(out.path()));
}

#[test]
fn the_connection_itself_refuses_writes_settings_and_files() {
    // Second line of defence: even SQL that slipped past the statement gate cannot act.
    let db = db_with(SETUP);
    let out = tempfile::tempdir().unwrap();
    let before = sha256(&db.path);
    let sb = Sandbox::open(&db.path, 1, "512MB").unwrap();
    let d = Duration::from_secs(10);
    for sql in [
        "SET threads = 4".to_string(),
        "SET enable_external_access = true".into(),
        "SET memory_limit = '8GB'".into(),
        "INSERT INTO t VALUES (1, 'x')".into(),
        "CREATE TABLE z(a INTEGER)".into(),
        "SELECT * FROM read_csv('/etc/passwd')".into(),
        format!("COPY t TO '{}'", out.path().join("y.csv").display()),
        format!("ATTACH '{}' AS o", out.path().join("o.db").display()),
        "INSTALL httpfs".into(),
    ] {
        let r = sb.run_unchecked(&sql, d);
        assert!(
            matches!(r, Err(ExecError::Failed(_))),
            "{sql} was allowed: {r:?}"
        );
    }
    // It still answers queries afterwards.
    let ok = sb.run("SELECT count(*) FROM t", d).unwrap();
    assert_eq!(ok.result.rows.len(), 1);
    drop(sb);
    assert_eq!(sha256(&db.path), before);
    assert!(listing(out.path()).is_empty());
}

#[test]
fn cross_join_bomb_hits_the_deadline() {
    let db = db_with(SETUP);
    let mut cfg = quick_cfg();
    cfg.original_timeout = Duration::from_secs(5);
    let bomb = "SELECT count(*) FROM range(100000000) a, range(100000000) b";
    let started = std::time::Instant::now();
    let v = check_with(&db.path, "SELECT count(*) FROM t", bomb, &cfg);
    assert_status(&v, "error", "timeout");
    // Generous bound: only proves the watchdog fired rather than the query finishing.
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn an_original_over_its_deadline_is_inconclusive() {
    let db = db_with(SETUP);
    let mut cfg = quick_cfg();
    cfg.original_timeout = Duration::from_millis(300);
    let bomb = "SELECT count(*) FROM range(100000000) a, range(100000000) b";
    assert_status(
        &check_with(&db.path, bomb, "SELECT 1", &cfg),
        "inconclusive",
        "timeout",
    );
}

#[test]
fn sandbox_is_usable_after_an_interrupt() {
    let db = db_with(SETUP);
    let sb = Sandbox::open(&db.path, 1, "512MB").unwrap();
    let r = sb.run(
        "SELECT count(*) FROM range(100000000) a, range(100000000) b",
        Duration::from_millis(200),
    );
    assert!(matches!(r, Err(ExecError::Timeout(_))), "{r:?}");
    let ok = sb
        .run("SELECT sum(a) FROM t", Duration::from_secs(10))
        .unwrap();
    assert_eq!(ok.result.rows.len(), 1);
}

#[test]
fn missing_db_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.duckdb");
    let err = Sandbox::open(&missing, 1, "512MB")
        .err()
        .expect("must fail");
    assert!(err.to_string().contains("nope.duckdb"), "{err}");
    assert!(!missing.exists(), "opening must not create the DB");
}

fn tpcds_dir() -> Option<PathBuf> {
    common::tpcds_queries()
}

#[test]
fn every_tpcds_query_passes_the_statement_gate() {
    let Some(dir) = tpcds_dir() else { return };
    let mut checked = 0;
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("sql") {
            continue;
        }
        let sql = std::fs::read_to_string(&path).unwrap();
        // A few files (14, 24, 39) hold two queries: the gate must reject the file as a
        // whole and accept each query on its own.
        let parts =
            sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::DuckDbDialect {}, &sql)
                .map(|v| v.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap_or_else(|_| vec![sql.clone()]);
        if parts.len() > 1 && check_single_query(&sql).is_ok() {
            failures.push(format!(
                "{}: {} statements accepted as one",
                path.display(),
                parts.len()
            ));
        }
        for part in if parts.len() > 1 { parts } else { vec![sql] } {
            checked += 1;
            if let Err(e) = check_single_query(&part) {
                failures.push(format!("{}: {e}", path.display()));
            }
        }
    }
    assert!(checked > 0, "no .sql files in {}", dir.display());
    assert!(
        failures.is_empty(),
        "{} of {checked} rejected:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_candidate_flooding_rows_is_cut_off_as_a_row_count_mismatch() {
    let db = db_with(SETUP);
    let v = check(
        &db.path,
        "SELECT a FROM t",
        "SELECT range AS a FROM range(1000000)",
    );
    assert_status(&v, "validation_failed", "row_count_mismatch");
    let rows = v.rows().unwrap();
    assert_eq!(rows.original, 100);
    assert!(
        rows.optimized.is_some_and(|n| n > 100 && n < 1_000_000),
        "{rows:?}"
    );
}

#[test]
fn concurrent_workers_share_the_db_and_the_lane() {
    let db = db_with(SETUP);
    let mut cfg = quick_cfg();
    cfg.skip_timing = false;
    cfg.timing_rounds = 3;
    let lane = TimingLane::new();
    let base = prepare_baseline(&db.path, "SELECT a, b FROM t", &cfg, &lane).expect("baseline");
    let before = sha256(&db.path);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let (db, base, cfg, lane) = (&db.path, &base, &cfg, lane.clone());
                s.spawn(move || {
                    let cand = format!("SELECT a, b FROM t WHERE a >= {} - {i} ORDER BY a DESC", i);
                    validate_candidate(db, base, &cand, cfg, &lane)
                })
            })
            .collect();
        for h in handles {
            let v = h.join().expect("worker panicked");
            assert_pass(&v);
            assert!(v.speedup().is_some());
        }
    });
    assert_eq!(sha256(&db.path), before);
}

#[test]
fn timed_runs_wait_for_the_lane() {
    let db = db_with(SETUP);
    let mut cfg = quick_cfg();
    cfg.skip_timing = false;
    cfg.timing_rounds = 2;
    let lane = TimingLane::new();
    let base = prepare_baseline(&db.path, "SELECT a, b FROM t", &cfg, &lane).expect("baseline");
    let held = lane.hold();
    std::thread::scope(|s| {
        let worker = s.spawn(|| {
            validate_candidate(
                &db.path,
                &base,
                "SELECT a, b FROM t ORDER BY a DESC",
                &cfg,
                &lane.clone(),
            )
        });
        // Whatever the machine's speed, a worker cannot finish its timed rounds while
        // the lane is held; the sleep only gives it the chance to (wrongly) do so.
        std::thread::sleep(Duration::from_millis(500));
        assert!(
            !worker.is_finished(),
            "timed rounds ran while the lane was held"
        );
        drop(held);
        let v = worker.join().expect("worker panicked");
        assert_pass(&v);
        assert!(v.speedup().is_some());
    });
}
