//! Advisory locks (flock) so that one process writes a run folder at a time.
//!
//! [`FolderLock::acquire`] takes an exclusive, non-blocking flock on `<dir>/.lock` and
//! writes "pid host start-time" into it; a second process gets [`LockError::InUse`]
//! naming the owner. The kernel drops a flock when its process dies (even by kill -9), so
//! a lock file still holding an owner line when we get the lock was left by a dead
//! process: that is reported as a takeover. On a clean release the owner line is
//! emptied; the file itself is never removed (removing it would let two processes lock
//! two different files of the same name).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::wait::{Wait, WaitError};

/// Name of the lock file inside a locked folder.
pub const LOCK_FILE: &str = ".lock";

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{dir} is in use by {owner}; wait for it to finish (or stop it) and try again")]
    InUse { dir: PathBuf, owner: String },
    #[error("cannot lock {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// An exclusive lock, held until dropped.
#[derive(Debug)]
pub struct FolderLock {
    file: File,
    path: PathBuf,
    /// Who held it before, when that process died without releasing it.
    pub stale_owner: Option<String>,
}

/// The current host name (for lock owner lines).
pub fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into our buffer.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    if ok && end > 0 { String::from_utf8_lossy(&buf[..end]).into_owned() } else { "unknown-host".into() }
}

/// Try an exclusive flock on `file`: Ok(true) taken, Ok(false) held by someone else.
pub fn try_flock(file: &File) -> io::Result<bool> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on an fd we own.
    let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) { Ok(false) } else { Err(e) }
}

/// Why [`flock_wait`] ended without the lock.
#[derive(Debug, thiserror::Error)]
pub enum FlockWaitError {
    #[error("cannot lock {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Wait(#[from] WaitError),
}

/// Exclusive flock on `file` (the lock file at `path`), waited for by polling
/// [`try_flock`] under `wait`'s policy (told, bounded, ended by a stop request): a blocking
/// flock could not be ended by a signal. The holder is named by the owner line it wrote.
pub fn flock_wait(file: &File, path: &Path, wait: &mut Wait<'_>) -> Result<(), FlockWaitError> {
    loop {
        match try_flock(file) {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => return Err(FlockWaitError::Io { path: path.to_path_buf(), source }),
        }
        let owner = std::fs::read_to_string(path).ok().and_then(|t| owner_line(&t)).unwrap_or_else(|| "another qt process".into());
        wait.pause(&owner, FLOCK_POLL)?;
    }
}

/// How often [`flock_wait`] tries again.
const FLOCK_POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// The owner line a lock holder writes: "pid host [start time]".
pub fn owner_text() -> String {
    format!("{} {} {}\n", std::process::id(), host_name(), chrono::Local::now().to_rfc3339())
}

pub fn owner_line(text: &str) -> Option<String> {
    let mut parts = text.split_whitespace();
    let (pid, host) = (parts.next()?, parts.next()?);
    Some(format!("pid {pid} on {host}"))
}

impl FolderLock {
    /// Lock `dir` (which must exist) or say who holds it.
    pub fn acquire(dir: &Path) -> Result<FolderLock, LockError> {
        let path = dir.join(LOCK_FILE);
        let io_err = |source| LockError::Io { path: path.clone(), source };
        let mut file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io_err)?;
        let mut previous = String::new();
        if !try_flock(&file).map_err(io_err)? {
            let _ = file.read_to_string(&mut previous);
            let owner = owner_line(&previous).unwrap_or_else(|| "another qt process".into());
            return Err(LockError::InUse { dir: dir.to_path_buf(), owner });
        }
        let _ = file.read_to_string(&mut previous);
        let stale_owner = owner_line(&previous);
        let me = owner_text();
        file.set_len(0)
            .and_then(|_| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(me.as_bytes()))
            .and_then(|_| file.sync_data())
            .map_err(io_err)?;
        Ok(FolderLock { file, path, stale_owner })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        // Still holding the lock: empty the owner line, then closing the file unlocks.
        let _ = self.file.set_len(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_and_named() {
        let t = tempfile::tempdir().unwrap();
        let a = FolderLock::acquire(t.path()).unwrap();
        assert!(a.stale_owner.is_none());
        let e = FolderLock::acquire(t.path()).unwrap_err();
        assert!(e.to_string().contains(&format!("pid {}", std::process::id())), "{e}");
        drop(a);
        let b = FolderLock::acquire(t.path()).unwrap();
        assert!(b.stale_owner.is_none(), "a clean release leaves no owner");
    }

    #[test]
    fn leftover_owner_line_is_a_takeover() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join(LOCK_FILE), "999999 deadhost 2026-01-01\n").unwrap();
        let l = FolderLock::acquire(t.path()).unwrap();
        assert_eq!(l.stale_owner.as_deref(), Some("pid 999999 on deadhost"));
    }
}
