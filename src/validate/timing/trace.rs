//! A diagnostic trace of what runs while the lane times (`QT_LANE_TRACE=FILE`): one line
//! per timed execution and per piece of other work (correctness checks, recorder writes),
//! `kind gen start_us end_us` in microseconds since the process started tracing, so the
//! overlap of each timed round with other work can be measured instead of guessed.
//! Off (one relaxed load) unless the variable is set; never part of a record.

use std::io::Write as _;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

struct Trace {
    epoch: Instant,
    file: Mutex<std::fs::File>,
}

fn trace() -> Option<&'static Trace> {
    static T: OnceLock<Option<Trace>> = OnceLock::new();
    T.get_or_init(|| {
        let path = std::env::var_os("QT_LANE_TRACE")?;
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path).ok()?;
        Some(Trace { epoch: Instant::now(), file: Mutex::new(file) })
    })
    .as_ref()
}

/// Is tracing on?
pub fn enabled() -> bool {
    trace().is_some()
}

/// Record that `kind` (e.g. `O`, `C`, `check`, `record`) ran for generation `gen` from
/// `start` to now.
pub fn span(kind: &str, number: u32, start: Instant) {
    let Some(t) = trace() else { return };
    let us = |i: Instant| i.saturating_duration_since(t.epoch).as_micros();
    let line = format!("{kind} {number} {} {}\n", us(start), us(Instant::now()));
    if let Ok(mut f) = t.file.lock() {
        let _ = f.write_all(line.as_bytes());
    }
}
