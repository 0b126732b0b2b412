//! Value-level comparison rules for one (original, candidate) column layout: column
//! compatibility, exact keys, float tolerance, multiset differences and diff rendering.
//!
//! Multisets with floats are matched by grouping rows on their exact (non-float) part,
//! sorting each group by its float part and pairing neighbours within tolerance, then
//! re-pairing leftovers one by one (bounded), so values that straddle a rounding
//! boundary still match. It knows nothing about ORDER BY or LIMIT (`equivalence.rs`).

use crate::validate::resultset::{Cell, ResultSet, Row, TypeClass, render_row};
use crate::validate::vocab::{DIFF_ROWS, Diff, Reason, float_eq};
use std::cmp::Ordering;
use std::collections::HashMap;

/// Upper bound on pairwise comparisons when re-pairing unmatched float rows.
const GREEDY_PAIRS_MAX: usize = 20_000_000;

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
pub(super) struct Comparer {
    tolerant: Vec<bool>,
}

impl Comparer {
    pub(super) fn for_columns(
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
            return Err((Reason::ColumnMismatch, diff));
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

    pub(super) fn cells_eq(&self, a: &Cell, b: &Cell, j: usize) -> bool {
        let tol = self.tolerant[j];
        match (tol, a.as_f64(), b.as_f64()) {
            (true, Some(x), Some(y)) => float_eq(x, y),
            _ => self.key(a, tol) == self.key(b, tol),
        }
    }

    pub(super) fn rows_eq(&self, a: &Row, b: &Row) -> bool {
        (0..a.len()).all(|j| self.cells_eq(&a[j], &b[j], j))
    }

    pub(super) fn keys_eq(&self, a: &Row, b: &Row, cols: &[usize]) -> bool {
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
    pub(super) fn bag_diff(&self, a: &[&Row], b: &[&Row]) -> (Vec<usize>, Vec<usize>) {
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

    pub(super) fn bag_diff_report(&self, o: &[&Row], c: &[&Row], message: String) -> Diff {
        let (miss, extra) = self.bag_diff(o, c);
        self.report(o, c, &miss, &extra, message)
    }

    pub(super) fn report(
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
