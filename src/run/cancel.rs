//! Cancellation: Ctrl+C (SIGINT) or SIGTERM (a stop request, `crate::stop`) stops new
//! work; in-flight LLM calls are abandoned (their generations stay unrecorded, so
//! `--resume` redoes them) and the summary is written from what did complete.

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

    /// Cancel when the process is asked to stop (the first SIGINT/SIGTERM,
    /// `commands/signals.rs`, which also ends the process if the run has not ended by
    /// itself 10 s later): new work stops and the summary is written from what completed.
    /// Hold the registration as long as the run.
    pub fn follow_stop(&self) -> crate::stop::Registration {
        let me = self.clone();
        let reg = crate::stop::register_interrupt(move || me.cancel());
        if crate::stop::stop_requested() {
            self.cancel(); // asked before we listened
        }
        reg
    }
}
