//! `qt bench`: flags -> [`BenchOptions`], then `bench::run`.

use super::cli::BenchArgs;
use crate::bench::{self, BenchOptions};

pub fn bench(a: &BenchArgs) -> anyhow::Result<i32> {
    let bad = |m: String| anyhow::Error::new(crate::error::BadInput(m));
    let sample = a
        .sample_db
        .split_once(':')
        .and_then(|(s, f)| Some((s.trim().parse::<f64>().ok()?, f.trim().parse::<f64>().ok()?)))
        .filter(|(s, f)| *s > 0.0 && *f > 0.0 && *f <= 1.0)
        .ok_or_else(|| bad(format!("--sample-db {}: expected SCALE:FRACTION, e.g. 100:0.01", a.sample_db)))?;
    if !(a.full_scale.is_finite() && a.full_scale > 0.0 && a.full_scale <= 1000.0) {
        return Err(bad(format!("--full-scale {}: expected a scale such as 10", a.full_scale)));
    }
    bench::run(&BenchOptions {
        confirm_dbs: bench::confirm::ConfirmBenchDbs { sample, full_scale: a.full_scale },
        which: a.which.clone(),
        n_validated: a.n_validated,
        n_unvalidated: a.n_unvalidated,
        aa_runs: a.aa_runs,
        aa_workers: a.aa_workers,
        aa_scale: a.aa_scale,
        json: a.json.clone(),
        pg_url: a.pg_url.clone(),
        engines_duckdb: a.engines_duckdb.clone(),
    })
}
