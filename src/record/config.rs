//! config.json: everything needed to re-derive a run's numbers (resolved spec, spec hash,
//! git commit + dirty flag, versions, DB fingerprint, arms, seed) and nothing secret:
//! the spec never holds API keys (only the *name* of the env var or key file).

use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

/// Git commit and dirty flag of the repository holding `path`; `None` outside git.
pub fn git_info(path: &Path) -> Value {
    let dir = if path.is_dir() { path } else { path.parent().unwrap_or(Path::new(".")) };
    let run = |args: &[&str]| -> Option<String> {
        let out = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    match run(&["rev-parse", "HEAD"]) {
        Some(commit) => {
            let dirty = run(&["status", "--porcelain"]).map(|s| !s.is_empty());
            json!({"commit": commit, "dirty": dirty})
        }
        None => json!({"commit": null, "dirty": null}),
    }
}

/// Inputs of config.json that are not in the spec itself.
pub struct ConfigInputs<'a> {
    pub query_id: &'a str,
    pub query_file: &'a Path,
    pub db_path: &'a Path,
    pub db_fingerprint: Value,
    pub duckdb_version: &'a str,
    pub started_at: &'a str,
    pub arms: Value,
    pub total_generations: usize,
    pub distinct_prompts: Option<usize>,
    pub options: Value,
}

/// config.json's content, with every secret of a URL (`?key=...`, userinfo) and every
/// known key value replaced by `REDACTED` (see `llm::url_redact`).
pub fn config_json(exp: &crate::spec::Experiment, inp: &ConfigInputs<'_>) -> Value {
    let mut v = config_json_raw(exp, inp);
    crate::llm::url_redact::redact_json(&mut v, &crate::llm::url_redact::known_secrets(exp));
    v
}

fn config_json_raw(exp: &crate::spec::Experiment, inp: &ConfigInputs<'_>) -> Value {
    json!({
        "name": exp.name,
        "description": exp.description,
        "query_id": inp.query_id,
        "query_file": inp.query_file,
        "spec_path": exp.spec_path,
        "spec_sha256": exp.spec_sha256,
        "git": git_info(&exp.spec_path),
        "qt_version": env!("CARGO_PKG_VERSION"),
        "duckdb_version": inp.duckdb_version,
        "database": {"path": inp.db_path, "fingerprint": inp.db_fingerprint},
        "arms": inp.arms,
        "seed": exp.resolved.examples.seed,
        "total_generations": inp.total_generations,
        "distinct_prompts": inp.distinct_prompts,
        "started_at": inp.started_at,
        "options": inp.options,
        "spec": exp.resolved,
        "overrides": exp.overrides.iter().map(|o| o.to_json()).collect::<Vec<_>>(),
        "effective_spec": exp.effective_spec,
        "effective_spec_sha256": crate::spec::identity::sha256_hex(&exp.effective_spec),
        "identity_sha256": exp.identity_sha256,
    })
}
