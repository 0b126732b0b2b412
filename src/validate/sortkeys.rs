//! Sort keys that are not output columns (`ORDER BY CASE WHEN lochierarchy = 0 THEN ..`,
//! `ORDER BY sum_sales - avg_monthly_sales`, a hidden column), computed by running the
//! original with those keys exposed (order.rs builds the SQL) in the sandbox.
//!
//! The exposed run is itself a valid execution of the original: the original's own
//! result must agree with it under the exposed keys (same rows run by run, tie groups at
//! a LIMIT cut from the unlimited run); otherwise it is discarded and the check falls back to
//! requiring the exact original order. With the keys known, `equivalence.rs` checks the
//! candidate run by run: within each run of equal sort keys, the candidate's rows must be
//! the original's rows (as a multiset), which is exactly "a valid order".

use super::TIE_ROWS_CAP;
use super::equivalence::{self, Outcome};
use super::order::OrderSpec;
use super::resultset::{Cell, ResultSet, Row};
use super::sandbox::Sandbox;
use std::time::Duration;

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
fn split(rs: ResultSet, width: usize) -> (Vec<Row>, Vec<Vec<Cell>>) {
    rs.rows
        .into_iter()
        .map(|mut r| {
            let keys = r.split_off(width.min(r.len()));
            (r, keys)
        })
        .unzip()
}

/// Run the original's exposures until one gives trustworthy keys. `Err` says why none did.
pub(super) fn expose(
    sb: &Sandbox,
    original: &ResultSet,
    spec: &OrderSpec,
    deadline: Duration,
) -> Result<Exposed, String> {
    let width = original.columns.len();
    let mut why = Vec::new();
    for e in &spec.exposures {
        let run = match sb.run(&e.sql, deadline) {
            Ok(x) if x.result.columns.len() == width + e.keys => x.result,
            Ok(_) => {
                why.push("the exposed query returned other columns".to_string());
                continue;
            }
            Err(err) => {
                why.push(err.to_string());
                continue;
            }
        };
        let (rows, keys) = split(run, width);
        let exposed = ResultSet {
            columns: original.columns.clone(),
            rows,
        };
        let (tie_rows, tie_keys) = match (&e.unlimited_sql, spec.window_unknown) {
            (Some(sql), false) => match sb.run_capped(sql, deadline, TIE_ROWS_CAP) {
                Ok(x) if !x.truncated && x.result.columns.len() == width + e.keys => {
                    let (r, k) = split(x.result, width);
                    (Some(r), Some(k))
                }
                _ => (None, None),
            },
            _ => (None, None),
        };
        let keys = SortKeys { keys, tie_keys };
        // Same rows as the original, in an order its own keys allow (tie groups at a
        // LIMIT cut may hold other tied rows): the exposed run is a valid execution.
        let check =
            equivalence::compare_keyed(&exposed, original, spec, tie_rows.as_deref(), Some(&keys));
        if matches!(check, Outcome::Same { .. }) {
            return Ok(Exposed {
                rows: exposed.rows,
                tie_rows,
                keys,
            });
        }
        why.push("the original's own row order disagrees with the exposed keys".into());
    }
    Err(why.join("; "))
}
