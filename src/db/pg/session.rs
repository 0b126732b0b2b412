//! A sandboxed PostgreSQL session: the PostgreSQL side of `engine::Sandbox`.
//!
//! Defense in depth, each layer enough on its own for most attacks:
//! - the role is checked at open: no superuser, no CREATEROLE/CREATEDB/BYPASSRLS/REPLICATION,
//!   no INSERT/UPDATE/DELETE/TRUNCATE on any table, no CREATE on the database or a schema
//!   (`qt db load` creates such a role, `qt_reader`);
//! - every execution runs inside `BEGIN READ ONLY` and is rolled back, so a data-modifying
//!   CTE, `SELECT INTO`, a temp table or `set_config(.., false)` cannot outlive it;
//! - `statement_timeout` for the deadline (`SET LOCAL`, so it is rolled back too) *and* a
//!   client-side cancel from a watchdog thread (a candidate can lift statement_timeout for
//!   itself with set_config; the cancel request is resent on a tick until the run ends);
//! - `work_mem`, `max_parallel_workers_per_gather` fixed at connection start (the
//!   target's [`EngineSettings`](crate::db::EngineSettings), `[validation]` keys; a
//!   candidate's `set_config` of them is rolled back with its transaction); the role's
//!   `temp_file_limit` (only a superuser can set it) is read, and when the spec names one
//!   the session does not open unless the role's equals it;
//! - results capped in rows and bytes like DuckDB's; a run stopped at a cap is cancelled
//!   on the server, and a session that was cancelled, lost or left in a transaction is
//!   never handed out again (`intact`).
//!
//! It runs one query and returns its rows; it does not compare or time anything.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use postgres::fallible_iterator::FallibleIterator;
use postgres::error::SqlState;
use postgres::{CancelToken, Client, NoTls};

use super::target::PgTarget;
use super::values::{PgCell, describe};
use crate::db::gate::GateError;
use crate::db::session::{ExecError, Execution, OpenError, WATCHDOG_TICK};
use crate::db::value::{Cell, ColumnInfo, ResultSet};

/// `work_mem` of every session whose spec names none (per sort or hash node).
pub const WORK_MEM: &str = "64MB";
const TICK: Duration = WATCHDOG_TICK;

pub struct PgSession {
    /// Dropped off the async runtime (`Drop` below).
    client: std::mem::ManuallyDrop<Mutex<Client>>,
    cancel: CancelToken,
    /// Set once a run was cancelled or failed mid-protocol: never reuse this session.
    tainted: AtomicBool,
    /// The role's temp_file_limit as the server reports it (kB, -1 = none).
    pub temp_file_limit: String,
}

impl Drop for PgSession {
    /// The synchronous client shuts its own runtime down when dropped, which may not
    /// happen on an async runtime's thread (a pooled session dropped at the end of a run).
    fn drop(&mut self) {
        // SAFETY: taken once, here, and never used again.
        let client = unsafe { std::mem::ManuallyDrop::take(&mut self.client) };
        crate::db::engine::off_runtime(move || drop(client));
    }
}

/// The readable part of a PostgreSQL error: the server's message (+ hint), or the
/// client's error and its cause.
pub fn message(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut m = db.message().to_string();
        if let Some(h) = db.hint() {
            m.push_str(&format!(" (hint: {h})"));
        }
        return m;
    }
    match std::error::Error::source(e) {
        Some(s) => format!("{e}: {s}"),
        None => e.to_string(),
    }
}

impl PgSession {
    /// Connects with the session's limits fixed at startup, from the target's settings:
    /// `work_mem` (default [`WORK_MEM`]), `max_parallel_workers_per_gather` (default
    /// `threads` - 1: one thread = no parallel workers), read-only by default; and checks
    /// `temp_file_limit` when one is asked for. `memory_limit` has no PostgreSQL
    /// equivalent per session and is not used.
    pub fn open(target: &PgTarget, threads: u32) -> Result<Self, OpenError> {
        let mut cfg = target.config().map_err(|m| OpenError::Open { path: target.label(), message: m })?;
        let set = target.settings();
        let work_mem = set.work_mem_kb.map(|kb| format!("{kb}kB")).unwrap_or_else(|| WORK_MEM.to_string());
        let workers = set.max_parallel_workers_per_gather.unwrap_or(threads.max(1) - 1);
        let mut opts = format!(
            "-c work_mem={work_mem} -c max_parallel_workers_per_gather={workers} -c default_transaction_read_only=on \
             -c statement_timeout=0 -c idle_in_transaction_session_timeout=600000"
        );
        if let Some(o) = cfg.get_options() {
            opts = format!("{o} {opts}");
        }
        cfg.options(&opts).application_name("qt");
        if cfg.get_connect_timeout().is_none() {
            cfg.connect_timeout(Duration::from_secs(10));
        }
        let mut client = cfg.connect(NoTls).map_err(|e| OpenError::Open {
            path: target.label(),
            message: target.redact(&message(&e)),
        })?;
        let cancel = client.cancel_token();
        let temp_file_limit = client
            .query_one("SELECT current_setting('temp_file_limit')", &[])
            .map(|r| r.get::<_, String>(0))
            .unwrap_or_default();
        if let Some(want) = set.temp_file_limit_kb {
            check_temp_file_limit(&mut client, target, want)?;
        }
        Ok(Self { client: std::mem::ManuallyDrop::new(Mutex::new(client)), cancel, tainted: AtomicBool::new(false), temp_file_limit })
    }

    /// The settings in force on this session as PostgreSQL shows them (config.json).
    pub fn settings_in_force(&self) -> Vec<(String, String)> {
        let names = ["work_mem", "max_parallel_workers_per_gather", "temp_file_limit"];
        names
            .iter()
            .filter_map(|n| {
                let r = self.lock().query_one("SELECT current_setting($1)", &[n]).ok()?;
                Some((n.to_string(), r.get::<_, String>(0)))
            })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Client> {
        self.client.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// PostgreSQL's own parser decides: the text must prepare as exactly one statement,
    /// and that statement must be a query (it prepares as `SELECT EXISTS (<sql>)`: DML,
    /// DDL, `SELECT INTO`, data-modifying WITH, utility commands do not).
    /// The same bounds as DuckDB's gate come first (`gate::check_bounds`: at most 1 MiB,
    /// no constant expansion past a million elements), so a text is refused alike on
    /// either engine and never sent to the server.
    pub fn gate(&self, sql: &str) -> Result<(), GateError> {
        crate::db::gate::check_bounds(sql)?;
        let body = crate::sqltext::strip_tail(sql);
        if body.trim().is_empty() {
            return Err(GateError::NotSelect("the SQL is empty; expected one SELECT query".into()));
        }
        let mut c = self.lock();
        if let Err(e) = c.prepare(body) {
            if e.code() == Some(&SqlState::SYNTAX_ERROR) {
                let m = message(&e);
                return Err(if m.contains("multiple commands") {
                    GateError::NotSelect(
                        "only a single SELECT query is allowed, PostgreSQL sees several statements".into(),
                    )
                } else {
                    GateError::Parse(format!("PostgreSQL cannot parse the SQL: {m}"))
                });
            }
            if e.as_db_error().is_none() {
                self.tainted.store(true, Ordering::Relaxed);
                return Err(GateError::Parse(format!("PostgreSQL did not answer: {}", message(&e))));
            }
        }
        match c.prepare(&format!("SELECT EXISTS (\n{body}\n)")) {
            Ok(_) => Ok(()),
            Err(e)
                if matches!(e.code(), Some(c) if *c == SqlState::SYNTAX_ERROR || *c == SqlState::FEATURE_NOT_SUPPORTED) =>
            {
                Err(GateError::NotSelect(format!(
                    "only a single SELECT query is allowed; PostgreSQL reads this as a `{}` statement, not a query",
                    crate::sqltext::first_word(body).to_uppercase()
                )))
            }
            // It parsed as a query; naming errors show when it runs.
            Err(_) => Ok(()),
        }
    }

    /// Run `sql` (already through the gate) in a read-only transaction that is rolled
    /// back, with the deadline enforced by statement_timeout and a client-side cancel.
    pub fn fetch(
        &self,
        sql: &str,
        deadline: Duration,
        max_rows: usize,
        max_bytes: usize,
    ) -> Result<Execution, ExecError> {
        let mut c = self.lock();
        let ms = deadline.as_millis().clamp(1, i32::MAX as u128);
        if let Err(e) = c.batch_execute(&format!("BEGIN READ ONLY; SET LOCAL statement_timeout = {ms}")) {
            self.tainted.store(true, Ordering::Relaxed);
            let _ = c.batch_execute("ROLLBACK");
            return Err(ExecError::Failed(message(&e)));
        }
        let watch = Watchdog::start(self.cancel.clone(), deadline);
        let started = Instant::now();
        let outcome = run_query(&mut c, sql, max_rows, max_bytes, &watch.fired, &self.cancel);
        let elapsed = started.elapsed();
        let fired = watch.stop();
        if let Ok(Fetched { cancel_consumed: false, result: (_, true) }) = &outcome {
            // Stopped at a cap and the query ended before the cancel was seen: the
            // cancel may still land on a later statement, so this session retires.
            self.tainted.store(true, Ordering::Relaxed);
        }
        if fired {
            self.tainted.store(true, Ordering::Relaxed);
        }
        if c.batch_execute("ROLLBACK").is_err() {
            self.tainted.store(true, Ordering::Relaxed);
        }
        // statement_timeout's own cancel (a cancel the candidate asked for is a failure).
        let timed_out = |e: &postgres::Error| {
            e.as_db_error().is_some_and(|d| *d.code() == SqlState::QUERY_CANCELED && d.message().contains("statement timeout"))
        };
        match outcome {
            _ if fired => Err(ExecError::Timeout(deadline)),
            Err(e) if timed_out(&e) => Err(ExecError::Timeout(deadline)),
            Ok(Fetched { result: (result, truncated), .. }) => Ok(Execution { result, elapsed, truncated }),
            Err(e) => {
                if e.as_db_error().is_none() || c.is_closed() {
                    self.tainted.store(true, Ordering::Relaxed);
                }
                Err(ExecError::Failed(message(&e)))
            }
        }
    }

    /// Still fit to hand out: connected, never cancelled or broken, not in a transaction,
    /// and still read-only by default.
    pub fn intact(&self) -> bool {
        if self.tainted.load(Ordering::Relaxed) {
            return false;
        }
        let mut c = self.lock();
        !c.is_closed()
            && c.query_one("SELECT current_setting('transaction_read_only')", &[])
                .is_ok_and(|r| r.get::<_, String>(0) == "on")
    }

    /// Runs `sql` (trusted: EXPLAIN of the original) inside a read-only transaction and
    /// returns the text of every row's last column, joined by newlines.
    pub fn text_rows(&self, sql: &str, deadline: Duration) -> Result<String, ExecError> {
        let x = self.fetch(sql, deadline, usize::MAX, usize::MAX)?;
        Ok(x.result
            .rows
            .iter()
            .filter_map(|r| match r.last() {
                Some(Cell::Text(t)) | Some(Cell::Other(t)) => Some(t.clone()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n"))
    }
}

/// Only a superuser may set temp_file_limit (and a candidate must not lift it), so the
/// role carries it: a session whose role has another value than the one asked for does not
/// open, and the message says how to set it.
fn check_temp_file_limit(c: &mut Client, target: &PgTarget, want_kb: i64) -> Result<(), OpenError> {
    use crate::db::settings::show_kb;
    let row = c
        .query_one("SELECT setting::bigint, current_user::text, current_database()::text FROM pg_settings WHERE name = 'temp_file_limit'", &[])
        .map_err(|e| OpenError::Open { path: target.label(), message: target.redact(&message(&e)) })?;
    let (have, user, db): (i64, String, String) = (row.get(0), row.get(1), row.get(2));
    if have == want_kb {
        return Ok(());
    }
    let want = show_kb(want_kb);
    Err(OpenError::Open {
        path: target.label(),
        message: format!(
            "validation.temp_file_limit is {want}, but role {user} has temp_file_limit {}; only a superuser can set it \
             (and a candidate must not lift it), so it is the role's: run `ALTER ROLE \"{user}\" IN DATABASE \"{db}\" SET \
             temp_file_limit = '{want}'` as a superuser (`qt db load --temp-file-limit {want}` does it), or leave \
             validation.temp_file_limit out",
            show_kb(have)
        ),
    })
}

struct Fetched {
    result: (ResultSet, bool),
    /// A cap stopped fetching, the server was asked to cancel, and it did.
    cancel_consumed: bool,
}

fn run_query(
    c: &mut Client,
    sql: &str,
    max_rows: usize,
    max_bytes: usize,
    stop: &AtomicBool,
    cancel: &CancelToken,
) -> Result<Fetched, postgres::Error> {
    let stmt = c.prepare(crate::sqltext::strip_tail(sql))?;
    let columns: Vec<ColumnInfo> = stmt
        .columns()
        .iter()
        .map(|col| {
            let (type_name, class) = describe(col.type_(), col.type_modifier());
            ColumnInfo { name: col.name().to_string(), type_name, class }
        })
        .collect();
    let width = columns.len();
    let mut rows = Vec::new();
    let (mut bytes, mut truncated) = (0usize, false);
    let mut it = c.query_raw(&stmt, std::iter::empty::<i32>())?;
    'rows: while let Some(row) = it.next()? {
        if rows.len() >= max_rows || stop.load(Ordering::Relaxed) {
            truncated = true;
            break;
        }
        let mut cells = Vec::with_capacity(width);
        for i in 0..width {
            let cell = row.try_get::<_, PgCell>(i)?.0;
            bytes = bytes.saturating_add(match &cell {
                Cell::Text(t) | Cell::Other(t) => t.len() + 24,
                Cell::Blob(b) => b.len() + 24,
                _ => 32,
            });
            if bytes > max_bytes {
                truncated = true;
                break 'rows;
            }
            cells.push(cell);
        }
        rows.push(cells);
    }
    let mut cancel_consumed = false;
    if truncated {
        // The server is still producing rows: cancel, then read to the end so the cancel
        // is spent on this query (and never lands on the next one).
        let _ = cancel.cancel_query(NoTls);
        loop {
            match it.next() {
                Ok(Some(_)) => continue,
                Ok(None) => break,
                Err(_) => {
                    cancel_consumed = true;
                    break;
                }
            }
        }
    }
    Ok(Fetched { result: (ResultSet { columns, rows }, truncated), cancel_consumed })
}

/// Sends the cancel request at the deadline and again every [`TICK`] until stopped.
struct Watchdog {
    state: Arc<(Mutex<bool>, Condvar)>,
    fired: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watchdog {
    fn start(token: CancelToken, deadline: Duration) -> Self {
        let state = Arc::new((Mutex::new(false), Condvar::new()));
        let fired = Arc::new(AtomicBool::new(false));
        let (s, f) = (Arc::clone(&state), Arc::clone(&fired));
        let thread = std::thread::spawn(move || {
            let end = Instant::now() + deadline;
            let (lock, cvar) = &*s;
            let mut done = lock.lock().unwrap_or_else(|e| e.into_inner());
            while !*done {
                let now = Instant::now();
                let wait = if now >= end {
                    f.store(true, Ordering::Relaxed);
                    let _ = token.cancel_query(NoTls);
                    TICK * 4
                } else {
                    (end - now).min(TICK)
                };
                done = cvar.wait_timeout(done, wait).unwrap_or_else(|e| e.into_inner()).0;
            }
        });
        Self { state, fired, thread: Some(thread) }
    }

    /// Stops the watchdog; true when it fired.
    fn stop(mut self) -> bool {
        {
            let (lock, cvar) = &*self.state;
            *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
            cvar.notify_all();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.fired.load(Ordering::Relaxed)
    }
}

impl PgSession {
    /// Runs catalog work (trusted SQL written by qt) on this session's connection.
    pub fn with_client<T>(&self, f: impl FnOnce(&mut Client) -> T) -> T {
        f(&mut self.lock())
    }
}
