//! One pass over a sqlparser `Query` that collects the facts a DAG node needs: the
//! relations it reads (CTEs vs base tables), structural flags, join counts and whether
//! expression subqueries are correlated.
//!
//! sqlparser is built without its `visitor` feature, so this walks the AST by hand. It
//! covers every clause of SELECT / set operations / FROM and the expression variants that
//! can carry subqueries or columns in analytic SQL; exotic variants (JSON access, MATCH ...)
//! are skipped on purpose: missing a flag there is harmless, the SQL itself is untouched.
//!
//! Correlation is detected from qualified column references (`outer_alias.col` inside a
//! subquery whose own FROM does not define `outer_alias`) and, when table columns are
//! known (`Walker::columns`), from unqualified names that no table inside the subquery
//! has but an outer table does. Without columns, unqualified correlation is not reported.

mod expr;

use sqlparser::ast::{
    Expr, GroupByExpr, JoinConstraint, JoinOperator, ObjectName, ObjectNamePart, Query, Select,
    SelectItem, SetExpr, SetOperator, SetQuantifier, TableFactor,
};
use std::collections::BTreeSet;

/// Facts about one query (a node body), collected by [`Walker::walk_query`].
#[derive(Debug, Default)]
pub(crate) struct Walker<'a> {
    /// Top-level CTE names (lowercase) of the statement: reads of these are `refs`.
    pub cte_names: Option<&'a BTreeSet<String>>,
    /// Known base-table columns (lowercase table -> lowercase columns), maybe empty.
    pub columns: Option<&'a super::Columns>,
    /// Unqualified column names used (lowercase).
    idents: BTreeSet<String>,
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
        Walker {
            cte_names: Some(cte_names),
            ..Default::default()
        }
    }

    pub fn with_columns(cte_names: &'a BTreeSet<String>, columns: &'a super::Columns) -> Self {
        Walker {
            cte_names: Some(cte_names),
            columns: Some(columns),
            ..Default::default()
        }
    }

    pub fn walk_query(&mut self, q: &Query) {
        let mut pushed = false;
        if let Some(with) = &q.with {
            let names = with
                .cte_tables
                .iter()
                .map(|c| c.alias.name.value.to_lowercase());
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
            SetExpr::SetOperation {
                op,
                set_quantifier,
                left,
                right,
            } => {
                self.flags.insert(match op {
                    SetOperator::Union => "UNION",
                    SetOperator::Intersect => "INTERSECT",
                    SetOperator::Except | SetOperator::Minus => "EXCEPT",
                });
                if matches!(op, SetOperator::Union)
                    && matches!(
                        set_quantifier,
                        SetQuantifier::All | SetQuantifier::AllByName
                    )
                {
                    self.flags.insert("UNION_ALL");
                }
                self.walk_set(left);
                self.walk_set(right);
            }
            SetExpr::Values(v) => v
                .rows
                .iter()
                .flat_map(|r| r.content.iter())
                .for_each(|e| self.walk_expr(e)),
            _ => {}
        }
    }

    fn walk_select(&mut self, s: &Select) {
        // Names this SELECT's FROM defines are visible to subqueries in its expressions.
        let mut scope = BTreeSet::new();
        for twj in &s.from {
            collect_names(&twj.relation, &mut scope);
            twj.joins
                .iter()
                .for_each(|j| collect_names(&j.relation, &mut scope));
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
                    JoinOperator::CrossApply
                    | JoinOperator::OuterApply
                    | JoinOperator::ArrayJoin
                    | JoinOperator::LeftArrayJoin
                    | JoinOperator::InnerArrayJoin => None,
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
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => {
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
        TableFactor::NestedJoin {
            table_with_joins,
            alias,
        } => {
            collect_names(&table_with_joins.relation, out);
            table_with_joins
                .joins
                .iter()
                .for_each(|j| collect_names(&j.relation, out));
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
