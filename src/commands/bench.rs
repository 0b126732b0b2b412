//! `qt bench`: flags -> [`BenchOptions`], then `bench::run`.

use super::cli::BenchArgs;
use crate::bench::{self, BenchOptions};

pub fn bench(a: &BenchArgs) -> anyhow::Result<i32> {
    bench::run(&BenchOptions {
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
