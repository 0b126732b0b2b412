//! Entry points around the validator for commands: `qt validate` (one original, one
//! candidate, printed verdict) and the A/A benchmark behind `qt bench`.
//!
//! Only printing lives here (flags are checked in `commands/validate.rs`); the decisions
//! are in `mod.rs`.

use super::instances::Instance;
use super::{TimingLane, ValidatorConfig, Verdict, prepare_baseline, validate_candidate};
use crate::db::Target;
use std::path::{Path, PathBuf};

/// `qt validate --db FILE ORIGINAL.sql CANDIDATE.sql [--json]`: print the verdict and
/// return the exit code (0 pass, 1 otherwise). Missing files are `BadInput`.
pub fn validate_cli(
    db: impl Into<Target>,
    original: &Path,
    candidate: &Path,
    json: bool,
    cfg: ValidatorConfig,
) -> anyhow::Result<i32> {
    validate_cli_multi(&[db.into()], original, candidate, json, cfg)
}

/// The sample DBs `qt validate` uses without `--db`: the default generated sample
/// (TPC-DS SF100 sampled 1%) and its default extra instances, built once and cached.
pub fn default_dbs(instances: u32) -> anyhow::Result<Vec<PathBuf>> {
    let primary = crate::db::GenSpec::sampled(100.0, 0.01, 1);
    let mut out = vec![crate::db::ensure_generated_spec(&primary, true)?];
    for g in primary.default_instances(instances.max(1)) {
        out.push(crate::db::ensure_generated_spec(&g, true)?);
    }
    Ok(out)
}

/// `qt validate --db A [--db B ...]`: the first DB is the primary (timed), the others are
/// extra instances the candidate must also agree with.
pub fn validate_cli_multi(
    dbs: &[Target],
    original: &Path,
    candidate: &Path,
    json: bool,
    cfg: ValidatorConfig,
) -> anyhow::Result<i32> {
    let Some(db) = dbs.first() else {
        return Err(crate::error::BadInput("no sample DB: pass --db FILE".into()).into());
    };
    let read = |p: &Path, what: &str| {
        crate::query::read_sql(p).map_err(|e| match e {
            crate::query::QueryError::Read { source, .. } => crate::error::BadInput(format!(
                "cannot read the {what} {}: {source}; check the path",
                p.display()
            )),
            e => crate::error::BadInput(format!("the {what}: {e}")),
        })
    };
    if db.path().is_some_and(|p| !p.is_file()) {
        return Err(crate::error::BadInput(format!(
            "sample DB {} does not exist; pass an existing DuckDB file with --db",
            db.display()
        ))
        .into());
    }
    let original_sql = read(original, "original query")?;
    let candidate_sql = read(candidate, "candidate query")?;
    for extra in &dbs[1..] {
        extra.check_open().map_err(|e| {
            crate::error::BadInput(format!("--db {}: {e}", extra.display()))
        })?;
    }
    let primary = Instance::of(db.clone(), db.short_label());
    let others: Vec<Instance> = dbs[1..].iter().map(|t| Instance::of(t.clone(), t.short_label())).collect();
    let lane = TimingLane::new();
    let verdict = super::multi::judge_file(&primary, &others, &original_sql, &candidate_sql, &cfg, &lane);
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
    db: impl Into<Target>,
    queries: &[(String, String)],
    runs: usize,
    cfg: &ValidatorConfig,
) -> Vec<(String, Vec<Verdict>)> {
    let db = db.into();
    let lane = TimingLane::new();
    queries
        .iter()
        .map(|(name, sql)| {
            let verdicts = match prepare_baseline(&db, sql, cfg, &lane) {
                Ok(base) => (0..runs)
                    .map(|_| validate_candidate(&db, &base, sql, cfg, &lane))
                    .collect(),
                Err(v) => vec![v],
            };
            (name.clone(), verdicts)
        })
        .collect()
}
