//! Cancellation: Ctrl+C (SIGINT) or SIGTERM stops new work; in-flight LLM calls are
//! abandoned (their generations stay unrecorded, so `--resume` redoes them) and the
//! summary is written from what did complete.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

#[derive(Clone, Default)]
pub struct Cancel {
    flag: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

impl Cancel {
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Resolves once cancelled.
    pub async fn cancelled(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }

    /// Cancel on SIGINT or SIGTERM (spawned on the runtime). The first signal stops new
    /// work and interrupts every running DuckDB query (`crate::stop`); the summary is
    /// written from what completed. If qt has not ended [`GRACE`] later (DuckDB busy where
    /// it checks no interrupt, e.g. parsing a huge statement), it exits 130 anyway; a second
    /// signal exits 130 at once.
    pub fn listen_for_signals(&self) {
        let me = self.clone();
        tokio::spawn(async move {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal};
                let (Ok(mut int), Ok(mut term)) =
                    (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
                else {
                    return;
                };
                tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
                crate::errln!(
                    "\ninterrupt received: stopping new work, writing a true summary (exits within {} s; Ctrl+C again to force)",
                    GRACE.as_secs()
                );
                me.cancel();
                crate::stop::request_stop();
                std::thread::spawn(|| {
                    std::thread::sleep(GRACE);
                    crate::errln!("still not stopped {} s after the signal: exiting now; --resume continues", GRACE.as_secs());
                    force_exit();
                });
                tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
                force_exit();
            }
            #[cfg(not(unix))]
            {
                let _ = tokio::signal::ctrl_c().await;
                me.cancel();
                crate::stop::request_stop();
            }
        });
    }
}

/// How long after the first signal qt may take to end by itself.
pub const GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Exit 130 now: stdout flushed, no exit handler run under a busy DuckDB thread.
fn force_exit() -> ! {
    let code = crate::stdio::finish(crate::error::EXIT_INTERRUPTED);
    crate::stop::exit_now(code)
}
