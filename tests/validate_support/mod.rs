//! Shared helpers for the validate tests: hand-built DuckDB files in temp dirs.
#![allow(dead_code)]

use qt::validate::{TimingLane, ValidatorConfig, Verdict, prepare_baseline, validate_candidate};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A DuckDB file built with a normal read-write connection, then closed.
pub struct TestDb {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

pub fn db_with(setup_sql: &str) -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("sample.duckdb");
    let conn = duckdb::Connection::open(&path).expect("create test DB");
    conn.execute_batch(setup_sql).expect("populate test DB");
    conn.close().map_err(|(_, e)| e).expect("close test DB");
    TestDb { dir, path }
}

/// Equivalence-only config: fast, no timing rounds.
pub fn quick_cfg() -> ValidatorConfig {
    ValidatorConfig {
        threads: 1,
        memory_limit: "1GB".into(),
        timing_rounds: 0,
        warmup: 0,
        timeout_factor: 10.0,
        original_timeout: Duration::from_secs(60),
        skip_timing: true,
        ..Default::default()
    }
}

/// Baseline + candidate in one go (the baseline's failure is the verdict).
pub fn check_with(db: &Path, original: &str, candidate: &str, cfg: &ValidatorConfig) -> Verdict {
    let lane = TimingLane::new();
    match prepare_baseline(db, original, cfg, &lane) {
        Ok(base) => validate_candidate(db, &base, candidate, cfg, &lane),
        Err(v) => v,
    }
}

pub fn check(db: &Path, original: &str, candidate: &str) -> Verdict {
    check_with(db, original, candidate, &quick_cfg())
}

pub fn sha256(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).expect("read DB file")))
}

/// Sorted names of the files in a folder.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("list dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[track_caller]
pub fn assert_pass(v: &Verdict) {
    assert!(v.is_pass(), "expected pass, got {}", v.render_human());
}

#[track_caller]
pub fn assert_status(v: &Verdict, status: &str, reason: &str) {
    assert_eq!(
        (v.status(), v.reason()),
        (status, Some(reason)),
        "got {}",
        v.render_human()
    );
}
