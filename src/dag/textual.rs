//! Assembly without sqlparser: when a node body (from the original or the answer) uses
//! syntax sqlparser cannot read, the answer is still assembled, as text. Node bodies are
//! checked by the engine's parser where it is local (DuckDB's, `db/gate.rs`; see
//! `parse::engine_check` for PostgreSQL), CTE dependencies are the CTE names a
//! body mentions, and the WITH clause is re-emitted in dependency order with names
//! quoted where they need it. Same rules as the AST path in `assemble.rs`; it only
//! trades the syntax tree for text.

use super::answer::{AnswerError, RewriteSet};
use super::assemble::{ident, stable_topo, strip_cte_wrapper};
use super::{Dag, MAIN_QUERY, NodeKind};
use crate::sqltext::{split_with, strip_tail, words};
use crate::db::gate::GateError;
use std::collections::BTreeSet;

struct Entry {
    name: String,
    /// `name [(cols)] AS [..]` as it will be printed.
    head: String,
    body: String,
}

impl Entry {
    fn key(&self) -> String {
        self.name.to_lowercase()
    }
}

/// One node body checked by the engine: exactly one query, restated wrapper removed.
fn node_body(id: &str, body: &str, engine: crate::db::Engine) -> Result<String, AnswerError> {
    let check = |t: &str| super::parse::engine_check(t, engine);
    let text = strip_tail(body).trim();
    let text = match check(text) {
        // Too large is the whole candidate's verdict (validate's gate says why), not a
        // malformed answer.
        Ok(()) | Err(GateError::Bounds(_)) => text,
        Err(first) => match strip_cte_wrapper(id, text) {
            Some(inner) if check(inner).is_ok() => inner,
            _ => {
                return Err(match first {
                    GateError::Parse(error) => AnswerError::InvalidNodeSql {
                        node: id.to_string(),
                        error,
                    },
                    GateError::NotSelect(error) | GateError::Bounds(error) => AnswerError::NotAQuery {
                        node: id.to_string(),
                        error,
                    },
                });
            }
        },
    };
    Ok(text.trim().to_string())
}

/// Apply a rewrite set to the DAG as text and print the resulting query.
pub(super) fn assemble_text(dag: &Dag, set: &RewriteSet) -> Result<String, AnswerError> {
    let mut ctes: Vec<Entry> = Vec::new();
    let mut main = String::new();
    let mut recursive = dag.recursive;
    for node in &dag.nodes {
        match node.kind {
            // A degraded DAG's main_query is the whole statement, WITH included.
            NodeKind::Main => match split_with(&node.sql) {
                Some((rec, inner, rest)) => {
                    recursive |= rec;
                    ctes.extend(inner.into_iter().map(|c| Entry {
                        name: c.name,
                        head: c.head,
                        body: c.body,
                    }));
                    main = rest;
                }
                None => main = node.sql.clone(),
            },
            NodeKind::Cte => {
                let cols = match node.alias_columns.is_empty() {
                    true => String::new(),
                    false => {
                        let c: Vec<String> = node
                            .alias_columns
                            .iter()
                            .map(|c| ident(c).to_string())
                            .collect();
                        format!("({})", c.join(", "))
                    }
                };
                ctes.push(Entry {
                    name: node.id.clone(),
                    head: format!("{}{cols} AS", ident(&node.id)),
                    body: node.sql.clone(),
                });
            }
        }
    }
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
    let mut main_ctes = Vec::new();
    for (id, body) in &set.nodes {
        let text = node_body(id, body, dag.engine)?;
        if id.eq_ignore_ascii_case(MAIN_QUERY) {
            match split_with(&text) {
                Some((rec, inner, rest)) => {
                    recursive |= rec;
                    main_ctes = inner;
                    main = rest;
                }
                None => main = text,
            }
        } else {
            check_new(&ctes, id)?;
            let entry = Entry {
                name: id.clone(),
                head: format!("{} AS", ident(id)),
                body: text,
            };
            match ctes.iter_mut().find(|e| e.key() == entry.key()) {
                Some(existing) => existing.body = entry.body,
                None => ctes.push(entry),
            }
        }
    }
    for c in main_ctes {
        check_new(&ctes, &c.name)?;
        let entry = Entry {
            name: c.name,
            head: c.head,
            body: c.body,
        };
        match ctes.iter_mut().find(|e| e.key() == entry.key()) {
            Some(existing) => *existing = entry,
            None => ctes.push(entry),
        }
    }
    let text = print(order(ctes, &main, recursive), &main, recursive);
    super::parse::engine_check(&text, dag.engine).map_err(|e| AnswerError::Assembled(e.to_string()))?;
    Ok(text)
}

/// The CTEs main_query (transitively) mentions, in stable dependency order; the given
/// order when the mentions form a cycle (a column named like a CTE, or recursion).
fn order(ctes: Vec<Entry>, main: &str, recursive: bool) -> Vec<Entry> {
    let names: BTreeSet<String> = ctes.iter().map(Entry::key).collect();
    let deps = |text: &str, own: Option<&str>| -> Vec<String> {
        let mut seen = BTreeSet::new();
        words(text)
            .into_iter()
            .filter(|w| names.contains(w) && Some(w.as_str()) != own && seen.insert(w.clone()))
            .collect()
    };
    let mut items: Vec<(String, Vec<String>)> = ctes
        .iter()
        .map(|e| (e.key(), deps(&e.body, Some(&e.key()))))
        .collect();
    items.push((MAIN_QUERY.to_string(), deps(main, None)));
    let sequence = match recursive {
        true => (0..items.len()).collect(),
        false => stable_topo(&items).unwrap_or_else(|_| (0..items.len()).collect()),
    };
    let mut live = BTreeSet::from([MAIN_QUERY.to_string()]);
    for &i in sequence.iter().rev() {
        if live.contains(&items[i].0) {
            live.extend(items[i].1.iter().cloned());
        }
    }
    let count = ctes.len();
    let mut slots: Vec<Option<Entry>> = ctes.into_iter().map(Some).collect();
    sequence
        .into_iter()
        .filter(|&i| i < count && live.contains(&items[i].0))
        .filter_map(|i| slots[i].take())
        .collect()
}

fn print(ctes: Vec<Entry>, main: &str, recursive: bool) -> String {
    if ctes.is_empty() {
        return main.to_string();
    }
    let list: Vec<String> = ctes
        .iter()
        .map(|e| format!("{} (\n{}\n)", e.head, e.body))
        .collect();
    let rec = if recursive { "RECURSIVE " } else { "" };
    format!("WITH {rec}{}\n{main}", list.join(",\n"))
}
