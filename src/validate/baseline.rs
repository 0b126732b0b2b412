//! The per-query baseline: the original run twice (self-consistency), refused when
//! vacuous, its ordering promise read, its whole tie group fetched when it has a LIMIT,
//! and its timing samples taken through the lane.
//!
//! Built once per query and shared by every candidate; it never looks at a candidate.

use super::equivalence::order::{self, OrderSpec};
use super::equivalence::sortkeys::SortKeys;
use super::equivalence::{self, Outcome};
use super::exposed;
use super::sandbox::{ExecError, pool};
use super::timing::{self, stats};
use super::{MIN_CANDIDATE_DEADLINE, Reason};
use super::{ResultSet, Row, RowCounts, TIE_ROWS_CAP, TimingLane, ValidatorConfig, Verdict};
use crate::db::Target;
use std::time::Duration;

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
    /// Values of the sort keys that are not output columns (`result.rows` is then the
    /// exposed run's valid order, so rows and keys line up).
    pub sort_keys: Option<SortKeys>,
    /// Per output column: does the original promise this name (alias or bare column)?
    pub named: Vec<bool>,
    pub notes: Vec<String>,
}

impl Baseline {
    /// The candidate deadline: timeout_factor x the original's median, at least 1 s.
    pub fn candidate_deadline(&self, cfg: &ValidatorConfig) -> Duration {
        let secs = self.original_median_s * cfg.timeout_factor;
        Duration::from_secs_f64(secs.clamp(0.0, 1e7)).max(MIN_CANDIDATE_DEADLINE)
    }
}

/// A correctness connection from the pool (see `pool.rs`).
pub(super) fn open(db: &Target, cfg: &ValidatorConfig) -> Result<pool::Pooled, String> {
    pool::checkout(cfg.session_target(db), cfg.threads, &cfg.memory_limit).map_err(|e| e.to_string())
}

pub(super) fn original_failed(e: ExecError, rows: Option<RowCounts>) -> Verdict {
    let reason = match &e {
        ExecError::NotSelect(_) => Reason::NotSelect,
        ExecError::Parse(_) => Reason::ParseError,
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
    db: impl Into<Target>,
    original_sql: &str,
    cfg: &ValidatorConfig,
    lane: &TimingLane,
) -> Result<Baseline, Verdict> {
    let db = db.into();
    let sb = open(&db, cfg).map_err(|message| Verdict::Inconclusive {
        reason: Reason::ExecutionError,
        rows: None,
        message,
    })?;
    let mut first = sb
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
    let named = super::equivalence::columns::named_columns(original_sql, &first.result.column_names());
    let mut notes = Vec::new();
    let mut sort_keys = None;
    let mut exposed_ties = None;
    if !order.unmapped.is_empty() {
        match exposed::expose(&sb, &first.result, &order, cfg.original_timeout) {
            Ok(x) => {
                first.result.rows = x.rows;
                exposed_ties = Some(x.tie_rows);
                sort_keys = Some(x.keys);
            }
            Err(why) => notes.push(format!(
                "sort key `{}` is not an output column and could not be computed ({why}); \
                 only the original's exact row order can pass",
                order.unmapped[0]
            )),
        }
    }
    let tie_rows = match (&order.unlimited_sql, order.window_unknown) {
        _ if exposed_ties.is_some() => exposed_ties.flatten(),
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
    match equivalence::compare_keyed(
        &first.result,
        &second.result,
        &order,
        tie_rows.as_deref(),
        sort_keys.as_ref(),
    ) {
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
        drop(sb);
        let s = lane
            .with_connection(cfg.session_target(&db), cfg.threads, &cfg.memory_limit, |lane_sb| {
                timing::time_alone(
                    lane_sb,
                    original_sql,
                    cfg.warmup,
                    cfg.timing_rounds,
                    cfg.original_timeout,
                )
            })
            .map_err(|e| Verdict::Inconclusive {
                reason: Reason::ExecutionError,
                rows: counts,
                message: e.to_string(),
            })?
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
        sort_keys,
        named,
        notes,
    })
}
