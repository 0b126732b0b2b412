//! SQL text -> statements -> one [`Dag`] per query statement.
//!
//! Parsing uses sqlparser's dialect of the target engine ([`Engine`]): for DuckDB its
//! DuckDB dialect, falling back to PostgreSQL's and then the generic one (queries written
//! for another engine still get a structure; the DuckDB error is the one reported); for
//! PostgreSQL its PostgreSQL dialect, falling back only to the generic one (the DuckDB
//! reading of a PostgreSQL query, e.g. `x -> 'k'` as a lambda, is never taken; the
//! PostgreSQL error is reported). What sqlparser cannot read at all, the engine decides
//! ([`engine_check`]). Comments (`-- start query 1 ...`) are handled by the
//! tokenizer. This file does not judge whether a statement is safe to run: the sandbox in
//! `validate` does that; here anything that is not a query is simply not a DAG.

use super::contract::contract_of;
use super::walk::Walker;
use super::{Columns, Dag, DagError, MAIN_QUERY, Node, NodeKind};
use sqlparser::ast::{Query, Statement};
use sqlparser::dialect::{DuckDbDialect, GenericDialect, PostgreSqlDialect};
use sqlparser::parser::Parser;
use crate::db::Engine;
use crate::db::gate::GateError;
use std::collections::BTreeSet;

/// Parse as the default engine's (DuckDB's) SQL: see [`parse_statements_for`].
pub(crate) fn parse_statements(sql: &str) -> Result<Vec<Statement>, String> {
    parse_statements_for(sql, Engine::DuckDb)
}

/// Parse with `engine`'s dialect first. DuckDB: else PostgreSQL's (queries of the second
/// engine), else the generic one; PostgreSQL: else the generic one. Err carries the
/// message of the engine's own dialect.
pub(crate) fn parse_statements_for(sql: &str, engine: Engine) -> Result<Vec<Statement>, String> {
    match engine {
        Engine::DuckDb => match Parser::parse_sql(&DuckDbDialect {}, sql) {
            Ok(stmts) => Ok(stmts),
            Err(duck) => Parser::parse_sql(&PostgreSqlDialect {}, sql)
                .or_else(|_| Parser::parse_sql(&GenericDialect {}, sql))
                .map_err(|_| duck.to_string()),
        },
        Engine::Postgres => match Parser::parse_sql(&PostgreSqlDialect {}, sql) {
            Ok(stmts) => Ok(stmts),
            Err(pg) => Parser::parse_sql(&GenericDialect {}, sql).map_err(|_| pg.to_string()),
        },
    }
}

/// The engine's word on a text sqlparser cannot read, as far as it can be had here:
/// DuckDB's own parser (`db/gate.rs`); for PostgreSQL, which parses only on its server,
/// the same size bounds and exactly one statement by text boundaries (the sandbox's gate
/// prepares it on the server before anything runs).
pub(crate) fn engine_check(sql: &str, engine: Engine) -> Result<(), GateError> {
    match engine {
        Engine::DuckDb => crate::db::gate::check(sql),
        Engine::Postgres => {
            crate::db::gate::check_bounds(sql)?;
            match crate::db::split_statements(sql).len() {
                0 => Err(GateError::NotSelect("the SQL is empty; expected one SELECT query".into())),
                1 => Ok(()),
                n => Err(GateError::NotSelect(format!("only a single SELECT query is allowed, the text holds {n} statements"))),
            }
        }
    }
}

/// Parse text that must be exactly one query (SELECT / WITH / VALUES), in `engine`'s dialect.
pub(crate) fn parse_one_query_for(sql: &str, engine: Engine) -> Result<Query, String> {
    let mut stmts = parse_statements_for(sql, engine)?;
    match stmts.len() {
        0 => Err("no SQL statement found".into()),
        1 => match stmts.remove(0) {
            Statement::Query(q) => Ok(*q),
            other => Err(format!("expected a query, found `{}`", first_words(&other))),
        },
        n => Err(format!("expected exactly one query, found {n} statements")),
    }
}

fn first_words(stmt: &Statement) -> String {
    stmt.to_string()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// One DAG per statement of `sql` (DuckDB's SQL), in file order.
pub fn parse_dags(sql: &str) -> Result<Vec<Dag>, DagError> {
    parse_dags_with_schema(sql, &Columns::new())
}

/// Like [`parse_dags`], with known table columns (lowercase table -> lowercase columns,
/// see [`super::columns_from_schema`]) so unqualified correlated subqueries are flagged.
pub fn parse_dags_with_schema(sql: &str, columns: &Columns) -> Result<Vec<Dag>, DagError> {
    parse_dags_for(sql, columns, Engine::DuckDb)
}

/// [`parse_dags_with_schema`] for SQL of `engine` (its dialect first, see
/// [`parse_statements_for`]); the DAGs remember the engine for assembling answers.
pub fn parse_dags_for(sql: &str, columns: &Columns, engine: Engine) -> Result<Vec<Dag>, DagError> {
    let stmts = parse_statements_for(sql, engine).map_err(DagError::Syntax)?;
    if stmts.is_empty() {
        return Err(DagError::Empty);
    }
    let count = stmts.len();
    stmts
        .into_iter()
        .enumerate()
        .map(|(index, stmt)| match stmt {
            Statement::Query(q) => Ok(build_dag(&q, index, count, columns, engine)),
            other => Err(DagError::NotAQuery {
                index: index + 1,
                start: first_words(&other),
            }),
        })
        .collect()
}

/// Build the DAG of one query: a node per CTE of its top-level WITH, then `main_query`.
pub(crate) fn build_dag(
    q: &Query,
    statement_index: usize,
    statement_count: usize,
    columns: &Columns,
    engine: Engine,
) -> Dag {
    let ctes = q
        .with
        .as_ref()
        .map(|w| w.cte_tables.as_slice())
        .unwrap_or_default();
    let names: BTreeSet<String> = ctes
        .iter()
        .map(|c| c.alias.name.value.to_lowercase())
        .collect();
    let mut nodes = Vec::with_capacity(ctes.len() + 1);
    for cte in ctes {
        let mut node = node_of(
            &cte.query,
            &names,
            columns,
            cte.alias.name.value.clone(),
            NodeKind::Cte,
        );
        node.contract = contract_of(&cte.query, Some(&cte.alias));
        node.alias_columns = cte
            .alias
            .columns
            .iter()
            .map(|c| c.name.value.clone())
            .collect();
        node.refs.retain(|r| *r != node.id.to_lowercase()); // recursive self-reference
        nodes.push(node);
    }
    let mut main = q.clone();
    main.with = None;
    nodes.push(node_of(
        &main,
        &names,
        columns,
        MAIN_QUERY.to_string(),
        NodeKind::Main,
    ));
    restore_ref_spelling(&mut nodes);
    let order = super::assemble::topo_order(&nodes).unwrap_or_else(|_| {
        nodes.iter().map(|n| n.id.clone()).collect() // recursive CTEs: keep the file order
    });
    Dag {
        nodes,
        order,
        statement_count,
        statement_index,
        recursive: q.with.as_ref().is_some_and(|w| w.recursive),
        note: None,
        engine,
    }
}

/// The DAG of a query sqlparser cannot read (`why` is its error): one `main_query` node
/// holding the whole statement, no structure, and a note for the prompt.
pub(crate) fn degraded_dag(sql: &str, why: &str, engine: Engine) -> Dag {
    let main = Node {
        id: MAIN_QUERY.to_string(),
        kind: NodeKind::Main,
        sql: crate::sqltext::strip_tail(sql).trim().to_string(),
        refs: Vec::new(),
        tables: Vec::new(),
        flags: Vec::new(),
        contract: Default::default(),
        alias_columns: Vec::new(),
        joins: 0,
        scans: Vec::new(),
    };
    Dag {
        nodes: vec![main],
        order: vec![MAIN_QUERY.to_string()],
        statement_count: 1,
        statement_index: 0,
        recursive: false,
        note: Some(format!(
            "this query uses syntax the structure analysis cannot read ({why}), so it is shown \
             as one `main_query` node without CTE breakdown, flags or contract; {} runs it \
             as written. Rewrite it as a whole (new CTEs are fine).",
            match engine {
                Engine::DuckDb => "DuckDB",
                Engine::Postgres => "PostgreSQL",
            }
        )),
        engine,
    }
}

fn node_of(
    q: &Query,
    ctes: &BTreeSet<String>,
    columns: &Columns,
    id: String,
    kind: NodeKind,
) -> Node {
    let mut w = Walker::with_columns(ctes, columns);
    w.walk_query(q);
    let mut seen = BTreeSet::new();
    if w.scans.iter().any(|s| !seen.insert(s)) {
        w.flags.insert("REPEATED_SCAN"); // the same table or CTE read twice in this node
    }
    Node {
        id,
        kind,
        sql: pretty_query(q),
        refs: w.refs,
        tables: w.tables,
        flags: w.flags.iter().map(|f| f.to_string()).collect(),
        contract: contract_of(q, None),
        alias_columns: Vec::new(),
        joins: w.joins,
        scans: w.scans,
    }
}

/// The walker lowercases names; refs are shown with the CTE's own spelling.
fn restore_ref_spelling(nodes: &mut [Node]) {
    let ids: Vec<String> = nodes.iter().map(|n| n.id.clone()).collect();
    for node in nodes.iter_mut() {
        for r in node.refs.iter_mut() {
            if let Some(id) = ids.iter().find(|id| id.to_lowercase() == *r) {
                *r = id.clone();
            }
        }
    }
}

/// sqlparser's pretty form, with the final ORDER BY and LIMIT on their own lines
/// (sqlparser keeps them on the last line of the body). Whitespace only: the text
/// parses back to the same query.
pub(crate) fn pretty_query(q: &Query) -> String {
    let plain_tail = q.fetch.is_none()
        && q.locks.is_empty()
        && q.for_clause.is_none()
        && q.settings.is_none()
        && q.format_clause.is_none()
        && q.pipe_operators.is_empty();
    if !plain_tail || (q.order_by.is_none() && q.limit_clause.is_none()) {
        return format!("{q:#}");
    }
    let mut head = q.clone();
    head.order_by = None;
    head.limit_clause = None;
    let mut out = format!("{head:#}");
    if let Some(order_by) = &q.order_by {
        out.push('\n');
        out.push_str(&order_by.to_string());
    }
    if let Some(limit) = &q.limit_clause {
        out.push('\n');
        out.push_str(limit.to_string().trim_start());
    }
    out
}
