//! Does the candidate return the same answer as the original? (VALIDATION.md, "Equivalence")
//!
//! Columns: same count, compatible types (numeric drift such as DECIMAL vs DOUBLE is a
//! note, not a failure). Values: NULL = NULL; integers, strings, dates and DECIMALs exact
//! (DECIMALs compared numerically at their scale, so 1.50 = 1.5); floats equal within
//! relative 1e-9 or absolute 1e-6, -0.0 = 0.0, NaN = NaN.
//!
//! Rows: without an ORDER BY in the original, multiset (bag) equality. With one, the
//! candidate's sort-key values must follow the original's row by row, and within each run
//! of equal sort keys the rows must agree as a multiset. With LIMIT/OFFSET, the runs cut
//! by the window (first and last) may legitimately hold *other* tied rows: they must be a
//! sub-multiset of that tie group in the original's unlimited result (`ties`). When the
//! unlimited result is unavailable the answer is `inconclusive`/`ambiguous_ties`, never a
//! guess. When a sort key is not an output column (see `order.rs`), its values come from
//! running the original with it exposed (`sortkeys.rs`) and runs of equal keys are
//! checked the same way; only when that is impossible must the candidate match the
//! original's exact row order, else `inconclusive`/`unverifiable_order`.
//!
//! It compares two in-memory results; it never runs SQL.

pub mod columns;
mod comparer;
mod diffmsg;
pub mod order;
pub mod sortkeys;

use crate::validate::resultset::{ResultSet, Row};
use crate::validate::vocab::{DIFF_ROWS, Diff, Reason};
use comparer::Comparer;
use order::OrderSpec;
use sortkeys::SortKeys;

/// Result of comparing two result sets.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Same {
        notes: Vec<String>,
    },
    Different {
        reason: Reason,
        diff: Diff,
        notes: Vec<String>,
    },
    Unsure {
        reason: Reason,
        message: String,
    },
}

/// Compare `cand` against `orig` under the original's ordering promise `spec`; `ties` is
/// the original's complete unlimited result when `spec` has a LIMIT/OFFSET window.
pub fn compare(
    orig: &ResultSet,
    cand: &ResultSet,
    spec: &OrderSpec,
    ties: Option<&[Row]>,
) -> Outcome {
    compare_keyed(orig, cand, spec, ties, None)
}

/// [`compare`] with the values of the original's unmapped sort keys (`sortkeys.rs`):
/// `orig` must then be `keys.rows`, and `ties` `keys.tie_rows`.
pub fn compare_keyed(
    orig: &ResultSet,
    cand: &ResultSet,
    spec: &OrderSpec,
    ties: Option<&[Row]>,
    keys: Option<&SortKeys>,
) -> Outcome {
    let (cmp, notes) = match Comparer::for_columns(orig, cand) {
        Ok(x) => x,
        Err((reason, diff)) => {
            return Outcome::Different {
                reason,
                diff,
                notes: Vec::new(),
            };
        }
    };
    let names = orig.column_names();
    let o: Vec<&Row> = orig.rows.iter().collect();
    let c: Vec<&Row> = cand.rows.iter().collect();
    let mut notes = notes;
    if o.len() != c.len() {
        let message = format!("original has {} rows, candidate has {}", o.len(), c.len());
        return different(
            &notes,
            Reason::RowCountMismatch,
            cmp.bag_diff_report(&o, &c, message),
        );
    }
    if !spec.ordered && !spec.has_window() {
        let (miss, extra) = cmp.bag_diff(&o, &c);
        if miss.is_empty() && extra.is_empty() {
            return Outcome::Same { notes };
        }
        let message = format!(
            "{} original rows have no match in the candidate{}",
            miss.len(),
            diffmsg::closest_pair(&cmp, &names, &o, &c, &miss, &extra)
        );
        return different(
            &notes,
            Reason::ValueMismatch,
            cmp.report(&o, &c, &miss, &extra, message),
        );
    }
    let kc = &spec.key_cols;
    let ex = keys.filter(|k| k.keys.len() == o.len());
    let same_key = |i: usize, j: usize| {
        cmp.keys_eq(o[i], o[j], kc) && ex.is_none_or(|k| diffmsg::cells_close(&k.keys[i], &k.keys[j]))
    };
    if let Some(i) = (0..o.len()).find(|&i| !cmp.keys_eq(o[i], c[i], kc)) {
        let (miss, extra) = cmp.bag_diff(&o, &c);
        let same_rows = miss.is_empty() && extra.is_empty();
        let reason = if same_rows {
            Reason::OrderMismatch
        } else {
            Reason::ValueMismatch
        };
        let message = diffmsg::row_message(&cmp, &names, i, o[i], c[i], kc, same_rows);
        let window: Vec<usize> = (i..(i + DIFF_ROWS).min(o.len())).collect();
        return different(
            &notes,
            reason,
            cmp.report(&o, &c, &window, &window, message),
        );
    }
    let runs = runs(o.len(), same_key);
    for (r, &(a, b)) in runs.iter().enumerate() {
        let (miss, extra) = cmp.bag_diff(&o[a..b], &c[a..b]);
        if miss.is_empty() && extra.is_empty() {
            continue;
        }
        let cut_at_end = r == runs.len() - 1 && (spec.limit.is_some() || spec.window_unknown);
        let cut_at_start = r == 0 && (spec.offset > 0 || spec.window_unknown);
        let shift = |v: &[usize]| v.iter().map(|i| i + a).collect::<Vec<_>>();
        if !(cut_at_end || cut_at_start) {
            let (everywhere_miss, everywhere_extra) = cmp.bag_diff(&o, &c);
            let (reason, how) = if everywhere_miss.is_empty() && everywhere_extra.is_empty() {
                (
                    Reason::OrderMismatch,
                    "the candidate has the same rows, but not in an order the ORDER BY allows".to_string(),
                )
            } else {
                (
                    Reason::ValueMismatch,
                    format!(
                        "differ as a multiset{}",
                        diffmsg::closest_pair(&cmp, &names, &o[a..b], &c[a..b], &miss, &extra)
                    ),
                )
            };
            let message = format!("rows {}..{} (equal sort keys): {how}", a + 1, b);
            return different(
                &notes,
                reason,
                cmp.report(&o, &c, &shift(&miss), &shift(&extra), message),
            );
        }
        let tie_keys = match ex {
            Some(k) => k.tie_keys.as_deref().filter(|tk| ties.is_some_and(|t| t.len() == tk.len())),
            None => None,
        };
        let usable = ties.filter(|_| !spec.window_unknown && (ex.is_none() || tie_keys.is_some()));
        let Some(all) = usable else {
            return Outcome::Unsure {
                reason: Reason::AmbiguousTies,
                message: format!(
                    "rows {}..{} tie on the sort keys at the LIMIT/OFFSET cut and differ from the original's; \
                     the original's full tie group is not available, so this cannot be decided",
                    a + 1,
                    b
                ),
            };
        };
        let group: Vec<&Row> = all
            .iter()
            .enumerate()
            .filter(|(t, u)| {
                cmp.keys_eq(u, o[a], kc)
                    && match (ex, tie_keys) {
                        (Some(k), Some(tk)) => diffmsg::cells_close(&tk[*t], &k.keys[a]),
                        _ => true,
                    }
            })
            .map(|(_, u)| u)
            .collect();
        let (_, outside) = cmp.bag_diff(&group, &c[a..b]);
        if !outside.is_empty() {
            let message = format!(
                "rows {}..{} are cut by LIMIT/OFFSET; {} candidate rows are not in the original's tie group",
                a + 1,
                b,
                outside.len()
            );
            return different(
                &notes,
                Reason::ValueMismatch,
                cmp.report(&o, &c, &shift(&miss), &shift(&outside), message),
            );
        }
        notes.push(format!(
            "rows {}..{} tie on the sort keys at the LIMIT cut: the candidate picked other tied rows of the original's tie group",
            a + 1,
            b
        ));
    }
    if !spec.unmapped.is_empty() && ex.is_some() {
        notes.push(format!(
            "sort key `{}` is not an output column; it was computed by running the original with it exposed",
            spec.unmapped[0]
        ));
    } else if !spec.unmapped.is_empty() && spec.text_only {
        notes.push(format!(
            "the original's sort key `{}` could not be read or computed; rows within equal \
             readable sort keys were compared as a multiset",
            spec.unmapped[0]
        ));
    } else if !spec.unmapped.is_empty() {
        if (0..o.len()).all(|i| cmp.rows_eq(o[i], c[i])) {
            notes.push(format!(
                "sort key `{}` is not an output column; rows matched in exactly the original order",
                spec.unmapped[0]
            ));
        } else {
            return Outcome::Unsure {
                reason: Reason::UnverifiableOrder,
                message: format!(
                    "rows agree on the sort keys that are output columns, but the original's sort key `{}` is not \
                     an output column and the candidate's row order differs, so the order cannot be verified",
                    spec.unmapped[0]
                ),
            };
        }
    }
    Outcome::Same { notes }
}

fn different(notes: &[String], reason: Reason, diff: Diff) -> Outcome {
    Outcome::Different {
        reason,
        diff,
        notes: notes.to_vec(),
    }
}

/// Maximal runs `[a, b)` of consecutive row indexes `0..n` equal under `eq`.
fn runs(n: usize, eq: impl Fn(usize, usize) -> bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=n {
        if i == n || !eq(start, i) {
            if i > start {
                out.push((start, i));
            }
            start = i;
        }
    }
    out
}
