//! The databases qt validates on, behind one seam (`engine.rs`: [`Target`], and
//! `session.rs`: the sandboxed [`Sandbox`] session, rows in qt's value model `value.rs`).
//! Behind it, DuckDB: opening the user's sample file read-only, generating the embedded
//! TPC-DS sample database (cached, built once), fingerprinting, analyzing a query's plan
//! (`plan.json`, `plan_full.txt`, `plan_summary.txt`), asking DuckDB's own parser whether a
//! text is exactly one query (`gate.rs`), and the DuckDB session (`duck/`).
//!
//! Deliberately not here: result comparison and timing (`validate/`), pooling of sessions
//! (`validate/sandbox/pool.rs`), and the CLI (`commands/db.rs`).

mod cache;
mod constsize;
pub mod duck;
pub mod engine;
mod fingerprint;
mod generate;
pub mod lease;
pub mod pg;
mod plan;
mod plan_summary;
mod plan_text;
mod sample;
pub mod settings;
pub(crate) mod schema;
mod nulls;
mod sparse;
pub mod session;
mod split;
pub mod gate;
pub mod value;

use std::path::{Path, PathBuf};

use duckdb::{AccessMode, Config, Connection};

pub use cache::{
    Generated, cache_dir, ensure, ensure_generated, ensure_generated_in, ensure_generated_spec,
    ensure_spec_in, generated_path, generated_path_for,
};
pub use engine::{Engine, Target, TargetKey};
pub use settings::EngineSettings;
pub use session::{ExecError, Execution, OpenError, Sandbox};
pub use value::{Cell, ColumnInfo, ResultSet, Row, TypeClass};
pub use sample::{DEFAULT_GENERATED_INSTANCES, GenSpec, TINY_SCALE, check_sample, sample_ranges};
pub use fingerprint::{DbFingerprint, fingerprint};
pub use generate::BuildStats;
pub use lease::host_name;
pub use plan::{PlanAnalysis, analyze_plan};
pub use plan_summary::{JoinStat, Misestimate, OperatorStat, PlanSummary, ScanStat, summarize};
pub use schema::{binds, Column, TPCDS_DDL, TPCDS_TABLES, TableSchema, schema_for, schema_for_path};
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
    #[error(transparent)]
    Lease(#[from] lease::LeaseError),
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
    /// A failure reported by a database server (its message, password never included).
    #[error("{what}: {message}")]
    Engine { what: String, message: String },
    /// A server database that cannot be used as given (unreachable, refused login,
    /// missing, a role that can write): bad input naming the URL (no password).
    #[error("{url}: {message}")]
    Unusable { url: String, message: String },
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
                | DbError::Unusable { .. }
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

/// Build `spec` into the new file `out` (atomically; an existing file is refused). `None`
/// when a concurrent build of the same file won the race is reported as `OutputExists`.
pub fn generate_file(spec: &GenSpec, out: &Path, quiet: bool) -> Result<Option<BuildStats>, DbError> {
    spec.check()?;
    if out.exists() {
        return Err(DbError::OutputExists(out.to_path_buf()));
    }
    let stats = cache::build_atomically(out, spec, !quiet, |p| {
        if !quiet {
            crate::errln!("building sample DB {} -> {}", spec.label(), p.display());
        }
    })?;
    // None means a concurrent `qt db generate` to the same file won the race.
    stats
        .map(Some)
        .ok_or_else(|| DbError::OutputExists(out.to_path_buf()))
}
