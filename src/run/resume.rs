//! What `--resume` may take over: a run folder is continued only by the experiment that
//! made it (same `name`, same query, same identity: the effective spec, overrides
//! included, minus the keys that cannot change a generation, see `spec/identity.rs`), and
//! only by one process at a time (the folder lock). Folders made before the identity was
//! recorded are compared by the spec file's sha256, as before.
//!
//! `--resume --force` accepts a spec whose text changed (another sha256; name and query
//! must still match): it keeps the generation folders whose numbers are in the new plan,
//! ignores the others, redoes the missing ones with the new spec, and records the old
//! hash in config.json (`forced_from_sha256`).

use serde_json::Value;
use std::path::Path;

use crate::error::BadInput;
use crate::record::layout;
use crate::files::lock::{FolderLock, LockError};
use crate::spec::{Experiment, identity};

/// config.json of a run folder, or why it is not one.
pub fn read_config(dir: &Path) -> Result<Value, BadInput> {
    std::fs::read_to_string(dir.join(layout::CONFIG))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| BadInput(format!("--resume {}: not a qt run folder (no readable config.json)", dir.display())))
}

/// `--resume DIR` given explicitly: the folder must belong to this experiment and to one
/// of its queries (checked before anything is done).
pub fn check_explicit(exp: &Experiment, dir: &Path, force: bool) -> Result<(), BadInput> {
    let cfg = read_config(dir)?;
    let qid = cfg["query_id"].as_str().unwrap_or("?");
    if !exp.queries.iter().any(|q| q.id == qid) {
        let ids: Vec<&str> = exp.queries.iter().map(|q| q.id.as_str()).collect();
        return Err(BadInput(format!(
            "--resume {}: this folder holds query {qid}, but {} selects queries [{}]; \
             resume it with the spec that made it ({})",
            dir.display(),
            exp.spec_path.display(),
            ids.join(", "),
            cfg["spec_path"].as_str().unwrap_or("see its config.json")
        )));
    }
    check_identity(exp, &cfg, dir, force)
}

/// `--resume` without a folder: every query's latest run folder must match the spec
/// (checked before anything runs, so a multi-query resume never stops half-way).
pub fn check_latest(exp: &Experiment, force: bool) -> Result<(), BadInput> {
    for q in &exp.queries {
        if let Some(run) = crate::record::RunDir::latest(&exp.output_dir, &q.id) {
            let cfg = read_config(&run.path)?;
            check_query(&cfg, &run.path, &q.id)?;
            check_identity(exp, &cfg, &run.path, force)?;
        }
    }
    Ok(())
}

/// The folder's config.json names `query_id`: a resume never continues one query in
/// another's folder.
pub fn check_query(cfg: &Value, dir: &Path, query_id: &str) -> Result<(), BadInput> {
    match cfg["query_id"].as_str() {
        Some(q) if q == query_id => Ok(()),
        other => Err(BadInput(format!(
            "--resume {}: this folder holds query {} (its config.json), not query {query_id}; \
             resume that folder explicitly with --resume DIR, or start a new run without --resume",
            dir.display(),
            other.unwrap_or("(none)")
        ))),
    }
}

/// Name and spec hash of the folder's config.json against the spec being run.
pub fn check_identity(exp: &Experiment, cfg: &Value, dir: &Path, force: bool) -> Result<(), BadInput> {
    let theirs = |k: &str| cfg[k].as_str().unwrap_or("(missing)").to_string();
    let their_spec = theirs("spec_path");
    if theirs("name") != exp.name {
        return Err(BadInput(format!(
            "--resume {}: the folder belongs to experiment `{}` ({their_spec}), not to `{}` ({}); \
             resume it with its own spec, or start a new run without --resume",
            dir.display(),
            theirs("name"),
            exp.name,
            exp.spec_path.display()
        )));
    }
    if force {
        return Ok(());
    }
    if cfg["identity_sha256"].is_string() {
        if theirs("identity_sha256") == exp.identity_sha256 {
            return Ok(());
        }
        return Err(BadInput(format!(
            "--resume {}: this run is not the one that made the folder ({}); start a new run, or \
             add --force to keep the finished generations that are still in the plan and redo the \
             rest with these settings",
            dir.display(),
            differences(cfg["effective_spec"].as_str().unwrap_or(""), exp)
        )));
    }
    // A folder made before the effective spec was recorded: the file's hash, and no
    // override of a key that shapes the generations.
    let overridden: Vec<String> =
        exp.overrides.iter().filter(|o| identity::in_identity(&o.dotted())).map(|o| o.display()).collect();
    if theirs("spec_sha256") != exp.spec_sha256 || !overridden.is_empty() {
        let what = if overridden.is_empty() {
            format!(
                "the spec changed since this folder was made ({their_spec} had sha256 {}, {} now has {})",
                short(&theirs("spec_sha256")),
                exp.spec_path.display(),
                short(&exp.spec_sha256)
            )
        } else {
            format!("the folder was made without {}", overridden.join(", "))
        };
        return Err(BadInput(format!(
            "--resume {}: {what}; start a new run, or add --force to keep the finished generations \
             that are still in the plan and redo the rest with the new spec",
            dir.display(),
        )));
    }
    Ok(())
}

/// `generation.workers = 20 there, 5 now (--set #1); ...`: the identity keys that differ
/// between the folder's effective spec and this run's, with the flag that set each.
fn differences(theirs: &str, exp: &Experiment) -> String {
    let (Ok(old), Ok(new)) = (theirs.parse::<toml::Table>(), exp.effective_spec.parse::<toml::Table>()) else {
        return "its effective spec cannot be read".into();
    };
    let diffs = identity::differences(&old, &new);
    if diffs.is_empty() {
        return "the effective spec differs".into();
    }
    let shown: Vec<String> = diffs
        .iter()
        .take(5)
        .map(|(k, a, b)| {
            let set = |v: &Option<String>| v.clone().unwrap_or_else(|| "not set".into());
            let by = exp
                .overrides
                .iter()
                .rev()
                .find(|o| k == &o.dotted() || k.starts_with(&format!("{}.", o.dotted())))
                .map(|o| format!(" ({})", o.origin))
                .unwrap_or_default();
            format!("{k} = {} there, {} now{by}", set(a), set(b))
        })
        .collect();
    let more = if diffs.len() > 5 { format!("; and {} more", diffs.len() - 5) } else { String::new() };
    format!("{}{more}", shown.join("; "))
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// Lock a run folder for this process; in use = bad input naming the owner (exit 2).
pub fn lock(dir: &Path) -> anyhow::Result<(FolderLock, Option<String>)> {
    match FolderLock::acquire(dir) {
        Ok(l) => {
            let note = l.stale_owner.as_ref().map(|o| {
                format!("took over the lock of {} (that process is gone; its unfinished generations are redone)", o)
            });
            Ok((l, note))
        }
        Err(e @ LockError::InUse { .. }) => Err(BadInput(format!("run folder {e}")).into()),
        Err(e) => Err(anyhow::Error::new(e)),
    }
}
