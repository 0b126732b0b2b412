//! Running the original with its unmapped sort keys exposed (the SQL comes from
//! `equivalence/order`), in the sandbox, until one exposure gives keys the original's own
//! result agrees with (see `equivalence/sortkeys.rs` for what the keys are for).

use super::TIE_ROWS_CAP;
use super::equivalence::order::OrderSpec;
use super::equivalence::sortkeys::{Exposed, SortKeys, split};
use super::equivalence::{self, Outcome};
use super::resultset::ResultSet;
use super::sandbox::Sandbox;
use std::time::Duration;

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
