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
//! guess. When a sort key is not an output column (see `order.rs`), the candidate must
//! match the original's exact row order, else `inconclusive`/`unverifiable_order`.
//!
//! It compares two in-memory results; it never runs SQL.

use super::order::OrderSpec;
use super::resultset::{Cell, ResultSet, Row, TypeClass, render_row};
use super::verdict::{Diff, Reason};
use std::cmp::Ordering;
use std::collections::HashMap;

/// Relative float tolerance (recorded in validation.json).
pub const FLOAT_REL_TOL: f64 = 1e-9;
/// Absolute float tolerance (recorded in validation.json).
pub const FLOAT_ABS_TOL: f64 = 1e-6;
/// Rows shown from each side of a difference.
pub const DIFF_ROWS: usize = 5;
/// Upper bound on pairwise comparisons when re-pairing unmatched float rows.
const GREEDY_PAIRS_MAX: usize = 20_000_000;

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
            "{} original rows have no match in the candidate",
            miss.len()
        );
        return different(
            &notes,
            Reason::ValueMismatch,
            cmp.report(&o, &c, &miss, &extra, message),
        );
    }
    let keys = &spec.key_cols;
    if let Some(i) = (0..o.len()).find(|&i| !cmp.keys_eq(o[i], c[i], keys)) {
        let (miss, extra) = cmp.bag_diff(&o, &c);
        let reason = if miss.is_empty() && extra.is_empty() {
            Reason::OrderMismatch
        } else {
            Reason::ValueMismatch
        };
        let message = format!(
            "row {}: sort-key values differ from the original's (ORDER BY order not kept)",
            i + 1
        );
        let window: Vec<usize> = (i..(i + DIFF_ROWS).min(o.len())).collect();
        return different(
            &notes,
            reason,
            cmp.report(&o, &c, &window, &window, message),
        );
    }
    let runs = runs(&o, |a, b| cmp.keys_eq(a, b, keys));
    for (r, &(a, b)) in runs.iter().enumerate() {
        let (miss, extra) = cmp.bag_diff(&o[a..b], &c[a..b]);
        if miss.is_empty() && extra.is_empty() {
            continue;
        }
        let cut_at_end = r == runs.len() - 1 && (spec.limit.is_some() || spec.window_unknown);
        let cut_at_start = r == 0 && (spec.offset > 0 || spec.window_unknown);
        let shift = |v: &[usize]| v.iter().map(|i| i + a).collect::<Vec<_>>();
        if !(cut_at_end || cut_at_start) {
            let message = format!(
                "rows {}..{} (equal sort keys) differ as a multiset",
                a + 1,
                b
            );
            return different(
                &notes,
                Reason::ValueMismatch,
                cmp.report(&o, &c, &shift(&miss), &shift(&extra), message),
            );
        }
        let Some(all) = ties.filter(|_| !spec.window_unknown) else {
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
        let group: Vec<&Row> = all.iter().filter(|u| cmp.keys_eq(u, o[a], keys)).collect();
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
    if !spec.unmapped.is_empty() {
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

/// Maximal runs `[a, b)` of consecutive rows that are equal under `eq`.
fn runs(rows: &[&Row], eq: impl Fn(&Row, &Row) -> bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=rows.len() {
        if i == rows.len() || !eq(rows[start], rows[i]) {
            if i > start {
                out.push((start, i));
            }
            start = i;
        }
    }
    out
}

/// Exact, hashable form of a cell; tolerant (float) cells collapse to `Float`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Null,
    Bool(bool),
    Num(i128, u8),
    Text(String),
    Bytes(Vec<u8>),
    Instant(i128),
    Time(i64),
    Interval(i32, i32, i64),
    Other(String),
    Float,
    FloatBits(u64),
}

/// Per-column comparison rules for one (original, candidate) pair.
struct Comparer {
    tolerant: Vec<bool>,
}

impl Comparer {
    fn for_columns(
        orig: &ResultSet,
        cand: &ResultSet,
    ) -> Result<(Self, Vec<String>), (Reason, Diff)> {
        let describe = |rs: &ResultSet| {
            rs.columns
                .iter()
                .map(|c| format!("{} {}", c.name, c.type_name))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if orig.columns.len() != cand.columns.len() {
            let diff = Diff {
                message: format!(
                    "original has {} columns, candidate has {}",
                    orig.columns.len(),
                    cand.columns.len()
                ),
                original: vec![describe(orig)],
                optimized: vec![describe(cand)],
            };
            return Err((Reason::ColumnCountMismatch, diff));
        }
        let mut notes = Vec::new();
        let mut tolerant = Vec::new();
        for (j, (a, b)) in orig.columns.iter().zip(&cand.columns).enumerate() {
            let (x, y) = (a.class, b.class);
            let ok = x == y
                || x == TypeClass::Null
                || y == TypeClass::Null
                || (x.is_numeric() && y.is_numeric())
                || matches!(
                    (x, y),
                    (TypeClass::Date, TypeClass::Timestamp)
                        | (TypeClass::Timestamp, TypeClass::Date)
                );
            if !ok {
                let diff = Diff {
                    message: format!(
                        "column {} ({}): original type {} is not compatible with candidate type {}",
                        j + 1,
                        a.name,
                        a.type_name,
                        b.type_name
                    ),
                    original: vec![describe(orig)],
                    optimized: vec![describe(cand)],
                };
                return Err((Reason::ColumnTypeMismatch, diff));
            }
            let float = x == TypeClass::Float || y == TypeClass::Float;
            if a.type_name != b.type_name && x != TypeClass::Null && y != TypeClass::Null {
                let how = if float {
                    "compared with float tolerance"
                } else {
                    "compared by value"
                };
                notes.push(format!(
                    "column {} ({}): type drift {} -> {}, {how}",
                    j + 1,
                    a.name,
                    a.type_name,
                    b.type_name
                ));
            }
            tolerant.push(float);
        }
        Ok((Self { tolerant }, notes))
    }

    fn key(&self, cell: &Cell, tolerant: bool) -> Key {
        if tolerant && cell.as_f64().is_some() {
            return Key::Float;
        }
        match cell {
            Cell::Null => Key::Null,
            Cell::Bool(b) => Key::Bool(*b),
            Cell::Int(i) => Key::Num(*i, 0),
            Cell::Decimal { value, scale } => {
                let (mut v, mut s) = (*value, *scale);
                while s > 0 && v % 10 == 0 {
                    v /= 10;
                    s -= 1;
                }
                Key::Num(v, s)
            }
            Cell::Float(f) => Key::FloatBits(canonical(*f).to_bits()),
            Cell::Text(s) => Key::Text(s.clone()),
            Cell::Blob(b) => Key::Bytes(b.clone()),
            Cell::Date(d) => Key::Instant(i128::from(*d) * 86_400 * 1_000_000_000),
            Cell::Timestamp(ns) => Key::Instant(*ns),
            Cell::Time(us) => Key::Time(*us),
            Cell::Interval {
                months,
                days,
                nanos,
            } => Key::Interval(*months, *days, *nanos),
            Cell::Other(s) => Key::Other(s.clone()),
        }
    }

    fn cells_eq(&self, a: &Cell, b: &Cell, j: usize) -> bool {
        let tol = self.tolerant[j];
        match (tol, a.as_f64(), b.as_f64()) {
            (true, Some(x), Some(y)) => float_eq(x, y),
            _ => self.key(a, tol) == self.key(b, tol),
        }
    }

    fn rows_eq(&self, a: &Row, b: &Row) -> bool {
        (0..a.len()).all(|j| self.cells_eq(&a[j], &b[j], j))
    }

    fn keys_eq(&self, a: &Row, b: &Row, cols: &[usize]) -> bool {
        cols.iter().all(|&j| self.cells_eq(&a[j], &b[j], j))
    }

    fn exact_key(&self, row: &Row) -> Vec<Key> {
        row.iter()
            .enumerate()
            .map(|(j, c)| self.key(c, self.tolerant[j]))
            .collect()
    }

    fn float_tuple(&self, row: &Row) -> Vec<f64> {
        row.iter()
            .enumerate()
            .filter(|(j, _)| self.tolerant[*j])
            .filter_map(|(_, c)| c.as_f64().map(canonical))
            .collect()
    }

    /// Multiset difference: indexes of `a` rows without a partner in `b`, and of `b` rows
    /// without a partner in `a` (both sorted).
    fn bag_diff(&self, a: &[&Row], b: &[&Row]) -> (Vec<usize>, Vec<usize>) {
        let mut groups: HashMap<Vec<Key>, (Vec<usize>, Vec<usize>)> = HashMap::new();
        for (i, r) in a.iter().enumerate() {
            groups.entry(self.exact_key(r)).or_default().0.push(i);
        }
        for (i, r) in b.iter().enumerate() {
            groups.entry(self.exact_key(r)).or_default().1.push(i);
        }
        let (mut miss, mut extra) = (Vec::new(), Vec::new());
        for (_, (mut ai, mut bi)) in groups {
            if !self.tolerant.iter().any(|t| *t) || ai.is_empty() || bi.is_empty() {
                let m = ai.len().min(bi.len());
                miss.extend_from_slice(&ai[m..]);
                extra.extend_from_slice(&bi[m..]);
                continue;
            }
            // Same exact part: pair the float parts, sorted, then mop up leftovers.
            let order = |rows: &[&Row], x: &usize, y: &usize| {
                cmp_f64s(&self.float_tuple(rows[*x]), &self.float_tuple(rows[*y]))
            };
            ai.sort_by(|x, y| order(a, x, y));
            bi.sort_by(|x, y| order(b, x, y));
            let (mut i, mut k) = (0, 0);
            let (mut left_a, mut left_b) = (Vec::new(), Vec::new());
            while i < ai.len() && k < bi.len() {
                if self.rows_eq(a[ai[i]], b[bi[k]]) {
                    i += 1;
                    k += 1;
                } else if cmp_f64s(&self.float_tuple(a[ai[i]]), &self.float_tuple(b[bi[k]]))
                    == Ordering::Less
                {
                    left_a.push(ai[i]);
                    i += 1;
                } else {
                    left_b.push(bi[k]);
                    k += 1;
                }
            }
            left_a.extend_from_slice(&ai[i..]);
            left_b.extend_from_slice(&bi[k..]);
            // Pairwise rescue for values the sort placed out of step (near-equal floats in
            // several columns); skipped when hopelessly large, leaving them unmatched.
            if left_a.len().saturating_mul(left_b.len()) > GREEDY_PAIRS_MAX {
                miss.extend(left_a);
                extra.extend(left_b);
                continue;
            }
            let mut used = vec![false; left_b.len()];
            for x in left_a {
                match (0..left_b.len()).find(|&y| !used[y] && self.rows_eq(a[x], b[left_b[y]])) {
                    Some(y) => used[y] = true,
                    None => miss.push(x),
                }
            }
            extra.extend(
                left_b
                    .iter()
                    .zip(&used)
                    .filter(|(_, u)| !**u)
                    .map(|(y, _)| *y),
            );
        }
        miss.sort_unstable();
        extra.sort_unstable();
        (miss, extra)
    }

    fn bag_diff_report(&self, o: &[&Row], c: &[&Row], message: String) -> Diff {
        let (miss, extra) = self.bag_diff(o, c);
        self.report(o, c, &miss, &extra, message)
    }

    fn report(
        &self,
        o: &[&Row],
        c: &[&Row],
        from_o: &[usize],
        from_c: &[usize],
        message: String,
    ) -> Diff {
        let show = |rows: &[&Row], idx: &[usize]| {
            idx.iter()
                .take(DIFF_ROWS)
                .map(|&i| format!("#{}: {}", i + 1, render_row(rows[i])))
                .collect()
        };
        Diff {
            message,
            original: show(o, from_o),
            optimized: show(c, from_c),
        }
    }
}

fn canonical(f: f64) -> f64 {
    if f.is_nan() {
        f64::NAN
    } else if f == 0.0 {
        0.0
    } else {
        f
    }
}

fn cmp_f64s(a: &[f64], b: &[f64]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        match x.total_cmp(y) {
            Ordering::Equal => continue,
            other => return other,
        }
    }
    a.len().cmp(&b.len())
}

/// Floats equal within relative 1e-9 or absolute 1e-6; NaN = NaN; -0.0 = 0.0.
pub fn float_eq(x: f64, y: f64) -> bool {
    if x.is_nan() || y.is_nan() {
        return x.is_nan() && y.is_nan();
    }
    if x == y || x.is_infinite() || y.is_infinite() {
        return x == y;
    }
    let d = (x - y).abs();
    d <= FLOAT_ABS_TOL || d <= FLOAT_REL_TOL * x.abs().max(y.abs())
}
