//! `qt bench --which confirm_db,confirm,confirm_predict`: what the full-size confirmation
//! stage costs and how well the sample predicts the full size.
//!
//! - `confirm_db`: a build of the recommended confirm DB (TPC-DS, full, `--full-scale`,
//!   default 10) into a temp folder as a `qt db generate` child: wall and CPU time, size,
//!   peak RSS (tens of minutes on a loaded 2-core machine).
//! - `confirm`: TPC-DS q1 screened with its 4 named rewrites (`confirm_rewrites.toml`) on
//!   the sample (`--sample-db`, default SF100 @ 1%), then `qt confirm --top 3` on the full
//!   DB (cached; built first if absent, not timed): wall and peak RSS with the original's
//!   baseline computed (`--fresh-baseline`) and reused from the cache.
//! - `confirm_predict`: every named rewrite (>= 30 over >= 8 queries), replayed through
//!   `qt run` with `[validation.confirm]` on the full DB: per candidate the sample and full
//!   figures side by side, per query and pooled Spearman's rank correlation, how many sample
//!   wins stayed wins and how many sample non-wins became wins. The run tree is kept.
//!
//! The queries are read from `$QT_TPCDS_QUERIES` or `../shared/tpcds/queries` (never
//! copied); each set says "skipped" when they are absent. Nothing asserts on time.

use anyhow::Context as _;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::child::run_args_measured;
use super::rewrites::{self, Rewrite};
use crate::db::GenSpec;
use crate::record::layout;
use crate::record::predict::{Confirmed, predict};

/// Which databases the confirm benches use.
#[derive(Debug, Clone, Copy)]
pub struct ConfirmBenchDbs {
    /// The screening sample: (scale, fraction of the facts).
    pub sample: (f64, f64),
    /// The full-size confirm DB's scale.
    pub full_scale: f64,
}

fn queries_dir() -> Option<PathBuf> {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::var_os("QT_TPCDS_QUERIES").map(PathBuf::from).unwrap_or_else(|| repo.join("../shared/tpcds/queries"));
    dir.join("query_1.sql").is_file().then_some(dir)
}

fn load_avg() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|t| t.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_default()
}

/// `confirm_db`: build the full DB into a temp folder, measured.
pub fn confirm_db_row(dbs: ConfirmBenchDbs) -> anyhow::Result<Value> {
    let before = load_avg();
    let mut r = super::sample::build_row(dbs.full_scale, None)?;
    r["load_avg_before"] = json!(before);
    r["load_avg_after"] = json!(load_avg());
    crate::outln!(
        "confirm DB tpcds sf{} (full): {:.1} s wall, {:.1} s CPU, {:.0} MB, peak RSS {:.0} MB (load average {before})",
        dbs.full_scale,
        r["wall_s"].as_f64().unwrap_or(0.0),
        r["cpu_s"].as_f64().unwrap_or(0.0),
        r["size_mb"].as_f64().unwrap_or(0.0),
        r["peak_rss_mb"].as_f64().unwrap_or(0.0)
    );
    Ok(r)
}

/// Replayed answers for `rewrites` (grouped by query, in file order): `<dir>/q<id>/w<NN>.txt`;
/// returns the query ids in order and each query's rewrite names (worker k = k-th name).
fn write_answers(queries: &Path, dir: &Path, list: &[Rewrite]) -> anyhow::Result<(Vec<String>, BTreeMap<String, Vec<String>>)> {
    let mut ids: Vec<String> = Vec::new();
    let mut names: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in list {
        let file = queries.join(format!("query_{}.sql", r.query));
        let sql = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        let statement = crate::db::split_statements(&sql).into_iter().next().unwrap_or(sql);
        let candidate = rewrites::apply(&statement, r).map_err(anyhow::Error::msg)?;
        let mine = names.entry(r.query.clone()).or_default();
        mine.push(r.name.clone());
        if !ids.contains(&r.query) {
            ids.push(r.query.clone());
        }
        let folder = dir.join(format!("q{}", r.query));
        std::fs::create_dir_all(&folder)?;
        std::fs::write(folder.join(format!("w{:02}.txt", mine.len())), format!("```sql\n{candidate}\n```\n"))?;
    }
    Ok((ids, names))
}

fn spec_text(name: &str, work: &Path, queries: &Path, ids: &[String], workers: usize, dbs: ConfirmBenchDbs, confirm: bool) -> String {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let ids: Vec<String> = ids.iter().map(|i| format!("{i:?}")).collect();
    let mut t = format!(
        r#"name = "{name}"
[output]
root = "{out}"
[database]
generate = {{ benchmark = "tpcds", scale = {s}, sample = {f} }}
[queries]
dir = "{queries}"
ids = [{ids}]
[llm]
provider = "replay"
responses = "{answers}"
max_concurrency = 4
[generation]
workers = {workers}
template = "{repo}/templates/full_sql.j2"
response_format = "sql"
retries_on_failure = 0
[examples]
strategy = "none"
dir = "{repo}/prompts/examples"
[validation]
timing_rounds = 8
warmup = 1
"#,
        out = work.join("out").display(),
        s = dbs.sample.0,
        f = dbs.sample.1,
        queries = queries.display(),
        ids = ids.join(", "),
        answers = work.join("answers").display(),
        repo = repo.display(),
    );
    if confirm {
        t.push_str(&format!(
            "[validation.confirm]\ndb = {{ generate = {{ benchmark = \"tpcds\", scale = {} }} }}\ntop = {workers}\ntiming_rounds = 6\n",
            dbs.full_scale
        ));
    }
    t
}

fn run_dirs(out: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(out).into_iter().flatten().flatten().map(|e| e.path()).filter(|p| p.join(layout::CONFIG).is_file()).collect();
    v.sort();
    v
}

/// `confirm`: q1's top 3 confirmed on the full DB, cold and warm baseline.
pub fn confirm_q1_row(dbs: ConfirmBenchDbs) -> anyhow::Result<Value> {
    let Some(queries) = queries_dir() else {
        crate::outln!("confirm skipped: TPC-DS queries not found (set QT_TPCDS_QUERIES)");
        return Ok(json!({"bench": "confirm_q1_top3", "skipped": "TPC-DS queries not found"}));
    };
    let full = crate::db::ensure_generated_spec(&GenSpec::full(dbs.full_scale), true)?;
    let work = tempfile::Builder::new().prefix("qt-bench-confirm-").tempdir()?;
    let q1: Vec<Rewrite> = rewrites::all().into_iter().filter(|r| r.query == "1").collect();
    let (ids, _) = write_answers(&queries, &work.path().join("answers"), &q1)?;
    let spec = work.path().join("q1.toml");
    std::fs::write(&spec, spec_text("confirm_q1", work.path(), &queries, &ids, q1.len(), dbs, false))?;
    let exe = std::env::current_exe()?;
    let (code, _, _) = run_args_measured(&exe, &["run".into(), "--quiet".into(), spec.display().to_string()], std::process::Stdio::null())?;
    anyhow::ensure!(code == 0, "the screening run of q1 exited {code}");
    let run = run_dirs(&work.path().join("out/confirm_q1")).pop().context("no run folder")?;
    let mut row = json!({"bench": "confirm_q1_top3", "full_db": full, "load_avg_before": load_avg()});
    for (k, fresh) in [("cold", true), ("warm", false)] {
        let copy = work.path().join(format!("copy-{k}"));
        copy_tree(&run, &copy.join(run.file_name().unwrap_or_default()))?;
        let mut args: Vec<String> = ["confirm", "--top", "3", "--quiet", "--label"].map(String::from).to_vec();
        args.push(format!("tpcds sf{}", dbs.full_scale));
        args.push("--db".into());
        args.push(full.display().to_string());
        if fresh {
            args.push("--fresh-baseline".into());
        }
        args.push(copy.join(run.file_name().unwrap_or_default()).display().to_string());
        let (code, peak, wall) = run_args_measured(&exe, &args, std::process::Stdio::null())?;
        row[format!("{k}_wall_s")] = json!(wall);
        row[format!("{k}_peak_rss_mb")] = json!(peak as f64 / 1024.0);
        row[format!("{k}_exit_code")] = json!(code);
    }
    row["wall_s"] = row["cold_wall_s"].clone();
    row["peak_rss_mb"] = row["cold_peak_rss_mb"].clone();
    row["load_avg_after"] = json!(load_avg());
    crate::outln!(
        "confirm q1 top 3 on tpcds sf{}: {:.1} s with the original's baseline computed, {:.1} s with it from the cache; peak RSS {:.0} MB (load average {})",
        dbs.full_scale,
        row["cold_wall_s"].as_f64().unwrap_or(0.0),
        row["warm_wall_s"].as_f64().unwrap_or(0.0),
        row["cold_peak_rss_mb"].as_f64().unwrap_or(0.0),
        row["load_avg_before"].as_str().unwrap_or("")
    );
    Ok(row)
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)?.flatten() {
        let t = to.join(e.file_name());
        if e.path().is_dir() {
            copy_tree(&e.path(), &t)?;
        } else if e.file_name() != ".lock" {
            std::fs::copy(e.path(), &t)?;
        }
    }
    Ok(())
}

fn fx(v: &Value) -> String {
    v.as_f64().map(|x| format!("{x:.2}x")).unwrap_or_else(|| "-".into())
}

fn ci(v: &Value) -> String {
    match (v[0].as_f64(), v[1].as_f64()) {
        (Some(a), Some(b)) => format!("[{a:.2}, {b:.2}]"),
        _ => String::new(),
    }
}

/// `confirm_predict`: the README's sample-vs-full measurement.
pub fn predict_row(dbs: ConfirmBenchDbs) -> anyhow::Result<Value> {
    let Some(queries) = queries_dir() else {
        crate::outln!("confirm_predict skipped: TPC-DS queries not found (set QT_TPCDS_QUERIES)");
        return Ok(json!({"bench": "confirm_predict", "skipped": "TPC-DS queries not found"}));
    };
    let list = rewrites::all();
    let work = tempfile::Builder::new().prefix("qt-bench-predict-").tempdir()?.keep();
    let (ids, names) = write_answers(&queries, &work.join("answers"), &list)?;
    let workers = names.values().map(Vec::len).max().unwrap_or(1);
    let spec = work.join("predict.toml");
    std::fs::write(&spec, spec_text("confirm_predict", &work, &queries, &ids, workers, dbs, true))?;
    crate::outln!(
        "confirm_predict: {} rewrites of {} TPC-DS queries, screened on tpcds sf{} sample {}, confirmed on tpcds sf{} (full); run tree kept in {}",
        list.len(),
        ids.len(),
        dbs.sample.0,
        dbs.sample.1,
        dbs.full_scale,
        work.display()
    );
    let before = load_avg();
    let exe = std::env::current_exe()?;
    let (code, peak, wall) = run_args_measured(&exe, &["run".into(), spec.display().to_string()], std::process::Stdio::inherit())?;
    let mut lines = Vec::new();
    let mut pooled: Vec<Confirmed> = Vec::new();
    let mut per_query = Vec::new();
    for run in run_dirs(&work.join("out/confirm_predict")) {
        let cfg: Value = serde_json::from_str(&std::fs::read_to_string(run.join(layout::CONFIG))?)?;
        let qid = cfg["query_id"].as_str().unwrap_or("?").to_string();
        let mine = names.get(&qid).cloned().unwrap_or_default();
        let recs = crate::record::RunDir { path: run.clone() }.completed_gens();
        let mut items = Vec::new();
        for (n, v) in &recs {
            let Some(name) = mine.get(*n as usize - 1) else { continue };
            let c = &v["confirm"];
            lines.push(json!({
                "query": qid, "rewrite": name, "status": v["status"], "reason": v["reason"],
                "sample_speedup": v["speedup"], "sample_ci95": v["timing"]["ci95"], "sample_win": v["timing"]["win"],
                "full_status": c["status"], "full_reason": c["reason"], "full_detail": c["detail"],
                "full_speedup": c["speedup"], "full_ci95": c["ci95"], "full_win": c["win"],
            }));
            if c.is_object() {
                items.push(Confirmed {
                    number: *n,
                    arm: name.clone(),
                    sample: v["speedup"].as_f64().unwrap_or(f64::NAN),
                    sample_win: v["timing"]["win"].as_bool() == Some(true),
                    full_status: c["status"].as_str().unwrap_or_default().into(),
                    full_reason: c["reason"].as_str().map(str::to_string),
                    full: c["speedup"].as_f64(),
                    full_ci95: None,
                    full_win: c["win"].as_bool() == Some(true),
                });
            }
        }
        let p = predict(&items);
        per_query.push(json!({"query": qid, "figures": p}));
        pooled.extend(items);
    }
    let p = predict(&pooled);
    crate::outln!("\n{:<6} {:<24} {:>8} {:>16} {:>5}   {:>8} {:>16} {:>5}", "query", "rewrite", "sample", "sample ci95", "win", "full", "full ci95", "win");
    for l in &lines {
        let full = match l["full_status"].as_str() {
            Some("pass") | None => fx(&l["full_speedup"]),
            Some(s) => format!("{s} {}", l["full_reason"].as_str().unwrap_or("")),
        };
        let sample = if l["status"] == "pass" { fx(&l["sample_speedup"]) } else { format!("{} {}", l["status"].as_str().unwrap_or("?"), l["reason"].as_str().unwrap_or("")) };
        crate::outln!(
            "{:<6} {:<24} {:>8} {:>16} {:>5}   {:>8} {:>16} {:>5}",
            l["query"].as_str().unwrap_or("?"),
            l["rewrite"].as_str().unwrap_or("?"),
            sample,
            ci(&l["sample_ci95"]),
            if l["sample_win"] == true { "win" } else { "" },
            full,
            ci(&l["full_ci95"]),
            if l["full_win"] == true { "win" } else { "" }
        );
    }
    let f = serde_json::to_value(&p)?;
    crate::outln!("pooled over {} candidates: {}", p.candidates, crate::record::summary_full::prediction_line(&f));
    for q in &per_query {
        crate::outln!("  q{}: {}", q["query"].as_str().unwrap_or("?"), crate::record::summary_full::prediction_line(&q["figures"]));
    }
    Ok(json!({
        "bench": "confirm_predict", "exit_code": code, "wall_s": wall, "peak_rss_mb": peak as f64 / 1024.0,
        "sample_db": format!("tpcds sf{} sample {}", dbs.sample.0, dbs.sample.1), "full_db": format!("tpcds sf{}", dbs.full_scale),
        "rewrites": list.len(), "queries": ids.len(), "pooled": p, "per_query": per_query, "candidates": lines,
        "load_avg_before": before, "load_avg_after": load_avg(), "run_tree": work,
    }))
}
