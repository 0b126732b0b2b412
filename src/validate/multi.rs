//! Judging a candidate file against an original file by the one rule of `statements.rs`:
//! statement k against statement k, the statements the candidate leaves out or keeps
//! unchanged are the original's and are not re-run (unless the whole candidate is the
//! original again: then every statement is judged, an A/A check), and the file passes only
//! when every judged statement passes. The speedup of several judged statements is the
//! file's: their paired rounds are added round by round.
//!
//! `qt validate` calls [`judge_file`]; `qt run` judges the same pairs (its candidates
//! rewrite statement 1, which is what its prompts ask for).

use super::instances::{Checked, Instance};
use super::reference::Reference;
use super::statements::{StatementPair, pair};
use super::timing::{self, PairedSamples};
use super::{Reason, RowCounts, Timing, TimingLane, ValidatorConfig, Verdict};

/// The pairs to judge: the changed ones, or all of them when nothing changed (A/A).
pub fn to_judge(pairs: &[StatementPair]) -> Vec<&StatementPair> {
    let changed: Vec<&StatementPair> = pairs.iter().filter(|p| !p.same).collect();
    if changed.is_empty() { pairs.iter().collect() } else { changed }
}

/// Judge `candidate_file` against `original_file` on the primary and every instance.
pub fn judge_file(
    primary: &Instance,
    instances: &[Instance],
    original_file: &str,
    candidate_file: &str,
    cfg: &ValidatorConfig,
    lane: &TimingLane,
) -> Checked {
    let pairs = match pair(original_file, candidate_file) {
        Ok(p) => p,
        Err(message) => return Verdict::Error { reason: Reason::NotSelect, message }.into(),
    };
    let n = pairs.len();
    let mut passed: Vec<(usize, Checked)> = Vec::new();
    for p in to_judge(&pairs) {
        let checked = match Reference::prepare(primary, instances, &p.original, cfg, lane) {
            Ok(r) => r.judge(&primary.target, &p.candidate, cfg, lane),
            Err(v) => v.into(),
        };
        if !checked.verdict.is_pass() {
            return at_statement(checked, p.index, n);
        }
        passed.push((p.index, checked));
    }
    combine(passed, n)
}

/// Prefix a verdict's message with the statement it is about (files of several only).
pub fn at_statement(mut c: Checked, index: usize, n: usize) -> Checked {
    if n < 2 {
        return c;
    }
    let at = format!("statement {index} of {n}: ");
    c.verdict = match c.verdict {
        Verdict::Failed { reason, rows, mut diff, notes } => {
            diff.message = format!("{at}{}", diff.message);
            Verdict::Failed { reason, rows, diff, notes }
        }
        Verdict::Error { reason, message } => Verdict::Error { reason, message: format!("{at}{message}") },
        Verdict::Inconclusive { reason, rows, message } => {
            Verdict::Inconclusive { reason, rows, message: format!("{at}{message}") }
        }
        Verdict::Pass { rows, timing, mut notes } => {
            notes.insert(0, format!("{at}judged; the file's other statements are the original's"));
            Verdict::Pass { rows, timing, notes }
        }
    };
    c
}

/// One pass from the passes of several statements: rows and rounds added up.
fn combine(mut passed: Vec<(usize, Checked)>, n: usize) -> Checked {
    if passed.len() == 1 {
        let (index, c) = passed.remove(0);
        return at_statement(c, index, n);
    }
    let (mut original, mut optimized) = (0usize, 0usize);
    let mut notes = Vec::new();
    let mut timings: Vec<Timing> = Vec::new();
    let mut instances = Vec::new();
    let mut rebinding = None;
    for (index, c) in passed {
        if let Verdict::Pass { rows, timing, notes: ns } = c.verdict {
            original += rows.original;
            optimized += rows.optimized.unwrap_or(0);
            notes.extend(ns.into_iter().map(|x| format!("statement {index}: {x}")));
            timings.push(timing);
        }
        instances.extend(c.instances.into_iter().map(|mut i| {
            i.label = format!("statement {index}: {}", i.label);
            i
        }));
        rebinding = rebinding.or(c.rebinding);
    }
    notes.insert(0, format!("{} statements of {n} judged, each on every instance; the speedup is the file's", timings.len()));
    Checked {
        verdict: Verdict::Pass {
            rows: RowCounts { original, optimized: Some(optimized) },
            timing: add_rounds(&timings),
            notes,
        },
        instances,
        rebinding,
    }
}

/// The file's timing: each round's samples added over the statements (they ran in the
/// same O,C,C,O order); a timing without rounds when any statement was not timed.
fn add_rounds(ts: &[Timing]) -> Timing {
    let first = &ts[0];
    let same_shape = ts.iter().all(|t| t.rounds > 0 && t.o_first == first.o_first);
    let sum = |f: &dyn Fn(&Timing) -> &Vec<f64>| -> Vec<f64> {
        (0..f(first).len()).map(|i| ts.iter().map(|t| f(t).get(i).copied().unwrap_or(0.0)).sum()).collect()
    };
    let baseline = if ts.iter().all(|t| t.baseline_original_s.len() == first.baseline_original_s.len()) {
        sum(&|t| &t.baseline_original_s)
    } else {
        Vec::new()
    };
    if !same_shape {
        return timing::skipped(baseline);
    }
    let p = PairedSamples {
        original_s: sum(&|t| &t.original_s),
        optimized_s: sum(&|t| &t.optimized_s),
        o_first: first.o_first.clone(),
    };
    timing::summarize(p, baseline)
}
