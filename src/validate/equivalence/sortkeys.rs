//! Sort keys that are not output columns (`ORDER BY CASE WHEN lochierarchy = 0 THEN ..`,
//! `ORDER BY sum_sales - avg_monthly_sales`, a hidden column), computed by running the
//! original with those keys exposed (order.rs builds the SQL) in the sandbox; the running
//! is `validate/exposed.rs`'s, this file only holds the keys (equivalence never runs SQL).
//!
//! The exposed run is itself a valid execution of the original: the original's own
//! result must agree with it under the exposed keys (same rows run by run, tie groups at
//! a LIMIT cut from the unlimited run); otherwise it is discarded and the check falls back to
//! requiring the exact original order. With the keys known, `equivalence.rs` checks the
//! candidate run by run: within each run of equal sort keys, the candidate's rows must be
//! the original's rows (as a multiset), which is exactly "a valid order".

use crate::validate::resultset::{Cell, ResultSet, Row};

/// The exposed sort-key values of each row of the original's result (in the order of
/// [`Exposed::rows`]), and of its unlimited result when it has a LIMIT window.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKeys {
    pub keys: Vec<Vec<Cell>>,
    pub tie_keys: Option<Vec<Vec<Cell>>>,
}

/// One valid execution of the original with its keys: the rows (and unlimited rows)
/// replace the baseline's, so keys and rows line up.
#[derive(Debug)]
pub struct Exposed {
    pub rows: Vec<Row>,
    pub tie_rows: Option<Vec<Row>>,
    pub keys: SortKeys,
}

/// Split `width`-column rows into (output part, key part).
pub(crate) fn split(rs: ResultSet, width: usize) -> (Vec<Row>, Vec<Vec<Cell>>) {
    rs.rows
        .into_iter()
        .map(|mut r| {
            let keys = r.split_off(width.min(r.len()));
            (r, keys)
        })
        .unzip()
}
