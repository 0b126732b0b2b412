//! The quiet gate: while the lane times, the rest of this process keeps off the CPU,
//! caches and memory bandwidth the timed query uses. The lane holds the gate exclusively
//! for a candidate's whole timing (warmup and rounds); correctness checks and the
//! recorder's writes hold it shared, so they run between timings, never during one.
//!
//! Why (measured with `QT_LANE_TRACE` on `qt bench --which aa_run`, 7 TPC-DS queries x 10
//! candidates at scale 1, load average ~11 on 2 cores): correctness checks of the next
//! candidates overlapped 28% of the lane's time and a timed execution that a check started
//! or ended beside ran 20-30% slower than its partner; the recorder's write of the
//! generation the lane had just finished always fell on the next candidate's first rounds,
//! so its cost landed on fixed positions of the O,C,C,O blocks instead of cancelling.
//! Checks are short next to a timing (about 2 executions against about 18), so running
//! them between timings costs little wall time.
//!
//! Waiting for the gate is writer-preferring: once the lane asks, new shared holders wait,
//! so checks cannot starve the lane; the lane never waits for anything while it holds it.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct State {
    shared: usize,
    exclusive: bool,
    exclusive_waiting: usize,
}

#[derive(Default)]
pub struct QuietGate {
    state: Mutex<State>,
    cv: Condvar,
}

impl QuietGate {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hold the gate alone (the lane): waits for the shared holders to finish.
    pub fn exclusive(&self) -> Exclusive<'_> {
        let mut s = self.lock();
        s.exclusive_waiting += 1;
        while s.exclusive || s.shared > 0 {
            s = self.cv.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        s.exclusive_waiting -= 1;
        s.exclusive = true;
        Exclusive(self)
    }

    /// Hold the gate beside other shared holders (work that must not overlap a timing):
    /// waits while the lane holds it or waits for it.
    pub fn shared(&self) -> Shared<'_> {
        self.shared_within(None).unwrap_or(Shared(None))
    }

    /// Like [`Self::shared`], but gives up after `limit` (returns a guard holding nothing):
    /// for work that must not stall behind a long timing, such as the recorder.
    pub fn shared_within(&self, limit: Option<Duration>) -> Option<Shared<'_>> {
        let end = limit.map(|l| Instant::now() + l);
        let mut s = self.lock();
        while s.exclusive || s.exclusive_waiting > 0 {
            match end {
                None => s = self.cv.wait(s).unwrap_or_else(|e| e.into_inner()),
                Some(end) => {
                    let now = Instant::now();
                    if now >= end {
                        return None;
                    }
                    s = self.cv.wait_timeout(s, end - now).unwrap_or_else(|e| e.into_inner()).0;
                }
            }
        }
        s.shared += 1;
        Some(Shared(Some(self)))
    }
}

/// The lane's hold on the gate.
pub struct Exclusive<'a>(&'a QuietGate);

impl Drop for Exclusive<'_> {
    fn drop(&mut self) {
        self.0.lock().exclusive = false;
        self.0.cv.notify_all();
    }
}

/// A shared hold on the gate (or nothing, when the wait was given up).
pub struct Shared<'a>(Option<&'a QuietGate>);

impl Drop for Shared<'_> {
    fn drop(&mut self) {
        if let Some(g) = self.0 {
            g.lock().shared -= 1;
            g.cv.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn shared_work_never_overlaps_the_exclusive_hold() {
        let gate = Arc::new(QuietGate::default());
        let timing = Arc::new(AtomicBool::new(false));
        let overlapped = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for i in 0..6 {
            let (gate, timing, overlapped) = (gate.clone(), timing.clone(), overlapped.clone());
            threads.push(std::thread::spawn(move || {
                for _ in 0..50 {
                    if i % 3 == 0 {
                        let _g = gate.exclusive();
                        timing.store(true, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_micros(200));
                        timing.store(false, Ordering::SeqCst);
                    } else {
                        let _g = gate.shared();
                        if timing.load(Ordering::SeqCst) {
                            overlapped.store(true, Ordering::SeqCst);
                        }
                        std::thread::sleep(Duration::from_micros(100));
                    }
                }
            }));
        }
        for t in threads {
            t.join().unwrap();
        }
        assert!(!overlapped.load(Ordering::SeqCst));
    }

    #[test]
    fn a_bounded_shared_wait_gives_up() {
        let gate = QuietGate::default();
        let _lane = gate.exclusive();
        let t = Instant::now();
        assert!(gate.shared_within(Some(Duration::from_millis(50))).is_none());
        assert!(t.elapsed() >= Duration::from_millis(50));
    }
}
