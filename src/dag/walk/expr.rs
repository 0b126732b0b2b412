//! Expression half of the walker: subqueries inside expressions (scalar, IN, EXISTS),
//! correlation, and the expression variants that can hold columns or subqueries.
//! Variants not listed (JSON access, MATCH ...) are skipped on purpose.

use super::Walker;
use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, InTarget, Query, WindowType,
};
use std::collections::BTreeSet;

impl Walker<'_> {
    /// Walk an expression subquery: flag it, decide whether it is correlated.
    fn walk_subquery(&mut self, q: &Query, flag: &'static str) {
        self.flags.insert(flag);
        let mut probe = Walker {
            cte_names: self.cte_names,
            columns: self.columns,
            ..Default::default()
        };
        probe.walk_query(q);
        let outer: BTreeSet<&String> = self.scopes.iter().flatten().collect();
        let qualified = probe
            .qualifiers
            .iter()
            .any(|q| !probe.aliases.contains(q) && outer.contains(q));
        if qualified || self.unqualified_outer_column(&probe, &outer) {
            self.flags.insert("CORRELATED");
        }
        self.walk_query(q);
    }

    /// With known columns: does the subquery use a bare column that none of its own
    /// relations has but an outer table has? Only decided when every relation inside
    /// the subquery is a base table with known columns.
    fn unqualified_outer_column(&self, probe: &Walker, outer: &BTreeSet<&String>) -> bool {
        let Some(columns) = self.columns.filter(|c| !c.is_empty()) else {
            return false;
        };
        let inner_known = probe.refs.is_empty()
            && !probe.flags.contains("DERIVED_TABLE")
            && !probe.flags.contains("NESTED_WITH")
            && probe.tables.iter().all(|t| columns.contains_key(t));
        if !inner_known {
            return false;
        }
        probe.idents.iter().any(|id| {
            !probe.tables.iter().any(|t| columns[t].contains(id))
                && outer
                    .iter()
                    .any(|o| columns.get(*o).is_some_and(|c| c.contains(id)))
        })
    }

    fn walk_exprs<'e>(&mut self, exprs: impl IntoIterator<Item = &'e Expr>) {
        exprs.into_iter().for_each(|e| self.walk_expr(e));
    }

    pub(super) fn walk_expr(&mut self, e: &Expr) {
        match e {
            Expr::Identifier(id) => {
                self.idents.insert(id.value.to_lowercase());
            }
            Expr::CompoundIdentifier(ids) if ids.len() >= 2 => {
                self.qualifiers
                    .insert(ids[ids.len() - 2].value.to_lowercase());
            }
            Expr::Subquery(q) => self.walk_subquery(q, "SCALAR_SUBQUERY"),
            Expr::In { expr, target, .. } => {
                self.walk_expr(expr);
                match target {
                    InTarget::Subquery(q) => self.walk_subquery(q, "IN_SUBQUERY"),
                    InTarget::List(list) => {
                        self.flags.insert("IN_LIST");
                        self.walk_exprs(list);
                    }
                    InTarget::Unnest(e) => self.walk_expr(e),
                    _ => {}
                }
            }
            Expr::Exists { subquery, .. } => self.walk_subquery(subquery, "EXISTS"),
            Expr::Function(f) => {
                if f.over.is_some() {
                    self.flags.insert("WINDOW");
                }
                if let FunctionArguments::List(list) = &f.args {
                    for arg in &list.args {
                        let a = match arg {
                            FunctionArg::Named { arg, .. }
                            | FunctionArg::ExprNamed { arg, .. }
                            | FunctionArg::Unnamed(arg) => arg,
                        };
                        if let FunctionArgExpr::Expr(x) = a {
                            self.walk_expr(x);
                        }
                    }
                } else if let FunctionArguments::Subquery(q) = &f.args {
                    self.walk_subquery(q, "SCALAR_SUBQUERY");
                }
                if let Some(filter) = &f.filter {
                    self.walk_expr(filter);
                }
                if let Some(WindowType::WindowSpec(spec)) = &f.over {
                    self.walk_exprs(&spec.partition_by);
                    spec.order_by.iter().for_each(|o| self.walk_expr(&o.expr));
                }
            }
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                self.flags.insert("CASE");
                operand.iter().for_each(|o| self.walk_expr(o));
                for c in conditions {
                    self.walk_expr(&c.condition);
                    self.walk_expr(&c.result);
                }
                else_result.iter().for_each(|o| self.walk_expr(o));
            }
            Expr::GroupingSets(sets) | Expr::Cube(sets) | Expr::Rollup(sets) => {
                self.flags.insert("ROLLUP");
                sets.iter().flatten().for_each(|x| self.walk_expr(x));
            }
            Expr::BinaryOp { left, right, .. }
            | Expr::IsDistinctFrom(left, right)
            | Expr::IsNotDistinctFrom(left, right)
            | Expr::AnyOp { left, right, .. }
            | Expr::AllOp { left, right, .. } => {
                self.walk_expr(left);
                self.walk_expr(right);
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                self.walk_exprs([&**expr, &**low, &**high]);
            }
            Expr::Like { expr, pattern, .. }
            | Expr::ILike { expr, pattern, .. }
            | Expr::SimilarTo { expr, pattern, .. }
            | Expr::RLike { expr, pattern, .. } => {
                self.walk_expr(expr);
                self.walk_expr(pattern);
            }
            Expr::UnaryOp { expr, .. }
            | Expr::Nested(expr)
            | Expr::Cast { expr, .. }
            | Expr::IsNull(expr)
            | Expr::IsNotNull(expr)
            | Expr::IsTrue(expr)
            | Expr::IsFalse(expr)
            | Expr::IsNotTrue(expr)
            | Expr::IsNotFalse(expr)
            | Expr::IsUnknown(expr)
            | Expr::IsNotUnknown(expr)
            | Expr::Extract { expr, .. }
            | Expr::Ceil { expr, .. }
            | Expr::Floor { expr, .. }
            | Expr::Collate { expr, .. }
            | Expr::Named { expr, .. }
            | Expr::Trim { expr, .. } => self.walk_expr(expr),
            Expr::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                self.walk_expr(expr);
                substring_from.iter().for_each(|x| self.walk_expr(x));
                substring_for.iter().for_each(|x| self.walk_expr(x));
            }
            Expr::AtTimeZone {
                timestamp,
                time_zone,
            } => {
                self.walk_expr(timestamp);
                self.walk_expr(time_zone);
            }
            Expr::Tuple(list) => self.walk_exprs(list),
            Expr::Interval(iv) => self.walk_expr(&iv.value),
            _ => {}
        }
    }
}
