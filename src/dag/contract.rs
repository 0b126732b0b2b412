//! A node's contract: what any rewrite of the node must keep producing — its output
//! columns, its grain (GROUP BY keys) and its main predicates (WHERE conjuncts).
//!
//! Read from the node's outermost SELECT (the leftmost branch of a set operation, which
//! names the columns). It is a summary for the prompt, not a proof obligation: nothing
//! here is used to validate answers (validation runs both queries on real data).

use super::Contract;
use sqlparser::ast::{
    BinaryOperator, Expr, GroupByExpr, Query, Select, SelectItem, SetExpr, TableAlias,
};

/// Longest predicate text shown in a contract; longer ones end with "...".
const MAX_PREDICATE_CHARS: usize = 200;

/// Contract of a node body. `alias` carries CTE column names (`cte(a, b) AS (...)`),
/// which win over the SELECT's own names.
pub(crate) fn contract_of(q: &Query, alias: Option<&TableAlias>) -> Contract {
    let Some(select) = leftmost_select(&q.body) else {
        return Contract::default();
    };
    let mut output_columns: Vec<String> = select.projection.iter().map(column_name).collect();
    if let Some(a) = alias.filter(|a| !a.columns.is_empty()) {
        output_columns = a.columns.iter().map(|c| c.name.value.clone()).collect();
    }
    let grain = match &select.group_by {
        GroupByExpr::All(_) => vec!["ALL".to_string()],
        GroupByExpr::Expressions(exprs, _) => exprs.iter().map(|e| e.to_string()).collect(),
    };
    let mut predicates = Vec::new();
    if let Some(w) = &select.selection {
        conjuncts(w, &mut predicates);
    }
    let predicates = predicates
        .into_iter()
        .map(|e| truncate(&e.to_string()))
        .collect();
    Contract {
        output_columns,
        grain,
        predicates,
    }
}

fn leftmost_select(s: &SetExpr) -> Option<&Select> {
    match s {
        SetExpr::Select(sel) => Some(sel),
        SetExpr::Query(q) => leftmost_select(&q.body),
        SetExpr::SetOperation { left, .. } => leftmost_select(left),
        _ => None,
    }
}

/// The name a projection item gets: its alias, its column name, else its SQL text.
fn column_name(item: &SelectItem) -> String {
    match item {
        SelectItem::ExprWithAlias { alias, .. } => alias.value.clone(),
        SelectItem::UnnamedExpr(Expr::Identifier(id)) => id.value.clone(),
        SelectItem::UnnamedExpr(Expr::CompoundIdentifier(ids)) => {
            ids.last().map(|i| i.value.clone()).unwrap_or_default()
        }
        other => truncate(&other.to_string()),
    }
}

/// Split `a AND (b AND c)` into its conjuncts (parentheses around ANDs are looked through).
fn conjuncts<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            conjuncts(left, out);
            conjuncts(right, out);
        }
        Expr::Nested(inner)
            if matches!(
                **inner,
                Expr::BinaryOp {
                    op: BinaryOperator::And,
                    ..
                }
            ) =>
        {
            conjuncts(inner, out)
        }
        other => out.push(other),
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() <= MAX_PREDICATE_CHARS {
        return s.to_string();
    }
    let cut: String = s.chars().take(MAX_PREDICATE_CHARS).collect();
    format!("{cut}...")
}
