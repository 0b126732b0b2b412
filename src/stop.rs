//! Stopping the process cleanly while DuckDB works on other threads.
//!
//! DuckDB is C++ linked into qt: `exit()` runs its static destructors. If another thread is
//! still inside DuckDB at that moment (a baseline of the original still running when every
//! LLM call failed fast, a validation abandoned by Ctrl+C), the destructors free memory that
//! thread is using: heap corruption at exit ("corrupted double-linked list", SIGSEGV under
//! `MALLOC_PERTURB_`). So:
//! - blocking work that may enter DuckDB holds a [`Busy`] guard while it runs;
//! - every live DuckDB connection registers its interrupt ([`register_interrupt`]), and so
//!   does anything else a stop must reach at once (`qt run`'s cancellation);
//! - [`request_stop`] (end of `qt run`, first SIGINT/SIGTERM) interrupts them all and makes
//!   the sandbox refuse new executions, so the work ends within a watchdog tick;
//! - [`exit`] waits (bounded) until nothing is busy and only then runs `exit()`; if DuckDB
//!   is still busy (stuck where it checks no interrupt, e.g. parsing), it ends the process
//!   with `_exit`, which runs no destructor under the running thread.
//!
//! The stop request is process-wide and sticky: qt runs one command per process.
//! This file knows nothing of DuckDB (the interrupts are closures) and prints nothing.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

static STOP: AtomicBool = AtomicBool::new(false);
static BUSY: AtomicUsize = AtomicUsize::new(0);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

type Interrupt = Box<dyn Fn() + Send + Sync>;
static INTERRUPTS: Mutex<Vec<(u64, Interrupt)>> = Mutex::new(Vec::new());

fn interrupts() -> MutexGuard<'static, Vec<(u64, Interrupt)>> {
    INTERRUPTS.lock().unwrap_or_else(|e| e.into_inner())
}

static SIGNALLED: AtomicBool = AtomicBool::new(false);

/// The first SIGINT/SIGTERM arrived: remember it (the exit code is 130) and stop.
pub fn signal_received() {
    SIGNALLED.store(true, Ordering::SeqCst);
    request_stop();
}

/// True once a SIGINT/SIGTERM asked the process to stop.
pub fn signalled() -> bool {
    SIGNALLED.load(Ordering::SeqCst)
}

/// True once a stop was requested: new DuckDB executions are refused, waits give up.
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Ask every running DuckDB execution to stop (now) and every later one not to start.
pub fn request_stop() {
    STOP.store(true, Ordering::SeqCst);
    interrupt_all();
}

/// Interrupt every registered connection (what is idle ignores it).
pub fn interrupt_all() {
    for (_, f) in interrupts().iter() {
        f();
    }
}

/// A registered interrupt; unregistered on drop (hold it no longer than the connection).
#[must_use = "the interrupt is unregistered when this is dropped"]
pub struct Registration(u64);

impl Drop for Registration {
    fn drop(&mut self) {
        interrupts().retain(|(id, _)| *id != self.0);
    }
}

/// Register how to interrupt one live connection.
pub fn register_interrupt(f: impl Fn() + Send + Sync + 'static) -> Registration {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    interrupts().push((id, Box::new(f)));
    Registration(id)
}

/// Held while a thread may be inside DuckDB (opening, querying, closing).
#[must_use = "the work counts as busy only while this is held"]
pub struct Busy(());

/// Mark the calling thread's work as busy until the guard drops.
pub fn busy() -> Busy {
    BUSY.fetch_add(1, Ordering::SeqCst);
    Busy(())
}

impl Drop for Busy {
    fn drop(&mut self) {
        BUSY.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How many guards are held.
pub fn busy_count() -> usize {
    BUSY.load(Ordering::SeqCst)
}

/// Wait until no work is busy, at most `limit`; true when idle.
pub fn wait_idle(limit: Duration) -> bool {
    let end = Instant::now() + limit;
    while busy_count() > 0 {
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    true
}

/// How long [`exit`] waits for busy work after interrupting it.
pub const EXIT_WAIT: Duration = Duration::from_secs(5);

/// End the process with `code` once no thread is inside DuckDB: busy work is interrupted
/// and waited for (at most [`EXIT_WAIT`]); if some is still running, the process ends with
/// `_exit` so no static destructor runs under it. Flush stdout/stderr before calling.
pub fn exit(code: i32) -> ! {
    if busy_count() > 0 {
        request_stop();
        if !wait_idle(EXIT_WAIT) {
            exit_now(code);
        }
    }
    std::process::exit(code)
}

/// End the process at once, without running exit handlers (DuckDB may be running).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit ends the process without running any handler; nothing after it runs.
    unsafe { libc::_exit(code) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn interrupts_are_called_until_unregistered_and_busy_is_counted() {
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        let reg = register_interrupt(move || {
            h.fetch_add(1, Ordering::SeqCst);
        });
        interrupt_all();
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        drop(reg);
        interrupt_all();
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        let b = busy();
        assert!(busy_count() >= 1);
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            drop(b);
        });
        t.join().unwrap();
    }
}
