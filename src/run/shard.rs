//! `qt run --shard K/N` and `qt plan --shard K/N`: resolve the flag (reading the
//! scheduler's variables), point the experiment at its shard folder
//! `<root>/<name>/shards/K-of-N/`, select the shard's jobs, and write `shard.json` (what
//! `qt merge` checks: K, N, spec sha256, DB fingerprint, host, the matrix and the jobs).
//!
//! On `--resume` a shard folder written for another spec, DB or partition is refused
//! (exit 2) before anything is written.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::setup::DbInfo;
use crate::error::BadInput;
use crate::record::write_atomic;
use crate::spec::shard::{SCHEME, Shard, ShardArg};
use crate::spec::{self, Experiment, Job};

/// File name of a shard's identity record.
pub const SHARD_JSON: &str = "shard.json";
/// Folder of the shards under `<root>/<name>/`.
pub const SHARDS_DIR: &str = "shards";

/// A resolved `--shard`: the shard and where its index came from.
#[derive(Debug, Clone)]
pub struct ShardRun {
    pub shard: Shard,
    pub source: String,
}

/// Resolve `--shard` with the process environment; errors are bad input (exit 2).
pub fn resolve(arg: Option<&ShardArg>) -> Result<Option<ShardRun>, BadInput> {
    let Some(arg) = arg else { return Ok(None) };
    let (shard, source) = arg.resolve(|k| std::env::var(k).ok()).map_err(|e| BadInput(e.to_string()))?;
    Ok(Some(ShardRun { shard, source }))
}

/// `<root>/<name>/shards/K-of-N`.
pub fn shard_dir(sweep_dir: &Path, shard: &Shard) -> PathBuf {
    sweep_dir.join(SHARDS_DIR).join(shard.folder_name())
}

pub fn query_ids(exp: &Experiment) -> Vec<String> {
    exp.queries.iter().map(|q| q.id.clone()).collect()
}

/// The jobs this process runs: all of them, or the shard's (before any resume filter).
pub fn select_jobs(exp: &Experiment, shard: Option<&ShardRun>) -> Vec<Job> {
    let all = spec::jobs(exp);
    match shard {
        Some(s) => s.shard.select(&all, &query_ids(exp)),
        None => all,
    }
}

/// Per query (by index): the generation numbers `jobs` holds.
pub fn gens_by_query(jobs: &[Job]) -> BTreeMap<usize, Vec<u32>> {
    let mut m: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
    for j in jobs {
        m.entry(j.query).or_default().push(j.r#gen);
    }
    m
}

/// Per arm of query `qi`: (arm name, generations of that arm in `jobs`).
pub fn arm_totals(exp: &Experiment, jobs: &[Job], qi: usize) -> Vec<(String, usize)> {
    exp.arms
        .iter()
        .map(|a| (a.name.clone(), jobs.iter().filter(|j| j.query == qi && j.arm == a.index).count()))
        .collect()
}

/// "q1 gen 1-8, q5 gen 3-4" — what a shard holds, for the console.
pub fn describe(exp: &Experiment, jobs: &[Job]) -> String {
    let parts: Vec<String> = gens_by_query(jobs)
        .into_iter()
        .map(|(qi, gens)| format!("q{} gen {}", exp.queries[qi].id, ranges(&gens)))
        .collect();
    if parts.is_empty() { "no generations".into() } else { parts.join(", ") }
}

/// "1-4,7" from sorted numbers.
pub fn ranges(nums: &[u32]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < nums.len() {
        let mut j = i;
        while j + 1 < nums.len() && nums[j + 1] == nums[j] + 1 {
            j += 1;
        }
        out.push(if i == j { nums[i].to_string() } else { format!("{}-{}", nums[i], nums[j]) });
        i = j + 1;
    }
    out.join(",")
}

/// File that one process at a time holds while it runs a shard (`db/lease.rs`).
pub const SHARD_LOCK: &str = "shard.lock";

/// Hold the shard folder for this run, so that two processes never write one shard (a
/// replaced pod whose predecessor still runs, a requeued Slurm task). A second process
/// waits until the first ends or is gone (its lock unrefreshed for a minute), then resumes.
pub async fn lock_shard(dir: &Path, quiet: bool) -> anyhow::Result<crate::db::lease::Lease> {
    std::fs::create_dir_all(dir).map_err(|e| {
        BadInput(format!("cannot create the shard folder {}: {e}; check output.root or its permissions", dir.display()))
    })?;
    let path = dir.join(SHARD_LOCK);
    let p = path.clone();
    let report = move |m: &str| {
        if !quiet {
            crate::errln!("{m} (another process runs this shard)");
        }
    };
    let lease = tokio::task::spawn_blocking(move || crate::db::lease::acquire(&p, Default::default(), || false, report)).await??;
    lease.ok_or_else(|| anyhow::anyhow!("{}: lock not acquired", path.display()))
}

/// The shard.json content for this run.
pub fn shard_json(exp: &Experiment, s: &ShardRun, db: &crate::db::Target, db_info: &DbInfo, jobs: &[Job]) -> Value {
    let queries: Vec<Value> = gens_by_query(jobs)
        .into_iter()
        .map(|(qi, gens)| json!({"query_id": exp.queries[qi].id, "gens": gens}))
        .collect();
    json!({
        "shard": s.shard.number(),
        "total": s.shard.total(),
        "index_source": s.source,
        "partition": SCHEME,
        "name": exp.name,
        "spec_path": exp.spec_path,
        "spec_sha256": exp.spec_sha256,
        "identity_sha256": exp.identity_sha256,
        "database": {"path": db.display(), "fingerprint": db_info.fingerprint},
        "host": crate::db::host_name(),
        "pid": std::process::id(),
        "qt_version": env!("CARGO_PKG_VERSION"),
        "started_at": chrono::Local::now().to_rfc3339(),
        "matrix": {
            "queries": query_ids(exp),
            "arms": exp.arms.iter().map(|a| json!({"name": a.name, "workers": a.generation.workers})).collect::<Vec<_>>(),
        },
        "job_count": jobs.len(),
        "jobs": queries,
    })
}

/// Write shard.json into the shard folder (created if needed). On `--resume` an existing
/// one must describe the same spec, DB and partition; its start time is kept.
pub fn write_shard_json(dir: &Path, mut new: Value, resume: bool) -> anyhow::Result<()> {
    let path = dir.join(SHARD_JSON);
    if resume {
        if let Some(old) = std::fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str::<Value>(&t).ok()) {
            let fields = [
                ("spec_sha256", &["spec_sha256"][..], "the spec changed since this shard started"),
                ("identity", &["identity_sha256"][..], "the spec's overrides changed since this shard started"),
                ("database fingerprint", &["database", "fingerprint", "sha256"][..], "the sample DB differs"),
                ("partition", &["partition"][..], "this qt partitions differently"),
                ("matrix", &["matrix"][..], "the queries or arms changed"),
            ];
            for (what, ptr, why) in fields {
                let get = |v: &Value| ptr.iter().fold(v.clone(), |v, k| v[*k].clone());
                if get(&old) != get(&new) {
                    return Err(BadInput(format!(
                        "--resume: {} was written with another {what} ({why}); resume with the spec \
                         and DB it was started with, or run without --resume into a fresh folder",
                        path.display()
                    ))
                    .into());
                }
            }
            let mut resumes = old["resumed_at"].as_array().cloned().unwrap_or_default();
            resumes.push(new["started_at"].clone());
            new["started_at"] = old["started_at"].clone();
            new["resumed_at"] = json!(resumes);
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        BadInput(format!("cannot create the shard folder {}: {e}; check output.root or its permissions", dir.display()))
    })?;
    write_atomic(&path, &serde_json::to_vec_pretty(&new)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_compact() {
        assert_eq!(ranges(&[1, 2, 3, 5, 7, 8]), "1-3,5,7-8");
        assert_eq!(ranges(&[]), "");
    }

    #[test]
    fn resume_refuses_another_spec_and_keeps_the_start() {
        let t = tempfile::tempdir().unwrap();
        let base = json!({"spec_sha256": "a", "database": {"fingerprint": {"sha256": "d"}}, "partition": SCHEME,
                          "matrix": {"queries": ["1"]}, "started_at": "t0"});
        write_shard_json(t.path(), base.clone(), false).unwrap();
        let mut again = base.clone();
        again["started_at"] = json!("t1");
        write_shard_json(t.path(), again, true).unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(t.path().join(SHARD_JSON)).unwrap()).unwrap();
        assert_eq!((v["started_at"].as_str(), v["resumed_at"][0].as_str()), (Some("t0"), Some("t1")));
        let mut other = base;
        other["spec_sha256"] = json!("b");
        let e = write_shard_json(t.path(), other, true).unwrap_err().to_string();
        assert!(e.contains("spec_sha256") && e.contains(SHARD_JSON), "{e}");
    }
}
