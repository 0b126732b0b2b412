//! Pattern detection on our own queries shaped like TPC-DS q1, q3, q23 and q47 (written
//! here, not copied), the plan's refinements, and which examples `matched`/`coverage`
//! then give 20 workers: the coverage figures `qt plan` prints.

use qt::dag::{PatternHit, detect_patterns, parse_dag, pattern_names};
use qt::db::{PlanSummary, ScanStat};
use qt::prompt::{Example, coverage_count, load_examples, score, select_examples};
use qt::spec::Strategy;
use std::collections::BTreeSet;
use std::path::Path;

/// Correlated scalar subquery over a CTE read twice (q1's shape).
const Q1_SHAPE: &str = "
WITH store_refunds AS (
  SELECT sr_customer_sk AS customer_sk, sr_store_sk AS store_sk, SUM(sr_fee) AS refunded
  FROM store_returns, date_dim
  WHERE sr_returned_date_sk = d_date_sk AND d_year = 1999
  GROUP BY sr_customer_sk, sr_store_sk)
SELECT c_customer_id
FROM store_refunds r1, store, customer
WHERE r1.refunded > (SELECT AVG(refunded) * 1.3 FROM store_refunds r2 WHERE r1.store_sk = r2.store_sk)
  AND s_store_sk = r1.store_sk AND s_state = 'TN' AND r1.customer_sk = c_customer_sk
ORDER BY c_customer_id
LIMIT 100";

/// A star join with dimension filters and an aggregate (q3's shape): no subquery, no
/// self-join.
const Q3_SHAPE: &str = "
SELECT dt.d_year, item.i_brand_id AS brand_id, SUM(ss_net_paid) AS total
FROM date_dim dt, store_sales, item
WHERE dt.d_date_sk = store_sales.ss_sold_date_sk AND store_sales.ss_item_sk = item.i_item_sk
  AND item.i_manager_id = 7 AND dt.d_moy = 12
GROUP BY dt.d_year, item.i_brand_id
ORDER BY dt.d_year, total DESC, brand_id
LIMIT 100";

/// Frequent items and best customers as CTEs, a threshold from an uncorrelated scalar
/// subquery, two channels filtered by IN subqueries (q23's shape).
const Q23_SHAPE: &str = "
WITH busy_items AS (
  SELECT ss_item_sk AS item_sk, d_date AS sold_date, COUNT(*) AS cnt
  FROM store_sales, date_dim
  WHERE ss_sold_date_sk = d_date_sk AND d_year IN (2000, 2001)
  GROUP BY ss_item_sk, d_date
  HAVING COUNT(*) > 3),
peak AS (
  SELECT MAX(spent) AS top_spent
  FROM (SELECT ss_customer_sk, SUM(ss_quantity * ss_sales_price) AS spent
        FROM store_sales, date_dim
        WHERE ss_sold_date_sk = d_date_sk AND d_year = 2000
        GROUP BY ss_customer_sk) AS per_customer),
big_spenders AS (
  SELECT ss_customer_sk AS customer_sk
  FROM store_sales
  GROUP BY ss_customer_sk
  HAVING SUM(ss_quantity * ss_sales_price) > 0.5 * (SELECT top_spent FROM peak))
SELECT SUM(amount) AS total
FROM (SELECT cs_quantity * cs_list_price AS amount
      FROM catalog_sales, date_dim
      WHERE cs_sold_date_sk = d_date_sk AND d_year = 2000 AND d_moy = 3
        AND cs_item_sk IN (SELECT item_sk FROM busy_items)
        AND cs_bill_customer_sk IN (SELECT customer_sk FROM big_spenders)
      UNION ALL
      SELECT ws_quantity * ws_list_price
      FROM web_sales, date_dim
      WHERE ws_sold_date_sk = d_date_sk AND d_year = 2000 AND d_moy = 3
        AND ws_item_sk IN (SELECT item_sk FROM busy_items)
        AND ws_bill_customer_sk IN (SELECT customer_sk FROM big_spenders)) AS both_channels";

/// Monthly sales with window averages, joined to the previous and next month of the same
/// CTE by rank offsets (q47's shape).
const Q47_SHAPE: &str = "
WITH monthly AS (
  SELECT i_category, s_store_name, d_year, d_moy, SUM(ss_sales_price) AS sales,
         AVG(SUM(ss_sales_price)) OVER (PARTITION BY i_category, s_store_name, d_year) AS avg_monthly,
         RANK() OVER (PARTITION BY i_category, s_store_name ORDER BY d_year, d_moy) AS rn
  FROM item, store_sales, date_dim, store
  WHERE ss_item_sk = i_item_sk AND ss_sold_date_sk = d_date_sk AND ss_store_sk = s_store_sk
    AND (d_year = 2000 OR (d_year = 1999 AND d_moy = 12) OR (d_year = 2001 AND d_moy = 1))
  GROUP BY i_category, s_store_name, d_year, d_moy),
neighbours AS (
  SELECT cur.i_category, cur.s_store_name, cur.d_year, cur.d_moy, cur.sales, cur.avg_monthly,
         prev.sales AS prev_sales, nxt.sales AS next_sales
  FROM monthly cur, monthly prev, monthly nxt
  WHERE cur.i_category = prev.i_category AND cur.i_category = nxt.i_category
    AND cur.s_store_name = prev.s_store_name AND cur.s_store_name = nxt.s_store_name
    AND cur.rn = prev.rn + 1 AND cur.rn = nxt.rn - 1)
SELECT *
FROM neighbours
WHERE d_year = 2000 AND avg_monthly > 0 AND ABS(sales - avg_monthly) / avg_monthly > 0.1
ORDER BY sales - avg_monthly, s_store_name
LIMIT 100";

/// An OR across two tables' columns (q15's shape) and a UNION without ALL.
const OR_UNION_SHAPE: &str = "
SELECT ca_zip, SUM(cs_sales_price) AS sales
FROM catalog_sales, customer, customer_address
WHERE cs_bill_customer_sk = c_customer_sk AND c_current_addr_sk = ca_address_sk
  AND (ca_state IN ('CA', 'WA') OR cs_sales_price > 500)
GROUP BY ca_zip
UNION
SELECT ca_zip, 0 FROM customer_address WHERE ca_state = 'GA'";

fn patterns(sql: &str) -> Vec<PatternHit> {
    detect_patterns(&parse_dag(sql).expect("our query parses"), None)
}

fn names(sql: &str) -> BTreeSet<String> {
    pattern_names(&patterns(sql))
}

fn set(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn shipped() -> Vec<Example> {
    load_examples(&Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts/examples")).unwrap()
}

#[test]
fn q1_shape_is_a_correlated_scalar_subquery_over_a_reused_cte() {
    let hits = patterns(Q1_SHAPE);
    let found = pattern_names(&hits);
    for p in [
        "correlated_scalar_subquery",
        "repeated_scan",
        "date_range_filter",
        "late_dimension_filter",
    ] {
        assert!(found.contains(p), "{p} missing from {found:?}");
    }
    for p in [
        "self_join",
        "window_able_self_join",
        "or_across_columns",
        "in_or_exists_subquery",
    ] {
        assert!(!found.contains(p), "{p} wrongly found in {found:?}");
    }
    let corr = hits
        .iter()
        .find(|h| h.name == "correlated_scalar_subquery")
        .unwrap();
    assert_eq!(corr.nodes, ["main_query"]);
    let rep = hits.iter().find(|h| h.name == "repeated_scan").unwrap();
    assert!(
        rep.why.contains("store_refunds read 2 times"),
        "{}",
        rep.why
    );
}

#[test]
fn q3_shape_is_only_a_filtered_star_join() {
    assert_eq!(
        names(Q3_SHAPE),
        set(&[
            "aggregation_after_join",
            "date_range_filter",
            "late_dimension_filter"
        ])
    );
}

#[test]
fn q23_shape_has_in_subqueries_a_scalar_threshold_and_repeated_scans() {
    let found = names(Q23_SHAPE);
    for p in [
        "in_or_exists_subquery",
        "uncorrelated_scalar_subquery",
        "repeated_scan",
        "date_range_filter",
    ] {
        assert!(found.contains(p), "{p} missing from {found:?}");
    }
    for p in ["correlated_scalar_subquery", "self_join", "union_distinct"] {
        assert!(!found.contains(p), "{p} wrongly found in {found:?}");
    }
}

#[test]
fn q47_shape_is_a_window_able_self_join() {
    let hits = patterns(Q47_SHAPE);
    let found = pattern_names(&hits);
    for p in [
        "window_able_self_join",
        "self_join",
        "repeated_scan",
        "aggregation_after_join",
        "date_range_filter",
    ] {
        assert!(found.contains(p), "{p} missing from {found:?}");
    }
    // The OR on date_dim alone is evaluated by its scan: not an OR across tables.
    for p in [
        "or_across_columns",
        "correlated_scalar_subquery",
        "in_or_exists_subquery",
    ] {
        assert!(!found.contains(p), "{p} wrongly found in {found:?}");
    }
    let w = hits
        .iter()
        .find(|h| h.name == "window_able_self_join")
        .unwrap();
    assert_eq!(w.nodes, ["neighbours"]);
}

#[test]
fn or_across_tables_and_union_distinct() {
    let found = names(OR_UNION_SHAPE);
    assert!(
        found.contains("or_across_columns") && found.contains("union_distinct"),
        "{found:?}"
    );
}

#[test]
fn the_plan_drops_cheap_repeated_scans_and_early_filters() {
    let sql = "WITH a AS (SELECT d_year, SUM(ss_net_paid) AS s FROM store_sales, date_dim, item \
               WHERE ss_sold_date_sk = d_date_sk AND ss_item_sk = i_item_sk AND i_color = 'red' GROUP BY d_year), \
               b AS (SELECT d_year, COUNT(*) AS n FROM web_sales, date_dim WHERE ws_sold_date_sk = d_date_sk GROUP BY d_year) \
               SELECT a.d_year, s, n FROM a JOIN b ON a.d_year = b.d_year";
    let dag = parse_dag(sql).unwrap();
    let without = pattern_names(&detect_patterns(&dag, None));
    assert!(
        without.contains("repeated_scan") && without.contains("late_dimension_filter"),
        "{without:?}"
    );
    let mut plan = PlanSummary::default();
    plan.table_time_share.insert("store_sales".into(), 0.80);
    plan.table_time_share.insert("web_sales".into(), 0.18);
    plan.table_time_share.insert("date_dim".into(), 0.02);
    let scan = |t: &str, scanned, kept| ScanStat {
        table: t.into(),
        rows_scanned: scanned,
        rows_kept: kept,
        time_s: 0.1,
    };
    plan.scans = vec![
        scan("store_sales", 1_000_000, 950_000),
        scan("date_dim", 73_000, 73_000),
    ];
    let with = pattern_names(&detect_patterns(&dag, Some(&plan)));
    assert!(
        !with.contains("repeated_scan"),
        "date_dim is cheap: {with:?}"
    );
    assert!(with.contains("late_dimension_filter"), "{with:?}");
    // The largest scan already keeps 2% of its rows: the filters act early.
    plan.scans[0].rows_kept = 20_000;
    let early = pattern_names(&detect_patterns(&dag, Some(&plan)));
    assert!(!early.contains("late_dimension_filter"), "{early:?}");
}

#[test]
fn a_query_sqlparser_cannot_read_as_nodes_still_gets_flag_patterns() {
    // A degraded DAG (one main_query whose SQL does not re-parse) must not panic.
    let dag = parse_dag("SELECT a FROM t WHERE a IN (SELECT b FROM u)").unwrap();
    let mut dag = dag;
    dag.nodes[0].sql = "SELECT ??? garbage".into();
    let found = pattern_names(&detect_patterns(&dag, None));
    assert!(found.contains("in_or_exists_subquery"), "{found:?}");
}

fn worker_sets(strategy: Strategy, ex: &[Example], pats: &BTreeSet<String>) -> Vec<Vec<Example>> {
    (1..=20)
        .map(|w| select_examples(strategy, ex, 3, 42, w, 20, pats))
        .collect()
}

#[test]
fn coverage_figures_on_our_queries() {
    let ex = shipped();
    for (name, sql) in [
        ("q1", Q1_SHAPE),
        ("q3", Q3_SHAPE),
        ("q23", Q23_SHAPE),
        ("q47", Q47_SHAPE),
        ("or_union", OR_UNION_SHAPE),
    ] {
        let pats = names(sql);
        let mut line = format!("{name}: {} patterns;", pats.len());
        for strategy in [
            Strategy::Batches,
            Strategy::Random,
            Strategy::Matched,
            Strategy::Coverage,
        ] {
            let sets = worker_sets(strategy, &ex, &pats);
            let covered = coverage_count(&sets, &pats);
            line.push_str(&format!(" {strategy:?} {covered}/20"));
            if matches!(strategy, Strategy::Matched | Strategy::Coverage) {
                assert_eq!(covered, 20, "{name} {strategy:?}");
            }
        }
        eprintln!("{line}");
    }
}

#[test]
fn q3_matched_workers_never_see_subquery_or_self_join_examples() {
    let ex = shipped();
    let pats = names(Q3_SHAPE);
    let sets = worker_sets(Strategy::Matched, &ex, &pats);
    for (w, s) in sets.iter().enumerate() {
        assert_eq!(s.len(), 3);
        for e in s {
            assert!(
                score(e, &pats) > 0,
                "worker {} got non-matching {}",
                w + 1,
                e.id
            );
            assert!(
                !e.id.starts_with("ex01") && !e.id.starts_with("ex11"),
                "worker {} got {}",
                w + 1,
                e.id
            );
        }
    }
}

#[test]
fn q1_coverage_gives_every_worker_a_decorrelation_example() {
    let ex = shipped();
    let pats = names(Q1_SHAPE);
    let sets = worker_sets(Strategy::Coverage, &ex, &pats);
    let first = &sets[0][0];
    assert!(
        first
            .patterns
            .contains(&"correlated_scalar_subquery".to_string()),
        "{}",
        first.id
    );
    assert!(sets.iter().all(|s| s[0].id == first.id && s.len() == 3));
    let distinct: BTreeSet<Vec<String>> = sets
        .iter()
        .map(|s| s.iter().map(|e| e.id.clone()).collect())
        .collect();
    assert_eq!(distinct.len(), 20, "all 20 prompts differ");
    // batches: for comparison only (printed, not asserted).
    let batches = worker_sets(Strategy::Batches, &ex, &pats);
    let with_decorrelation = |sets: &[Vec<Example>]| {
        sets.iter()
            .filter(|s| {
                s.iter()
                    .any(|e| e.patterns.iter().any(|p| p == "correlated_scalar_subquery"))
            })
            .count()
    };
    eprintln!(
        "q1 shape: workers seeing a decorrelation example: coverage {}/20, batches {}/20",
        with_decorrelation(&sets),
        with_decorrelation(&batches)
    );
    assert_eq!(with_decorrelation(&sets), 20);
}

#[test]
fn redundant_distinct_only_when_the_same_select_already_deduplicates() {
    let grouped = "SELECT DISTINCT i_category, COUNT(*) AS n FROM item GROUP BY i_category";
    assert!(names(grouped).contains("redundant_distinct"));
    let intersect = "SELECT COUNT(*) FROM (SELECT DISTINCT c_last_name FROM customer \
                     INTERSECT SELECT DISTINCT c_first_name FROM customer) AS t";
    assert!(names(intersect).contains("redundant_distinct"));
    // q6's shape: the DISTINCT belongs to a scalar subquery, the GROUP BY to the outer query.
    let separate = "SELECT ca_state, COUNT(*) AS cnt FROM customer_address, date_dim \
                    WHERE d_month_seq = (SELECT DISTINCT d_month_seq FROM date_dim WHERE d_year = 2001 AND d_moy = 1) \
                    AND ca_address_sk = d_date_sk GROUP BY ca_state";
    assert!(!names(separate).contains("redundant_distinct"), "{:?}", names(separate));
}
