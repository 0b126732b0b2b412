//! Finding a binding under which the original returns enough rows, with values the data
//! holds, in a bounded number of tries.
//!
//! Per SELECT block with literal slots, one probe (run in the sandbox on every instance,
//! like any other SQL qt runs): the block's FROM with its other conjuncts, the slot
//! conjuncts removed, grouped by the slot columns with a count. Each row is a combination
//! of values that really occurs together under the block's joins and remaining filters.
//! Rows become per-block bindings ranked by fewest changed slots, then most rows, then
//! nearest to the original values. A try merges one candidate per block (blocks that
//! already had rows keep their literals first), applies it to the original, and runs it on
//! every instance; the first try whose evidence reaches `min_rows` wins.
//!
//! A lower bound on a count (`HAVING count(*) >= 10`) needs no probe: the bound is halved
//! step by step (never below 2 rows per group), tried first on its own and then beside
//! every WHERE binding.

use std::collections::BTreeMap;

use super::binding::{Binding, Change, apply};
use super::slots::{Block, Lit, Slot, SlotKind, Threshold, blocks, parse_date, parse_one, thresholds, with_clause};
use crate::validate::{Cell, ResultSet};

/// Runs one SQL text on every instance (in the sandbox); one result per instance.
pub type RunAll<'a> = dyn Fn(&str) -> Vec<Result<ResultSet, String>> + 'a;
/// The evidence of one try's results (rows that a candidate could get wrong, summed).
pub type Score<'a> = dyn Fn(&[Result<ResultSet, String>]) -> usize + 'a;

/// Rows a probe keeps (most frequent combinations first).
const PROBE_ROWS: usize = 5_000;

/// A binding that works.
#[derive(Debug, Clone)]
pub struct Rebound {
    pub binding: Binding,
    /// The original with the binding applied.
    pub sql: String,
    pub changes: Vec<Change>,
    /// Tries run (each ran the re-bound original on every instance).
    pub tries: u32,
    pub evidence: usize,
    /// The re-bound original's results per instance (the try that won).
    pub results: Vec<Result<ResultSet, String>>,
}

/// Why no binding was found.
#[derive(Debug, Clone, PartialEq)]
pub struct NotFound {
    pub tries: u32,
    /// The best evidence any try reached.
    pub best: usize,
    pub why: String,
}

/// One block's candidate bindings, best first, and whether the block had rows as written.
struct Ranked {
    options: Vec<Binding>,
    had_rows: bool,
}

pub fn search(
    original: &str,
    budget: u32,
    min_rows: usize,
    run_all: &RunAll,
    score: &Score,
) -> Result<Rebound, NotFound> {
    let not_found = |tries, best, why: String| NotFound { tries, best, why };
    let stmt = parse_one(original).map_err(|e| not_found(0, 0, format!("sqlparser cannot read the original ({e})")))?;
    let found = blocks(&stmt, original);
    let levels = threshold_levels(&thresholds(&stmt, original), run_all);
    if found.is_empty() && levels.is_empty() {
        return Err(not_found(0, 0, "the original compares no column with a literal in a WHERE clause and bounds no count".into()));
    }
    let with = with_clause(&stmt);
    let ranked: Vec<Ranked> = found.iter().filter_map(|b| rank_block(b, &with, run_all)).collect();
    if ranked.iter().all(|r| r.options.is_empty()) && levels.is_empty() {
        return Err(not_found(0, 0, "no probe of the original's filtered columns found values in the data".into()));
    }
    // Lowered count bounds first (the WHERE literals as the first probe ranks them), then
    // the WHERE bindings in their order, each alone and with the lowest bounds.
    let with_level = |b: &Binding, h: &Binding| {
        let mut out = b.clone();
        out.merge(h);
        out
    };
    let mut order: Vec<Binding> = Vec::new();
    let first = merged(&ranked, 0, budget as usize);
    order.extend(levels.iter().map(|h| with_level(&first, h)));
    for k in 0..budget.saturating_mul(4) {
        let b = merged(&ranked, k as usize, budget as usize);
        let lowest = levels.last().map(|h| with_level(&b, h));
        order.push(b);
        order.extend(lowest);
    }
    let (mut tries, mut best, mut seen) = (0u32, 0usize, Vec::<Binding>::new());
    for b in order {
        if tries >= budget {
            break;
        }
        if b.is_identity() || seen.contains(&b) {
            continue;
        }
        seen.push(b.clone());
        let Ok((sql, n)) = apply(original, &b) else { continue };
        if n == 0 {
            continue;
        }
        tries += 1;
        let results = run_all(&sql);
        let evidence = score(&results);
        best = best.max(evidence);
        if evidence >= min_rows {
            let changes = b.changes(original);
            return Ok(Rebound {
                binding: b,
                sql,
                changes,
                tries,
                evidence,
                results,
            });
        }
    }
    Err(not_found(
        tries,
        best,
        format!("{tries} re-bindings tried, the best gave {best} row(s) of evidence, fewer than min_rows = {min_rows}"),
    ))
}

/// Lowered count bounds, one binding per step: step j moves every bound to the j-th value
/// of its ladder (halving, never below `count >= 2` / `count > 1`, so the filter still
/// drops the groups of one row and a candidate that lost it still differs).
fn threshold_levels(ts: &[Threshold], run_all: &RunAll) -> Vec<Binding> {
    let ladders: Vec<(&Threshold, Vec<i64>)> = ts.iter().map(|t| (t, snapped(t, run_all))).filter(|(_, l)| !l.is_empty()).collect();
    let steps = ladders.iter().map(|(_, l)| l.len()).max().unwrap_or(0);
    (0..steps)
        .map(|j| {
            let mut b = Binding::default();
            for (t, l) in &ladders {
                b.counts.insert((t.key.clone(), t.value), l[j.min(l.len() - 1)]);
            }
            b
        })
        .collect()
}

/// The ladder with each step moved down to the largest count a group of the bound's block
/// has (on any instance) between the floor and the step, so that some group sits exactly
/// on the new bound and a candidate that turned `>=` into `>` (or back) differs; a step
/// with no such count stays as it is.
fn snapped(t: &Threshold, run_all: &RunAll) -> Vec<i64> {
    let plain = ladder(t);
    let Some(sql) = &t.probe else { return plain };
    let counts: std::collections::BTreeSet<i64> = run_all(sql)
        .into_iter()
        .flatten()
        .flat_map(|r| r.rows)
        .filter_map(|row| match row.first() {
            Some(Cell::Int(n)) => i64::try_from(*n).ok(),
            _ => None,
        })
        .collect();
    let floor = if t.strict { 1 } else { 2 };
    let mut out = Vec::new();
    for step in plain {
        let v = counts.range(floor..=step).next_back().copied().unwrap_or(step);
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

fn ladder(t: &Threshold) -> Vec<i64> {
    let floor = if t.strict { 1 } else { 2 };
    let (mut v, mut out) = (t.value, Vec::new());
    loop {
        let next = if t.strict { v / 2 } else { (v + 1) / 2 }.max(floor);
        if next >= v {
            return out;
        }
        out.push(next);
        v = next;
    }
}

/// Try `k`'s binding: blocks that had no rows as written move first (their k-th option)
/// while the others keep theirs; after half the budget, every block moves.
fn merged(ranked: &[Ranked], k: usize, budget: usize) -> Binding {
    let any_empty = ranked.iter().any(|r| !r.had_rows && !r.options.is_empty());
    let half = if any_empty { budget.div_ceil(2) } else { 0 };
    let mut out = Binding::default();
    for r in ranked {
        if r.options.is_empty() {
            continue;
        }
        let i = if !r.had_rows {
            k
        } else if k < half {
            0
        } else {
            k - half
        };
        out.merge(&r.options[i.min(r.options.len() - 1)]);
    }
    out
}

/// The probe of one block and its ranked options (`None` when the probe cannot run, e.g.
/// a correlated subquery whose block reads an outer column).
fn rank_block(b: &Block, with: &str, run_all: &RunAll) -> Option<Ranked> {
    let mut columns: Vec<&Slot> = Vec::new();
    for s in &b.slots {
        if !columns.iter().any(|c| c.column == s.column) {
            columns.push(s);
        }
    }
    let select: Vec<String> = columns.iter().enumerate().map(|(i, s)| format!("{} AS qt_v{i}", s.column_sql)).collect();
    let group: Vec<String> = (1..=columns.len()).map(|i| i.to_string()).collect();
    let filter = if b.other_conjuncts.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", b.other_conjuncts.join(" AND "))
    };
    let sql = format!(
        "{with}SELECT {}, count(*) AS qt_n FROM {}{filter} GROUP BY {} ORDER BY qt_n DESC LIMIT {PROBE_ROWS}",
        select.join(", "),
        b.from,
        group.join(", ")
    );
    // Rows per combination, summed over the instances where the probe ran.
    let mut combos: BTreeMap<Vec<String>, (Vec<Cell>, u64)> = BTreeMap::new();
    let mut ran = false;
    for r in run_all(&sql).into_iter().flatten() {
        ran = true;
        for row in r.rows {
            let n = match row.last() {
                Some(Cell::Int(n)) => *n as u64,
                _ => 0,
            };
            let vals: Vec<Cell> = row[..row.len().saturating_sub(1)].to_vec();
            let key: Vec<String> = vals.iter().map(|c| format!("{c:?}")).collect();
            combos.entry(key).or_insert((vals, 0)).1 += n;
        }
    }
    if !ran {
        return None;
    }
    let mut scored: Vec<(usize, u64, f64, Binding)> = Vec::new();
    for (vals, n) in combos.into_values() {
        if let Some((changed, dist, binding)) = option_for(b, &columns, &vals) {
            scored.push((changed, n, dist, binding));
        }
    }
    let had_rows = scored.iter().any(|s| s.0 == 0);
    scored.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.total_cmp(&b.2)));
    let mut options: Vec<Binding> = Vec::new();
    for (_, _, _, bd) in scored {
        if !options.contains(&bd) {
            options.push(bd);
        }
    }
    Some(Ranked { options, had_rows })
}

/// One probe row as a block binding: (slots changed, distance, binding). `None` when a
/// value cannot stand in for the slot's literals (NULL, another type).
fn option_for(b: &Block, columns: &[&Slot], vals: &[Cell]) -> Option<(usize, f64, Binding)> {
    let mut out = Binding::default();
    let (mut changed, mut dist) = (0usize, 0.0f64);
    for (slot, v) in columns.iter().zip(vals) {
        let lits: Vec<&Lit> = b.slots.iter().filter(|s| s.column == slot.column).flat_map(|s| s.lits.iter().map(|l| &l.lit)).collect();
        match (lits.first()?, cell_lit(v)?) {
            (Lit::Num { .. }, Lit::Num { value, .. }) => {
                let nums: Vec<f64> = lits.iter().filter_map(|l| if let Lit::Num { value, .. } = l { Some(*value) } else { None }).collect();
                let (lo, hi) = bounds(&nums);
                if !(lo <= value && value <= hi) {
                    changed += 1;
                    dist += (value - lo).abs() / lo.abs().max(1.0);
                    out.shifts.insert(slot.column.clone(), value - lo);
                }
            }
            (Lit::Date(_), Lit::Date(day)) => {
                let days: Vec<f64> = lits.iter().filter_map(|l| if let Lit::Date(d) = l { Some(f64::from(*d)) } else { None }).collect();
                let (lo, hi) = bounds(&days);
                let hi = hi + b.interval_days as f64;
                let day = f64::from(day);
                if !(lo <= day && day <= hi) {
                    changed += 1;
                    dist += (day - lo).abs() / 365.0;
                    out.date_shift = (day - lo) as i32;
                }
            }
            (Lit::Str(_), Lit::Str(value)) => {
                let strs: Vec<&String> = lits.iter().filter_map(|l| if let Lit::Str(s) = l { Some(s) } else { None }).collect();
                if !strs.contains(&&value) {
                    changed += 1;
                    let kind = columns.iter().find(|c| c.column == slot.column).map(|c| c.kind);
                    // An IN list gets the value in place of its first member; an equality
                    // in place of its literal.
                    let old = if kind == Some(SlotKind::In) { strs[0] } else { strs[0] };
                    out.strings.insert((slot.column.clone(), old.clone()), value);
                }
            }
            _ => return None,
        }
    }
    Some((changed, dist, out))
}

fn bounds(xs: &[f64]) -> (f64, f64) {
    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo, hi)
}

/// A probe value as a literal of the same kind re-binding uses.
fn cell_lit(c: &Cell) -> Option<Lit> {
    Some(match c {
        Cell::Int(i) => Lit::Num { value: *i as f64, decimals: 0 },
        Cell::Decimal { value, scale } => Lit::Num {
            value: *value as f64 / 10f64.powi(i32::from(*scale)),
            decimals: usize::from(*scale),
        },
        Cell::Float(f) if f.is_finite() => Lit::Num { value: *f, decimals: 0 },
        Cell::Text(s) => match parse_date(s) {
            Some(d) => Lit::Date(d),
            None => Lit::Str(s.trim_end().to_string()),
        },
        Cell::Date(d) => Lit::Date(*d),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rs(rows: Vec<Vec<Cell>>) -> ResultSet {
        ResultSet {
            columns: Vec::new(),
            rows,
        }
    }

    #[test]
    fn picks_a_year_the_data_holds_and_reports_it() {
        let original = "select count(*) as n from store_sales, date_dim where ss_sold_date_sk = d_date_sk and d_year = 2030";
        let run = |sql: &str| -> Vec<Result<ResultSet, String>> {
            if sql.contains("qt_n") {
                assert!(sql.contains("WHERE ss_sold_date_sk = d_date_sk"), "{sql}");
                vec![Ok(rs(vec![vec![Cell::Int(1999), Cell::Int(50)], vec![Cell::Int(2001), Cell::Int(40)]]))]
            } else if sql.contains("d_year = 1999") {
                vec![Ok(rs(vec![vec![Cell::Int(50)]]))]
            } else {
                vec![Ok(rs(vec![]))]
            }
        };
        let score = |r: &[Result<ResultSet, String>]| r.iter().flatten().map(|x| x.rows.len() * 5).sum();
        let got = search(original, 4, 2, &run, &score).unwrap();
        assert_eq!(got.tries, 1);
        assert_eq!(super::super::binding::describe(&got.changes), "d_year 2030->1999");
    }

    #[test]
    fn gives_up_after_the_budget() {
        let original = "select 1 as x from t where a = 5";
        let run = |sql: &str| -> Vec<Result<ResultSet, String>> {
            if sql.contains("qt_n") {
                vec![Ok(rs((0..20).map(|i| vec![Cell::Int(i + 10), Cell::Int(1)]).collect()))]
            } else {
                vec![Ok(rs(vec![]))]
            }
        };
        let score = |_: &[Result<ResultSet, String>]| 0;
        let e = search(original, 3, 2, &run, &score).unwrap_err();
        assert_eq!(e.tries, 3);
    }

    #[test]
    fn lowers_a_count_bound_before_touching_the_where_literals() {
        let original = "select s, count(*) cnt from t where d_year = 2001 group by s having count(*) >= 10";
        let run = |sql: &str| -> Vec<Result<ResultSet, String>> {
            if sql.contains("qt_n") {
                vec![Ok(rs(vec![vec![Cell::Int(2001), Cell::Int(50)], vec![Cell::Int(2002), Cell::Int(40)]]))]
            } else if sql.contains(">= 3") && sql.contains("2001") {
                vec![Ok(rs(vec![vec![Cell::Text("a".into()), Cell::Int(3)], vec![Cell::Text("b".into()), Cell::Int(4)]]))]
            } else {
                vec![Ok(rs(vec![]))]
            }
        };
        let score = |r: &[Result<ResultSet, String>]| r.iter().flatten().map(|x| x.rows.len()).sum();
        let got = search(original, 8, 2, &run, &score).unwrap();
        assert_eq!(super::super::binding::describe(&got.changes), "count(*) 10->3");
        assert_eq!(got.tries, 2, "10 -> 5, then 10 -> 3");
    }

    #[test]
    fn a_lowered_bound_is_a_count_some_group_has() {
        let original = "select s, count(*) cnt from t where d_year = 2001 group by s having count(*) >= 10";
        let run = |sql: &str| -> Vec<Result<ResultSet, String>> {
            if sql.contains("qt_c") {
                assert!(sql.contains("SELECT count(*) AS qt_c FROM t WHERE d_year = 2001 GROUP BY s"), "{sql}");
                vec![Ok(rs(vec![vec![Cell::Int(7)], vec![Cell::Int(4)], vec![Cell::Int(1)]])), Ok(rs(vec![vec![Cell::Int(2)]]))]
            } else if sql.contains(">= 4") {
                vec![Ok(rs(vec![vec![Cell::Text("a".into()), Cell::Int(4)], vec![Cell::Text("b".into()), Cell::Int(7)]]))]
            } else {
                vec![Ok(rs(vec![]))]
            }
        };
        let score = |r: &[Result<ResultSet, String>]| r.iter().flatten().map(|x| x.rows.len()).sum();
        let got = search(original, 8, 2, &run, &score).unwrap();
        // The plain ladder's 5 moves down to 4, a count a group has.
        assert_eq!(super::super::binding::describe(&got.changes), "count(*) 10->4");
        assert_eq!(got.tries, 1);
    }

    #[test]
    fn ladders_stop_where_the_bound_still_filters() {
        let t = |value, strict| Threshold { key: "count(*)".into(), value, strict, probe: None };
        assert_eq!(ladder(&t(10, false)), vec![5, 3, 2]);
        assert_eq!(ladder(&t(10, true)), vec![5, 2, 1]);
        assert!(ladder(&t(2, false)).is_empty() && ladder(&t(1, true)).is_empty());
    }
}
