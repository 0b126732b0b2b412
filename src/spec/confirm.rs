//! `[validation.confirm]` resolved: the full-size database the best passes are confirmed
//! on, how many per query and arm, and the settings of that stage. Every value is checked
//! here, at load, with the file and line (a `top = 0` found after the LLM calls were paid
//! for would waste them).
//!
//! It does not open or build the database (run/ does, before any LLM call) and does not
//! know the primary sample DB (the "same as the primary" refusal needs both files).

use super::DbSource;
use super::limits::{MAX_TIMEOUT_FACTOR, MAX_TIMEOUT_S, MAX_TIMING_ROUNDS, MAX_WARMUP, MIN_MEMORY_BYTES, max_threads, parse_memory};
use super::paths::{self, Kind};
use super::spans::Source;
use super::types::{ConfirmCfg, GenerateCfg, SpecFile};
use super::{SpecError, load::positive};
use std::path::Path;

/// Most candidates confirmed per query and arm.
pub const MAX_TOP: i64 = 1000;

/// The confirmation stage of an experiment (`Experiment::confirm`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ConfirmSpec {
    /// The full-size DB (a file, known to exist at load time, or a generated one).
    pub db: DbSource,
    /// Per query and arm, at least 1.
    pub top: u32,
    pub min_speedup: Option<f64>,
    /// `None`: `[validation]`'s value.
    pub timing_rounds: Option<u32>,
    pub warmup: Option<u32>,
    pub timeout_factor: Option<f64>,
    pub original_timeout_s: Option<f64>,
    /// `None`: every core.
    pub threads: Option<u32>,
    pub memory_limit: Option<String>,
}

const AT: [&str; 2] = ["validation", "confirm"];

fn at<'a>(key: &'a str) -> [&'a str; 3] {
    [AT[0], AT[1], key]
}

/// `[validation.confirm]` of the spec, if written, resolved and checked.
pub fn resolve(spec: &SpecFile, src: &Source, spec_dir: &Path) -> Result<Option<ConfirmSpec>, SpecError> {
    let Some(c) = &spec.validation.confirm else { return Ok(None) };
    let db = resolve_db(c, src, spec_dir)?;
    if !(1..=MAX_TOP).contains(&c.top) {
        return Err(src.at_value(
            &at("top"),
            format!("top must be between 1 and {MAX_TOP}, not {}", c.top),
            Some("top = 3 confirms the 3 best distinct passes of each query and arm".into()),
        ));
    }
    if let Some(x) = c.min_speedup.filter(|x| !positive(*x)) {
        return Err(src.at_value(&at("min_speedup"), format!("min_speedup must be a positive number, not {x}"), Some("use e.g. min_speedup = 1.1 (passes below 1.10x on the sample are not confirmed)".into())));
    }
    let checks: [(bool, &str, String, &str); 5] = [
        (c.timing_rounds.is_some_and(|r| r > MAX_TIMING_ROUNDS), "timing_rounds", format!("timing_rounds = {} is more than {MAX_TIMING_ROUNDS}", c.timing_rounds.unwrap_or(0)), "use e.g. timing_rounds = 7"),
        (c.warmup.is_some_and(|w| w > MAX_WARMUP), "warmup", format!("warmup = {} is more than {MAX_WARMUP}", c.warmup.unwrap_or(0)), "use e.g. warmup = 1"),
        (c.timeout_factor.is_some_and(|f| !positive(f) || f > MAX_TIMEOUT_FACTOR), "timeout_factor", format!("timeout_factor must be a positive number up to {MAX_TIMEOUT_FACTOR}, not {}", c.timeout_factor.unwrap_or(0.0)), "use e.g. timeout_factor = 10.0"),
        (c.original_timeout_s.is_some_and(|t| !positive(t) || t > MAX_TIMEOUT_S), "original_timeout_s", format!("original_timeout_s must be a positive number of seconds up to one day (86400), not {}", c.original_timeout_s.unwrap_or(0.0)), "use e.g. original_timeout_s = 3600 for a large database"),
        (c.threads.is_some_and(|t| t == 0 || t > max_threads()), "threads", format!("threads must be between 1 and {} (4 x this machine's cores), not {}", max_threads(), c.threads.unwrap_or(0)), "leave threads out to use every core (the stage runs alone)"),
    ];
    if let Some((_, key, message, help)) = checks.into_iter().find(|c| c.0) {
        return Err(src.at_value(&at(key), message, Some(help.into())));
    }
    if let Some(m) = &c.memory_limit {
        match parse_memory(m) {
            Ok(b) if b >= MIN_MEMORY_BYTES => {}
            Ok(_) => return Err(src.at_value(&at("memory_limit"), format!("memory_limit {m:?} is below 16MB"), Some("use e.g. memory_limit = \"16GB\"".into()))),
            Err(e) => return Err(src.at_value(&at("memory_limit"), e, Some("write a number and a unit, e.g. memory_limit = \"16GB\"".into()))),
        }
    }
    Ok(Some(ConfirmSpec {
        db,
        top: c.top as u32,
        min_speedup: c.min_speedup,
        timing_rounds: c.timing_rounds,
        warmup: c.warmup,
        timeout_factor: c.timeout_factor,
        original_timeout_s: c.original_timeout_s,
        threads: c.threads,
        memory_limit: c.memory_limit.clone(),
    }))
}

fn resolve_db(c: &ConfirmCfg, src: &Source, spec_dir: &Path) -> Result<DbSource, SpecError> {
    let db_at = at("db");
    match (&c.db.path, &c.db.generate) {
        (Some(_), Some(_)) => Err(src.at_value(
            &db_at,
            "validation.confirm.db has both `path` and `generate`",
            Some("keep one: db = { path = \"full.duckdb\" } or db = { generate = { benchmark = \"tpcds\", scale = 10 } }".into()),
        )),
        (None, None) => Err(src.at_value(
            &db_at,
            "validation.confirm.db names no database",
            Some("write db = { path = \"full.duckdb\" } (an existing DuckDB file) or db = { generate = { benchmark = \"tpcds\", scale = 10 } }".into()),
        )),
        (Some(p), None) => {
            let found = paths::resolve(spec_dir, p, Kind::File);
            if !found.exists {
                return Err(src.at_value(
                    &[AT[0], AT[1], "db", "path"],
                    format!("confirm database {} does not exist{}", found.path.display(), found.tried_text()),
                    Some("point validation.confirm.db.path at your full-size DuckDB file (looked up like database.path)".into()),
                ));
            }
            Ok(DbSource::Path(found.path))
        }
        (None, Some(g)) => generated(g, src),
    }
}

fn generated(g: &GenerateCfg, src: &Source) -> Result<DbSource, SpecError> {
    let gen_at = [AT[0], AT[1], "db", "generate"];
    let bad = |m: String, help: &str| Err(src.at_value(&gen_at, m, Some(help.into())));
    if g.benchmark != "tpcds" {
        return bad(format!("unknown benchmark `{}`", g.benchmark), "the built-in generator knows benchmark = \"tpcds\"");
    }
    if !positive(g.scale) || g.scale > 1000.0 {
        return bad(format!("scale must be a positive number up to 1000, not {}", g.scale), "use e.g. scale = 10 (a full TPC-DS SF10, about 3 GB)");
    }
    if let Some(x) = g.sample.filter(|x| !(x.is_finite() && *x > 0.0 && *x <= 1.0)) {
        return bad(format!("sample must be a fraction in (0, 1], not {x}"), "leave sample out for a full-size database");
    }
    let instance = g.instance.unwrap_or(1);
    if instance < 1 || instance > i64::from(u32::MAX) {
        return bad(format!("instance must be 1 or more, not {instance}"), "instances are numbered from 1");
    }
    Ok(DbSource::Generate { benchmark: g.benchmark.clone(), scale: g.scale, sample: g.sample, instance: instance as u32 })
}
