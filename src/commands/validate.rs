//! `qt validate`: flags checked (exit 2 naming the flag), then the validator's own
//! one-pair entry point (`validate::validate_cli_multi`) checks and prints the verdict.

use super::cli::ValidateArgs;
use crate::db::Target;
use crate::error::BadInput;
use crate::validate::{self, ValidatorConfig};

/// `qt validate` from its arguments: the given `--db`s, or the default generated ones.
pub fn validate(a: &ValidateArgs) -> anyhow::Result<i32> {
    check_flags(a)?;
    let cfg = ValidatorConfig { timing_rounds: a.rounds, threads: a.threads, ..Default::default() };
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
    let dbs: Vec<Target> = dbs.into_iter().map(Target::from).collect();
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
    for db in a.db.iter().filter(|d| d.is_file()) {
        Target::from(db).check_open().map_err(|e| BadInput(format!("--db {}: {e}", db.display())))?;
    }
    Ok(())
}
