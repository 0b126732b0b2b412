//! A build lock that holds between processes on different hosts sharing a filesystem
//! (NFS, CephFS, Lustre, a Kubernetes volume), where `flock` may be local-only or refused.
//!
//! The lock is a file created with `O_EXCL` that names its owner (host, PID namespace,
//! pid, a random token). While it is held a heartbeat thread rewrites it every `beat`.
//! Waiters poll; they take the lock over when its owner is certainly dead (same host and
//! PID namespace, pid gone) or when the file has not changed for `stale_after` of the
//! waiter's own clock, so hosts never compare clocks (a file without an owner record, left
//! by a process killed right after creating it, is trusted for one `beat`). Taking over renames the stale file
//! away first (only one waiter's rename succeeds) and puts it back if it turns out to be
//! a fresh lock. Dropping a [`Lease`] stops the heartbeat and removes the file if it is
//! still its own.
//!
//! Waits follow `files::wait`: who holds the lock is told at once and every 30 s, Ctrl+C
//! or SIGTERM ends the wait, `QT_LOCK_WAIT_S` bounds it; a lock that cannot be read (a
//! directory, no permission) is an error naming it, never a retry.
//!
//! This file only locks; what is built under the lock is the caller's business.

use serde_json::{Value, json};
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::files::wait::{Wait, WaitError};

/// Timing of a lease: how often waiters look, how often the owner proves it is alive, and
/// how long an unchanged lock file is trusted.
#[derive(Debug, Clone, Copy)]
pub struct LeaseOptions {
    pub poll: Duration,
    pub beat: Duration,
    pub stale_after: Duration,
    /// How long to wait for a live owner; `None`: `QT_LOCK_WAIT_S` (default 6 h).
    pub wait_limit: Option<Duration>,
}

impl Default for LeaseOptions {
    fn default() -> Self {
        LeaseOptions { poll: Duration::from_millis(250), beat: Duration::from_secs(2), stale_after: Duration::from_secs(60), wait_limit: None }
    }
}

/// A held lock; released on drop.
pub struct Lease {
    path: PathBuf,
    token: String,
    stop: Arc<(Mutex<bool>, Condvar)>,
    beat: Option<JoinHandle<()>>,
}

/// This machine's host name ("unknown" if it cannot be read).
pub fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into a buffer we own.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// The PID namespace (containers on one host can share a host name but not pids).
fn pid_namespace() -> String {
    fs::read_link("/proc/self/ns/pid").map(|p| p.display().to_string()).unwrap_or_default()
}

fn owner_record(token: &str, beat: u64) -> Vec<u8> {
    let v = json!({"host": host_name(), "pid_ns": pid_namespace(), "pid": std::process::id(), "token": token, "beat": beat});
    serde_json::to_vec(&v).unwrap_or_default()
}

fn token_of(content: &[u8]) -> Option<String> {
    serde_json::from_slice::<Value>(content).ok()?["token"].as_str().map(str::to_string)
}

/// True when the record's owner ran on this host, in this PID namespace, and is gone.
fn owner_is_dead_here(content: &[u8]) -> bool {
    let Ok(v) = serde_json::from_slice::<Value>(content) else { return false };
    let same_place = v["host"].as_str() == Some(host_name().as_str()) && v["pid_ns"].as_str() == Some(pid_namespace().as_str());
    let Some(pid) = v["pid"].as_u64().and_then(|p| i32::try_from(p).ok()) else { return false };
    // SAFETY: kill with signal 0 only checks whether the process exists.
    same_place && unsafe { libc::kill(pid, 0) } != 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

/// What a waiter remembers of the lock file to notice a heartbeat.
#[derive(PartialEq)]
struct Snapshot {
    content: Vec<u8>,
    modified: Option<std::time::SystemTime>,
}

fn snapshot(path: &Path) -> io::Result<Snapshot> {
    let content = fs::read(path)?;
    let modified = fs::metadata(path).ok().and_then(|m| m.modified().ok());
    Ok(Snapshot { content, modified })
}

/// Move a stale lock out of the way. If what was moved is not the stale lock we judged
/// (someone took over in between), put it back when the name is still free.
fn break_lock(path: &Path, stale: &Snapshot) {
    let aside = path.with_file_name(format!(
        "{}.broken-{}",
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        rand::random::<u64>()
    ));
    if fs::rename(path, &aside).is_err() {
        return; // another waiter broke it first
    }
    let moved = fs::read(&aside).unwrap_or_default();
    if token_of(&moved) != token_of(&stale.content) {
        let _ = fs::hard_link(&aside, path);
    }
    let _ = fs::remove_file(&aside);
}

/// Why a lease could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error("cannot use the lock {}: {source}; {fix}", path.display())]
    Unusable { path: PathBuf, source: io::Error, fix: &'static str },
    #[error(transparent)]
    Wait(#[from] WaitError),
}

fn unusable(path: &Path, source: io::Error) -> LeaseError {
    let fix = if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        "it is a symbolic link, not a lock file: remove it (qt creates the lock file itself) and run again"
    } else if path.is_dir() {
        "it is a directory, not a lock file: remove it (qt creates the lock file itself) and run again"
    } else if source.kind() == io::ErrorKind::PermissionDenied {
        "give this user read and write access to it and its folder (or delete it once no qt uses it) and run again"
    } else {
        "check that its folder is writable (or delete it once no qt uses it) and run again"
    };
    LeaseError::Unusable { path: path.to_path_buf(), source, fix }
}

/// Who a lock record names: "pid 12 on host-a".
fn owner_of(content: &[u8]) -> String {
    let Ok(v) = serde_json::from_slice::<Value>(content) else { return "a process that wrote no owner record yet".into() };
    let pid = v["pid"].as_u64().map(|p| p.to_string()).unwrap_or_else(|| "?".into());
    format!("pid {pid} on {}", v["host"].as_str().unwrap_or("an unknown host"))
}

/// Wait until this process holds the lock at `path`, or until `done()` says the work is
/// already done (then `None`). `done` is checked before every attempt. The wait follows
/// `files::wait` (`report` is told who holds the lock at once and every 30 s; a stop
/// request or `QT_LOCK_WAIT_S` ends it with an error); a lock that cannot be read or
/// created (a directory, no permission) is an error naming it at once.
pub fn acquire(
    path: &Path,
    opts: LeaseOptions,
    done: impl Fn() -> bool,
    report: impl FnMut(&str) + Send,
) -> Result<Option<Lease>, LeaseError> {
    let token = format!("{:016x}", rand::random::<u64>());
    let mut seen: Option<(Snapshot, Instant)> = None;
    let mut wait = match opts.wait_limit {
        Some(limit) => Wait::with_limit(path, limit, report),
        None => Wait::new(path, report)?,
    };
    loop {
        if done() {
            return Ok(None);
        }
        match OpenOptions::new().write(true).create_new(true).open(path) {
            Ok(mut f) => {
                f.write_all(&owner_record(&token, 0)).map_err(|e| unusable(path, e))?;
                f.sync_all().map_err(|e| unusable(path, e))?;
                return Ok(Some(Lease::start(path, token, opts.beat)));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(unusable(path, e)),
        }
        let now = match snapshot(path) {
            Ok(now) => now,
            // Released between our two calls: try again at once (unless the name is a
            // link to nothing, which would be "taken" and "released" forever).
            Err(e) if e.kind() == io::ErrorKind::NotFound && fs::symlink_metadata(path).is_err() => {
                seen = None;
                continue;
            }
            Err(e) => return Err(unusable(path, e)),
        };
        if owner_is_dead_here(&now.content) {
            break_lock(path, &now);
            seen = None;
            continue;
        }
        // An owner writes its record right after creating the file: a file without one
        // for a heartbeat period was left by a process killed in between (or an older qt).
        let limit = if token_of(&now.content).is_some() { opts.stale_after } else { opts.beat };
        let owner = owner_of(&now.content);
        match &seen {
            Some((old, since)) if *old == now => {
                if since.elapsed() >= limit {
                    break_lock(path, &now);
                    seen = None;
                    continue;
                }
            }
            _ => seen = Some((now, Instant::now())),
        }
        wait.pause(&owner, opts.poll)?;
    }
}

impl Lease {
    fn start(path: &Path, token: String, every: Duration) -> Lease {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let (p, t, s) = (path.to_path_buf(), token.clone(), stop.clone());
        let beat = std::thread::spawn(move || {
            let mut n = 0u64;
            loop {
                let (lock, cvar) = &*s;
                let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
                let (guard, _) = cvar.wait_timeout_while(guard, every, |stopped| !*stopped).unwrap_or_else(|e| e.into_inner());
                if *guard {
                    return;
                }
                drop(guard);
                if fs::read(&p).ok().and_then(|c| token_of(&c)) != Some(t.clone()) {
                    return; // no longer ours: never write over someone else's lock
                }
                n += 1;
                // No create: a lock removed meanwhile stays removed.
                if let Ok(mut f) = OpenOptions::new().write(true).truncate(true).open(&p) {
                    let _ = f.write_all(&owner_record(&t, n));
                }
            }
        });
        Lease { path: path.to_path_buf(), token, stop, beat: Some(beat) }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        {
            let (lock, cvar) = &*self.stop;
            *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
            cvar.notify_all();
        }
        if let Some(h) = self.beat.take() {
            let _ = h.join();
        }
        if fs::read(&self.path).ok().and_then(|c| token_of(&c)).as_deref() == Some(self.token.as_str()) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn fast() -> LeaseOptions {
        LeaseOptions { poll: Duration::from_millis(10), beat: Duration::from_millis(30), stale_after: Duration::from_millis(400), wait_limit: None }
    }

    #[test]
    fn one_holder_at_a_time_and_released_on_drop() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("x.lock");
        let inside = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (p, inside, max) = (path.clone(), inside.clone(), max.clone());
                std::thread::spawn(move || {
                    let lease = acquire(&p, fast(), || false, |_| {}).unwrap().unwrap();
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    max.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(60));
                    inside.fetch_sub(1, Ordering::SeqCst);
                    drop(lease);
                })
            })
            .collect();
        for th in threads {
            th.join().unwrap();
        }
        assert_eq!(max.load(Ordering::SeqCst), 1);
        assert!(!path.exists(), "the last holder removed the lock file");
    }

    #[test]
    fn a_live_lease_outlasts_stale_after_and_done_ends_the_wait() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("x.lock");
        let held = acquire(&path, fast(), || false, |_| {}).unwrap().unwrap();
        let start = Instant::now();
        let flag = t.path().join("done");
        let f2 = flag.clone();
        let setter = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(900));
            fs::write(f2, "").unwrap();
        });
        // The heartbeat keeps the lock fresh well past stale_after; the waiter only
        // returns once the work is done.
        assert!(acquire(&path, fast(), || flag.exists(), |_| {}).unwrap().is_none());
        assert!(start.elapsed() >= Duration::from_millis(800));
        setter.join().unwrap();
        drop(held);
    }

    #[test]
    fn stale_locks_are_taken_over() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("x.lock");
        // Another host's lock whose heartbeat stopped: taken after stale_after.
        fs::write(&path, br#"{"host":"elsewhere","pid":1,"token":"old","beat":3}"#).unwrap();
        let start = Instant::now();
        let lease = acquire(&path, fast(), || false, |_| {}).unwrap().unwrap();
        assert!(start.elapsed() >= Duration::from_millis(400));
        drop(lease);
        // A dead process on this host: taken at once.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let rec = json!({"host": host_name(), "pid_ns": pid_namespace(), "pid": pid, "token": "dead"});
        fs::write(&path, rec.to_string()).unwrap();
        let start = Instant::now();
        let lease = acquire(&path, LeaseOptions { stale_after: Duration::from_secs(60), ..fast() }, || false, |_| {}).unwrap();
        assert!(lease.is_some() && start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn an_unusable_lock_is_an_error_naming_it_never_a_spin() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("x.lock");
        fs::create_dir(&path).unwrap();
        let p = path.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(acquire(&p, fast(), || false, |_| {}).map(|l| l.is_some()).map_err(|e| e.to_string()));
        });
        let got = rx.recv_timeout(Duration::from_secs(20)).expect("acquire on a directory returns, it does not spin");
        let e = got.unwrap_err();
        assert!(e.contains(&path.display().to_string()) && e.contains("directory") && e.contains("remove it"), "{e}");
        // A link to nothing: create_new sees a name, reading it finds no file.
        let dangling = t.path().join("y.lock");
        std::os::unix::fs::symlink(t.path().join("nowhere"), &dangling).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(acquire(&dangling, fast(), || false, |_| {}).map(|l| l.is_some()).map_err(|e| e.to_string()));
        });
        let e = rx.recv_timeout(Duration::from_secs(20)).expect("acquire on a dangling link returns").unwrap_err();
        assert!(e.contains("y.lock") && e.contains("symbolic link"), "{e}");
    }

    #[test]
    fn a_wait_for_a_live_owner_is_told_and_gives_up_at_its_bound() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("x.lock");
        let held = acquire(&path, fast(), || false, |_| {}).unwrap().unwrap();
        let said = Arc::new(Mutex::new(Vec::<String>::new()));
        let s = said.clone();
        let opts = LeaseOptions { wait_limit: Some(Duration::from_millis(800)), ..fast() };
        let e = acquire(&path, opts, || false, move |m| s.lock().unwrap().push(m.to_string())).err().expect("gives up").to_string();
        let me = format!("pid {} on {}", std::process::id(), host_name());
        assert!(e.contains("gave up waiting") && e.contains(&me) && e.contains("QT_LOCK_WAIT_S"), "{e}");
        let said = said.lock().unwrap();
        assert!(said.len() == 1 && said[0].contains(&me), "told who holds it, once: {said:?}");
        drop(held);
    }
}
