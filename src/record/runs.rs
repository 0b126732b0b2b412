//! Run ids and the sweep's history of runs. Every `qt run` gets one id (UTC timestamp +
//! short hash), recorded in each config.json and results.jsonl line; a sweep keeps one
//! summary per run under `<name>/runs/<run_id>/summary.json` (that run's part only), a
//! copy of the newest under `<name>/runs/latest/`, and in `<name>/summary.json` the
//! experiment's view: the latest row of every query and arm across runs (built by
//! `report::sweep::experiment_view`).

use sha2::{Digest, Sha256};
use std::io;
use std::path::{Path, PathBuf};

use crate::files::atomic::write_atomic;
use super::layout::SUMMARY_JSON;

pub const RUNS_DIR: &str = "runs";
pub const LATEST: &str = "latest";

/// `20261127T103012Z-3fa9c2`: sortable by time, unique across machines and processes.
pub fn new_run_id(spec_sha256: &str) -> String {
    let now = chrono::Utc::now();
    let mut h = Sha256::new();
    h.update(spec_sha256.as_bytes());
    h.update(now.timestamp_nanos_opt().unwrap_or_default().to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    h.update(std::env::var("HOSTNAME").unwrap_or_default().as_bytes());
    let hash = hex::encode(h.finalize());
    format!("{}-{}", now.format("%Y%m%dT%H%M%SZ"), &hash[..6])
}

/// Write the sweep summaries of run `run_id`: `own` (this run's part) as its own copy and
/// `runs/latest/`, `view` (the experiment's view) as the top-level `summary.json`.
/// Returns the run's own path.
pub fn write_sweep_summary(output_dir: &Path, run_id: &str, own: &[u8], view: &[u8]) -> io::Result<PathBuf> {
    let own_dir = output_dir.join(RUNS_DIR).join(run_id);
    let latest = output_dir.join(RUNS_DIR).join(LATEST);
    for dir in [&own_dir, &latest] {
        std::fs::create_dir_all(dir)?;
        write_atomic(&dir.join(SUMMARY_JSON), own)?;
    }
    write_atomic(&output_dir.join(SUMMARY_JSON), view)?;
    Ok(own_dir.join(SUMMARY_JSON))
}

/// The experiment's summary.json as it is before this run (a sweep: it has rows).
pub fn read_experiment_summary(output_dir: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(output_dir.join(SUMMARY_JSON)).ok()?;
    serde_json::from_str::<serde_json::Value>(&text).ok().filter(|v| v["rows"].is_array())
}

/// Does a sweep row's run folder still exist (as recorded, or by its name under the
/// experiment folder when the tree was moved)?
pub fn row_run_exists(output_dir: &Path, row: &serde_json::Value) -> bool {
    let Some(p) = row["run_dir"].as_str().map(Path::new) else { return false };
    p.join(super::layout::CONFIG).is_file()
        || p.file_name().is_some_and(|n| output_dir.join(n).join(super::layout::CONFIG).is_file())
}

/// The run ids kept for a sweep, oldest first (`latest` excluded).
pub fn list_runs(output_dir: &Path) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(output_dir.join(RUNS_DIR))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != LATEST && !n.starts_with('.'))
        .collect();
    ids.sort();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_and_runs_are_kept() {
        let a = new_run_id("x");
        let b = new_run_id("x");
        assert_ne!(a, b);
        assert_eq!(a.len(), "20261127T103012Z-3fa9c2".len(), "{a}");
        let t = tempfile::tempdir().unwrap();
        write_sweep_summary(t.path(), &a, b"{\"n\":1}", b"{\"v\":1}").unwrap();
        write_sweep_summary(t.path(), &b, b"{\"n\":2}", b"{\"v\":2}").unwrap();
        let mut both = vec![a.clone(), b.clone()];
        both.sort();
        assert_eq!(list_runs(t.path()), both);
        assert_eq!(std::fs::read(t.path().join("runs").join(&a).join("summary.json")).unwrap(), b"{\"n\":1}");
        assert_eq!(std::fs::read(t.path().join("runs/latest/summary.json")).unwrap(), b"{\"n\":2}");
        assert_eq!(std::fs::read(t.path().join("summary.json")).unwrap(), b"{\"v\":2}");
    }
}
