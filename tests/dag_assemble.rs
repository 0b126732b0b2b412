//! Answer -> assembled SQL: round trips on every TPC-DS query, CTE ordering, main_query
//! with its own WITH, broken and unusable answers, and the `sql` response format.

mod common;

use qt::dag::{AnswerError, assemble, parse_dag, parse_dags, parse_first_dag};
use qt::spec::ResponseFormat;
use serde_json::json;
use sqlparser::dialect::DuckDbDialect;
use sqlparser::parser::Parser;

fn normalized(sql: &str) -> String {
    let stmts = Parser::parse_sql(&DuckDbDialect {}, sql).unwrap_or_else(|e| panic!("{e}: {sql}"));
    stmts
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(";\n")
}

fn answer(nodes: serde_json::Value) -> String {
    format!(
        "```json\n{}\n```",
        json!({"rewrite_sets": [{"nodes": nodes}]})
    )
}

fn dag_json(d: &qt::dag::Dag, text: &str) -> Result<String, AnswerError> {
    assemble(d, text, ResponseFormat::DagJson)
}

const BASE: &str = "WITH a AS (SELECT k, v FROM t WHERE v > 0), b AS (SELECT k, SUM(v) AS s FROM a GROUP BY k) \
                    SELECT k, s FROM b ORDER BY k";

#[test]
fn restating_every_node_reproduces_every_tpcds_query() {
    let Some(dir) = common::tpcds_queries() else { return };
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let sql = std::fs::read_to_string(&path).unwrap();
        for d in parse_dags(&sql).unwrap() {
            let nodes: serde_json::Map<String, serde_json::Value> = d
                .nodes
                .iter()
                .map(|n| (n.id.clone(), json!(n.sql)))
                .collect();
            let assembled = dag_json(&d, &answer(json!(nodes)))
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let original =
                Parser::parse_sql(&DuckDbDialect {}, &sql).unwrap()[d.statement_index].to_string();
            assert_eq!(normalized(&assembled), original, "{}", path.display());
            // An answer that only restates main_query gives the same query too.
            let main_only =
                dag_json(&d, &answer(json!({"main_query": d.main().unwrap().sql}))).unwrap();
            assert_eq!(normalized(&main_only), original, "{}", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 99);
}

#[test]
fn unmentioned_nodes_keep_their_sql_and_new_cte_goes_after_its_dependency() {
    let d = parse_dag(BASE).unwrap();
    let text = answer(json!({
        "main_query": "SELECT b.k, s FROM b JOIN top_keys USING (k) ORDER BY k",
        "top_keys": "SELECT k FROM a GROUP BY k HAVING COUNT(*) > 1",
    }));
    let sql = dag_json(&d, &text).unwrap();
    let n = normalized(&sql);
    let pos = |name: &str| {
        n.find(&format!("{name} AS ("))
            .unwrap_or_else(|| panic!("{name} in {n}"))
    };
    assert!(
        pos("a") < pos("top_keys"),
        "new CTE after the CTE it reads: {n}"
    );
    assert!(pos("a") < pos("b"));
    assert!(
        n.contains("b AS (SELECT k, SUM(v) AS s FROM a GROUP BY k)"),
        "b unchanged: {n}"
    );
}

#[test]
fn new_cte_read_by_an_existing_cte_is_placed_before_it() {
    let d = parse_dag(BASE).unwrap();
    let text = answer(json!({
        "b": "SELECT k, SUM(v) AS s FROM pos GROUP BY k",
        "pos": "SELECT k, v FROM t WHERE v > 0",
    }));
    let n = normalized(&dag_json(&d, &text).unwrap());
    assert!(
        n.starts_with("WITH pos AS ("),
        "pos first, unused `a` dropped: {n}"
    );
    assert!(!n.contains("a AS ("), "{n}");
}

#[test]
fn main_query_with_its_own_with_overrides_and_adds() {
    let d = parse_dag(BASE).unwrap();
    let text = answer(json!({
        "main_query": "WITH b AS (SELECT k, MAX(v) AS s FROM a GROUP BY k), c AS (SELECT 1 AS one) SELECT k, s FROM b, c ORDER BY k",
    }));
    let n = normalized(&dag_json(&d, &text).unwrap());
    assert!(
        n.contains("b AS (SELECT k, MAX(v) AS s FROM a GROUP BY k)"),
        "{n}"
    );
    assert!(
        n.contains("c AS (SELECT 1 AS one)") && n.contains("a AS ("),
        "{n}"
    );
    assert_eq!(n.matches("WITH").count(), 1, "{n}");
}

#[test]
fn tolerated_answer_noise() {
    let d = parse_dag(BASE).unwrap();
    let expected = normalized(&BASE.replace("v > 0", "v > 1"));
    let variants = [
        // Trailing commas, prose around a bare object.
        "Here is my rewrite:\n{\"rewrite_sets\": [{\"nodes\": {\"a\": \"SELECT k, v FROM t WHERE v > 1\",},},],}\nHope it helps.".to_string(),
        // Raw newline inside the JSON string, extra fields, fenced.
        "```json\n{\"rewrite_sets\":[{\"transform\":\"x\",\"nodes\":{\"a\":\"SELECT k, v\nFROM t WHERE v > 1;\"},\"invariants_kept\":[\"grain\"],\"expected_speedup\":1.5}],\"notes\":\"n\"}\n```".to_string(),
        // Restated `name AS (...)` wrapper and different case in the node id.
        answer(json!({"A": "a AS (SELECT k, v FROM t WHERE v > 1)"})),
    ];
    for v in variants {
        let sql = dag_json(&d, &v).unwrap_or_else(|e| panic!("{e}\n{v}"));
        assert_eq!(normalized(&sql), expected, "{v}");
    }
}

#[test]
fn unusable_answers_are_parse_errors_never_the_original() {
    let d = parse_dag(BASE).unwrap();
    let cases: Vec<(String, &str)> = vec![
        ("I would add an index.".into(), "no JSON object"),
        // A plain SQL answer under dag_json: the message points at response_format.
        ("```sql\nSELECT k, v FROM t WHERE v > 1\n```".into(), "set response_format = \"sql\""),
        ("{\"something\": 1}".into(), "rewrite_sets missing"),
        ("{\"rewrite_sets\": []}".into(), "rewrite_sets is empty"),
        (
            "{\"rewrite_sets\": [{\"nodes\": {}}]}".into(),
            "nodes is empty",
        ),
        (
            "{\"rewrite_sets\": [{\"transform\": \"x\"}]}".into(),
            "nodes missing",
        ),
        (
            answer(json!({"a": "SELEC k FROM"})),
            "node `a` is not valid SQL",
        ),
        (answer(json!({"a": 42})), "node `a` is not a SQL string"),

        (
            "{\"rewrite_sets\": [{\"nodes\": {\"a\": \"SELECT 1\"".into(),
            "does not parse",
        ),
        (
            answer(
                json!({"x": "SELECT * FROM y", "y": "SELECT * FROM x", "main_query": "SELECT * FROM x"}),
            ),
            "cycle between new CTEs",
        ),
    ];
    for (text, needle) in cases {
        let err = dag_json(&d, &text).expect_err(&text);
        assert_eq!(err.reason(), "parse_error");
        assert!(
            err.to_string().contains(needle),
            "`{err}` should contain `{needle}`"
        );
    }
}

#[test]
fn statements_other_than_one_query_are_not_select() {
    let d = parse_dag(BASE).unwrap();
    for body in ["SELECT 1; SELECT 2", "DELETE FROM t", "DROP TABLE t", "PRAGMA version"] {
        let err = dag_json(&d, &answer(json!({"a": body}))).expect_err(body);
        assert_eq!(err.reason(), "not_select", "{body}: {err}");
        assert!(err.to_string().contains("node `a` is not a single query"), "{err}");
    }
}

#[test]
fn sql_format_takes_the_last_sql_block_or_bare_sql() {
    let d = parse_dag(BASE).unwrap();
    let two =
        "First try:\n```sql\nSELECT 1\n```\nBetter:\n```sql\nSELECT k FROM t ORDER BY k;\n```\n";
    assert_eq!(
        assemble(&d, two, ResponseFormat::Sql).unwrap(),
        "SELECT k FROM t ORDER BY k"
    );
    assert_eq!(
        assemble(&d, "  SELECT 2 AS x;\n", ResponseFormat::Sql).unwrap(),
        "SELECT 2 AS x"
    );
    for bad in [
        "Sorry, no idea.",
        "```sql\nSELECT (1 FROM\n```",
        "SELECT 1; SELECT 2",
        "```sql\nDROP TABLE t\n```",
    ] {
        let err = assemble(&d, bad, ResponseFormat::Sql).expect_err(bad);
        assert_eq!(err.reason(), "parse_error", "{bad}");
    }
}

#[test]
fn multi_statement_files_rewrite_the_first_statement() {
    let d = parse_first_dag("SELECT a FROM t; SELECT b FROM u").unwrap();
    assert_eq!(d.statement_count, 2);
    let sql = dag_json(
        &d,
        &answer(json!({"main_query": "SELECT a FROM t WHERE a > 0"})),
    )
    .unwrap();
    assert_eq!(normalized(&sql), "SELECT a FROM t WHERE a > 0");
}

#[test]
fn backslash_quote_in_json_and_table_shadowing() {
    let d = parse_dag(BASE).unwrap();
    let text =
        r#"{"rewrite_sets": [{"nodes": {"a": "SELECT k, v FROM t WHERE v > 0 AND k <> \'x\'"}}]}"#;
    let sql = dag_json(&d, text).unwrap();
    assert!(normalized(&sql).contains("k <> 'x'"), "{sql}");
    // A new CTE named like a base table would silently replace it in every node.
    let err = dag_json(&d, &answer(json!({"t": "SELECT 1 AS k, 2 AS v"}))).unwrap_err();
    assert_eq!(err.reason(), "parse_error");
    assert!(err.to_string().contains("new CTE `t`"), "{err}");
    let err = dag_json(
        &d,
        &answer(json!({"main_query": "WITH t AS (SELECT 1 AS k) SELECT k, s FROM b"})),
    )
    .unwrap_err();
    assert!(err.to_string().contains("base table"), "{err}");
}

#[test]
fn quoted_cte_names_survive_assembly() {
    let d = parse_dag(r#"WITH "my cte" AS (SELECT 1 AS x) SELECT x FROM "my cte""#).unwrap();
    assert_eq!(d.order, vec!["my cte", "main_query"]);
    let sql = dag_json(
        &d,
        &answer(json!({"main_query": "SELECT x + 1 AS y FROM \"my cte\""})),
    )
    .unwrap();
    assert_eq!(
        normalized(&sql),
        r#"WITH "my cte" AS (SELECT 1 AS x) SELECT x + 1 AS y FROM "my cte""#
    );
}

#[test]
fn the_last_answer_object_wins() {
    let d = parse_dag(BASE).unwrap();
    let first = answer(json!({"a": "SELECT k, v FROM t WHERE v > 5"}));
    let last = answer(json!({"a": "SELECT k, v FROM t WHERE v > 1"}));
    let text = format!("Draft:\n{first}\nCorrected:\n{last}\n");
    let sql = dag_json(&d, &text).unwrap();
    assert_eq!(
        normalized(&sql),
        normalized(&BASE.replace("v > 0", "v > 1"))
    );
    let bare = format!(
        "{{\"rewrite_sets\": [{{\"nodes\": {{\"a\": \"SELECT k, v FROM t WHERE v > 5\"}}}}]}} then {{\"rewrite_sets\": [{{\"nodes\": {{\"a\": \"SELECT k, v FROM t WHERE v > 1\"}}}}]}}"
    );
    assert_eq!(
        normalized(&dag_json(&d, &bare).unwrap()),
        normalized(&BASE.replace("v > 0", "v > 1"))
    );
}

/// The structured path (sqlparser's tree, printed) must be what assembles a plain answer:
/// with sqlparser 0.64 a CTE alias marked `explicit` printed `WITH AS a AS (`, which no
/// parser reads back, and every answer silently fell back to text assembly.
#[test]
fn answers_are_assembled_through_the_syntax_tree() {
    let d = parse_dag(BASE).unwrap();
    let out = dag_json(&d, &answer(json!({"a": "select k, v from t where v > 1"}))).unwrap();
    assert!(!out.to_uppercase().contains("WITH AS"), "{out}");
    assert!(out.starts_with("WITH a AS (\n  SELECT\n"), "printed from the tree (pretty, keywords in capitals): {out}");
}
