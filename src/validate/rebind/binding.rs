//! A binding (which literals change, and to what) and applying it to a query's text.
//!
//! The same [`apply`] rewrites the original and every candidate, so they are compared on
//! the same question: numbers compared with a column shift by that column's amount (a
//! range `1200 .. 1200 + 11` keeps its width), strings compared with a column are mapped
//! by (column, value), and every date literal shifts by the same number of days. A string
//! or date literal that is compared with no column (a CTE moved it, a CASE holds it) is
//! mapped by value when that is unambiguous. A bound on a count (`HAVING count(*) >= 10`)
//! is mapped by (count, value): wherever that count is compared with that number, under
//! its own name or a select-list alias of it. A candidate that hard-codes what the binding
//! changes (a date key range, a precomputed constant) keeps its old value and fails, which
//! is the right verdict: it only matched the sample's data by coincidence.

use serde::Serialize;
use std::collections::BTreeMap;

use super::slots::{Lit, Occurrence, format_date, occurrences, parse_one};

/// Which literals change. Empty = identity.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Binding {
    /// Numeric shift per column (lowercase name).
    pub shifts: BTreeMap<String, f64>,
    /// (column, old) -> new, for strings.
    pub strings: BTreeMap<(String, String), String>,
    /// Days added to every date literal.
    pub date_shift: i32,
    /// (count key, old bound) -> new bound, for numbers compared with a count.
    pub counts: BTreeMap<(String, i64), i64>,
}

/// One changed literal of the original, for the record and the verdict line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub column: String,
    pub from: String,
    pub to: String,
}

impl Binding {
    pub fn is_identity(&self) -> bool {
        self.shifts.values().all(|s| *s == 0.0)
            && self.strings.iter().all(|((_, a), b)| a == b)
            && self.date_shift == 0
            && self.counts.iter().all(|((_, a), b)| a == b)
    }

    /// Adds `other`'s entries where this binding has none for the same key.
    pub fn merge(&mut self, other: &Binding) {
        for (k, v) in &other.shifts {
            self.shifts.entry(k.clone()).or_insert(*v);
        }
        for (k, v) in &other.strings {
            self.strings.entry(k.clone()).or_insert_with(|| v.clone());
        }
        if self.date_shift == 0 {
            self.date_shift = other.date_shift;
        }
        for (k, v) in &other.counts {
            self.counts.entry(k.clone()).or_insert(*v);
        }
    }

    /// The new literal text for one occurrence, `None` when it stays.
    fn edit(&self, o: &Occurrence) -> Option<String> {
        if let (Lit::Num { value, decimals: 0 }, Some((k, _)), false) = (&o.lit.lit, &o.count, o.lit.negated)
            && let Some(new) = self.counts.get(&(k.clone(), *value as i64)).filter(|n| **n as f64 != *value)
        {
            return Some(new.to_string());
        }
        match (&o.lit.lit, &o.column) {
            (Lit::Num { value, decimals }, Some(c)) => {
                let d = *self.shifts.get(c).filter(|d| **d != 0.0)?;
                Some(num_token(value + d, o.lit.negated, *decimals))
            }
            (Lit::Str(s), Some(c)) => self.strings.get(&(c.clone(), s.clone())).map(|n| quote(n)),
            (Lit::Str(s), None) => self.unambiguous(s).map(quote),
            (Lit::Date(d), _) if self.date_shift != 0 => Some(quote(&format_date(d + self.date_shift))),
            _ => None,
        }
    }

    /// The one new value of string `old` when every column maps it the same way.
    fn unambiguous(&self, old: &str) -> Option<&str> {
        let mut news = self.strings.iter().filter(|((_, o), _)| o == old).map(|(_, n)| n.as_str());
        let first = news.next()?;
        news.all(|n| n == first).then_some(first)
    }

    /// What this binding changes in `sql` (its literals compared with a column, and dates),
    /// deduplicated, in text order.
    pub fn changes(&self, sql: &str) -> Vec<Change> {
        let Ok(stmt) = parse_one(sql) else { return Vec::new() };
        let mut out: Vec<Change> = Vec::new();
        for o in occurrences(&stmt, sql) {
            let Some(new) = self.edit(&o) else { continue };
            let by_count = match (&o.count, &o.lit.lit) {
                (Some((k, _)), Lit::Num { value, .. }) => self.counts.contains_key(&(k.clone(), *value as i64)).then(|| k.clone()),
                _ => None,
            };
            let c = Change {
                column: by_count.or_else(|| o.column.clone()).unwrap_or_else(|| "date".into()),
                from: sql[o.lit.start..o.lit.end].to_string(),
                to: new,
            };
            if !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }
}

/// `d_year 2000->1999, i_category 'Books'->'Music'`.
pub fn describe(changes: &[Change]) -> String {
    changes
        .iter()
        .map(|c| format!("{} {}->{}", c.column, c.from, c.to))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `sql` with the binding applied, and how many literals changed. `Err` when sqlparser
/// cannot read it (nothing can be re-bound then).
pub fn apply(sql: &str, b: &Binding) -> Result<(String, usize), String> {
    let stmt = parse_one(sql)?;
    let mut edits: Vec<(usize, usize, String)> = occurrences(&stmt, sql)
        .iter()
        .filter_map(|o| b.edit(o).map(|t| (o.lit.start, o.lit.end, t)))
        .collect();
    edits.sort_by_key(|e| e.0);
    let mut out = String::with_capacity(sql.len());
    let mut at = 0;
    for (s, e, t) in &edits {
        if *s < at {
            continue; // overlapping: cannot happen for distinct tokens, but never corrupt
        }
        out.push_str(&sql[at..*s]);
        out.push_str(t);
        at = *e;
    }
    out.push_str(&sql[at..]);
    Ok((out, edits.len()))
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The token for a number: `decimals` digits kept; under a unary minus the token is the
/// negated value; a negative token gets parentheses (`-(-3)`, `x = (-3)`), never `--`.
fn num_token(signed: f64, negated: bool, decimals: usize) -> String {
    let t = if negated { -signed } else { signed };
    let text = format!("{t:.decimals$}");
    if t < 0.0 { format!("({text})") } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shift(col: &str, d: f64) -> Binding {
        Binding {
            shifts: [(col.to_string(), d)].into(),
            ..Default::default()
        }
    }

    #[test]
    fn shifts_keep_widths_and_text_around() {
        let sql = "select 1 from date_dim -- keep 2000\nwhere d_month_seq between 1200 and 1200 + 11 and d_year in (2000, 2000+1)";
        let (out, n) = apply(sql, &shift("d_month_seq", -12.0)).unwrap();
        assert_eq!(n, 2);
        assert!(out.contains("between 1188 and 1188 + 11"), "{out}");
        assert!(out.contains("-- keep 2000"));
        let (out, _) = apply(sql, &shift("d_year", -1.0)).unwrap();
        assert!(out.contains("in (1999, 1999+1)"), "{out}");
    }

    #[test]
    fn strings_map_by_column_and_unambiguous_bare_values() {
        let b = Binding {
            strings: [(("cd_marital_status".into(), "M".into()), "S".into())].into(),
            ..Default::default()
        };
        let sql = "select 'M' as k from t where cd_marital_status = 'M' and cd_gender = 'M'";
        let (out, _) = apply(sql, &b).unwrap();
        assert_eq!(out, "select 'S' as k from t where cd_marital_status = 'S' and cd_gender = 'M'");
    }

    #[test]
    fn dates_shift_together_and_negatives_never_make_comments() {
        let b = Binding {
            date_shift: 31,
            shifts: [("ca_gmt_offset".to_string(), 6.0)].into(),
            ..Default::default()
        };
        let sql = "select 1 from t where d_date between cast('2000-02-01' as date) and date '2000-03-01' and ca_gmt_offset = -5";
        let (out, n) = apply(sql, &b).unwrap();
        assert_eq!(n, 3);
        assert!(out.contains("cast('2000-03-03' as date) and date '2000-04-01'"), "{out}");
        assert!(out.ends_with("ca_gmt_offset = -(-1)"), "{out}");
        assert_eq!(num_token(100.5, false, 2), "100.50");
    }

    #[test]
    fn changes_describe_the_original() {
        let sql = "select 1 from d where d_year = 2000 and d_moy = 11";
        let mut b = shift("d_year", -1.0);
        b.shifts.insert("d_moy".into(), 0.0);
        assert_eq!(describe(&b.changes(sql)), "d_year 2000->1999");
        assert!(!b.is_identity());
    }

    #[test]
    fn count_bounds_map_by_value_under_their_aliases_too() {
        let b = Binding {
            counts: [(("count(*)".to_string(), 10), 3)].into(),
            ..Default::default()
        };
        let original = "select s from t group by s having count(*) >= 10 and count(*) < 100";
        let (out, n) = apply(original, &b).unwrap();
        assert_eq!((out.as_str(), n), ("select s from t group by s having count(*) >= 3 and count(*) < 100", 1));
        // A candidate that moved the bound into an outer block under an alias.
        let moved = "select s from (select s, COUNT(*) as cnt from t group by s) x where cnt >= 10 and s = 10";
        let (out, n) = apply(moved, &b).unwrap();
        assert_eq!(n, 1, "{out}");
        assert!(out.contains("cnt >= 3 and s = 10"), "{out}");
        assert_eq!(describe(&b.changes(original)), "count(*) 10->3");
        // count(distinct x) is another count: its bound stays.
        let other = "select s from t group by s having count(distinct c) >= 10";
        assert_eq!(apply(other, &b).unwrap().1, 0);
    }
}
