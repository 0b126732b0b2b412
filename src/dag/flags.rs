//! Query-level views of the per-node flags: feature tags for the `matched` example
//! strategy, and the choice of target nodes shown first in the prompt.
//!
//! Both are heuristics over the DAG only (no data, no schema beyond table names); they
//! steer what the LLM looks at and never decide correctness.

use super::{Dag, NodeKind};
use std::collections::{BTreeMap, BTreeSet};

/// Lowercase feature tags of the whole query, e.g. "correlated_subquery",
/// "or_predicate", "date_filter", "union", "window", "repeated_scan". Gold examples
/// carry tags from the same vocabulary.
pub fn query_features(dag: &Dag) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut add = |t: &str| {
        out.insert(t.to_string());
    };
    for node in &dag.nodes {
        let has = |f: &str| node.flags.iter().any(|x| x == f);
        for (flag, tag) in [
            ("CORRELATED", "correlated_subquery"),
            ("OR_IN_WHERE", "or_predicate"),
            ("UNION", "union"),
            ("INTERSECT", "intersect"),
            ("EXCEPT", "except"),
            ("WINDOW", "window"),
            ("GROUP_BY", "aggregation"),
            ("DISTINCT", "distinct"),
            ("IN_SUBQUERY", "in_subquery"),
            ("EXISTS", "exists"),
            ("SCALAR_SUBQUERY", "scalar_subquery"),
            ("ROLLUP", "rollup"),
            ("OUTER_JOIN", "outer_join"),
            ("HAVING", "having"),
            ("CASE", "case_expression"),
            ("IN_LIST", "in_list"),
            ("DERIVED_TABLE", "derived_table"),
        ] {
            if has(flag) {
                add(tag);
            }
        }
        if has("UNION") && !has("UNION_ALL") {
            add("union_distinct");
        }
        if node.kind == NodeKind::Main && has("ORDER_BY") && has("LIMIT") {
            add("top_n");
        }
        if node.kind == NodeKind::Cte {
            add("cte");
        }
        if node.joins >= 4 {
            add("many_joins");
        }
        if has("GROUP_BY") && node.joins >= 2 {
            add("aggregate_over_join");
        }
        if has("REPEATED_SCAN") {
            add("self_join");
        }
        let date_pred = node.contract.predicates.iter().any(|p| {
            let p = p.to_lowercase();
            ["d_year", "d_date", "d_moy", "d_qoy", "date", "interval"]
                .iter()
                .any(|k| p.contains(k))
        });
        if date_pred || node.tables.iter().any(|t| t.contains("date")) {
            add("date_filter");
        }
    }
    // Repeated scans: the same base table or CTE read more than once across the query.
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    dag.nodes
        .iter()
        .flat_map(|n| &n.scans)
        .for_each(|s| *counts.entry(s).or_default() += 1);
    if counts.values().any(|&c| c > 1) {
        out.insert("repeated_scan".into());
    }
    out
}

/// The `k` nodes most worth rewriting, most expensive first. With a plan
/// (`table_time_share`: lowercase table name -> share of plan time), a node's cost is the
/// summed share of the base tables it scans; without one (empty map or no match) it is
/// the number of tables plus joins. Ties keep the DAG order, so the result is deterministic.
pub fn target_nodes(dag: &Dag, table_time_share: &BTreeMap<String, f64>, k: usize) -> Vec<String> {
    let share: BTreeMap<String, f64> = table_time_share
        .iter()
        .map(|(t, s)| (t.to_lowercase(), *s))
        .collect();
    let plan_cost = |id: &str| -> f64 {
        dag.node(id)
            .map(|n| n.tables.iter().filter_map(|t| share.get(t)).sum())
            .unwrap_or(0.0)
    };
    let use_plan = dag.order.iter().any(|id| plan_cost(id) > 0.0);
    let shape_cost = |id: &str| -> f64 {
        dag.node(id)
            .map(|n| (n.tables.len() + n.refs.len() + n.joins) as f64)
            .unwrap_or(0.0)
    };
    let mut ranked: Vec<(usize, f64, &String)> = dag
        .order
        .iter()
        .enumerate()
        .map(|(pos, id)| {
            (
                pos,
                if use_plan {
                    plan_cost(id)
                } else {
                    shape_cost(id)
                },
                id,
            )
        })
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked
        .into_iter()
        .take(k)
        .map(|(_, _, id)| id.clone())
        .collect()
}
