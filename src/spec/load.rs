//! Loading a spec file into an [`Experiment`]: read, parse (keeping spans), expand
//! `${VAR}`, deserialize into [`SpecFile`], check, resolve paths, read queries, expand
//! arms.
//!
//! Path rules (`paths.rs`): written or default, a relative path is looked up from the
//! spec's folder upwards to the project root (`./` and `../` paths are exactly relative
//! to the spec's folder), so `experiments/x.toml` finds the repository's `templates/`
//! whether or not it writes `template = "templates/v5_dag.j2"`.
//! Serde's messages are reworded in `diagnose.rs`; this file decides *what* is wrong.

use super::diagnose::serde_error;
use super::error::SpecError;
use super::identity;
use super::overrides::{self, Override};
use super::matrix;
use super::paths::{self, Kind};
use super::spans::{self, Source};
use super::types::SpecFile;
use super::{DbSource, Experiment};
use crate::query::{self, QueryError, QueryFile};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use toml::de::DeTable;

/// Loads and validates a spec, expanding `${VAR}` from the process environment.
pub fn load(path: &Path) -> Result<Experiment, SpecError> {
    load_with(path, &|var| std::env::var(var).ok(), &[])
}

/// [`load`] with command-line overrides (`--set`, `--ids`, ...; see `overrides.rs`).
pub fn load_with_overrides(path: &Path, overrides: &[Override]) -> Result<Experiment, SpecError> {
    load_with(path, &|var| std::env::var(var).ok(), overrides)
}

/// [`load`] with an explicit environment lookup (tests; `qt plan --env`-style tools).
pub fn load_with_env(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Experiment, SpecError> {
    load_with(path, env, &[])
}

/// The loader: the file, then `overrides` set on its parsed document (before `${VAR}`
/// expansion and every check, so an override is checked exactly like the file).
pub fn load_with(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &[Override],
) -> Result<Experiment, SpecError> {
    let bytes = std::fs::read(path).map_err(|source| SpecError::Read {
        path: path.into(),
        source,
    })?;
    let spec_sha256 = hex::encode(Sha256::digest(&bytes));
    let file_text = String::from_utf8(bytes).map_err(|_| SpecError::File {
        file: path.into(),
        message: "the spec is not valid UTF-8".into(),
        help: Some("save the file as UTF-8".into()),
    })?;
    let spec_path = std::fs::canonicalize(path).map_err(|source| SpecError::Read {
        path: path.into(),
        source,
    })?;
    let spec_dir = spec_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();

    let (text, placed) = overrides::source_text(&file_text, overrides);
    let parsed = DeTable::parse(&text[..file_text.len()]).map_err(|e| {
        let src = Source {
            file: path,
            text: &text,
            root: &DeTable::new(),
            overrides: &placed,
        };
        let help = Some("fix the TOML syntax at this point".to_string());
        match e.span() {
            Some(span) => src.at(span, format!("invalid TOML: {}", e.message().trim()), help),
            None => src.whole(format!("invalid TOML: {}", e.message().trim()), help),
        }
    })?;
    let mut doc = parsed;
    if let Err((i, e)) = overrides::apply(doc.get_mut(), &text, overrides, &placed) {
        let src = Source { file: path, text: &text, root: doc.get_ref(), overrides: &placed };
        return Err(src.at(placed[i].line.clone(), e.message, Some(e.help)));
    }
    let src = Source {
        file: path,
        text: &text,
        root: doc.get_ref(),
        overrides: &placed,
    };
    let effective = toml::Table::deserialize(toml::de::Deserializer::from(doc.clone()))
        .map_err(|e| src.whole(format!("cannot read the spec with its overrides: {}", e.message().trim()), None))?;
    let mut expanded = doc.clone();
    super::env::expand_table(expanded.get_mut(), env)
        .map_err(|(e, span)| env_error(&src, e, span))?;
    let spec = SpecFile::deserialize(toml::de::Deserializer::from(expanded))
        .map_err(|e| serde_error(&src, e))?;

    check_name(&spec, &src)?;
    check_run_control(&spec, &src)?;
    let database = resolve_database(&spec, &src, &spec_dir)?;
    let (extra_paths, instances) = resolve_instances(&spec, &src, &spec_dir)?;
    let confirm = super::confirm::resolve(&spec, &src, &spec_dir)?;
    let queries = resolve_queries(&spec, &src, &spec_dir)?;
    let output_dir = resolve_output_root(&spec, &spec_dir).join(&spec.name);
    let arms = matrix::expand(&spec, &src)?
        .into_iter()
        .enumerate()
        .map(|(i, d)| super::arm::resolve_arm(i, d, &src, &spec_dir))
        .collect::<Result<Vec<_>, _>>()?;

    Ok(Experiment {
        spec_path,
        spec_dir,
        spec_sha256,
        name: spec.name.clone(),
        description: spec.description.clone(),
        output_dir,
        database,
        extra_paths,
        instances,
        queries,
        arms,
        confirm,
        resolved: spec,
        spec_text: file_text,
        effective_spec: identity::effective_text(&effective),
        identity_sha256: identity::identity_sha256(&effective),
        overrides: overrides.to_vec(),
    })
}

fn env_error(src: &Source, e: super::env::EnvError, span: std::ops::Range<usize>) -> SpecError {
    match e {
        super::env::EnvError::Unset { var } => src.at(
            span,
            format!("environment variable `{var}` is not set"),
            Some(format!(
                "run `export {var}=...` first, or give a default: ${{{var}:-default}}"
            )),
        ),
        super::env::EnvError::Malformed { text } => src.at(
            span,
            format!("malformed variable reference `{text}`"),
            Some("write ${VAR} or ${VAR:-default}; VAR is letters, digits and '_'".into()),
        ),
    }
}

fn check_name(spec: &SpecFile, src: &Source) -> Result<(), SpecError> {
    let n = spec.name.trim();
    if n.is_empty() || n != spec.name || n.contains(['/', '\\']) || n.starts_with('.') {
        return Err(src.at_value(
            &["name"],
            format!("name {:?} cannot be used as a folder name", spec.name),
            Some(
                "use a short name without slashes or surrounding spaces, e.g. name = \"q1_20\""
                    .into(),
            ),
        ));
    }
    Ok(())
}

/// `generation.budget_usd` (dollars, 0 or more) and `generation.stop_when`.
fn check_run_control(spec: &SpecFile, src: &Source) -> Result<(), SpecError> {
    let g = &spec.generation;
    if let Some(b) = g.budget_usd.filter(|b| !(b.is_finite() && *b >= 0.0)) {
        return Err(src.at_value(
            &["generation", "budget_usd"],
            format!("budget_usd must be a number of dollars, 0 or more, not {b}"),
            Some("use e.g. budget_usd = 2.0 (the run stops issuing LLM calls once it has spent that)".into()),
        ));
    }
    if let Some(s) = &g.stop_when {
        if s.valid < 1 {
            return Err(src.at_value(
                &["generation", "stop_when"],
                "stop_when.valid must be 1 or more",
                Some("use e.g. stop_when = { valid = 3, min_speedup = 1.2 }".into()),
            ));
        }
        if let Some(m) = s.min_speedup.filter(|m| !positive(*m)) {
            return Err(src.at_value(
                &["generation", "stop_when"],
                format!("stop_when.min_speedup must be a positive speedup, not {m}"),
                Some("use e.g. min_speedup = 1.2 (passes at least 1.2x faster count), or leave it out".into()),
            ));
        }
    }
    Ok(())
}

fn resolve_database(spec: &SpecFile, src: &Source, spec_dir: &Path) -> Result<DbSource, SpecError> {
    let db = &spec.database;
    let engine = db.engine.as_deref().unwrap_or(if db.url.is_some() { "postgres" } else { "duckdb" });
    match engine.trim().to_ascii_lowercase().as_str() {
        "duckdb" => {}
        "postgres" | "postgresql" => return resolve_postgres(db, src, spec_dir),
        other => {
            return Err(src.at_value(
                &["database", "engine"],
                format!("unknown engine `{other}`"),
                Some("use engine = \"duckdb\" (a DuckDB file or the generated sample) or engine = \"postgres\" (with url = ...)".into()),
            ));
        }
    }
    if db.url.is_some() || db.password_env.is_some() || db.password_file.is_some() {
        let key = if db.url.is_some() { "url" } else if db.password_env.is_some() { "password_env" } else { "password_file" };
        return Err(src.at_key(
            &["database", key],
            format!("database.{key} is for engine = \"postgres\", but the engine is duckdb"),
            Some("add engine = \"postgres\" under [database], or remove the key".into()),
        ));
    }
    match (&db.path, &db.generate) {
        (Some(_), Some(_)) => Err(src.at_key(
            &["database", "generate"],
            "database.path and database.generate are both set",
            Some("keep one: `path` for an existing DuckDB file, or `generate` for the built-in sample".into()),
        )),
        (None, None) => Err(src.at_key(
            &["database"],
            "no sample database: [database] needs `path` or `generate`",
            Some("add under [database]: generate = { benchmark = \"tpcds\", scale = 0.1 }  (or path = \"my.duckdb\")".into()),
        )),
        (Some(p), None) => {
            let found = paths::resolve(spec_dir, p, Kind::File);
            if !found.exists {
                return Err(src.at_value(
                    &["database", "path"],
                    format!("database file {} does not exist{}", found.path.display(), found.tried_text()),
                    Some("fix the path (looked up from the spec's folder up to the project root; `./` and `../` paths start at the spec's folder) or use generate = { benchmark = \"tpcds\", scale = 0.1 }".into()),
                ));
            }
            Ok(DbSource::Path(found.path))
        }
        (None, Some(g)) => {
            if g.benchmark != "tpcds" {
                return Err(src.at_value(
                    &["database", "generate"],
                    format!("unknown benchmark `{}`", g.benchmark),
                    Some("the built-in generator knows benchmark = \"tpcds\"".into()),
                ));
            }
            if !positive(g.scale) || g.scale > 1000.0 {
                return Err(src.at_value(
                    &["database", "generate"],
                    format!("scale must be a positive number up to 1000, not {}", if g.scale.abs() >= 1e9 { format!("{:e}", g.scale) } else { g.scale.to_string() }),
                    Some("use e.g. scale = 0.1 (about 100 MB) or 1.0".into()),
                ));
            }
            if let Some(x) = g.sample.filter(|x| !(x.is_finite() && *x > 0.0 && *x <= 1.0)) {
                return Err(src.at_value(
                    &["database", "generate"],
                    format!("sample must be a fraction in (0, 1], not {x}"),
                    Some("use e.g. sample = 0.01 (1% of the fact rows; dimension tables stay whole)".into()),
                ));
            }
            let instance = g.instance.unwrap_or(1);
            if instance < 1 || instance > i64::from(u32::MAX) {
                return Err(src.at_value(
                    &["database", "generate"],
                    format!("instance must be 1 or more, not {instance}"),
                    Some("instances are numbered from 1 (the default); 2, 3, ... pick other slices of the facts".into()),
                ));
            }
            Ok(DbSource::Generate {
                benchmark: g.benchmark.clone(),
                scale: g.scale,
                sample: g.sample,
                instance: instance as u32,
            })
        }
    }
}

/// `[database] engine = "postgres"`: a URL without a password (the password comes from
/// `password_env`, default PGPASSWORD, or `password_file`), and no DuckDB keys.
fn resolve_postgres(db: &super::types::DatabaseCfg, src: &Source, spec_dir: &Path) -> Result<DbSource, SpecError> {
    for (key, set) in [("path", db.path.is_some()), ("generate", db.generate.is_some())] {
        if set {
            return Err(src.at_key(
                &["database", key],
                format!("database.{key} is for DuckDB, but engine = \"postgres\""),
                Some("load the sample into PostgreSQL with `qt db load --engine postgres --url URL --from FILE.duckdb` and keep only url".into()),
            ));
        }
    }
    let Some(url) = &db.url else {
        return Err(src.at_key(
            &["database"],
            "engine = \"postgres\" needs url",
            Some("add url = \"postgresql://qt_reader@/tpcds?host=/run/postgresql\" (the URL `qt db load` prints)".into()),
        ));
    };
    if !crate::db::pg::is_pg_url(url) || crate::db::pg::PgTarget::new(url, None).is_err() {
        return Err(src.at_value(
            &["database", "url"],
            "not a PostgreSQL URL",
            Some("write postgresql://USER@HOST:PORT/DB or postgresql://USER@/DB?host=/socket/dir".into()),
        ));
    }
    if crate::db::pg::PgTarget::url_has_password(url) {
        return Err(src.at_value(
            &["database", "url"],
            "the URL holds a password, and spec files are committed: secrets never go in them",
            Some("remove it from the URL and export PGPASSWORD (or set password_env / password_file)".into()),
        ));
    }
    let password_file = db.password_file.as_ref().map(|f| paths::resolve(spec_dir, f, Kind::File).path);
    Ok(DbSource::Postgres {
        url: url.clone(),
        password_env: db.password_env.clone().unwrap_or_else(|| "PGPASSWORD".into()),
        password_file,
    })
}

/// `[validation] extra_paths` (resolved, must exist) and `instances` (1 to 100; it counts
/// generated instances, so with the user's own DB a larger value is a warning).
fn resolve_instances(
    spec: &SpecFile,
    src: &Source,
    spec_dir: &Path,
) -> Result<(Vec<PathBuf>, Option<u32>), SpecError> {
    let v = &spec.validation;
    let mut out = Vec::new();
    for p in &v.extra_paths {
        if crate::db::pg::is_pg_url(p) {
            // Another PostgreSQL database (or schema) as an instance, checked when the run
            // connects; never with a password in it.
            if crate::db::pg::PgTarget::url_has_password(p) {
                return Err(src.at_value(
                    &["validation", "extra_paths"],
                    "a URL holds a password, and spec files are committed: secrets never go in them",
                    Some("remove it from the URL; the password of [database] (PGPASSWORD, password_env or password_file) is used".into()),
                ));
            }
            out.push(PathBuf::from(p));
            continue;
        }
        let found = paths::resolve(spec_dir, p, Kind::File);
        if !found.exists {
            return Err(src.at_value(
                &["validation", "extra_paths"],
                format!("extra instance {} does not exist{}", found.path.display(), found.tried_text()),
                Some("list existing DuckDB files (looked up like database.path)".into()),
            ));
        }
        out.push(found.path);
    }
    let n = match v.instances {
        None => None,
        Some(n) if n < 1 || n > 100 => {
            return Err(src.at_value(
                &["validation", "instances"],
                format!("instances must be between 1 and 100, not {n}"),
                Some("instances = 1 checks the primary DB only; 4 (the default for generated DBs) adds another slice, a tiny scale and a sparse one".into()),
            ));
        }
        Some(n) => Some(n as u32),
    };
    // With a DB of the user's (a path or a URL), `instances` has nothing to generate: the
    // DBs given are the instances (SPEC.md: "instances ... (generated DBs)");
    // `limits::warnings` says so when it asks for more.
    Ok((out, n))
}

fn resolve_queries(
    spec: &SpecFile,
    src: &Source,
    spec_dir: &Path,
) -> Result<Vec<QueryFile>, SpecError> {
    let q = &spec.queries;
    if q.ids.is_empty() && q.files.is_empty() {
        return Err(src.at_key(
            &["queries"],
            "no queries selected",
            Some("add ids = [1] (with dir = \"folder of .sql files\") or files = [\"queries/*.sql\"] under [queries]".into()),
        ));
    }
    let dir = q.dir.as_ref().map(|d| paths::resolve(spec_dir, d, Kind::Dir));
    let tried = dir.as_ref().map(|d| d.tried_text()).unwrap_or_default();
    let dir = dir.map(|d| d.path);
    let files: Vec<String> = q.files.iter().map(|f| paths::resolve_glob(spec_dir, f)).collect();
    query::select(dir.as_deref(), &q.ids, spec_dir, &files).map_err(|e| {
        let help = Some(match &e {
            QueryError::NotFound { .. } => {
                "fix the id, or point queries.dir at the right folder".to_string()
            }
            QueryError::DirMissing { .. } => format!(
                "relative paths are looked up from the spec's folder up to the project root{tried}; `./` and `../` paths start at the spec's folder"
            ),
            _ => "fix the [queries] section".to_string(),
        });
        let at = match &e {
            QueryError::BadId { id, .. } | QueryError::NotFound { id, .. } => id_span(src.root, id),
            _ => None,
        };
        let key: &[&str] = match &e {
            QueryError::BadId { .. } | QueryError::NotFound { .. } => &["queries", "ids"],
            QueryError::DirMissing { .. } => &["queries", "dir"],
            QueryError::BadPattern { .. } | QueryError::NoMatch { .. } => &["queries", "files"],
            _ => &["queries"],
        };
        match at {
            Some(span) => src.at(span, e.to_string(), help),
            None => src.at_value(key, e.to_string(), help),
        }
    })
}

/// The span of the `ids` entry naming `id` ("23a", 7, or a range containing it).
fn id_span(root: &DeTable<'_>, id: &str) -> Option<std::ops::Range<usize>> {
    let (_, ids) = spans::find(root, &["queries", "ids"])?;
    let toml::de::DeValue::Array(items) = ids.get_ref() else {
        return None;
    };
    items
        .iter()
        .find(|item| match item.get_ref() {
            toml::de::DeValue::String(s) => {
                let one = [super::types::QueryId::Text(s.to_string())];
                s.trim() == id || query::expand_ids(&one).is_ok_and(|v| v.iter().any(|x| x == id))
            }
            toml::de::DeValue::Integer(n) => n.as_str() == id,
            _ => false,
        })
        .map(|item| item.span())
}

/// Written or default alike: an existing folder found from the spec's folder upwards,
/// else under the project root (`./`, `../` and absolute roots as written).
fn resolve_output_root(spec: &SpecFile, spec_dir: &Path) -> PathBuf {
    paths::resolve(spec_dir, &spec.output.root, Kind::Output).path
}

/// Finite and > 0 (TOML allows `nan` and `inf`).
pub(super) fn positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}
