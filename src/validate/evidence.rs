//! How much a match proves: the original's rows, over every data instance, that carry a
//! value a wrong candidate could get wrong. A pass needs at least `validation.min_rows`
//! of them; fewer is `inconclusive/thin_evidence`, never a pass (a candidate that matched
//! one row on one instance and nothing elsewhere was lucky, not checked).
//!
//! A row counts when it holds a value that is not NULL, not a numeric zero, and in a
//! column that is not a constant of the query's select list (`'store' AS channel` is the
//! same whatever the data). A zero alone is what an aggregate over nothing returns
//! (`count(*)` of no rows): a candidate matching `(0, NULL)` matched an empty input.
//! Summed over instances: a one-row aggregate on four instances is four rows of evidence.
//!
//! Only counts; deciding the verdict is `instances.rs`'s job.

use sqlparser::ast::{Expr, SelectItem, SetExpr, Statement};

use super::{Cell, ResultSet};

/// The default `validation.min_rows`.
pub const DEFAULT_MIN_ROWS: usize = 2;

/// Per output column: is it a literal in every branch of the top-level SELECT? Unknown
/// shapes (sqlparser cannot read the SQL, `*`, column counts that do not line up) give
/// all `false`: every column then counts.
pub fn constant_columns(sql: &str, ncols: usize) -> Vec<bool> {
    let none = vec![false; ncols];
    let Ok(stmt) = crate::validate::rebind::parse_one(sql) else { return none };
    let Statement::Query(q) = stmt else { return none };
    match constants(&q.body) {
        Some(v) if v.len() == ncols => v,
        _ => none,
    }
}

fn constants(body: &SetExpr) -> Option<Vec<bool>> {
    match body {
        SetExpr::Select(s) => s
            .projection
            .iter()
            .map(|item| match item {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => Some(is_literal(e)),
                _ => None,
            })
            .collect(),
        SetExpr::SetOperation { left, right, .. } => {
            let (l, r) = (constants(left)?, constants(right)?);
            (l.len() == r.len()).then(|| l.iter().zip(&r).map(|(a, b)| *a && *b).collect())
        }
        SetExpr::Query(q) => constants(&q.body),
        _ => None,
    }
}

fn is_literal(e: &Expr) -> bool {
    match e {
        Expr::Value(_) | Expr::TypedString(_) => true,
        Expr::Nested(i) | Expr::Cast { expr: i, .. } | Expr::UnaryOp { expr: i, .. } => is_literal(i),
        _ => false,
    }
}

/// Rows of `r` with a non-NULL, non-zero value in a non-constant column.
pub fn evidence_rows(r: &ResultSet, constant: &[bool]) -> usize {
    r.rows
        .iter()
        .filter(|row| row.iter().enumerate().any(|(i, c)| telling(c) && !constant.get(i).copied().unwrap_or(false)))
        .count()
}

/// A value a wrong candidate could get wrong on this data: not NULL, not a numeric zero.
fn telling(c: &Cell) -> bool {
    !matches!(c, Cell::Null | Cell::Int(0) | Cell::Decimal { value: 0, .. }) && !matches!(c, Cell::Float(f) if *f == 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_columns_do_not_count() {
        let sql = "select 'store' as channel, sum(x) as s from t union all select 'web', sum(y) from u";
        assert_eq!(constant_columns(sql, 2), vec![true, false]);
        let r = ResultSet {
            columns: Vec::new(),
            rows: vec![vec![Cell::Text("store".into()), Cell::Null], vec![Cell::Text("web".into()), Cell::Int(3)]],
        };
        assert_eq!(evidence_rows(&r, &constant_columns(sql, 2)), 1);
        assert_eq!(constant_columns("select * from t", 3), vec![false; 3]);
        let zeros = ResultSet { columns: Vec::new(), rows: vec![vec![Cell::Int(0), Cell::Null, Cell::Float(0.0)]] };
        assert_eq!(evidence_rows(&zeros, &[false; 3]), 0, "an aggregate over nothing");
    }
}
