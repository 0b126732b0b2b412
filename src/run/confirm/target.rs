//! The full-size database a run's winners are confirmed on: a user's file or a generated
//! TPC-DS database (built once through the sample-DB cache and its lease, so a second
//! process waits instead of building it twice), opened read-only, and checked before any
//! LLM call is paid for: it is not the primary sample again, and every query binds there
//! (each table and column it reads exists).
//!
//! It runs nothing but that check; the stage (`stage.rs`) runs the candidates.

use anyhow::Context as _;
use std::path::PathBuf;

use crate::db::{self, GenSpec, Target};
use crate::error::BadInput;
use crate::spec::DbSource;
use crate::spec::confirm::ConfirmSpec;
use crate::validate::{ValidatorConfig, reads};

/// A resolved confirm DB.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmTarget {
    /// How records and the console name it: `tpcds sf10`, or the file name.
    pub label: String,
    /// Where it is read and timed (a DuckDB file today; any engine behind the seam).
    pub target: Target,
    /// The fingerprint hash (schema + row counts), recorded with every confirmation.
    pub fingerprint: String,
    pub file_size: u64,
    /// Content key for the baseline cache (fingerprint hash, size, mtime).
    pub key: String,
}

/// `tpcds sf10` (a sampled one: `tpcds sf100 sample 0.1`).
pub fn generated_label(g: &GenSpec) -> String {
    match g.effective_sample() {
        Some(s) => format!("{} sf{} sample {s}", g.benchmark, g.scale),
        None => format!("{} sf{}", g.benchmark, g.scale),
    }
}

impl ConfirmTarget {
    /// An existing database (fingerprinted read-only); one that cannot be opened is bad input.
    pub fn open(target: Target, label: Option<&str>) -> anyhow::Result<ConfirmTarget> {
        target.check_open().map_err(|e| BadInput(format!("confirm DB: {e}")))?;
        let fp = target.fingerprint().with_context(|| format!("fingerprinting the confirm DB {}", target.display()))?;
        let label = label.map(str::to_string).unwrap_or_else(|| target.short_label());
        Ok(ConfirmTarget {
            label,
            key: format!("{}:{}:{}", fp.sha256, fp.file_size, fp.mtime),
            fingerprint: fp.sha256,
            file_size: fp.file_size,
            target,
        })
    }

    /// The spec's confirm DB: its file, or the generated database (built once, cached;
    /// progress on stderr unless `quiet`).
    pub async fn resolve(spec: &ConfirmSpec, quiet: bool) -> anyhow::Result<ConfirmTarget> {
        match &spec.db {
            DbSource::Path(p) => ConfirmTarget::open(Target::from(p), None),
            DbSource::Postgres { url, password_env, password_file } => {
                // The password as for [database]: a key file, else the environment.
                let password = match password_file {
                    Some(f) => Some(
                        std::fs::read_to_string(f)
                            .map_err(|e| BadInput(format!("confirm DB: password_file {}: {e}", f.display())))?
                            .lines()
                            .next()
                            .unwrap_or("")
                            .trim()
                            .to_string(),
                    ),
                    None => std::env::var(password_env).ok(),
                };
                let t = Target::parse(url, password.filter(|p| !p.is_empty()))
                    .map_err(|e| BadInput(format!("confirm DB: {e}")))?;
                ConfirmTarget::open(t, None)
            }
            DbSource::Generate { .. } => {
                let g = spec.db.gen_spec().context("generated confirm DB")?;
                let label = generated_label(&g);
                if !quiet {
                    crate::errln!("confirm DB: {label} (built once into the cache, then reused)");
                }
                let path = tokio::task::spawn_blocking(move || db::ensure_generated_spec(&g, !quiet))
                    .await
                    .context("confirm DB generation task")??;
                ConfirmTarget::open(Target::from(path), Some(&label))
            }
        }
    }

    /// A confirmation on the primary sample itself would only repeat the screening:
    /// refused (same file, or same content fingerprint and size).
    pub fn refuse_primary(&self, primary: &Target) -> anyhow::Result<()> {
        let canon = |t: &Target| t.path().and_then(|p| std::fs::canonicalize(p).ok());
        let same_file = canon(primary).is_some() && canon(primary) == canon(&self.target);
        let same_content = primary.fingerprint().is_ok_and(|fp| fp.sha256 == self.fingerprint && fp.file_size == self.file_size);
        if same_file || same_content || *primary == self.target {
            return Err(BadInput(format!(
                "the confirm DB {} is the primary sample DB {}: confirming there would only repeat the screening; \
                 point validation.confirm.db (or --db) at a full-size database, e.g. db = {{ generate = {{ benchmark = \"tpcds\", scale = 10 }} }}",
                self.target.display(),
                primary.display()
            ))
            .into());
        }
        Ok(())
    }

    /// Every query must bind on the confirm DB: each table it reads on `primary` exists
    /// there (else the message names the table), then the engine binds the whole query
    /// (its message names a missing column). `queries`: (query id, file, the SQL validated).
    pub fn check_queries(&self, primary: Option<&Target>, queries: &[(String, PathBuf, String)]) -> anyhow::Result<()> {
        for (id, file, sql) in queries {
            if let Some(read) = primary.and_then(|p| reads::tables_read(p, sql)) {
                let names: Vec<String> = read.iter().map(|(n, _)| n.clone()).collect();
                let have = self.target.schema(&names).map_err(|e| BadInput(format!("confirm DB {}: {e}", self.target.display())))?;
                if let Some(missing) = names.iter().find(|n| !have.iter().any(|t| t.name.eq_ignore_ascii_case(n))) {
                    return Err(BadInput(format!(
                        "the confirm DB {} has no table {missing}, which query {id} ({}) reads; confirm on a full-size copy of the same schema",
                        self.target.display(),
                        file.display()
                    ))
                    .into());
                }
            }
            self.target.binds(sql).map_err(|e| {
                BadInput(format!(
                    "query {id} ({}) does not run on the confirm DB {}: {e}; confirm on a full-size copy of the same schema",
                    file.display(),
                    self.target.display()
                ))
            })?;
        }
        Ok(())
    }
}

/// The stage's own settings (`[validation.confirm]`, or `qt confirm`'s flags); each left
/// out takes `[validation]`'s value, except `threads` (every core: the stage runs alone).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageSettings {
    pub timing_rounds: Option<u32>,
    pub warmup: Option<u32>,
    pub timeout_factor: Option<f64>,
    pub original_timeout_s: Option<f64>,
    pub threads: Option<u32>,
    pub memory_limit: Option<String>,
}

impl From<&ConfirmSpec> for StageSettings {
    fn from(s: &ConfirmSpec) -> Self {
        StageSettings {
            timing_rounds: s.timing_rounds,
            warmup: s.warmup,
            timeout_factor: s.timeout_factor,
            original_timeout_s: s.original_timeout_s,
            threads: s.threads,
            memory_limit: s.memory_limit.clone(),
        }
    }
}

impl From<&crate::spec::ConfirmCfg> for StageSettings {
    fn from(s: &crate::spec::ConfirmCfg) -> Self {
        StageSettings {
            timing_rounds: s.timing_rounds,
            warmup: s.warmup,
            timeout_factor: s.timeout_factor,
            original_timeout_s: s.original_timeout_s,
            threads: s.threads,
            memory_limit: s.memory_limit.clone(),
        }
    }
}

/// The validator settings of the stage: `base` (`[validation]`) with `s` applied.
pub fn stage_config(base: &crate::spec::ValidationCfg, s: &StageSettings) -> ValidatorConfig {
    let mut v = base.clone();
    let cores = std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1);
    v.timing_rounds = s.timing_rounds.unwrap_or(v.timing_rounds);
    v.warmup = s.warmup.unwrap_or(v.warmup);
    v.timeout_factor = s.timeout_factor.unwrap_or(v.timeout_factor);
    v.original_timeout_s = s.original_timeout_s.unwrap_or(v.original_timeout_s);
    v.threads = s.threads.unwrap_or(cores);
    if let Some(m) = &s.memory_limit {
        v.memory_limit = m.clone();
    }
    ValidatorConfig::from_spec(&v)
}
