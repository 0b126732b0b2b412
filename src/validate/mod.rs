//! Validation: is a candidate SQL the same answer as the original, and how much faster?
//! (the contract is VALIDATION.md; the validation.json fields are OUTPUT.md's).
//!
//! Flow per query: [`prepare_baseline`] runs the original twice (self-consistency), refuses
//! vacuous results, reads its ordering promise, and times it through the shared
//! [`TimingLane`]. Then [`validate_candidate`] per candidate: [`check_candidate`] (sandbox
//! gate, one correctness run on a pooled connection, equivalence), then [`time_checked`]
//! (order-balanced paired rounds on the lane's own connection); run/ calls the two halves
//! separately so the next candidate's check overlaps this one's timing. [`confirm`]
//! re-times a winner in fresh rounds (winner's curse). Everything here blocks; async
//! callers use `spawn_blocking`.
//!
//! Three sub-rooms, each unaware of the others and of this orchestration:
//! `sandbox/` (locked read-only connections, the deadline watchdog, result caps, the
//! connection pool, spill folders), `equivalence/` (comparing two in-memory results: order
//! promise, tie groups, sort keys, column names, float tolerance; it never runs SQL) and
//! `timing/` (the lane, paired balanced rounds, statistics, the machine-wide timing lock).
//! Below them, `vocab.rs` (reasons, diffs, tolerances) and `resultset.rs` (the value
//! model). On top: this file (one candidate), `baseline.rs`, `exposed.rs` (sort keys run in
//! the sandbox), `instances.rs` (agreement on every data instance), `verdict.rs`.
//!
//! This module decides verdicts; it does not write files (record/) or print progress
//! (report/), except for [`validate_cli`], the `qt validate` command body.

mod baseline;
pub mod baseline_cache;
pub mod dedup;
pub mod equivalence;
pub mod evidence;
mod exposed;
pub mod instances;
pub mod multi;
pub mod reads;
pub mod rebind;
pub mod reference;
pub mod risk;
pub mod statements;
pub mod resultset;
pub mod sandbox;
mod standalone;
pub mod survey;
pub mod timing;
pub mod verdict;
pub mod vocab;

pub use baseline::{Baseline, prepare_baseline};
use baseline::{open, original_failed};
use equivalence::Outcome;
pub use resultset::{Cell, ColumnInfo, ResultSet, Row};
use sandbox::ExecError;
pub use standalone::{aa_bench, aa_bench_verdicts, default_dbs, validate_cli, validate_cli_multi};
use crate::db::Target;
use std::time::Duration;
pub use timing::TimingLane;
pub use verdict::{Diff, Reason, RowCounts, Timing, Verdict};

/// Rows kept from the original's unlimited run (for LIMIT tie groups); beyond this the
/// tie group is treated as unavailable.
pub const TIE_ROWS_CAP: usize = 1_000_000;
/// Rows fetched from a candidate beyond the original's count before giving up on it.
pub const CANDIDATE_EXTRA_ROWS_CAP: usize = 100_000;
/// Results of at most this many rows get a `thin_result` note on a pass.
pub const THIN_RESULT_ROWS: usize = 5;
/// The prefix of that note (summaries count notes starting with it).
pub const THIN_RESULT_NOTE: &str = "thin_result";
/// Minimum candidate deadline.
pub const MIN_CANDIDATE_DEADLINE: Duration = Duration::from_secs(1);

/// Resolved validation settings (from `[validation]`).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatorConfig {
    pub threads: u32,
    pub memory_limit: String,
    /// Engine settings of every session (PostgreSQL's work_mem, ...; DuckDB ignores them).
    pub engine: crate::db::EngineSettings,
    pub timing_rounds: u32,
    pub warmup: u32,
    /// Candidates are interrupted after factor x the original's median (at least 1 s).
    pub timeout_factor: f64,
    /// Deadline for each run of the original.
    pub original_timeout: Duration,
    /// Check equivalence only; no timing rounds (speedup is then absent).
    pub skip_timing: bool,
    /// Rows of evidence a pass needs (`validation.min_rows`, at least 1).
    pub min_rows: usize,
    /// Re-bindings tried for an empty or thin original (`validation.rebind_tries`).
    pub rebind_tries: u32,
}

impl ValidatorConfig {
    pub fn from_spec(v: &crate::spec::ValidationCfg) -> Self {
        let secs = if v.original_timeout_s.is_finite() && v.original_timeout_s > 0.0 {
            v.original_timeout_s.min(crate::spec::limits::MAX_TIMEOUT_S)
        } else {
            300.0
        };
        Self {
            threads: v.threads.max(1),
            memory_limit: v.memory_limit.clone(),
            // Checked at spec load (`spec/limits.rs`); an unreadable value is the default.
            engine: crate::db::EngineSettings {
                work_mem_kb: v.work_mem.as_deref().and_then(|w| crate::db::settings::parse_pg_size_kb(w).ok()),
                max_parallel_workers_per_gather: v.max_parallel_workers_per_gather,
                temp_file_limit_kb: v
                    .temp_file_limit
                    .as_deref()
                    .and_then(|t| crate::db::settings::parse_temp_file_limit_kb(t).ok()),
            },
            timing_rounds: v.timing_rounds,
            warmup: v.warmup,
            timeout_factor: if v.timeout_factor.is_finite() && v.timeout_factor > 0.0 {
                v.timeout_factor.min(crate::spec::limits::MAX_TIMEOUT_FACTOR)
            } else {
                10.0
            },
            original_timeout: Duration::from_secs_f64(secs),
            skip_timing: false,
            min_rows: v.min_rows.clamp(1, crate::spec::limits::MAX_MIN_ROWS) as usize,
            rebind_tries: v.rebind_tries.clamp(0, crate::spec::limits::MAX_REBIND_TRIES) as u32,
        }
    }

    /// `db` as this configuration's sessions see it (its engine settings applied).
    pub fn session_target(&self, db: &Target) -> Target {
        db.with_settings(&self.engine)
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
        ExecError::Parse(m) => Verdict::Error {
            reason: Reason::ParseError,
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
    db: impl Into<Target>,
    base: &Baseline,
    candidate_sql: &str,
    cfg: &ValidatorConfig,
    lane: &TimingLane,
) -> Verdict {
    let db = db.into();
    match check_candidate(&db, base, candidate_sql, cfg) {
        Ok(checked) => time_checked(&db, base, cfg, lane, checked),
        Err(v) => v,
    }
}

/// A candidate found equivalent on one DB, waiting for its timing (its SQL passed the
/// gate). Notes from later checks (other instances) may be added before timing.
#[derive(Debug, Clone)]
pub struct Equivalent {
    sql: String,
    rows: RowCounts,
    pub notes: Vec<String>,
}

/// The correctness half of [`validate_candidate`] (no timing, does not touch the lane):
/// the gate, one run on a pooled connection, column names, equivalence. `Err` is the
/// final verdict.
pub fn check_candidate(
    db: impl Into<Target>,
    base: &Baseline,
    candidate_sql: &str,
    cfg: &ValidatorConfig,
) -> Result<Equivalent, Verdict> {
    let db = db.into();
    let sb = match open(&db, cfg) {
        Ok(sb) => sb,
        Err(message) => {
            return Err(Verdict::Error {
                reason: Reason::ExecutionError,
                message,
            });
        }
    };
    // The engine's own parser decides (on the session: PostgreSQL prepares the text).
    if let Err(e) = sb.gate(candidate_sql) {
        return Err(Verdict::Error {
            reason: match e {
                crate::db::gate::GateError::Parse(_) => Reason::ParseError,
                crate::db::gate::GateError::NotSelect(_) => Reason::NotSelect,
                crate::db::gate::GateError::Bounds(_) => Reason::ExecutionError,
            },
            message: e.to_string(),
        });
    }
    let deadline = base.candidate_deadline(cfg);
    // A candidate returning far more rows than the original is wrong anyway; stop
    // fetching instead of filling memory.
    let cap = base.rows.saturating_add(CANDIDATE_EXTRA_ROWS_CAP);
    // And far more bytes (huge strings, wide rows): bounded too, relative to the original.
    let byte_cap = sandbox::RESULT_BYTES_CAP.max(sandbox::result_bytes(&base.result).saturating_mul(2));
    let cand = match sb.run_capped_bytes(candidate_sql, deadline, cap, byte_cap) {
        Ok(x) if x.truncated && x.result.rows.len() < cap => {
            return Err(Verdict::Error {
                reason: Reason::ExecutionError,
                message: format!(
                    "the candidate's result exceeds {} MB after {} rows (the original's has {} rows); fetching stopped",
                    byte_cap / (1024 * 1024),
                    x.result.rows.len(),
                    base.rows
                ),
            });
        }
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
                    .take(vocab::DIFF_ROWS)
                    .map(|r| resultset::render_row(r))
                    .collect(),
            };
            return Err(Verdict::Failed {
                reason: Reason::RowCountMismatch,
                rows,
                diff,
                notes: Vec::new(),
            });
        }
        Ok(x) => x.result,
        Err(e) => return Err(candidate_failed(e)),
    };
    drop(sb);
    let rows = RowCounts {
        original: base.rows,
        optimized: Some(cand.rows.len()),
    };
    let mut notes = match equivalence::columns::check_names(&base.result.columns, &base.named, &cand.columns) {
        Ok(n) => n,
        Err(diff) => {
            return Err(Verdict::Failed {
                reason: Reason::ColumnMismatch,
                rows,
                diff,
                notes: Vec::new(),
            });
        }
    };
    let compared = match equivalence::compare_keyed(
        &base.result,
        &cand,
        &base.order,
        base.tie_rows.as_deref(),
        base.sort_keys.as_ref(),
    ) {
        Outcome::Same { notes } => notes,
        Outcome::Different {
            reason,
            diff,
            notes: more,
        } => {
            notes.extend(more);
            return Err(Verdict::Failed {
                reason,
                rows,
                diff,
                notes,
            });
        }
        Outcome::Unsure { reason, message } => {
            return Err(Verdict::Inconclusive {
                reason,
                rows: Some(rows),
                message,
            });
        }
    };
    notes.extend(compared);
    notes.extend(base.notes.iter().cloned());
    if (1..=THIN_RESULT_ROWS).contains(&base.rows) {
        notes.push(format!(
            "{THIN_RESULT_NOTE}: the original returns only {} row(s) on the sample DB, so this match is weak evidence",
            base.rows
        ));
    }
    Ok(Equivalent {
        sql: candidate_sql.to_string(),
        rows,
        notes,
    })
}

/// The timing half of [`validate_candidate`]: paired rounds on the lane (skipped when
/// timing is off). A candidate that fails or times out here gets that verdict instead.
pub fn time_checked(
    db: impl Into<Target>,
    base: &Baseline,
    cfg: &ValidatorConfig,
    lane: &TimingLane,
    checked: Equivalent,
) -> Verdict {
    let db = db.into();
    let Equivalent { sql, rows, notes } = checked;
    if cfg.timing_off() {
        return Verdict::Pass {
            rows,
            timing: timing::skipped(base.samples_s.clone()),
            notes,
        };
    }
    match time_candidate(&db, base, &sql, cfg, lane) {
        Ok(timing) => Verdict::Pass {
            rows,
            timing,
            notes,
        },
        Err(v) => v,
    }
}

/// `candidate_sql` must have passed the gate (the lane runs it unchecked); the original
/// passed it when the baseline ran it.
fn time_candidate(
    db: &Target,
    base: &Baseline,
    candidate_sql: &str,
    cfg: &ValidatorConfig,
    lane: &TimingLane,
) -> Result<Timing, Verdict> {
    let paired = timing::PairedRun {
        original_sql: &base.original_sql,
        candidate_sql,
        original_deadline: cfg.original_timeout,
        candidate_deadline: base.candidate_deadline(cfg),
    };
    let ran = lane
        .with_connection(cfg.session_target(db), cfg.threads, &cfg.memory_limit, |sb| {
            paired.run(sb, cfg.warmup, cfg.timing_rounds)
        })
        .map_err(|e| Verdict::Error {
            reason: Reason::ExecutionError,
            message: e.to_string(),
        })?;
    match ran {
        Ok(p) => Ok(timing::summarize(p, base.samples_s.clone())),
        Err(timing::PairError::Candidate(e)) => Err(candidate_failed(e)),
        Err(timing::PairError::Original(e)) => Err(original_failed(e, None)),
    }
}

/// Re-time an already validated candidate in fresh paired rounds (winner's curse).
/// `None` when timing is off or either query fails or times out.
pub fn confirm(
    db: impl Into<Target>,
    base: &Baseline,
    candidate_sql: &str,
    cfg: &ValidatorConfig,
    lane: &TimingLane,
) -> Option<Timing> {
    let db = db.into();
    if cfg.timing_off() || db.gate(candidate_sql).is_err() {
        return None;
    }
    time_candidate(&db, base, candidate_sql, cfg, lane).ok()
}
