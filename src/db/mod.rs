//! DuckDB access for qt: opening the user's sample database read-only, generating the
//! embedded TPC-DS sample database (cached, built once), fingerprinting a database, and
//! analyzing a query's plan (`plan.json`, `plan_full.txt`, `plan_summary.txt`).
//!
//! Deliberately not here: the validation sandbox (statement checks, locked configuration,
//! result comparison and timing live in `validate/`), and the CLI (`qt db generate` calls
//! [`generate_cmd`]).

mod cache;
mod fingerprint;
mod generate;
mod plan;
mod plan_summary;
mod plan_text;
mod sample;
mod schema;
mod split;

use std::path::{Path, PathBuf};

use duckdb::{AccessMode, Config, Connection};

pub use cache::{
    Generated, cache_dir, ensure_generated, ensure_generated_in, ensure_generated_spec,
    ensure_spec_in, generated_path, generated_path_for,
};
pub use sample::{GenSpec, TINY_SCALE, check_sample, sample_ranges};
pub use fingerprint::{DbFingerprint, fingerprint};
pub use generate::BuildStats;
pub use plan::{PlanAnalysis, analyze_plan};
pub use plan_summary::{JoinStat, Misestimate, OperatorStat, PlanSummary, ScanStat, summarize};
pub use schema::{Column, TPCDS_DDL, TPCDS_TABLES, TableSchema, schema_for, schema_for_path};
pub use split::split_statements;

/// Everything that can go wrong in this module. Messages name the file and say what to do.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database file not found: {}; set database.path or use database.generate", path.display())]
    NotFound { path: PathBuf },
    #[error(
        "cannot open {} as a DuckDB database ({source}); point database.path at a DuckDB \
         file or use database.generate",
        path.display()
    )]
    NotDuckDb {
        path: PathBuf,
        source: duckdb::Error,
    },
    #[error(
        "query exceeded its time limit of {seconds:.1} s and was interrupted; raise the limit or simplify the query"
    )]
    Timeout { seconds: f64 },
    #[error("{what}: {source}")]
    Query { what: String, source: duckdb::Error },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("unknown benchmark {0:?}: only \"tpcds\" can be generated")]
    UnknownBenchmark(String),
    #[error("invalid scale {0}: use a number of at least 0.001, such as 0.01, 1 or 10")]
    BadScale(f64),
    #[error("invalid sample {0}: use a fraction in (0, 1], such as 0.01 for 1% of the fact rows")]
    BadSample(f64),
    #[error("invalid instance {0}: instances are numbered from 1")]
    BadInstance(i64),
    #[error("{} already exists; delete it or choose another --out", .0.display())]
    OutputExists(PathBuf),
    #[error("generating the sample database failed: {0}")]
    Generate(String),
    #[error("plan analysis failed: {0}")]
    Plan(String),
}

impl DbError {
    /// True for errors caused by the user's input (bad path, benchmark, scale): exit code 2.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            DbError::NotFound { .. }
                | DbError::NotDuckDb { .. }
                | DbError::UnknownBenchmark(_)
                | DbError::BadScale(_)
                | DbError::BadSample(_)
                | DbError::BadInstance(_)
                | DbError::OutputExists(_)
        )
    }
}

/// Opens an existing DuckDB file read-only, with external access (file/URL readers)
/// disabled. Fails with [`DbError::NotFound`] or [`DbError::NotDuckDb`], both naming `path`.
pub fn open_read_only(path: &Path) -> Result<Connection, DbError> {
    if !path.exists() {
        return Err(DbError::NotFound {
            path: path.to_path_buf(),
        });
    }
    let not_duckdb = |source| DbError::NotDuckDb {
        path: path.to_path_buf(),
        source,
    };
    let config = Config::default()
        .access_mode(AccessMode::ReadOnly)
        .and_then(|c| c.enable_external_access(false))
        .map_err(not_duckdb)?;
    Connection::open_with_flags(path, config).map_err(not_duckdb)
}

/// The DuckDB library version qt is built with (`SELECT version()`), e.g. "v1.2.0".
pub fn duckdb_version() -> String {
    Connection::open_in_memory()
        .and_then(|c| c.query_row("SELECT version()", [], |r| r.get::<_, String>(0)))
        .unwrap_or_else(|e| format!("unknown ({e})"))
}

/// `qt db generate`: builds a sample database into `out` (atomically; refuses to replace an
/// existing file), or into the cache when `out` is None (reusing a cached one), and prints
/// its path on stdout. `quiet` hides the progress bar and the stderr notes.
pub fn generate_cmd(
    benchmark: &str,
    scale: f64,
    out: Option<&Path>,
    quiet: bool,
) -> anyhow::Result<PathBuf> {
    let spec = GenSpec {
        benchmark: benchmark.into(),
        ..GenSpec::full(scale)
    };
    generate_spec_cmd(&spec, out, quiet)
}

/// [`generate_cmd`] for a sampled (or any) [`GenSpec`].
pub fn generate_spec_cmd(
    spec: &GenSpec,
    out: Option<&Path>,
    quiet: bool,
) -> anyhow::Result<PathBuf> {
    let result = match out {
        None => cache::ensure(&cache_dir(), spec, !quiet, !quiet),
        Some(out) => generate_to(spec, out, quiet).map(|built| Generated {
            path: out.to_path_buf(),
            built,
        }),
    };
    let Generated { path, built } = result.map_err(|e| {
        if e.is_bad_input() {
            anyhow::Error::new(crate::error::BadInput(e.to_string()))
        } else {
            anyhow::Error::new(e)
        }
    })?;
    if !quiet {
        match &built {
            Some(s) => {
                let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                eprintln!(
                    "built {} rows in {:.1} s ({:.0} MB)",
                    s.rows.values().sum::<u64>(),
                    s.elapsed.as_secs_f64(),
                    size as f64 / 1e6
                )
            }
            None => eprintln!("reusing the cached sample DB"),
        }
    }
    println!("{}", path.display());
    Ok(path)
}

fn generate_to(spec: &GenSpec, out: &Path, quiet: bool) -> Result<Option<BuildStats>, DbError> {
    spec.check()?;
    if out.exists() {
        return Err(DbError::OutputExists(out.to_path_buf()));
    }
    let stats = cache::build_atomically(out, spec, !quiet, |p| {
        if !quiet {
            eprintln!("building sample DB {} -> {}", spec.label(), p.display());
        }
    })?;
    // None means a concurrent `qt db generate` to the same file won the race.
    stats
        .map(Some)
        .ok_or_else(|| DbError::OutputExists(out.to_path_buf()))
}

/// `qt db generate` from its arguments (flags checked here: bad ones exit 2 naming them).
pub fn generate_args_cmd(a: &crate::cli::DbGenerateArgs) -> anyhow::Result<PathBuf> {
    let bad = |m: String| anyhow::Error::new(crate::error::BadInput(m));
    if let Some(s) = a.sample {
        check_sample(s).map_err(|e| bad(format!("--sample: {e}")))?;
    }
    if a.instance < 1 || a.instance > i64::from(u32::MAX) {
        return Err(bad(format!(
            "--instance {}: instances are numbered from 1 (1 is the default slice)",
            a.instance
        )));
    }
    let spec = GenSpec {
        benchmark: a.benchmark.clone(),
        scale: a.scale,
        sample: a.sample,
        instance: a.instance as u32,
    };
    generate_spec_cmd(&spec, a.out.as_deref(), a.quiet)
}
