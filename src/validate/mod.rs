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

pub mod equivalence;
pub mod order;
pub mod resultset;
pub mod sandbox;
pub mod stats;
pub mod timing;
pub mod verdict;

use equivalence::Outcome;
use order::OrderSpec;
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

/// What every candidate of one query is compared against.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub original_sql: String,
    pub result: ResultSet,
    pub rows: usize,
    /// Median of `samples_s` (or of the two correctness runs when timing is skipped).
    pub original_median_s: f64,
    /// The original's timed samples through the lane (empty when timing is skipped).
    pub samples_s: Vec<f64>,
    pub order: OrderSpec,
    /// The original's complete unlimited result, when it has a LIMIT/OFFSET window.
    pub tie_rows: Option<Vec<Row>>,
    pub notes: Vec<String>,
}

impl Baseline {
    /// The candidate deadline: timeout_factor x the original's median, at least 1 s.
    pub fn candidate_deadline(&self, cfg: &ValidatorConfig) -> Duration {
        let secs = self.original_median_s * cfg.timeout_factor;
        Duration::from_secs_f64(secs.clamp(0.0, 1e7)).max(MIN_CANDIDATE_DEADLINE)
    }
}

fn open(db: &Path, cfg: &ValidatorConfig) -> Result<Sandbox, String> {
    Sandbox::open(db, cfg.threads, &cfg.memory_limit).map_err(|e| e.to_string())
}

fn original_failed(e: ExecError, rows: Option<RowCounts>) -> Verdict {
    let reason = match &e {
        ExecError::NotSelect(_) => Reason::NotSelect,
        ExecError::Failed(_) => Reason::ExecutionError,
        ExecError::Timeout(_) => Reason::Timeout,
    };
    Verdict::Inconclusive {
        reason,
        rows,
        message: format!("the original query failed, so nothing can be validated: {e}"),
    }
}

/// Run the original twice, check it is deterministic and non-vacuous, read its ordering
/// promise and time it through the lane. `Err` is the verdict for every candidate.
pub fn prepare_baseline(
    db: &Path,
    original_sql: &str,
    cfg: &ValidatorConfig,
    lane: &TimingLane,
) -> Result<Baseline, Verdict> {
    let sb = open(db, cfg).map_err(|message| Verdict::Inconclusive {
        reason: Reason::ExecutionError,
        rows: None,
        message,
    })?;
    let first = sb
        .run(original_sql, cfg.original_timeout)
        .map_err(|e| original_failed(e, None))?;
    let rows = first.result.rows.len();
    let counts = Some(RowCounts {
        original: rows,
        optimized: None,
    });
    if first.result.is_vacuous() {
        return Err(Verdict::Inconclusive {
            reason: Reason::EmptyResult,
            rows: counts,
            message: format!(
                "the original returns {rows} rows with no non-NULL value on the sample DB: a match would prove nothing"
            ),
        });
    }
    let order = order::analyze(original_sql, &first.result.column_names());
    let mut notes = Vec::new();
    let tie_rows = match (&order.unlimited_sql, order.window_unknown) {
        (Some(sql), false) => match sb.run_capped(sql, cfg.original_timeout, TIE_ROWS_CAP) {
            Ok(x) if !x.truncated => Some(x.result.rows),
            Ok(_) => {
                notes.push(format!("the original without LIMIT has more than {TIE_ROWS_CAP} rows; tie groups at the cut are not checked"));
                None
            }
            Err(e) => {
                notes.push(format!("the original without LIMIT could not be run ({e}); tie groups at the cut are not checked"));
                None
            }
        },
        _ => None,
    };
    let second = sb
        .run(original_sql, cfg.original_timeout)
        .map_err(|e| original_failed(e, counts))?;
    match equivalence::compare(&first.result, &second.result, &order, tie_rows.as_deref()) {
        Outcome::Same { .. } => {}
        Outcome::Different { diff, .. } => {
            return Err(Verdict::Inconclusive {
                reason: Reason::NondeterministicOriginal,
                rows: counts,
                message: format!(
                    "two runs of the original disagree ({}): no candidate can be checked",
                    diff.message
                ),
            });
        }
        Outcome::Unsure { message, .. } => {
            return Err(Verdict::Inconclusive {
                reason: Reason::NondeterministicOriginal,
                rows: counts,
                message: format!("two runs of the original may disagree ({message})"),
            });
        }
    }
    let (samples_s, original_median_s) = if cfg.timing_off() {
        let two = [first.elapsed.as_secs_f64(), second.elapsed.as_secs_f64()];
        (Vec::new(), stats::median(&two).unwrap_or(0.0))
    } else {
        let s = timing::time_alone(
            &sb,
            original_sql,
            cfg.warmup,
            cfg.timing_rounds,
            cfg.original_timeout,
            lane,
        )
        .map_err(|e| original_failed(e, counts))?;
        let m = stats::median(&s).unwrap_or(0.0);
        (s, m)
    };
    Ok(Baseline {
        original_sql: original_sql.to_string(),
        result: first.result,
        rows,
        original_median_s,
        samples_s,
        order,
        tie_rows,
        notes,
    })
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

/// `qt validate --db FILE ORIGINAL.sql CANDIDATE.sql [--json]`: print the verdict and
/// return the exit code (0 pass, 1 otherwise). Missing files are `BadInput`.
pub fn validate_cli(
    db: &Path,
    original: &Path,
    candidate: &Path,
    json: bool,
    cfg: ValidatorConfig,
) -> anyhow::Result<i32> {
    let read = |p: &Path, what: &str| {
        std::fs::read_to_string(p).map_err(|e| {
            crate::error::BadInput(format!(
                "cannot read the {what} {}: {e}; check the path",
                p.display()
            ))
        })
    };
    if !db.is_file() {
        return Err(crate::error::BadInput(format!(
            "sample DB {} does not exist; pass an existing DuckDB file with --db",
            db.display()
        ))
        .into());
    }
    let original_sql = read(original, "original query")?;
    let candidate_sql = read(candidate, "candidate query")?;
    let lane = TimingLane::new();
    let verdict = match prepare_baseline(db, &original_sql, &cfg, &lane) {
        Ok(base) => validate_candidate(db, &base, &candidate_sql, &cfg, &lane),
        Err(v) => v,
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::Value::Object(verdict.to_json_fields()))?
        );
    } else {
        println!("{}", verdict.render_human());
    }
    Ok(if verdict.is_pass() {
        crate::error::EXIT_OK
    } else {
        crate::error::EXIT_FAILURE
    })
}

/// Benchmark (not a test): `runs` A/A validations (the original as its own candidate) per
/// `(name, sql)`; returns each query's speedups (empty when the baseline failed; NaN for
/// a run that did not pass). A trustworthy lane gives values near 1.0.
pub fn aa_bench(
    db: &Path,
    queries: &[(String, String)],
    runs: usize,
    cfg: &ValidatorConfig,
) -> Vec<(String, Vec<f64>)> {
    aa_bench_verdicts(db, queries, runs, cfg)
        .into_iter()
        .map(|(name, verdicts)| {
            (
                name,
                verdicts
                    .iter()
                    .map(|v| v.speedup().unwrap_or(f64::NAN))
                    .collect(),
            )
        })
        .collect()
}

/// Like [`aa_bench`] but keeps the whole verdicts (intervals, false wins); a failed
/// baseline gives a single verdict, the baseline's.
pub fn aa_bench_verdicts(
    db: &Path,
    queries: &[(String, String)],
    runs: usize,
    cfg: &ValidatorConfig,
) -> Vec<(String, Vec<Verdict>)> {
    let lane = TimingLane::new();
    queries
        .iter()
        .map(|(name, sql)| {
            let verdicts = match prepare_baseline(db, sql, cfg, &lane) {
                Ok(base) => (0..runs)
                    .map(|_| validate_candidate(db, &base, sql, cfg, &lane))
                    .collect(),
                Err(v) => vec![v],
            };
            (name.clone(), verdicts)
        })
        .collect()
}
