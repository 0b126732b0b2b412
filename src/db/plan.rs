//! Plan analysis of one query on a read-only connection: the `EXPLAIN (ANALYZE, FORMAT
//! JSON)` profile (`plan.json`), the physical plan text of `EXPLAIN` (`plan_full.txt`) and
//! a short summary (`plan_summary.txt`, see `plan_summary.rs`).
//!
//! A file holding several statements is analyzed on its LAST statement only (TPC-DS files
//! with two statements hold independent queries; the last one is reported). Both EXPLAINs
//! share one deadline, enforced by a watchdog thread that interrupts the connection.
//! This file does not write the files; the caller (record/) does.

use duckdb::Connection;
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use super::plan_summary::{PlanSummary, summarize};
use super::split::split_statements;
use super::{DbError, open_read_only};

#[derive(Debug, Clone, Serialize)]
pub struct PlanAnalysis {
    /// The parsed `EXPLAIN (ANALYZE, FORMAT JSON)` output.
    pub json: serde_json::Value,
    /// The same, as DuckDB printed it (contents of `plan.json`).
    pub json_text: String,
    /// `EXPLAIN` physical plan text (contents of `plan_full.txt`).
    pub full_text: String,
    /// Human summary (contents of `plan_summary.txt`).
    pub summary_text: String,
    pub summary: PlanSummary,
}

impl PlanAnalysis {
    /// Rebuild an analysis from the two texts qt records (`plan.json`, `plan_full.txt`),
    /// e.g. from the plan cache, so a re-run shows the LLM exactly the same plan summary.
    pub fn from_texts(json_text: String, full_text: String) -> Result<Self, DbError> {
        let json: serde_json::Value = serde_json::from_str(&json_text)
            .map_err(|e| DbError::Plan(format!("recorded JSON plan does not parse: {e}")))?;
        let summary = summarize(&json);
        let summary_text = summary.render();
        Ok(PlanAnalysis { json, json_text, full_text, summary_text, summary })
    }
}

/// Profiles the last statement of `sql` on the database at `db` (opened read-only).
/// Fails with [`DbError::Timeout`] when both EXPLAINs together take longer than `timeout`.
pub fn analyze_plan(db: &Path, sql: &str, timeout: Duration) -> Result<PlanAnalysis, DbError> {
    let statements = split_statements(sql);
    let Some(last) = statements.last() else {
        return Err(DbError::Plan(
            "the query file holds no SQL statement".into(),
        ));
    };
    let conn = open_read_only(db)?;
    let deadline = Instant::now() + timeout;
    let json_text = explain(
        &conn,
        &format!("EXPLAIN (ANALYZE, FORMAT JSON) {last}"),
        deadline,
        timeout,
    )?;
    let full_text = explain(&conn, &format!("EXPLAIN {last}"), deadline, timeout)?;
    let json: serde_json::Value = serde_json::from_str(&json_text)
        .map_err(|e| DbError::Plan(format!("DuckDB's JSON plan does not parse: {e}")))?;
    let summary = summarize(&json);
    let summary_text = summary.render();
    Ok(PlanAnalysis {
        json,
        json_text,
        full_text,
        summary_text,
        summary,
    })
}

/// Runs an EXPLAIN and returns its text: the last column of every row, joined by newlines
/// (DuckDB returns `explain_key, explain_value` rows).
fn explain(
    conn: &Connection,
    sql: &str,
    deadline: Instant,
    timeout: Duration,
) -> Result<String, DbError> {
    let remaining = deadline.saturating_duration_since(Instant::now());
    let timed_out = || DbError::Timeout {
        seconds: timeout.as_secs_f64(),
    };
    if remaining.is_zero() {
        return Err(timed_out());
    }
    let (result, fired) = with_watchdog(conn, remaining, || collect_text(conn, sql));
    match result {
        Ok(text) => Ok(text),
        Err(_) if fired => Err(timed_out()),
        Err(source) => Err(DbError::Query {
            what: "running EXPLAIN on the query".into(),
            source,
        }),
    }
}

fn collect_text(conn: &Connection, sql: &str) -> duckdb::Result<String> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([])?;
    let mut parts = Vec::new();
    while let Some(row) = rows.next()? {
        let n = row.as_ref().column_count();
        if n > 0 {
            parts.push(row.get::<_, Option<String>>(n - 1)?.unwrap_or_default());
        }
    }
    Ok(parts.join("\n"))
}

/// Runs `f`; if it is still running after `limit`, interrupts the connection's query.
/// Returns `f`'s result and whether the watchdog fired.
pub(crate) fn with_watchdog<T>(
    conn: &Connection,
    limit: Duration,
    f: impl FnOnce() -> T,
) -> (T, bool) {
    let handle = conn.interrupt_handle();
    // A stop request (Ctrl+C, end of the run) interrupts this query too.
    let on_stop = conn.interrupt_handle();
    let _registered = crate::stop::register_interrupt(move || on_stop.interrupt());
    let _busy = crate::stop::busy();
    let fired = Arc::new(AtomicBool::new(false));
    let (done, wait) = channel::<()>();
    let flag = Arc::clone(&fired);
    let watchdog = std::thread::spawn(move || {
        if let Err(RecvTimeoutError::Timeout) = wait.recv_timeout(limit) {
            flag.store(true, Ordering::SeqCst);
            handle.interrupt();
        }
    });
    let result = f();
    let _ = done.send(());
    let _ = watchdog.join();
    (result, fired.load(Ordering::SeqCst))
}
