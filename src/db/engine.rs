//! The engine seam: what validation and analysis need from a database, named by what the
//! caller needs (sqlx's `Database` idea, kept to one enum): a [`Target`] names one
//! database of one engine and answers for it: open a sandboxed session
//! ([`Target::open`] -> [`Sandbox`]: gate, run with a deadline and caps, typed rows),
//! explain a query, describe tables, fingerprint the data, say which engine and version.
//!
//! Layers above `db/` hold a `Target` and never name an engine's library. DuckDB (a
//! sample file, embedded, the default) and PostgreSQL (a server's database named by a
//! URL, `pg/`) implement it; every match below is where an engine plugs in.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::gate::GateError;
use super::pg::{PgSession, PgTarget};
use super::session::{OpenError, Sandbox};
use super::{DbError, DbFingerprint, PlanAnalysis, TableSchema};

/// The database engines qt validates on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    DuckDb,
    Postgres,
}

impl Engine {
    /// The name users write (`[database] engine`), recorded in config.json.
    pub fn name(self) -> &'static str {
        match self {
            Engine::DuckDb => "duckdb",
            Engine::Postgres => "postgres",
        }
    }

    /// The SQL dialect prompts name (`{{ dialect }}`).
    pub fn dialect(self) -> &'static str {
        match self {
            Engine::DuckDb => "duckdb",
            Engine::Postgres => "postgres",
        }
    }

    /// Parses a `[database] engine` value.
    pub fn parse(name: &str) -> Option<Engine> {
        match name.trim().to_ascii_lowercase().as_str() {
            "duckdb" => Some(Engine::DuckDb),
            "postgres" | "postgresql" => Some(Engine::Postgres),
            _ => None,
        }
    }
}

/// One database of one engine.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// A DuckDB file, opened read-only.
    DuckDb(PathBuf),
    /// A PostgreSQL database on a server.
    Postgres(PgTarget),
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

impl From<PgTarget> for Target {
    fn from(t: PgTarget) -> Self {
        Target::Postgres(t)
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
    /// A server database: the same URL and credentials.
    Server(PgTarget),
}

impl Target {
    /// A `--db` value: a `postgresql://` URL (password, if not in it, from `password`),
    /// else a DuckDB file path.
    pub fn parse(value: &str, password: Option<String>) -> Result<Target, String> {
        if super::pg::is_pg_url(value) {
            PgTarget::new(value, password).map(Target::Postgres)
        } else {
            Ok(Target::DuckDb(PathBuf::from(value)))
        }
    }

    /// The same database, its sessions opened with `settings` (engines without such
    /// settings, DuckDB, ignore them: see `settings.rs`).
    pub fn with_settings(&self, settings: &super::EngineSettings) -> Target {
        match self {
            Target::DuckDb(_) => self.clone(),
            Target::Postgres(t) => Target::Postgres(t.with_settings(settings)),
        }
    }

    /// The engine settings a session on it has, as the engine shows them (config.json);
    /// empty for DuckDB (its `threads` and `memory_limit` are the spec's).
    pub fn settings_in_force(&self) -> Result<Vec<(String, String)>, DbError> {
        match self {
            Target::DuckDb(_) => Ok(Vec::new()),
            Target::Postgres(t) => off_runtime(|| Ok(Self::pg_session(t)?.settings_in_force())),
        }
    }

    pub fn engine(&self) -> Engine {
        match self {
            Target::DuckDb(_) => Engine::DuckDb,
            Target::Postgres(_) => Engine::Postgres,
        }
    }

    /// A session on a server target, or why not (bad input naming the URL).
    fn pg_session(t: &PgTarget) -> Result<PgSession, DbError> {
        PgSession::open(t, 1).map_err(|e| DbError::Unusable { url: t.label(), message: open_message(e) })
    }

    /// How messages and records name it: the file's path.
    pub fn display(&self) -> String {
        match self {
            Target::DuckDb(p) => p.display().to_string(),
            Target::Postgres(t) => t.label(),
        }
    }

    /// A short name for reports: the file name.
    pub fn short_label(&self) -> String {
        match self {
            Target::DuckDb(p) => p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
            Target::Postgres(t) => t.short_label(),
        }
    }

    /// The file, for engines whose database is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Target::DuckDb(p) => Some(p),
            Target::Postgres(_) => None,
        }
    }

    /// Can it be opened read-only at all? (Bad input when not: the error names it.)
    pub fn check_open(&self) -> Result<(), DbError> {
        match self {
            Target::DuckDb(p) => super::open_read_only(p).map(drop),
            Target::Postgres(t) => off_runtime(|| {
                let s = Self::pg_session(t)?;
                match s.with_client(super::pg::catalog::role_can_write)? {
                    None => Ok(()),
                    Some(why) => Err(DbError::Unusable {
                        url: t.label(),
                        message: format!(
                            "{why}. Candidates run only as a SELECT-only role: `qt db load` creates one (qt_reader), \
                             or GRANT SELECT to a role without other privileges"
                        ),
                    }),
                }
            }),
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
            // Bounds first: a text too large is refused without a connection.
            Target::Postgres(t) => super::gate::check_bounds(sql).and_then(|_| {
                off_runtime(|| match PgSession::open(t, 1) {
                    Ok(s) => s.gate(sql),
                    Err(e) => Err(GateError::Parse(format!("cannot reach PostgreSQL to parse the SQL: {e}"))),
                })
            }),
        }
    }

    /// Plan analysis of the last statement of `sql` (plan.json, plan_full.txt, summary).
    pub fn explain(&self, sql: &str, timeout: Duration) -> Result<PlanAnalysis, DbError> {
        super::gate::check_bounds(sql).map_err(|e| DbError::Plan(e.to_string()))?;
        match self {
            Target::DuckDb(p) => super::analyze_plan(p, sql, timeout),
            Target::Postgres(t) => off_runtime(|| super::pg::explain::analyze(t, sql, timeout)),
        }
    }

    /// The named tables that exist (case-insensitive), with columns and row counts.
    pub fn schema(&self, tables: &[String]) -> Result<Vec<TableSchema>, DbError> {
        match self {
            Target::DuckDb(p) => super::schema_for_path(p, tables),
            Target::Postgres(t) => {
                off_runtime(|| Self::pg_session(t)?.with_client(|c| super::pg::catalog::schema_for(c, tables)))
            }
        }
    }

    /// Does one query bind here (every table and column it names exists)? Prepared, never
    /// executed; `Err` is the engine's message, naming what is missing.
    pub fn binds(&self, sql: &str) -> Result<(), String> {
        super::gate::check_bounds(sql).map_err(|e| e.to_string())?;
        match self {
            Target::DuckDb(p) => super::binds(p, sql),
            // Prepared (parsed and bound, never run) on a sandboxed session.
            Target::Postgres(t) => off_runtime(|| {
                let s = Self::pg_session(t).map_err(|e| e.to_string())?;
                s.with_client(|c| c.prepare(sql).map(drop).map_err(|e| t.redact(&super::pg::session::message(&e))))
            }),
        }
    }

    /// Schema and row-count fingerprint (config.json, cache keys, instance identity).
    pub fn fingerprint(&self) -> Result<DbFingerprint, DbError> {
        match self {
            Target::DuckDb(p) => super::fingerprint(p),
            Target::Postgres(t) => {
                off_runtime(|| Self::pg_session(t)?.with_client(|c| super::pg::catalog::fingerprint(c, &t.label())))
            }
        }
    }

    /// The engine's version string, e.g. "v1.2.0".
    pub fn version(&self) -> String {
        match self {
            Target::DuckDb(_) => super::duckdb_version(),
            Target::Postgres(t) => off_runtime(|| match Self::pg_session(t) {
                Ok(s) => s.with_client(super::pg::catalog::version),
                Err(e) => format!("unknown ({e})"),
            }),
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
            Target::Postgres(t) => TargetKey::Server(t.clone()),
        }
    }
}

/// Runs `f` (which uses PostgreSQL's synchronous client) off the async runtime: that
/// client drives its own runtime and may not be entered from a runtime thread (run/ calls
/// the seam from async code, e.g. fingerprinting before the matrix starts).
pub(crate) fn off_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| s.spawn(f).join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    } else {
        f()
    }
}

fn open_message(e: OpenError) -> String {
    match e {
        OpenError::Open { message, .. } => message,
        other => other.to_string(),
    }
}
