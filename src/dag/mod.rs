//! SQL -> DAG of nodes (each CTE and `main_query`) with refs, tables, flags and a
//! contract per node; and the way back: an LLM answer -> one assembled SQL query.
//!
//! Multi-statement files (TPC-DS 14, 23, 24, 39 ship two queries in one file): a [`Dag`]
//! always describes ONE statement. [`parse_dag`] refuses multi-statement input;
//! [`parse_dags`] returns one DAG per statement (each knows `statement_index` and
//! `statement_count`); [`parse_first_dag`] is what prompts use: the first statement's DAG,
//! whose `statement_count > 1` makes the template print a note. An answer assembled from
//! such a DAG is a rewrite of that first statement only; comparing it against the whole
//! file is the runner's decision, not this module's.
//!
//! This module never runs SQL and never falls back to the original SQL when an answer
//! cannot be used: that is always an [`AnswerError`] (`reason() == "parse_error"`).

mod answer;
pub(crate) mod assemble;
mod contract;
mod flags;
mod parse;
pub mod patterns;
mod textual;
mod walk;

pub use answer::{AnswerError, RewriteSet, extract_rewrite_set, extract_sql, extract_sql_for};
pub use assemble::{assemble, assemble_rewrite};
pub use flags::{query_features, target_nodes};
pub use parse::{parse_dags, parse_dags_for, parse_dags_with_schema};
pub use patterns::{PATTERNS, PatternHit, detect_patterns, pattern_names};

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Known columns per base table, all lowercase.
pub type Columns = BTreeMap<String, BTreeSet<String>>;

/// Columns from the prompt's `schema` value: `[{name, columns: [{name, type}]}]`.
/// Anything else yields an empty map (unqualified correlation then goes unreported).
pub fn columns_from_schema(schema: &serde_json::Value) -> Columns {
    let lower = |v: &serde_json::Value| v.as_str().map(str::to_lowercase);
    let mut out = Columns::new();
    for table in schema.as_array().into_iter().flatten() {
        let Some(name) = table.get("name").and_then(lower) else {
            continue;
        };
        let cols = table
            .get("columns")
            .and_then(|c| c.as_array())
            .into_iter()
            .flatten();
        out.entry(name)
            .or_default()
            .extend(cols.filter_map(|c| c.get("name").and_then(lower)));
    }
    out
}

/// Id of the node holding the statement's final SELECT (its WITH removed).
pub const MAIN_QUERY: &str = "main_query";

#[derive(Debug, Serialize, Clone)]
pub struct Dag {
    pub nodes: Vec<Node>,
    /// Topological: CTEs in dependency order (file order where possible), then main_query.
    pub order: Vec<String>,
    /// Statements in the source file (1 for almost every query).
    pub statement_count: usize,
    /// Which statement this DAG describes (0-based).
    pub statement_index: usize,
    /// The source used `WITH RECURSIVE`; assembly keeps it.
    pub recursive: bool,
    /// Set when sqlparser cannot read the statement (DuckDB can): the DAG is then one
    /// `main_query` node without structure, and this says so (templates print it).
    pub note: Option<String>,
    /// The engine whose SQL this is: answers to it are read in its dialect.
    #[serde(skip)]
    pub engine: crate::db::Engine,
}

#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    Cte,
    Main,
}

#[derive(Debug, Serialize, Clone)]
pub struct Node {
    pub id: String,
    pub kind: NodeKind,
    /// The node body printed back by sqlparser (pretty form).
    pub sql: String,
    /// CTEs this node reads, first-seen order.
    pub refs: Vec<String>,
    /// Base tables this node reads (lowercase), first-seen order.
    pub tables: Vec<String>,
    /// Structural flags, sorted: GROUP_BY, WINDOW, UNION, CORRELATED, IN_SUBQUERY, ...
    pub flags: Vec<String>,
    pub contract: Contract,
    /// Column names given in `cte(a, b) AS (...)`; empty when none.
    pub alias_columns: Vec<String>,
    /// Joins inside the node (explicit joins + extra comma FROM items).
    pub joins: usize,
    /// Every relation read, with repeats (lowercase): repeated scans show up here.
    pub scans: Vec<String>,
}

#[derive(Debug, Serialize, Clone, Default)]
pub struct Contract {
    pub output_columns: Vec<String>,
    /// GROUP BY keys as SQL text; empty when the node does not aggregate by keys.
    pub grain: Vec<String>,
    /// WHERE conjuncts as SQL text (long ones truncated with "...").
    pub predicates: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DagError {
    #[error("the SQL does not parse: {0}; check the query file")]
    Syntax(String),
    #[error("the SQL contains no statement; check the query file")]
    Empty,
    #[error(
        "statement {index} is not a query (starts with `{start}`); only SELECT/WITH queries can be optimized"
    )]
    NotAQuery { index: usize, start: String },
    #[error(
        "the SQL has {count} statements; use parse_dags (one DAG per statement) or parse_first_dag"
    )]
    MultiStatement { count: usize },
}

impl Dag {
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id.eq_ignore_ascii_case(id))
    }
    pub fn main(&self) -> Option<&Node> {
        self.nodes.iter().find(|n| n.kind == NodeKind::Main)
    }
}

/// The DAG of a single-statement query file.
pub fn parse_dag(sql: &str) -> Result<Dag, DagError> {
    let mut dags = parse_dags(sql)?;
    if dags.len() > 1 {
        return Err(DagError::MultiStatement { count: dags.len() });
    }
    Ok(dags.remove(0))
}

/// The first statement's DAG (`statement_count` says how many the file has), DuckDB's SQL.
pub fn parse_first_dag(sql: &str) -> Result<Dag, DagError> {
    parse_first_dag_with_schema(sql, &Columns::new())
}

/// [`parse_first_dag`] for SQL of `engine` (the target's): parsed in its dialect first.
pub fn parse_first_dag_for(sql: &str, engine: crate::db::Engine) -> Result<Dag, DagError> {
    parse_first_dag_with_schema_for(sql, &Columns::new(), engine)
}

/// [`parse_first_dag`] with known table columns (flags unqualified correlation).
/// A single query that sqlparser cannot read but DuckDB can still gets a DAG: one
/// `main_query` node holding the whole text, with [`Dag::note`] saying why.
pub fn parse_first_dag_with_schema(sql: &str, columns: &Columns) -> Result<Dag, DagError> {
    parse_first_dag_with_schema_for(sql, columns, crate::db::Engine::DuckDb)
}

/// [`parse_first_dag_with_schema`] for SQL of `engine`.
pub fn parse_first_dag_with_schema_for(sql: &str, columns: &Columns, engine: crate::db::Engine) -> Result<Dag, DagError> {
    match parse::parse_dags_for(sql, columns, engine) {
        Ok(mut dags) => Ok(dags.remove(0)), // never empty: Empty is an error
        Err(DagError::Syntax(e)) if parse::engine_check(sql, engine).is_ok() => {
            Ok(parse::degraded_dag(sql, &e, engine))
        }
        Err(e) => Err(e),
    }
}

/// Pretty-print SQL through sqlparser (statements separated by `;` and a blank line);
/// text that does not parse is returned unchanged.
pub fn format_sql(sql: &str) -> String {
    match parse::parse_statements(sql) {
        Ok(stmts) if !stmts.is_empty() => {
            let one = |s: &sqlparser::ast::Statement| match s {
                sqlparser::ast::Statement::Query(q) => parse::pretty_query(q),
                other => format!("{other:#}"),
            };
            stmts.iter().map(one).collect::<Vec<_>>().join(";\n\n")
        }
        _ => sql.to_string(),
    }
}
