//! PostgreSQL behind the engine seam, on a private throwaway cluster (tests/pg_support):
//! the same seam suite as DuckDB (typed rows, caps, deadline, gate), PostgreSQL's types
//! mapped into qt's value model, equivalence on PostgreSQL (char(n) padding, exact
//! numerics, floats with tolerance), hostile candidates (the data and roles unchanged
//! after each, checked by a checksum of every table), and the role check.
//! Without PostgreSQL installed each test prints a "skipped" line.

mod pg_support;
#[path = "validate_support/mod.rs"]
mod validate_support;

use std::time::Duration;

use qt::db::{Cell, ExecError, Sandbox, Target, TypeClass};
use qt::db::pg::PgTarget;
use qt::validate::{TimingLane, Verdict, prepare_baseline, validate_candidate};
use validate_support::{assert_pass, assert_status, quick_cfg};

const D: Duration = Duration::from_secs(30);

/// The cluster with database `db` holding the test tables and the SELECT-only role
/// `reader` (created once); None when PostgreSQL is not installed.
fn setup(test: &str) -> Option<(&'static pg_support::Cluster, Target)> {
    let Some(c) = pg_support::cluster() else {
        pg_support::skipped(test);
        return None;
    };
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        c.psql("postgres", "CREATE DATABASE qtdb");
        c.psql(
            "qtdb",
            "CREATE TABLE t (a int PRIMARY KEY, b numeric(7,2), c char(5), d date, e float8, f bool, \
               g timestamp, h text, i interval, j numeric);
             INSERT INTO t VALUES
               (1, 1.50, 'ab', '2000-01-01', 0.1, true, '2000-01-01 12:34:56.789', 'x', '1 day 2 hours', 12345678901234567890.123456789),
               (2, NULL, 'xyz', NULL, 2.5, false, NULL, NULL, NULL, -0.5),
               (3, -3.25, NULL, '1969-12-31', NULL, NULL, '1970-01-01', 'it''s', '-3 months', 0);
             CREATE TABLE big (n int);
             INSERT INTO big SELECT generate_series(1, 20000);
             CREATE ROLE reader LOGIN;
             REVOKE CREATE, TEMPORARY ON DATABASE qtdb FROM PUBLIC;
             GRANT USAGE ON SCHEMA public TO reader;
             GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader;
             ALTER ROLE reader SET temp_file_limit = '200MB';",
        );
    });
    let t = Target::Postgres(PgTarget::new(&c.url("reader", "qtdb"), None).unwrap());
    Some((c, t))
}

/// The seam suite: what validation needs from any engine, asserted the same way.
fn seam_suite(db: &Target) {
    let sb = Sandbox::open(db, 1, "1GB").expect("open a session");
    assert!(sb.intact());
    let x = sb.run("SELECT 1 AS one, 'a' AS s, CAST(2.50 AS DECIMAL(5,2)) AS d", D).unwrap();
    assert_eq!(x.result.column_names(), vec!["one", "s", "d"]);
    assert_eq!(x.result.rows[0][0], Cell::Int(1));
    assert_eq!(x.result.rows[0][1], Cell::Text("a".into()));
    assert_eq!(x.result.rows[0][2].render(), "2.50");
    assert_eq!(x.result.columns[2].class, TypeClass::Decimal);
    // Caps.
    let x = sb.run_capped("SELECT * FROM generate_series(1, 100000) g", D, 10).unwrap();
    assert!(x.truncated);
    assert_eq!(x.result.rows.len(), 10);
    // The gate: one query only.
    for bad in ["DELETE FROM t", "SELECT 1; SELECT 2", "CREATE TABLE z AS SELECT 1", "SELECT (1"] {
        assert!(matches!(sb.run(bad, D), Err(ExecError::NotSelect(_) | ExecError::Parse(_))), "{bad}");
        assert!(db.gate(bad).is_err(), "{bad}");
    }
    assert!(db.gate("VALUES (1)").is_ok());
    // A deadline.
    let sb = Sandbox::open(db, 1, "1GB").unwrap();
    let r = sb.run_unchecked(
        "SELECT count(*) FROM generate_series(1, 100000000) a, generate_series(1, 1000) b",
        Duration::from_millis(500),
    );
    assert!(matches!(r, Err(ExecError::Timeout(_))), "{r:?}");
}

#[test]
fn the_seam_suite_holds_on_duckdb_and_postgres() {
    let duck = validate_support::db_with("CREATE TABLE t (a INT)");
    seam_suite(&Target::from(&duck.path));
    let Some((_, pg)) = setup("the_seam_suite_holds_on_duckdb_and_postgres") else { return };
    seam_suite(&pg);
}

#[test]
fn postgres_types_map_into_the_value_model() {
    let Some((_, db)) = setup("postgres_types_map_into_the_value_model") else { return };
    let sb = Sandbox::open(&db, 1, "1GB").unwrap();
    let x = sb.run("SELECT * FROM t ORDER BY a", D).unwrap();
    let r = &x.result.rows;
    assert_eq!(r[0][1], Cell::Decimal { value: 150, scale: 2 });
    assert_eq!(x.result.columns[1].type_name, "NUMERIC(7,2)");
    assert_eq!(r[0][2], Cell::Text("ab".into()), "char(n) padding is removed");
    assert_eq!(r[0][3], Cell::Date(10957));
    assert_eq!(r[2][3], Cell::Date(-1));
    assert_eq!(r[0][4], Cell::Float(0.1));
    assert_eq!(r[0][5], Cell::Bool(true));
    assert_eq!(r[0][6].render(), "2000-01-01 12:34:56.789");
    assert_eq!(r[2][6], Cell::Timestamp(0));
    assert_eq!(r[1][1], Cell::Null);
    assert_eq!(r[0][8], Cell::Interval { months: 0, days: 1, nanos: 7_200_000_000_000 });
    assert_eq!(r[0][9].render(), "12345678901234567890.123456789", "numeric is exact");
    assert_eq!(r[1][9].render(), "-0.5");
    assert_eq!(r[2][9], Cell::Decimal { value: 0, scale: 0 });
    assert_eq!(r[2][7], Cell::Text("it's".into()));
}

fn verdict(db: &Target, original: &str, candidate: &str) -> Verdict {
    let (cfg, lane) = (quick_cfg(), TimingLane::new());
    match prepare_baseline(db, original, &cfg, &lane) {
        Ok(b) => validate_candidate(db, &b, candidate, &cfg, &lane),
        Err(v) => v,
    }
}

#[test]
fn equivalence_follows_the_same_rules_on_postgres() {
    let Some((_, db)) = setup("equivalence_follows_the_same_rules_on_postgres") else { return };
    // char(n) vs text, numeric at another scale, a float computed another way.
    assert_pass(&verdict(&db, "SELECT a, c FROM t", "SELECT a, rtrim(c)::text AS c FROM t"));
    assert_pass(&verdict(&db, "SELECT a, b FROM t", "SELECT a, b * 1.000 AS b FROM t"));
    assert_pass(&verdict(&db, "SELECT sum(e) AS s FROM t", "SELECT sum(e * 3) / 3 AS s FROM t"));
    assert_pass(&verdict(&db, "SELECT a FROM t ORDER BY a DESC", "SELECT a FROM t ORDER BY -a"));
    // Wrong answers are caught.
    assert_status(&verdict(&db, "SELECT a, b FROM t", "SELECT a, b + 0.01 AS b FROM t"), "validation_failed", "value_mismatch");
    assert_status(&verdict(&db, "SELECT a FROM t WHERE b IS NULL", "SELECT a FROM t WHERE b = NULL"), "validation_failed", "row_count_mismatch");
    assert_status(&verdict(&db, "SELECT a FROM t", "DELETE FROM t RETURNING a"), "error", "not_select");
}

#[test]
fn hostile_candidates_change_nothing_on_postgres() {
    let Some((c, db)) = setup("hostile_candidates_change_nothing_on_postgres") else { return };
    let before = c.checksum("qtdb");
    let hostile = [
        "SELECT pg_read_file('/etc/passwd')",
        "COPY (SELECT 1) TO PROGRAM 'touch /tmp/qt-pwned'",
        "SELECT lo_import('/etc/passwd')",
        "SELECT * FROM dblink('dbname=qtdb', 'DELETE FROM t') AS x(a int)",
        "CREATE EXTENSION dblink",
        "SET ROLE postgres",
        "SELECT set_config('role', 'postgres', false)",
        "SELECT pg_terminate_backend(pg_backend_pid())",
        "SELECT set_config('statement_timeout', '0', false), pg_sleep(1e6)",
        "SELECT pg_sleep(1e6)",
        "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x",
        "WITH x AS (UPDATE t SET a = a + 100 RETURNING *) SELECT count(*) FROM x",
        "SELECT count(*) FROM generate_series(1, 1e10)",
        "SELECT * FROM generate_series(1, 1e10)",
        "CREATE TEMP TABLE z AS SELECT * FROM t",
        "SELECT * INTO z FROM t",
        "SELECT * FROM t FOR UPDATE",
        "SELECT pg_advisory_lock(1)",
        "TRUNCATE t",
        "ALTER ROLE reader SUPERUSER",
        "GRANT INSERT ON t TO reader",
    ];
    let cfg = qt::validate::ValidatorConfig { original_timeout: Duration::from_secs(2), ..quick_cfg() };
    let lane = TimingLane::new();
    let base = prepare_baseline(&db, "SELECT a FROM t", &cfg, &lane).expect("baseline");
    for sql in hostile {
        let v = validate_candidate(&db, &base, sql, &cfg, &lane);
        assert!(!v.is_pass(), "{sql} passed: {v:?}");
        // And straight on a session, past the gate: the session's own locks hold.
        let sb = Sandbox::open(&db, 1, "1GB").unwrap();
        let _ = sb.run_unchecked(sql, Duration::from_secs(2));
        assert_eq!(c.checksum("qtdb"), before, "{sql} changed the data or the roles");
    }
    assert!(!std::path::Path::new("/tmp/qt-pwned").exists());
    // The pool's sessions are still usable after all that.
    assert_pass(&verdict(&db, "SELECT a FROM t", "SELECT a FROM t WHERE a > 0"));
}

#[test]
fn a_role_that_can_write_is_refused() {
    let Some((c, _)) = setup("a_role_that_can_write_is_refused") else { return };
    let admin = Target::Postgres(PgTarget::new(&c.admin_url("qtdb"), None).unwrap());
    let e = admin.check_open().unwrap_err();
    assert!(e.is_bad_input());
    assert!(e.to_string().contains("superuser"), "{e}");
    c.psql("qtdb", "DO $$ BEGIN CREATE ROLE writer LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$; GRANT SELECT, INSERT ON t TO writer");
    let w = Target::Postgres(PgTarget::new(&c.url("writer", "qtdb"), None).unwrap());
    let e = w.check_open().unwrap_err().to_string();
    assert!(e.contains("may write to tables (t)"), "{e}");
    let reader = Target::Postgres(PgTarget::new(&c.url("reader", "qtdb"), None).unwrap());
    reader.check_open().expect("the SELECT-only role is fine");
}

#[test]
fn plans_are_summarized_on_postgres_like_on_duckdb() {
    let Some((_, db)) = setup("plans_are_summarized_on_postgres_like_on_duckdb") else { return };
    let p = db
        .explain("SELECT t.a, count(*) FROM t JOIN big ON big.n = t.a WHERE big.n < 15000 GROUP BY t.a", D)
        .expect("EXPLAIN ANALYZE in the sandbox");
    let s = &p.summary;
    let big = s.scans.iter().find(|x| x.table == "big").unwrap_or_else(|| panic!("{s:?}"));
    assert_eq!(big.rows_scanned, 20000, "{s:?}");
    assert_eq!(big.rows_kept, 14999, "{s:?}");
    assert!(!s.joins.is_empty(), "{s:?}");
    assert!(s.total_time_s > 0.0);
    assert!(p.summary_text.contains("big"), "{}", p.summary_text);
    assert!(p.full_text.to_lowercase().contains("scan"), "{}", p.full_text);
}

fn text(c: &Cell) -> String {
    match c {
        Cell::Text(t) => t.clone(),
        other => panic!("{other:?}"),
    }
}

/// `[validation]` work_mem and max_parallel_workers_per_gather are set on every session
/// (a candidate reading them sees the spec's values; one that changes them changes only
/// its own rolled-back transaction); temp_file_limit is the role's, checked on open.
#[test]
fn engine_settings_hold_in_every_session() {
    let Some((_, db)) = setup("engine_settings_hold_in_every_session") else { return };
    let show = "SELECT current_setting('work_mem') AS w, current_setting('max_parallel_workers_per_gather') AS p, \
                current_setting('temp_file_limit') AS t";
    let row = |t: &Target| {
        let x = Sandbox::open(t, 1, "1GB").unwrap().run(show, D).unwrap();
        x.result.rows[0].iter().map(text).collect::<Vec<_>>()
    };
    // Defaults: 64MB, threads - 1, the role's temp_file_limit.
    assert_eq!(row(&db), ["64MB", "0", "200MB"]);
    let settings = qt::db::EngineSettings {
        work_mem_kb: Some(3 * 1024),
        max_parallel_workers_per_gather: Some(1),
        temp_file_limit_kb: Some(200 * 1024),
    };
    let set = db.with_settings(&settings);
    assert_eq!(row(&set), ["3MB", "1", "200MB"]);
    // A candidate that raises its own work_mem does not change the next run's.
    let sb = Sandbox::open(&set, 1, "1GB").unwrap();
    let x = sb.run("SELECT set_config('work_mem', '1GB', false) AS w", D).unwrap();
    assert_eq!(text(&x.result.rows[0][0]), "1GB");
    assert_eq!(text(&sb.run(show, D).unwrap().result.rows[0][0]), "3MB");
    // Through the validator: the spec's [validation] keys reach the candidate's session.
    let spec = qt::spec::ValidationCfg {
        work_mem: Some("3MB".into()),
        max_parallel_workers_per_gather: Some(1),
        ..Default::default()
    };
    let cfg = qt::validate::ValidatorConfig { engine: qt::validate::ValidatorConfig::from_spec(&spec).engine, ..quick_cfg() };
    let (lane, original) = (TimingLane::new(), "SELECT a, '3MB|1'::text AS s FROM t");
    let candidate = "SELECT a, current_setting('work_mem') || '|' || current_setting('max_parallel_workers_per_gather') AS s FROM t";
    let base = prepare_baseline(&db, original, &cfg, &lane).expect("baseline");
    assert_pass(&validate_candidate(&db, &base, candidate, &cfg, &lane));
    assert_status(&verdict(&db, original, candidate), "validation_failed", "value_mismatch");
    // temp_file_limit cannot be set by the SELECT-only role: another value than the
    // role's is refused at open, saying how to set it.
    let other = db.with_settings(&qt::db::EngineSettings { temp_file_limit_kb: Some(100 * 1024), ..Default::default() });
    let e = Sandbox::open(&other, 1, "1GB").err().expect("refused").to_string();
    assert!(e.contains("temp_file_limit") && e.contains("100MB") && e.contains("200MB") && e.contains("ALTER ROLE"), "{e}");
    assert!(other.check_open().unwrap_err().is_bad_input());
}

/// The bounds of DuckDB's gate hold on PostgreSQL's: at most 1 MiB of SQL and no
/// constant expansion past a million elements, refused before the server sees the text,
/// with the same message on both engines.
#[test]
fn sql_size_bounds_hold_on_postgres_like_on_duckdb() {
    let duck = validate_support::db_with("CREATE TABLE t (a INT)");
    let duck = Target::from(&duck.path);
    let Some((_, pg)) = setup("sql_size_bounds_hold_on_postgres_like_on_duckdb") else { return };
    let mut huge = String::from("SELECT a FROM t WHERE a IN (0");
    while huge.len() < 1_572_864 {
        huge.push_str(", 1234567");
    }
    huge.push(')');
    let expand = "SELECT length(repeat('ab', 100000000)) AS n FROM t";
    for sql in [huge.as_str(), expand] {
        let message = |db: &Target| match Sandbox::open(db, 1, "1GB").unwrap().run(sql, D) {
            Err(ExecError::Failed(m)) => m,
            other => panic!("{}: {other:?}", db.display()),
        };
        let (m_duck, m_pg) = (message(&duck), message(&pg));
        assert_eq!(m_pg, m_duck);
        assert!(m_pg.contains("1 MiB") || m_pg.contains("refused before planning"), "{m_pg}");
        assert!(matches!(pg.gate(sql), Err(qt::db::gate::GateError::Bounds(_))), "{:?}", pg.gate(sql));
        assert_status(&verdict(&pg, "SELECT a FROM t", sql), "error", "execution_error");
    }
}
