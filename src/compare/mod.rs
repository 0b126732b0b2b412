//! `qt compare A B`: did B (after a prompt change, more workers, another model) do better
//! than A? Two runs or two sweeps are read by the one reader (record/report_model.rs),
//! paired by query and arm, and every difference gets a seeded bootstrap 95% interval that
//! resamples queries and, inside each, generations. The verdict per arm is decided here,
//! once, from the interval against a noise threshold (criterion's way: whole interval,
//! three words); report/ only prints it. The valid@k / best-speedup@k math is
//! `record/at_k.rs` (summary.json holds the curves).
//!
//! The primary figure is the expected kept speedup of one generation: its speedup when
//! valid and faster, else 1.0 (you keep the original). It moves with validity and with
//! speed, so "B better" means a B generation is worth more than an A generation.


pub mod full;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::path::{Path, PathBuf};

use crate::record::report_model::{self, GenReport, ReportModel};
use crate::record::at_k;
use crate::validate::timing::stats::median;

/// Relative change below which B and A are "the same": about the spread of the A/A
/// timing noise that `qt bench` measures (README: A/A p05-p95 within about +-5%).
pub const DEFAULT_NOISE: f64 = 0.05;
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
}

/// What one side did for one query and arm.
#[derive(Debug, Clone, Serialize)]
pub struct Metrics {
    pub completed: usize,
    pub valid_rate: Option<f64>,
    pub median_speedup: Option<f64>,
    pub best_speedup: Option<f64>,
    pub wins: usize,
    /// Mean kept speedup of one generation (see the module doc).
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
}

impl Verdict {
    pub fn words(self) -> &'static str {
        match self {
            Verdict::Better => "B better",
            Verdict::Worse => "B worse",
            Verdict::NoEvidence => "no evidence",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ArmComparison {
    pub arm: String,
    pub queries: usize,
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
    pub b: PathBuf,
    pub a_run_ids: Vec<String>,
    pub b_run_ids: Vec<String>,
    pub noise: f64,
    pub resamples: usize,
    pub seed: u64,
    pub only_in_a: Vec<String>,
    pub only_in_b: Vec<String>,
    pub rows: Vec<Row>,
    pub arms: Vec<ArmComparison>,
    /// Sample vs full size per query of each side (empty when nothing was confirmed).
    pub full_a: Vec<full::FullSide>,
    pub full_b: Vec<full::FullSide>,
}

/// Read both folders and compare them.
pub fn compare_dirs(a: &Path, b: &Path, noise: f64) -> Result<Comparison, CompareError> {
    let (ma, mb) = (report_model::read(a)?, report_model::read(b)?);
    compare(&ma, &mb, noise)
}

fn gens_of<'m>(m: &'m ReportModel, query: &str, arm: &str) -> Vec<&'m GenReport> {
    m.runs.iter().filter(|r| r.query_id == query).flat_map(|r| r.gens.iter()).filter(|g| g.arm == arm).collect()
}

/// (valid, speedup) per generation: all a metric needs.
type Sample = (bool, Option<f64>);

fn samples(gens: &[&GenReport]) -> Vec<Sample> {
    gens.iter().map(|g| (g.is_pass(), g.speedup)).collect()
}

fn metrics(s: &[Sample], wins: usize) -> Metrics {
    let n = s.len();
    let speedups: Vec<f64> = s.iter().filter(|x| x.0).filter_map(|x| x.1).collect();
    Metrics {
        completed: n,
        valid_rate: (n > 0).then(|| s.iter().filter(|x| x.0).count() as f64 / n as f64),
        median_speedup: median(&speedups),
        best_speedup: speedups.iter().copied().reduce(f64::max),
        wins,
        kept_speedup: (n > 0).then(|| s.iter().map(|x| at_k::kept_speedup(x.0, x.1)).sum::<f64>() / n as f64),
    }
}

pub fn compare(a: &ReportModel, b: &ReportModel, noise: f64) -> Result<Comparison, CompareError> {
    let (qa, qb) = (a.query_ids(), b.query_ids());
    let shared: Vec<String> = qa.iter().filter(|q| qb.contains(q)).cloned().collect();
    if shared.is_empty() {
        return Err(CompareError::NothingShared { a: a.dir.clone(), b: b.dir.clone(), qa: qa.join(", "), qb: qb.join(", ") });
    }
    let mut arms: Vec<String> = a.arm_names.iter().filter(|x| b.arm_names.contains(x)).cloned().collect();
    if arms.is_empty() && a.arm_names.len() == 1 && b.arm_names.len() == 1 {
        // One arm each under different names (a renamed arm): compare them as one.
        arms.push(format!("{} -> {}", a.arm_names[0], b.arm_names[0]));
    }
    let mut rows = Vec::new();
    let mut per_arm: Vec<ArmComparison> = Vec::new();
    for arm in &arms {
        let (arm_a, arm_b) = arm.split_once(" -> ").unwrap_or((arm.as_str(), arm.as_str()));
        let mut pairs: Vec<(Vec<Sample>, Vec<Sample>)> = Vec::new();
        for q in &shared {
            let (ga, gb) = (gens_of(a, q, arm_a), gens_of(b, q, arm_b));
            if ga.is_empty() || gb.is_empty() {
                continue;
            }
            let wins = |g: &[&GenReport]| g.iter().filter(|g| g.is_pass() && g.win && !g.below_floor).count();
            let (sa, sb) = (samples(&ga), samples(&gb));
            let ((full_a, wrong_at_full_a), (full_b, wrong_at_full_b)) = (full::best_full(&ga), full::best_full(&gb));
            rows.push(Row { query_id: q.clone(), arm: arm.clone(), a: metrics(&sa, wins(&ga)), b: metrics(&sb, wins(&gb)), full_a, full_b, wrong_at_full_a, wrong_at_full_b });
            pairs.push((sa, sb));
        }
        if !pairs.is_empty() {
            per_arm.push(arm_comparison(arm, &pairs, noise));
        }
    }
    Ok(Comparison {
        a: a.dir.clone(),
        b: b.dir.clone(),
        a_run_ids: a.header.run_ids.clone(),
        b_run_ids: b.header.run_ids.clone(),
        noise,
        resamples: RESAMPLES,
        seed: SEED,
        only_in_a: qa.iter().filter(|q| !shared.contains(q)).cloned().collect(),
        only_in_b: qb.iter().filter(|q| !shared.contains(q)).cloned().collect(),
        rows,
        arms: per_arm,
        full_a: full::sides(a),
        full_b: full::sides(b),
    })
}

/// The four differences of one side pair, averaged over queries (ratios on a log scale);
/// `None` where no query has the figure on both sides.
fn diffs(pairs: &[(&[Sample], &[Sample])]) -> [Option<f64>; 4] {
    let mut acc = [(0.0, 0usize); 4];
    for (sa, sb) in pairs {
        let (ma, mb) = (metrics(sa, 0), metrics(sb, 0));
        let figures = [
            ma.valid_rate.zip(mb.valid_rate).map(|(x, y)| y - x),
            ma.median_speedup.zip(mb.median_speedup).filter(|(x, y)| *x > 0.0 && *y > 0.0).map(|(x, y)| (y / x).ln()),
            Some((best_kept(sb) / best_kept(sa)).ln()),
            ma.kept_speedup.zip(mb.kept_speedup).map(|(x, y)| (y / x).ln()),
        ];
        for (slot, f) in acc.iter_mut().zip(figures) {
            if let Some(f) = f {
                slot.0 += f;
                slot.1 += 1;
            }
        }
    }
    acc.map(|(sum, n)| (n > 0).then(|| sum / n as f64))
}

fn best_kept(s: &[Sample]) -> f64 {
    s.iter().map(|x| at_k::kept_speedup(x.0, x.1)).fold(1.0, f64::max)
}

fn resample(rng: &mut StdRng, s: &[Sample], buf: &mut Vec<Sample>) {
    buf.clear();
    for _ in 0..s.len() {
        buf.push(s[rng.random_range(0..s.len())]);
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let pos = p * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

fn arm_comparison(arm: &str, pairs: &[(Vec<Sample>, Vec<Sample>)], noise: f64) -> ArmComparison {
    let refs: Vec<(&[Sample], &[Sample])> = pairs.iter().map(|(a, b)| (a.as_slice(), b.as_slice())).collect();
    let point = diffs(&refs);
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut draws: [Vec<f64>; 4] = Default::default();
    let (mut ba, mut bb): (Vec<Vec<Sample>>, Vec<Vec<Sample>>) = (vec![Vec::new(); pairs.len()], vec![Vec::new(); pairs.len()]);
    for _ in 0..RESAMPLES {
        let picks: Vec<usize> = (0..pairs.len()).map(|_| rng.random_range(0..pairs.len())).collect();
        for (slot, &q) in picks.iter().enumerate() {
            resample(&mut rng, &pairs[q].0, &mut ba[slot]);
            resample(&mut rng, &pairs[q].1, &mut bb[slot]);
        }
        let drawn: Vec<(&[Sample], &[Sample])> = ba.iter().zip(&bb).map(|(x, y)| (x.as_slice(), y.as_slice())).collect();
        for (d, f) in draws.iter_mut().zip(diffs(&drawn)) {
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
    let verdict = decide(kept_ratio, noise);
    let sentence = sentence(arm, pairs.len(), verdict, kept_ratio, valid_rate_diff);
    ArmComparison { arm: arm.into(), queries: pairs.len(), valid_rate_diff, median_ratio, best_ratio, kept_ratio, verdict, sentence }
}

/// Better only when the whole interval is above 1 and the point clears the noise;
/// worse symmetrically; otherwise no evidence either way.
pub fn decide(kept: Option<Delta>, noise: f64) -> Verdict {
    match kept {
        Some(d) if d.ci95[0] > 1.0 && d.point > 1.0 + noise => Verdict::Better,
        Some(d) if d.ci95[1] < 1.0 && d.point < 1.0 / (1.0 + noise) => Verdict::Worse,
        _ => Verdict::NoEvidence,
    }
}

fn sentence(arm: &str, queries: usize, v: Verdict, kept: Option<Delta>, valid: Option<Delta>) -> String {
    let k = kept
        .map(|d| format!("kept speedup per generation x{:.3} [{:.3}, {:.3}]", d.point, d.ci95[0], d.ci95[1]))
        .unwrap_or_else(|| "no figure".into());
    let val = valid
        .map(|d| format!(", valid rate {:+.0} pts [{:+.0}, {:+.0}]", d.point * 100.0, d.ci95[0] * 100.0, d.ci95[1] * 100.0))
        .unwrap_or_default();
    format!("{arm}: {} ({queries} quer{}; {k}{val})", v.words(), if queries == 1 { "y" } else { "ies" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(valid: usize, n: usize, speed: f64) -> Vec<Sample> {
        (0..n).map(|i| if i < valid { (true, Some(speed + i as f64 * 0.01)) } else { (false, None) }).collect()
    }

    #[test]
    fn clearly_better_worse_and_same() {
        let better: Vec<_> = (0..5).map(|_| (side(2, 10, 1.5), side(8, 10, 2.0))).collect();
        let c = arm_comparison("x", &better, DEFAULT_NOISE);
        assert_eq!(c.verdict, Verdict::Better, "{c:?}");
        assert!(c.valid_rate_diff.unwrap().point > 0.5);
        assert!(c.sentence.starts_with("x: B better (5 queries"), "{}", c.sentence);
        let worse: Vec<_> = better.iter().map(|(a, b)| (b.clone(), a.clone())).collect();
        assert_eq!(arm_comparison("x", &worse, DEFAULT_NOISE).verdict, Verdict::Worse);
        let same: Vec<_> = (0..5).map(|_| (side(5, 10, 1.5), side(5, 10, 1.5))).collect();
        let s = arm_comparison("x", &same, DEFAULT_NOISE);
        assert_eq!(s.verdict, Verdict::NoEvidence);
        assert_eq!(s.kept_ratio.unwrap().point, 1.0);
    }

    #[test]
    fn the_interval_is_reproducible() {
        let p: Vec<_> = (0..3).map(|i| (side(3, 8, 1.2 + i as f64 * 0.1), side(4, 8, 1.3))).collect();
        let (x, y) = (arm_comparison("x", &p, 0.05), arm_comparison("x", &p, 0.05));
        assert_eq!(x.kept_ratio, y.kept_ratio);
        let d = x.kept_ratio.unwrap();
        assert!(d.ci95[0] <= d.point && d.point <= d.ci95[1], "{d:?}");
    }
}
