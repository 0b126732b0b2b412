//! Answer -> one SQL query. For `dag_json`: start from the original nodes, replace the
//! ones the answer rewrites, add its new CTEs, let a `main_query` that carries its own
//! WITH override/add those CTEs, drop CTEs nothing reads any more, and re-emit the WITH
//! in dependency order (stable: original order where possible, new CTEs right before
//! their first reader). For `sql`: the SQL block itself.
//!
//! The result must parse as exactly one query, else it is an [`AnswerError`]. The
//! original SQL is never returned in place of an unusable answer.

use super::answer::{AnswerError, RewriteSet, extract_rewrite_set};
use super::parse::{parse_one_query_for, pretty_query};
use super::walk::Walker;
use super::{Dag, MAIN_QUERY, Node, NodeKind};
use crate::spec::ResponseFormat;
use sqlparser::ast::helpers::attached_token::AttachedToken;
use sqlparser::ast::{Cte, Ident, Query, TableAlias, TableAliasColumnDef, With};
use std::collections::BTreeSet;

/// Turn an LLM answer into the candidate SQL for `dag`'s statement.
pub fn assemble(dag: &Dag, response: &str, format: ResponseFormat) -> Result<String, AnswerError> {
    match format {
        ResponseFormat::Sql => super::answer::extract_sql_for(response, dag.engine),
        ResponseFormat::DagJson => assemble_rewrite(dag, &extract_rewrite_set(response)?),
    }
}

/// A CTE being assembled: name, alias (with column list), body.
struct Entry {
    alias: TableAlias,
    query: Query,
}

impl Entry {
    fn key(&self) -> String {
        self.alias.name.value.to_lowercase()
    }
}

/// Apply a rewrite set to the DAG's nodes and print the resulting query. Through
/// sqlparser's syntax tree when it reads every node; as text (`textual.rs`) when it
/// cannot but DuckDB can, so a weaker helper parser never refuses a valid answer.
pub fn assemble_rewrite(dag: &Dag, set: &RewriteSet) -> Result<String, AnswerError> {
    if dag.note.is_some() {
        return super::textual::assemble_text(dag, set);
    }
    match assemble_ast(dag, set) {
        Err(e @ (AnswerError::InvalidNodeSql { .. } | AnswerError::Assembled(_))) => {
            super::textual::assemble_text(dag, set).map_err(|t| match t {
                // DuckDB cannot read it either: its message says where.
                AnswerError::InvalidNodeSql { .. } => t,
                _ => e,
            })
        }
        other => other,
    }
}

fn assemble_ast(dag: &Dag, set: &RewriteSet) -> Result<String, AnswerError> {
    let mut ctes: Vec<Entry> = Vec::new();
    let mut main: Option<Query> = None;
    for node in &dag.nodes {
        let query = parse_one_query_for(&node.sql, dag.engine).map_err(AnswerError::Assembled)?;
        match node.kind {
            NodeKind::Main => main = Some(query),
            NodeKind::Cte => ctes.push(Entry {
                alias: alias_of(&node.id, node),
                query,
            }),
        }
    }
    let mut main =
        main.ok_or_else(|| AnswerError::Assembled("the DAG has no main_query".into()))?;
    let mut recursive = dag.recursive;
    let mut main_ctes = Vec::new();
    let tables: BTreeSet<String> = dag
        .nodes
        .iter()
        .flat_map(|n| n.tables.iter().cloned())
        .collect();
    let check_new = |ctes: &[Entry], name: &str| {
        let key = name.to_lowercase();
        match !ctes.iter().any(|e| e.key() == key) && tables.contains(&key) {
            true => Err(AnswerError::ShadowsTable(name.to_string())),
            false => Ok(()),
        }
    };
    for (id, body) in &set.nodes {
        let query = parse_node_body(id, body, dag.engine)?;
        if id.eq_ignore_ascii_case(MAIN_QUERY) {
            main = query;
            if let Some(with) = main.with.take() {
                recursive |= with.recursive;
                main_ctes = with.cte_tables;
            }
        } else {
            check_new(&ctes, id)?;
            let alias = TableAlias {
                explicit: false,
                name: ident(id),
                columns: vec![],
                at: None,
            };
            upsert(&mut ctes, Entry { alias, query }, false);
        }
    }
    for cte in main_ctes {
        check_new(&ctes, &cte.alias.name.value)?;
        upsert(
            &mut ctes,
            Entry {
                alias: cte.alias,
                query: *cte.query,
            },
            true,
        );
    }
    let ordered = order_ctes(ctes, &main, recursive)?;
    if !ordered.is_empty() {
        main.with = Some(With {
            with_token: AttachedToken::empty(),
            recursive,
            cte_tables: ordered.into_iter().map(to_cte).collect(),
        });
    }
    let text = pretty_query(&main);
    if let Err(e) = parse_one_query_for(&text, dag.engine) {
        // sqlparser printed what it cannot read back: DuckDB's parser decides; PostgreSQL
        // parses only on its server, so the text assembly (the answer's own words) is used.
        match dag.engine {
            crate::db::Engine::DuckDb => crate::db::gate::check(&text).map_err(|_| AnswerError::Assembled(e))?,
            crate::db::Engine::Postgres => return Err(AnswerError::Assembled(e)),
        }
    }
    Ok(text)
}

fn alias_of(id: &str, node: &Node) -> TableAlias {
    let columns = node
        .alias_columns
        .iter()
        .map(|c| TableAliasColumnDef {
            name: ident(c),
            data_type: None,
        })
        .collect();
    TableAlias {
        explicit: false,
        name: ident(id),
        columns,
        at: None,
    }
}

/// Replace the CTE of the same name (keeping its column list unless `own_alias`), or add.
fn upsert(ctes: &mut Vec<Entry>, entry: Entry, own_alias: bool) {
    match ctes.iter_mut().find(|e| e.key() == entry.key()) {
        Some(existing) if own_alias => *existing = entry,
        Some(existing) => existing.query = entry.query,
        None => ctes.push(entry),
    }
}

/// Parse one node body; tolerate a trailing `;` and a restated `name AS (...)` wrapper.
fn parse_node_body(id: &str, body: &str, engine: crate::db::Engine) -> Result<Query, AnswerError> {
    let text = body.trim().trim_end_matches(';').trim();
    match parse_one_query_for(text, engine) {
        Ok(q) => Ok(q),
        Err(error) => match strip_cte_wrapper(id, text).map(|t| parse_one_query_for(t, engine)) {
            Some(Ok(q)) => Ok(q),
            _ if super::parse::parse_statements_for(text, engine).is_ok() => Err(AnswerError::NotAQuery {
                node: id.to_string(),
                error,
            }),
            _ => Err(AnswerError::InvalidNodeSql {
                node: id.to_string(),
                error,
            }),
        },
    }
}

/// `id AS ( body )` -> `body`.
pub(super) fn strip_cte_wrapper<'a>(id: &str, text: &'a str) -> Option<&'a str> {
    let rest = text
        .get(id.len()..)
        .filter(|_| text[..id.len()].eq_ignore_ascii_case(id))?;
    let rest = rest.trim_start();
    let rest = rest
        .get(2..)
        .filter(|_| rest[..2].eq_ignore_ascii_case("as"))?
        .trim_start();
    rest.strip_prefix('(')?.trim_end().strip_suffix(')')
}

/// An identifier, double-quoted unless it is a plain `[A-Za-z_][A-Za-z0-9_]*` name that
/// is no SQL keyword (`limit`, `sort`, `order` are quoted: a node named `limit` must be
/// `"limit"` in the WITH clause as in every reference to it).
pub(super) fn ident(name: &str) -> Ident {
    let mut chars = name.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !is_keyword(name);
    match plain {
        true => Ident::new(name),
        false => Ident::with_quote('"', name),
    }
}

/// A keyword of DuckDB's grammar (reserved or not) or of sqlparser's.
fn is_keyword(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    sqlparser::keywords::ALL_KEYWORDS.binary_search(&upper.as_str()).is_ok()
        || DUCKDB_RESERVED.contains(&upper.as_str())
}

/// DuckDB's reserved keywords (`SELECT * FROM duckdb_keywords()`, category `reserved`).
const DUCKDB_RESERVED: &[&str] = &[
    "ALL", "ANALYSE", "ANALYZE", "AND", "ANY", "ARRAY", "AS", "ASC", "ASYMMETRIC", "BOTH",
    "CASE", "CAST", "CHECK", "COLLATE", "COLUMN", "CONSTRAINT", "CREATE", "DEFAULT",
    "DEFERRABLE", "DESC", "DESCRIBE", "DISTINCT", "DO", "ELSE", "END", "EXCEPT", "FALSE",
    "FETCH", "FOR", "FOREIGN", "FROM", "GRANT", "GROUP", "HAVING", "IN", "INITIALLY",
    "INTERSECT", "INTO", "LAMBDA", "LATERAL", "LEADING", "LIMIT", "NOT", "NULL", "OFFSET",
    "ON", "ONLY", "OR", "ORDER", "PIVOT", "PIVOT_LONGER", "PIVOT_WIDER", "PLACING",
    "PRIMARY", "QUALIFY", "REFERENCES", "RETURNING", "SELECT", "SHOW", "SOME", "SUMMARIZE",
    "SYMMETRIC", "TABLE", "THEN", "TO", "TRAILING", "TRUE", "UNION", "UNIQUE", "UNPIVOT",
    "USING", "VARIADIC", "WHEN", "WHERE", "WINDOW", "WITH",
];

fn to_cte(e: Entry) -> Cte {
    Cte {
        alias: e.alias,
        query: Box::new(e.query),
        from: None,
        materialized: None,
        closing_paren_token: AttachedToken::empty(),
    }
}

/// Keep the CTEs `main` (transitively) reads, in stable dependency order.
fn order_ctes(ctes: Vec<Entry>, main: &Query, recursive: bool) -> Result<Vec<Entry>, AnswerError> {
    let names: BTreeSet<String> = ctes.iter().map(Entry::key).collect();
    let deps_of = |q: &Query, own: Option<&str>| -> Vec<String> {
        let mut w = Walker::new(&names);
        w.walk_query(q);
        w.refs
            .into_iter()
            .filter(|r| Some(r.as_str()) != own)
            .collect()
    };
    let mut items: Vec<(String, Vec<String>)> = ctes
        .iter()
        .map(|e| (e.key(), deps_of(&e.query, Some(e.key().as_str()))))
        .collect();
    items.push((MAIN_QUERY.to_string(), deps_of(main, None)));
    let order = if recursive {
        (0..items.len()).collect()
    } else {
        stable_topo(&items).map_err(AnswerError::Cycle)?
    };
    // Reachability from main_query.
    let mut live = BTreeSet::from([MAIN_QUERY.to_string()]);
    for &i in order.iter().rev() {
        if live.contains(&items[i].0) {
            live.extend(items[i].1.iter().cloned());
        }
    }
    let cte_count = ctes.len();
    let mut slots: Vec<Option<Entry>> = ctes.into_iter().map(Some).collect();
    Ok(order
        .into_iter()
        .filter(|&i| i < cte_count && live.contains(&items[i].0))
        .filter_map(|i| slots[i].take())
        .collect())
}

/// The DAG order of parsed nodes (ids), CTEs before their readers, main_query last.
pub(crate) fn topo_order(nodes: &[Node]) -> Result<Vec<String>, String> {
    let items: Vec<(String, Vec<String>)> = nodes
        .iter()
        .map(|n| {
            (
                n.id.to_lowercase(),
                n.refs.iter().map(|r| r.to_lowercase()).collect(),
            )
        })
        .collect();
    Ok(stable_topo(&items)?
        .into_iter()
        .map(|i| nodes[i].id.clone())
        .collect())
}

/// Depth-first topological sort over `(name, deps)` that keeps the given order wherever
/// dependencies allow: each item is emitted right after its not-yet-emitted deps.
/// Err: the cycle as "a -> b -> a".
pub(super) fn stable_topo(items: &[(String, Vec<String>)]) -> Result<Vec<usize>, String> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Active,
        Done,
    }
    fn visit(
        i: usize,
        items: &[(String, Vec<String>)],
        state: &mut [State],
        stack: &mut Vec<usize>,
        out: &mut Vec<usize>,
    ) -> Result<(), String> {
        match state[i] {
            State::Done => return Ok(()),
            State::Active => {
                let start = stack.iter().position(|&s| s == i).unwrap_or(0);
                let mut path: Vec<&str> = stack[start..]
                    .iter()
                    .map(|&s| items[s].0.as_str())
                    .collect();
                path.push(items[i].0.as_str());
                return Err(path.join(" -> "));
            }
            State::New => {}
        }
        state[i] = State::Active;
        stack.push(i);
        let mut deps: Vec<usize> = items[i]
            .1
            .iter()
            .filter_map(|d| items.iter().position(|(n, _)| n == d))
            .collect();
        deps.sort_unstable();
        deps.dedup();
        for d in deps {
            visit(d, items, state, stack, out)?;
        }
        stack.pop();
        state[i] = State::Done;
        out.push(i);
        Ok(())
    }
    let mut state = vec![State::New; items.len()];
    let (mut stack, mut out) = (Vec::new(), Vec::with_capacity(items.len()));
    for i in 0..items.len() {
        visit(i, items, &mut state, &mut stack, &mut out)?;
    }
    Ok(out)
}
