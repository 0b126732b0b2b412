//! The sandbox every piece of SQL runs in, whatever the engine: one query statement (the
//! engine's own parser decides, see [`Sandbox::gate`]), a read-only session that cannot
//! reach files or the network or change its own limits, fixed resources, a deadline per
//! execution, and results capped in rows and bytes ([`RESULT_BYTES_CAP`]). Each engine
//! keeps these promises its own way (`duck/session.rs`); rows come back in qt's value
//! model (`value.rs`).
//!
//! It does not compare or time anything; it only runs one query and returns its rows.

use std::time::Duration;

use super::engine::Target;
use super::gate::GateError;
use super::value::{Cell, ResultSet};

/// Why a piece of SQL did not produce a result.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("{0}")]
    NotSelect(String),
    /// The engine's parser rejects the text (its message and position).
    #[error("{0}")]
    Parse(String),
    #[error("{0}")]
    Failed(String),
    #[error("query exceeded its deadline of {:.3} s and was interrupted", .0.as_secs_f64())]
    Timeout(Duration),
}

/// Why the sample DB could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("sample DB {path} does not exist; check [database].path or generate it first")]
    Missing { path: String },
    #[error("cannot open sample DB {path} read-only: {message}")]
    Open { path: String, message: String },
}

fn gate_error(e: GateError) -> ExecError {
    match e {
        GateError::Parse(m) => ExecError::Parse(m),
        GateError::NotSelect(m) => ExecError::NotSelect(m),
        GateError::Bounds(m) => ExecError::Failed(m),
    }
}

/// Check that `sql` is exactly one query, as the default engine's (DuckDB's) parser sees
/// it. Engine-aware callers ask [`Sandbox::gate`] or [`Target::gate`].
pub fn check_single_query(sql: &str) -> Result<(), GateError> {
    super::gate::check(sql)
}

/// Most bytes of a capped result kept in memory (candidates; the original is uncapped).
pub const RESULT_BYTES_CAP: usize = 256 * 1024 * 1024;
/// How often the watchdog wakes: before the deadline to check it, after it to re-interrupt.
pub const WATCHDOG_TICK: Duration = Duration::from_millis(50);

/// Approximate bytes of a converted result (the same measure as the byte cap).
pub fn result_bytes(r: &ResultSet) -> usize {
    r.rows
        .iter()
        .flatten()
        .map(|c| match c {
            Cell::Text(t) => t.len() + 24,
            Cell::Blob(b) => b.len() + 24,
            _ => 32,
        })
        .sum()
}

/// One successful execution: the rows and how long execution plus full fetch took.
#[derive(Debug)]
pub struct Execution {
    pub result: ResultSet,
    pub elapsed: Duration,
    /// True when fetching stopped at the row cap (see [`Sandbox::run_capped`]).
    pub truncated: bool,
}

/// One engine's session.
enum Session {
    DuckDb(super::duck::session::DuckSession),
    Postgres(super::pg::PgSession),
}

/// A read-only, locked-down session on one database (a sample DB file, or a server's
/// database for engines that have one).
pub struct Sandbox {
    session: Session,
    target: Target,
}

impl Sandbox {
    /// Opens a session on `db` with `threads` and `memory_limit` fixed for its lifetime.
    pub fn open(db: impl Into<Target>, threads: u32, memory_limit: &str) -> Result<Self, OpenError> {
        let target = db.into();
        let session = match &target {
            Target::DuckDb(path) => {
                Session::DuckDb(super::duck::session::DuckSession::open(path, threads, memory_limit)?)
            }
            Target::Postgres(t) => Session::Postgres(super::pg::PgSession::open(t, threads)?),
        };
        Ok(Self { session, target })
    }

    /// The database this session reads.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Is `sql` exactly one query, as this engine's own parser sees it?
    pub fn gate(&self, sql: &str) -> Result<(), GateError> {
        match &self.session {
            Session::DuckDb(_) => super::gate::check(sql),
            Session::Postgres(s) => s.gate(sql),
        }
    }

    /// Check `sql`, run it with a deadline and fetch every row (no row or byte cap: used
    /// for the original and for candidates already known to match it).
    pub fn run(&self, sql: &str, deadline: Duration) -> Result<Execution, ExecError> {
        self.gate(sql).map_err(gate_error)?;
        self.fetch(sql, deadline, usize::MAX, usize::MAX)
    }

    /// Like [`Sandbox::run`] but stop storing rows after `max_rows` rows or
    /// [`RESULT_BYTES_CAP`] bytes (`truncated` is set).
    pub fn run_capped(&self, sql: &str, deadline: Duration, max_rows: usize) -> Result<Execution, ExecError> {
        self.run_capped_bytes(sql, deadline, max_rows, RESULT_BYTES_CAP)
    }

    /// [`Sandbox::run_capped`] with an explicit byte cap.
    pub fn run_capped_bytes(
        &self,
        sql: &str,
        deadline: Duration,
        max_rows: usize,
        max_bytes: usize,
    ) -> Result<Execution, ExecError> {
        self.gate(sql).map_err(gate_error)?;
        self.fetch(sql, deadline, max_rows, max_bytes)
    }

    /// Run SQL that already passed the gate: the timing lane runs the same two texts many
    /// times and checks them once, so the gate's parse stays out of the lane.
    pub fn run_prechecked(&self, sql: &str, deadline: Duration) -> Result<Execution, ExecError> {
        self.fetch(sql, deadline, usize::MAX, usize::MAX)
    }

    /// Is the session still locked down as it was opened (the pool's check before it
    /// hands a reused session out)? Also false when it cannot run a query.
    pub fn intact(&self) -> bool {
        match &self.session {
            Session::DuckDb(s) => s.intact(),
            Session::Postgres(s) => s.intact(),
        }
    }

    /// Execute without the statement gate: only for tests of the session's own locks.
    #[doc(hidden)]
    pub fn run_unchecked(&self, sql: &str, deadline: Duration) -> Result<Execution, ExecError> {
        self.fetch(sql, deadline, usize::MAX, usize::MAX)
    }

    fn fetch(&self, sql: &str, deadline: Duration, max_rows: usize, max_bytes: usize) -> Result<Execution, ExecError> {
        match &self.session {
            Session::DuckDb(s) => s.fetch(sql, deadline, max_rows, max_bytes),
            Session::Postgres(s) => s.fetch(sql, deadline, max_rows, max_bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check_single_query;

    #[test]
    fn queries_pass_the_gate() {
        for sql in [
            "SELECT 1",
            "select 1;",
            "WITH a AS (SELECT 1 AS x) SELECT x FROM a ORDER BY x LIMIT 3",
            "VALUES (1), (2)",
            "SELECT 1 UNION ALL SELECT 2",
            "(SELECT 1)",
        ] {
            assert!(
                check_single_query(sql).is_ok(),
                "{sql}: {:?}",
                check_single_query(sql)
            );
        }
    }

    #[test]
    fn everything_else_is_rejected() {
        for sql in [
            "",
            "DROP TABLE t",
            "DELETE FROM t",
            "INSERT INTO t VALUES (1)",
            "UPDATE t SET a = 1",
            "CREATE TABLE x AS SELECT 1",
            "COPY t TO '/tmp/x.csv'",
            "ATTACH '/tmp/x.db' AS x",
            "INSTALL httpfs",
            "LOAD httpfs",
            "PRAGMA database_list",
            "SET threads = 8",
            "SELECT 1; DROP TABLE t",
            "SELECT 1; SELECT 2",
            "SELECT * INTO t2 FROM t",
            "EXPORT DATABASE '/tmp/x'",
            "CALL pragma_version()",
        ] {
            assert!(check_single_query(sql).is_err(), "{sql} should be rejected");
        }
    }
}
