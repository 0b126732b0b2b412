//! The verdict on one candidate and its validation.json fields (OUTPUT.md).
//!
//! A verdict is a type, not a string plus optional fields: a `Pass` always carries row
//! counts and timing, a `Failed` always names its reason and first differences. This file
//! only shapes and renders verdicts; deciding them is `mod.rs`'s job.

pub use super::timing::Timing;
pub use super::vocab::{Diff, Reason, RowCounts};
use super::vocab::{FLOAT_ABS_TOL, FLOAT_REL_TOL};
use serde::Serialize;
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Verdict {
    Pass {
        rows: RowCounts,
        timing: Timing,
        notes: Vec<String>,
    },
    Failed {
        reason: Reason,
        rows: RowCounts,
        diff: Diff,
        notes: Vec<String>,
    },
    Error {
        reason: Reason,
        message: String,
    },
    Inconclusive {
        reason: Reason,
        rows: Option<RowCounts>,
        message: String,
    },
}

impl Verdict {
    pub fn status(&self) -> &'static str {
        match self {
            Verdict::Pass { .. } => "pass",
            Verdict::Failed { .. } => "validation_failed",
            Verdict::Error { .. } => "error",
            Verdict::Inconclusive { .. } => "inconclusive",
        }
    }

    pub fn reason(&self) -> Option<&'static str> {
        match self {
            Verdict::Pass { .. } => None,
            Verdict::Failed { reason, .. }
            | Verdict::Error { reason, .. }
            | Verdict::Inconclusive { reason, .. } => Some(reason.as_str()),
        }
    }

    pub fn speedup(&self) -> Option<f64> {
        match self {
            Verdict::Pass { timing, .. } => timing.speedup,
            _ => None,
        }
    }

    pub fn is_pass(&self) -> bool {
        matches!(self, Verdict::Pass { .. })
    }

    pub fn rows(&self) -> Option<RowCounts> {
        match self {
            Verdict::Pass { rows, .. } | Verdict::Failed { rows, .. } => Some(*rows),
            Verdict::Inconclusive { rows, .. } => *rows,
            Verdict::Error { .. } => None,
        }
    }

    /// One sentence on why it did not pass (`None` for a pass).
    pub fn message(&self) -> Option<&str> {
        match self {
            Verdict::Pass { .. } => None,
            Verdict::Failed { diff, .. } => Some(&diff.message),
            Verdict::Error { message, .. } | Verdict::Inconclusive { message, .. } => Some(message),
        }
    }

    /// The validation.json fields this verdict owns (OUTPUT.md); the caller adds
    /// worker_id, arm, tokens and the like.
    pub fn to_json_fields(&self) -> Map<String, Value> {
        let timing = match self {
            Verdict::Pass { timing, .. } => Some(timing),
            _ => None,
        };
        let mut m = Map::new();
        m.insert("status".into(), json!(self.status()));
        m.insert("speedup".into(), json!(self.speedup()));
        m.insert("error".into(), json!(self.message()));
        m.insert(
            "original_time".into(),
            json!(timing.and_then(|t| t.original_median_s)),
        );
        m.insert(
            "optimized_time".into(),
            json!(timing.and_then(|t| t.optimized_median_s)),
        );
        m.insert("reason".into(), json!(self.reason()));
        m.insert("rows".into(), json!(self.rows()));
        m.insert(
            "timing".into(),
            match timing {
                Some(t) => json!({
                    "rounds": t.rounds,
                    "original_s": t.original_s,
                    "optimized_s": t.optimized_s,
                    "baseline_original_s": t.baseline_original_s,
                    "order": t.o_first.iter().map(|f| if *f { "OC" } else { "CO" }).collect::<Vec<_>>(),
                    "estimator": "balanced_blocks",
                    "ratio_o_first": t.ratio_o_first,
                    "ratio_c_first": t.ratio_c_first,
                    "ci95": t.ci95,
                    "win_bound99": t.win_bound,
                    "win": t.win,
                    "timing_note": t.timing_note,
                }),
                None => Value::Null,
            },
        );
        m.insert(
            "diff".into(),
            match self {
                Verdict::Failed { diff, .. } => json!(diff),
                _ => Value::Null,
            },
        );
        let notes: &[String] = match self {
            Verdict::Pass { notes, .. } | Verdict::Failed { notes, .. } => notes,
            _ => &[],
        };
        m.insert("notes".into(), json!(notes));
        m.insert(
            "tolerance".into(),
            json!({"float_rel": FLOAT_REL_TOL, "float_abs": FLOAT_ABS_TOL}),
        );
        m
    }

    /// Human one-liner: `pass, 2.15x [ci95 1.98–2.31], rows 100/100`.
    pub fn summary_line(&self) -> String {
        let rows = match self.rows() {
            Some(RowCounts {
                original,
                optimized: Some(o),
            }) => format!(", rows {original}/{o}"),
            Some(RowCounts {
                original,
                optimized: None,
            }) => format!(", original rows {original}"),
            None => String::new(),
        };
        match self {
            Verdict::Pass { timing, .. } => {
                let speed = match (timing.speedup, timing.ci95) {
                    (Some(s), Some([lo, hi])) => format!(", {s:.2}x [ci95 {lo:.2}–{hi:.2}]"),
                    (Some(s), None) => format!(", {s:.2}x"),
                    (None, _) => " (timing skipped)".into(),
                };
                let win = if timing.win { ", win" } else { "" };
                format!("pass{speed}{win}{rows}")
            }
            other => format!(
                "{} ({}){rows}: {}",
                other.status(),
                other.reason().unwrap_or("-"),
                other.message().unwrap_or("")
            ),
        }
    }

    /// Multi-line human rendering: the summary line, notes, timing note and diff rows.
    pub fn render_human(&self) -> String {
        let mut out = vec![self.summary_line()];
        if let Verdict::Pass { timing, notes, .. } = self {
            out.extend(timing.timing_note.iter().map(|n| format!("  timing: {n}")));
            out.extend(notes.iter().map(|n| format!("  note: {n}")));
        }
        if let Verdict::Failed { diff, notes, .. } = self {
            out.extend(notes.iter().map(|n| format!("  note: {n}")));
            out.extend(diff.original.iter().map(|r| format!("  original  {r}")));
            out.extend(diff.optimized.iter().map(|r| format!("  candidate {r}")));
        }
        out.join("\n")
    }
}
