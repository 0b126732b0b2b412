//! One pass over a sqlparser `Query` that collects the facts a DAG node needs: the
//! relations it reads (CTEs vs base tables), structural flags, join counts and whether
//! expression subqueries are correlated.
//!
//! sqlparser is built without its `visitor` feature, so this walks the AST by hand. It
//! covers every clause of SELECT / set operations / FROM and the expression variants that
//! can carry subqueries or columns in analytic SQL; exotic variants (JSON access, MATCH ...)
//! are skipped on purpose: missing a flag there is harmless, the SQL itself is untouched.
//!
//! Correlation is detected from *qualified* column references only (`outer_alias.col`
//! inside a subquery whose own FROM does not define `outer_alias`). Unqualified correlated
//! references cannot be resolved without the schema and are not reported.

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, JoinConstraint,
    JoinOperator, ObjectName, ObjectNamePart, Query, Select, SelectItem, SetExpr, SetOperator,
    SetQuantifier, TableFactor, WindowType,
};
use std::collections::BTreeSet;

/// Facts about one query (a node body), collected by [`Walker::walk_query`].
#[derive(Debug, Default)]
pub(crate) struct Walker<'a> {
    /// Top-level CTE names (lowercase) of the statement: reads of these are `refs`.
    pub cte_names: Option<&'a BTreeSet<String>>,
    /// CTE names defined by WITH clauses nested inside the node (shadow everything).
    local_ctes: Vec<BTreeSet<String>>,
    /// Referenced CTEs, in first-seen order, without duplicates.
    pub refs: Vec<String>,
    /// Base tables, in first-seen order, without duplicates.
    pub tables: Vec<String>,
    /// Every relation read (CTE or base table), with duplicates: repeated scans.
    pub scans: Vec<String>,
    /// Names that FROM clauses inside this query define (tables and aliases).
    aliases: BTreeSet<String>,
    /// Qualifiers used in compound identifiers (`x` in `x.col`).
    qualifiers: BTreeSet<String>,
    /// Names visible from enclosing SELECTs while walking (for correlation).
    scopes: Vec<BTreeSet<String>>,
    pub flags: BTreeSet<&'static str>,
    /// Number of explicit joins plus extra comma-separated FROM items.
    pub joins: usize,
}

/// Lowercased last part of an object name (`schema.table` -> `table`).
pub(crate) fn object_last(name: &ObjectName) -> String {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(id)) => id.value.to_lowercase(),
        Some(ObjectNamePart::Function(f)) => f.name.value.to_lowercase(),
        None => String::new(),
    }
}

fn push_unique(list: &mut Vec<String>, name: &str) {
    if !list.iter().any(|n| n == name) {
        list.push(name.to_string());
    }
}

impl<'a> Walker<'a> {
    pub fn new(cte_names: &'a BTreeSet<String>) -> Self {
        Walker { cte_names: Some(cte_names), ..Default::default() }
    }

    pub fn walk_query(&mut self, q: &Query) {
        let mut pushed = false;
        if let Some(with) = &q.with {
            let names = with.cte_tables.iter().map(|c| c.alias.name.value.to_lowercase());
            self.local_ctes.push(names.collect());
            pushed = true;
            self.flags.insert("NESTED_WITH");
            for cte in &with.cte_tables {
                self.walk_query(&cte.query);
            }
        }
        self.walk_set(&q.body);
        if q.order_by.is_some() {
            self.flags.insert("ORDER_BY");
        }
        if q.limit_clause.is_some() || q.fetch.is_some() {
            self.flags.insert("LIMIT");
        }
        if pushed {
            self.local_ctes.pop();
        }
    }

    fn walk_set(&mut self, s: &SetExpr) {
        match s {
            SetExpr::Select(sel) => self.walk_select(sel),
            SetExpr::Query(q) => self.walk_query(q),
            SetExpr::SetOperation { op, set_quantifier, left, right } => {
                self.flags.insert(match op {
                    SetOperator::Union => "UNION",
                    SetOperator::Intersect => "INTERSECT",
                    SetOperator::Except | SetOperator::Minus => "EXCEPT",
                });
                if matches!(op, SetOperator::Union)
                    && matches!(set_quantifier, SetQuantifier::All | SetQuantifier::AllByName)
                {
                    self.flags.insert("UNION_ALL");
                }
                self.walk_set(left);
                self.walk_set(right);
            }
            SetExpr::Values(v) => v.rows.iter().flatten().for_each(|e| self.walk_expr(e)),
            _ => {}
        }
    }

    fn walk_select(&mut self, s: &Select) {
        // Names this SELECT's FROM defines are visible to subqueries in its expressions.
        let mut scope = BTreeSet::new();
        for twj in &s.from {
            collect_names(&twj.relation, &mut scope);
            twj.joins.iter().for_each(|j| collect_names(&j.relation, &mut scope));
        }
        self.aliases.extend(scope.iter().cloned());
        self.scopes.push(scope);

        if s.from.len() > 1 {
            self.joins += s.from.len() - 1;
        }
        for twj in &s.from {
            self.walk_factor(&twj.relation);
            for j in &twj.joins {
                self.joins += 1;
                let constraint = match &j.join_operator {
                    JoinOperator::Left(c)
                    | JoinOperator::LeftOuter(c)
                    | JoinOperator::Right(c)
                    | JoinOperator::RightOuter(c)
                    | JoinOperator::FullOuter(c) => {
                        self.flags.insert("OUTER_JOIN");
                        Some(c)
                    }
                    JoinOperator::Join(c)
                    | JoinOperator::Inner(c)
                    | JoinOperator::CrossJoin(c)
                    | JoinOperator::Semi(c)
                    | JoinOperator::LeftSemi(c)
                    | JoinOperator::RightSemi(c)
                    | JoinOperator::Anti(c)
                    | JoinOperator::LeftAnti(c)
                    | JoinOperator::RightAnti(c)
                    | JoinOperator::StraightJoin(c) => Some(c),
                    JoinOperator::AsOf { constraint, .. } => Some(constraint),
                    JoinOperator::CrossApply | JoinOperator::OuterApply => None,
                };
                if let Some(JoinConstraint::On(e)) = constraint {
                    self.walk_expr(e);
                }
                self.walk_factor(&j.relation);
            }
        }
        if s.distinct.is_some() {
            self.flags.insert("DISTINCT");
        }
        for item in &s.projection {
            match item {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                    self.walk_expr(e)
                }
                _ => {}
            }
        }
        if let Some(w) = &s.selection {
            if has_or(w) {
                self.flags.insert("OR_IN_WHERE");
            }
            self.walk_expr(w);
        }
        if let GroupByExpr::Expressions(exprs, _) = &s.group_by {
            if !exprs.is_empty() {
                self.flags.insert("GROUP_BY");
            }
            exprs.iter().for_each(|e| self.walk_expr(e));
        } else {
            self.flags.insert("GROUP_BY");
        }
        if let Some(h) = &s.having {
            self.flags.insert("HAVING");
            self.walk_expr(h);
        }
        if let Some(q) = &s.qualify {
            self.flags.insert("QUALIFY");
            self.walk_expr(q);
        }
        if !s.named_window.is_empty() {
            self.flags.insert("WINDOW");
        }
        self.scopes.pop();
    }

    fn walk_factor(&mut self, tf: &TableFactor) {
        match tf {
            TableFactor::Table { name, args, .. } => {
                if args.is_some() {
                    return; // table function, not a relation
                }
                let n = object_last(name);
                if self.local_ctes.iter().any(|s| s.contains(&n)) {
                    self.scans.push(n);
                } else if self.cte_names.is_some_and(|c| c.contains(&n)) {
                    push_unique(&mut self.refs, &n);
                    self.scans.push(n);
                } else {
                    push_unique(&mut self.tables, &n);
                    self.scans.push(n);
                }
            }
            TableFactor::Derived { subquery, .. } => {
                self.flags.insert("DERIVED_TABLE");
                self.walk_query(subquery);
            }
            TableFactor::NestedJoin { table_with_joins, .. } => {
                self.walk_factor(&table_with_joins.relation);
                for j in &table_with_joins.joins {
                    self.joins += 1;
                    self.walk_factor(&j.relation);
                }
            }
            TableFactor::TableFunction { expr, .. } => self.walk_expr(expr),
            _ => {}
        }
    }

    /// Walk an expression subquery: flag it, decide whether it is correlated.
    fn walk_subquery(&mut self, q: &Query, flag: &'static str) {
        self.flags.insert(flag);
        let mut probe = Walker { cte_names: self.cte_names, ..Default::default() };
        probe.walk_query(q);
        let outer: BTreeSet<&String> = self.scopes.iter().flatten().collect();
        let correlated = probe
            .qualifiers
            .iter()
            .any(|q| !probe.aliases.contains(q) && outer.contains(q));
        if correlated {
            self.flags.insert("CORRELATED");
        }
        self.walk_query(q);
    }

    fn walk_exprs<'e>(&mut self, exprs: impl IntoIterator<Item = &'e Expr>) {
        exprs.into_iter().for_each(|e| self.walk_expr(e));
    }

    fn walk_expr(&mut self, e: &Expr) {
        match e {
            Expr::CompoundIdentifier(ids) if ids.len() >= 2 => {
                self.qualifiers.insert(ids[ids.len() - 2].value.to_lowercase());
            }
            Expr::Subquery(q) => self.walk_subquery(q, "SCALAR_SUBQUERY"),
            Expr::InSubquery { expr, subquery, .. } => {
                self.walk_expr(expr);
                self.walk_subquery(subquery, "IN_SUBQUERY");
            }
            Expr::Exists { subquery, .. } => self.walk_subquery(subquery, "EXISTS"),
            Expr::InList { expr, list, .. } => {
                self.flags.insert("IN_LIST");
                self.walk_expr(expr);
                self.walk_exprs(list);
            }
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
            Expr::Case { operand, conditions, else_result, .. } => {
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
            Expr::Between { expr, low, high, .. } => {
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
            Expr::Substring { expr, substring_from, substring_for, .. } => {
                self.walk_expr(expr);
                substring_from.iter().for_each(|x| self.walk_expr(x));
                substring_for.iter().for_each(|x| self.walk_expr(x));
            }
            Expr::AtTimeZone { timestamp, time_zone } => {
                self.walk_expr(timestamp);
                self.walk_expr(time_zone);
            }
            Expr::Tuple(list) => self.walk_exprs(list),
            Expr::Interval(iv) => self.walk_expr(&iv.value),
            _ => {}
        }
    }
}

/// Names a FROM item makes visible: the table name and its alias, derived aliases,
/// recursively through parenthesized joins.
fn collect_names(tf: &TableFactor, out: &mut BTreeSet<String>) {
    match tf {
        TableFactor::Table { name, alias, .. } => {
            out.insert(object_last(name));
            if let Some(a) = alias {
                out.insert(a.name.value.to_lowercase());
            }
        }
        TableFactor::NestedJoin { table_with_joins, alias } => {
            collect_names(&table_with_joins.relation, out);
            table_with_joins.joins.iter().for_each(|j| collect_names(&j.relation, out));
            if let Some(a) = alias {
                out.insert(a.name.value.to_lowercase());
            }
        }
        TableFactor::Derived { alias: Some(a), .. }
        | TableFactor::TableFunction { alias: Some(a), .. }
        | TableFactor::Function { alias: Some(a), .. }
        | TableFactor::UNNEST { alias: Some(a), .. } => {
            out.insert(a.name.value.to_lowercase());
        }
        _ => {}
    }
}

/// Does a WHERE clause contain an OR outside of subqueries?
pub(crate) fn has_or(e: &Expr) -> bool {
    match e {
        Expr::BinaryOp { left, op, right } => {
            *op == sqlparser::ast::BinaryOperator::Or || has_or(left) || has_or(right)
        }
        Expr::Nested(x) | Expr::UnaryOp { expr: x, .. } => has_or(x),
        _ => false,
    }
}
