//! Every TPC-DS query file (99 + variants) runs without error on the generated scale-0.01
//! DB, statement by statement. Prints how many return rows and lists the empty ones.
//! Set `QT_TEST_DB=/path/to.duckdb` to run them on another database (e.g. scale 1).

mod db_support;

use db_support::{queries_dir, sample_db};
use qt::db;

#[test]
fn every_tpcds_query_runs_on_the_generated_db() {
    let Some(dir) = queries_dir() else { return };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 99,
        "only {} query files in {}",
        files.len(),
        dir.display()
    );

    let path = match std::env::var_os("QT_TEST_DB") {
        Some(p) => std::path::PathBuf::from(p),
        None => sample_db("db_queries").to_path_buf(),
    };
    let conn = db::open_read_only(&path).unwrap();
    let (mut with_rows, mut statements) = (0, 0);
    let (mut empty, mut failures) = (Vec::new(), Vec::new());
    for file in &files {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let sql = std::fs::read_to_string(file).unwrap();
        for (i, stmt) in db::split_statements(&sql).iter().enumerate() {
            statements += 1;
            let label = format!("{name}#{}", i + 1);
            let rows = conn.prepare(stmt).and_then(|mut s| {
                let mut rows = s.query([])?;
                let mut n = 0u64;
                while rows.next()?.is_some() {
                    n += 1;
                }
                Ok(n)
            });
            match rows {
                Ok(0) => empty.push(label),
                Ok(_) => with_rows += 1,
                Err(e) => failures.push(format!("{label}: {e}")),
            }
        }
    }
    println!(
        "{} files, {statements} statements: {with_rows} return rows, {} return 0 rows: {empty:?}",
        files.len(),
        empty.len()
    );
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
