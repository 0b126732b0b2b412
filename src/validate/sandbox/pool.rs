//! Reused sandbox connections: opening a DuckDB instance per candidate costs more than
//! checking a small candidate, and a fresh instance starts with a cold buffer pool.
//!
//! [`checkout`] hands out an idle connection opened earlier for the same sample DB file
//! (same path, inode, size and modification time, so a regenerated file is never read through an
//! old connection), with the same `threads` and `memory_limit`; otherwise it opens one.
//! Before reuse a connection must still be locked down ([`Sandbox::intact`]: read-only,
//! no external access, configuration locked) and able to run a query; one that is not is
//! dropped. Statements are the only state a sandbox can hold (the gate lets nothing else
//! through), and they die with each execution, so nothing else needs resetting.
//!
//! The pool is process-wide and small ([`IDLE_CAP`] idle connections, oldest dropped
//! first). It does not decide how many checks run at once (run/ does).

use super::{OpenError, Sandbox};
use crate::db::{Target, TargetKey};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// Idle connections kept across all sample DBs.
pub const IDLE_CAP: usize = 6;

/// What a connection is interchangeable on: the database (for a file: path, inode, size
/// and modification time) and the session settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnKey {
    target: TargetKey,
    threads: u32,
    memory_limit: String,
}

impl ConnKey {
    pub fn new(db: impl Into<Target>, threads: u32, memory_limit: &str) -> Self {
        Self {
            target: db.into().key(),
            threads,
            memory_limit: memory_limit.to_string(),
        }
    }
}

/// A small list of idle connections with their keys, oldest first.
#[derive(Default)]
pub struct Idle(Vec<(ConnKey, Sandbox)>);

impl Idle {
    /// An idle connection for `key` that is still intact (broken ones are dropped).
    pub fn take(&mut self, key: &ConnKey) -> Option<Sandbox> {
        while let Some(i) = self.0.iter().rposition(|(k, _)| k == key) {
            let (_, sb) = self.0.remove(i);
            if sb.intact() {
                return Some(sb);
            }
        }
        None
    }

    pub fn put(&mut self, key: ConnKey, sb: Sandbox, cap: usize) {
        self.0.push((key, sb));
        while self.0.len() > cap {
            self.0.remove(0);
        }
    }
}

fn pool() -> &'static Mutex<Idle> {
    static POOL: OnceLock<Mutex<Idle>> = OnceLock::new();
    POOL.get_or_init(|| Mutex::new(Idle::default()))
}

/// A checked-out connection; goes back to the pool when dropped.
pub struct Pooled {
    key: ConnKey,
    sb: Option<Sandbox>,
}

impl std::ops::Deref for Pooled {
    type Target = Sandbox;
    fn deref(&self) -> &Sandbox {
        match &self.sb {
            Some(sb) => sb,
            None => unreachable!("a Pooled always holds its sandbox until dropped"),
        }
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let Some(sb) = self.sb.take() {
            let mut idle = pool().lock().unwrap_or_else(|e| e.into_inner());
            idle.put(self.key.clone(), sb, IDLE_CAP);
        }
    }
}

static OPENED: AtomicUsize = AtomicUsize::new(0);

/// Connections the pool has opened so far in this process (reuse shows as a count that
/// stops growing).
pub fn opened() -> usize {
    OPENED.load(Ordering::Relaxed)
}

/// A sandbox on `db` with these settings, reused when an intact one is idle.
pub fn checkout(db: impl Into<Target>, threads: u32, memory_limit: &str) -> Result<Pooled, OpenError> {
    let db = db.into();
    let key = ConnKey::new(&db, threads, memory_limit);
    // The intact check runs under the lock (a tiny query); opening runs outside it.
    let reused = pool().lock().unwrap_or_else(|e| e.into_inner()).take(&key);
    let sb = match reused {
        Some(sb) => sb,
        None => {
            let sb = Sandbox::open(&db, threads, memory_limit)?;
            OPENED.fetch_add(1, Ordering::Relaxed);
            sb
        }
    };
    Ok(Pooled { key, sb: Some(sb) })
}
