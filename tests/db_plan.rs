//! Plan analysis on a generated scale-0.01 DB: the three plan texts, real table names in
//! the summary, the last statement of a multi-statement file, and the EXPLAIN deadline.

mod db_support;

use db_support::{queries_dir, sample_db};
use qt::db::{self, DbError};
use std::time::Duration;

const BIN: &str = "db_plan";
const LONG: Duration = Duration::from_secs(120);

/// q1 scans store_returns, date_dim, store and customer. The query file's stream asks for
/// `s_state = 'SD'`, but generated stores are all in one state, so DuckDB proves that
/// branch empty and never scans `store`; the test also runs q1 with the state the data has.
#[test]
fn q1_summary_names_the_real_tables() {
    let Some(dir) = queries_dir() else { return };
    let sql = std::fs::read_to_string(dir.join("query_1.sql")).unwrap();
    let db = sample_db(BIN);
    let plan = db::analyze_plan(db, &sql, LONG).expect("analyze q1");

    let reparsed: serde_json::Value = serde_json::from_str(&plan.json_text).unwrap();
    assert_eq!(reparsed, plan.json);
    assert!(
        plan.full_text.contains("Hash Join") || plan.full_text.contains("HASH_JOIN"),
        "{}",
        plan.full_text
    );
    assert!(!plan.summary.operators.is_empty());
    assert!(!plan.summary.joins.is_empty());
    let share: f64 = plan.summary.operators.iter().map(|o| o.share).sum();
    assert!(share > 0.0 && share <= 1.0 + 1e-9, "shares sum to {share}");
    // The date filter (d_year = 2000) keeps a fraction of date_dim.
    let date_dim = plan
        .summary
        .scans
        .iter()
        .find(|s| s.table == "date_dim")
        .expect("date_dim scan");
    assert!(date_dim.rows_kept < date_dim.rows_scanned, "{date_dim:?}");

    let conn = db::open_read_only(db).unwrap();
    let state: String = conn
        .query_row("select min(s_state) from store", [], |r| r.get(0))
        .unwrap();
    let sql = sql.replace("s_state = 'SD'", &format!("s_state = '{state}'"));
    let plan = db::analyze_plan(db, &sql, LONG).expect("analyze q1 with a present state");
    let scanned: Vec<&str> = plan
        .summary
        .scans
        .iter()
        .map(|s| s.table.as_str())
        .collect();
    for table in ["store_returns", "date_dim", "store", "customer"] {
        assert!(
            scanned.contains(&table),
            "{table} not among scans {scanned:?}"
        );
        assert!(
            plan.summary_text.contains(table),
            "{table} missing from:\n{}",
            plan.summary_text
        );
        assert!(plan.summary.table_time_share.contains_key(table));
    }
    println!("{}", plan.summary_text);
}

#[test]
fn a_multi_statement_file_is_analyzed_on_its_last_statement() {
    let sql =
        "select count(*) from item; -- first\nselect s_store_name from store where s_store_sk > 1;";
    let plan = db::analyze_plan(sample_db(BIN), sql, LONG).unwrap();
    let tables: Vec<&str> = plan
        .summary
        .scans
        .iter()
        .map(|s| s.table.as_str())
        .collect();
    assert_eq!(tables, ["store"]);
}

#[test]
fn explain_past_its_deadline_is_a_timeout() {
    let sql = "select count(*) from store_sales a, store_sales b, store_sales c where a.ss_item_sk + b.ss_item_sk > c.ss_item_sk";
    let err = db::analyze_plan(sample_db(BIN), sql, Duration::from_millis(300)).unwrap_err();
    assert!(matches!(err, DbError::Timeout { .. }), "{err:?}");
}

#[test]
fn errors_name_the_problem() {
    let err = db::analyze_plan(sample_db(BIN), "select * from no_such_table", LONG).unwrap_err();
    assert!(err.to_string().contains("no_such_table"), "{err}");
    let err = db::analyze_plan(sample_db(BIN), "-- only a comment\n", LONG).unwrap_err();
    assert!(matches!(err, DbError::Plan(_)), "{err:?}");
}
