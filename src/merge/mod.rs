//! `qt merge DIR... [--out DIR]`: the shard folders of one experiment (`qt run --shard K/N`)
//! become one tree shaped like an unsharded run: every generation exactly once, per-query
//! results.jsonl and summaries and the sweep summary rebuilt by the code `--resume` uses,
//! `merge.json` saying what went in, and the report.
//!
//! Mixed specs, DB fingerprints or overlapping jobs are refused (exit 2, naming the shard)
//! before anything is written (`inputs.rs`). Missing shards or generations are reported
//! and the partial merge is still written, with exit code 1.
//! The merged tree is built in a temporary sibling and renamed into place, so `--out`
//! holds a complete merge or the previous one.

pub mod inputs;
pub mod options;
pub mod tree;

use serde_json::{Value, json};
use std::path::{Path, PathBuf};

use crate::error::{BadInput, EXIT_FAILURE, EXIT_OK};
use crate::files::atomic::{TMP_PREFIX, write_atomic};
use crate::record::layout;
use crate::report::sweep;
use crate::run::shard::ranges;

/// File in a merged tree that says what was merged (and marks it as replaceable).
pub const MERGE_JSON: &str = "merge.json";

/// What `qt merge` was asked to do (`commands/merge.rs` builds it from the flags).
#[derive(Debug, Clone, Default)]
pub struct MergeOptions {
    /// A sweep folder (holding shards/) or shard folders (holding shard.json).
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged tree (default: <root>/<name>/merged).
    pub out: Option<PathBuf>,
    /// No per-query lines: the sweep table and problems only.
    pub quiet: bool,
    /// Merge shards that ran with different options (`options.rs`), recording each
    /// shard's options with its generations, instead of refusing them.
    pub allow_mixed: bool,
}

/// `qt merge`: returns the exit code (1 when shards or generations are missing).
pub fn merge(args: &MergeOptions) -> anyhow::Result<i32> {
    let plan = inputs::plan(inputs::find_shards(&args.dirs)?, args.allow_mixed)?;
    let out = match (&args.out, &plan.sweep_dir) {
        (Some(o), _) => o.clone(),
        (None, Some(sweep)) => sweep.join("merged"),
        (None, None) => {
            return Err(BadInput("the shard folders are not under one <root>/<name>/shards/; pass --out DIR".into()).into());
        }
    };
    if out.exists() && !out.join(MERGE_JSON).is_file() {
        return Err(BadInput(format!(
            "--out {} exists and is not a merged tree (no {MERGE_JSON}); choose another folder or delete it",
            out.display()
        ))
        .into());
    }
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| BadInput(format!("cannot create {}: {e}", parent.display())))?;
    let leaf = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "merged".into());
    remove_dead_temps(parent);
    let tmp = parent.join(format!("{TMP_PREFIX}{leaf}-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    std::fs::create_dir_all(&tmp)?;
    let result = build(&plan, &tmp, &out, args.quiet);
    let sweep = match result {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    replace_dir(&tmp, &out)?;

    crate::outln!("\nSWEEP {} (merged)\n{}", plan.name, sweep::sweep_table(&sweep));
    crate::outln!("  saved in:   {}", out.join(layout::SUMMARY_JSON).display());
    let problems = problems(&plan);
    for p in &problems {
        crate::errln!("{p}");
    }
    Ok(if problems.is_empty() { EXIT_OK } else { EXIT_FAILURE })
}

/// Fill `tmp` with the merged tree; returns the sweep summary.
fn build(plan: &inputs::MergePlan, tmp: &Path, out: &Path, quiet: bool) -> anyhow::Result<Value> {
    let mut results = Vec::new();
    for (qid, sources) in &plan.queries {
        if sources.is_empty() {
            continue;
        }
        let (summary, dir) = tree::write_query(tmp, out, qid, sources, &plan.matrix, plan.mixed)?;
        if !quiet {
            let from: Vec<String> = sources.iter().map(|s| format!("{}-of-{}", s.shard, plan.total)).collect();
            crate::outln!(
                "q{qid}: {}/{} generations from shard {} -> {}",
                summary["completed"],
                summary["total_workers"],
                from.join(", "),
                dir.display()
            );
        }
        results.push((summary, dir));
    }
    let sweep = sweep::sweep_json(&plan.name, &results);
    write_atomic(&tmp.join(layout::SUMMARY_JSON), &serde_json::to_vec_pretty(&sweep)?)?;
    let record = json!({
        "name": plan.name,
        "spec_path": plan.spec_path,
        "spec_sha256": plan.shards[0].json["spec_sha256"],
        "database": plan.shards[0].json["database"],
        "total_shards": plan.total,
        "shards": plan.shards.iter().map(|s| json!({"shard": s.number, "dir": s.dir, "host": s.json["host"]})).collect::<Vec<_>>(),
        "missing_shards": plan.missing_shards,
        "missing_generations": plan.missing_gens.iter().map(|(k, q, g)| json!({"shard": k, "query_id": q, "gens": g})).collect::<Vec<_>>(),
        "merged_at": chrono::Local::now().to_rfc3339(),
        "qt_version": env!("CARGO_PKG_VERSION"),
    });
    write_atomic(&tmp.join(MERGE_JSON), &serde_json::to_vec_pretty(&record)?)?;
    write_report(tmp, &sweep)?;
    Ok(sweep)
}

/// The merged tree's report: the one place it is written. The sweep table as
/// `summary.txt`, and the HTML report of every query folder and of the sweep.
fn write_report(tree: &Path, sweep: &Value) -> anyhow::Result<()> {
    write_atomic(&tree.join(layout::SUMMARY_TXT), sweep::sweep_table(sweep).as_bytes())?;
    for entry in std::fs::read_dir(tree)? {
        let p = entry?.path();
        if p.join(layout::CONFIG).is_file() {
            if let Err(e) = crate::report::write_report(&p) {
                crate::errln!("warning: no report.html for {}: {e:#}", p.display());
            }
        }
    }
    if let Err(e) = crate::report::write_report(tree) {
        crate::errln!("warning: no sweep report.html for the merged tree: {e:#}");
    }
    Ok(())
}

/// Removes `.tmp-<leaf>-PID` and `.tmp-old-<leaf>-PID` folders left in `parent` by merges
/// that were killed (their PID is no longer alive); a live merge's are left alone.
fn remove_dead_temps(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(TMP_PREFIX) else { continue };
        let Some(pid) = rest.rsplit('-').next().and_then(|p| p.parse::<i32>().ok()) else { continue };
        if pid <= 0 || pid == std::process::id() as i32 || e.file_type().map_or(true, |t| !t.is_dir()) {
            continue;
        }
        // SAFETY: kill with signal 0 only asks whether the process exists.
        let dead = unsafe { libc::kill(pid, 0) } != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if dead && std::fs::remove_dir_all(e.path()).is_ok() {
            crate::errln!("removed {} (left by a merge that was killed)", e.path().display());
        }
    }
}

/// A word for a POSIX shell: as is when it holds only safe characters, else in single
/// quotes (each `'` written as `'\''`).
fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c)) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Put `tmp` at `out`, replacing a previous merge.
fn replace_dir(tmp: &Path, out: &Path) -> anyhow::Result<()> {
    let old: Option<PathBuf> = out.exists().then(|| {
        let leaf = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        out.with_file_name(format!("{TMP_PREFIX}old-{leaf}-{}", std::process::id()))
    });
    if let Some(o) = &old {
        std::fs::rename(out, o)?;
    }
    std::fs::rename(tmp, out)?;
    if let Some(o) = &old {
        let _ = std::fs::remove_dir_all(o);
    }
    Ok(())
}

/// What keeps the merge from being complete, each with what to do.
fn problems(plan: &inputs::MergePlan) -> Vec<String> {
    let mut out = Vec::new();
    for k in &plan.missing_shards {
        out.push(format!(
            "missing: shard {k}-of-{n}: run `qt run {spec} --shard {k}/{n}` and merge again",
            n = plan.total,
            spec = shell_quote(&plan.spec_path)
        ));
    }
    for (k, q, gens) in &plan.missing_gens {
        let n = plan.total;
        let running = plan
            .shards
            .iter()
            .any(|s| s.number == *k && s.dir.join(crate::run::shard::SHARD_LOCK).exists());
        out.push(format!(
            "incomplete: shard {k}-of-{n} has not recorded q{q} gen {}: {}",
            ranges(gens),
            if running {
                "it may still be running (its shard.lock is present); merge again when it ends".to_string()
            } else {
                format!("resume it with `qt run {} --shard {k}/{n} --resume` and merge again", shell_quote(&plan.spec_path))
            },
        ));
    }
    out
}
