//! The machine-wide timing lock: a flock on `<cache dir>/timing.lock` held around every
//! timed execution (with the process's own [`super::TimingLane`]), so that two qt
//! processes on one machine (`qt run`, `qt validate`, `qt bench`) queue their timed runs
//! instead of slowing each other down and corrupting both measurements.
//!
//! The wait follows `files::wait` (who holds it, told every 30 s; ended by Ctrl+C; bounded
//! by `QT_LOCK_WAIT_S`). If the lock cannot be used (read-only cache, a directory in its
//! place, odd file system) or the wait gives up, timing goes on without it, saying so once
//! with the fix: the lock protects measurement quality, never correctness.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::files::lock::{flock_wait, owner_text};
use crate::files::wait::Wait;

/// Name of the lock file in the cache dir.
pub const TIMING_LOCK_FILE: &str = "timing.lock";

pub fn lock_path() -> PathBuf {
    crate::db::cache_dir().join(TIMING_LOCK_FILE)
}

/// Held for the lifetime of the value; `None` inside when no lock could be taken.
pub struct MachineTimingLock(#[allow(dead_code)] Option<File>);

impl MachineTimingLock {
    /// Wait for the machine's timing lock (while another process times a query).
    pub fn acquire() -> MachineTimingLock {
        let path = lock_path();
        let _ = std::fs::create_dir_all(path.parent().unwrap_or(std::path::Path::new(".")));
        MachineTimingLock(take(&path).unwrap_or_else(|why| {
            if !crate::stop::stop_requested() {
                warn_once(&why);
            }
            None
        }))
    }
}

fn take(path: &Path) -> Result<Option<File>, String> {
    use std::io::{Seek, Write};
    let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path).map_err(|e| {
        let fix = if path.is_dir() { "it is a directory: remove it (qt creates the lock file)" } else { "check its permissions or delete it" };
        format!("cannot open the machine timing lock {}: {e}; {fix}", path.display())
    })?;
    let mut wait = Wait::new(path, |m| crate::errln!("{m}")).map_err(|e| e.to_string())?;
    flock_wait(&file, path, &mut wait).map_err(|e| e.to_string())?;
    // The owner line names this process to the next waiter (read only for messages).
    let _ = file.set_len(0).and_then(|_| file.rewind()).and_then(|_| file.write_all(owner_text().as_bytes()));
    Ok(Some(file))
}

fn warn_once(why: &str) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::SeqCst) {
        crate::errln!("warning: {why}; timing goes on without the machine-wide lock, so another qt process may disturb the measurements");
    }
}
