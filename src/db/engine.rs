//! The engine seam: what validation and analysis need from a database, named by what the
//! caller needs (sqlx's `Database` idea, kept to one enum): a [`Target`] names one
//! database of one engine and answers for it: open a sandboxed session
//! ([`Target::open`] -> [`Sandbox`]: gate, run with a deadline and caps, typed rows),
//! explain a query, describe tables, fingerprint the data, say which engine and version.
//!
//! Layers above `db/` hold a `Target` and never name an engine's library. DuckDB (a
//! sample file, embedded) is the engine today; every match below is where another engine
//! plugs in.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::gate::GateError;
use super::session::{OpenError, Sandbox};
use super::{DbError, DbFingerprint, PlanAnalysis, TableSchema};

/// The database engines qt validates on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    DuckDb,
}

impl Engine {
    /// The name users write (`[database] engine`), recorded in config.json.
    pub fn name(self) -> &'static str {
        match self {
            Engine::DuckDb => "duckdb",
        }
    }

    /// The SQL dialect prompts name (`{{ dialect }}`).
    pub fn dialect(self) -> &'static str {
        match self {
            Engine::DuckDb => "duckdb",
        }
    }
}

/// One database of one engine.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// A DuckDB file, opened read-only.
    DuckDb(PathBuf),
}

impl From<&Path> for Target {
    fn from(p: &Path) -> Self {
        Target::DuckDb(p.to_path_buf())
    }
}

impl From<&PathBuf> for Target {
    fn from(p: &PathBuf) -> Self {
        Target::DuckDb(p.clone())
    }
}

impl From<PathBuf> for Target {
    fn from(p: PathBuf) -> Self {
        Target::DuckDb(p)
    }
}

impl From<&Target> for Target {
    fn from(t: &Target) -> Self {
        t.clone()
    }
}

/// What a pooled session is interchangeable on, beyond its settings: the same file
/// (path, inode, size, modification time: a regenerated file is never read through an old
/// session).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKey {
    File { path: PathBuf, inode: u64, len: u64, modified: Option<std::time::SystemTime> },
}

impl Target {
    pub fn engine(&self) -> Engine {
        match self {
            Target::DuckDb(_) => Engine::DuckDb,
        }
    }

    /// How messages and records name it: the file's path.
    pub fn display(&self) -> String {
        match self {
            Target::DuckDb(p) => p.display().to_string(),
        }
    }

    /// A short name for reports: the file name.
    pub fn short_label(&self) -> String {
        match self {
            Target::DuckDb(p) => p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
        }
    }

    /// The file, for engines whose database is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Target::DuckDb(p) => Some(p),
        }
    }

    /// Can it be opened read-only at all? (Bad input when not: the error names it.)
    pub fn check_open(&self) -> Result<(), DbError> {
        match self {
            Target::DuckDb(p) => super::open_read_only(p).map(drop),
        }
    }

    /// A sandboxed session (see [`Sandbox`]).
    pub fn open(&self, threads: u32, memory_limit: &str) -> Result<Sandbox, OpenError> {
        Sandbox::open(self, threads, memory_limit)
    }

    /// Is `sql` exactly one query, by this engine's own parser?
    pub fn gate(&self, sql: &str) -> Result<(), GateError> {
        match self {
            Target::DuckDb(_) => super::gate::check(sql),
        }
    }

    /// Plan analysis of the last statement of `sql` (plan.json, plan_full.txt, summary).
    pub fn explain(&self, sql: &str, timeout: Duration) -> Result<PlanAnalysis, DbError> {
        super::gate::check_bounds(sql).map_err(|e| DbError::Plan(e.to_string()))?;
        match self {
            Target::DuckDb(p) => super::analyze_plan(p, sql, timeout),
        }
    }

    /// The named tables that exist (case-insensitive), with columns and row counts.
    pub fn schema(&self, tables: &[String]) -> Result<Vec<TableSchema>, DbError> {
        match self {
            Target::DuckDb(p) => super::schema_for_path(p, tables),
        }
    }

    /// Does one query bind here (every table and column it names exists)? Prepared, never
    /// executed; `Err` is the engine's message, naming what is missing.
    pub fn binds(&self, sql: &str) -> Result<(), String> {
        super::gate::check_bounds(sql).map_err(|e| e.to_string())?;
        match self {
            Target::DuckDb(p) => super::binds(p, sql),
        }
    }

    /// Schema and row-count fingerprint (config.json, cache keys, instance identity).
    pub fn fingerprint(&self) -> Result<DbFingerprint, DbError> {
        match self {
            Target::DuckDb(p) => super::fingerprint(p),
        }
    }

    /// The engine's version string, e.g. "v1.2.0".
    pub fn version(&self) -> String {
        match self {
            Target::DuckDb(_) => super::duckdb_version(),
        }
    }

    /// What sessions on this target are interchangeable on (see [`TargetKey`]).
    pub fn key(&self) -> TargetKey {
        match self {
            Target::DuckDb(p) => {
                let meta = std::fs::metadata(p).ok();
                #[cfg(unix)]
                let inode = std::os::unix::fs::MetadataExt::ino;
                #[cfg(not(unix))]
                let inode = |_: &std::fs::Metadata| 0u64;
                TargetKey::File {
                    path: p.clone(),
                    inode: meta.as_ref().map(inode).unwrap_or(0),
                    len: meta.as_ref().map(|m| m.len()).unwrap_or(0),
                    modified: meta.and_then(|m| m.modified().ok()),
                }
            }
        }
    }
}
