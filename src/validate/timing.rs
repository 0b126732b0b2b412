//! The timing lane: one timed query on the machine at a time, paired interleaved rounds.
//!
//! Every worker shares one [`TimingLane`]; a timed execution (and the warmups, which load
//! the machine just as much) holds it, so timed runs never overlap each other while LLM
//! calls and correctness checks carry on. A paired round holds the lane for both halves,
//! and alternates which half goes first (O,C then C,O ...) so drift within a round
//! cancels. Correctness checks still compete for CPU; the pairing is what keeps the ratio
//! honest under that load.
//!
//! It measures and summarises; it does not decide equivalence or verdicts.

use super::sandbox::{ExecError, Sandbox};
use super::stats::{BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, bootstrap_ratio_ci, median, speedup};
use super::verdict::Timing;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Below this original median (seconds), timing differences are noise.
pub const NOISE_FLOOR_S: f64 = 0.010;

/// The process-wide benchmark lane; clone it into every worker.
#[derive(Clone, Default)]
pub struct TimingLane(Arc<Mutex<()>>);

impl TimingLane {
    pub fn new() -> Self {
        Self::default()
    }

    /// Hold the lane for the lifetime of the guard: this process's lane first, then the
    /// machine-wide timing lock shared with other qt processes (`machine_lock.rs`).
    pub fn hold(&self) -> LaneGuard<'_> {
        let local = self.0.lock().unwrap_or_else(|e| e.into_inner());
        LaneGuard { _machine: super::machine_lock::MachineTimingLock::acquire(), _local: local }
    }
}

/// Both locks of a timed execution; the machine lock is released first.
pub struct LaneGuard<'a> {
    _machine: super::machine_lock::MachineTimingLock,
    _local: MutexGuard<'a, ()>,
}

/// Which side of a paired round failed.
#[derive(Debug)]
pub enum PairError {
    Original(ExecError),
    Candidate(ExecError),
}

/// Time one query alone: `warmup` discarded runs then `rounds` timed runs, each in the lane.
pub fn time_alone(
    sb: &Sandbox,
    sql: &str,
    warmup: u32,
    rounds: u32,
    deadline: Duration,
    lane: &TimingLane,
) -> Result<Vec<f64>, ExecError> {
    for _ in 0..warmup {
        let _lane = lane.hold();
        sb.run(sql, deadline)?;
    }
    let mut samples = Vec::with_capacity(rounds as usize);
    for _ in 0..rounds {
        let _lane = lane.hold();
        samples.push(sb.run(sql, deadline)?.elapsed.as_secs_f64());
    }
    Ok(samples)
}

/// Paired interleaved rounds of original (O) and candidate (C) on one sandbox.
pub struct PairedRun<'a> {
    pub sandbox: &'a Sandbox,
    pub original_sql: &'a str,
    pub candidate_sql: &'a str,
    pub original_deadline: Duration,
    pub candidate_deadline: Duration,
}

impl PairedRun<'_> {
    fn one(&self, original: bool) -> Result<f64, PairError> {
        if original {
            self.sandbox
                .run(self.original_sql, self.original_deadline)
                .map(|e| e.elapsed.as_secs_f64())
                .map_err(PairError::Original)
        } else {
            self.sandbox
                .run(self.candidate_sql, self.candidate_deadline)
                .map(|e| e.elapsed.as_secs_f64())
                .map_err(PairError::Candidate)
        }
    }

    /// `warmup` discarded pairs, then `rounds` timed pairs alternating O,C / C,O.
    /// Returns (original samples, candidate samples), index-aligned by round.
    pub fn run(
        &self,
        warmup: u32,
        rounds: u32,
        lane: &TimingLane,
    ) -> Result<(Vec<f64>, Vec<f64>), PairError> {
        for _ in 0..warmup {
            let _lane = lane.hold();
            self.one(true)?;
            self.one(false)?;
        }
        let (mut o, mut c) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            let _lane = lane.hold();
            if round % 2 == 0 {
                o.push(self.one(true)?);
                c.push(self.one(false)?);
            } else {
                c.push(self.one(false)?);
                o.push(self.one(true)?);
            }
        }
        Ok((o, c))
    }
}

/// Summarise paired samples into a [`Timing`]: medians, speedup, bootstrap interval,
/// noise-floor note and the `win` flag.
pub fn summarize(
    original_s: Vec<f64>,
    optimized_s: Vec<f64>,
    baseline_original_s: Vec<f64>,
) -> Timing {
    let original_median_s = median(&original_s);
    let optimized_median_s = median(&optimized_s);
    let ci95 = bootstrap_ratio_ci(
        &original_s,
        &optimized_s,
        BOOTSTRAP_RESAMPLES,
        BOOTSTRAP_SEED,
    );
    let below_floor = original_median_s.is_some_and(|m| m < NOISE_FLOOR_S);
    let timing_note = if below_floor {
        Some(format!(
            "original median {:.1} ms is below the {:.0} ms noise floor: timing not meaningful",
            original_median_s.unwrap_or(0.0) * 1e3,
            NOISE_FLOOR_S * 1e3
        ))
    } else if ci95.is_none() && !original_s.is_empty() {
        Some("fewer than 2 paired rounds: no confidence interval".into())
    } else {
        None
    };
    Timing {
        rounds: original_s.len() as u32,
        speedup: speedup(&original_s, &optimized_s),
        win: !below_floor && ci95.is_some_and(|[lo, _]| lo > 1.0),
        original_s,
        optimized_s,
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
        baseline_original_s,
        original_median_s: None,
        optimized_median_s: None,
        speedup: None,
        ci95: None,
        win: false,
        timing_note: Some("timing skipped by configuration".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clear_win_is_a_win() {
        let t = summarize(
            vec![0.2, 0.21, 0.19, 0.2, 0.2],
            vec![0.1, 0.1, 0.11, 0.09, 0.1],
            vec![0.2],
        );
        assert_eq!(t.speedup, Some(2.0));
        assert!(t.win, "{t:?}");
        assert!(t.timing_note.is_none());
    }

    #[test]
    fn below_noise_floor_is_never_a_win() {
        let t = summarize(vec![0.002; 5], vec![0.001; 5], vec![]);
        assert!(!t.win);
        assert!(t.timing_note.unwrap().contains("noise floor"));
    }

    #[test]
    fn overlapping_interval_is_not_a_win() {
        let t = summarize(
            vec![0.20, 0.25, 0.18, 0.22, 0.19],
            vec![0.21, 0.18, 0.23, 0.19, 0.2],
            vec![],
        );
        assert!(!t.win, "{t:?}");
    }
}
