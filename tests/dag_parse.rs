//! SQL -> DAG on every TPC-DS query (read at test time, never copied) and on small
//! hand-written queries: node structure, refs, flags, contracts, features, targets.

mod common;

use qt::dag::{self, Dag, DagError, NodeKind, parse_dag, parse_dags, parse_first_dag};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn tpcds_dir() -> Option<PathBuf> {
    common::tpcds_queries()
}

fn tpcds_files() -> Vec<(String, String)> {
    let Some(dir) = tpcds_dir() else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read TPC-DS dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).expect("read query"))
        })
        .collect()
}

fn check_structure(name: &str, d: &Dag) {
    let mains: Vec<_> = d
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Main)
        .collect();
    assert_eq!(mains.len(), 1, "{name}: exactly one main node");
    assert_eq!(mains[0].id, "main_query");
    assert_eq!(
        d.order.len(),
        d.nodes.len(),
        "{name}: order lists every node"
    );
    assert_eq!(
        d.order.last().map(String::as_str),
        Some("main_query"),
        "{name}: main last"
    );
    let ids: BTreeSet<&str> = d.nodes.iter().map(|n| n.id.as_str()).collect();
    for node in &d.nodes {
        assert!(
            !node.sql.trim().is_empty(),
            "{name}: node {} has SQL",
            node.id
        );
        let pos = d.order.iter().position(|o| *o == node.id).unwrap();
        for r in &node.refs {
            assert!(
                ids.contains(r.as_str()),
                "{name}: {} refs unknown {r}",
                node.id
            );
            let rpos = d.order.iter().position(|o| o == r).unwrap();
            assert!(rpos < pos, "{name}: {r} must come before {}", node.id);
        }
        assert!(
            !node.contract.output_columns.is_empty(),
            "{name}: {} has columns",
            node.id
        );
    }
}

#[test]
fn every_tpcds_query_becomes_a_sane_dag() {
    let files = tpcds_files();
    let mut multi = Vec::new();
    for (name, sql) in &files {
        let dags = parse_dags(sql).unwrap_or_else(|e| panic!("{name}: {e}"));
        for d in &dags {
            assert_eq!(d.statement_count, dags.len());
            check_structure(name, d);
        }
        if dags.len() > 1 {
            multi.push(name.clone());
            assert!(
                matches!(parse_dag(sql), Err(DagError::MultiStatement { count }) if count == dags.len())
            );
            assert_eq!(parse_first_dag(sql).unwrap().statement_count, dags.len());
        } else {
            parse_dag(sql).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
    if !files.is_empty() {
        assert!(files.len() >= 99, "all query files were read");
        for q in [
            "query_14.sql",
            "query_23.sql",
            "query_24.sql",
            "query_39.sql",
        ] {
            assert!(
                multi.contains(&q.to_string()),
                "{q} is a two-statement file: {multi:?}"
            );
        }
    }
}

#[test]
fn q1_nodes_flags_and_contract() {
    let Some(dir) = tpcds_dir() else { return };
    let sql = std::fs::read_to_string(dir.join("query_1.sql")).unwrap();
    let d = parse_dag(&sql).unwrap();
    assert_eq!(d.order, vec!["customer_total_return", "main_query"]);
    let cte = d.node("customer_total_return").unwrap();
    assert_eq!(cte.kind, NodeKind::Cte);
    assert_eq!(cte.tables, vec!["store_returns", "date_dim"]);
    assert!(cte.refs.is_empty());
    assert_eq!(
        cte.contract.output_columns,
        vec!["ctr_customer_sk", "ctr_store_sk", "ctr_total_return"]
    );
    assert_eq!(cte.contract.grain, vec!["sr_customer_sk", "sr_store_sk"]);
    assert_eq!(
        cte.contract.predicates,
        vec!["sr_returned_date_sk = d_date_sk", "d_year = 2000"]
    );
    assert!(cte.flags.contains(&"GROUP_BY".to_string()));
    let main = d.main().unwrap();
    assert_eq!(main.refs, vec!["customer_total_return"]);
    assert_eq!(main.tables, vec!["store", "customer"]);
    for f in ["CORRELATED", "SCALAR_SUBQUERY", "ORDER_BY", "LIMIT", "REPEATED_SCAN"] {
        assert!(
            main.flags.contains(&f.to_string()),
            "main flags {:?} lack {f}",
            main.flags
        );
    }
    assert!(
        !main.sql.to_uppercase().starts_with("WITH"),
        "main_query has its WITH removed"
    );
    let features = dag::query_features(&d);
    for f in [
        "correlated_subquery",
        "scalar_subquery",
        "cte",
        "top_n",
        "date_filter",
        "repeated_scan",
    ] {
        assert!(features.contains(f), "features {features:?} lack {f}");
    }
    assert!(!features.contains("window"));
}

#[test]
fn flags_for_hand_written_shapes() {
    let d = parse_dag(
        "-- comment first\nSELECT DISTINCT a, SUM(b) OVER (PARTITION BY a) AS w FROM t LEFT JOIN u ON t.id = u.id \
         WHERE (x = 1 OR y = 2) AND z IN (SELECT z FROM v) UNION ALL SELECT 1, 2;",
    )
    .unwrap();
    let main = d.main().unwrap();
    for f in [
        "DISTINCT",
        "WINDOW",
        "OUTER_JOIN",
        "OR_IN_WHERE",
        "IN_SUBQUERY",
        "UNION",
        "UNION_ALL",
    ] {
        assert!(
            main.flags.contains(&f.to_string()),
            "{:?} lacks {f}",
            main.flags
        );
    }
    assert!(
        !main.flags.contains(&"CORRELATED".to_string()),
        "uncorrelated IN"
    );
    let features = dag::query_features(&d);
    assert!(
        features.contains("or_predicate")
            && features.contains("window")
            && !features.contains("union_distinct")
    );

    let d = parse_dag("SELECT a FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.k = t.k)").unwrap();
    assert!(d.main().unwrap().flags.contains(&"CORRELATED".to_string()));
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    assert!(matches!(
        parse_dag("SELEC oops FROM"),
        Err(DagError::Syntax(_))
    ));
    assert!(matches!(
        parse_dag("-- only a comment\n"),
        Err(DagError::Empty)
    ));
    assert!(matches!(
        parse_dag("CREATE TABLE t (a INT)"),
        Err(DagError::NotAQuery { .. })
    ));
    assert!(matches!(
        parse_dag("SELECT 1; SELECT 2"),
        Err(DagError::MultiStatement { count: 2 })
    ));
    assert_eq!(
        parse_dags("SELECT 1; SELECT 2").unwrap()[1].statement_index,
        1
    );
}

#[test]
fn cte_order_is_dependency_order() {
    let d = parse_dag("WITH a AS (SELECT 1 AS x), b AS (SELECT x FROM a), c AS (SELECT x FROM b, a) SELECT * FROM c").unwrap();
    assert_eq!(d.order, vec!["a", "b", "c", "main_query"]);
    assert_eq!(d.node("c").unwrap().refs, vec!["b", "a"]);
}

#[test]
fn target_nodes_use_plan_shares_else_shape() {
    let sql = "WITH small AS (SELECT d_date_sk FROM date_dim WHERE d_year = 2000), \
               big AS (SELECT ss_item_sk, SUM(ss_net_paid) AS p FROM store_sales JOIN small ON ss_sold_date_sk = d_date_sk GROUP BY ss_item_sk) \
               SELECT i_item_id, p FROM big JOIN item ON ss_item_sk = i_item_sk";
    let d = parse_dag(sql).unwrap();
    let shares = BTreeMap::from([("store_sales".to_string(), 0.8), ("item".to_string(), 0.1)]);
    assert_eq!(dag::target_nodes(&d, &shares, 2), vec!["big", "main_query"]);
    assert_eq!(dag::target_nodes(&d, &shares, 1), vec!["big"]);
    let without = dag::target_nodes(&d, &BTreeMap::new(), 3);
    assert_eq!(without.len(), 3);
    assert_eq!(
        without,
        dag::target_nodes(&d, &BTreeMap::new(), 3),
        "deterministic"
    );
    assert_eq!(without[2], "small", "fewest tables/joins last");
    assert!(dag::target_nodes(&d, &shares, 0).is_empty());
}

#[test]
fn format_sql_pretty_prints_or_keeps_text() {
    let pretty = dag::format_sql("select a,b from t where a=1");
    assert!(
        pretty.contains('\n') && pretty.contains("SELECT"),
        "{pretty}"
    );
    assert_eq!(dag::format_sql("not sql at all ("), "not sql at all (");
}

#[test]
fn unqualified_correlation_needs_known_columns() {
    let sql = "SELECT i_item_id FROM item, catalog_sales WHERE i_item_sk = cs_item_sk \
               AND cs_ext_discount_amt > (SELECT 1.3 * AVG(cs_ext_discount_amt) FROM catalog_sales WHERE cs_item_sk = i_item_sk)";
    let flagged = |d: &Dag| d.main().unwrap().flags.contains(&"CORRELATED".to_string());
    assert!(
        !flagged(&parse_dag(sql).unwrap()),
        "unknown columns: not reported"
    );
    let schema = serde_json::json!([
        {"name": "item", "columns": [{"name": "i_item_sk", "type": "INTEGER"}, {"name": "i_item_id", "type": "VARCHAR"}]},
        {"name": "catalog_sales", "columns": [{"name": "cs_item_sk", "type": "INTEGER"}, {"name": "cs_ext_discount_amt", "type": "DECIMAL"}]}
    ]);
    let columns = dag::columns_from_schema(&schema);
    assert_eq!(columns["item"].len(), 2);
    let with = dag::parse_dags_with_schema(sql, &columns).unwrap();
    assert!(flagged(&with[0]));
    let uncorrelated = "SELECT i_item_id FROM item WHERE i_item_sk IN (SELECT cs_item_sk FROM catalog_sales WHERE cs_ext_discount_amt > 0)";
    assert!(!flagged(
        &dag::parse_dags_with_schema(uncorrelated, &columns).unwrap()[0]
    ));
}

/// The DAG parser reads a query in its target engine's dialect: PostgreSQL's
/// `doc -> 'k'` is a JSON access and `coalesce(doc = 1, ..)` a comparison, both reading
/// the outer query's `doc` (a correlated subquery); sqlparser's DuckDB dialect reads them
/// as a lambda and a named argument, and the correlation (and its rewrite pattern) would
/// be missed for a PostgreSQL target.
#[test]
fn the_dag_parser_reads_the_target_engines_dialect() {
    use qt::db::Engine;
    let schema = serde_json::json!([
        {"name": "t1", "columns": [{"name": "a", "type": "INTEGER"}, {"name": "doc", "type": "JSONB"}]},
        {"name": "t2", "columns": [{"name": "b", "type": "INTEGER"}]}
    ]);
    let columns = dag::columns_from_schema(&schema);
    let correlated = |sql: &str, e: Engine| {
        let d = dag::parse_first_dag_with_schema_for(sql, &columns, e).unwrap();
        assert_eq!(d.engine, e);
        d.main().unwrap().flags.contains(&"CORRELATED".to_string())
    };
    for sql in [
        "SELECT a FROM t1 WHERE EXISTS (SELECT 1 FROM t2 WHERE b = jsonb_array_length(doc -> 'k'))",
        "SELECT a FROM t1 WHERE a = (SELECT max(b) FROM t2 WHERE coalesce(doc = 1, b = 2))",
    ] {
        assert!(correlated(sql, Engine::Postgres), "{sql}");
        assert!(!correlated(sql, Engine::DuckDb), "DuckDB's reading (lambda, named argument): {sql}");
    }
    let scalar = "SELECT a FROM t1 WHERE a = (SELECT max(b) FROM t2 WHERE coalesce(doc = 1, b = 2))";
    let d = dag::parse_first_dag_with_schema_for(scalar, &columns, Engine::Postgres).unwrap();
    let hits = dag::pattern_names(&dag::detect_patterns(&d, None));
    assert!(hits.contains("correlated_scalar_subquery"), "{hits:?}");
    // DuckDB-only syntax stays DuckDB's; on a PostgreSQL target it is read by the generic
    // dialect at most (never as DuckDB's), and an answer to a PostgreSQL DAG is read as
    // PostgreSQL's SQL.
    assert!(dag::parse_first_dag_for("SELECT list_transform([1, 2], x -> x + 1) AS l FROM t1", Engine::DuckDb).is_ok());
    let d = dag::parse_first_dag_for("SELECT a, doc FROM t1", Engine::Postgres).unwrap();
    let answer = r#"{"rewrite_sets": [{"nodes": {"main_query": "SELECT a, doc FROM t1 WHERE EXISTS (SELECT 1 FROM t2 WHERE coalesce(doc = 1, b = 2))"}}]}"#;
    let sql = dag::assemble(&d, answer, qt::spec::ResponseFormat::DagJson).unwrap();
    assert!(sql.contains("coalesce(doc = 1, b = 2)"), "{sql}");
}
