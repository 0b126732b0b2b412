//! Waiting for a lock another process holds: the one policy every wait loop of qt follows.
//!
//! A wait says who holds the lock when it starts and again every [`REPORT_EVERY`], ends as
//! soon as the process is asked to stop (`crate::stop`: Ctrl+C, SIGTERM, the end of a run),
//! and gives up after `QT_LOCK_WAIT_S` seconds (default [`DEFAULT_LIMIT`]) with an error
//! that names the holder and says what to do. It knows no lock: the caller tries its own
//! and calls [`Wait::pause`] between two tries. It prints nothing: what to say goes to the
//! caller's `report`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Environment variable: how many seconds a wait for a lock may last.
pub const LOCK_WAIT_ENV: &str = "QT_LOCK_WAIT_S";
/// How long a wait lasts without `QT_LOCK_WAIT_S` (a sample DB build takes minutes, a
/// shard's predecessor may need hours to notice it was replaced).
pub const DEFAULT_LIMIT: Duration = Duration::from_secs(6 * 3600);
/// How often a wait repeats who it waits for.
pub const REPORT_EVERY: Duration = Duration::from_secs(30);
/// Longest single sleep, so that a stop request ends a wait promptly.
const SLICE: Duration = Duration::from_millis(50);

#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    #[error(
        "gave up waiting for {} after {}: still held by {owner}; if that process is stuck or gone, \
         stop it (or delete {} once no qt uses it) and run again, or set {LOCK_WAIT_ENV} to wait longer",
        path.display(), human(*waited), path.display()
    )]
    TimedOut { path: PathBuf, owner: String, waited: Duration },
    #[error("stopped while waiting for {} (held by {owner})", path.display())]
    Stopped { path: PathBuf, owner: String },
    #[error("{LOCK_WAIT_ENV}={value:?} is not a number of seconds; set it to a whole number such as 3600, or unset it to wait up to 6 h")]
    BadLimit { value: String },
}

/// The wait bound from `QT_LOCK_WAIT_S` (default [`DEFAULT_LIMIT`]).
pub fn limit_from_env() -> Result<Duration, WaitError> {
    match std::env::var(LOCK_WAIT_ENV) {
        Err(_) => Ok(DEFAULT_LIMIT),
        Ok(v) => v.trim().parse::<u64>().map(Duration::from_secs).map_err(|_| WaitError::BadLimit { value: v }),
    }
}

/// "6 h", "90 s", "2 min".
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 && s % 3600 == 0 {
        format!("{} h", s / 3600)
    } else if s >= 60 && s % 60 == 0 {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}

/// A lock file's owner text as it may be shown on a terminal: control characters escaped.
pub fn shown(text: &str) -> String {
    let t: String = text.trim().chars().take(200).collect();
    t.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

/// One wait for the lock at `path`.
pub struct Wait<'a> {
    path: PathBuf,
    limit: Duration,
    started: Instant,
    next_report: Option<Instant>,
    report: Box<dyn FnMut(&str) + Send + 'a>,
}

impl<'a> Wait<'a> {
    /// A wait bounded by `QT_LOCK_WAIT_S`.
    pub fn new(path: &Path, report: impl FnMut(&str) + Send + 'a) -> Result<Wait<'a>, WaitError> {
        Ok(Wait::with_limit(path, limit_from_env()?, report))
    }

    pub fn with_limit(path: &Path, limit: Duration, report: impl FnMut(&str) + Send + 'a) -> Wait<'a> {
        Wait { path: path.to_path_buf(), limit, started: Instant::now(), next_report: None, report: Box::new(report) }
    }

    /// Between two tries while `owner` holds the lock: reports (at once, then every
    /// [`REPORT_EVERY`]), then sleeps `poll`. Err when a stop was requested or the bound
    /// has passed: the caller returns it.
    pub fn pause(&mut self, owner: &str, poll: Duration) -> Result<(), WaitError> {
        let owner = shown(owner);
        let stopped = || WaitError::Stopped { path: self.path.clone(), owner: owner.clone() };
        if crate::stop::stop_requested() {
            return Err(stopped());
        }
        let waited = self.started.elapsed();
        if waited >= self.limit {
            return Err(WaitError::TimedOut { path: self.path.clone(), owner, waited: self.limit });
        }
        let now = Instant::now();
        if self.next_report.is_none_or(|t| now >= t) {
            let so_far = if waited >= Duration::from_secs(1) { format!("waited {}, ", human(Duration::from_secs(waited.as_secs()))) } else { String::new() };
            (self.report)(&format!(
                "waiting for {}: held by {owner}; {so_far}giving up after {} ({LOCK_WAIT_ENV}); Ctrl+C stops waiting",
                self.path.display(),
                human(self.limit)
            ));
            self.next_report = Some(now + REPORT_EVERY);
        }
        let end = now + poll.min(self.limit - waited);
        while Instant::now() < end {
            if crate::stop::stop_requested() {
                return Err(stopped());
            }
            std::thread::sleep(SLICE.min(end.saturating_duration_since(Instant::now())));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn a_wait_reports_the_owner_then_gives_up_at_its_bound() {
        let said = Arc::new(Mutex::new(Vec::<String>::new()));
        let s = said.clone();
        let path = Path::new("/tmp/x.lock");
        let mut w = Wait::with_limit(path, Duration::from_millis(300), move |m| s.lock().unwrap().push(m.into()));
        let start = Instant::now();
        let err = loop {
            if let Err(e) = w.pause("pid 7 on \u{1b}[31mhost", Duration::from_millis(20)) {
                break e;
            }
        };
        assert!(start.elapsed() >= Duration::from_millis(300));
        let said = said.lock().unwrap();
        assert_eq!(said.len(), 1, "told once at the start, again only every 30 s: {said:?}");
        assert!(said[0].contains("/tmp/x.lock") && said[0].contains("pid 7") && said[0].contains(LOCK_WAIT_ENV), "{}", said[0]);
        assert!(!said[0].contains('\u{1b}'), "owner text is escaped: {}", said[0]);
        let msg = err.to_string();
        assert!(matches!(err, WaitError::TimedOut { .. }), "{msg}");
        assert!(msg.contains("gave up waiting for /tmp/x.lock") && msg.contains("pid 7") && msg.contains(LOCK_WAIT_ENV), "{msg}");
    }

    #[test]
    fn bounds_are_told_in_units_people_read() {
        assert_eq!(human(DEFAULT_LIMIT), "6 h");
        assert_eq!(human(Duration::from_secs(120)), "2 min");
        assert_eq!(human(Duration::from_secs(1)), "1 s");
    }
}
