//! PostgreSQL plans for prompts and patterns: `EXPLAIN (ANALYZE, FORMAT JSON)` (plan.json)
//! and `EXPLAIN` (plan_full.txt) of the original, run in the sandbox's read-only
//! transaction, and the JSON plan re-shaped into the profile form the engine-neutral
//! summary reads (`db/plan_summary.rs`): operator names upper-snake (`SEQ_SCAN`,
//! `HASH_JOIN`, `NESTED_LOOP_JOIN`), each operator's own (exclusive) time in seconds
//! summed over its loops, rows out over all loops, rows scanned (kept + removed by the
//! scan's filter), the estimate times the loops, the table and the join type.

use serde_json::{Value, json};

/// The profile shape of a PostgreSQL `EXPLAIN (ANALYZE, FORMAT JSON)` result.
pub fn to_profile(pg: &Value) -> Value {
    let roots: Vec<&Value> = match pg {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut children = Vec::new();
    let mut latency = 0.0;
    for r in roots {
        if let Some(plan) = r.get("Plan") {
            children.push(node(plan));
        }
        latency += (f(r, "Execution Time") + f(r, "Planning Time")) / 1000.0;
    }
    json!({"latency": latency, "children": children})
}

fn f(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

/// Inclusive time of a node over all its loops, in ms.
fn inclusive_ms(n: &Value) -> f64 {
    f(n, "Actual Total Time") * f(n, "Actual Loops").max(1.0)
}

fn node(n: &Value) -> Value {
    let loops = f(n, "Actual Loops").max(1.0);
    let kids: Vec<&Value> = n.get("Plans").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default();
    let own_ms = (inclusive_ms(n) - kids.iter().map(|k| inclusive_ms(k)).sum::<f64>()).max(0.0);
    let kind = n.get("Node Type").and_then(Value::as_str).unwrap_or("?");
    let mut name = kind.to_uppercase().replace(' ', "_");
    if name == "NESTED_LOOP" {
        name = "NESTED_LOOP_JOIN".into();
    }
    let rows = f(n, "Actual Rows") * loops;
    let removed = (f(n, "Rows Removed by Filter") + f(n, "Rows Removed by Index Recheck")) * loops;
    let mut extra = serde_json::Map::new();
    if let Some(t) = n.get("Relation Name").and_then(Value::as_str) {
        extra.insert("Table".into(), json!(t));
    }
    extra.insert("Estimated Cardinality".into(), json!((f(n, "Plan Rows") * loops).round() as u64));
    if let Some(j) = n.get("Join Type").and_then(Value::as_str) {
        extra.insert("Join Type".into(), json!(j.to_uppercase()));
    }
    let mut out = json!({
        "type": name,
        "timing": own_ms / 1000.0,
        "intermediate_rows": rows.round() as u64,
        "extra_info": extra,
        "children": kids.iter().map(|k| node(k)).collect::<Vec<_>>(),
    });
    if name.contains("SCAN") {
        out["rows_scanned"] = json!((rows + removed).round() as u64);
    }
    out
}

/// True for PostgreSQL's `EXPLAIN (FORMAT JSON)` output (an array of `{"Plan": ..}`).
pub fn is_pg_plan(v: &Value) -> bool {
    match v {
        Value::Array(items) => items.first().is_some_and(|i| i.get("Plan").is_some()),
        other => other.get("Plan").is_some(),
    }
}

/// Profiles the last statement of `sql` on PostgreSQL: `EXPLAIN (ANALYZE, FORMAT JSON)`
/// and `EXPLAIN` in the sandbox's read-only, rolled-back transaction, both within
/// `timeout` (each run also under statement_timeout and the client-side cancel).
pub fn analyze(
    target: &super::PgTarget,
    sql: &str,
    timeout: std::time::Duration,
) -> Result<crate::db::PlanAnalysis, crate::db::DbError> {
    use crate::db::DbError;
    use crate::db::session::ExecError;
    let statements = crate::db::split_statements(sql);
    let Some(last) = statements.last() else {
        return Err(DbError::Plan("the query file holds no SQL statement".into()));
    };
    let session = super::PgSession::open(target, 1)
        .map_err(|e| DbError::Engine { what: "opening PostgreSQL for plan analysis".into(), message: e.to_string() })?;
    let deadline = std::time::Instant::now() + timeout;
    let run = |text: String| -> Result<String, DbError> {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(DbError::Timeout { seconds: timeout.as_secs_f64() });
        }
        session.text_rows(&text, left).map_err(|e| match e {
            ExecError::Timeout(_) => DbError::Timeout { seconds: timeout.as_secs_f64() },
            other => DbError::Engine { what: "running EXPLAIN on the query".into(), message: other.to_string() },
        })
    };
    let json_text = run(format!("EXPLAIN (ANALYZE, FORMAT JSON) {last}"))?;
    let full_text = run(format!("EXPLAIN {last}"))?;
    crate::db::PlanAnalysis::from_texts(json_text, full_text)
}
