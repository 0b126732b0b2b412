//! `qt confirm DIR --db FILE`: flags checked (exit 2 naming the flag), then the
//! confirmation stage of run/ on every run folder of DIR (`run::confirm::confirm`).

use super::cli::ConfirmArgs;
use crate::error::BadInput;
use crate::run::confirm::{self, ConfirmOptions};

pub fn confirm(a: &ConfirmArgs) -> anyhow::Result<i32> {
    let bad = |m: String| anyhow::Error::new(BadInput(m));
    if let Some(k) = a.top.filter(|k| !(1..=crate::spec::confirm::MAX_TOP).contains(k)) {
        return Err(bad(format!("--top {k}: confirm between 1 and {} candidates per query and arm", crate::spec::confirm::MAX_TOP)));
    }
    if let Some(x) = a.min_speedup.filter(|x| !(x.is_finite() && *x > 0.0)) {
        return Err(bad(format!("--min-speedup {x}: expected a positive number such as 1.1")));
    }
    if let Some(r) = a.rounds.filter(|r| *r > crate::spec::limits::MAX_TIMING_ROUNDS) {
        return Err(bad(format!("--rounds {r}: at most {}", crate::spec::limits::MAX_TIMING_ROUNDS)));
    }
    let max = crate::spec::limits::max_threads();
    if let Some(t) = a.threads.filter(|t| *t == 0 || *t > max) {
        return Err(bad(format!("--threads {t}: between 1 and {max} (4 x this machine's cores)")));
    }
    if !a.dir.is_dir() {
        return Err(bad(format!("{}: no such folder; pass a run folder (q<ID>_<stamp>) or an experiment's output folder", a.dir.display())));
    }
    confirm::confirm(&ConfirmOptions {
        dir: a.dir.clone(),
        db: a.db.clone(),
        label: a.label.clone(),
        top: a.top.map(|k| k as u32),
        min_speedup: a.min_speedup,
        rounds: a.rounds,
        threads: a.threads,
        json: a.json,
        quiet: a.quiet,
        fresh_baseline: a.fresh_baseline,
    })
}
