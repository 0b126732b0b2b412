//! What `qt merge` reads: the shard folders named on the command line (a sweep folder
//! stands for every folder under its `shards/`), their shard.json, and each query's latest
//! run folder in each shard — the one `--resume` would continue.
//!
//! Every check that can refuse the merge is here, before anything is written: one spec
//! hash, one DB fingerprint, one partition and matrix, each shard once, every recorded
//! generation in the shard that owns it. Missing shards and generations are not errors
//! here; they are listed for the caller to report.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::error::BadInput;
use crate::record::{RunDir, layout};
use crate::run::shard::{SHARD_JSON, SHARDS_DIR};
use crate::spec::{self, shard};

/// One shard folder and its shard.json.
#[derive(Debug, Clone)]
pub struct ShardIn {
    pub dir: PathBuf,
    pub number: u32,
    pub total: u32,
    pub json: Value,
}

impl ShardIn {
    pub fn label(&self) -> String {
        format!("shard {}-of-{} ({})", self.number, self.total, self.dir.display())
    }
}

/// The experiment's matrix as recorded in shard.json.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub queries: Vec<String>,
    pub arms: Vec<(String, u32)>,
}

impl Matrix {
    fn from_json(v: &Value) -> Option<Matrix> {
        let queries = v["queries"].as_array()?.iter().map(|q| q.as_str().map(str::to_string)).collect::<Option<_>>()?;
        let arms = v["arms"]
            .as_array()?
            .iter()
            .map(|a| Some((a["name"].as_str()?.to_string(), u32::try_from(a["workers"].as_u64()?).ok()?)))
            .collect::<Option<_>>()?;
        Some(Matrix { queries, arms })
    }

    pub fn per_query(&self) -> usize {
        self.arms.iter().map(|a| a.1 as usize).sum()
    }
}

/// One query's recorded generations in one shard.
#[derive(Debug, Clone)]
pub struct Source {
    pub shard: u32,
    pub run: RunDir,
    pub gens: BTreeMap<u32, Value>,
    /// The run options that must agree across shards (`options.rs`).
    pub options: Value,
}

/// Everything the merge will write, checked.
#[derive(Debug)]
pub struct MergePlan {
    pub name: String,
    pub spec_path: String,
    pub total: u32,
    pub matrix: Matrix,
    pub shards: Vec<ShardIn>,
    /// Per query (in spec order): its id and its sources, one per shard holding it.
    pub queries: Vec<(String, Vec<Source>)>,
    /// Shards (1-based) with no folder given.
    pub missing_shards: Vec<u32>,
    /// (shard, query id, generation numbers) assigned but not recorded.
    pub missing_gens: Vec<(u32, String, Vec<u32>)>,
    /// The sweep folder all shards came from, if they share one.
    pub sweep_dir: Option<PathBuf>,
    /// Shards ran with different options and `--allow-mixed` accepted them: each
    /// generation records its shard's options.
    pub mixed: bool,
}

fn bad(msg: String) -> anyhow::Error {
    BadInput(msg).into()
}

/// The shard folders named by `dirs` (each a shard folder or a sweep folder).
pub fn find_shards(dirs: &[PathBuf]) -> anyhow::Result<Vec<ShardIn>> {
    let mut out = Vec::new();
    for d in dirs {
        if d.join(SHARD_JSON).is_file() {
            out.push(read_shard(d)?);
        } else if d.join(SHARDS_DIR).is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(d.join(SHARDS_DIR))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.join(SHARD_JSON).is_file())
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(bad(format!("{}: no shard folder with a {SHARD_JSON} under {SHARDS_DIR}/", d.display())));
            }
            for p in found {
                out.push(read_shard(&p)?);
            }
        } else {
            return Err(bad(format!(
                "{} is neither a shard folder (no {SHARD_JSON}) nor a sweep folder (no {SHARDS_DIR}/); \
                 pass <root>/<name> or <root>/<name>/{SHARDS_DIR}/K-of-N",
                d.display()
            )));
        }
    }
    // The same folder named twice (a sweep folder and one of its shards) counts once.
    let mut seen = BTreeSet::new();
    out.retain(|s| seen.insert(std::fs::canonicalize(&s.dir).unwrap_or_else(|_| s.dir.clone())));
    Ok(out)
}

/// Refuses a shard folder holding a symbolic link anywhere (the folder itself, a run
/// folder, a gen folder, a file): a merge copies what it reads into the merged tree and
/// its report, so a link to `/etc/passwd` would be published.
fn refuse_links(dir: &Path) -> anyhow::Result<()> {
    let meta = std::fs::symlink_metadata(dir).map_err(|e| bad(format!("cannot read {}: {e}", dir.display())))?;
    if meta.file_type().is_symlink() {
        return Err(bad(format!(
            "{} is a symbolic link; qt merge never follows links: replace it by the real file or folder (or remove it) and merge again",
            dir.display()
        )));
    }
    if meta.is_dir() {
        let entries = std::fs::read_dir(dir).map_err(|e| bad(format!("cannot read {}: {e}", dir.display())))?;
        for e in entries {
            let e = e.map_err(|e| bad(format!("cannot read {}: {e}", dir.display())))?;
            refuse_links(&e.path())?;
        }
    }
    Ok(())
}

fn read_shard(dir: &Path) -> anyhow::Result<ShardIn> {
    refuse_links(dir)?;
    let path = dir.join(SHARD_JSON);
    let json: Value = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| bad(format!("{}: not a readable shard record; re-run that shard", path.display())))?;
    let num = |k: &str| json[k].as_u64().and_then(|n| u32::try_from(n).ok());
    let (Some(number), Some(total)) = (num("shard"), num("total")) else {
        return Err(bad(format!("{}: no shard/total numbers; re-run that shard", path.display())));
    };
    check_sizes(&path, number, total, &json)?;
    Ok(ShardIn { dir: dir.to_path_buf(), number, total, json })
}

/// Most generations a merge plans (its owner table holds one entry per generation).
pub const MAX_MERGE_JOBS: u64 = 10_000_000;

/// A shard.json's numbers in range before anything is sized by them: a hand-edited or
/// hostile `total` or `workers` of 4e9 once aborted the merge on a 64 GB allocation.
fn check_sizes(path: &Path, number: u32, total: u32, json: &Value) -> anyhow::Result<()> {
    let refuse = |why: String| Err(bad(format!("{}: {why}; re-run that shard (this file is not as qt wrote it)", path.display())));
    if total == 0 || total > shard::MAX_SHARDS {
        return refuse(format!("total = {total} shards is outside 1..={}", shard::MAX_SHARDS));
    }
    if number == 0 || number > total {
        return refuse(format!("shard = {number} is outside 1..={total} (total)"));
    }
    let m = &json["matrix"];
    let queries = m["queries"].as_array().map_or(0, |q| q.len() as u64);
    let mut per_query: u64 = 0;
    for a in m["arms"].as_array().into_iter().flatten() {
        let w = &a["workers"];
        match w.as_u64() {
            Some(n) if (1..=u64::from(crate::spec::limits::MAX_WORKERS)).contains(&n) => per_query += n,
            _ => return refuse(format!("arm {} has workers = {w}, outside 1..={}", a["name"], crate::spec::limits::MAX_WORKERS)),
        }
    }
    if queries.saturating_mul(per_query) > MAX_MERGE_JOBS {
        return refuse(format!("{queries} queries x {per_query} generations is more than {MAX_MERGE_JOBS} generations"));
    }
    Ok(())
}

/// Check the shards against each other and read what they recorded.
pub fn plan(mut shards: Vec<ShardIn>, allow_mixed: bool) -> anyhow::Result<MergePlan> {
    shards.sort_by_key(|s| s.number);
    let first = shards.first().ok_or_else(|| bad("no shard folders given".into()))?.clone();
    let same = |s: &ShardIn, ptr: &[&str]| {
        let get = |v: &Value| ptr.iter().fold(v.clone(), |v, k| v[*k].clone());
        get(&s.json) == get(&first.json)
    };
    for s in &shards[1..] {
        let checks: [(&[&str], &str); 6] = [
            (&["total"], "number of shards"),
            (&["spec_sha256"], "spec (spec_sha256)"),
            (&["identity_sha256"], "effective spec (its --set overrides)"),
            (&["database", "fingerprint", "sha256"], "sample DB (fingerprint)"),
            (&["partition"], "partition scheme"),
            (&["matrix"], "matrix (queries and arms)"),
        ];
        for (ptr, what) in checks {
            if !same(s, ptr) {
                return Err(bad(format!(
                    "{} differs from {} in its {what}: merge only shards of one experiment run \
                     (same spec, DB and --shard .../N)",
                    s.label(),
                    first.label()
                )));
            }
        }
    }
    for w in shards.windows(2) {
        if w[0].number == w[1].number {
            return Err(bad(format!(
                "overlapping jobs: {} and {} are the same shard; pass each shard folder once",
                w[0].label(),
                w[1].label()
            )));
        }
    }
    if first.json["partition"].as_str() != Some(shard::SCHEME) {
        return Err(bad(format!("{}: partition {} is not this qt's ({})", first.label(), first.json["partition"], shard::SCHEME)));
    }
    let matrix = Matrix::from_json(&first.json["matrix"])
        .ok_or_else(|| bad(format!("{}: no readable matrix in {SHARD_JSON}", first.label())))?;
    let workers: Vec<u32> = matrix.arms.iter().map(|a| a.1).collect();
    let jobs = spec::jobs_for(matrix.queries.len(), &workers);
    let owners = shard::partition(&jobs, &matrix.queries, first.total);
    // owner[(query, gen)] = 1-based shard
    let owner: BTreeMap<(usize, u32), u32> = jobs.iter().zip(&owners).map(|(j, o)| ((j.query, j.r#gen), o + 1)).collect();

    let mut queries: Vec<(String, Vec<Source>)> = matrix.queries.iter().map(|q| (q.clone(), Vec::new())).collect();
    let mut missing_gens = Vec::new();
    for s in &shards {
        for (qi, qid) in matrix.queries.iter().enumerate() {
            let assigned: BTreeSet<u32> = owner.iter().filter(|((q, _), o)| *q == qi && **o == s.number).map(|((_, g), _)| *g).collect();
            let run = RunDir::latest(&s.dir, qid);
            if let Some(r) = &run {
                refuse_duplicate_gens(r)?;
            }
            let gens = run.as_ref().map(|r| r.completed_gens()).unwrap_or_default();
            for g in gens.keys() {
                if !assigned.contains(g) {
                    let why = match owner.get(&(qi, *g)) {
                        Some(o) => format!("which belongs to shard {o}-of-{}", first.total),
                        None => format!("which is not in the experiment ({} generations per query)", matrix.per_query()),
                    };
                    return Err(bad(format!("overlapping jobs: {} holds q{qid} gen {g}, {why}", s.label())));
                }
            }
            let options = match &run {
                Some(r) => check_run_config(s, r)?,
                None => Value::Null,
            };
            let missing: Vec<u32> = assigned.iter().filter(|g| !gens.contains_key(g)).copied().collect();
            if !missing.is_empty() {
                missing_gens.push((s.number, qid.clone(), missing));
            }
            if let Some(run) = run {
                queries[qi].1.push(Source { shard: s.number, run, gens, options });
            }
        }
    }
    let mixed = check_options(&queries, first.total, allow_mixed)?;
    let present: BTreeSet<u32> = shards.iter().map(|s| s.number).collect();
    let missing_shards = (1..=first.total).filter(|k| !present.contains(k)).collect();
    let sweep_dir = common_sweep_dir(&shards);
    Ok(MergePlan {
        name: first.json["name"].as_str().unwrap_or("experiment").to_string(),
        spec_path: first.json["spec_path"].as_str().unwrap_or("SPEC").to_string(),
        total: first.total,
        matrix,
        shards,
        queries,
        missing_shards,
        missing_gens,
        sweep_dir,
        mixed,
    })
}

/// Two folders for one generation (`gen_02` beside `gen_002`) are refused, naming both:
/// which one to merge would be a guess.
fn refuse_duplicate_gens(run: &RunDir) -> anyhow::Result<()> {
    let gens = run.gen_folder_paths();
    for w in gens.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(bad(format!(
                "{} and {} are two folders for generation {}; keep the right one (remove or rename the other) and merge again",
                w[0].1.display(),
                w[1].1.display(),
                w[0].0
            )));
        }
    }
    Ok(())
}

/// Every run folder must have run with the options of the first one (`options.rs`), or,
/// with `allow_mixed`, the merge records each shard's. Returns whether they differ.
fn check_options(queries: &[(String, Vec<Source>)], total: u32, allow_mixed: bool) -> anyhow::Result<bool> {
    let sources: Vec<&Source> = queries.iter().flat_map(|(_, s)| s.iter()).filter(|s| !s.options.is_null()).collect();
    let Some(first) = sources.first() else { return Ok(false) };
    for s in &sources[1..] {
        let Some((what, a, b)) = super::options::first_difference(&first.options, &s.options) else { continue };
        if allow_mixed {
            return Ok(true);
        }
        return Err(bad(format!(
            "shard {}-of-{total} ran with a different {what}: {b} ({}), where shard {}-of-{total} has {a} ({}); \
             merge only shards run with the same options (re-run that shard with them), or pass --allow-mixed to \
             merge anyway and record each shard's options with its generations",
            s.shard,
            s.run.path.display(),
            first.shard,
            first.run.path.display(),
        )));
    }
    Ok(false)
}

/// A run folder inside a shard must come from the same spec as the shard record; returns
/// its options (`options.rs`).
fn check_run_config(s: &ShardIn, run: &RunDir) -> anyhow::Result<Value> {
    let path = run.file(layout::CONFIG);
    let cfg: Value = std::fs::read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
        .map_err(|e| {
            bad(format!(
                "{}: cannot read it ({e}), so its run cannot be checked against {}'s spec; re-run that shard or remove {}",
                path.display(),
                s.label(),
                run.path.display()
            ))
        })?;
    let cfg = Some(cfg);
    let sha = cfg.as_ref().map(|c| c["spec_sha256"].clone());
    if sha.is_some_and(|h| h != s.json["spec_sha256"]) {
        return Err(bad(format!(
            "{} was written with another spec than {} records; re-run that shard",
            run.path.display(),
            s.label()
        )));
    }
    Ok(cfg.as_ref().map(super::options::of).unwrap_or(Value::Null))
}

/// `<root>/<name>` when every shard folder is `<root>/<name>/shards/K-of-N`.
fn common_sweep_dir(shards: &[ShardIn]) -> Option<PathBuf> {
    let sweep = |s: &ShardIn| {
        let parent = s.dir.parent()?;
        (parent.file_name()? == SHARDS_DIR).then(|| parent.parent().map(Path::to_path_buf)).flatten()
    };
    let first = sweep(shards.first()?)?;
    shards.iter().all(|s| sweep(s).as_ref() == Some(&first)).then_some(first)
}
