//! Writing one merged query folder: the setup files of the earliest shard run folder,
//! every generation folder copied from the shard that ran it, and results.jsonl and the
//! summaries rebuilt from the generation records by the same code `--resume` uses
//! (`RunDir::rewrite_results`, `GenStat::from_record`, `summary_json`).

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

use super::inputs::{Matrix, Source};
use crate::record::RunDir;
use crate::record::layout;
use crate::record::figures;
use crate::record::summary::{GenStat, SummaryContext, summary_json, summary_text};

fn read_json(p: &Path) -> Option<Value> {
    std::fs::read_to_string(p).ok().and_then(|t| serde_json::from_str(&t).ok())
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_symlink() {
            // inputs.rs refused links before the merge started; one appearing since is not followed.
            return Err(std::io::Error::other(format!("{} is a symbolic link; qt merge never follows links", e.path().display())));
        }
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), &target)?;
        }
    }
    Ok(())
}

/// Write query `query_id`'s merged folder under `out` (a temporary folder that becomes
/// `final_out`) from `sources` (non-empty); returns its summary and final folder, as
/// `qt run` hands them to the sweep.
pub fn write_query(
    out: &Path,
    final_out: &Path,
    query_id: &str,
    sources: &[Source],
    matrix: &Matrix,
    mixed: bool,
) -> anyhow::Result<(Value, std::path::PathBuf)> {
    let mut sources: Vec<&Source> = sources.iter().collect();
    sources.sort_by_key(|s| s.run.path.file_name().map(|n| n.to_os_string()));
    let first = sources[0];
    let name = first.run.path.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| format!("q{query_id}").into());
    let run = RunDir { path: out.join(&name) };
    std::fs::create_dir_all(&run.path)?;
    for f in [layout::ORIGINAL, layout::PLAN_JSON, layout::PLAN_FULL, layout::PLAN_SUMMARY, layout::BASE_PROMPT] {
        let src = first.run.file(f);
        if src.is_file() {
            std::fs::copy(&src, run.file(f))?;
        }
    }
    let total = matrix.per_query();
    let mut records: BTreeMap<u32, Value> = BTreeMap::new();
    for s in &sources {
        for (n, v) in &s.gens {
            let from = s.run.find_gen(*n).unwrap_or_else(|| s.run.gen_dir(*n, total));
            copy_dir(&from, &run.gen_dir(*n, total))?;
            let mut v = v.clone();
            if mixed {
                // Shards ran with different options (--allow-mixed): each generation says
                // which shard made it and with what.
                v["shard"] = json!(s.shard);
                v["shard_options"] = s.options.clone();
                crate::files::atomic::write_atomic(&run.gen_dir(*n, total).join(layout::VALIDATION), &serde_json::to_vec_pretty(&v)?)?;
            }
            records.insert(*n, v);
        }
    }
    run.rewrite_results(&records)?;

    let summaries: Vec<Value> = sources.iter().filter_map(|s| read_json(&s.run.file(layout::SUMMARY_JSON))).collect();
    let stats: BTreeMap<u32, GenStat> = records.iter().map(|(k, v)| (*k, GenStat::from_record(v))).collect();
    let arms: Vec<(String, usize)> = matrix.arms.iter().map(|(n, w)| (n.clone(), *w as usize)).collect();
    // Each shard re-timed the best of each arm among its own generations (unless it was
    // interrupted or ran without validation): every such re-timing is kept.
    let mut confirmations: Vec<Value> = Vec::new();
    for c in summaries.iter().flat_map(figures::confirmations_of) {
        if !confirmations.iter().any(|k| k["gen"] == c["gen"]) {
            confirmations.push(c);
        }
    }
    let ctx = SummaryContext {
        query_id,
        total,
        largest_gen: total,
        arms: &arms,
        // Shards run in parallel: the query took as long as its slowest shard.
        elapsed_seconds: summaries.iter().filter_map(|s| s["elapsed_seconds"].as_f64()).fold(0.0, f64::max),
        interrupted: records.len() < total || summaries.iter().any(|s| s["interrupted"].as_bool() == Some(true)),
        confirmations,
    };
    let mut summary = summary_json(&stats, &ctx);
    // Generations a shard skipped (budget, stop_when) and no shard ran since.
    let arm_of = |n: u32| {
        let mut upto = 0;
        arms.iter().find(|(_, w)| { upto += *w as u32; n <= upto }).map(|(a, _)| a.clone()).unwrap_or_default()
    };
    let mut skipped = std::collections::BTreeMap::new();
    for s in &summaries {
        skipped.extend(crate::record::skipped::from_summary(s, arm_of));
    }
    skipped.retain(|n, _| !records.contains_key(n));
    crate::record::skipped::annotate(&mut summary, &skipped);
    run.write(layout::SUMMARY_JSON, serde_json::to_vec_pretty(&summary)?)?;
    run.write(layout::SUMMARY_TXT, summary_text(&summary))?;

    let mut cfg = read_json(&first.run.file(layout::CONFIG)).unwrap_or_else(|| json!({}));
    let configs: Vec<Value> = sources.iter().filter_map(|s| read_json(&s.run.file(layout::CONFIG))).collect();
    if let Some(earliest) = configs.iter().filter_map(|c| c["started_at"].as_str()).min() {
        cfg["started_at"] = json!(earliest);
    }
    cfg["total_generations"] = json!(total);
    // Distinct prompts were counted per shard; across shards they are not known here.
    cfg["distinct_prompts"] = Value::Null;
    cfg["merged_from"] = json!(sources.iter().map(|s| json!({"shard": s.shard, "run_dir": s.run.path})).collect::<Vec<_>>());
    if mixed {
        // One config cannot hold the options of every shard: each shard's are listed, and
        // each arm's samples seeds are those seen (never the first shard's alone).
        cfg["mixed_options"] = json!(sources.iter().map(|s| json!({"shard": s.shard, "options": s.options})).collect::<Vec<_>>());
        for (i, arm) in cfg["arms"].as_array_mut().into_iter().flatten().enumerate() {
            let mut seeds: Vec<Value> = Vec::new();
            for c in &configs {
                let seed = c["arms"][i]["samples_seed"].clone();
                if !seeds.contains(&seed) {
                    seeds.push(seed);
                }
            }
            arm["samples_seed"] = json!(seeds);
        }
    }
    run.write(layout::CONFIG, serde_json::to_vec_pretty(&cfg)?)?;
    Ok((summary, final_out.join(name)))
}
