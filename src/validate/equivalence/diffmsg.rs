//! Diff sentences that say what differs: which column, and how (a value, NULL vs a value,
//! NaN, or the same rows in another order). `equivalence.rs` decides; this file words it.

use super::comparer::Comparer;
use crate::validate::resultset::{Cell, Row, render_row};
use crate::validate::vocab::float_eq;

/// Exact-or-float-close equality of two key tuples (exposed sort keys).
pub(super) fn cells_close(a: &[Cell], b: &[Cell]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x == y
                || match (x.as_f64(), y.as_f64()) {
                    (Some(p), Some(q)) => float_eq(p, q),
                    _ => false,
                }
        })
}

fn is_nan(c: &Cell) -> bool {
    matches!(c, Cell::Float(f) if f.is_nan())
}

/// How two cells differ, in words.
fn how(a: &Cell, b: &Cell) -> &'static str {
    match (a, b) {
        (Cell::Null, x) if is_nan(x) => "NULL vs NaN",
        (x, Cell::Null) if is_nan(x) => "NaN vs NULL",
        (Cell::Null, _) => "NULL vs a value",
        (_, Cell::Null) => "a value vs NULL",
        _ if is_nan(a) || is_nan(b) => "NaN vs a number",
        _ => "different value",
    }
}

/// `column `x`: original 1.5, candidate NULL (a value vs NULL)` for each differing column.
pub(super) fn column_diffs(cmp: &Comparer, names: &[String], a: &Row, b: &Row) -> Vec<String> {
    (0..a.len().min(b.len()))
        .filter(|&j| !cmp.cells_eq(&a[j], &b[j], j))
        .map(|j| {
            let name = names.get(j).map_or("?", String::as_str);
            format!(
                "column `{name}`: original {}, candidate {} ({})",
                a[j].render(),
                b[j].render(),
                how(&a[j], &b[j])
            )
        })
        .collect()
}

/// The sentence for the first row whose sort-key values differ.
pub(super) fn row_message(
    cmp: &Comparer,
    names: &[String],
    i: usize,
    o: &Row,
    c: &Row,
    keys: &[usize],
    same_rows: bool,
) -> String {
    if same_rows {
        return format!(
            "row {}: the candidate has the same rows as the original but in another order \
             (the ORDER BY puts {} here, the candidate {})",
            i + 1,
            render_row(o),
            render_row(c)
        );
    }
    let diffs = column_diffs(cmp, names, o, c);
    let key_names: Vec<&str> = keys
        .iter()
        .filter_map(|&k| names.get(k).map(String::as_str))
        .collect();
    format!(
        "row {}: {} (sort keys: {})",
        i + 1,
        if diffs.is_empty() {
            "values differ".to_string()
        } else {
            diffs.join("; ")
        },
        key_names.join(", ")
    )
}

/// `; e.g. original row #3 vs candidate row #3: column ...` for the closest unmatched
/// pair (most equal columns), or "" when one side has no unmatched row.
pub(super) fn closest_pair(
    cmp: &Comparer,
    names: &[String],
    o: &[&Row],
    c: &[&Row],
    miss: &[usize],
    extra: &[usize],
) -> String {
    let (Some(&m), false) = (miss.first(), extra.is_empty()) else {
        return String::new();
    };
    let score = |x: usize| {
        (0..o[m].len())
            .filter(|&j| cmp.cells_eq(&o[m][j], &c[x][j], j))
            .count()
    };
    let best = extra
        .iter()
        .copied()
        .take(1000)
        .max_by_key(|&x| score(x))
        .unwrap_or(extra[0]);
    let diffs = column_diffs(cmp, names, o[m], c[best]);
    format!(
        "; closest pair, original row #{} vs candidate row #{}: {}",
        m + 1,
        best + 1,
        diffs.join("; ")
    )
}
