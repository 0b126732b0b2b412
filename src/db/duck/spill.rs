//! Spill folders of the sandboxes (DuckDB's `temp_directory`): under qt's cache dir
//! (`<cache>/spill/qt-spill-<pid>-XXXXXX`), never in /tmp and never next to the sample DB.
//!
//! A folder normally vanishes with its sandbox. A process killed by kill -9, or ended by
//! a signal while a validation thread still held one, leaves it behind; the first sandbox
//! a later qt process opens removes every spill folder whose owner pid is no longer alive.

use std::path::{Path, PathBuf};
use std::sync::Once;

const PREFIX: &str = "qt-spill-";

/// `<cache>/spill`.
pub fn spill_root() -> PathBuf {
    crate::db::cache_dir().join("spill")
}

/// A fresh spill folder for this process (removed on drop); sweeps dead owners' first.
pub fn spill_dir() -> std::io::Result<tempfile::TempDir> {
    let root = spill_root();
    std::fs::create_dir_all(&root)?;
    static SWEEP: Once = Once::new();
    SWEEP.call_once(|| {
        sweep_dead(&root);
    });
    tempfile::Builder::new().prefix(&format!("{PREFIX}{}-", std::process::id())).tempdir_in(&root)
}

/// The pid in a spill folder name `qt-spill-<pid>-XXXXXX`.
fn owner_pid(name: &str) -> Option<i32> {
    name.strip_prefix(PREFIX)?.split('-').next()?.parse().ok()
}

/// True when process `pid` exists (EPERM: exists, but not ours).
pub fn pid_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks for existence; nothing is delivered.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Remove spill folders under `root` whose owner is dead; returns how many.
pub fn sweep_dead(root: &Path) -> usize {
    let mut removed = 0;
    for e in std::fs::read_dir(root).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = owner_pid(&name) else { continue };
        if !pid_alive(pid) && std::fs::remove_dir_all(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_owners_are_swept_live_ones_kept() {
        let t = tempfile::tempdir().unwrap();
        let mine = t.path().join(format!("{PREFIX}{}-abc", std::process::id()));
        let dead = t.path().join(format!("{PREFIX}{}-xyz", i32::MAX - 1));
        std::fs::create_dir_all(&mine).unwrap();
        std::fs::create_dir_all(dead.join("sub")).unwrap();
        assert_eq!(sweep_dead(t.path()), 1);
        assert!(mine.exists() && !dead.exists());
    }
}
