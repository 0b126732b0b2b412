//! Rewrite patterns a query shows (correlated scalar subquery, repeated scan, OR across
//! columns, ...), named from its DAG and, when there is one, its plan. Gold examples
//! declare the patterns they fix (`patterns` in their JSON); the `matched` and `coverage`
//! example strategies pick examples by the overlap of the two.
//!
//! Detection reads only what the DAG already holds (flags, scans, joins, contract
//! predicates, node SQL text) plus a small tokenizer of its own, so it keeps working when
//! sqlparser changes or a DAG degrades to a single `main_query` node (then it finds less,
//! never fails). It is a heuristic that steers which examples a worker sees; it never
//! decides correctness.

use super::{Dag, NodeKind};
use crate::db::PlanSummary;
use serde::Serialize;
use sqlparser::ast::{GroupByExpr, SetExpr, SetOperator, SetQuantifier, Statement, TableFactor};
use std::collections::{BTreeMap, BTreeSet};
use text::{date_like, literal_filter, offset_join, or_across_columns};

mod text;

/// One pattern of the vocabulary. `weight` ranks overlaps: specific patterns (a
/// correlated scalar subquery: 5) count more than common structural ones (a repeated
/// scan: 3), and those more than what most analytic queries show (a date filter, an
/// aggregate over joins: 1), so an example fixing the one specific pattern of a query
/// outranks one that shares its three common ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatternDef {
    pub name: &'static str,
    pub weight: u32,
    pub what: &'static str,
}

/// The vocabulary, in the order hits are listed.
#[rustfmt::skip]
pub const PATTERNS: &[PatternDef] = &[
    PatternDef { name: "correlated_scalar_subquery", weight: 5, what: "a scalar subquery that reads a column of the outer query" },
    PatternDef { name: "uncorrelated_scalar_subquery", weight: 3, what: "a scalar subquery computed independently of the outer rows" },
    PatternDef { name: "in_or_exists_subquery", weight: 3, what: "an IN (SELECT ...) or EXISTS subquery" },
    PatternDef { name: "window_able_self_join", weight: 5, what: "a relation joined to itself on an offset (x = y + 1), which a window function can do in one pass" },
    PatternDef { name: "self_join", weight: 3, what: "the same table or CTE read twice in one node" },
    PatternDef { name: "repeated_scan", weight: 3, what: "a table or CTE read more than once across the query" },
    PatternDef { name: "or_across_columns", weight: 5, what: "an OR over columns of different tables, which no single scan can evaluate" },
    PatternDef { name: "union_distinct", weight: 5, what: "UNION (deduplicating) where UNION ALL may give the same rows" },
    PatternDef { name: "intersect_or_except", weight: 5, what: "INTERSECT or EXCEPT between query blocks" },
    PatternDef { name: "aggregate_over_union", weight: 3, what: "a GROUP BY over a UNION of several branches" },
    PatternDef { name: "rollup", weight: 5, what: "GROUP BY ROLLUP / grouping sets" },
    PatternDef { name: "outer_join", weight: 3, what: "a LEFT/RIGHT/FULL outer join" },
    PatternDef { name: "redundant_distinct", weight: 5, what: "DISTINCT next to GROUP BY, UNION, INTERSECT or EXCEPT, which already deduplicate" },
    PatternDef { name: "late_dimension_filter", weight: 1, what: "literal filters on dimension tables applied in a multi-table join" },
    PatternDef { name: "aggregation_after_join", weight: 1, what: "a GROUP BY over a join (pre-aggregating one side may shrink the join)" },
    PatternDef { name: "date_range_filter", weight: 1, what: "a date/year/month range filter in a join" },
];

/// Weight of a pattern name; unknown names weigh 0.
pub fn pattern_weight(name: &str) -> u32 {
    PATTERNS
        .iter()
        .find(|p| p.name == name)
        .map_or(0, |p| p.weight)
}

/// Is `name` in the vocabulary?
pub fn is_known_pattern(name: &str) -> bool {
    PATTERNS.iter().any(|p| p.name == name)
}

/// One pattern found in a query: where and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatternHit {
    pub name: String,
    /// Node ids showing it, DAG order.
    pub nodes: Vec<String>,
    /// Short human reason, e.g. "customer_total_return read 2 times".
    pub why: String,
}

/// Names of the hits, as a set (what example matching uses).
pub fn pattern_names(hits: &[PatternHit]) -> BTreeSet<String> {
    hits.iter().map(|h| h.name.clone()).collect()
}

/// Minimum share of plan time a base table's scans must take for its repeated reads to
/// count as `repeated_scan` when a plan is known (small dimensions read twice do not).
const REPEATED_SCAN_MIN_SHARE: f64 = 0.05;
/// With a plan, `late_dimension_filter` is dropped when the largest scan already keeps at
/// most this fraction of its rows (the filters reach the big table early).
const EARLY_FILTER_KEEP: f64 = 0.10;

/// Patterns of `dag`, in vocabulary order. `plan` refines two of them: repeated reads of
/// cheap base tables are ignored, and dimension filters the plan already applies early to
/// the largest scan are not reported as late.
pub fn detect_patterns(dag: &Dag, plan: Option<&PlanSummary>) -> Vec<PatternHit> {
    let mut found: BTreeMap<&'static str, (Vec<String>, Vec<String>)> = BTreeMap::new();
    let mut hit = |name: &'static str, node: &str, why: String| {
        let e = found.entry(name).or_default();
        if !e.0.iter().any(|n| n == node) {
            e.0.push(node.to_string());
        }
        if !why.is_empty() && !e.1.contains(&why) {
            e.1.push(why);
        }
    };
    for id in &dag.order {
        let Some(node) = dag.node(id) else { continue };
        let has = |f: &str| node.flags.iter().any(|x| x == f);
        let at = |what: &str| format!("{id}: {what}");
        if has("SCALAR_SUBQUERY") && has("CORRELATED") {
            hit(
                "correlated_scalar_subquery",
                id,
                at("correlated scalar subquery"),
            );
        }
        if has("SCALAR_SUBQUERY") && !has("CORRELATED") {
            hit("uncorrelated_scalar_subquery", id, at("scalar subquery"));
        }
        if has("IN_SUBQUERY") || has("EXISTS") {
            let what = match (has("IN_SUBQUERY"), has("EXISTS")) {
                (true, true) => "IN and EXISTS subqueries",
                (true, false) => "IN subquery",
                _ => "EXISTS subquery",
            };
            hit("in_or_exists_subquery", id, at(what));
        }
        let twice = self_joined(&node.sql, dag.engine);
        if !twice.is_empty() {
            let names: Vec<&str> = twice.iter().map(|s| s.as_str()).collect();
            if let Some(offset) = offset_join(&node.sql) {
                hit(
                    "window_able_self_join",
                    id,
                    at(&format!(
                        "{} joined to itself on `{offset}`",
                        names.join(", ")
                    )),
                );
            }
            hit(
                "self_join",
                id,
                at(&format!("{} read twice", names.join(", "))),
            );
        }
        if let Some(cols) = node
            .contract
            .predicates
            .iter()
            .find_map(|p| or_across_columns(p))
        {
            hit(
                "or_across_columns",
                id,
                at(&format!("OR across {}", cols.join(", "))),
            );
        }
        if has("UNION") && !has("UNION_ALL") {
            hit("union_distinct", id, at("UNION without ALL"));
        }
        if has("INTERSECT") || has("EXCEPT") {
            hit(
                "intersect_or_except",
                id,
                at(if has("INTERSECT") {
                    "INTERSECT"
                } else {
                    "EXCEPT"
                }),
            );
        }
        let union_input = node.refs.iter().find(|r| {
            dag.node(r)
                .is_some_and(|n| n.flags.iter().any(|f| f == "UNION"))
        });
        if has("GROUP_BY") {
            if let Some(r) = union_input {
                hit(
                    "aggregate_over_union",
                    id,
                    at(&format!("GROUP BY over `{r}` (a UNION)")),
                );
            } else if has("UNION") && has("DERIVED_TABLE") {
                hit(
                    "aggregate_over_union",
                    id,
                    at("GROUP BY over a UNION in a derived table"),
                );
            }
        }
        if has("ROLLUP") {
            hit("rollup", id, at("ROLLUP"));
        }
        if has("OUTER_JOIN") {
            hit("outer_join", id, at("outer join"));
        }
        if has("DISTINCT") {
            if let Some(w) = redundant_distinct(&node.sql, dag.engine) {
                hit("redundant_distinct", id, at(&format!("DISTINCT with {w}")));
            }
        }
        let filters: Vec<BTreeSet<String>> = node
            .contract
            .predicates
            .iter()
            .filter_map(|p| literal_filter(p))
            .collect();
        if node.joins >= 2 && !filters.is_empty() {
            let cols: BTreeSet<&String> = filters.iter().flatten().collect();
            let cols: Vec<&str> = cols.into_iter().map(|s| s.as_str()).take(4).collect();
            hit(
                "late_dimension_filter",
                id,
                at(&format!(
                    "filters on {} in a {}-way join",
                    cols.join(", "),
                    node.joins + 1
                )),
            );
        }
        if has("GROUP_BY") && node.joins >= 1 {
            hit(
                "aggregation_after_join",
                id,
                at(&format!("GROUP BY over a {}-way join", node.joins + 1)),
            );
        }
        if node.joins >= 1 {
            let dates: BTreeSet<&String> =
                filters.iter().flatten().filter(|c| date_like(c)).collect();
            if !dates.is_empty() {
                let d: Vec<&str> = dates.into_iter().map(|s| s.as_str()).collect();
                hit(
                    "date_range_filter",
                    id,
                    at(&format!("range on {}", d.join(", "))),
                );
            }
        }
    }
    // Repeated reads across the whole query (any node).
    let shares = plan.map(|p| &p.table_time_share).filter(|s| !s.is_empty());
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for s in dag.nodes.iter().flat_map(|n| &n.scans) {
        *counts.entry(s).or_default() += 1;
    }
    let is_cte = |name: &str| {
        dag.nodes
            .iter()
            .any(|n| n.kind == NodeKind::Cte && n.id.eq_ignore_ascii_case(name))
    };
    let costly = |name: &str| match shares {
        None => true,
        Some(s) => s
            .iter()
            .any(|(t, v)| t.eq_ignore_ascii_case(name) && *v >= REPEATED_SCAN_MIN_SHARE),
    };
    let repeated: Vec<(&str, usize)> = counts
        .into_iter()
        .filter(|(name, c)| *c > 1 && (is_cte(name) || costly(name)))
        .collect();
    if !repeated.is_empty() {
        for id in &dag.order {
            let reads =
                |n: &super::Node| n.scans.iter().any(|s| repeated.iter().any(|(r, _)| r == s));
            if dag.node(id).is_some_and(reads) {
                hit("repeated_scan", id, String::new());
            }
        }
        found.entry("repeated_scan").or_default().1 = repeated
            .iter()
            .map(|(name, c)| format!("{name} read {c} times"))
            .collect();
    }
    if let Some(p) = plan {
        let largest = p.scans.iter().max_by_key(|s| s.rows_scanned);
        if largest.is_some_and(|s| {
            s.rows_scanned > 0 && (s.rows_kept as f64) <= EARLY_FILTER_KEEP * s.rows_scanned as f64
        }) {
            found.remove("late_dimension_filter");
        }
    }
    PATTERNS
        .iter()
        .filter_map(|def| {
            let (nodes, whys) = found.remove(def.name)?;
            Some(PatternHit {
                name: def.name.to_string(),
                nodes,
                why: whys.join("; "),
            })
        })
        .collect()
}

/// Relations that one SELECT block of `sql` lists twice in its own FROM (a self-join;
/// reads inside WHERE/SELECT subqueries do not count). Blocks are the node's SELECTs,
/// set-operation branches and derived tables. SQL that does not parse gives none.
fn self_joined(sql: &str, engine: crate::db::Engine) -> Vec<String> {
    let Ok(stmts) = super::parse::parse_statements_for(sql, engine) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for st in &stmts {
        if let Statement::Query(q) = st {
            self_joined_in_set(&q.body, &mut out);
        }
    }
    out
}

fn self_joined_in_set(s: &SetExpr, out: &mut Vec<String>) {
    match s {
        SetExpr::Select(sel) => {
            let mut names = Vec::new();
            for twj in &sel.from {
                from_factor(&twj.relation, &mut names, out);
                for j in &twj.joins {
                    from_factor(&j.relation, &mut names, out);
                }
            }
            for (i, n) in names.iter().enumerate() {
                if names[..i].contains(n) && !out.contains(n) {
                    out.push(n.clone());
                }
            }
        }
        SetExpr::Query(q) => self_joined_in_set(&q.body, out),
        SetExpr::SetOperation { left, right, .. } => {
            self_joined_in_set(left, out);
            self_joined_in_set(right, out);
        }
        _ => {}
    }
}

/// What makes a SELECT DISTINCT of `sql` redundant, if anything: a GROUP BY in the same
/// SELECT, or a deduplicating set operation (UNION, INTERSECT, EXCEPT without ALL)
/// directly over it. Looks at the node's SELECTs, set-operation branches and derived
/// tables, not into WHERE/SELECT subqueries (a DISTINCT there is a different SELECT).
fn redundant_distinct(sql: &str, engine: crate::db::Engine) -> Option<&'static str> {
    let stmts = super::parse::parse_statements_for(sql, engine).ok()?;
    stmts.iter().find_map(|st| match st {
        Statement::Query(q) => distinct_in_set(&q.body, None),
        _ => None,
    })
}

/// `dedup_above`: the deduplicating set operation this block is a direct branch of.
fn distinct_in_set(s: &SetExpr, dedup_above: Option<&'static str>) -> Option<&'static str> {
    match s {
        SetExpr::Select(sel) => {
            let grouped = match &sel.group_by {
                GroupByExpr::All(_) => true,
                GroupByExpr::Expressions(exprs, _) => !exprs.is_empty(),
            };
            let here = match (sel.distinct.is_some(), grouped, dedup_above) {
                (true, true, _) => Some("GROUP BY"),
                (true, false, Some(op)) => Some(op),
                _ => None,
            };
            here.or_else(|| {
                let factors = sel.from.iter().flat_map(|t| {
                    std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation))
                });
                factors
                    .filter_map(derived_body)
                    .find_map(|b| distinct_in_set(b, None))
            })
        }
        SetExpr::Query(q) => distinct_in_set(&q.body, dedup_above),
        SetExpr::SetOperation {
            op,
            set_quantifier,
            left,
            right,
        } => {
            let all = matches!(
                set_quantifier,
                SetQuantifier::All | SetQuantifier::AllByName
            );
            let dedup = match op {
                _ if all => None,
                SetOperator::Union => Some("UNION"),
                SetOperator::Intersect => Some("INTERSECT"),
                SetOperator::Except => Some("EXCEPT"),
                _ => None,
            };
            distinct_in_set(left, dedup).or_else(|| distinct_in_set(right, dedup))
        }
        _ => None,
    }
}

fn derived_body(tf: &TableFactor) -> Option<&SetExpr> {
    match tf {
        TableFactor::Derived { subquery, .. } => Some(&subquery.body),
        _ => None,
    }
}

fn from_factor(tf: &TableFactor, names: &mut Vec<String>, out: &mut Vec<String>) {
    match tf {
        TableFactor::Table {
            name, args: None, ..
        } => names.push(super::walk::object_last(name)),
        TableFactor::Derived { subquery, .. } => self_joined_in_set(&subquery.body, out),
        TableFactor::NestedJoin {
            table_with_joins, ..
        } => {
            from_factor(&table_with_joins.relation, names, out);
            for j in &table_with_joins.joins {
                from_factor(&j.relation, names, out);
            }
        }
        _ => {}
    }
}
