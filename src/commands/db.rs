//! `qt db generate` and `qt db survey`: flags checked (bad ones exit 2 naming them), then
//! db/ builds the sample DB and validate/survey.rs runs the statements; this file prints.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::cli::{DbGenerateArgs, DbSurveyArgs};
use crate::db::{self, GenSpec, Generated};
use crate::error::BadInput;
use crate::validate::survey;

/// `qt db generate`: builds a sample database into `out` (atomically; refuses to replace an
/// existing file), or into the cache when `out` is None (reusing a cached one), and prints
/// its path on stdout. `quiet` hides the progress bar and the stderr notes.
pub fn generate_cmd(
    benchmark: &str,
    scale: f64,
    out: Option<&Path>,
    quiet: bool,
) -> anyhow::Result<PathBuf> {
    let spec = GenSpec {
        benchmark: benchmark.into(),
        ..GenSpec::full(scale)
    };
    generate_spec(&spec, out, quiet)
}

/// [`generate_cmd`] for a sampled (or any) [`GenSpec`]: the body of `qt db generate`.
pub fn generate_spec(
    spec: &GenSpec,
    out: Option<&Path>,
    quiet: bool,
) -> anyhow::Result<PathBuf> {
    let result = match out {
        None => db::ensure(&db::cache_dir(), spec, !quiet, !quiet),
        Some(out) => db::generate_file(spec, out, quiet).map(|built| Generated {
            path: out.to_path_buf(),
            built,
        }),
    };
    let Generated { path, built } = result.map_err(|e| {
        if e.is_bad_input() {
            anyhow::Error::new(BadInput(e.to_string()))
        } else {
            anyhow::Error::new(e)
        }
    })?;
    if !quiet {
        match &built {
            Some(s) => {
                let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                crate::errln!(
                    "built {} rows in {:.1} s ({:.0} MB)",
                    s.rows.values().sum::<u64>(),
                    s.elapsed.as_secs_f64(),
                    size as f64 / 1e6
                )
            }
            None => crate::errln!("reusing the cached sample DB"),
        }
    }
    crate::outln!("{}", path.display());
    Ok(path)
}


/// `qt db generate` from its arguments (flags checked here: bad ones exit 2 naming them).
pub fn generate(a: &DbGenerateArgs) -> anyhow::Result<PathBuf> {
    let bad = |m: String| anyhow::Error::new(BadInput(m));
    if let Some(s) = a.sample {
        db::check_sample(s).map_err(|e| bad(format!("--sample: {e}")))?;
    }
    if a.instance < 1 || a.instance > i64::from(u32::MAX) {
        return Err(bad(format!(
            "--instance {}: instances are numbered from 1 (1 is the default slice)",
            a.instance
        )));
    }
    let spec = GenSpec {
        benchmark: a.benchmark.clone(),
        scale: a.scale,
        sample: a.sample,
        instance: a.instance as u32,
        sparse: a.sparse,
        nulls: a.nulls,
    };
    generate_spec(&spec, a.out.as_deref(), a.quiet)
}

/// `qt db survey`: prints one line per statement (or JSON) and the totals; exit 0.
pub fn survey(a: &DbSurveyArgs) -> anyhow::Result<i32> {
    if !(a.timeout.is_finite() && a.timeout > 0.0) {
        return Err(BadInput(format!("--timeout {}: use a positive number of seconds", a.timeout)).into());
    }
    let files = survey::collect_files(&a.queries).map_err(BadInput)?;
    if files.is_empty() {
        return Err(BadInput("no .sql files in the given folders; name query files or folders".into()).into());
    }
    let db = match &a.db {
        Some(p) => {
            let t = super::validate::targets(std::slice::from_ref(p))?.remove(0);
            t.check_open().map_err(|e| BadInput(format!("--db: {e}")))?;
            t
        }
        None => crate::db::Target::from(crate::db::ensure_generated_spec(
            &crate::db::GenSpec::sampled(100.0, 0.01, 1),
            true,
        )?),
    };
    let json = a.json;
    if !json {
        crate::outln!("survey of {} query files on {}", files.len(), db.display());
    }
    let rows = survey::survey(&db, &files, Duration::from_secs_f64(a.timeout), a.rebind_tries, |r| {
        if !json {
            crate::outln!("{}", r.line());
        }
    })
    .map_err(anyhow::Error::msg)?;
    if json {
        let v = serde_json::json!({"db": db.display(), "statements": rows, "totals": survey::totals_line(&rows)});
        crate::outln!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        crate::outln!("{}", survey::totals_line(&rows));
    }
    Ok(crate::error::EXIT_OK)
}

/// `qt db load --engine postgres --url URL (--from FILE.duckdb | --scale S [--sample F])`:
/// prints the reader's URL on stdout (and its password once on stderr, for a TCP URL).
pub fn load(a: &super::cli::DbLoadArgs) -> anyhow::Result<i32> {
    if crate::db::Engine::parse(&a.engine) != Some(crate::db::Engine::Postgres) {
        return Err(BadInput(format!("--engine {}: only `postgres` can be loaded into (DuckDB samples come from `qt db generate`)", a.engine)).into());
    }
    let password = std::env::var("PGPASSWORD").ok();
    let secrets: Vec<String> = password.iter().cloned().collect();
    let redact = |m: String| crate::llm::url_redact::scrub(&m, &secrets);
    if !crate::db::pg::is_pg_url(&a.url) {
        return Err(BadInput(format!("--url {}: write postgresql://USER@HOST:PORT/DB or postgresql://USER@/DB?host=/socket/dir", redact(a.url.clone()))).into());
    }
    let admin = crate::db::pg::PgTarget::new(&a.url, password.clone()).map_err(|e| BadInput(redact(format!("--url: {e}"))))?;
    let from = match (&a.from, a.scale) {
        (Some(f), _) => {
            crate::db::Target::from(f).check_open().map_err(|e| BadInput(format!("--from: {e}")))?;
            f.clone()
        }
        (None, Some(scale)) => {
            if let Some(s) = a.sample {
                crate::db::check_sample(s).map_err(|e| BadInput(format!("--sample: {e}")))?;
            }
            let spec = crate::db::GenSpec { benchmark: a.benchmark.clone(), scale, sample: a.sample, instance: 1, sparse: false, nulls: false };
            crate::db::ensure_generated_spec(&spec, !a.quiet)?
        }
        (None, None) => {
            return Err(BadInput("name the data: --from FILE.duckdb, or --scale S [--sample F] to generate a TPC-DS sample".into()).into());
        }
    };
    let opts = crate::db::pg::load::LoadOptions {
        admin,
        from,
        replace: a.replace,
        reader: a.reader.clone(),
        temp_file_limit: a.temp_file_limit.clone(),
        quiet: a.quiet,
    };
    let loaded = crate::db::pg::load::load(&opts).map_err(|e| BadInput(redact(e)))?;
    if !a.quiet {
        let rows: u64 = loaded.tables.iter().map(|(_, n)| n).sum();
        crate::errln!("loaded {} tables, {rows} rows; validate as the SELECT-only role {}", loaded.tables.len(), a.reader);
        if let Some(pw) = &loaded.reader_password {
            crate::errln!("password of {} (shown once, not stored): {pw}  (export PGPASSWORD to use it)", a.reader);
        }
    }
    crate::outln!("{}", loaded.reader_url);
    Ok(crate::error::EXIT_OK)
}
