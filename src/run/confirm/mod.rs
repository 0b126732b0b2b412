//! The production stage: a query's best passes confirmed on a full-size database
//! (`[validation.confirm]` after a query's last generation in `qt run`, or `qt confirm` on
//! an existing run folder). `target.rs` resolves and checks the confirm DB before any LLM
//! call, `select.rs` picks the top distinct passes per arm, `stage.rs` checks and times
//! them with validate/'s rules and records each result through record/, and `command.rs`
//! is the body of `qt confirm`.
//!
//! Screening records are never rewritten: a confirmation is an added `confirm` object and a
//! line in the run's confirm.jsonl (record/confirm.rs).

pub mod command;
pub mod select;
pub mod stage;
pub mod target;

pub use command::{ConfirmOptions, confirm};
pub use stage::{StageInputs, StageOutcome, run_stage};
pub use target::{ConfirmTarget, StageSettings, stage_config};

use serde_json::{Value, json};
use std::path::PathBuf;

use crate::db::Target;

use crate::spec::Experiment;
use crate::validate::ValidatorConfig;

/// The stage as a run carries it: the checked confirm DB and the stage's settings.
#[derive(Debug, Clone)]
pub struct ConfirmPlan {
    pub target: ConfirmTarget,
    pub cfg: ValidatorConfig,
    pub top: u32,
    pub min_speedup: Option<f64>,
}

impl ConfirmTarget {
    /// What config.json records as `database.confirm`.
    pub fn config_json(&self) -> Value {
        json!({"db": self.label, "path": self.target.display(), "fingerprint": self.fingerprint})
    }
}

/// The statement each query validates: (id, file, first statement).
pub fn query_statements(exp: &Experiment) -> Vec<(String, PathBuf, String)> {
    exp.queries
        .iter()
        .map(|q| {
            let sql = crate::db::split_statements(&q.sql).into_iter().next().unwrap_or_else(|| q.sql.clone());
            (q.id.clone(), q.path.clone(), sql)
        })
        .collect()
}

/// `[validation.confirm]` of a run, resolved (the DB built once if generated) and checked
/// against the primary and every query; `None` when the spec has none.
pub async fn prepare(exp: &Experiment, primary: &Target, quiet: bool) -> anyhow::Result<Option<std::sync::Arc<ConfirmPlan>>> {
    let Some(c) = &exp.confirm else { return Ok(None) };
    let target = ConfirmTarget::resolve(c, quiet).await?;
    target.refuse_primary(primary)?;
    let (t, p, qs) = (target.clone(), primary.clone(), query_statements(exp));
    tokio::task::spawn_blocking(move || t.check_queries(Some(&p), &qs)).await??;
    let cfg = stage_config(&exp.resolved.validation, &StageSettings::from(c));
    Ok(Some(std::sync::Arc::new(ConfirmPlan { target, cfg, top: c.top, min_speedup: c.min_speedup })))
}
