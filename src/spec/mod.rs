//! Experiment specs: the TOML file (`types`), loading with located errors (`load`),
//! `${VAR}` expansion (`env`), arms from `[[arms]]` and `[matrix]` (`matrix`), and the
//! resolved values everything downstream uses ([`Experiment`], [`Arm`], [`Job`]).
//!
//! After [`load`] returns, nothing re-reads TOML or the environment: paths are resolved,
//! overrides applied and type-checked, query files read. This module does not open the
//! database, render templates, read API keys or create output folders.
//!
//! Errors: every failure is a [`SpecError`] (bad input, exit code 2). `main` can
//! downcast an `anyhow::Error` to `SpecError`, or convert with
//! `crate::error::BadInput::from(spec_error)`.

pub mod arm;
pub mod confirm;
pub mod diagnose;
pub mod env;
pub mod error;
pub mod identity;
pub mod keys;
pub mod limits;
pub mod load;
pub mod matrix;
pub mod overrides;
mod paths;
pub mod shard;
pub mod spans;
pub mod types;

pub use crate::query::QueryFile;
pub use error::{Location, SpecError};
pub use load::{load, load_with, load_with_env, load_with_overrides};
pub use overrides::Override;
pub use types::*;

use std::collections::BTreeMap;
use std::path::PathBuf;

/// A loaded, validated experiment.
#[derive(Debug, Clone)]
pub struct Experiment {
    /// Canonical path of the spec file.
    pub spec_path: PathBuf,
    pub spec_dir: PathBuf,
    /// Raw text as read (before `${VAR}` expansion).
    pub spec_text: String,
    /// Hex SHA-256 of the raw bytes.
    pub spec_sha256: String,
    pub name: String,
    pub description: String,
    /// `<resolved output.root>/<name>`.
    pub output_dir: PathBuf,
    pub database: DbSource,
    /// `[validation] extra_paths`, resolved and known to exist.
    pub extra_paths: Vec<PathBuf>,
    /// `[validation] instances`, when written.
    pub instances: Option<u32>,
    /// In selection order, deduplicated.
    pub queries: Vec<QueryFile>,
    /// At least one; see `matrix.rs` for the order.
    pub arms: Vec<Arm>,
    /// `[validation.confirm]`: the full-size DB stage, when configured.
    pub confirm: Option<confirm::ConfirmSpec>,
    /// The spec after env expansion (paths as written). Holds no secrets: API keys are
    /// never written in a spec, only the name of their variable or file.
    pub resolved: SpecFile,
    /// The command-line overrides applied (`--set`, `--ids`, ...), in order.
    pub overrides: Vec<Override>,
    /// The file with the overrides applied, as canonical TOML before `${VAR}` expansion
    /// (`identity.rs`): an edited copy of the spec gives the same text.
    pub effective_spec: String,
    /// What `--resume`, shards and `qt merge` compare (`identity.rs`).
    pub identity_sha256: String,
}

/// Where the sample database comes from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum DbSource {
    /// An existing DuckDB file (resolved, known to exist at load time).
    Path(PathBuf),
    /// The built-in generator (`benchmark` is "tpcds"; `scale` > 0; `sample` in (0, 1]
    /// samples the fact tables; `instance` >= 1 picks the slice).
    Generate {
        benchmark: String,
        scale: f64,
        sample: Option<f64>,
        instance: u32,
    },
    /// A PostgreSQL database (`[database] engine = "postgres"`): the URL as written (no
    /// password: that comes from `password_env`, default `PGPASSWORD`, or `password_file`).
    Postgres {
        url: String,
        password_env: String,
        password_file: Option<PathBuf>,
    },
}

impl DbSource {
    /// What to generate, for a generated source.
    pub fn gen_spec(&self) -> Option<crate::db::GenSpec> {
        match self {
            DbSource::Path(_) | DbSource::Postgres { .. } => None,
            DbSource::Generate {
                benchmark,
                scale,
                sample,
                instance,
            } => Some(crate::db::GenSpec {
                benchmark: benchmark.clone(),
                scale: *scale,
                sample: *sample,
                instance: *instance,
                sparse: false,
                nulls: false,
            }),
        }
    }
}

/// One configuration being compared: base config plus this arm's overrides.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Arm {
    /// 0-based position in [`Experiment::arms`].
    pub index: usize,
    /// "default" without matrix/arms; `[[arms]]` name; or
    /// "examples.strategy=batches,llm.temperature=0.2" for product arms.
    pub name: String,
    /// The dotted-key overrides of this arm (empty for "default").
    pub params: BTreeMap<String, serde_json::Value>,
    pub llm: LlmCfg,
    pub generation: GenerationCfg,
    pub examples: ExamplesCfg,
    pub validation: ValidationCfg,
    /// Resolved; known to exist.
    pub template_path: PathBuf,
    /// Resolved; known to exist unless `examples.strategy = "none"`.
    pub examples_dir: PathBuf,
    /// `llm.responses` resolved against the spec folder (replay provider).
    pub responses: Option<PathBuf>,
    /// `llm.api_key_file` resolved against the spec folder; never read here.
    pub api_key_file: Option<PathBuf>,
}

/// One generation to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Job {
    /// Index into [`Experiment::queries`].
    pub query: usize,
    /// Index into [`Experiment::arms`].
    pub arm: usize,
    /// 1-based within the arm.
    pub worker: u32,
    /// 1-based per query, running across arms: arm 0's workers 1..=W get 1..=W, arm 1's
    /// get W+1.., so every generation of a query has its own number.
    /// (`gen` is a reserved word in Rust 2024, hence the raw identifier.)
    pub r#gen: u32,
}

/// Every job, ordered by query, then arm, then worker.
pub fn jobs(exp: &Experiment) -> Vec<Job> {
    let workers: Vec<u32> = exp.arms.iter().map(|a| a.generation.workers).collect();
    jobs_for(exp.queries.len(), &workers)
}

/// The job list of `queries` queries with `workers[a]` workers in arm `a` (what [`jobs`]
/// returns; `qt merge` rebuilds it from shard.json without the spec).
pub fn jobs_for(queries: usize, workers: &[u32]) -> Vec<Job> {
    let mut out = Vec::new();
    for query in 0..queries {
        let mut n = 0;
        for (arm, w) in workers.iter().enumerate() {
            for worker in 1..=*w {
                n += 1;
                out.push(Job {
                    query,
                    arm,
                    worker,
                    r#gen: n,
                });
            }
        }
    }
    out
}

impl Experiment {
    /// Total generations: sum over arms of workers, times the number of queries.
    pub fn job_count(&self) -> usize {
        let per_query: usize = self
            .arms
            .iter()
            .map(|a| a.generation.workers as usize)
            .sum();
        per_query * self.queries.len()
    }
}
