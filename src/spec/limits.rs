//! Range checks on the spec's numbers, so a value that would fail late (after the LLM
//! calls were paid for) or panic (`Duration::from_secs_f64(1e300)`) is refused at load
//! with the file and line: timeouts at most one day, threads at most 4 x this machine's
//! cores, `memory_limit` parsed by our own parser of DuckDB's units, counts at least 1 and
//! bounded. Soft problems (`per_worker` larger than the examples folder) are warnings.
//!
//! The checks read resolved values only; `arm.rs` points the error at the right line.

use super::Experiment;
use super::keys::Sections;
use super::types::Strategy;

/// Longest timeout accepted anywhere (LLM request, original query): one day.
pub const MAX_TIMEOUT_S: f64 = 86_400.0;
pub const MAX_TIMING_ROUNDS: u32 = 1_000;
pub const MAX_WARMUP: u32 = 100;
pub const MAX_TIMEOUT_FACTOR: f64 = 1_000.0;
pub const MAX_ATTEMPTS: u32 = 100;
pub const MAX_RETRIES_ON_FAILURE: u32 = 100;
pub const MAX_WORKERS: u32 = 1_000_000;
pub const MAX_CONCURRENCY: usize = 10_000;
pub const MAX_MIN_ROWS: i64 = 1_000_000;
pub const MAX_REBIND_TRIES: i64 = 100;
/// Re-bindings tried by default. 32, not 8: over the four default instances 8 tries left
/// 16 of the 105 TPC-DS statements unjudgeable and 32-40 left 11 (`tests/judgeable.rs`);
/// tries run once per query, on the original only.
pub const DEFAULT_REBIND_TRIES: i64 = 32;
/// Below this DuckDB cannot run TPC-DS-sized queries at all.
pub const MIN_MEMORY_BYTES: u64 = 16 * 1000 * 1000;

/// The largest `threads` accepted: 4 x the cores available to this process.
pub fn max_threads() -> u32 {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    u32::try_from(cores.saturating_mul(4)).unwrap_or(u32::MAX)
}

/// Parse a DuckDB memory size (`4GB`, `500 MiB`, `1.5gb`, `1000000 bytes`) into bytes.
/// Units as DuckDB spells them, any case: b/byte/bytes, KB/MB/GB/TB (1000^i) with their
/// long names, KiB/MiB/GiB/TiB (1024^i). A unit is required (DuckDB's rule too).
pub fn parse_memory(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = (&t[..split], t[split..].trim().to_ascii_lowercase());
    let value: f64 = num
        .parse()
        .map_err(|_| format!("memory_limit {text:?} does not start with a number"))?;
    let factor: f64 = match unit.as_str() {
        "b" | "byte" | "bytes" => 1.0,
        "kb" | "kilobyte" | "kilobytes" => 1e3,
        "mb" | "megabyte" | "megabytes" => 1e6,
        "gb" | "gigabyte" | "gigabytes" => 1e9,
        "tb" | "terabyte" | "terabytes" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        "" => return Err(format!("memory_limit {text:?} has no unit")),
        other => return Err(format!("memory_limit {text:?}: unknown unit {other:?}")),
    };
    let bytes = value * factor;
    if !bytes.is_finite() || bytes > 1e18 {
        return Err(format!("memory_limit {text:?} is too large"));
    }
    Ok(bytes as u64)
}

/// A float as written by a person: `1e300`, not three hundred digits.
fn num(x: f64) -> String {
    if x.abs() >= 1e9 { format!("{x:e}") } else { format!("{x}") }
}

/// The first out-of-range value of an arm: (dotted key, message, help).
pub fn check(s: &Sections) -> Option<(&'static str, String, String)> {
    let (l, g, v) = (&s.llm, &s.generation, &s.validation);
    let max_threads = max_threads();
    let day = "at most one day (86400 s)";
    let mut rules: Vec<(bool, &'static str, String, String)> = vec![
        (l.timeout_s > MAX_TIMEOUT_S, "llm.timeout_s", format!("timeout_s = {} is {day}", num(l.timeout_s)), "use e.g. timeout_s = 180".into()),
        (l.max_tokens == 0, "llm.max_tokens", "max_tokens must be at least 1".into(), "use e.g. max_tokens = 8192".into()),
        (l.max_attempts > MAX_ATTEMPTS, "llm.max_attempts", format!("max_attempts = {} is more than {MAX_ATTEMPTS}", l.max_attempts), "use e.g. max_attempts = 5".into()),
        (l.max_concurrency > MAX_CONCURRENCY, "llm.max_concurrency", format!("max_concurrency = {} is more than {MAX_CONCURRENCY}", l.max_concurrency), "use e.g. max_concurrency = 20".into()),
        (g.workers > MAX_WORKERS, "generation.workers", format!("workers = {} is more than {MAX_WORKERS}", g.workers), "split the experiment into several specs".into()),
        (g.retries_on_failure > MAX_RETRIES_ON_FAILURE, "generation.retries_on_failure", format!("retries_on_failure = {} is more than {MAX_RETRIES_ON_FAILURE}", g.retries_on_failure), "use e.g. retries_on_failure = 1".into()),
        (v.timing_rounds > MAX_TIMING_ROUNDS, "validation.timing_rounds", format!("timing_rounds = {} is more than {MAX_TIMING_ROUNDS}", v.timing_rounds), "use e.g. timing_rounds = 7".into()),
        (v.warmup > MAX_WARMUP, "validation.warmup", format!("warmup = {} is more than {MAX_WARMUP}", v.warmup), "use e.g. warmup = 1".into()),
        (v.timeout_factor > MAX_TIMEOUT_FACTOR, "validation.timeout_factor", format!("timeout_factor = {} is more than {MAX_TIMEOUT_FACTOR}", num(v.timeout_factor)), "use e.g. timeout_factor = 10.0".into()),
        (!(1..=MAX_MIN_ROWS).contains(&v.min_rows), "validation.min_rows", format!("min_rows = {} must be between 1 and {MAX_MIN_ROWS}", v.min_rows), "use e.g. min_rows = 2 (a pass then needs two rows of the original's results over the instances)".into()),
        (!(0..=MAX_REBIND_TRIES).contains(&v.rebind_tries), "validation.rebind_tries", format!("rebind_tries = {} must be between 0 and {MAX_REBIND_TRIES}", v.rebind_tries), "use e.g. rebind_tries = 32, or 0 to never re-bind literals".into()),
        (v.original_timeout_s > MAX_TIMEOUT_S, "validation.original_timeout_s", format!("original_timeout_s = {} is {day}", num(v.original_timeout_s)), "use e.g. original_timeout_s = 300".into()),
        (
            v.threads == 0 || v.threads > max_threads,
            "validation.threads",
            format!("threads = {} must be between 1 and {max_threads} (4 x the {} cores here)", v.threads, max_threads / 4),
            "use threads = 1 (stable timings) or the number of cores".into(),
        ),
    ];
    if let Some(w) = &v.work_mem {
        let help = "write a PostgreSQL size, e.g. work_mem = \"64MB\" (units B, kB, MB, GB, TB)".to_string();
        match crate::db::settings::parse_pg_size_kb(w) {
            Err(e) => rules.push((true, "validation.work_mem", format!("work_mem {e}"), help)),
            Ok(kb) => rules.push((
                kb < crate::db::settings::MIN_WORK_MEM_KB,
                "validation.work_mem",
                format!("work_mem {w:?} is below PostgreSQL's minimum of 64kB"),
                help,
            )),
        }
    }
    if let Some(n) = v.max_parallel_workers_per_gather {
        let max = crate::db::settings::MAX_PARALLEL_WORKERS;
        rules.push((
            n > max,
            "validation.max_parallel_workers_per_gather",
            format!("max_parallel_workers_per_gather = {n} is more than PostgreSQL's maximum of {max}"),
            "use 0 (no parallel workers: stable timings) or the number of cores - 1".into(),
        ));
    }
    if let Some(t) = &v.temp_file_limit
        && let Err(e) = crate::db::settings::parse_temp_file_limit_kb(t)
    {
        rules.push((
            true,
            "validation.temp_file_limit",
            format!("temp_file_limit {e}"),
            "write a PostgreSQL size, e.g. temp_file_limit = \"10GB\", or \"-1\" for no limit".into(),
        ));
    }
    match parse_memory(&v.memory_limit) {
        Err(e) => rules.push((true, "validation.memory_limit", e, "write a size with a unit DuckDB knows, e.g. \"4GB\" or \"512MiB\"".into())),
        Ok(b) => rules.push((
            b < MIN_MEMORY_BYTES,
            "validation.memory_limit",
            format!("memory_limit {:?} is below 16MB; every query would fail", v.memory_limit),
            "use e.g. memory_limit = \"4GB\"".into(),
        )),
    }
    rules.into_iter().find(|r| r.0).map(|(_, k, m, h)| (k, m, h))
}

/// Soft problems of a loaded experiment, one line each (file:line when known).
pub fn warnings(exp: &Experiment) -> Vec<String> {
    let mut out = Vec::new();
    let line = line_of(&exp.spec_text, &["examples", "per_worker"]);
    let at = match line {
        Some(n) => format!("{}:{n}", exp.spec_path.display()),
        None => exp.spec_path.display().to_string(),
    };
    for arm in &exp.arms {
        let e = &arm.examples;
        if !matches!(e.strategy, Strategy::Batches | Strategy::Random | Strategy::Matched) {
            continue;
        }
        let available = std::fs::read_dir(&arm.examples_dir)
            .map(|d| d.filter_map(|e| e.ok()).filter(|e| e.path().extension().is_some_and(|x| x == "json")).count())
            .unwrap_or(0);
        if e.per_worker > available {
            out.push(format!(
                "warning: {at}: arm `{}`: examples.per_worker = {} but {} holds {available} examples; \
                 every worker gets all {available} (in a different order)",
                arm.name,
                e.per_worker,
                arm.examples_dir.display()
            ));
        }
    }
    out.extend(postgres_only(exp));
    if let (crate::spec::DbSource::Path(_) | crate::spec::DbSource::Postgres { .. }, Some(n)) = (&exp.database, exp.instances)
        && n as usize > 1 + exp.extra_paths.len()
    {
        let at = match line_of(&exp.spec_text, &["validation", "instances"]) {
            Some(l) => format!("{}:{l}", exp.spec_path.display()),
            None => exp.spec_path.display().to_string(),
        };
        out.push(format!(
            "warning: {at}: instances = {n} counts generated data instances, but [database] names your own DB: \
             candidates are checked on it and the {} of validation.extra_paths; list other databases there \
             (another slice of your data, one with NULLs and empty groups) for more",
            exp.extra_paths.len()
        ));
    }
    out
}

/// PostgreSQL's session settings written for a DuckDB database: DuckDB ignores them (its
/// `memory_limit` and `threads` hold), so each is named once, with its line.
fn postgres_only(exp: &Experiment) -> Vec<String> {
    if matches!(exp.database, crate::spec::DbSource::Postgres { .. }) {
        return Vec::new();
    }
    let keys = ["work_mem", "max_parallel_workers_per_gather", "temp_file_limit"];
    let set = |v: &crate::spec::ValidationCfg, k: &str| match k {
        "work_mem" => v.work_mem.is_some(),
        "max_parallel_workers_per_gather" => v.max_parallel_workers_per_gather.is_some(),
        _ => v.temp_file_limit.is_some(),
    };
    keys.iter()
        .filter(|k| set(&exp.resolved.validation, k) || exp.arms.iter().any(|a| set(&a.validation, k)))
        .map(|k| {
            let at = match line_of(&exp.spec_text, &["validation", k]) {
                Some(l) => format!("{}:{l}", exp.spec_path.display()),
                None => exp.spec_path.display().to_string(),
            };
            format!(
                "warning: {at}: validation.{k} is a PostgreSQL setting and the database is DuckDB, which ignores it; \
                 DuckDB's sessions are bounded by validation.memory_limit and validation.threads (remove the key, or \
                 set [database] engine = \"postgres\")"
            )
        })
        .collect()
}

/// 1-based line of the value at `path` in a spec's text, if written there.
pub fn line_of(text: &str, path: &[&str]) -> Option<usize> {
    let root = toml::de::DeTable::parse(text).ok()?;
    let span = super::spans::value_span(root.get_ref(), path)?;
    Some(text[..span.start].matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::parse_memory;

    #[test]
    fn duckdb_units() {
        assert_eq!(parse_memory("4GB"), Ok(4_000_000_000));
        assert_eq!(parse_memory(" 512 MiB "), Ok(512 * 1024 * 1024));
        assert_eq!(parse_memory("1.5gb"), Ok(1_500_000_000));
        assert_eq!(parse_memory("100 bytes"), Ok(100));
        assert_eq!(parse_memory("2 TiB"), Ok(2 * 1024u64.pow(4)));
        for bad in ["lots", "4", "4 GBs", "", "GB", "-1GB", "1e400GB"] {
            assert!(parse_memory(bad).is_err(), "{bad}");
        }
    }
}
