//! `qt validate`: flags checked (exit 2 naming the flag), then the validator's own
//! one-pair entry point (`validate::validate_cli_multi`) checks and prints the verdict.

use super::cli::ValidateArgs;
use crate::db::Target;
use crate::error::BadInput;
use crate::validate::{self, ValidatorConfig};

/// `qt validate` from its arguments: the given `--db`s, or the default generated ones.
pub fn validate(a: &ValidateArgs) -> anyhow::Result<i32> {
    check_flags(a)?;
    let cfg = ValidatorConfig {
        timing_rounds: a.rounds,
        threads: a.threads,
        min_rows: a.min_rows as usize,
        rebind_tries: a.rebind_tries as u32,
        ..Default::default()
    };
    if a.instances < 1 {
        return Err(BadInput(
            "--instances must be 1 or more (1 = the primary sample DB only)".into(),
        )
        .into());
    }
    let dbs = if a.db.is_empty() {
        validate::default_dbs(a.instances)?
    } else {
        a.db.clone()
    };
    let dbs = targets(&dbs)?;
    validate::validate_cli_multi(&dbs, &a.original, &a.candidate, a.json, cfg)
}

/// Range checks of `qt validate`'s flags (exit 2 naming the flag), and every `--db` must
/// be a DuckDB file (random bytes are bad input, not a failed validation).
fn check_flags(a: &ValidateArgs) -> Result<(), BadInput> {
    let max = crate::spec::limits::max_threads();
    if a.threads == 0 || a.threads > max {
        return Err(BadInput(format!(
            "--threads {}: must be between 1 and {max} (4 x the {} cores of this machine)",
            a.threads,
            max / 4
        )));
    }
    if a.rounds > crate::spec::limits::MAX_TIMING_ROUNDS {
        return Err(BadInput(format!(
            "--rounds {}: at most {} paired rounds",
            a.rounds,
            crate::spec::limits::MAX_TIMING_ROUNDS
        )));
    }
    use crate::spec::limits::{MAX_MIN_ROWS, MAX_REBIND_TRIES};
    if !(1..=MAX_MIN_ROWS).contains(&a.min_rows) {
        return Err(BadInput(format!("--min-rows {}: must be between 1 and {MAX_MIN_ROWS}", a.min_rows)));
    }
    if !(0..=MAX_REBIND_TRIES).contains(&a.rebind_tries) {
        return Err(BadInput(format!("--rebind-tries {}: must be between 0 and {MAX_REBIND_TRIES} (0 = never re-bind)", a.rebind_tries)));
    }
    for db in a.db.iter().filter(|d| !is_url(d)).filter(|d| d.is_file()) {
        Target::from(db).check_open().map_err(|e| BadInput(format!("--db {}: {e}", db.display())))?;
    }
    Ok(())
}

fn is_url(p: &std::path::Path) -> bool {
    crate::db::pg::is_pg_url(&p.to_string_lossy())
}

/// `--db` values as databases: DuckDB files, or PostgreSQL URLs (password from
/// `PGPASSWORD` when the URL has none), each server checked now (reachable, the tables
/// readable, a SELECT-only role): bad input naming the URL, password never shown.
pub(super) fn targets(dbs: &[std::path::PathBuf]) -> Result<Vec<Target>, BadInput> {
    let password = std::env::var("PGPASSWORD").ok();
    let secrets: Vec<String> = password.iter().cloned().collect();
    let mut out = Vec::new();
    for d in dbs {
        let text = d.to_string_lossy();
        let t = Target::parse(&text, password.clone()).map_err(|e| {
            BadInput(crate::llm::url_redact::scrub(&format!("--db: {e}"), &secrets))
        })?;
        if t.path().is_none() {
            t.check_open().map_err(|e| {
                BadInput(crate::llm::url_redact::scrub(&format!("--db {e}"), &secrets))
            })?;
        }
        out.push(t);
    }
    Ok(out)
}
