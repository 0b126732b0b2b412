//! Command-line interface: clap derive structs only. Each subcommand's file in
//! `commands/` turns them into the domain module's own options; `main.rs` only dispatches.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

use crate::spec::shard::ShardArg;

/// Run LLM SQL-rewrite experiments and check every candidate on a sample DuckDB database.
#[derive(Debug, Parser)]
#[command(name = "qt", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run an experiment: generate, validate and record every candidate.
    Run(RunArgs),
    /// Show the matrix and render every prompt offline (no LLM calls).
    Plan(PlanArgs),
    /// Merge shard folders of one experiment into one tree (summaries and sweep rebuilt).
    Merge(MergeArgs),
    /// Check a hand-written rewrite against the original with the same machinery as `run`.
    Validate(ValidateArgs),
    /// Sample databases.
    #[command(subcommand)]
    Db(DbCommand),
    /// Measure qt itself: LLM concurrency, throughput, A/A timing noise.
    Bench(BenchArgs),
    /// Render a run or sweep folder as one self-contained HTML page (or Markdown, JSON).
    Report(ReportArgs),
    /// Compare two runs or two sweeps (before/after a change), with bootstrap intervals.
    Compare(CompareArgs),
    /// Confirm an existing run's best passes on a full-size database (e.g. one only another
    /// machine has: copy the run folder there, confirm, copy it back).
    Confirm(ConfirmArgs),
}

#[derive(Debug, Args)]
pub struct ConfirmArgs {
    /// A run folder (q<ID>_<stamp>) or an experiment's output folder (every query's run).
    pub dir: PathBuf,
    /// The full-size DuckDB file to confirm on (opened read-only).
    #[arg(long, value_name = "FILE")]
    pub db: PathBuf,
    /// How the records name this DB (default: its file name).
    #[arg(long, value_name = "NAME")]
    pub label: Option<String>,
    /// Per query and arm: the best distinct passes to confirm (default: the spec's
    /// [validation.confirm] top, else 3).
    #[arg(long, value_name = "K")]
    pub top: Option<i64>,
    /// Skip passes whose screening speedup is below this.
    #[arg(long, value_name = "X")]
    pub min_speedup: Option<f64>,
    /// Paired timing rounds on the full-size DB (default: the run's settings).
    #[arg(long, value_name = "N")]
    pub rounds: Option<u32>,
    /// DuckDB threads on the full-size DB (default: every core; the stage runs alone).
    #[arg(long, value_name = "N")]
    pub threads: Option<u32>,
    /// Recompute the original's baseline on the DB instead of reusing the cached one
    /// (e.g. after the machine changed).
    #[arg(long)]
    pub fresh_baseline: bool,
    /// Print a JSON object per run folder on stdout (human lines go to stderr).
    #[arg(long)]
    pub json: bool,
    /// No progress lines: the results only.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run folder (q<ID>_<stamp>) or an experiment's output folder (a sweep).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Output file; `-` for stdout (default: report.html inside DIR for html, stdout for
    /// md and json).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "html")]
    pub format: ReportFormat,
}

/// `qt report --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Html,
    Md,
    Json,
}

/// `qt compare --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompareFormat {
    Table,
    Md,
    Json,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The baseline: a run folder or a sweep folder.
    pub a: PathBuf,
    /// The candidate: a run folder or a sweep folder of the same queries (leave it out
    /// with --arms to compare two arms of A).
    #[arg(required_unless_present = "arms")]
    pub b: Option<PathBuf>,
    /// Compare two arms of one run or sweep folder: A_ARM,B_ARM.
    #[arg(long, value_name = "A_ARM,B_ARM", conflicts_with_all = ["b", "map"])]
    pub arms: Option<String>,
    /// Pair arm A_ARM of A with arm B_ARM of B (arms pair by name otherwise; a spec's
    /// unnamed arm is `default`). Repeatable.
    #[arg(long, value_name = "A_ARM=B_ARM")]
    pub map: Vec<crate::compare::pairing::ArmMap>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: CompareFormat,
    /// Relative change treated as no change (default: the A/A timing noise, 5%).
    #[arg(long, default_value_t = crate::compare::DEFAULT_NOISE)]
    pub noise: f64,
    /// Distinct candidates each side needs for a verdict (copies of one SQL count once);
    /// below it the verdict is "not enough evidence".
    #[arg(long, value_name = "N", default_value_t = crate::compare::DEFAULT_MIN_CANDIDATES)]
    pub min_candidates: usize,
    /// Compare runs validated on different engines (DuckDB vs PostgreSQL) anyway.
    #[arg(long)]
    pub across_engines: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The experiment spec (TOML).
    pub spec: PathBuf,
    /// Continue the latest run folder of each query (or the given run folder).
    #[arg(long, value_name = "DIR", num_args = 0..=1)]
    pub resume: Option<Option<PathBuf>>,
    /// Do not read or write the LLM response cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Skip validation (record LLM answers and assembled SQL only).
    #[arg(long)]
    pub no_validate: bool,
    /// No progress bars or per-generation lines: errors and the RESULTS block only.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the machine-readable summary as JSON on stdout (a JSON object even on failure).
    #[arg(long)]
    pub json: bool,
    /// Run only this query of the spec (its id, e.g. 7, 23a or q7; repeatable). Generation
    /// numbers stay those of the whole spec. Recorded in config.json.
    #[arg(long = "query", value_name = "ID")]
    pub queries: Vec<String>,
    /// Run only this arm of the spec (its name as `qt plan` prints it; repeatable).
    /// Recorded in config.json.
    #[arg(long = "arm", value_name = "NAME")]
    pub arms: Vec<String>,
    /// Ask the LLM for a fresh set of samples: sets generation.samples_seed = N for this
    /// run (part of the cache key). The same N again re-reads its own cached answers;
    /// runs without it keep theirs. Recorded in config.json.
    #[arg(long, value_name = "N")]
    pub repeat: Option<u64>,
    /// With --resume: continue a folder made by an earlier version of the spec (same name
    /// and query); finished generations still in the plan are kept, the rest redone.
    #[arg(long, requires = "resume")]
    pub force: bool,
    /// Exit 1 also when no generation passed (none-valid) or any ended in error (any-error).
    #[arg(long, value_enum, value_name = "WHEN")]
    pub fail_on: Option<FailOn>,
    /// Run only shard K of N (1-based) into <root>/<name>/shards/K-of-N; `auto/N` takes K
    /// from JOB_COMPLETION_INDEX (Kubernetes, 0-based) or SLURM_ARRAY_TASK_ID.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<ShardArg>,
    #[command(flatten)]
    pub overrides: OverrideArgs,
}

/// Spec keys set from the command line (`qt run` and `qt plan`): the same experiment with
/// another query, model or size without editing the file.
#[derive(Debug, Args, Default)]
pub struct OverrideArgs {
    /// Set a spec key for this run: a dotted key and a TOML value, a bare word being a
    /// string (-s generation.workers=5 -s llm.model=deepseek-reasoner -s 'queries.ids=[15,23]').
    /// Repeatable; checked like the file; recorded in config.json with the effective spec.
    #[arg(long = "set", short = 's', value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// The queries to run instead of the spec's (sets queries.ids): --ids 15 or --ids 15,23a.
    #[arg(long, value_name = "IDS")]
    pub ids: Option<String>,
    /// The model to ask (sets llm.model).
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// The OpenAI-compatible endpoint (sets llm.base_url), e.g. http://127.0.0.1:8080/v1.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Stop issuing LLM calls once the run has spent this many dollars (sets
    /// generation.budget_usd; `--resume` with a larger one continues the skipped generations).
    #[arg(long, value_name = "USD", allow_negative_numbers = true)]
    pub budget_usd: Option<f64>,
}

/// `--fail-on`: stricter exit-code gates for CI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// No generation passed validation.
    NoneValid,
    /// Some generation ended with status `error`.
    AnyError,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The experiment spec (TOML).
    pub spec: PathBuf,
    /// Folder to render the prompts into (default: a temporary folder that is printed).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// List and render only what shard K of N (or auto/N) will run.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<ShardArg>,
    #[command(flatten)]
    pub overrides: OverrideArgs,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// A sweep folder (<root>/<name>, holding shards/) or shard folders (holding shard.json).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged tree (default: <root>/<name>/merged).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// No per-query lines: the sweep table and problems only.
    #[arg(long, short)]
    pub quiet: bool,
    /// Merge shards that ran with different options (samples seed / --repeat,
    /// --no-validate, filters, validation settings) instead of refusing them: every merged
    /// generation records its shard and that shard's options.
    #[arg(long)]
    pub allow_mixed: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// A DuckDB file to check on (opened read-only); repeat it for more data instances:
    /// the first is the primary (timed), the candidate must agree on all of them.
    /// Default: the generated TPC-DS SF100 sampled 1% and its extra instances.
    #[arg(long)]
    pub db: Vec<PathBuf>,
    /// Without --db: how many generated instances to check on (primary included).
    #[arg(long, default_value_t = crate::db::DEFAULT_GENERATED_INSTANCES)]
    pub instances: u32,
    /// The original query.
    pub original: PathBuf,
    /// The candidate rewrite.
    pub candidate: PathBuf,
    /// Print the verdict as JSON.
    #[arg(long)]
    pub json: bool,
    /// Paired timing rounds.
    #[arg(long, default_value_t = 7)]
    pub rounds: u32,
    /// DuckDB threads for every execution.
    #[arg(long, default_value_t = 1)]
    pub threads: u32,
    /// Rows of the original's results (over every instance) a pass needs; fewer is
    /// inconclusive/thin_evidence (`validation.min_rows`).
    #[arg(long, default_value_t = 2, allow_negative_numbers = true)]
    pub min_rows: i64,
    /// Re-bindings of an empty or thin original's literals to try (0 = never;
    /// `validation.rebind_tries`).
    #[arg(long, default_value_t = crate::spec::limits::DEFAULT_REBIND_TRIES, allow_negative_numbers = true)]
    pub rebind_tries: i64,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Generate a TPC-DS sample DB (the same code path as `database.generate`).
    /// Our users' sample is `--scale 100 --sample 0.01`: every dimension table at
    /// scale 100 and 1% of the fact rows (about 30 s and 600 MB of memory on 2 cores, once).
    Generate(DbGenerateArgs),
    /// Run each query on a sample DB: rows, time, and which ones are empty there
    /// (an empty original cannot judge any rewrite).
    Survey(DbSurveyArgs),
    /// Copy a DuckDB sample (a file, or a generated TPC-DS sample) into a PostgreSQL
    /// database: tables with primary keys, rows streamed with COPY, ANALYZE, and a
    /// SELECT-only role `qt_reader`; prints the URL to validate with.
    Load(DbLoadArgs),
}

#[derive(Debug, Args)]
pub struct DbSurveyArgs {
    /// The DuckDB file or a postgresql:// URL (password from PGPASSWORD; default: the
    /// generated TPC-DS SF100 sampled 1%).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Query files or folders of .sql files.
    #[arg(required = true)]
    pub queries: Vec<PathBuf>,
    /// Deadline per statement, in seconds.
    #[arg(long, default_value_t = 60.0)]
    pub timeout: f64,
    /// Re-bindings tried on each empty or thin statement (0 = none): the survey says
    /// which ones re-binding rescues.
    #[arg(long, default_value_t = crate::spec::limits::DEFAULT_REBIND_TRIES as u32)]
    pub rebind_tries: u32,
    /// Print the survey as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DbLoadArgs {
    /// The engine to load into (only `postgres`).
    #[arg(long, default_value = "postgres")]
    pub engine: String,
    /// Where to load, as a role that may create tables and roles, e.g.
    /// postgresql://postgres@/tpcds?host=/run/postgresql (password from PGPASSWORD).
    /// The database is created when missing.
    #[arg(long)]
    pub url: String,
    /// The DuckDB file to copy.
    #[arg(long, conflicts_with_all = ["scale", "sample"])]
    pub from: Option<PathBuf>,
    /// Or generate (cached) and copy a sample: --benchmark tpcds --scale S [--sample F].
    #[arg(long, default_value = "tpcds")]
    pub benchmark: String,
    #[arg(long)]
    pub scale: Option<f64>,
    #[arg(long)]
    pub sample: Option<f64>,
    /// Drop tables of the same names first.
    #[arg(long)]
    pub replace: bool,
    /// The SELECT-only role to create for validation.
    #[arg(long, default_value = "qt_reader")]
    pub reader: String,
    /// temp_file_limit of the reader role (set only when the loading role is a superuser).
    #[arg(long, default_value = "10GB")]
    pub temp_file_limit: String,
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct DbGenerateArgs {
    #[arg(long, default_value = "tpcds")]
    pub benchmark: String,
    #[arg(long, default_value_t = 0.1)]
    pub scale: f64,
    /// Fraction of the fact tables' rows to generate, in (0, 1]; dimension tables stay
    /// whole (e.g. --scale 100 --sample 0.01 = "SF100 sampled 1%").
    #[arg(long)]
    pub sample: Option<f64>,
    /// Which slice of the facts (1, 2, ...): instances share the dimension rows.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    pub instance: i64,
    /// Build the sparse validation instance: whole dimension tables, 1 ticket or order in
    /// 25 of the facts, about 1 in 8 nullable foreign keys NULL, some zero quantities and
    /// prices (the default instance set checks every candidate on it at --scale 0.01).
    #[arg(long, conflicts_with = "sample")]
    pub sparse: bool,
    /// Build it with NULL corners: every fact kept, but about 1 in 8 nullable foreign keys,
    /// 1 in 16 of each measure (quantities, costs, prices, amounts, profit) and about 1 in 6
    /// customer first and last names NULL (the default instance set checks every candidate
    /// on the second slice and the scale-0.01 database built this way).
    #[arg(long)]
    pub nulls: bool,
    /// Output file (default: the shared cache, reused by `database.generate`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Which benchmarks, comma-separated: quick (llm, a, b and aa at a small size, under a
    /// minute), llm (client concurrency), load (whole runs against the mock server: a
    /// validated, b unvalidated, c with faults; or a, b, c alone), aa (A/A timing noise),
    /// sample (sampled DB builds: sample_db alone; validation with 1 vs 3 instances:
    /// instances alone), aa_run (A/A through `qt run`: false wins, several minutes at
    /// scale 1), report (the HTML report of n_validated generations: size, render time),
    /// all (the full set the README reports, several minutes). Never in all: confirm_db
    /// (build of the full-size confirm DB), confirm (q1's top 3 confirmed on it),
    /// confirm_predict (39 TPC-DS rewrites: sample vs full-size speedup, an hour or more).
    #[arg(long, default_value = "quick")]
    pub which: String,
    /// Generations in the validated load workloads (a) and (c) [quick: 12, else 1000].
    #[arg(long)]
    pub n_validated: Option<usize>,
    /// Generations in the unvalidated load workload (b) [quick: 200, else 100000].
    #[arg(long)]
    pub n_unvalidated: Option<usize>,
    /// A/A validations per query [quick: 3, else 30].
    #[arg(long)]
    pub aa_runs: Option<usize>,
    /// aa_run: identical candidates per TPC-DS query (7 queries) through `qt run`.
    #[arg(long, default_value_t = 30)]
    pub aa_workers: usize,
    /// aa_run: scale of the generated TPC-DS sample DB.
    #[arg(long, default_value_t = 1.0)]
    pub aa_scale: f64,
    /// confirm, confirm_db, confirm_predict: scale of the full-size TPC-DS confirm DB.
    #[arg(long, default_value_t = 10.0)]
    pub full_scale: f64,
    /// confirm, confirm_predict: the screening sample as SCALE:FRACTION (SF100 @ 1%).
    #[arg(long, default_value = "100:0.01", value_name = "SCALE:FRACTION")]
    pub sample_db: String,
    /// Write the figures as JSON to this file as well.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// engines / aa_pg: the PostgreSQL database (the URL `qt db load` printed; password
    /// from PGPASSWORD).
    #[arg(long)]
    pub pg_url: Option<String>,
    /// engines: the DuckDB file holding the same data (default: the generated TPC-DS
    /// scale 1 sample).
    #[arg(long)]
    pub engines_duckdb: Option<PathBuf>,
}
