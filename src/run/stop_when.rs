//! `generation.stop_when = { valid = 3, min_speedup = 1.2 }`: per query and arm, once
//! `valid` distinct passes with a screening speedup of at least `min_speedup` are recorded,
//! that (query, arm) issues no more LLM requests; its remaining generations are skipped
//! (reason `stop_when`). Identical candidates (`same_as`, validated once) count once.
//!
//! The recorder feeds every recorded generation in (and, on `--resume`, the ones already
//! on disk); generations ask [`StopWhen::is_met`] before they start and again when their
//! request's turn comes.

use serde_json::Value;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::spec::StopWhenCfg;

/// One query's early-stop state, per arm.
#[derive(Debug)]
pub struct StopWhen {
    cfg: Option<StopWhenCfg>,
    counts: Mutex<Vec<u32>>,
    met: Vec<AtomicBool>,
}

impl StopWhen {
    pub fn new(cfg: Option<StopWhenCfg>, arms: usize) -> StopWhen {
        StopWhen { cfg, counts: Mutex::new(vec![0; arms]), met: (0..arms).map(|_| AtomicBool::new(false)).collect() }
    }

    /// Does this recorded generation count toward `valid`?
    fn counts(cfg: &StopWhenCfg, record: &Value) -> bool {
        record["status"] == "pass"
            && record["same_as"].is_null()
            && cfg.min_speedup.is_none_or(|m| record["speedup"].as_f64().is_some_and(|s| s >= m))
    }

    /// Count a recorded generation of arm `arm`; true when this one met the condition.
    pub fn record(&self, arm: usize, record: &Value) -> bool {
        let Some(cfg) = &self.cfg else { return false };
        if arm >= self.met.len() || !Self::counts(cfg, record) {
            return false;
        }
        let n = {
            let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
            c[arm] += 1;
            c[arm]
        };
        n >= cfg.valid && !self.met[arm].swap(true, Ordering::SeqCst)
    }

    pub fn is_met(&self, arm: usize) -> bool {
        self.met.get(arm).is_some_and(|m| m.load(Ordering::SeqCst))
    }

    /// `3 distinct passes >= 1.20x`, for the console.
    pub fn describe(&self) -> String {
        match &self.cfg {
            Some(c) => match c.min_speedup {
                Some(m) => format!("{} distinct passes >= {m:.2}x", c.valid),
                None => format!("{} distinct passes", c.valid),
            },
            None => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_distinct_passes_fast_enough_per_arm() {
        let s = StopWhen::new(Some(StopWhenCfg { valid: 2, min_speedup: Some(1.2) }), 2);
        let pass = |x: f64| json!({"status": "pass", "speedup": x, "same_as": null});
        assert!(!s.record(0, &pass(1.1)), "too slow");
        assert!(!s.record(0, &json!({"status": "validation_failed", "speedup": null})));
        assert!(!s.record(0, &pass(1.5)));
        assert!(!s.record(0, &json!({"status": "pass", "speedup": 1.5, "same_as": "gen_03"})), "a copy counts once");
        assert!(!s.is_met(0));
        assert!(s.record(0, &pass(1.3)), "the second distinct pass >= 1.2x meets it");
        assert!(s.is_met(0) && !s.is_met(1), "per arm");
        assert!(!s.record(0, &pass(2.0)), "met once");
        let off = StopWhen::new(None, 1);
        assert!(!off.record(0, &pass(9.0)) && !off.is_met(0));
    }
}
