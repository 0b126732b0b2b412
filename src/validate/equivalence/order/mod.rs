//! What ordering promise the ORIGINAL query makes, read from its top level with sqlparser:
//! the ORDER BY keys mapped to output columns, and any LIMIT/OFFSET window.
//!
//! Sort keys map to output columns by position (`ORDER BY 2`), by alias or unique output
//! name (`ORDER BY total`), or by matching a select-list expression textually
//! (`ORDER BY sum(x)` with `SELECT sum(x)`). Mapping stops at the first key that cannot be
//! mapped (a hidden column, an expression not in the select list): only the mapped prefix
//! is checked as a sort order, and `equivalence.rs` never passes a candidate whose order
//! on the unmapped keys it could not verify (it then requires the exact original order,
//! or reports `inconclusive`).
//!
//! Unmapped keys are not given up on: [`Exposure`]s are the original with those keys
//! added to its select list (how DuckDB itself binds ORDER BY expressions), or, for set
//! operations and DISTINCT, wrapped as `SELECT *, key .. FROM (original) ORDER BY ..`.
//!
//! It does not compare rows; it only describes the promise.

mod text;

use sqlparser::ast::{
    Expr, LimitClause, OrderByKind, Query, SelectItem, SetExpr, Statement, Value,
};
use sqlparser::dialect::DuckDbDialect;
use sqlparser::parser::Parser;

/// The ordering/limit promise of the original query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderSpec {
    /// The original has a top-level ORDER BY.
    pub ordered: bool,
    /// Output column index of each mapped sort key (a prefix of the ORDER BY list).
    pub key_cols: Vec<usize>,
    /// Sort keys from the first unmappable one on, as written.
    pub unmapped: Vec<String>,
    /// Top-level LIMIT (or FETCH FIRST n), when present.
    pub limit: Option<u64>,
    /// Top-level OFFSET (0 when absent).
    pub offset: u64,
    /// LIMIT/OFFSET are present but not plain numbers: the window cannot be reasoned about.
    pub window_unknown: bool,
    /// The original without LIMIT/OFFSET/FETCH, used to see whole tie groups.
    pub unlimited_sql: Option<String>,
    /// Read from the text (sqlparser could not read the original): keys that cannot be
    /// computed are then compared as a multiset, with a note, instead of refused.
    pub text_only: bool,
    /// Ways to run the original with its unmapped sort keys exposed as extra trailing
    /// output columns (`sortkeys.rs` runs them, first that works wins).
    pub exposures: Vec<Exposure>,
}

/// The original rewritten to also return its unmapped sort keys (`keys` extra columns).
#[derive(Debug, Clone, PartialEq)]
pub struct Exposure {
    pub sql: String,
    /// The same without LIMIT/OFFSET/FETCH (when the original has a window).
    pub unlimited_sql: Option<String>,
    pub keys: usize,
}

impl OrderSpec {
    pub fn has_window(&self) -> bool {
        self.limit.is_some() || self.offset > 0 || self.window_unknown
    }
}

/// Describe `original_sql`'s ordering promise; `columns` are the names DuckDB gave its
/// output columns. An original sqlparser cannot read is read from its text
/// (`order_text.rs`).
pub fn analyze(original_sql: &str, columns: &[String]) -> OrderSpec {
    let query = match Parser::parse_sql(&DuckDbDialect {}, original_sql)
        .ok()
        .as_deref()
    {
        Some([Statement::Query(q)]) => q.clone(),
        _ => return text::analyze_text(original_sql, columns),
    };
    let mut spec = OrderSpec::default();
    read_window(&query, &mut spec);
    if let Some(order_by) = &query.order_by {
        spec.ordered = true;
        let projection = match query.body.as_ref() {
            SetExpr::Select(s) => s.projection.clone(),
            _ => Vec::new(),
        };
        let keys: Vec<Expr> = match &order_by.kind {
            OrderByKind::All(_) => {
                spec.key_cols = (0..columns.len()).collect();
                Vec::new()
            }
            OrderByKind::Expressions(list) => list.iter().map(|o| o.expr.clone()).collect(),
        };
        for (i, key) in keys.iter().enumerate() {
            match map_key(key, &projection, columns) {
                Some(col) => spec.key_cols.push(col),
                None => {
                    spec.unmapped = keys[i..].iter().map(|k| k.to_string()).collect();
                    spec.exposures = exposures(&query, &keys[i..], spec.has_window());
                    break;
                }
            }
        }
    }
    if spec.has_window() {
        let mut unlimited = (*query).clone();
        unlimited.limit_clause = None;
        unlimited.fetch = None;
        spec.unlimited_sql = Some(unlimited.to_string());
    }
    spec
}

/// The original returning `keys` as extra trailing columns `__qt_key_N`, two ways.
fn exposures(query: &Query, keys: &[Expr], window: bool) -> Vec<Exposure> {
    let unlimited = |q: &Query| {
        window.then(|| {
            let mut u = q.clone();
            u.limit_clause = None;
            u.fetch = None;
            u.to_string()
        })
    };
    let alias = |n: usize| sqlparser::ast::Ident::new(format!("__qt_key_{n}"));
    let mut out = Vec::new();
    // 1. Into the select list, as DuckDB binds ORDER BY expressions (sees hidden columns).
    if let SetExpr::Select(sel) = query.body.as_ref() {
        if sel.distinct.is_none() {
            let mut q = query.clone();
            if let SetExpr::Select(sel) = q.body.as_mut() {
                for (n, k) in keys.iter().enumerate() {
                    sel.projection.push(SelectItem::ExprWithAlias {
                        expr: k.clone(),
                        alias: alias(n),
                    });
                }
            }
            out.push(Exposure {
                sql: q.to_string(),
                unlimited_sql: unlimited(&q),
                keys: keys.len(),
            });
        }
    }
    // 2. Around the query: keys over output columns (set operations, DISTINCT).
    let mut inner = query.clone();
    inner.order_by = None;
    inner.limit_clause = None;
    inner.fetch = None;
    let extra: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(n, k)| format!("{k} AS {}", alias(n)))
        .collect();
    let order = query.order_by.as_ref().map(|o| o.to_string()).unwrap_or_default();
    let head = format!("SELECT *, {} FROM ({inner}) AS __qt_src {order}", extra.join(", "));
    let tail = match (&query.limit_clause, &query.fetch) {
        (Some(l), _) => l.to_string(),
        (None, Some(f)) => format!(" {f}"),
        (None, None) => String::new(),
    };
    out.push(Exposure {
        sql: format!("{head}{tail}"),
        unlimited_sql: window.then(|| head.clone()),
        keys: keys.len(),
    });
    out
}

fn read_window(query: &Query, spec: &mut OrderSpec) {
    let number = |e: &Expr| match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse::<u64>().ok(),
            _ => None,
        },
        _ => None,
    };
    match &query.limit_clause {
        Some(LimitClause::LimitOffset {
            limit,
            offset,
            limit_by,
        }) => {
            if !limit_by.is_empty() {
                spec.window_unknown = true;
            }
            if let Some(l) = limit {
                match number(l) {
                    Some(n) => spec.limit = Some(n),
                    None => spec.window_unknown = true,
                }
            }
            if let Some(o) = offset {
                match number(&o.value) {
                    Some(n) => spec.offset = n,
                    None => spec.window_unknown = true,
                }
            }
        }
        Some(LimitClause::OffsetCommaLimit { offset, limit }) => {
            match (number(offset), number(limit)) {
                (Some(o), Some(l)) => {
                    spec.offset = o;
                    spec.limit = Some(l);
                }
                _ => spec.window_unknown = true,
            }
        }
        None => {}
    }
    if let Some(fetch) = &query.fetch {
        match fetch.quantity.as_ref().and_then(number) {
            Some(n) if !fetch.percent && !fetch.with_ties => {
                spec.limit = Some(spec.limit.map_or(n, |l| l.min(n)));
            }
            _ => spec.window_unknown = true,
        }
    }
}

/// Output column index a sort key refers to, if it can be determined unambiguously.
fn map_key(key: &Expr, projection: &[SelectItem], columns: &[String]) -> Option<usize> {
    let key = strip_nested(key);
    // Positions in the select list equal output positions only without wildcards.
    let positional = !projection.is_empty()
        && projection.len() == columns.len()
        && projection.iter().all(|p| {
            matches!(
                p,
                SelectItem::UnnamedExpr(_) | SelectItem::ExprWithAlias { .. }
            )
        });
    if let Expr::Value(v) = key {
        if let Value::Number(n, _) = &v.value {
            let pos = n.parse::<usize>().ok()?;
            return (1..=columns.len()).contains(&pos).then(|| pos - 1);
        }
        return None;
    }
    if let Expr::Identifier(id) = key {
        if positional {
            let by_alias: Vec<usize> = projection
                .iter()
                .enumerate()
                .filter(|(_, p)| matches!(p, SelectItem::ExprWithAlias { alias, .. } if alias.value.eq_ignore_ascii_case(&id.value)))
                .map(|(i, _)| i)
                .collect();
            if by_alias.len() == 1 {
                return Some(by_alias[0]);
            }
        }
        let by_name: Vec<usize> = columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.eq_ignore_ascii_case(&id.value))
            .map(|(i, _)| i)
            .collect();
        if by_name.len() == 1 {
            return Some(by_name[0]);
        }
        if by_name.len() > 1 {
            return None;
        }
    }
    if positional {
        let text = key.to_string().to_lowercase();
        let hits: Vec<usize> = projection
            .iter()
            .enumerate()
            .filter(|(_, p)| match p {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                    strip_nested(e).to_string().to_lowercase() == text
                }
                _ => false,
            })
            .map(|(i, _)| i)
            .collect();
        if let Some(first) = hits.first() {
            // Several identical expressions hold identical values: any of them will do.
            return Some(*first);
        }
    }
    None
}

fn strip_nested(e: &Expr) -> &Expr {
    match e {
        Expr::Nested(inner) => strip_nested(inner),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn no_order_no_window() {
        let s = analyze("SELECT a, b FROM t", &cols(&["a", "b"]));
        assert!(!s.ordered && !s.has_window() && s.unlimited_sql.is_none());
    }

    #[test]
    fn keys_map_by_position_alias_name_and_expression() {
        let c = cols(&["a", "total", "sum(x)"]);
        let s = analyze(
            "SELECT t.a, sum(y) AS total, sum(x) FROM t GROUP BY 1 ORDER BY 2 DESC, a, total, t.a, sum(x) LIMIT 10",
            &c,
        );
        assert!(s.ordered);
        assert_eq!(s.key_cols, vec![1, 0, 1, 0, 2]);
        assert!(s.unmapped.is_empty());
        assert_eq!(s.limit, Some(10));
        let un = s.unlimited_sql.unwrap();
        assert!(!un.to_lowercase().contains("limit"), "{un}");
        assert!(un.to_lowercase().contains("order by"), "{un}");
    }

    #[test]
    fn hidden_sort_key_stops_the_mapping() {
        let s = analyze("SELECT a FROM t ORDER BY a, b, a", &cols(&["a"]));
        assert_eq!(s.key_cols, vec![0]);
        assert_eq!(s.unmapped, vec!["b".to_string(), "a".to_string()]);
        let e = &s.exposures;
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].sql, "SELECT a, b AS __qt_key_0, a AS __qt_key_1 FROM t ORDER BY a, b, a");
        assert!(e[1].sql.starts_with("SELECT *, b AS __qt_key_0, a AS __qt_key_1 FROM (SELECT a FROM t)"), "{}", e[1].sql);
        assert_eq!(e[0].keys, 2);
        let s = analyze("SELECT a FROM t UNION SELECT b FROM u ORDER BY a + 1 LIMIT 3", &cols(&["a"]));
        assert_eq!(s.exposures.len(), 1);
        assert!(s.exposures[0].sql.ends_with("ORDER BY a + 1 LIMIT 3"), "{}", s.exposures[0].sql);
        assert!(!s.exposures[0].unlimited_sql.as_deref().unwrap().contains("LIMIT"));
    }

    #[test]
    fn offsets_and_unknown_windows() {
        let s = analyze("SELECT a FROM t ORDER BY a LIMIT 5 OFFSET 3", &cols(&["a"]));
        assert_eq!((s.limit, s.offset, s.window_unknown), (Some(5), 3, false));
        let s = analyze("SELECT a FROM t ORDER BY a LIMIT (SELECT 2)", &cols(&["a"]));
        assert!(s.window_unknown);
    }

    #[test]
    fn order_by_all_and_cte_queries() {
        let s = analyze(
            "WITH c AS (SELECT 1 AS a, 2 AS b) SELECT * FROM c ORDER BY ALL",
            &cols(&["a", "b"]),
        );
        assert_eq!(s.key_cols, vec![0, 1]);
        let s = analyze(
            "WITH c AS (SELECT 1 AS a) SELECT * FROM c ORDER BY a LIMIT 1",
            &cols(&["a"]),
        );
        assert_eq!(s.key_cols, vec![0]);
    }
}
