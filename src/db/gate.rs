//! The statement gate: DuckDB's own parser decides whether a piece of SQL is exactly one
//! query (VALIDATION.md, "Sandbox"). A helper parser that reads less of the dialect than
//! the engine (sqlparser) never refuses a query DuckDB runs.
//!
//! Two questions, both answered by DuckDB's parser on a private in-memory database (parse
//! only, nothing is bound or executed; external access off, configuration locked):
//! 1. Does the text hold exactly one statement? A syntax error is a [`GateError::Parse`]
//!    carrying DuckDB's message and the position it reports.
//! 2. Is that statement a query? It is when DuckDB's grammar accepts it as a subquery,
//!    `SELECT EXISTS (<sql>)`: SELECT, WITH .. SELECT, VALUES, FROM-first, TABLE, PIVOT,
//!    UNPIVOT and every DuckDB query extension qualify (so do the read-only DESCRIBE,
//!    SHOW and SUMMARIZE, which DuckDB runs as queries); DDL, DML (also
//!    `WITH .. INSERT`), PRAGMA, SET, CALL, COPY, ATTACH, INSTALL/LOAD, EXPORT, EXPLAIN,
//!    CHECKPOINT do not. (`json_serialize_sql` would need the json extension, which the
//!    bundled build lacks and the sandbox may not install.)
//!
//! 0. Before either: is it small enough ([`check_bounds`]: at most 1 MiB, and no constant
//!    that planning would expand past a bound, see `constsize.rs`)?
//!
//! Behind the gate, the sandbox connection itself is read-only and locked (sandbox.rs).

use crate::sqltext::{MAX_SQL_BYTES, first_word, strip_tail};
use duckdb::ffi;
use std::ffi::{CStr, CString};
use std::sync::{Mutex, OnceLock};

/// Why a piece of SQL is not let through.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GateError {
    /// DuckDB cannot parse it (message and position as DuckDB reports them).
    #[error("{0}")]
    Parse(String),
    /// It parses, but is not exactly one query.
    #[error("{0}")]
    NotSelect(String),
    /// Too large to hand to DuckDB: longer than [`MAX_SQL_BYTES`], or constants that
    /// planning would expand beyond a bound (`constsize.rs`). Checked before parsing.
    #[error("{0}")]
    Bounds(String),
}

/// Is `sql` small enough for an engine's parser and planner (length, constant sizes)? Part
/// of [`check`] and of PostgreSQL's gate (`pg/session.rs`); plan analysis and binding
/// probes call it too.
pub fn check_bounds(sql: &str) -> Result<(), GateError> {
    if sql.len() > MAX_SQL_BYTES {
        return Err(GateError::Bounds(format!(
            "the SQL is {} bytes; qt accepts at most {} bytes (1 MiB) per query, because an engine's parser and \
             planner run before any deadline can stop them",
            sql.len(),
            MAX_SQL_BYTES
        )));
    }
    super::constsize::check(sql).map_err(GateError::Bounds)
}

/// Check that `sql` is exactly one query, by DuckDB's parser.
pub fn check(sql: &str) -> Result<(), GateError> {
    check_bounds(sql)?;
    let body = strip_tail(sql);
    if body.trim().is_empty() {
        return Err(GateError::NotSelect(
            "the SQL is empty; expected one SELECT query".into(),
        ));
    }
    let n = count_statements(sql)
        .map_err(|m| GateError::Parse(format!("DuckDB cannot parse the SQL: {}", m.trim_end())))?;
    if n != 1 {
        return Err(GateError::NotSelect(format!(
            "only a single SELECT query is allowed, DuckDB sees {n} statements"
        )));
    }
    // EXISTS takes only a query in parentheses (not a table name or an expression, so
    // `INSTALL httpfs` or `CHECKPOINT` cannot pass as one). The closing parenthesis goes
    // on its own line so a trailing `--` comment stays closed.
    let wrapped = format!("SELECT EXISTS (\n{body}\n)");
    match count_statements(&wrapped) {
        Ok(1) => Ok(()),
        _ => Err(GateError::NotSelect(format!(
            "only a single SELECT query is allowed; DuckDB reads this as a `{}` statement, not a query",
            first_word(body).to_uppercase()
        ))),
    }
}

/// A scratch in-memory DuckDB used only for parsing.
struct Scratch {
    db: ffi::duckdb_database,
    con: ffi::duckdb_connection,
}

// SAFETY: the handles are only used while holding the mutex below, one call at a time;
// DuckDB connections may be used from any thread, just not concurrently.
unsafe impl Send for Scratch {}

fn scratch() -> Result<&'static Mutex<Scratch>, String> {
    static SCRATCH: OnceLock<Result<Mutex<Scratch>, String>> = OnceLock::new();
    SCRATCH
        .get_or_init(|| open_scratch().map(Mutex::new))
        .as_ref()
        .map_err(Clone::clone)
}

fn open_scratch() -> Result<Scratch, String> {
    // SAFETY: plain C API use; every handle is checked before use and the config is
    // destroyed after opening (DuckDB copies it).
    unsafe {
        let mut config: ffi::duckdb_config = std::ptr::null_mut();
        if ffi::duckdb_create_config(&mut config) != ffi::DuckDBSuccess {
            return Err("cannot start DuckDB's parser (config)".into());
        }
        for (k, v) in [
            ("autoload_known_extensions", "false"),
            ("autoinstall_known_extensions", "false"),
            ("enable_external_access", "false"),
            ("lock_configuration", "true"),
        ] {
            let (k, v) = (
                CString::new(k).unwrap_or_default(),
                CString::new(v).unwrap_or_default(),
            );
            ffi::duckdb_set_config(config, k.as_ptr(), v.as_ptr());
        }
        let mut db: ffi::duckdb_database = std::ptr::null_mut();
        let mut err: *mut std::os::raw::c_char = std::ptr::null_mut();
        let state = ffi::duckdb_open_ext(std::ptr::null(), &mut db, config, &mut err);
        ffi::duckdb_destroy_config(&mut config);
        if state != ffi::DuckDBSuccess {
            let msg = if err.is_null() {
                String::new()
            } else {
                let m = CStr::from_ptr(err).to_string_lossy().into_owned();
                ffi::duckdb_free(err.cast());
                m
            };
            return Err(format!("cannot start DuckDB's parser: {msg}"));
        }
        let mut con: ffi::duckdb_connection = std::ptr::null_mut();
        if ffi::duckdb_connect(db, &mut con) != ffi::DuckDBSuccess {
            ffi::duckdb_close(&mut db);
            return Err("cannot start DuckDB's parser (connection)".into());
        }
        Ok(Scratch { db, con })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // SAFETY: handles created in open_scratch and not used after this.
        unsafe {
            ffi::duckdb_disconnect(&mut self.con);
            ffi::duckdb_close(&mut self.db);
        }
    }
}

/// How many statements DuckDB's parser finds; `Err` is DuckDB's parse error.
pub fn count_statements(sql: &str) -> Result<usize, String> {
    let c_sql = CString::new(sql).map_err(|_| "the SQL contains a NUL byte".to_string())?;
    let guard = scratch()?.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: the connection is valid for the process lifetime and used under the lock;
    // `duckdb_extract_statements` only parses, and the result is destroyed here.
    unsafe {
        let mut extracted: ffi::duckdb_extracted_statements = std::ptr::null_mut();
        let n = ffi::duckdb_extract_statements(guard.con, c_sql.as_ptr(), &mut extracted);
        let result = if n == 0 {
            let err = ffi::duckdb_extract_statements_error(extracted);
            if err.is_null() {
                Ok(0)
            } else {
                Err(CStr::from_ptr(err).to_string_lossy().into_owned())
            }
        } else {
            Ok(n as usize)
        };
        ffi::duckdb_destroy_extracted(&mut extracted);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duckdb_queries_pass_the_gate() {
        for sql in [
            "SELECT 1",
            "select 1; -- done",
            "WITH a AS (SELECT 1 AS x) SELECT x FROM a ORDER BY x LIMIT 3",
            "VALUES (1), (2)",
            "SELECT 1 UNION ALL SELECT 2",
            "(SELECT 1)",
            "FROM range(3) SELECT range",
            "WITH \"limit\" AS (SELECT 1 AS x) SELECT * FROM \"limit\"",
            "SELECT last_value(x IGNORE NULLS) OVER (ORDER BY x) FROM range(3) t(x)",
            "SELECT 2 ** 3, 7 // 2, [x * 2 FOR x IN [1, 2]]",
            "SELECT * FROM range(10) LIMIT 10%",
            "SELECT 1 -- trailing comment",
        ] {
            assert_eq!(check(sql), Ok(()), "{sql}");
        }
    }

    #[test]
    fn everything_else_is_refused() {
        for sql in [
            "",
            " ; -- nothing",
            "DROP TABLE t",
            "DELETE FROM t",
            "INSERT INTO t VALUES (1)",
            "WITH a AS (SELECT 1) INSERT INTO t SELECT * FROM a",
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
            "EXPORT DATABASE '/tmp/x'",
            "CALL pragma_version()",
            "EXPLAIN SELECT 1",
            "SELECT 1) AS x, (SELECT 2",
            "CHECKPOINT",
            "VACUUM",
            "DETACH x",
        ] {
            assert!(
                matches!(
                    check(sql),
                    Err(GateError::NotSelect(_)) | Err(GateError::Parse(_))
                ),
                "{sql} should be refused: {:?}",
                check(sql)
            );
        }
    }

    #[test]
    fn parse_errors_carry_duckdbs_message() {
        match check("SELECT (1 FROM t") {
            Err(GateError::Parse(m)) => assert!(m.contains("syntax error"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(check("DROP TABLE t"), Err(GateError::NotSelect(m)) if m.contains("DROP"))
        );
    }
}
