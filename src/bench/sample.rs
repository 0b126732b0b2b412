//! `qt bench --which sample`: what sampled sample DBs and multi-instance validation cost.
//!
//! - builds of TPC-DS (scale 100, sample 0.01) and (scale 10, sample 0.1) into a temp
//!   folder, each as a `qt db generate` child: wall time, CPU time (user + system of the
//!   child), file size and the child's peak RSS;
//! - validation of one candidate (TPC-DS q3 against itself) with 1 instance and with the
//!   default 3, on the cached default sample (built first if absent; not timed).
//!
//! Figures only; nothing asserts on time.

use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::db::GenSpec;
use crate::validate::instances::{self, Extras, Instance};
use crate::validate::{TimingLane, ValidatorConfig, prepare_baseline};

/// Are the default sample DB and its instances already in the cache (no build needed)?
pub fn default_dbs_cached() -> bool {
    let primary = GenSpec::sampled(100.0, 0.01, 1);
    std::iter::once(primary.clone())
        .chain(primary.default_instances(3))
        .all(|g| crate::db::generated_path_for(&g).is_file())
}

/// The build rows (`builds`) and the validation row (`validation`).
pub fn sample_bench(builds: bool, validation: bool) -> anyhow::Result<Vec<Value>> {
    let mut rows = Vec::new();
    let scales: &[(f64, f64)] = if builds { &[(100.0, 0.01), (10.0, 0.1)] } else { &[] };
    for &(scale, sample) in scales {
        let r = build_row(scale, Some(sample))?;
        crate::outln!(
            "sample DB scale {scale} sample {sample}: {:.1} s wall, {:.1} s CPU, {:.0} MB, peak RSS {:.0} MB",
            r["wall_s"].as_f64().unwrap_or(0.0),
            r["cpu_s"].as_f64().unwrap_or(0.0),
            r["size_mb"].as_f64().unwrap_or(0.0),
            r["peak_rss_mb"].as_f64().unwrap_or(0.0)
        );
        rows.push(r);
    }
    if validation {
        rows.push(instances_row()?);
    }
    Ok(rows)
}

/// One `qt db generate` child into a temp folder (a full database when `sample` is None):
/// wall and CPU time, size, peak RSS.
pub(super) fn build_row(scale: f64, sample: Option<f64>) -> anyhow::Result<Value> {
    let dir = tempfile::Builder::new().prefix("qt-bench-db-").tempdir()?;
    let out = dir.path().join("sample.duckdb");
    let exe = std::env::current_exe()?;
    let cpu_before = children_cpu_s();
    let started = Instant::now();
    let child = std::process::Command::new(exe)
        .args(["db", "generate", "--quiet", "--scale"])
        .arg(scale.to_string())
        .args(sample.map(|s| vec!["--sample".to_string(), s.to_string()]).unwrap_or_default())
        .arg("--out")
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let (code, peak_kb) = super::child::wait_measured(child, Duration::from_millis(100))?;
    let wall = started.elapsed().as_secs_f64();
    let cpu = children_cpu_s() - cpu_before;
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    Ok(json!({
        "bench": match sample { Some(f) => format!("db_sf{scale}_sample{f}"), None => format!("db_sf{scale}_full") }, "scale": scale, "sample": sample,
        "exit_code": code, "wall_s": wall, "cpu_s": cpu,
        "size_mb": size as f64 / 1e6, "peak_rss_mb": peak_kb as f64 / 1024.0,
    }))
}


/// User + system CPU seconds of every waited-for child so far.
fn children_cpu_s() -> f64 {
    // SAFETY: getrusage fills the struct we pass; RUSAGE_CHILDREN is always valid.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) } != 0 {
        return f64::NAN;
    }
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

/// One candidate (q3 as its own rewrite, or the first demo query) validated with 1
/// instance and with 3, on the default sample and its default instances.
fn instances_row() -> anyhow::Result<Value> {
    let primary_spec = GenSpec::sampled(100.0, 0.01, 1);
    let dbs = crate::validate::default_dbs(3)?;
    let specs: Vec<GenSpec> = std::iter::once(primary_spec.clone())
        .chain(primary_spec.default_instances(3))
        .collect();
    let all: Vec<Instance> = dbs
        .iter()
        .zip(&specs)
        .map(|(p, g)| Instance::new(p.clone(), g.label()))
        .collect();
    let sql = candidate_sql()?;
    let cfg = ValidatorConfig::default();
    let lane = TimingLane::new();
    let primary: &Path = &dbs[0];
    let base = prepare_baseline(primary, &sql, &cfg, &lane)
        .map_err(|v| anyhow::anyhow!("baseline: {}", v.summary_line()))?;
    let mut figures = Vec::new();
    for n in [1usize, 3] {
        let started = Instant::now();
        let extras = Extras::prepare(&all[0], &all[1..n], &sql, &cfg);
        let prepare_s = started.elapsed().as_secs_f64();
        let t = Instant::now();
        let checked = instances::check(primary, &base, &extras, &sql, &cfg, &lane);
        let check_s = t.elapsed().as_secs_f64();
        crate::outln!(
            "validation with {n} instance(s): {:.2} s per candidate (+{:.2} s once per query for the extra baselines), {}",
            check_s,
            prepare_s,
            checked.summary_line()
        );
        figures.push(json!({"instances": n, "candidate_s": check_s, "per_query_s": prepare_s, "status": checked.status()}));
    }
    Ok(json!({"bench": "validation_instances", "query": "q3 (A/A)", "figures": figures}))
}

fn candidate_sql() -> anyhow::Result<String> {
    let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tpcds = std::env::var_os("QT_TPCDS_QUERIES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo.join("../shared/tpcds/queries"));
    let p = tpcds.join("query_3.sql");
    let p = if p.is_file() {
        p
    } else {
        repo.join("queries/demo/demo1.sql")
    };
    Ok(std::fs::read_to_string(p)?)
}
