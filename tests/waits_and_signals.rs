//! Every wait ends (issue 21): a wait for a lock says who holds it, gives up after
//! `QT_LOCK_WAIT_S`, and ends on SIGTERM; a lock that cannot be read is an error naming it
//! at once. A signal while DuckDB is busy where it checks no interrupt (planning) still
//! ends qt with 130, a grace period later. Bounds here are generous ("well under the time
//! the work would take"), never a measurement.

mod common;
use common::*;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Waits for `child` at most `limit`; kills it (and fails) when it is still running.
fn wait_at_most(mut child: Child, limit: Duration, what: &str) -> (Option<i32>, String, Duration) {
    let start = Instant::now();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code(), reader.join().unwrap(), start.elapsed());
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {limit:?}\n{}", reader.join().unwrap());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sigterm(child: &Child) {
    // SAFETY: kill sends a signal to the child we spawned (and still own).
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
}

/// CPU seconds the process has used (utime + stime from /proc).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    // After the command: state, ppid, ..., utime (field 14 of the line), stime (15).
    let f: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    let ticks = field(11) + field(12);
    // SAFETY: sysconf only reads a configuration value.
    ticks as f64 / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

fn generate_into(out: &Path) -> std::process::Command {
    let mut c = qt_std();
    c.args(["db", "generate", "--scale", "0.01", "--quiet", "--out"]).arg(out).stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

/// The lock `qt db generate --out X` takes: `X.lock`.
fn lock_of(out: &Path) -> PathBuf {
    PathBuf::from(format!("{}.lock", out.display()))
}

fn hold_lease(path: &Path) -> qt::db::lease::Lease {
    qt::db::lease::acquire(path, Default::default(), || false, |_| {}).unwrap().unwrap()
}

#[test]
fn a_lock_that_is_a_directory_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.duckdb");
    std::fs::create_dir(lock_of(&out)).unwrap();
    let child = generate_into(&out).spawn().unwrap();
    let (code, err, _) = wait_at_most(child, Duration::from_secs(60), "qt db generate on a directory lock");
    assert_eq!(code, Some(1), "{err}");
    let shown = lock_of(&out).display().to_string();
    assert!(err.contains(&shown) && err.contains("directory") && err.contains("remove it"), "{err}");
    assert!(!out.exists());
}

#[test]
fn a_wait_for_a_held_lock_names_the_holder_and_gives_up_after_qt_lock_wait_s() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.duckdb");
    let held = hold_lease(&lock_of(&out));
    let child = generate_into(&out).env("QT_LOCK_WAIT_S", "1").spawn().unwrap();
    let (code, err, _) = wait_at_most(child, Duration::from_secs(60), "qt db generate behind a held lock");
    drop(held);
    assert_eq!(code, Some(1), "{err}");
    let me = format!("pid {} on ", std::process::id());
    assert!(err.contains("waiting for") && err.contains(&me), "the wait names who holds the lock: {err}");
    assert!(err.contains("gave up waiting") && err.contains("QT_LOCK_WAIT_S"), "{err}");
    assert!(!out.exists());
    // A bound that is not a number is refused, naming the variable.
    let held = hold_lease(&lock_of(&out));
    let child = generate_into(&out).env("QT_LOCK_WAIT_S", "soon").spawn().unwrap();
    let (code, err, _) = wait_at_most(child, Duration::from_secs(60), "qt db generate with a bad bound");
    drop(held);
    assert_ne!(code, Some(0), "{err}");
    assert!(err.contains("QT_LOCK_WAIT_S=\"soon\""), "{err}");
}

#[test]
fn sigterm_ends_a_wait_for_a_lock_with_130() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.duckdb");
    let held = hold_lease(&lock_of(&out));
    let child = generate_into(&out).spawn().unwrap();
    // Waiting (the default bound is hours): the wait ends on the signal.
    std::thread::sleep(Duration::from_secs(2));
    sigterm(&child);
    let (code, err, _) = wait_at_most(child, Duration::from_secs(60), "qt db generate after SIGTERM");
    drop(held);
    assert_eq!(code, Some(130), "{err}");
    assert!(err.contains("stopped while waiting for") || err.contains("interrupt received"), "{err}");
}

fn tiny_db(dir: &Path) -> PathBuf {
    small_db(dir, "t.duckdb", "CREATE TABLE t AS SELECT range AS x FROM range(5)")
}

#[test]
fn the_timing_lock_wait_is_told_and_bounded_and_an_unusable_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_db(dir.path());
    let sql = dir.path().join("q.sql");
    std::fs::write(&sql, "SELECT x FROM t ORDER BY x").unwrap();
    let validate = |cache: &Path| {
        let mut c = qt_std();
        c.env("QT_CACHE_DIR", cache).env("QT_LOCK_WAIT_S", "1").args(["validate", "--rounds", "1", "--db"]);
        c.arg(&db).arg(&sql).arg(&sql).stdout(Stdio::null()).stderr(Stdio::piped());
        c
    };
    // Held by another process: told who, given up after the bound, timing goes on.
    let cache = dir.path().join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    let lock_path = cache.join("timing.lock");
    std::fs::write(&lock_path, format!("{} test-host\n", std::process::id())).unwrap();
    let lock = std::fs::File::open(&lock_path).unwrap();
    assert!(qt::files::lock::try_flock(&lock).unwrap());
    let (code, err, _) = wait_at_most(validate(&cache).spawn().unwrap(), Duration::from_secs(120), "qt validate behind the timing lock");
    assert!(matches!(code, Some(0 | 1)), "{err}");
    assert!(err.contains("waiting for") && err.contains(&format!("pid {} on test-host", std::process::id())), "{err}");
    assert!(err.contains("gave up waiting") && err.contains("without the machine-wide lock"), "{err}");
    drop(lock);
    // A directory where the lock file should be: named with the fix, timing goes on.
    let cache2 = dir.path().join("cache2");
    std::fs::create_dir_all(cache2.join("timing.lock")).unwrap();
    let (code, err, _) = wait_at_most(validate(&cache2).spawn().unwrap(), Duration::from_secs(120), "qt validate, timing.lock a directory");
    assert!(matches!(code, Some(0 | 1)), "{err}");
    let shown = cache2.join("timing.lock").display().to_string();
    assert!(err.contains(&shown) && err.contains("directory"), "{err}");
}

#[test]
fn sigterm_while_qt_is_busy_where_it_checks_no_stop_exits_130_within_the_grace_period() {
    // DuckDB's planning is bounded by the gate now (`db/constsize.rs`: the folds of a
    // query in all), so the busy case here is a data build at scale 1, tens of seconds of
    // generation and appends that look at no stop flag: the grace timer (or DuckDB's
    // interrupt of the appends) must end it with 130, well before the build would finish.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sf1.duckdb");
    let mut c = qt_std();
    c.args(["db", "generate", "--scale", "1", "--quiet", "--out"]).arg(&out).stdout(Stdio::null()).stderr(Stdio::piped());
    let child = c.spawn().unwrap();
    let start = Instant::now();
    while cpu_seconds(child.id()) < 1.5 {
        assert!(start.elapsed() < Duration::from_secs(60), "qt never got busy");
        std::thread::sleep(Duration::from_millis(100));
    }
    sigterm(&child);
    let (code, err, took) = wait_at_most(child, Duration::from_secs(90), "qt db generate after SIGTERM");
    assert_eq!(code, Some(130), "{err}");
    assert!(err.contains("interrupt received"), "{err}");
    assert!(took < Duration::from_secs(30), "the grace period is 10 s: {took:?}");
    assert!(!out.exists(), "a build cut short leaves no database behind");
}

#[test]
fn a_query_that_would_plan_for_minutes_is_refused_before_duckdb_sees_it() {
    // 400 folds of 999,999 elements, each under the per-function bound: about two minutes
    // of planning that no deadline interrupts, before the per-query total.
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_db(dir.path());
    let sql = dir.path().join("slow.sql");
    let terms: Vec<String> = (0..400).map(|i| format!("len(range({}))", 999_999 - i)).collect();
    std::fs::write(&sql, format!("SELECT {} AS s\n", terms.join(" + "))).unwrap();
    let out = qt().args(["validate", "--rounds", "1", "--db"]).arg(&db).arg(&sql).arg(&sql).timeout(Duration::from_secs(60)).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("4,000,000 per query"), "refused before planning (a timeout here means DuckDB planned it): {text}");
}
