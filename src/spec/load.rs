//! Loading a spec file into an [`Experiment`]: read, parse (keeping spans), expand
//! `${VAR}`, deserialize into [`SpecFile`], check, resolve paths, read queries, expand
//! arms.
//!
//! Path rules: a path written in the spec resolves against the spec file's folder. A
//! default path (key not written) is searched upwards: `generation.template` and
//! `examples.dir` in the nearest ancestor folder of the spec that contains them, and
//! `output.root` under the nearest ancestor holding `Cargo.toml` or `.git` (else the
//! spec folder). So `experiments/x.toml` finds the repository's `templates/`.
//! Serde's messages are reworded in `diagnose.rs`; this file decides *what* is wrong.

use super::diagnose::serde_error;
use super::error::SpecError;
use super::matrix::{self, ArmDraft};
use super::spans::{self, Source};
use super::types::{ProviderKind, SpecFile, Strategy};
use super::{Arm, DbSource, Experiment};
use crate::query::{self, QueryError, QueryFile};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use toml::de::DeTable;

/// Loads and validates a spec, expanding `${VAR}` from the process environment.
pub fn load(path: &Path) -> Result<Experiment, SpecError> {
    load_with_env(path, &|var| std::env::var(var).ok())
}

/// [`load`] with an explicit environment lookup (tests; `qt plan --env`-style tools).
pub fn load_with_env(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Experiment, SpecError> {
    let bytes = std::fs::read(path).map_err(|source| SpecError::Read { path: path.into(), source })?;
    let spec_sha256 = hex::encode(Sha256::digest(&bytes));
    let text = String::from_utf8(bytes).map_err(|_| SpecError::File {
        file: path.into(),
        message: "the spec is not valid UTF-8".into(),
        help: Some("save the file as UTF-8".into()),
    })?;
    let spec_path = std::fs::canonicalize(path).map_err(|source| SpecError::Read { path: path.into(), source })?;
    let spec_dir = spec_path.parent().map(Path::to_path_buf).unwrap_or_default();

    let parsed = DeTable::parse(&text).map_err(|e| {
        let src = Source { file: path, text: &text, root: &DeTable::new() };
        let help = Some("fix the TOML syntax at this point".to_string());
        match e.span() {
            Some(span) => src.at(span, format!("invalid TOML: {}", e.message().trim()), help),
            None => src.whole(format!("invalid TOML: {}", e.message().trim()), help),
        }
    })?;
    let src = Source { file: path, text: &text, root: parsed.get_ref() };
    let mut expanded = parsed.clone();
    super::env::expand_table(expanded.get_mut(), env).map_err(|(e, span)| env_error(&src, e, span))?;
    let spec = SpecFile::deserialize(toml::de::Deserializer::from(expanded)).map_err(|e| serde_error(&src, e))?;

    check_name(&spec, &src)?;
    let database = resolve_database(&spec, &src, &spec_dir)?;
    let queries = resolve_queries(&spec, &src, &spec_dir)?;
    let output_dir = resolve_output_root(&spec, &src, &spec_dir).join(&spec.name);
    let arms = matrix::expand(&spec, &src)?
        .into_iter()
        .enumerate()
        .map(|(i, d)| resolve_arm(i, d, &src, &spec_dir))
        .collect::<Result<Vec<_>, _>>()?;

    Ok(Experiment {
        spec_path,
        spec_dir,
        spec_sha256,
        name: spec.name.clone(),
        description: spec.description.clone(),
        output_dir,
        database,
        queries,
        arms,
        resolved: spec,
        spec_text: text,
    })
}

fn env_error(src: &Source, e: super::env::EnvError, span: std::ops::Range<usize>) -> SpecError {
    match e {
        super::env::EnvError::Unset { var } => src.at(
            span,
            format!("environment variable `{var}` is not set"),
            Some(format!("run `export {var}=...` first, or give a default: ${{{var}:-default}}")),
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
            Some("use a short name without slashes or surrounding spaces, e.g. name = \"q1_20\"".into()),
        ));
    }
    Ok(())
}

fn resolve_database(spec: &SpecFile, src: &Source, spec_dir: &Path) -> Result<DbSource, SpecError> {
    let db = &spec.database;
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
            let path = spec_dir.join(p);
            if !path.is_file() {
                return Err(src.at_value(
                    &["database", "path"],
                    format!("database file {} does not exist", path.display()),
                    Some("fix the path (relative paths start at the spec's folder) or use generate = { benchmark = \"tpcds\", scale = 0.1 }".into()),
                ));
            }
            Ok(DbSource::Path(path))
        }
        (None, Some(g)) => {
            if g.benchmark != "tpcds" {
                return Err(src.at_value(
                    &["database", "generate"],
                    format!("unknown benchmark `{}`", g.benchmark),
                    Some("the built-in generator knows benchmark = \"tpcds\"".into()),
                ));
            }
            if !(g.scale.is_finite() && g.scale > 0.0) {
                return Err(src.at_value(
                    &["database", "generate"],
                    format!("scale must be a positive number, not {}", g.scale),
                    Some("use e.g. scale = 0.1 (about 100 MB) or 1.0".into()),
                ));
            }
            Ok(DbSource::Generate { benchmark: g.benchmark.clone(), scale: g.scale })
        }
    }
}

fn resolve_queries(spec: &SpecFile, src: &Source, spec_dir: &Path) -> Result<Vec<QueryFile>, SpecError> {
    let q = &spec.queries;
    if q.ids.is_empty() && q.files.is_empty() {
        return Err(src.at_key(
            &["queries"],
            "no queries selected",
            Some("add ids = [1] (with dir = \"folder of .sql files\") or files = [\"queries/*.sql\"] under [queries]".into()),
        ));
    }
    let dir = q.dir.as_ref().map(|d| spec_dir.join(d));
    query::select(dir.as_deref(), &q.ids, spec_dir, &q.files).map_err(|e| {
        let help = Some(match &e {
            QueryError::NotFound { .. } => "fix the id, or point queries.dir at the right folder".to_string(),
            QueryError::DirMissing { .. } => "relative paths start at the spec file's folder".to_string(),
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
    let toml::de::DeValue::Array(items) = ids.get_ref() else { return None };
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

fn resolve_output_root(spec: &SpecFile, src: &Source, spec_dir: &Path) -> PathBuf {
    if spans::is_written(src.root, &["output", "root"]) {
        return spec_dir.join(&spec.output.root);
    }
    let project = spec_dir
        .ancestors()
        .find(|d| d.join("Cargo.toml").exists() || d.join(".git").exists())
        .unwrap_or(spec_dir);
    project.join(&spec.output.root)
}

/// A path key of an arm: written (in the base section or as an override) resolves
/// against the spec folder; a default is searched upwards from it.
fn resolve_path(spec_dir: &Path, value: &str, written: bool) -> PathBuf {
    if written {
        return spec_dir.join(value);
    }
    spec_dir
        .ancestors()
        .map(|d| d.join(value))
        .find(|p| p.exists())
        .unwrap_or_else(|| spec_dir.join(value))
}

fn resolve_arm(index: usize, d: ArmDraft, src: &Source, spec_dir: &Path) -> Result<Arm, SpecError> {
    let s = &d.sections;
    let check = ArmCheck { d: &d, src };
    check.semantics()?;

    let template_written = check.written("generation.template");
    let template_path = resolve_path(spec_dir, &s.generation.template, template_written);
    if !template_path.is_file() {
        let help = if template_written {
            "fix generation.template (relative to the spec file's folder)".to_string()
        } else {
            format!("set generation.template, or create {} (searched upwards from the spec's folder)", s.generation.template)
        };
        return Err(check.err("generation.template", format!("template file {} not found", template_path.display()), help));
    }
    let examples_written = check.written("examples.dir");
    let examples_dir = resolve_path(spec_dir, &s.examples.dir, examples_written);
    if s.examples.strategy != Strategy::None && !examples_dir.is_dir() {
        return Err(check.err(
            "examples.dir",
            format!("examples folder {} not found", examples_dir.display()),
            "set examples.dir to the folder of example JSON files, or use examples.strategy = \"none\"".into(),
        ));
    }
    let params = d
        .params
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or(serde_json::Value::Null)))
        .collect();
    Ok(Arm {
        index,
        name: d.name.clone(),
        params,
        llm: s.llm.clone(),
        generation: s.generation.clone(),
        examples: s.examples.clone(),
        validation: s.validation.clone(),
        template_path,
        examples_dir,
        responses: s.llm.responses.as_ref().map(|r| spec_dir.join(r)),
        api_key_file: s.llm.api_key_file.as_ref().map(|f| spec_dir.join(f)),
    })
}

/// Per-arm value checks, pointing at the override when the arm set the key, else at the
/// base section's line.
struct ArmCheck<'a, 'b, 'i> {
    d: &'a ArmDraft,
    src: &'a Source<'b, 'i>,
}

impl ArmCheck<'_, '_, '_> {
    fn written(&self, key: &str) -> bool {
        self.d.params.contains_key(key) || spans::is_written(self.src.root, &dotted(key))
    }

    fn err(&self, key: &str, message: String, help: String) -> SpecError {
        let message = if self.d.params.is_empty() { message } else { format!("arm `{}`: {message}", self.d.name) };
        match self.d.spans.get(key) {
            Some(span) => self.src.at(span.clone(), message, Some(help)),
            None => self.src.at_value(&dotted(key), message, Some(help)),
        }
    }

    fn semantics(&self) -> Result<(), SpecError> {
        let s = &self.d.sections;
        let uses_per_worker = matches!(s.examples.strategy, Strategy::Batches | Strategy::Random | Strategy::Matched);
        let rules: [(bool, &str, &str, &str); 10] = [
            (s.generation.workers == 0, "generation.workers", "workers must be at least 1", "set workers = 1 or more (generations per query and arm)"),
            (s.examples.per_worker == 0 && uses_per_worker, "examples.per_worker", "per_worker = 0 gives every worker no examples", "set per_worker = 1 or more, or use strategy = \"none\""),
            (s.llm.max_concurrency == 0, "llm.max_concurrency", "max_concurrency must be at least 1", "set max_concurrency = 1 or more"),
            (s.llm.max_attempts == 0, "llm.max_attempts", "max_attempts must be at least 1 (it counts the first try)", "set max_attempts = 1 or more"),
            (!(s.llm.temperature >= 0.0), "llm.temperature", "temperature must be 0 or more", "use e.g. temperature = 0.7"),
            (!(s.llm.timeout_s > 0.0), "llm.timeout_s", "timeout_s must be positive", "use e.g. timeout_s = 180"),
            (s.llm.provider == ProviderKind::Replay && s.llm.responses.is_none(), "llm.provider", "provider = \"replay\" needs llm.responses", "set responses = \"folder or glob of recorded answers\""),
            (s.validation.timing_rounds == 0 && !s.validation.skip, "validation.timing_rounds", "timing_rounds must be at least 1", "set timing_rounds = 1 or more, or validation.skip = true"),
            (!(s.validation.timeout_factor > 0.0), "validation.timeout_factor", "timeout_factor must be positive", "use e.g. timeout_factor = 10.0"),
            (!(s.validation.original_timeout_s > 0.0), "validation.original_timeout_s", "original_timeout_s must be positive", "use e.g. original_timeout_s = 300"),
        ];
        match rules.into_iter().find(|r| r.0) {
            Some((_, key, message, help)) => Err(self.err(key, message.into(), help.into())),
            None => Ok(()),
        }
    }
}

fn dotted(key: &str) -> Vec<&str> {
    key.split('.').collect()
}
