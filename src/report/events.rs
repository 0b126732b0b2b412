//! Events the runner emits; the recorder, the console and the summary all consume this
//! one stream (nextest-style), so `--json`, `--quiet`, progress bars and incremental
//! saving stay consistent.

use std::path::PathBuf;

/// One finished generation, everything needed to record it.
#[derive(Debug, Clone)]
pub struct GenOutcome {
    pub number: u32,
    pub arm: usize,
    pub worker: u32,
    /// (prompt, response) per attempt, in order; response is None when the LLM failed.
    pub attempts: Vec<(String, Option<String>)>,
    pub optimized_sql: Option<String>,
    /// The validation.json object.
    pub record: serde_json::Value,
}

#[derive(Debug, Clone)]
pub enum Event {
    /// `largest_gen`: the largest generation number (sets the `gen_NN` width).
    QueryStarted { query_id: String, run_dir: PathBuf, total: usize, largest_gen: usize, already_done: usize },
    /// A line of setup progress (plan analysis, baseline timing...).
    Note(String),
    LlmStarted { number: u32 },
    LlmFinished { number: u32 },
    ValidationStarted { number: u32 },
    ValidationFinished { number: u32 },
    GenFinished(Box<GenOutcome>),
    /// Not finished because the run was interrupted (left for `--resume`).
    Abandoned { number: u32 },
    /// Not started: the budget is spent or its (query, arm) met `stop_when`
    /// (`reason`: `budget` / `stop_when`); recorded in the summary, no folder.
    Skipped { number: u32, arm: usize, reason: &'static str },
    QueryFinished { summary: serde_json::Value, run_dir: PathBuf },
    /// The full-size confirmation of a query starts (`[validation.confirm]`, `qt confirm`):
    /// `candidates` picked, `done` of them already confirmed on this DB.
    ConfirmStarted { query_id: String, db: String, candidates: usize, done: usize },
    /// Progress of the confirmation (`confirming 2/3 of q1 on tpcds sf10: ...`).
    ConfirmProgress(String),
    /// One candidate confirmed: the recorded `confirm` object beside its screening speedup.
    ConfirmFinished { number: u32, largest_gen: usize, screening: f64, confirm: serde_json::Value },
}
