//! The timing lane: one timed query on the machine at a time, on its own connection, in
//! order-balanced paired rounds.
//!
//! Every worker shares one [`TimingLane`]. The lane owns its sessions (one per
//! sample DB and settings, kept for the whole run, so its buffer pool stays warm and no
//! candidate is timed on a connection that just opened), and a candidate's timing holds
//! the lane from its warmup to its last round, so it is never released mid-measurement.
//! Why (measured on TPC-DS q7 at scale 1, `tests/validate_order_effect.rs`): the first
//! execution of a pair was 26% slower than the second when each candidate got a fresh
//! connection (cold buffer pool), and 11% slower when another connection ran a query
//! just before the pair (what releasing the lane between rounds allowed: its caches
//! evicted); back to back on the lane's own warm connection the effect is within noise.
//!
//! Rounds come in balanced blocks O,C,C,O (pair 2k original first, pair 2k+1 candidate
//! first) and the rounds asked for are rounded up to whole blocks, so both orders get the
//! same number of first places; the speedup is the order-balanced estimator of
//! [`stats::balanced_speedup`] and its interval a block bootstrap.
//!
//! Correctness checks run on other connections (see `pool.rs`), between timings: they
//! hold the lane's quiet gate (`quiet.rs`) shared, the lane holds it alone while it times.
//!
//! It measures and summarises; it does not decide equivalence or verdicts.

pub mod machine_lock;
pub mod quiet;
pub mod stats;
pub mod trace;

use crate::validate::sandbox::pool::{ConnKey, Idle};
use crate::validate::sandbox::{ExecError, OpenError, Sandbox};
use serde::Serialize;
use stats::{
    BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, balanced_speedup, block_bootstrap_ci,
    block_t_lower_bound, median,
};
use crate::db::Target;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Below this original median (seconds), timing differences are noise.
pub const NOISE_FLOOR_S: f64 = 0.010;

/// Lane connections kept (one per sample DB and settings in use).
const LANE_CONNECTIONS: usize = 2;

/// What the lane holds while someone times: its own connections.
#[derive(Default)]
pub struct LaneState {
    conns: Idle,
}

/// The process-wide benchmark lane; clone it into every worker.
#[derive(Clone, Default)]
pub struct TimingLane {
    state: Arc<Mutex<LaneState>>,
    quiet: Arc<quiet::QuietGate>,
}

impl TimingLane {
    pub fn new() -> Self {
        Self::default()
    }

    /// Hold the lane for the lifetime of the guard: this process's lane first, then the
    /// machine-wide timing lock shared with other qt processes (`machine_lock.rs`), then
    /// the quiet gate (`quiet.rs`: the process's other work waits until the guard drops).
    pub fn hold(&self) -> LaneGuard<'_> {
        let local = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let machine = machine_lock::MachineTimingLock::acquire();
        LaneGuard { _quiet: self.quiet.exclusive(), _machine: machine, local }
    }

    /// Work that must not run while this lane times (a correctness check): waits for the
    /// timing in progress, and holds the next one off until the guard drops.
    pub fn quiet(&self) -> quiet::Shared<'_> {
        self.quiet.shared()
    }

    /// [`Self::quiet`] waiting at most `limit` (then holding nothing).
    pub fn quiet_within(&self, limit: Duration) -> Option<quiet::Shared<'_>> {
        self.quiet.shared_within(Some(limit))
    }

    /// Hold the lane and run `f` on the lane's own connection to `db` (opened on first
    /// use, reused after).
    pub fn with_connection<T>(
        &self,
        db: impl Into<Target>,
        threads: u32,
        memory_limit: &str,
        f: impl FnOnce(&Sandbox) -> T,
    ) -> Result<T, OpenError> {
        let db = db.into();
        let mut lane = self.hold();
        let key = ConnKey::new(&db, threads, memory_limit);
        let sb = match lane.conns.take(&key) {
            Some(sb) => sb,
            None => Sandbox::open(&db, threads, memory_limit)?,
        };
        let out = f(&sb);
        lane.conns.put(key, sb, LANE_CONNECTIONS);
        Ok(out)
    }
}

/// The locks of a timed execution; the quiet gate is released first, then the machine
/// lock.
pub struct LaneGuard<'a> {
    _quiet: quiet::Exclusive<'a>,
    _machine: machine_lock::MachineTimingLock,
    local: MutexGuard<'a, LaneState>,
}

impl std::ops::Deref for LaneGuard<'_> {
    type Target = LaneState;
    fn deref(&self) -> &LaneState {
        &self.local
    }
}

impl std::ops::DerefMut for LaneGuard<'_> {
    fn deref_mut(&mut self) -> &mut LaneState {
        &mut self.local
    }
}

/// Which side of a paired round failed.
#[derive(Debug)]
pub enum PairError {
    Original(ExecError),
    Candidate(ExecError),
}

/// Time one query alone on the lane's connection `sb` (the caller holds the lane):
/// `warmup` discarded runs then `rounds` timed runs. `sql` must have passed the gate.
pub fn time_alone(
    sb: &Sandbox,
    sql: &str,
    warmup: u32,
    rounds: u32,
    deadline: Duration,
) -> Result<Vec<f64>, ExecError> {
    for _ in 0..warmup {
        sb.run_prechecked(sql, deadline)?;
    }
    let mut samples = Vec::with_capacity(rounds as usize);
    for _ in 0..rounds {
        samples.push(sb.run_prechecked(sql, deadline)?.elapsed.as_secs_f64());
    }
    Ok(samples)
}

/// Paired rounds of original (O) and candidate (C), in balanced blocks. Both texts must
/// have passed the gate (`check_single_query`): the lane does not parse them again.
pub struct PairedRun<'a> {
    pub original_sql: &'a str,
    pub candidate_sql: &'a str,
    pub original_deadline: Duration,
    pub candidate_deadline: Duration,
}

/// The samples of a paired run, index-aligned by round.
#[derive(Debug, Clone, Default)]
pub struct PairedSamples {
    pub original_s: Vec<f64>,
    pub optimized_s: Vec<f64>,
    /// Whether the original ran first in that round.
    pub o_first: Vec<bool>,
}

/// Paired rounds actually run for `rounds` asked: whole O,C,C,O blocks.
pub fn balanced_rounds(rounds: u32) -> u32 {
    rounds.div_ceil(2) * 2
}

impl PairedRun<'_> {
    fn one(&self, sb: &Sandbox, original: bool) -> Result<f64, PairError> {
        let started = std::time::Instant::now();
        let r = self.one_untraced(sb, original);
        trace::span(if original { "O" } else { "C" }, 0, started);
        r
    }

    fn one_untraced(&self, sb: &Sandbox, original: bool) -> Result<f64, PairError> {
        if original {
            sb.run_prechecked(self.original_sql, self.original_deadline)
                .map(|e| e.elapsed.as_secs_f64())
                .map_err(PairError::Original)
        } else {
            sb.run_prechecked(self.candidate_sql, self.candidate_deadline)
                .map(|e| e.elapsed.as_secs_f64())
                .map_err(PairError::Candidate)
        }
    }

    /// On the lane's connection `sb` (the caller holds the lane for the whole call):
    /// `warmup` discarded pairs (C,O), then [`balanced_rounds`] timed pairs in O,C,C,O
    /// blocks.
    pub fn run(&self, sb: &Sandbox, warmup: u32, rounds: u32) -> Result<PairedSamples, PairError> {
        let started = std::time::Instant::now();
        let r = self.run_rounds(sb, warmup, rounds);
        trace::span("run", 0, started);
        r
    }

    fn run_rounds(&self, sb: &Sandbox, warmup: u32, rounds: u32) -> Result<PairedSamples, PairError> {
        // Warmup ends with the original, so the first block's O-first pair follows an O
        // exactly like every later block's (O,C,C,O | O,C,C,O): within each block the
        // original and the candidate each follow themselves once.
        for _ in 0..warmup {
            self.one(sb, false)?;
            self.one(sb, true)?;
        }
        let mut out = PairedSamples::default();
        for round in 0..balanced_rounds(rounds) {
            let o_first = round % 2 == 0;
            let (o, c) = if o_first {
                let o = self.one(sb, true)?;
                (o, self.one(sb, false)?)
            } else {
                let c = self.one(sb, false)?;
                (self.one(sb, true)?, c)
            };
            out.original_s.push(o);
            out.optimized_s.push(c);
            out.o_first.push(o_first);
        }
        Ok(out)
    }
}

/// Summarise paired samples into a [`Timing`]: medians, the order-balanced speedup, its
/// block bootstrap interval, the small-sample bound, noise-floor note and the `win` flag.
/// A `win` needs both the interval's lower bound and the 99% one-sided t bound above 1.
pub fn summarize(p: PairedSamples, baseline_original_s: Vec<f64>) -> Timing {
    let PairedSamples { original_s, optimized_s, o_first } = p;
    let original_median_s = median(&original_s);
    let optimized_median_s = median(&optimized_s);
    let balanced = balanced_speedup(&original_s, &optimized_s, &o_first);
    let ci95 = block_bootstrap_ci(
        &original_s,
        &optimized_s,
        &o_first,
        BOOTSTRAP_RESAMPLES,
        BOOTSTRAP_SEED,
    );
    let win_bound = block_t_lower_bound(&original_s, &optimized_s);
    let below_floor = original_median_s.is_some_and(|m| m < NOISE_FLOOR_S);
    let timing_note = if below_floor {
        Some(format!(
            "original median {:.1} ms is below the {:.0} ms noise floor: timing not meaningful",
            original_median_s.unwrap_or(0.0) * 1e3,
            NOISE_FLOOR_S * 1e3
        ))
    } else if ci95.is_none() && !original_s.is_empty() {
        Some("fewer than 2 blocks of paired rounds: no confidence interval".into())
    } else {
        None
    };
    Timing {
        rounds: original_s.len() as u32,
        speedup: balanced.map(|b| b.0),
        win: !below_floor
            && ci95.is_some_and(|[lo, _]| lo > 1.0)
            && win_bound.is_some_and(|b| b > 1.0),
        ratio_o_first: balanced.and_then(|b| b.1),
        ratio_c_first: balanced.and_then(|b| b.2),
        win_bound,
        original_s,
        optimized_s,
        o_first,
        baseline_original_s,
        original_median_s,
        optimized_median_s,
        ci95,
        timing_note,
    }
}

/// Timing record for a pass whose timing was skipped by configuration.
pub fn skipped(baseline_original_s: Vec<f64>) -> Timing {
    Timing {
        rounds: 0,
        original_s: Vec::new(),
        optimized_s: Vec::new(),
        o_first: Vec::new(),
        ratio_o_first: None,
        ratio_c_first: None,
        win_bound: None,
        baseline_original_s,
        original_median_s: None,
        optimized_median_s: None,
        speedup: None,
        ci95: None,
        win: false,
        timing_note: Some("timing skipped by configuration".into()),
    }
}

/// Measured timing of an equivalent candidate (seconds).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timing {
    /// Paired rounds actually run (0 when timing was skipped).
    pub rounds: u32,
    /// The original's samples from this candidate's paired rounds.
    pub original_s: Vec<f64>,
    pub optimized_s: Vec<f64>,
    /// Per round: did the original run first (O,C) or second (C,O)?
    pub o_first: Vec<bool>,
    /// Median original/candidate ratio of the O-first rounds, and of the C-first rounds;
    /// their geometric mean is `speedup`, their ratio shows the order effect.
    pub ratio_o_first: Option<f64>,
    pub ratio_c_first: Option<f64>,
    /// 99% one-sided lower bound of the speedup from the blocks' log ratios (a `win`
    /// needs it above 1 as well as ci95's lower bound).
    pub win_bound: Option<f64>,
    /// The original's samples from the per-query baseline (shared by all candidates).
    pub baseline_original_s: Vec<f64>,
    pub original_median_s: Option<f64>,
    pub optimized_median_s: Option<f64>,
    /// Order-balanced: sqrt(ratio_o_first x ratio_c_first).
    pub speedup: Option<f64>,
    /// 95% block bootstrap interval of `speedup` (whole O,C,C,O blocks resampled).
    pub ci95: Option<[f64; 2]>,
    /// True only when ci95's lower bound is above 1 and timing is meaningful.
    pub win: bool,
    pub timing_note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paired(o: Vec<f64>, c: Vec<f64>) -> PairedSamples {
        let o_first = (0..o.len()).map(|i| i % 2 == 0).collect();
        PairedSamples { original_s: o, optimized_s: c, o_first }
    }

    #[test]
    fn clear_win_is_a_win() {
        let t = summarize(
            paired(vec![0.2, 0.21, 0.19, 0.2, 0.2, 0.2], vec![0.1, 0.1, 0.11, 0.09, 0.1, 0.1]),
            vec![0.2],
        );
        assert!((t.speedup.unwrap() - 2.0).abs() < 0.05, "{t:?}");
        assert!(t.win, "{t:?}");
        assert!(t.timing_note.is_none());
    }

    #[test]
    fn below_noise_floor_is_never_a_win() {
        let t = summarize(paired(vec![0.002; 6], vec![0.001; 6]), vec![]);
        assert!(!t.win);
        assert!(t.timing_note.unwrap().contains("noise floor"));
    }

    #[test]
    fn overlapping_interval_is_not_a_win() {
        let t = summarize(
            paired(vec![0.20, 0.25, 0.18, 0.22, 0.19, 0.2], vec![0.21, 0.18, 0.23, 0.19, 0.2, 0.2]),
            vec![],
        );
        assert!(!t.win, "{t:?}");
    }

    #[test]
    fn a_pure_order_effect_is_not_a_win() {
        // A/A where whatever runs second is 10% faster: O-first ratios 1.1, C-first 1/1.1.
        let o = vec![0.11, 0.10, 0.11, 0.10, 0.11, 0.10, 0.11, 0.10];
        let c = vec![0.10, 0.11, 0.10, 0.11, 0.10, 0.11, 0.10, 0.11];
        let t = summarize(paired(o, c), vec![]);
        assert!((t.speedup.unwrap() - 1.0).abs() < 1e-9, "{t:?}");
        assert!(!t.win);
        assert!(t.ratio_o_first.unwrap() > 1.05 && t.ratio_c_first.unwrap() < 0.95);
    }

    #[test]
    fn rounds_are_whole_blocks() {
        assert_eq!(
            [0, 1, 2, 3, 7, 8].map(balanced_rounds),
            [0, 2, 2, 4, 8, 8]
        );
    }
}
