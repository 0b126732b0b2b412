//! The template context: every name a prompt template may use (SPEC.md "Template
//! context"), built from plain values so this module depends on neither the database
//! nor the runner.
//!
//! Names: `query`, `dag`, `target_nodes`, `plan_summary`, `plan`, `schema`, `examples`,
//! `worker`, `arm`, `history`, `dialect`, plus `features` (the query's feature tags) and
//! `patterns` (rewrite patterns found from the DAG: `[{name, nodes, why}]`; the runner
//! replaces them with the plan-refined list it matched examples with).
//! Templates run with strict undefined, so every key is always present (empty values
//! rather than missing ones).

use super::examples::Example;
use crate::dag::{Dag, detect_patterns, query_features};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Longest response excerpt kept in a history entry.
const MAX_EXCERPT_CHARS: usize = 1500;

#[derive(Debug, Clone, Serialize)]
pub struct QueryInfo {
    pub id: String,
    pub sql: String,
    pub file: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkerInfo {
    /// 1-based worker number within its (query, arm).
    pub id: u32,
    /// Arm name.
    pub arm: String,
}

/// One previous failed attempt, shown to the LLM on a retry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HistoryEntry {
    pub attempt: u32,
    pub response_excerpt: String,
    /// Machine reason (`parse_error`, `validation_failed`, ...).
    pub reason: String,
    /// Human detail of the failure.
    pub error: String,
}

impl HistoryEntry {
    /// An entry with the response cut to a readable excerpt.
    pub fn new(attempt: u32, response: &str, reason: &str, error: &str) -> Self {
        let mut excerpt: String = response.chars().take(MAX_EXCERPT_CHARS).collect();
        if response.chars().count() > MAX_EXCERPT_CHARS {
            excerpt.push_str("\n[... truncated]");
        }
        HistoryEntry {
            attempt,
            response_excerpt: excerpt,
            reason: reason.into(),
            error: error.into(),
        }
    }
}

/// Everything a prompt is made of.
pub struct PromptInputs<'a> {
    pub query: &'a QueryInfo,
    pub dag: &'a Dag,
    pub target_nodes: &'a [String],
    /// Short text summary of the original's plan; may be "".
    pub plan_summary: &'a str,
    /// The parsed plan JSON, if any (becomes `null`).
    pub plan: Option<&'a Value>,
    /// List of {name, columns: [{name, type}], rows}; `null` becomes `[]`.
    pub schema: &'a Value,
    pub examples: &'a [Example],
    pub worker: &'a WorkerInfo,
    /// The arm's parameter values (dotted key -> value).
    pub arm: &'a Value,
    pub history: &'a [HistoryEntry],
}

/// The context object templates are rendered with.
pub fn build_context(inputs: &PromptInputs) -> Value {
    let mut dag = serde_json::to_value(inputs.dag).unwrap_or(Value::Null);
    if let Some(nodes) = dag.get_mut("nodes").and_then(Value::as_array_mut) {
        for node in nodes {
            let id = node
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let is_target = inputs
                .target_nodes
                .iter()
                .any(|t| t.eq_ignore_ascii_case(&id));
            if let Some(obj) = node.as_object_mut() {
                obj.insert("is_target".into(), Value::Bool(is_target));
            }
        }
    }
    let examples: Vec<Value> = inputs.examples.iter().map(example_value).collect();
    let schema = match inputs.schema {
        Value::Null => json!([]),
        other => other.clone(),
    };
    let arm = match inputs.arm {
        Value::Null => json!({}),
        other => other.clone(),
    };
    json!({
        "query": inputs.query,
        "dag": dag,
        "target_nodes": inputs.target_nodes,
        "plan_summary": inputs.plan_summary,
        "plan": inputs.plan.cloned().unwrap_or(Value::Null),
        "schema": schema,
        "examples": examples,
        "worker": inputs.worker,
        "arm": arm,
        "history": inputs.history,
        "dialect": "duckdb",
        "features": query_features(inputs.dag),
        "patterns": detect_patterns(inputs.dag, None),
    })
}

/// An example as templates see it: its fields plus `output_json` (pretty text).
fn example_value(e: &Example) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
    let pretty = serde_json::to_string_pretty(&e.output).unwrap_or_default();
    if let Some(obj) = v.as_object_mut() {
        obj.insert("output_json".into(), Value::String(pretty));
    }
    v
}
