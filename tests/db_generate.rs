//! Generation of the embedded TPC-DS sample DB at scale 0.01: all 24 tables with proper
//! types, deterministic output, cache reuse, crash safety (stale temp and lock files),
//! concurrent builders, and the errors for missing / non-DuckDB files.

mod db_support;

use db_support::{SCALE, sample_db, scratch};
use qt::db::{self, DbError, TPCDS_TABLES};
use std::path::Path;

const BIN: &str = "db_generate";

fn checksum(path: &Path) -> (String, i64) {
    let conn = db::open_read_only(path).expect("open");
    conn.query_row(
        "SELECT sum(ss_net_profit)::VARCHAR, sum(hash(ss_customer_sk, ss_sold_date_sk, ss_item_sk) % 1000003)::BIGINT FROM store_sales",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .expect("checksum query")
}

#[test]
fn all_tables_are_filled_with_proper_types() {
    let path = sample_db(BIN);
    let fp = db::fingerprint(path).expect("fingerprint");
    assert_eq!(fp.tables.len(), 24, "tables: {:?}", fp.tables.keys());
    for t in TPCDS_TABLES {
        assert!(
            fp.tables.get(t).copied().unwrap_or(0) > 0,
            "{t} is empty: {:?}",
            fp.tables
        );
    }
    assert_eq!(fp.tables["date_dim"], 73049);
    assert!(fp.file_size > 0 && !fp.mtime.is_empty());

    let wanted = [
        "date_dim".to_string(),
        "store_sales".into(),
        "not_a_table".into(),
    ];
    let schema = db::schema_for_path(path, &wanted).expect("schema");
    assert_eq!(
        schema.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["date_dim", "store_sales"]
    );
    let ty = |table: usize, col: &str| {
        schema[table]
            .columns
            .iter()
            .find(|c| c.name == col)
            .map(|c| c.type_.clone())
            .unwrap()
    };
    assert_eq!(ty(0, "d_date"), "DATE");
    assert_eq!(ty(1, "ss_net_profit"), "DECIMAL(7,2)");
    assert_eq!(schema[1].rows, fp.tables["store_sales"]);

    // Dates and decimals hold real values, not NULLs from failed parsing.
    let conn = db::open_read_only(path).unwrap();
    let (min_date, nulls): (String, i64) = conn
        .query_row(
            "SELECT min(d_date)::VARCHAR, count(*) - count(d_date) FROM date_dim",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((min_date.as_str(), nulls), ("1900-01-02", 0));
}

#[test]
fn generation_is_deterministic() {
    let first = sample_db(BIN);
    let dir = scratch("deterministic");
    let second = dir.join("again.duckdb");
    let out = qt::commands::db::generate_cmd("tpcds", SCALE, Some(&second), true).expect("generate again");
    assert_eq!(out, second);
    let (a, b) = (
        db::fingerprint(first).unwrap(),
        db::fingerprint(&second).unwrap(),
    );
    assert_eq!(a.sha256, b.sha256);
    assert_eq!(a.tables, b.tables);
    assert_eq!(
        checksum(first),
        checksum(&second),
        "same rows, not only same counts"
    );
    // --out never replaces an existing file.
    let err = qt::commands::db::generate_cmd("tpcds", SCALE, Some(&second), true).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
}

#[test]
fn cache_is_reused_not_rebuilt() {
    let path = sample_db(BIN);
    let cache_root = path.parent().and_then(Path::parent).unwrap();
    let before = std::fs::metadata(path).unwrap().modified().unwrap();
    let again = db::ensure_generated_in(cache_root, "tpcds", SCALE, false).unwrap();
    assert_eq!(again.path, path);
    assert!(again.built.is_none(), "the second call must reuse the file");
    assert_eq!(std::fs::metadata(path).unwrap().modified().unwrap(), before);
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(
        name,
        format!("tpcds_sf0.01_qt{}.duckdb", env!("CARGO_PKG_VERSION"))
    );
}

/// A build killed midway leaves `<name>.tmp-<pid>` (maybe half a DB) and `<name>.lock`.
/// Neither may be trusted or block: the next builders take the lock (a lock file without a
/// live owner is taken over, see db/lease.rs), remove the stale temp file and scratch folder, and exactly one of two concurrent callers builds.
#[test]
fn killed_build_leftovers_are_ignored_and_concurrent_callers_build_once() {
    let root = scratch("crash");
    let expected = root.join("db").join(format!(
        "tpcds_sf0.01_qt{}.duckdb",
        env!("CARGO_PKG_VERSION")
    ));
    std::fs::create_dir_all(expected.parent().unwrap()).unwrap();
    let name = expected.file_name().unwrap().to_string_lossy().into_owned();
    let stale = expected.with_file_name(format!("{name}.tmp-999999"));
    std::fs::write(&stale, b"half a database").unwrap();
    let stale_scratch = expected.with_file_name(format!("{name}.tmp-999999.scratch-abc"));
    std::fs::create_dir_all(&stale_scratch).unwrap();
    std::fs::write(stale_scratch.join("store_sales_0001.csv"), b"1,2,3\n").unwrap();
    std::fs::write(expected.with_file_name(format!("{name}.lock")), b"").unwrap();

    let handles: Vec<_> = (0..2)
        .map(|_| {
            let root = root.clone();
            std::thread::spawn(move || db::ensure_generated_in(&root, "tpcds", SCALE, false))
        })
        .collect();
    let results: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().unwrap().unwrap())
        .collect();
    assert!(results.iter().all(|g| g.path == expected));
    assert_eq!(
        results.iter().filter(|g| g.built.is_some()).count(),
        1,
        "exactly one build"
    );
    assert!(!stale.exists(), "the stale temp file must be removed");
    assert!(
        !stale_scratch.exists(),
        "the stale scratch folder must be removed"
    );
    let leftovers: Vec<_> = std::fs::read_dir(expected.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-") || n.contains(".scratch-") || n.ends_with(".lock"))
        .collect();
    assert!(leftovers.is_empty(), "leftovers: {leftovers:?}");
    assert_eq!(db::fingerprint(&expected).unwrap().tables.len(), 24);
}

#[test]
fn missing_and_non_duckdb_files_are_reported_with_their_path() {
    let dir = scratch("bad_files");
    let missing = dir.join("nope.duckdb");
    let err = db::open_read_only(&missing).unwrap_err();
    assert!(matches!(err, DbError::NotFound { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "database file not found: {}; set database.path or use database.generate",
            missing.display()
        )
    );

    let text = dir.join("notes.duckdb");
    std::fs::write(&text, "this is not a database\n".repeat(200)).unwrap();
    let err = db::open_read_only(&text).unwrap_err();
    assert!(matches!(err, DbError::NotDuckDb { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&text.display().to_string()),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&text).unwrap().len(),
        23 * 200,
        "the file is left untouched"
    );
    assert!(db::fingerprint(&text).is_err());
}

#[test]
fn bad_benchmark_and_scale_are_bad_input() {
    for (bench, scale) in [
        ("tpch", 1.0),
        ("tpcds", 0.0),
        ("tpcds", 0.0001),
        ("tpcds", f64::NAN),
        ("tpcds", -1.0),
    ] {
        let err = qt::commands::db::generate_cmd(bench, scale, Some(Path::new("/nonexistent/x.duckdb")), true)
            .unwrap_err();
        assert!(
            err.downcast_ref::<qt::error::BadInput>().is_some(),
            "{bench} {scale}: {err}"
        );
    }
    assert!(
        db::duckdb_version().starts_with('v'),
        "{}",
        db::duckdb_version()
    );
}

/// Not a test on its own: when `QT_DB_TEST_CHILD_CACHE` is set, this builds into that cache
/// so `a_killed_build_process_leaves_nothing_trusted` can kill a real build midway.
#[test]
fn child_build_helper() {
    if let Some(root) = std::env::var_os("QT_DB_TEST_CHILD_CACHE") {
        db::ensure_generated_in(Path::new(&root), "tpcds", SCALE, false).unwrap();
    }
}

/// Kills (SIGKILL) a process in the middle of building: the final name must not exist,
/// and the next caller must build a complete database, removing the dead build's files.
#[test]
fn a_killed_build_process_leaves_nothing_trusted() {
    let root = scratch("killed");
    let dir = root.join("db");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_build_helper", "--test-threads=1"])
        .env("QT_DB_TEST_CHILD_CACHE", &root)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let temp_appeared = (0..6000).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(5));
        std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .flatten()
                    .any(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            })
            .unwrap_or(false)
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(temp_appeared, "the child never started building");
    let expected = dir.join(format!(
        "tpcds_sf0.01_qt{}.duckdb",
        env!("CARGO_PKG_VERSION")
    ));
    assert!(
        !expected.exists(),
        "a killed build must not leave the final file"
    );

    let generated = db::ensure_generated_in(&root, "tpcds", SCALE, false).unwrap();
    assert_eq!(generated.path, expected);
    assert!(generated.built.is_some());
    assert_eq!(db::fingerprint(&expected).unwrap().tables.len(), 24);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != expected.file_name().unwrap().to_str().unwrap())
        .collect();
    assert!(leftovers.is_empty(), "leftovers: {leftovers:?}");
}
