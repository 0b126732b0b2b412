//! The experiment spec as written in TOML (see `../shared/design/SPEC.md`).
//!
//! These are plain serde types with `deny_unknown_fields`; loading, error spans and
//! `${VAR}` expansion live in `load.rs`, the matrix in `matrix.rs`. Nothing downstream
//! re-reads TOML: it receives resolved [`crate::spec::Experiment`] values.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The whole file.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SpecFile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub output: OutputCfg,
    #[serde(default)]
    pub database: DatabaseCfg,
    pub queries: QueriesCfg,
    #[serde(default)]
    pub llm: LlmCfg,
    #[serde(default)]
    pub generation: GenerationCfg,
    #[serde(default)]
    pub examples: ExamplesCfg,
    #[serde(default)]
    pub validation: ValidationCfg,
    /// Dotted key ("examples.strategy") -> list of values; the product makes arms.
    #[serde(default)]
    pub matrix: BTreeMap<String, Vec<toml::Value>>,
    /// Hand-made arms: a name plus dotted-key overrides.
    #[serde(default)]
    pub arms: Vec<ArmCfg>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutputCfg {
    #[serde(default = "default_output_root")]
    pub root: String,
}
impl Default for OutputCfg {
    fn default() -> Self {
        Self {
            root: default_output_root(),
        }
    }
}
fn default_output_root() -> String {
    "research/experiments".into()
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DatabaseCfg {
    /// An existing DuckDB file, opened read-only.
    pub path: Option<String>,
    /// Or the embedded default, generated once and cached.
    pub generate: Option<GenerateCfg>,
    /// `duckdb` (the default) or `postgres`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// PostgreSQL: `postgresql://USER@HOST:PORT/DB` or `postgresql://USER@/DB?host=/socket/dir`
    /// (never with a password in it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// PostgreSQL: the environment variable holding the password (default `PGPASSWORD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// PostgreSQL: a file holding the password (first line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GenerateCfg {
    #[serde(default = "default_benchmark")]
    pub benchmark: String,
    #[serde(default = "default_scale")]
    pub scale: f64,
    /// Fraction of the fact tables' rows, in (0, 1] (dimensions stay whole): scale = 100,
    /// sample = 0.01 is "TPC-DS SF100 sampled 1%".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<f64>,
    /// Which slice of the facts (1, 2, ...); only with `sample`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<i64>,
}
fn default_benchmark() -> String {
    "tpcds".into()
}
fn default_scale() -> f64 {
    0.1
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QueriesCfg {
    /// Folder searched for `ids` (relative to the spec file); the spec's own folder
    /// when omitted.
    pub dir: Option<String>,
    /// Numbers, "1..99" ranges, or names like "23a".
    #[serde(default)]
    pub ids: Vec<QueryId>,
    /// Glob patterns relative to the spec file.
    #[serde(default)]
    pub files: Vec<String>,
}

pub use crate::query::QueryId;

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    #[default]
    Openai,
    Replay,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LlmCfg {
    #[serde(default)]
    pub provider: ProviderKind,
    #[serde(default = "default_base_url")]
    pub base_url: String,
    #[serde(default = "default_model")]
    pub model: String,
    pub api_key_env: Option<String>,
    pub api_key_file: Option<String>,
    #[serde(default = "default_temperature")]
    pub temperature: f64,
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u32,
    #[serde(default = "default_timeout_s")]
    pub timeout_s: f64,
    #[serde(default = "default_max_concurrency")]
    pub max_concurrency: usize,
    /// Total attempts per call (first try + retries on 429/5xx/timeouts).
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Replay: a folder or glob of response files (provider = "replay").
    pub responses: Option<String>,
    /// Dollars per million tokens; without it the built-in table (llm/price_table.rs) is
    /// used, and an unknown model has no cost (null), never a guessed one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<PriceCfg>,
}

/// `[llm] price = { input = 0.27, output = 1.10, cached_input = 0.07 }`: US dollars per
/// million tokens; `cached_input` (prompt tokens the provider served from its prompt
/// cache) defaults to `input`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PriceCfg {
    pub input: f64,
    pub output: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_input: Option<f64>,
}

/// `[generation] stop_when = { valid = 3, min_speedup = 1.2 }`: per query and arm, stop
/// issuing generations once `valid` distinct passes with a (screening) speedup of at least
/// `min_speedup` are recorded.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StopWhenCfg {
    pub valid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_speedup: Option<f64>,
}
impl Default for LlmCfg {
    fn default() -> Self {
        Self {
            provider: ProviderKind::Openai,
            base_url: default_base_url(),
            model: default_model(),
            api_key_env: None,
            api_key_file: None,
            temperature: default_temperature(),
            max_tokens: default_max_tokens(),
            timeout_s: default_timeout_s(),
            max_concurrency: default_max_concurrency(),
            max_attempts: default_max_attempts(),
            responses: None,
            price: None,
        }
    }
}
fn default_base_url() -> String {
    "https://api.deepseek.com".into()
}
fn default_model() -> String {
    "deepseek-chat".into()
}
fn default_temperature() -> f64 {
    0.7
}
fn default_max_tokens() -> u32 {
    8192
}
fn default_timeout_s() -> f64 {
    180.0
}
fn default_max_concurrency() -> usize {
    20
}
fn default_max_attempts() -> u32 {
    5
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ResponseFormat {
    #[default]
    DagJson,
    Sql,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GenerationCfg {
    #[serde(default = "default_workers")]
    pub workers: u32,
    #[serde(default = "default_template")]
    pub template: String,
    #[serde(default)]
    pub response_format: ResponseFormat,
    #[serde(default = "default_retries")]
    pub retries_on_failure: u32,
    /// Which set of LLM samples (part of the response-cache key). 0 is the default set; a
    /// new value asks for fresh answers while other values keep their cached ones.
    /// `qt run --repeat N` sets it to N for the run.
    #[serde(default)]
    pub samples_seed: u64,
    /// Stop issuing LLM calls once the run has spent this many dollars (run-level: not
    /// per arm). Calls in flight finish; the rest are recorded as skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_usd: Option<f64>,
    /// Early stop per query and arm (run-level setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_when: Option<StopWhenCfg>,
}
impl Default for GenerationCfg {
    fn default() -> Self {
        Self {
            workers: default_workers(),
            template: default_template(),
            response_format: ResponseFormat::DagJson,
            retries_on_failure: default_retries(),
            samples_seed: 0,
            budget_usd: None,
            stop_when: None,
        }
    }
}
fn default_workers() -> u32 {
    20
}
fn default_template() -> String {
    "templates/v5_dag.j2".into()
}
fn default_retries() -> u32 {
    1
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    #[default]
    Batches,
    Random,
    Matched,
    /// Every worker gets the best-matching example plus a rotation of the others.
    Coverage,
    None,
    All,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExamplesCfg {
    #[serde(default = "default_examples_dir")]
    pub dir: String,
    #[serde(default)]
    pub strategy: Strategy,
    #[serde(default = "default_per_worker")]
    pub per_worker: usize,
    #[serde(default = "default_seed")]
    pub seed: u64,
}
impl Default for ExamplesCfg {
    fn default() -> Self {
        Self {
            dir: default_examples_dir(),
            strategy: Strategy::Batches,
            per_worker: default_per_worker(),
            seed: default_seed(),
        }
    }
}
fn default_examples_dir() -> String {
    "prompts/examples".into()
}
fn default_per_worker() -> usize {
    3
}
fn default_seed() -> u64 {
    42
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ValidationCfg {
    #[serde(default = "default_rounds")]
    pub timing_rounds: u32,
    #[serde(default = "default_warmup")]
    pub warmup: u32,
    #[serde(default = "default_timeout_factor")]
    pub timeout_factor: f64,
    /// Deadline for the original query itself (seconds).
    #[serde(default = "default_original_timeout")]
    pub original_timeout_s: f64,
    #[serde(default = "default_threads")]
    pub threads: u32,
    #[serde(default = "default_memory_limit")]
    pub memory_limit: String,
    /// PostgreSQL only (DuckDB has `memory_limit`): `work_mem` of every sandboxed session,
    /// a PostgreSQL size (default "64MB").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_mem: Option<String>,
    /// PostgreSQL only: `max_parallel_workers_per_gather` (default `threads` - 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallel_workers_per_gather: Option<u32>,
    /// PostgreSQL only: the `temp_file_limit` the role must have ("-1" = none; only a
    /// superuser can set it, so it is checked, not set). Default: the role's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp_file_limit: Option<String>,
    /// Skip validation entirely (benchmarks of the LLM path only).
    #[serde(default)]
    pub skip: bool,
    /// Data instances a candidate must agree on (the primary included). Default: 4 for a
    /// generated DB (another slice of the facts, a tiny scale, the sparse instance),
    /// 1 + extra_paths for `database.path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instances: Option<i64>,
    /// The user's own extra DuckDB files, checked after the primary.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_paths: Vec<String>,
    /// Validate identical candidates of a query once (normalized SQL); `false` checks and
    /// times every one (A/A noise runs).
    #[serde(default = "default_dedup")]
    pub dedup: bool,
    /// A pass needs at least this many rows of the original's results, summed over the
    /// instances, that hold a value a candidate could get wrong (else thin_evidence).
    #[serde(default = "default_min_rows")]
    pub min_rows: i64,
    /// Re-bindings of the original's literals tried when it is empty or thin on every
    /// instance (0 = never re-bind).
    #[serde(default = "default_rebind_tries")]
    pub rebind_tries: i64,
    /// `[validation.confirm]`: the production stage, the best passes again on a full-size
    /// DB. Shared by every arm (not an arm override).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm: Option<ConfirmCfg>,
}
impl Default for ValidationCfg {
    fn default() -> Self {
        Self {
            timing_rounds: default_rounds(),
            warmup: default_warmup(),
            timeout_factor: default_timeout_factor(),
            original_timeout_s: default_original_timeout(),
            threads: default_threads(),
            memory_limit: default_memory_limit(),
            work_mem: None,
            max_parallel_workers_per_gather: None,
            temp_file_limit: None,
            skip: false,
            instances: None,
            extra_paths: Vec::new(),
            dedup: default_dedup(),
            min_rows: default_min_rows(),
            rebind_tries: default_rebind_tries(),
            confirm: None,
        }
    }
}

/// `[validation.confirm]`: after a query's last generation, its top distinct passes of
/// each arm are checked again on a full-size database (same rules; timing alone on the
/// machine). Settings left out take `[validation]`'s, except `threads` (all cores).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfirmCfg {
    /// `{ path = "full.duckdb" }` or `{ generate = { benchmark = "tpcds", scale = 10 } }`.
    pub db: DatabaseCfg,
    /// Per query and arm: the best distinct passes by screening speedup (at least 1).
    #[serde(default = "default_confirm_top")]
    pub top: i64,
    /// Passes whose screening speedup is below this are not confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_speedup: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing_rounds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_factor: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_timeout_s: Option<f64>,
    /// DuckDB threads on the full-size DB (default: every core; the stage runs alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<String>,
}
fn default_confirm_top() -> i64 {
    3
}
fn default_rounds() -> u32 {
    7
}
fn default_warmup() -> u32 {
    1
}
fn default_timeout_factor() -> f64 {
    10.0
}
fn default_original_timeout() -> f64 {
    300.0
}
fn default_min_rows() -> i64 {
    2
}
fn default_rebind_tries() -> i64 {
    super::limits::DEFAULT_REBIND_TRIES
}
fn default_dedup() -> bool {
    true
}
fn default_threads() -> u32 {
    1
}
fn default_memory_limit() -> String {
    "4GB".into()
}

/// `[[arms]]`: a named set of dotted-key overrides.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ArmCfg {
    pub name: String,
    #[serde(default)]
    pub set: BTreeMap<String, toml::Value>,
}
