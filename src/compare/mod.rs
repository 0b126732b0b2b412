//! `qt compare A B` (or `qt compare RUN --arms a,b`): did B (after a prompt change, more
//! workers, another model, another arm) do better than A? Runs or sweeps are read by the
//! one reader (record/report_model.rs), paired by query and arm (`pairing.rs`: names, or
//! `--map A_ARM=B_ARM`; nothing guessed), and the difference gets a seeded bootstrap 95%
//! interval. The verdict per arm is decided here, once; report/ only prints it.
//!
//! The comparison never counts more evidence than there is (`evidence.rs`):
//! - the unit is the distinct candidate: `same_as` copies of one SQL count once;
//! - each candidate's speedup is redrawn from its own timing rounds in every bootstrap draw
//!   (its confirmed re-timing when it has one, else its screening rounds), so one timed
//!   candidate gives its own wide interval, not a point;
//! - a candidate whose confirmation did not hold keeps 1.0x: it cannot make B better;
//! - below `min_candidates` distinct candidates on a side the verdict is "not enough
//!   evidence", whatever the interval.
//!
//! The figure decided on is the expected kept speedup of one candidate: its speedup when
//! valid and faster, else 1.0 (you keep the original). B is better only when the whole
//! interval of the ratio B/A is above 1 + noise (criterion's rule), worse when it is below
//! 1/(1 + noise), otherwise there is no clear difference.

pub mod evidence;
pub mod pairing;

pub mod cost;

pub mod full;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::path::{Path, PathBuf};

use crate::record::figures::{self, Stage};
use crate::record::report_model::{self, GenReport, ReportModel, RunReport};
use crate::validate::timing::stats::median;
use evidence::Candidate;
use pairing::{ArmMap, ArmPair, PairError};

/// Relative change below which B and A are "the same": about the spread of the A/A
/// timing noise that `qt bench` measures (README: A/A p05-p95 within about +-5%).
pub const DEFAULT_NOISE: f64 = 0.05;
/// Distinct candidates a side needs before a verdict is given.
pub const DEFAULT_MIN_CANDIDATES: usize = 5;
pub const RESAMPLES: usize = 2000;
pub const SEED: u64 = 0x00C0_4A4E;

#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error(transparent)]
    Read(#[from] report_model::ReadError),
    #[error(
        "{a} and {b} share no query (A has {qa}, B has {qb}); compare runs of the same queries, e.g. two runs of one spec before and after a change"
    )]
    NothingShared { a: PathBuf, b: PathBuf, qa: String, qb: String },
    #[error(
        "no arm of A pairs with an arm of B (A's arms: {arms_a}; B's arms: {arms_b}); arms pair by name: name the pairs with --map A_ARM=B_ARM (e.g. --map {example}), repeatable"
    )]
    ArmsDoNotPair { arms_a: String, arms_b: String, example: String },
    #[error("--map names arm `{arm}`, which {side} does not have (its arms: {arms})")]
    UnknownArm { side: &'static str, arm: String, arms: String },
    #[error("--arms {given}: {why}; give two arms of {dir} as --arms A_ARM,B_ARM (its arms: {arms})")]
    BadArms { given: String, why: String, dir: PathBuf, arms: String },
    #[error(
        "{a} was validated on {ea} and {b} on {eb}: speedups on different engines are not comparable as one experiment; \
         pass --across-engines to compare them anyway"
    )]
    AcrossEngines { a: PathBuf, ea: String, b: PathBuf, eb: String },
}

/// How to compare.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    pub noise: f64,
    pub maps: Vec<ArmMap>,
    pub min_candidates: usize,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions { noise: DEFAULT_NOISE, maps: Vec::new(), min_candidates: DEFAULT_MIN_CANDIDATES }
    }
}

/// What one side did for one query and arm (the named figures of figures.rs, plus the
/// comparison's own unit counts).
#[derive(Debug, Clone, Serialize)]
pub struct Metrics {
    pub completed: usize,
    pub valid_rate: Option<f64>,
    /// Distinct candidates (copies once), valid or not, and the copies not counted.
    pub candidates: usize,
    pub copies: usize,
    pub median_speedup: Option<f64>,
    pub best_screening_speedup: Option<f64>,
    pub best_confirmed_speedup: Option<f64>,
    pub confirmation_held: Option<bool>,
    /// The cells every view prints for those two figures (figures.rs).
    pub screening_cell: String,
    pub confirmed_cell: String,
    pub wins: usize,
    /// Mean kept speedup of one candidate (see the module doc).
    pub kept_speedup: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub query_id: String,
    pub arm: String,
    pub a: Metrics,
    pub b: Metrics,
    /// Best speedup confirmed on the full-size DB (and candidates wrong there), per side.
    pub full_a: Option<f64>,
    pub full_b: Option<f64>,
    pub wrong_at_full_a: usize,
    pub wrong_at_full_b: usize,
}

/// A difference with its bootstrap 95% interval. Ratios are B/A; rates are B-A.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Delta {
    pub point: f64,
    pub ci95: [f64; 2],
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Better,
    Worse,
    NoEvidence,
    NotEnoughEvidence,
}

impl Verdict {
    pub fn words(self) -> &'static str {
        match self {
            Verdict::Better => "B better",
            Verdict::Worse => "B worse",
            Verdict::NoEvidence => "no clear difference",
            Verdict::NotEnoughEvidence => "not enough evidence",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ArmComparison {
    pub arm: String,
    pub queries: usize,
    /// Distinct candidates behind the verdict on each side, how many of them were timed,
    /// and the copies not counted.
    pub candidates_a: usize,
    pub candidates_b: usize,
    pub timed_a: usize,
    pub timed_b: usize,
    pub copies_a: usize,
    pub copies_b: usize,
    pub valid_rate_diff: Option<Delta>,
    pub median_ratio: Option<Delta>,
    pub best_ratio: Option<Delta>,
    pub kept_ratio: Option<Delta>,
    pub verdict: Verdict,
    pub sentence: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub a: PathBuf,
    /// Files either side's reader skipped and values it refused (named on stderr).
    pub problems: Vec<report_model::ReadProblem>,
    pub b: PathBuf,
    /// Arms of one run compared with each other (`--arms a,b`).
    pub within_run: bool,
    pub a_run_ids: Vec<String>,
    pub b_run_ids: Vec<String>,
    pub noise: f64,
    pub min_candidates: usize,
    pub resamples: usize,
    pub seed: u64,
    pub only_in_a: Vec<String>,
    pub only_in_b: Vec<String>,
    /// Arms of A and of B that no pair uses.
    pub unpaired_arms_a: Vec<String>,
    pub unpaired_arms_b: Vec<String>,
    pub rows: Vec<Row>,
    pub arms: Vec<ArmComparison>,
    /// Dollars per arm over the shared queries (`cost.rs`).
    pub costs: Vec<cost::ArmCost>,
    /// Sample vs full size per query of each side (empty when nothing was confirmed).
    pub full_a: Vec<full::FullSide>,
    pub full_b: Vec<full::FullSide>,
}

/// Read both folders and compare them.
pub fn compare_dirs(a: &Path, b: &Path, opts: &CompareOptions) -> Result<Comparison, CompareError> {
    compare_dirs_across(a, b, opts, false)
}

/// [`compare_dirs`]; runs on different engines are refused unless `across_engines`.
pub fn compare_dirs_across(
    a: &Path,
    b: &Path,
    opts: &CompareOptions,
    across_engines: bool,
) -> Result<Comparison, CompareError> {
    let (ma, mb) = (report_model::read(a)?, report_model::read(b)?);
    if ma.header.engine != mb.header.engine && !across_engines {
        return Err(CompareError::AcrossEngines {
            a: ma.dir.clone(),
            ea: ma.header.engine.clone(),
            b: mb.dir.clone(),
            eb: mb.header.engine.clone(),
        });
    }
    let pairs = pairing::pair_arms(&ma.arm_names, &mb.arm_names, &opts.maps).map_err(|e| pair_error(e, &ma, &mb))?;
    compare(&ma, &mb, &pairs, opts, false)
}

/// Two arms of one run (or sweep) folder: `qt compare DIR --arms a,b`.
pub fn compare_arms(dir: &Path, arms: &str, opts: &CompareOptions) -> Result<Comparison, CompareError> {
    let m = report_model::read(dir)?;
    let bad = |why: &str| CompareError::BadArms {
        given: arms.to_string(),
        why: why.to_string(),
        dir: dir.to_path_buf(),
        arms: m.arm_names.join(", "),
    };
    let Some((x, y)) = arms.split_once(',') else { return Err(bad("expected two names separated by a comma")) };
    let (x, y) = (x.trim(), y.trim());
    for arm in [x, y] {
        if !m.arm_names.iter().any(|a| a == arm) {
            return Err(bad(&format!("no arm `{arm}` in that folder")));
        }
    }
    if x == y {
        return Err(bad("the two arms are the same"));
    }
    compare(&m, &m, &[ArmPair { a: x.into(), b: y.into() }], opts, true)
}

fn pair_error(e: PairError, a: &ReportModel, b: &ReportModel) -> CompareError {
    let list = |m: &ReportModel| if m.arm_names.is_empty() { "none".to_string() } else { m.arm_names.join(", ") };
    match e {
        PairError::Nothing => CompareError::ArmsDoNotPair {
            arms_a: list(a),
            arms_b: list(b),
            example: format!(
                "{}={}",
                a.arm_names.first().map(String::as_str).unwrap_or("A_ARM"),
                b.arm_names.first().map(String::as_str).unwrap_or("B_ARM")
            ),
        },
        PairError::UnknownArm(side, arm) => {
            CompareError::UnknownArm { side, arm, arms: if side == "A" { list(a) } else { list(b) } }
        }
    }
}

/// One side of one (query, arm): its generations and distinct candidates.
struct Side<'m> {
    gens: Vec<&'m GenReport>,
    run: &'m RunReport,
    candidates: Vec<Candidate>,
}

fn side<'m>(m: &'m ReportModel, query: &str, arm: &str) -> Option<Side<'m>> {
    let (run, _) = m.cell(query, arm)?;
    let gens: Vec<&GenReport> = run.gens.iter().filter(|g| g.arm == arm).collect();
    if gens.is_empty() {
        return None;
    }
    let confirmed = |n: u32| {
        run.confirmations.iter().find(|c| c["gen"].as_u64() == Some(u64::from(n))).and_then(|c| {
            let (_, m) = figures::confirmation_measure(c)?;
            Some((m.speedup, m.win, c["timing"].clone()))
        })
    };
    let candidates = evidence::candidates(&gens, &confirmed);
    Some(Side { gens, run, candidates })
}

fn metrics(s: &Side<'_>, arm: &str) -> Metrics {
    let st = s.run.arms.iter().find(|a| a.name == arm).cloned();
    let f = figures::figures(s.gens.iter().map(|g| &g.facts));
    let n = s.gens.len();
    let valid = s.gens.iter().filter(|g| g.is_pass()).count();
    let k = &s.candidates;
    Metrics {
        completed: n,
        valid_rate: (n > 0).then(|| valid as f64 / n as f64),
        candidates: k.len(),
        copies: k.iter().map(|c| c.copies).sum(),
        median_speedup: f.median_screening,
        best_screening_speedup: f.best_screening.map(|b| b.speedup),
        best_confirmed_speedup: f.best_confirmed.map(|b| b.speedup),
        confirmation_held: f.held(),
        screening_cell: figures::cell(&f, Stage::Screening),
        confirmed_cell: figures::cell(&f, Stage::Confirmed),
        wins: st.map(|a| a.figures.wins).unwrap_or(f.wins),
        kept_speedup: (!k.is_empty()).then(|| k.iter().map(Candidate::kept).sum::<f64>() / k.len() as f64),
    }
}

pub fn compare(a: &ReportModel, b: &ReportModel, pairs: &[ArmPair], opts: &CompareOptions, within_run: bool) -> Result<Comparison, CompareError> {
    let (qa, qb) = (a.query_ids(), b.query_ids());
    let shared: Vec<String> = qa.iter().filter(|q| qb.contains(q)).cloned().collect();
    if shared.is_empty() {
        return Err(CompareError::NothingShared { a: a.dir.clone(), b: b.dir.clone(), qa: qa.join(", "), qb: qb.join(", ") });
    }
    let mut rows = Vec::new();
    let mut per_arm: Vec<ArmComparison> = Vec::new();
    for pair in pairs {
        let label = pair.label();
        let mut cells: Vec<(Vec<Candidate>, Vec<Candidate>)> = Vec::new();
        for q in &shared {
            let (Some(sa), Some(sb)) = (side(a, q, &pair.a), side(b, q, &pair.b)) else { continue };
            let ((full_a, wrong_at_full_a), (full_b, wrong_at_full_b)) = (full::best_full(&sa.gens), full::best_full(&sb.gens));
            rows.push(Row {
                query_id: q.clone(),
                arm: label.clone(),
                a: metrics(&sa, &pair.a),
                b: metrics(&sb, &pair.b),
                full_a,
                full_b,
                wrong_at_full_a,
                wrong_at_full_b,
            });
            cells.push((sa.candidates, sb.candidates));
        }
        if !cells.is_empty() {
            per_arm.push(arm_comparison(&label, &cells, opts));
        }
    }
    let unpaired = |names: &[String], used: &dyn Fn(&ArmPair) -> &String| -> Vec<String> {
        names.iter().filter(|n| !pairs.iter().any(|p| used(p) == *n)).cloned().collect()
    };
    let mut problems = a.problems.clone();
    problems.extend(b.problems.iter().filter(|p| !a.problems.contains(p)).cloned());
    Ok(Comparison {
        problems,
        a: a.dir.clone(),
        b: b.dir.clone(),
        within_run,
        a_run_ids: a.header.run_ids.clone(),
        b_run_ids: b.header.run_ids.clone(),
        noise: opts.noise,
        min_candidates: opts.min_candidates,
        resamples: RESAMPLES,
        seed: SEED,
        only_in_a: qa.iter().filter(|q| !shared.contains(q)).cloned().collect(),
        only_in_b: qb.iter().filter(|q| !shared.contains(q)).cloned().collect(),
        unpaired_arms_a: if within_run { Vec::new() } else { unpaired(&a.arm_names, &|p| &p.a) },
        unpaired_arms_b: if within_run { Vec::new() } else { unpaired(&b.arm_names, &|p| &p.b) },
        costs: cost::arm_costs(a, b, &shared, pairs),
        rows,
        arms: per_arm,
        full_a: full::sides(a),
        full_b: full::sides(b),
    })
}

/// The four figures of one side of one query: valid rate, median speedup of the valid,
/// best kept speedup, mean kept speedup. `draw` gives each candidate's (kept, speedup).
fn side_figures(c: &[Candidate], draw: &mut dyn FnMut(&Candidate) -> (f64, Option<f64>)) -> [Option<f64>; 4] {
    if c.is_empty() {
        return [None; 4];
    }
    let mut kept_sum = 0.0;
    let mut best: f64 = 1.0;
    let mut speedups = Vec::new();
    let mut valid = 0usize;
    for x in c {
        let (k, s) = draw(x);
        kept_sum += k;
        best = best.max(k);
        if x.valid {
            valid += 1;
            speedups.extend(s);
        }
    }
    [Some(valid as f64 / c.len() as f64), median(&speedups), Some(best), Some(kept_sum / c.len() as f64)]
}

/// B-A of the valid rate, log B/A of the others, averaged over the queries that have them.
fn diffs(per_query: &[([Option<f64>; 4], [Option<f64>; 4])]) -> [Option<f64>; 4] {
    let mut acc = [(0.0, 0usize); 4];
    for (fa, fb) in per_query {
        for i in 0..4 {
            let d = match (fa[i], fb[i]) {
                (Some(x), Some(y)) if i == 0 => Some(y - x),
                (Some(x), Some(y)) if x > 0.0 && y > 0.0 => Some((y / x).ln()),
                _ => None,
            };
            if let Some(d) = d {
                acc[i].0 += d;
                acc[i].1 += 1;
            }
        }
    }
    acc.map(|(sum, n)| (n > 0).then(|| sum / n as f64))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let pos = p * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

fn arm_comparison(arm: &str, cells: &[(Vec<Candidate>, Vec<Candidate>)], opts: &CompareOptions) -> ArmComparison {
    let point_of = |c: &Candidate| (c.kept(), c.speedup);
    let point: Vec<_> = cells
        .iter()
        .map(|(a, b)| (side_figures(a, &mut |c| point_of(c)), side_figures(b, &mut |c| point_of(c))))
        .collect();
    let point = diffs(&point);
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut draws: [Vec<f64>; 4] = Default::default();
    let mut buf_a: Vec<Candidate> = Vec::new();
    let mut buf_b: Vec<Candidate> = Vec::new();
    for _ in 0..RESAMPLES {
        let mut per_query = Vec::with_capacity(cells.len());
        for _ in 0..cells.len() {
            let (ca, cb) = &cells[rng.random_range(0..cells.len())];
            resample(&mut rng, ca, &mut buf_a);
            resample(&mut rng, cb, &mut buf_b);
            let mut redraw = |c: &Candidate| {
                let s = c.speedup_draw(&mut rng);
                (c.kept_of(s), s)
            };
            let fa = side_figures(&buf_a, &mut redraw);
            let fb = side_figures(&buf_b, &mut redraw);
            per_query.push((fa, fb));
        }
        for (d, f) in draws.iter_mut().zip(diffs(&per_query)) {
            if let Some(f) = f {
                d.push(f);
            }
        }
    }
    let mut delta = |i: usize, ratio: bool| -> Option<Delta> {
        let p = point[i]?;
        let mut d = std::mem::take(&mut draws[i]);
        if d.is_empty() {
            return None;
        }
        d.sort_by(f64::total_cmp);
        let f = |x: f64| if ratio { x.exp() } else { x };
        Some(Delta { point: f(p), ci95: [f(percentile(&d, 0.025)), f(percentile(&d, 0.975))] })
    };
    let (valid_rate_diff, median_ratio, best_ratio, kept_ratio) = (delta(0, false), delta(1, true), delta(2, true), delta(3, true));
    let count = |side: fn(&(Vec<Candidate>, Vec<Candidate>)) -> &Vec<Candidate>, f: fn(&Candidate) -> usize| -> usize {
        cells.iter().map(|c| side(c).iter().map(f).sum::<usize>()).sum()
    };
    let (candidates_a, candidates_b) = (count(|c| &c.0, |_| 1), count(|c| &c.1, |_| 1));
    let (timed_a, timed_b) = (count(|c| &c.0, |x| usize::from(x.has_speedup())), count(|c| &c.1, |x| usize::from(x.has_speedup())));
    let (copies_a, copies_b) = (count(|c| &c.0, |x| x.copies), count(|c| &c.1, |x| x.copies));
    let verdict = if candidates_a.min(candidates_b) < opts.min_candidates {
        Verdict::NotEnoughEvidence
    } else {
        decide(kept_ratio, opts.noise)
    };
    let mut c = ArmComparison {
        arm: arm.into(),
        queries: cells.len(),
        candidates_a,
        candidates_b,
        timed_a,
        timed_b,
        copies_a,
        copies_b,
        valid_rate_diff,
        median_ratio,
        best_ratio,
        kept_ratio,
        verdict,
        sentence: String::new(),
    };
    c.sentence = sentence(&c, opts.min_candidates);
    c
}

fn resample(rng: &mut StdRng, s: &[Candidate], buf: &mut Vec<Candidate>) {
    buf.clear();
    for _ in 0..s.len() {
        buf.push(s[rng.random_range(0..s.len())].clone());
    }
}

/// Criterion's rule: better only when the whole interval is above 1 + noise, worse when
/// it is wholly below 1/(1 + noise); otherwise no clear difference.
pub fn decide(kept: Option<Delta>, noise: f64) -> Verdict {
    match kept {
        Some(d) if d.ci95[0] > 1.0 + noise => Verdict::Better,
        Some(d) if d.ci95[1] < 1.0 / (1.0 + noise) => Verdict::Worse,
        _ => Verdict::NoEvidence,
    }
}

fn sentence(c: &ArmComparison, min: usize) -> String {
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let copies = match c.copies_a + c.copies_b {
        0 => String::new(),
        n => format!(", {} not counted", plural(n, "copy", "copies")),
    };
    let evidence = format!(
        "{} vs {} distinct candidates ({} vs {} timed){copies}",
        c.candidates_a, c.candidates_b, c.timed_a, c.timed_b
    );
    let k = c
        .kept_ratio
        .map(|d| format!("kept speedup per candidate x{:.3} [{:.3}, {:.3}]", d.point, d.ci95[0], d.ci95[1]))
        .unwrap_or_else(|| "no figure".into());
    let val = c
        .valid_rate_diff
        .map(|d| format!(", valid rate {:+.0} pts [{:+.0}, {:+.0}]", d.point * 100.0, d.ci95[0] * 100.0, d.ci95[1] * 100.0))
        .unwrap_or_default();
    let queries = plural(c.queries, "query", "queries");
    let head = format!("{}: {} ({queries}; {evidence}; {k}{val})", c.arm, c.verdict.words());
    if c.verdict == Verdict::NotEnoughEvidence {
        format!("{head}; at least {min} distinct candidates per side are needed (--min-candidates)")
    } else {
        head
    }
}

#[cfg(test)]
mod tests;
