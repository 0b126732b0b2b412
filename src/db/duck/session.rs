//! The DuckDB side of the sandbox (`db/session.rs` is the engine-neutral face): a
//! read-only connection with `enable_external_access=false` (no file/URL readers, no
//! COPY/ATTACH/INSTALL), extensions never auto-installed or auto-loaded, and
//! `lock_configuration=true` so `SET`/`PRAGMA` cannot undo any of it; fixed `threads` and
//! `memory_limit`; spill files in a private folder under qt's cache dir (`spill.rs`), never
//! next to the sample DB. The watchdog re-sends the interrupt on a short tick after the
//! deadline (DuckDB drops an interrupt that lands while a query is still being planned).
//!
//! The statement gate is `db/gate.rs` (DuckDB's own parser); the duckdb crate's `prepare`
//! would otherwise execute every statement but the last, so nothing runs here before
//! the gate let it through (except through `fetch` callers that checked it).

use super::spill;
use crate::db::session::{ExecError, Execution, OpenError, WATCHDOG_TICK};
use crate::db::value::{Cell, ColumnInfo, ResultSet};
use super::values::describe_type;
use duckdb::{AccessMode, Config, Connection};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Approximate bytes a value takes once converted (text and blobs by length).
fn cell_bytes(v: &duckdb::types::ValueRef<'_>) -> usize {
    use duckdb::types::ValueRef;
    match v {
        ValueRef::Text(b) | ValueRef::Blob(b) => b.len() + 24,
        _ => 32,
    }
}

/// A read-only, locked-down connection to the sample DB.
pub struct DuckSession {
    conn: Connection,
    // Spill files live here and vanish with the sandbox.
    _spill: tempfile::TempDir,
}

impl DuckSession {
    pub fn open(db: &Path, threads: u32, memory_limit: &str) -> Result<Self, OpenError> {
        let path = db.display().to_string();
        if !db.is_file() {
            return Err(OpenError::Missing { path });
        }
        let err = |e: String| OpenError::Open {
            path: path.clone(),
            message: e,
        };
        let spill = spill::spill_dir().map_err(|e| err(e.to_string()))?;
        // Order matters: DuckDB applies each setting at once, and refuses to change
        // temp_directory after external access is off, or anything after the lock.
        let config = Config::default()
            .access_mode(AccessMode::ReadOnly)
            .and_then(|c| c.with("temp_directory", spill.path().display().to_string()))
            .and_then(|c| c.threads(i64::from(threads.max(1))))
            .and_then(|c| c.max_memory(memory_limit))
            .and_then(|c| c.enable_autoload_extension(false))
            .and_then(|c| c.with("allow_community_extensions", "false"))
            .and_then(|c| c.enable_external_access(false))
            .and_then(|c| c.with("lock_configuration", "true"))
            .map_err(|e| {
                err(format!(
                    "invalid sandbox setting ({e}); check validation.threads/memory_limit"
                ))
            })?;
        let conn = Connection::open_with_flags(db, config).map_err(|e| err(e.to_string()))?;
        Ok(Self {
            conn,
            _spill: spill,
        })
    }

    /// Run `sql` (the caller checked it with the gate) with a deadline, keeping at most
    /// `max_rows` rows and `max_bytes` bytes (`truncated` is set when fetching stopped).
    pub fn fetch(
        &self,
        sql: &str,
        deadline: Duration,
        max_rows: usize,
        max_bytes: usize,
    ) -> Result<Execution, ExecError> {
        self.with_deadline(deadline, |stop| self.fetch_all(sql, max_rows, max_bytes, stop))
    }

    /// Is the connection still locked down as it was opened (the pool's check before it
    /// hands a reused connection out)? Also false when the connection cannot run a query.
    pub fn intact(&self) -> bool {
        self.conn
            .query_row(
                "SELECT current_setting('lock_configuration')::VARCHAR, \
                 current_setting('enable_external_access')::VARCHAR, \
                 current_setting('access_mode')::VARCHAR",
                [],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)),
            )
            .is_ok_and(|(lock, ext, mode)| {
                lock == "true" && ext == "false" && mode.eq_ignore_ascii_case("read_only")
            })
    }

    fn fetch_all(&self, sql: &str, max_rows: usize, max_bytes: usize, stop: &AtomicBool) -> duckdb::Result<(ResultSet, bool)> {
        let mut stmt = self.conn.prepare(sql)?;
        let mut rows_out = Vec::new();
        let mut truncated = false;
        let mut bytes = 0usize;
        {
            let mut rows = stmt.query([])?;
            let width = rows.as_ref().map(|s| s.column_count()).unwrap_or(0);
            'rows: while let Some(row) = rows.next()? {
                // Past the deadline: stop converting rows (the result is a timeout anyway).
                if rows_out.len() >= max_rows || stop.load(Ordering::Relaxed) {
                    truncated = true;
                    break;
                }
                let mut cells = Vec::with_capacity(width);
                for i in 0..width {
                    bytes = bytes.saturating_add(cell_bytes(&row.get_ref(i)?));
                    if bytes > max_bytes {
                        truncated = true;
                        break 'rows;
                    }
                    cells.push(Cell::from(row.get::<_, duckdb::types::Value>(i)?));
                }
                rows_out.push(cells);
            }
        }
        let names = stmt.column_names();
        let columns = names
            .into_iter()
            .enumerate()
            .map(|(i, name)| {
                let lt = stmt.column_logical_type(i);
                let id = lt.id();
                let dec = (id == duckdb::core::LogicalTypeId::Decimal)
                    .then(|| (lt.decimal_width(), lt.decimal_scale()));
                let (type_name, class) = describe_type(id, dec);
                ColumnInfo {
                    name,
                    type_name,
                    class,
                }
            })
            .collect();
        Ok((
            ResultSet {
                columns,
                rows: rows_out,
            },
            truncated,
        ))
    }

    /// Run `f` while a watchdog thread interrupts the connection at the deadline, and
    /// again every [`WATCHDOG_TICK`] until `f` returns. `f` gets the "deadline passed" flag.
    fn with_deadline(
        &self,
        deadline: Duration,
        f: impl FnOnce(&AtomicBool) -> duckdb::Result<(ResultSet, bool)>,
    ) -> Result<Execution, ExecError> {
        let handle = self.conn.interrupt_handle();
        let state = Arc::new((Mutex::new(Watch::default()), Condvar::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let watch = Arc::clone(&state);
        let stop_w = Arc::clone(&stop);
        let watchdog = std::thread::spawn(move || {
            let (lock, cvar) = &*watch;
            let end = Instant::now() + deadline;
            let mut w = lock.lock().unwrap_or_else(|e| e.into_inner());
            while !w.done {
                let now = Instant::now();
                let wait = if now >= end {
                    // Interrupt while holding the lock: the query cannot be marked done
                    // (and the connection reused) between the check and the interrupt.
                    // Repeated: an interrupt that lands while DuckDB is still planning
                    // (constant folding `repeat('x', 1e9)`) is cleared when execution starts.
                    w.fired = true;
                    stop_w.store(true, Ordering::Relaxed);
                    handle.interrupt();
                    WATCHDOG_TICK
                } else {
                    (end - now).min(WATCHDOG_TICK)
                };
                w = cvar.wait_timeout(w, wait).unwrap_or_else(|e| e.into_inner()).0;
            }
        });
        let started = Instant::now();
        let outcome = f(&stop);
        let elapsed = started.elapsed();
        let fired = {
            let (lock, cvar) = &*state;
            let mut w = lock.lock().unwrap_or_else(|e| e.into_inner());
            w.done = true;
            cvar.notify_all();
            w.fired
        };
        let _ = watchdog.join();
        match outcome {
            // A deadline hit counts as a timeout even if the query squeezed through.
            _ if fired => Err(ExecError::Timeout(deadline)),
            Ok((result, truncated)) => Ok(Execution {
                result,
                elapsed,
                truncated,
            }),
            Err(e) => Err(ExecError::Failed(e.to_string())),
        }
    }
}

#[derive(Default)]
struct Watch {
    done: bool,
    fired: bool,
}
