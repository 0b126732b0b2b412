//! Writing to stdout and stderr without ever panicking: `qt plan ... | head -1`,
//! `qt run --json | true`, `> /dev/full` and a closed stdout all end quietly.
//!
//! `println!` panics when a write fails (EPIPE once the reader is gone, ENOSPC on
//! `/dev/full`). Commands print through [`outln!`](crate::outln) instead: the first failure
//! is remembered and later lines are dropped. At exit, [`finish`] turns the remembered
//! failure into the exit code: a reader that went away (EPIPE) is not an error (exit code
//! unchanged, like `head` expects); any other failure (disk full) is exit 1 with the errno
//! on stderr. [`guard_std_fds`] reopens closed fds 0-2 on /dev/null so that a file qt opens
//! later (the DB, a gen folder) can never become "stdout". A panic hook is the last
//! backstop: a stray `println!` that hits EPIPE ends the process quietly, not with a
//! backtrace.

use std::io::{self, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

static BROKEN: AtomicBool = AtomicBool::new(false);
static FAILURE: Mutex<Option<(io::ErrorKind, String)>> = Mutex::new(None);

/// Write one line to stdout; after a failure, nothing more is written. Secrets are
/// removed first (`redact.rs`): console lines and `--json` documents alike.
pub fn write_line(text: &str) {
    if BROKEN.load(Ordering::Relaxed) {
        return;
    }
    let text = crate::redact::redact_text(text);
    let mut out = io::stdout().lock();
    let r = out.write_all(text.as_bytes()).and_then(|_| out.write_all(b"\n")).and_then(|_| out.flush());
    if let Err(e) = r {
        remember(e);
    }
}

/// Write one line to stderr, ignoring failures (there is nowhere left to report them).
/// Secrets are removed first (`redact.rs`).
pub fn write_err_line(text: &str) {
    let text = crate::redact::redact_text(text);
    let mut err = io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|_| err.write_all(b"\n"));
}

fn remember(e: io::Error) {
    BROKEN.store(true, Ordering::Relaxed);
    let mut f = FAILURE.lock().unwrap_or_else(|p| p.into_inner());
    if f.is_none() {
        *f = Some((e.kind(), e.to_string()));
    }
}

/// True once a write to stdout failed (later lines are dropped).
pub fn is_broken() -> bool {
    BROKEN.load(Ordering::Relaxed)
}

/// The exit code after stdout's fate is known: a vanished reader keeps `code`; a
/// failed write (ENOSPC, EIO) turns success into 1 and says so on stderr.
pub fn finish(code: i32) -> i32 {
    if !is_broken() {
        if let Err(e) = io::stdout().lock().flush() {
            remember(e);
        }
    }
    let f = FAILURE.lock().unwrap_or_else(|p| p.into_inner()).clone();
    match f {
        None => code,
        Some((io::ErrorKind::BrokenPipe, _)) => code,
        Some((_, msg)) => {
            write_err_line(&format!("error: cannot write to stdout: {msg}; check where stdout goes (disk full?)"));
            if code == crate::error::EXIT_OK { crate::error::EXIT_FAILURE } else { code }
        }
    }
}

/// Reopen any of fds 0, 1, 2 that is closed on /dev/null (`qt ... >&-`).
pub fn guard_std_fds() {
    #[cfg(unix)]
    for fd in 0..=2 {
        // SAFETY: fcntl/open/dup2/close on plain integers; no memory is shared.
        unsafe {
            if libc::fcntl(fd, libc::F_GETFD) == -1 {
                let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
                if null >= 0 && null != fd {
                    libc::dup2(null, fd);
                    libc::close(null);
                }
            }
        }
    }
}

/// Panic hook: a `println!` that lost its reader exits quietly (0, or 1 for a full disk)
/// instead of printing a backtrace; every other panic keeps the default report.
pub fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.starts_with("failed printing to stdout") {
            let code = if msg.contains("Broken pipe") { crate::error::EXIT_OK } else { crate::error::EXIT_FAILURE };
            if code != 0 {
                write_err_line(&format!("error: cannot write to stdout ({msg})"));
            }
            std::process::exit(code);
        }
        if msg.starts_with("failed printing to stderr") {
            std::process::exit(crate::error::EXIT_FAILURE);
        }
        default(info);
    }));
}

/// `println!` that never panics (see the module doc).
#[macro_export]
macro_rules! outln {
    () => { $crate::stdio::write_line("") };
    ($($t:tt)*) => { $crate::stdio::write_line(&format!($($t)*)) };
}

/// `eprintln!` that never panics.
#[macro_export]
macro_rules! errln {
    ($($t:tt)*) => { $crate::stdio::write_err_line(&format!($($t)*)) };
}
