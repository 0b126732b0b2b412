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
//! It does not compare rows; it only describes the promise.

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
}

impl OrderSpec {
    pub fn has_window(&self) -> bool {
        self.limit.is_some() || self.offset > 0 || self.window_unknown
    }
}

/// Describe `original_sql`'s ordering promise; `columns` are the names DuckDB gave its
/// output columns. An unparsable original gives the most conservative spec (treated as
/// ordered with no mappable key, so only the exact original order can pass).
pub fn analyze(original_sql: &str, columns: &[String]) -> OrderSpec {
    let query = match Parser::parse_sql(&DuckDbDialect {}, original_sql)
        .ok()
        .as_deref()
    {
        Some([Statement::Query(q)]) => q.clone(),
        _ => {
            return OrderSpec {
                ordered: true,
                unmapped: vec!["<original could not be parsed>".into()],
                ..OrderSpec::default()
            };
        }
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
