//! Recording a full-size confirmation (`[validation.confirm]`, `qt confirm`) without
//! rewriting the screening record: the `confirm` object is added to the generation's
//! `validation.json` (every other field kept as it was, the file replaced atomically), after
//! the same object went to the run folder's append-only `confirm.jsonl`, the log of every
//! confirmation ever made (a second confirm DB replaces `confirm`, never the log).
//!
//! A kill between the two steps leaves a log line whose generation still has no (or the
//! older) `confirm`; a resumed stage confirms it again and logs a second, equally true
//! measurement. Nothing here decides a verdict.

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use super::layout::{CONFIG, CONFIRM_LOG, RunDir, SUMMARY_JSON, SUMMARY_TXT, VALIDATION};
use super::summary::{GenStat, SummaryContext, summary_json, summary_text};

/// The key of the confirmation object in validation.json.
pub const CONFIRM_KEY: &str = "confirm";

/// Record `confirm` for generation `number`: one line in confirm.jsonl (with `query_id`,
/// `gen`, `arm_name` and `screening_speedup` of the generation, so the log reads alone),
/// then validation.json with `confirm` set.
pub fn record(run: &RunDir, number: u32, confirm: &Value) -> io::Result<()> {
    let dir = run
        .find_gen(number)
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no generation folder {number} in {}", run.path.display())))?;
    let path = dir.join(VALIDATION);
    let text = std::fs::read_to_string(&path)?;
    let mut v: Map<String, Value> = serde_json::from_str(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", path.display())))?;
    let mut line = json!({
        "query_id": v.get("query_id").cloned().unwrap_or(Value::Null),
        "gen": number,
        "arm_name": v.get("arm_name").cloned().unwrap_or(Value::Null),
        "screening_speedup": v.get("speedup").cloned().unwrap_or(Value::Null),
    });
    if let (Some(l), Some(c)) = (line.as_object_mut(), confirm.as_object()) {
        l.extend(c.iter().map(|(k, x)| (k.clone(), x.clone())));
    }
    append_line(run, &line)?;
    v.insert(CONFIRM_KEY.into(), confirm.clone());
    let bytes = serde_json::to_vec_pretty(&Value::Object(v)).map_err(io::Error::other)?;
    crate::files::atomic::write_atomic(&path, &bytes)
}

fn append_line(run: &RunDir, line: &Value) -> io::Result<()> {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(run.file(CONFIRM_LOG))?;
    let mut text = serde_json::to_string(line).map_err(io::Error::other)?;
    text.push('\n');
    f.write_all(text.as_bytes())?;
    f.sync_data()
}

/// The lines of confirm.jsonl (empty when the run was never confirmed); unreadable lines
/// (a torn last line after a crash) are skipped.
pub fn log_lines(run: &RunDir) -> Vec<Value> {
    std::fs::read_to_string(run.file(CONFIRM_LOG))
        .map(|t| t.lines().filter_map(|l| serde_json::from_str(l).ok()).collect())
        .unwrap_or_default()
}

/// A screening record as results.jsonl holds it: without the confirmation, which lives in
/// validation.json and confirm.jsonl.
pub fn screening_only(record: &Value) -> Value {
    let mut r = record.clone();
    if let Some(o) = r.as_object_mut() {
        o.remove(CONFIRM_KEY);
    }
    r
}

/// The run folders `qt confirm DIR` works on: DIR itself when it is a run folder (it holds
/// config.json); else the run folders an experiment's summary.json lists (relocated
/// beside it when the recorded paths are gone, as after copying the tree to another
/// machine); else the latest run folder of each query found directly under DIR.
pub fn run_folders(dir: &Path) -> Vec<RunDir> {
    if dir.join(CONFIG).is_file() {
        return vec![RunDir { path: dir.to_path_buf() }];
    }
    let mut out: Vec<PathBuf> = Vec::new();
    let sweep: Option<Value> = std::fs::read_to_string(dir.join(SUMMARY_JSON)).ok().and_then(|t| serde_json::from_str(&t).ok());
    for row in sweep.iter().flat_map(|s| s["rows"].as_array().cloned().unwrap_or_default()) {
        let Some(p) = row["run_dir"].as_str().map(PathBuf::from) else { continue };
        let p = if p.join(CONFIG).is_file() { p } else { dir.join(p.file_name().unwrap_or_default()) };
        if p.join(CONFIG).is_file() && !out.contains(&p) {
            out.push(p);
        }
    }
    if out.is_empty() {
        let mut latest: BTreeMap<String, PathBuf> = BTreeMap::new();
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).filter(|p| p.join(CONFIG).is_file()).collect();
        found.sort();
        for p in found {
            let qid = std::fs::read_to_string(p.join(CONFIG)).ok().and_then(|t| serde_json::from_str::<Value>(&t).ok()).and_then(|c| c["query_id"].as_str().map(str::to_string));
            latest.insert(qid.unwrap_or_else(|| p.display().to_string()), p);
        }
        out = latest.into_values().collect();
    }
    out.into_iter().map(|path| RunDir { path }).collect()
}

/// Rebuild a run folder's summary.json / summary.txt from its generation records (after a
/// confirmation added `confirm` objects), keeping what only the earlier summary knows:
/// the plan's arms, elapsed time, interruption, the sample re-timing and the run id.
pub fn rebuild_summary(run: &RunDir) -> io::Result<Value> {
    let old: Value = std::fs::read_to_string(run.file(SUMMARY_JSON)).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or(Value::Null);
    let cfg: Value = std::fs::read_to_string(run.file(CONFIG)).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or(Value::Null);
    let records: BTreeMap<u32, GenStat> = run.completed_gens().iter().map(|(n, v)| (*n, GenStat::from_record(v))).collect();
    let mut arms: Vec<(String, usize)> =
        old["arms"].as_array().into_iter().flatten().map(|a| (a["name"].as_str().unwrap_or_default().to_string(), a["total"].as_u64().unwrap_or(0) as usize)).collect();
    if arms.is_empty() {
        arms = cfg["arms"].as_array().into_iter().flatten().map(|a| (a["name"].as_str().unwrap_or_default().to_string(), a["workers"].as_u64().unwrap_or(0) as usize)).collect();
    }
    let query_id = old["query_id"].as_str().or(cfg["query_id"].as_str()).unwrap_or_default().to_string();
    let total = old["total_workers"].as_u64().or(cfg["total_generations"].as_u64()).unwrap_or(records.len() as u64) as usize;
    let ctx = SummaryContext {
        query_id: &query_id,
        total,
        largest_gen: old["largest_gen"].as_u64().map(|n| n as usize).unwrap_or(total),
        arms: &arms,
        elapsed_seconds: old["elapsed_seconds"].as_f64().unwrap_or(0.0),
        interrupted: old["interrupted"].as_bool() == Some(true),
        // The sample re-timings, without the `held` the summary derives again (older
        // summaries hold only the best's `confirmed`).
        confirmations: old["confirmations"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| old["confirmed"].as_object().map(|c| vec![Value::Object(c.clone())]).unwrap_or_default())
            .into_iter()
            .map(|mut c| {
                if let Some(o) = c.as_object_mut() {
                    o.remove("held");
                }
                c
            })
            .collect(),
    };
    let mut s = summary_json(&records, &ctx);
    if !old["run_id"].is_null() {
        s["run_id"] = old["run_id"].clone();
    }
    run.write(SUMMARY_JSON, serde_json::to_vec_pretty(&s).map_err(io::Error::other)?)?;
    run.write(SUMMARY_TXT, summary_text(&s))?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::layout::GenFiles;

    #[test]
    fn confirm_is_added_and_logged_and_the_rest_is_kept() {
        let t = tempfile::tempdir().unwrap();
        let run = RunDir::create(t.path(), "1", "20261126_090000").unwrap();
        let v = json!({"worker_id": 2, "status": "pass", "speedup": 1.5, "arm_name": "a", "query_id": "1", "zeta": [1, 2]});
        run.write_gen(2, 20, &GenFiles { attempts: &[], optimized_sql: Some("select 1"), validation: &v }).unwrap();
        record(&run, 2, &json!({"db": "tpcds sf1", "status": "pass", "speedup": 1.2})).unwrap();
        let back: Value = serde_json::from_str(&std::fs::read_to_string(run.gen_dir(2, 20).join(VALIDATION)).unwrap()).unwrap();
        assert_eq!(screening_only(&back), v, "screening fields unchanged, in order");
        let keys: Vec<&String> = back.as_object().unwrap().keys().collect();
        assert_eq!(keys.last().map(|k| k.as_str()), Some("confirm"));
        assert_eq!(back["confirm"]["speedup"], 1.2);
        record(&run, 2, &json!({"db": "prod", "status": "pass", "speedup": 0.9})).unwrap();
        let lines = log_lines(&run);
        assert_eq!(lines.len(), 2, "the log keeps both confirmations");
        assert_eq!((lines[0]["db"].as_str(), lines[0]["screening_speedup"].as_f64(), lines[0]["gen"].as_u64()), (Some("tpcds sf1"), Some(1.5), Some(2)));
        assert!(record(&run, 3, &json!({})).is_err(), "no such generation");
    }
}
