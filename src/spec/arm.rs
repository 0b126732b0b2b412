//! Turning one [`ArmDraft`] into a resolved [`Arm`]: per-arm value checks (workers,
//! per_worker, timeouts...) and path resolution for the template, examples folder,
//! replay responses and API key file.
//!
//! A path key written in the spec (in its section or as an arm override) resolves
//! against the spec's folder; a default (`templates/v5_dag.j2`, `prompts/examples`) is
//! searched in the spec's folder and then its ancestors. The template must exist; the
//! examples folder must exist unless the strategy is `none`. Files are not read here.

use super::Arm;
use super::error::SpecError;
use super::load::{join_clean, positive};
use super::matrix::ArmDraft;
use super::spans::{self, Source};
use super::types::{ProviderKind, Strategy};
use std::path::{Path, PathBuf};

/// A path key of an arm: written (in the base section or as an override) resolves
/// against the spec folder; a default is searched upwards from it.
fn resolve_path(spec_dir: &Path, value: &str, written: bool) -> PathBuf {
    if written {
        return join_clean(spec_dir, value);
    }
    spec_dir
        .ancestors()
        .map(|d| join_clean(d, value))
        .find(|p| p.exists())
        .unwrap_or_else(|| join_clean(spec_dir, value))
}

pub(super) fn resolve_arm(
    index: usize,
    d: ArmDraft,
    src: &Source,
    spec_dir: &Path,
) -> Result<Arm, SpecError> {
    let s = &d.sections;
    let check = ArmCheck { d: &d, src };
    check.semantics()?;

    let template_written = check.written("generation.template");
    let template_path = resolve_path(spec_dir, &s.generation.template, template_written);
    if !template_path.is_file() {
        let help = if template_written {
            "fix generation.template (relative to the spec file's folder)".to_string()
        } else {
            format!(
                "set generation.template, or create {} (searched upwards from the spec's folder)",
                s.generation.template
            )
        };
        return Err(check.err(
            "generation.template",
            format!("template file {} not found", template_path.display()),
            help,
        ));
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
        .map(|(k, v)| {
            (
                k.clone(),
                serde_json::to_value(v).unwrap_or(serde_json::Value::Null),
            )
        })
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
        responses: s.llm.responses.as_ref().map(|r| join_clean(spec_dir, r)),
        api_key_file: s.llm.api_key_file.as_ref().map(|f| join_clean(spec_dir, f)),
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
        let message = if self.d.params.is_empty() {
            message
        } else {
            format!("arm `{}`: {message}", self.d.name)
        };
        match self.d.spans.get(key) {
            Some(span) => self.src.at(span.clone(), message, Some(help)),
            None => self.src.at_value(&dotted(key), message, Some(help)),
        }
    }

    fn semantics(&self) -> Result<(), SpecError> {
        let s = &self.d.sections;
        let uses_per_worker = matches!(
            s.examples.strategy,
            Strategy::Batches | Strategy::Random | Strategy::Matched
        );
        let rules: [(bool, &str, &str, &str); 10] = [
            (
                s.generation.workers == 0,
                "generation.workers",
                "workers must be at least 1",
                "set workers = 1 or more (generations per query and arm)",
            ),
            (
                s.examples.per_worker == 0 && uses_per_worker,
                "examples.per_worker",
                "per_worker = 0 gives every worker no examples",
                "set per_worker = 1 or more, or use strategy = \"none\"",
            ),
            (
                s.llm.max_concurrency == 0,
                "llm.max_concurrency",
                "max_concurrency must be at least 1",
                "set max_concurrency = 1 or more",
            ),
            (
                s.llm.max_attempts == 0,
                "llm.max_attempts",
                "max_attempts must be at least 1 (it counts the first try)",
                "set max_attempts = 1 or more",
            ),
            (
                !(s.llm.temperature.is_finite() && s.llm.temperature >= 0.0),
                "llm.temperature",
                "temperature must be 0 or more",
                "use e.g. temperature = 0.7",
            ),
            (
                !positive(s.llm.timeout_s),
                "llm.timeout_s",
                "timeout_s must be positive",
                "use e.g. timeout_s = 180",
            ),
            (
                s.llm.provider == ProviderKind::Replay && s.llm.responses.is_none(),
                "llm.provider",
                "provider = \"replay\" needs llm.responses",
                "set responses = \"folder or glob of recorded answers\"",
            ),
            (
                s.validation.timing_rounds == 0 && !s.validation.skip,
                "validation.timing_rounds",
                "timing_rounds must be at least 1",
                "set timing_rounds = 1 or more, or validation.skip = true",
            ),
            (
                !positive(s.validation.timeout_factor),
                "validation.timeout_factor",
                "timeout_factor must be positive",
                "use e.g. timeout_factor = 10.0",
            ),
            (
                !positive(s.validation.original_timeout_s),
                "validation.original_timeout_s",
                "original_timeout_s must be positive",
                "use e.g. original_timeout_s = 300",
            ),
        ];
        if let Some((_, key, message, help)) = rules.into_iter().find(|r| r.0) {
            return Err(self.err(key, message.into(), help.into()));
        }
        match super::limits::check(s) {
            Some((key, message, help)) => Err(self.err(key, message, help)),
            None => Ok(()),
        }
    }
}

fn dotted(key: &str) -> Vec<&str> {
    key.split('.').collect()
}
