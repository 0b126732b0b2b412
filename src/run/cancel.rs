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

    /// Cancel on SIGINT or SIGTERM (spawned on the runtime).
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
            }
            #[cfg(not(unix))]
            let _ = tokio::signal::ctrl_c().await;
            crate::errln!("\ninterrupt received: stopping new work, writing a true summary (Ctrl+C again to force)");
            me.cancel();
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal};
                if let Ok(mut int) = signal(SignalKind::interrupt()) {
                    int.recv().await;
                    std::process::exit(crate::error::EXIT_INTERRUPTED);
                }
            }
        });
    }
}
