//! Ctrl+C (SIGINT) and SIGTERM, the same for every command. The first signal asks the
//! process to stop (`crate::stop::signal_received`: new DuckDB work refused, running
//! queries interrupted, waits for locks ended, `qt run` cancelled so that it writes a true
//! summary) and starts a grace timer: if qt has not ended [`GRACE`] later (DuckDB busy
//! where it checks no interrupt, e.g. planning a huge statement), it exits 130 at once,
//! through `_exit` so that no static destructor of DuckDB runs under the busy thread (the
//! heap corruption `crate::stop` prevents). A second signal exits 130 at once. A command
//! that ends by itself after the signal exits 130 too (`main`).

use std::time::Duration;

/// How long after the first signal qt may take to end by itself.
pub const GRACE: Duration = Duration::from_secs(10);

/// Listen for SIGINT/SIGTERM for the rest of the process; `what` says what stopping means
/// for this command ("stopping new work, writing a true summary"). The handlers are in
/// place when this returns (a signal sent right after is never the default kill).
pub fn install(what: &'static str) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_io().build() else { return };
        let streams = {
            let _in_runtime = rt.enter();
            (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
        };
        let (Ok(mut int), Ok(mut term)) = streams else { return };
        let listener = move || {
            rt.block_on(async move {
                tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
                crate::errln!(
                    "\ninterrupt received: {what} (qt exits within {} s; Ctrl+C again to force)",
                    GRACE.as_secs()
                );
                crate::stop::signal_received();
                let _ = std::thread::Builder::new().name("qt-grace".into()).spawn(|| {
                    std::thread::sleep(GRACE);
                    crate::errln!("still not stopped {} s after the signal: exiting now", GRACE.as_secs());
                    force_exit();
                });
                tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
                force_exit();
            })
        };
        let _ = std::thread::Builder::new().name("qt-signals".into()).spawn(listener);
    }
    #[cfg(not(unix))]
    let _ = what;
}

/// Exit 130 now: stdout flushed, no exit handler run under a busy DuckDB thread.
fn force_exit() -> ! {
    let code = crate::stdio::finish(crate::error::EXIT_INTERRUPTED);
    crate::stop::exit_now(code)
}
