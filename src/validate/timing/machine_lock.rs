//! The machine-wide timing lock: a flock on `<cache dir>/timing.lock` held around every
//! timed execution (with the process's own [`super::TimingLane`]), so that two qt
//! processes on one machine (`qt run`, `qt validate`, `qt bench`) queue their timed runs
//! instead of slowing each other down and corrupting both measurements.
//!
//! If the lock file cannot be opened (read-only cache, odd file system) timing goes on
//! without it: the lock protects measurement quality, never correctness.

use std::fs::{File, OpenOptions};
use std::path::PathBuf;

/// Name of the lock file in the cache dir.
pub const TIMING_LOCK_FILE: &str = "timing.lock";

pub fn lock_path() -> PathBuf {
    crate::db::cache_dir().join(TIMING_LOCK_FILE)
}

/// Held for the lifetime of the value; `None` inside when no lock could be taken.
pub struct MachineTimingLock(#[allow(dead_code)] Option<File>);

impl MachineTimingLock {
    /// Wait for the machine's timing lock (blocks while another process times a query).
    pub fn acquire() -> MachineTimingLock {
        let path = lock_path();
        let _ = std::fs::create_dir_all(path.parent().unwrap_or(std::path::Path::new(".")));
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).ok();
        let file = file.filter(|f| crate::files::lock::flock_wait(f).is_ok());
        MachineTimingLock(file)
    }
}
