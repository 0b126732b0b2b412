//! Entry points around the validator for commands: `qt validate` (one original, one
//! candidate, printed verdict) and the A/A benchmark behind `qt bench`.
//!
//! Only argument checking and printing live here; the decisions are in `mod.rs`.

use super::{TimingLane, ValidatorConfig, Verdict, prepare_baseline, validate_candidate};
use std::path::Path;

/// `qt validate` from its CLI arguments: range-check the flags (exit 2 naming the flag),
/// then [`validate_cli`].
pub fn validate_cmd(a: &crate::cli::ValidateArgs) -> anyhow::Result<i32> {
    let max = crate::spec::limits::max_threads();
    if a.threads == 0 || a.threads > max {
        return Err(crate::error::BadInput(format!(
            "--threads {}: must be between 1 and {max} (4 x the {} cores of this machine)",
            a.threads,
            max / 4
        ))
        .into());
    }
    if a.rounds > crate::spec::limits::MAX_TIMING_ROUNDS {
        return Err(crate::error::BadInput(format!(
            "--rounds {}: at most {} paired rounds",
            a.rounds,
            crate::spec::limits::MAX_TIMING_ROUNDS
        ))
        .into());
    }
    if a.db.is_file() {
        crate::db::open_read_only(&a.db)
            .map_err(|e| crate::error::BadInput(format!("--db {}: {e}", a.db.display())))?;
    }
    let cfg = ValidatorConfig { timing_rounds: a.rounds, threads: a.threads, ..Default::default() };
    validate_cli(&a.db, &a.original, &a.candidate, a.json, cfg)
}

/// `qt validate --db FILE ORIGINAL.sql CANDIDATE.sql [--json]`: print the verdict and
/// return the exit code (0 pass, 1 otherwise). Missing files are `BadInput`.
pub fn validate_cli(
    db: &Path,
    original: &Path,
    candidate: &Path,
    json: bool,
    cfg: ValidatorConfig,
) -> anyhow::Result<i32> {
    let read = |p: &Path, what: &str| {
        std::fs::read_to_string(p).map_err(|e| {
            crate::error::BadInput(format!(
                "cannot read the {what} {}: {e}; check the path",
                p.display()
            ))
        })
    };
    if !db.is_file() {
        return Err(crate::error::BadInput(format!(
            "sample DB {} does not exist; pass an existing DuckDB file with --db",
            db.display()
        ))
        .into());
    }
    let original_sql = read(original, "original query")?;
    let candidate_sql = read(candidate, "candidate query")?;
    let lane = TimingLane::new();
    let verdict = match prepare_baseline(db, &original_sql, &cfg, &lane) {
        Ok(base) => validate_candidate(db, &base, &candidate_sql, &cfg, &lane),
        Err(v) => v,
    };
    if json {
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(&serde_json::Value::Object(verdict.to_json_fields()))?
        );
    } else {
        crate::outln!("{}", verdict.render_human());
    }
    Ok(if verdict.is_pass() {
        crate::error::EXIT_OK
    } else {
        crate::error::EXIT_FAILURE
    })
}

/// Benchmark (not a test): `runs` A/A validations (the original as its own candidate) per
/// `(name, sql)`; returns each query's speedups (empty when the baseline failed; NaN for
/// a run that did not pass). A trustworthy lane gives values near 1.0.
pub fn aa_bench(
    db: &Path,
    queries: &[(String, String)],
    runs: usize,
    cfg: &ValidatorConfig,
) -> Vec<(String, Vec<f64>)> {
    aa_bench_verdicts(db, queries, runs, cfg)
        .into_iter()
        .map(|(name, verdicts)| {
            (
                name,
                verdicts
                    .iter()
                    .map(|v| v.speedup().unwrap_or(f64::NAN))
                    .collect(),
            )
        })
        .collect()
}

/// Like [`aa_bench`] but keeps the whole verdicts (intervals, false wins); a failed
/// baseline gives a single verdict, the baseline's.
pub fn aa_bench_verdicts(
    db: &Path,
    queries: &[(String, String)],
    runs: usize,
    cfg: &ValidatorConfig,
) -> Vec<(String, Vec<Verdict>)> {
    let lane = TimingLane::new();
    queries
        .iter()
        .map(|(name, sql)| {
            let verdicts = match prepare_baseline(db, sql, cfg, &lane) {
                Ok(base) => (0..runs)
                    .map(|_| validate_candidate(db, &base, sql, cfg, &lane))
                    .collect(),
                Err(v) => vec![v],
            };
            (name.clone(), verdicts)
        })
        .collect()
}
