//! Turns DuckDB's `EXPLAIN (ANALYZE, FORMAT JSON)` profile into a short summary for humans
//! and prompts: top operators by share of time, scans (rows scanned -> rows kept, named by
//! the operator's own `Table`), estimate-vs-actual misestimates, joins with input sizes,
//! and each table's share of time. The text form is in `plan_text.rs`.
//!
//! Field names are the ones DuckDB emits. DuckDB 2.0 (bundled here) writes the root's
//! metrics as nested objects (`query.total_time`, seconds) and the plan under `operator`;
//! each operator has `type`, `timing` (seconds), `intermediate_rows` (rows out),
//! `rows_scanned` (table scans), `extra_info` (an object: `Table`, `Estimated Cardinality`,
//! `Join Type`, ...) and `children`. The legacy format (`legacy_metrics_format`, DuckDB
//! 1.x) names them `operator_type`/`operator_name`, `operator_timing`,
//! `operator_cardinality`, `operator_rows_scanned`, and the root has `latency` and
//! `children`; both are read. Missing fields count as zero/absent: the summary never
//! fails, it only gets shorter.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Misestimates at least this far off (either direction) are reported.
pub(crate) const MISESTIMATE_FACTOR: f64 = 5.0;
const TOP_OPERATORS: usize = 10;
const TOP_MISESTIMATES: usize = 10;
/// Nodes DuckDB adds around every profiled query; walked through, not reported.
const WRAPPERS: [&str; 3] = ["RESULT_COLLECTOR", "EXECUTE", "EXPLAIN_ANALYZE"];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperatorStat {
    pub name: String,
    pub table: Option<String>,
    pub time_s: f64,
    /// Share of the summed operator time, 0..=1.
    pub share: f64,
    pub rows: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanStat {
    pub table: String,
    pub rows_scanned: u64,
    /// Rows leaving the scan (pushed-down filters) or the filters directly above it.
    pub rows_kept: u64,
    /// Scan time plus the time of those filters.
    pub time_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Misestimate {
    pub operator: String,
    pub table: Option<String>,
    pub estimated: u64,
    pub actual: u64,
    /// max/min of the two (zero counted as one), always >= 1.
    pub factor: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JoinStat {
    pub name: String,
    pub join_type: Option<String>,
    pub left_rows: u64,
    pub right_rows: u64,
    pub out_rows: u64,
    pub time_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct PlanSummary {
    /// The query's latency as profiled (root `latency`), else the summed operator time.
    pub total_time_s: f64,
    /// Top operators by time, largest first.
    pub operators: Vec<OperatorStat>,
    /// In plan order.
    pub scans: Vec<ScanStat>,
    /// Largest factor first, at most 10.
    pub misestimates: Vec<Misestimate>,
    /// In plan order.
    pub joins: Vec<JoinStat>,
    /// table -> share of summed operator time in its scans (+ filters directly above).
    pub table_time_share: BTreeMap<String, f64>,
}

/// Builds the summary of a profile (the parsed JSON; an array of roots is accepted too).
/// PostgreSQL's `EXPLAIN (ANALYZE, FORMAT JSON)` is re-shaped first (`pg/explain.rs`).
pub fn summarize(profile: &Value) -> PlanSummary {
    if super::pg::explain::is_pg_plan(profile) {
        return summarize(&super::pg::explain::to_profile(profile));
    }
    let mut ops = Vec::new();
    let roots: Vec<&Value> = match profile {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    for root in &roots {
        collect(root, &mut ops);
    }
    let op_time: f64 = ops.iter().map(|o| o.time).sum();
    let latency: f64 = roots
        .iter()
        .filter_map(|r| {
            num(r.get("latency")).or_else(|| num(r.get("query").and_then(|q| q.get("total_time"))))
        })
        .sum();
    let total_time_s = if latency > 0.0 { latency } else { op_time };
    let share = |t: f64| if op_time > 0.0 { t / op_time } else { 0.0 };

    let mut operators: Vec<OperatorStat> = ops
        .iter()
        .map(|o| OperatorStat {
            name: o.name.clone(),
            table: o.table.clone(),
            time_s: o.time,
            share: share(o.time),
            rows: o.rows,
        })
        .collect();
    operators.sort_by(|a, b| b.time_s.total_cmp(&a.time_s));
    operators.truncate(TOP_OPERATORS);

    let mut scans = Vec::new();
    let mut table_time_share: BTreeMap<String, f64> = BTreeMap::new();
    for o in ops.iter().filter(|o| o.is_scan()) {
        let Some(table) = o.table.clone() else {
            continue;
        };
        let (rows_kept, time_s) = o.filtered;
        *table_time_share.entry(table.clone()).or_default() += share(time_s);
        let rows_scanned = if o.rows_scanned > 0 {
            o.rows_scanned
        } else {
            o.rows
        };
        scans.push(ScanStat {
            table,
            rows_scanned,
            rows_kept,
            time_s,
        });
    }

    let mut misestimates: Vec<Misestimate> = ops
        .iter()
        .filter_map(|o| {
            let estimated = o.estimate?;
            if o.child_repeat == Some((estimated, o.rows)) || o.name == "CTE" {
                // A projection-like node repeating its input's misestimate, or a CTE node
                // (it materializes; its own row count is always 0).
                return None;
            }
            let factor = ratio(estimated, o.rows);
            (factor >= MISESTIMATE_FACTOR).then(|| Misestimate {
                operator: o.name.clone(),
                table: o.table.clone(),
                estimated,
                actual: o.rows,
                factor,
            })
        })
        .collect();
    misestimates.sort_by(|a, b| b.factor.total_cmp(&a.factor));
    misestimates.truncate(TOP_MISESTIMATES);

    let joins = ops
        .iter()
        .filter(|o| o.is_join())
        .map(|o| JoinStat {
            name: o.name.clone(),
            join_type: o.join_type.clone(),
            left_rows: o.child_rows.first().copied().unwrap_or(0),
            right_rows: o.child_rows.get(1).copied().unwrap_or(0),
            out_rows: o.rows,
            time_s: o.time,
        })
        .collect();

    PlanSummary {
        total_time_s,
        operators,
        scans,
        misestimates,
        joins,
        table_time_share,
    }
}

/// One operator node, flattened.
struct Op {
    name: String,
    table: Option<String>,
    time: f64,
    rows: u64,
    rows_scanned: u64,
    estimate: Option<u64>,
    /// (estimate, actual) of the only child, to spot nodes that merely pass a misestimate on.
    child_repeat: Option<(u64, u64)>,
    join_type: Option<String>,
    child_rows: Vec<u64>,
    /// For scans: (rows kept, time) including the chain of FILTERs directly above.
    filtered: (u64, f64),
}

impl Op {
    fn is_scan(&self) -> bool {
        self.name.contains("SCAN")
    }
    fn is_join(&self) -> bool {
        self.name.contains("JOIN") || self.name == "CROSS_PRODUCT"
    }
}

/// Depth-first, parents before children. Nodes without an operator name (the root of a
/// profile) are walked through. Returns the index of this node's op, if it is one.
fn collect(node: &Value, ops: &mut Vec<Op>) -> Option<usize> {
    let children = child_nodes(node);
    let name = field(node, &["operator_name", "operator_type", "type"])
        .and_then(Value::as_str)
        .map(|s| s.trim().to_string());
    let Some(name) = name.filter(|n| !WRAPPERS.contains(&n.as_str())) else {
        for child in children {
            collect(child, ops);
        }
        return None;
    };
    let extra = node.get("extra_info");
    let info = |key: &str| extra.and_then(|e| e.get(key));
    let rows = rows_out(node);
    let time = num(field(node, &["operator_timing", "timing"])).unwrap_or(0.0);
    let me = ops.len();
    ops.push(Op {
        table: info("Table").and_then(Value::as_str).map(table_name),
        rows_scanned: num(field(node, &["operator_rows_scanned", "rows_scanned"])).unwrap_or(0.0)
            as u64,
        estimate: estimate_of(node),
        child_repeat: match children[..] {
            [only] => estimate_of(only).map(|e| (e, rows_out(only))),
            _ => None,
        },
        join_type: info("Join Type")
            .and_then(Value::as_str)
            .map(str::to_string),
        child_rows: children.iter().map(|c| rows_out(c)).collect(),
        filtered: (rows, time),
        name,
        time,
        rows,
    });
    let child_ops: Vec<Option<usize>> = children.iter().map(|c| collect(c, ops)).collect();
    // A FILTER over exactly one input: fold it into the scan below (through other filters).
    if ops[me].name == "FILTER"
        && let [Some(child)] = child_ops[..]
        && let Some(scan) = scan_under_filters(ops, child)
    {
        let (kept, t) = ops[scan].filtered;
        ops[scan].filtered = (rows.min(kept), t + time);
    }
    Some(me)
}

/// DuckDB qualifies scanned tables as `catalog.schema.table` (the catalog is named after
/// the file); the summary uses the bare table name.
fn table_name(qualified: &str) -> String {
    qualified
        .rsplit('.')
        .next()
        .unwrap_or(qualified)
        .to_string()
}

/// Operator children (`children`), or the plan roots of a profile (`operator`).
fn child_nodes(node: &Value) -> Vec<&Value> {
    ["children", "operator"]
        .iter()
        .filter_map(|k| node.get(*k).and_then(Value::as_array))
        .flatten()
        .collect()
}

fn field<'a>(node: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|k| node.get(*k))
}

fn estimate_of(node: &Value) -> Option<u64> {
    num(node.get("extra_info")?.get("Estimated Cardinality")).map(|e| e as u64)
}

fn rows_out(node: &Value) -> u64 {
    num(field(node, &["operator_cardinality", "intermediate_rows"])).unwrap_or(0.0) as u64
}

/// The scan reached from `idx` through FILTER nodes with a single child, if any.
fn scan_under_filters(ops: &[Op], mut idx: usize) -> Option<usize> {
    loop {
        let op = &ops[idx];
        if op.is_scan() {
            return Some(idx);
        }
        // In depth-first order a single-child node's child is the next op.
        if op.name == "FILTER" && op.child_rows.len() == 1 && idx + 1 < ops.len() {
            idx += 1;
        } else {
            return None;
        }
    }
}

/// A number, or a string holding one (extra_info values are strings, e.g. "~1,234").
fn num(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => {
            let digits: String = s
                .chars()
                .filter(|c| !matches!(c, '~' | ',' | ' '))
                .collect();
            digits.parse().ok()
        }
        _ => None,
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    let (a, b) = (a.max(1) as f64, b.max(1) as f64);
    if a > b { a / b } else { b / a }
}

#[cfg(test)]
mod tests {
    use super::summarize;
    use serde_json::json;

    fn scan(table: &str, time: f64, out: u64, scanned: u64, est: &str) -> serde_json::Value {
        json!({"type": "TABLE_SCAN", "timing": time, "intermediate_rows": out,
               "rows_scanned": scanned,
               "extra_info": {"Table": table, "Estimated Cardinality": est}})
    }

    /// The shape DuckDB 2.0 writes (trimmed): wrappers, a projection passing on its join's
    /// misestimate, the join over a scan and a filtered scan.
    fn profile() -> serde_json::Value {
        json!({"query": {"total_time": 0.5}, "operator": [{"type": "RESULT_COLLECTOR",
          "timing": 0.0, "intermediate_rows": 0, "extra_info": {}, "children": [
          {"type": "PROJECTION", "timing": 0.0, "intermediate_rows": 50,
           "extra_info": {"Estimated Cardinality": "2"}, "children": [
          {"type": "HASH_JOIN", "timing": 0.1, "intermediate_rows": 50,
           "extra_info": {"Join Type": "INNER", "Estimated Cardinality": "2"}, "children": [
             scan("db.main.store_sales", 0.6, 1000, 1000, "1000"),
             {"type": "FILTER", "timing": 0.1, "intermediate_rows": 10,
              "extra_info": {"Estimated Cardinality": "12"},
              "children": [scan("db.main.date_dim", 0.2, 20, 7000, "~1,500")]}]}]}]}]})
    }

    #[test]
    fn reads_duckdb_2_profiles() {
        let s = summarize(&profile());
        assert_eq!(s.total_time_s, 0.5);
        let names: Vec<_> = s
            .operators
            .iter()
            .map(|o| (o.name.as_str(), o.table.as_deref()))
            .collect();
        assert_eq!(
            names,
            [
                ("TABLE_SCAN", Some("store_sales")),
                ("TABLE_SCAN", Some("date_dim")),
                ("HASH_JOIN", None),
                ("FILTER", None),
                ("PROJECTION", None)
            ]
        );
        assert!((s.operators[0].share - 0.6).abs() < 1e-9);
        let dd = &s.scans[1];
        assert_eq!(
            (dd.table.as_str(), dd.rows_scanned, dd.rows_kept),
            ("date_dim", 7000, 10)
        );
        assert!((dd.time_s - 0.3).abs() < 1e-9);
        assert!((s.table_time_share["date_dim"] - 0.3).abs() < 1e-9);
        let mis: Vec<_> = s
            .misestimates
            .iter()
            .map(|m| (m.operator.as_str(), m.factor))
            .collect();
        assert_eq!(mis, [("TABLE_SCAN", 75.0), ("HASH_JOIN", 25.0)]);
        let j = &s.joins[0];
        assert_eq!(
            (
                j.join_type.as_deref(),
                j.left_rows,
                j.right_rows,
                j.out_rows
            ),
            (Some("INNER"), 1000, 10, 50)
        );
        let text = s.render();
        assert!(text.contains("date_dim: 7000 -> 10"), "{text}");
    }

    #[test]
    fn reads_legacy_profiles_and_tolerates_garbage() {
        let legacy = json!({"latency": 2.0, "children": [{"operator_type": "TABLE_SCAN",
            "operator_timing": 1.0, "operator_cardinality": 5, "operator_rows_scanned": 9,
            "extra_info": {"Table": "item"}}]});
        let s = summarize(&legacy);
        assert_eq!(
            (
                s.total_time_s,
                s.scans[0].table.as_str(),
                s.scans[0].rows_kept
            ),
            (2.0, "item", 5)
        );
        let empty = summarize(&json!("not a plan"));
        assert!(empty.operators.is_empty() && empty.total_time_s == 0.0);
    }
}
