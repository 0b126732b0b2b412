//! Rendering the real templates (templates/v5_dag.j2, templates/full_sql.j2) with a fixed
//! context, plus the environment's filters and its error messages.

mod common;

use qt::dag::{parse_dag, parse_first_dag, target_nodes};
use qt::prompt::{
    HistoryEntry, PromptEnv, PromptError, PromptInputs, QueryInfo, WorkerInfo, build_context,
    load_examples,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn crate_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn q1_sql() -> Option<String> {
    std::fs::read_to_string(common::tpcds_queries()?.join("query_1.sql")).ok()
}

fn schema() -> Value {
    json!([
        {"name": "store_returns", "rows": 287514, "columns": [
            {"name": "sr_customer_sk", "type": "INTEGER"}, {"name": "sr_store_sk", "type": "INTEGER"}]},
        {"name": "date_dim", "rows": null, "columns": [{"name": "d_year", "type": "INTEGER"}]}
    ])
}

/// Render `template` for `sql` with the given examples and history (fixed everything else).
fn render(template: &str, sql: &str, n_examples: usize, history: &[HistoryEntry]) -> String {
    let dag = parse_first_dag(sql).unwrap();
    let targets = target_nodes(&dag, &BTreeMap::new(), 1);
    let examples = load_examples(&crate_path("prompts/examples")).unwrap();
    let query = QueryInfo {
        id: "1".into(),
        sql: sql.into(),
        file: "query_1.sql".into(),
    };
    let worker = WorkerInfo {
        id: 3,
        arm: "batches".into(),
    };
    let arm = json!({"examples.strategy": "batches"});
    let ctx = build_context(&PromptInputs {
        query: &query,
        dag: &dag,
        target_nodes: &targets,
        plan_summary: "",
        plan: None,
        schema: &schema(),
        examples: &examples[..n_examples],
        worker: &worker,
        arm: &arm,
        history,
    });
    let env = PromptEnv::new(&crate_path("templates")).unwrap();
    env.render(Path::new(template), &ctx)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Snapshots use our own q1-shaped query (queries/demo/demo1.sql: a CTE aggregated per
/// customer and store, a correlated scalar subquery, ORDER BY .. LIMIT), because the
/// TPC-DS texts must not be copied into the repository, snapshots included.
fn demo1_sql() -> String {
    std::fs::read_to_string(crate_path("queries/demo/demo1.sql")).unwrap()
}

#[test]
fn q1_shaped_dag_prompt_snapshot() {
    let prompt = render("v5_dag.j2", &demo1_sql(), 2, &[]);
    insta::assert_snapshot!("q1_shape_v5_dag", prompt);
}

#[test]
fn q1_prompt_shows_its_nodes_and_target() {
    let Some(sql) = q1_sql() else { return };
    let prompt = render("v5_dag.j2", &sql, 2, &[]);
    for needle in ["customer_total_return", "main_query", "rewrite_sets", "CORRELATED"] {
        assert!(prompt.contains(needle), "the q1 prompt lacks {needle}");
    }
}

#[test]
fn q1_shaped_full_sql_prompt_snapshot() {
    let sql = demo1_sql();
    let history = [HistoryEntry::new(
        1,
        "```sql\nSELECT nonsense\n```",
        "parse_error",
        "no such column",
    )];
    let prompt = render("full_sql.j2", &sql, 0, &history);
    insta::assert_snapshot!("q1_shape_full_sql", prompt);
}

#[test]
fn base_prompt_has_no_examples_and_worker_prompts_do() {
    let sql = "WITH a AS (SELECT k FROM t WHERE k > 1) SELECT k FROM a WHERE k IN (SELECT k FROM u) ORDER BY k LIMIT 5";
    let base = render("v5_dag.j2", sql, 0, &[]);
    let with = render("v5_dag.j2", sql, 3, &[]);
    assert!(!base.contains("## Examples"), "{base}");
    assert!(with.contains("## Examples") && with.contains("### Example 3:"));
    assert!(!base.contains("previous attempts"));
    for needle in [
        "### Node `a` (cte",
        "### Node `main_query` (main",
        "\"rewrite_sets\"",
        "reads nodes: a",
        "IN_SUBQUERY",
    ] {
        assert!(base.contains(needle), "missing {needle}");
    }
    // No HTML escaping of SQL anywhere.
    assert!(base.contains("k > 1") && !base.contains("&gt;") && !with.contains("\\u003e"));
    let history = [HistoryEntry::new(
        2,
        &"x".repeat(5000),
        "parse_error",
        "no JSON object found",
    )];
    let retry = render("v5_dag.j2", sql, 0, &history);
    assert!(retry.contains("Attempt 2 failed with `parse_error`: no JSON object found"));
    assert!(retry.contains("[... truncated]"));
}

#[test]
fn multi_statement_note() {
    let p = render("v5_dag.j2", "SELECT 1 AS a; SELECT 2 AS b", 0, &[]);
    assert!(p.contains("holds 2 statements"), "{p}");
}

#[test]
fn missing_variable_names_template_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.j2"),
        "line one\n{% include \"part.j2\" %}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("part.j2"),
        "ok {{ dialect }}\nbad {{ nope.field }}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("broken.j2"), "a\nb {% if %}\n").unwrap();
    let env = PromptEnv::new(dir.path()).unwrap();
    let err = env
        .render(Path::new("main.j2"), &json!({"dialect": "duckdb"}))
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, PromptError::Render { .. }));
    assert!(msg.contains("part.j2:2"), "{msg}");
    assert!(msg.contains("undefined"), "{msg}");
    assert!(msg.contains("`nope` is not a template variable"), "names the missing variable: {msg}");
    // A missing field inside a partial in a subfolder: the partial's file:line and the name.
    std::fs::create_dir_all(dir.path().join("partials")).unwrap();
    std::fs::write(dir.path().join("partials/_q.j2"), "{{ dialect }}\n\nid {{ query.idd }}\n").unwrap();
    std::fs::write(dir.path().join("main2.j2"), "{% include \"partials/_q.j2\" %}\n").unwrap();
    let msg = env
        .render(Path::new("main2.j2"), &json!({"dialect": "duckdb", "query": {"id": "1", "sql": "x"}}))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("partials/_q.j2:3"), "{msg}");
    assert!(msg.contains("`query` has no field `idd` (it has: id, sql)"), "{msg}");
    let err = env
        .render(&dir.path().join("broken.j2"), &json!({}))
        .unwrap_err()
        .to_string();
    assert!(err.contains("broken.j2:2"), "{err}");
    let err = env
        .render(Path::new("absent.j2"), &json!({}))
        .unwrap_err()
        .to_string();
    assert!(err.contains("absent.j2"), "{err}");
    assert!(matches!(
        PromptEnv::new(&dir.path().join("nope")),
        Err(PromptError::NoTemplateDir(_))
    ));
}

#[test]
fn filters_indent_sql_json() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("f.j2");
    std::fs::write(
        &t,
        "[{{ text | indent(2) }}]\n{{ q | sql }}\n{{ obj | json }}\n{{ obj | tojson }}",
    )
    .unwrap();
    let env = PromptEnv::for_template(&t).unwrap();
    let out = env
        .render(
            &t,
            &json!({"text": "a\nb", "q": "select a from t where a<1", "obj": {"s": "a<b"}}),
        )
        .unwrap();
    assert!(out.starts_with("[a\n  b]"), "{out}");
    assert!(out.contains("SELECT\n") && out.contains("a < 1"), "{out}");
    assert!(out.contains("{\n  \"s\": \"a<b\"\n}"), "{out}");
}

#[test]
fn context_has_every_spec_name() {
    let dag = parse_dag("SELECT 1 AS x").unwrap();
    let query = QueryInfo {
        id: "q".into(),
        sql: "SELECT 1 AS x".into(),
        file: "q.sql".into(),
    };
    let worker = WorkerInfo {
        id: 1,
        arm: "a".into(),
    };
    let ctx = build_context(&PromptInputs {
        query: &query,
        dag: &dag,
        target_nodes: &[],
        plan_summary: "",
        plan: None,
        schema: &Value::Null,
        examples: &[],
        worker: &worker,
        arm: &Value::Null,
        history: &[],
    });
    for k in [
        "query",
        "dag",
        "target_nodes",
        "plan_summary",
        "plan",
        "schema",
        "examples",
        "worker",
        "arm",
        "history",
        "dialect",
    ] {
        assert!(ctx.get(k).is_some(), "context lacks {k}");
    }
    assert_eq!(ctx["dialect"], "duckdb");
    assert_eq!(ctx["schema"], json!([]));
    assert_eq!(ctx["dag"]["nodes"][0]["is_target"], false);
}
