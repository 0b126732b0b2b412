//! Which tables of the sample DB a query reads, and the "no answer without reading the
//! data" rule: a candidate that reads no base table (a `VALUES` list, constants) cannot be
//! a rewrite of a query that does, whatever its speed; one that reads none of the
//! original's fact tables gets a note (the other instances, with different facts, catch
//! an answer fitted to the primary's data).
//!
//! Tables come from the DAG walker (sqlparser; CTE names are not tables) matched against
//! the database's tables, so table functions and typos are not counted.

use crate::db::Target;

/// Fact tables by name (TPC-DS); for other schemas the original's largest table counts.
const FACT_NAMES: [&str; 7] = [
    "store_sales",
    "store_returns",
    "catalog_sales",
    "catalog_returns",
    "web_sales",
    "web_returns",
    "inventory",
];

/// The real tables of `db` that `sql` reads (lowercase name, rows). `None` when the SQL
/// cannot be parsed or the DB cannot be read (the rule is then not applied).
pub fn tables_read(db: impl Into<Target>, sql: &str) -> Option<Vec<(String, u64)>> {
    let db = db.into();
    let dag = crate::dag::parse_first_dag_for(sql, db.engine()).ok()?;
    let mut names: Vec<String> = Vec::new();
    for n in &dag.nodes {
        for t in &n.tables {
            if !names.contains(t) {
                names.push(t.clone());
            }
        }
    }
    let schema = db.schema(&names).ok()?;
    Some(
        schema
            .into_iter()
            .map(|t| (t.name.to_lowercase(), t.rows))
            .collect(),
    )
}

/// The original's fact tables: TPC-DS fact names it reads, else its largest table.
pub fn fact_tables(original: &[(String, u64)]) -> Vec<String> {
    let named: Vec<String> = original
        .iter()
        .filter(|(n, _)| FACT_NAMES.contains(&n.as_str()))
        .map(|(n, _)| n.clone())
        .collect();
    if !named.is_empty() {
        return named;
    }
    original
        .iter()
        .max_by_key(|(_, rows)| *rows)
        .map(|(n, _)| vec![n.clone()])
        .unwrap_or_default()
}

/// What the rule says about a candidate.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadCheck {
    Fine,
    /// Reads no table at all while the original does: `constant_result`.
    NoTable,
    /// Reads tables, but none of these fact tables of the original.
    NoFactTable(Vec<String>),
}

/// Applies the rule; `original` is [`tables_read`] of the original on the same DB.
pub fn check(db: impl Into<Target>, original: Option<&[(String, u64)]>, candidate_sql: &str) -> ReadCheck {
    let Some(original) = original.filter(|o| !o.is_empty()) else {
        return ReadCheck::Fine;
    };
    let Some(cand) = tables_read(db, candidate_sql) else {
        return ReadCheck::Fine;
    };
    if cand.is_empty() {
        return ReadCheck::NoTable;
    }
    let facts = fact_tables(original);
    if !facts.is_empty() && !cand.iter().any(|(n, _)| facts.contains(n)) {
        return ReadCheck::NoFactTable(facts);
    }
    ReadCheck::Fine
}
