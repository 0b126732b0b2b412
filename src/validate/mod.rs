//! Validation: is a candidate SQL the same answer as the original, and how much faster?
//! (the contract is VALIDATION.md; the validation.json fields are OUTPUT.md's).
//!
//! Flow per query: [`prepare_baseline`] runs the original twice (self-consistency), refuses
//! vacuous results, reads its ordering promise, and times it through the shared
//! [`TimingLane`]. Then [`validate_candidate`] per candidate: sandbox gate, one correctness
//! run, equivalence, then paired timing rounds. [`confirm`] re-times a winner in fresh
//! rounds (winner's curse). Everything here blocks; async callers use `spawn_blocking`.
//!
//! This module decides verdicts; it does not write files (record/) or print progress
//! (report/), except for [`validate_cli`], the `qt validate` command body.

mod baseline;
mod command;
mod comparer;
pub mod equivalence;
pub mod instances;
pub mod order;
pub mod reads;
pub mod resultset;
pub mod sandbox;
pub mod stats;
pub mod survey;
pub mod timing;
pub mod verdict;

pub use baseline::{Baseline, prepare_baseline};
use baseline::{open, original_failed};
pub use command::{
    aa_bench, aa_bench_verdicts, default_dbs, validate_cli, validate_cli_multi, validate_cmd,
};
use equivalence::Outcome;
pub use resultset::{Cell, ColumnInfo, ResultSet, Row};
use sandbox::{ExecError, Sandbox};
use std::path::Path;
use std::time::Duration;
pub use timing::TimingLane;
pub use verdict::{Diff, Reason, RowCounts, Timing, Verdict};

/// Rows kept from the original's unlimited run (for LIMIT tie groups); beyond this the
/// tie group is treated as unavailable.
pub const TIE_ROWS_CAP: usize = 1_000_000;
/// Rows fetched from a candidate beyond the original's count before giving up on it.
pub const CANDIDATE_EXTRA_ROWS_CAP: usize = 100_000;
/// Minimum candidate deadline.
pub const MIN_CANDIDATE_DEADLINE: Duration = Duration::from_secs(1);

/// Resolved validation settings (from `[validation]`).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatorConfig {
    pub threads: u32,
    pub memory_limit: String,
    pub timing_rounds: u32,
    pub warmup: u32,
    /// Candidates are interrupted after factor x the original's median (at least 1 s).
    pub timeout_factor: f64,
    /// Deadline for each run of the original.
    pub original_timeout: Duration,
    /// Check equivalence only; no timing rounds (speedup is then absent).
    pub skip_timing: bool,
}

impl ValidatorConfig {
    pub fn from_spec(v: &crate::spec::ValidationCfg) -> Self {
        let secs = if v.original_timeout_s.is_finite() && v.original_timeout_s > 0.0 {
            v.original_timeout_s
        } else {
            300.0
        };
        Self {
            threads: v.threads.max(1),
            memory_limit: v.memory_limit.clone(),
            timing_rounds: v.timing_rounds,
            warmup: v.warmup,
            timeout_factor: if v.timeout_factor.is_finite() && v.timeout_factor > 0.0 {
                v.timeout_factor
            } else {
                10.0
            },
            original_timeout: Duration::from_secs_f64(secs),
            skip_timing: false,
        }
    }

    fn timing_off(&self) -> bool {
        self.skip_timing || self.timing_rounds == 0
    }
}

impl Default for ValidatorConfig {
    fn default() -> Self {
        Self::from_spec(&crate::spec::ValidationCfg::default())
    }
}

fn candidate_failed(e: ExecError) -> Verdict {
    match e {
        ExecError::NotSelect(m) => Verdict::Error {
            reason: Reason::NotSelect,
            message: m,
        },
        ExecError::Failed(m) => Verdict::Error {
            reason: Reason::ExecutionError,
            message: format!("the candidate failed on the sample DB: {m}"),
        },
        e @ ExecError::Timeout(_) => Verdict::Error {
            reason: Reason::Timeout,
            message: format!("the candidate {e}"),
        },
    }
}

/// Check one candidate against the baseline and, if equivalent, time it in paired rounds.
pub fn validate_candidate(
    db: &Path,
    base: &Baseline,
    candidate_sql: &str,
    cfg: &ValidatorConfig,
    lane: &TimingLane,
) -> Verdict {
    if let Err(message) = sandbox::check_single_query(candidate_sql) {
        return Verdict::Error {
            reason: Reason::NotSelect,
            message,
        };
    }
    let sb = match open(db, cfg) {
        Ok(sb) => sb,
        Err(message) => {
            return Verdict::Error {
                reason: Reason::ExecutionError,
                message,
            };
        }
    };
    let deadline = base.candidate_deadline(cfg);
    // A candidate returning far more rows than the original is wrong anyway; stop
    // fetching instead of filling memory.
    let cap = base.rows.saturating_add(CANDIDATE_EXTRA_ROWS_CAP);
    let cand = match sb.run_capped(candidate_sql, deadline, cap) {
        Ok(x) if x.truncated => {
            let rows = RowCounts {
                original: base.rows,
                optimized: Some(x.result.rows.len()),
            };
            let diff = Diff {
                message: format!(
                    "original has {} rows, candidate has more than {} (fetching stopped)",
                    base.rows,
                    x.result.rows.len()
                ),
                original: Vec::new(),
                optimized: x
                    .result
                    .rows
                    .iter()
                    .take(equivalence::DIFF_ROWS)
                    .map(|r| resultset::render_row(r))
                    .collect(),
            };
            return Verdict::Failed {
                reason: Reason::RowCountMismatch,
                rows,
                diff,
                notes: Vec::new(),
            };
        }
        Ok(x) => x.result,
        Err(e) => return candidate_failed(e),
    };
    let rows = RowCounts {
        original: base.rows,
        optimized: Some(cand.rows.len()),
    };
    let mut notes =
        match equivalence::compare(&base.result, &cand, &base.order, base.tie_rows.as_deref()) {
            Outcome::Same { notes } => notes,
            Outcome::Different {
                reason,
                diff,
                notes,
            } => {
                return Verdict::Failed {
                    reason,
                    rows,
                    diff,
                    notes,
                };
            }
            Outcome::Unsure { reason, message } => {
                return Verdict::Inconclusive {
                    reason,
                    rows: Some(rows),
                    message,
                };
            }
        };
    notes.extend(base.notes.iter().cloned());
    if cfg.timing_off() {
        return Verdict::Pass {
            rows,
            timing: timing::skipped(base.samples_s.clone()),
            notes,
        };
    }
    match time_candidate(&sb, base, candidate_sql, cfg, lane) {
        Ok(timing) => Verdict::Pass {
            rows,
            timing,
            notes,
        },
        Err(v) => v,
    }
}

fn time_candidate(
    sb: &Sandbox,
    base: &Baseline,
    candidate_sql: &str,
    cfg: &ValidatorConfig,
    lane: &TimingLane,
) -> Result<Timing, Verdict> {
    let paired = timing::PairedRun {
        sandbox: sb,
        original_sql: &base.original_sql,
        candidate_sql,
        original_deadline: cfg.original_timeout,
        candidate_deadline: base.candidate_deadline(cfg),
    };
    match paired.run(cfg.warmup, cfg.timing_rounds, lane) {
        Ok((o, c)) => Ok(timing::summarize(o, c, base.samples_s.clone())),
        Err(timing::PairError::Candidate(e)) => Err(candidate_failed(e)),
        Err(timing::PairError::Original(e)) => Err(original_failed(e, None)),
    }
}

/// Re-time an already validated candidate in fresh paired rounds (winner's curse).
/// `None` when timing is off or either query fails or times out.
pub fn confirm(
    db: &Path,
    base: &Baseline,
    candidate_sql: &str,
    cfg: &ValidatorConfig,
    lane: &TimingLane,
) -> Option<Timing> {
    if cfg.timing_off() || sandbox::check_single_query(candidate_sql).is_err() {
        return None;
    }
    let sb = open(db, cfg).ok()?;
    time_candidate(&sb, base, candidate_sql, cfg, lane).ok()
}
