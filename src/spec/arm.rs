//! Turning one [`ArmDraft`] into a resolved [`Arm`]: per-arm value checks (workers,
//! per_worker, timeouts...) and path resolution for the template, examples folder,
//! replay responses and API key file.
//!
//! Path keys, written (in their section or as an arm override) or default, resolve by
//! the one rule of `paths.rs`: from the spec's folder up to the project root, `./` and
//! `../` exactly from the spec's folder. The template must exist; the examples folder
//! must exist unless the strategy is `none`. Files are not read here.

use super::Arm;
use super::error::SpecError;
use super::load::positive;
use super::paths::{self, Kind};
use super::matrix::ArmDraft;
use super::spans::{self, Source};
use super::types::{ProviderKind, Strategy};
use std::path::{Path, PathBuf};

/// `llm.responses`: a folder, a file or a glob, found by the same rule.
fn resolve_any(spec_dir: &Path, value: &str) -> PathBuf {
    if value.contains(['*', '?', '[']) {
        let g = paths::resolve_glob(spec_dir, value);
        return if Path::new(&g).is_absolute() { PathBuf::from(g) } else { paths::join_clean(spec_dir, &g) };
    }
    let dir = paths::resolve(spec_dir, value, Kind::Dir);
    if dir.exists {
        return dir.path;
    }
    paths::resolve(spec_dir, value, Kind::File).path
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

    let template = paths::resolve(spec_dir, &s.generation.template, Kind::File);
    if !template.exists {
        let help = if check.written("generation.template") {
            "fix generation.template (looked up from the spec's folder up to the project root; `./` and `../` paths start at the spec's folder)".to_string()
        } else {
            format!("set generation.template, or create {}", s.generation.template)
        };
        return Err(check.err(
            "generation.template",
            format!("template file {} not found{}", template.path.display(), template.tried_text()),
            help,
        ));
    }
    let template_path = template.path;
    let examples = paths::resolve(spec_dir, &s.examples.dir, Kind::Dir);
    if s.examples.strategy != Strategy::None && !examples.exists {
        return Err(check.err(
            "examples.dir",
            format!("examples folder {} not found{}", examples.path.display(), examples.tried_text()),
            "set examples.dir to the folder of example JSON files, or use examples.strategy = \"none\"".into(),
        ));
    }
    let examples_dir = examples.path;
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
        responses: s.llm.responses.as_ref().map(|r| resolve_any(spec_dir, r)),
        api_key_file: s.llm.api_key_file.as_ref().map(|f| paths::resolve(spec_dir, f, Kind::File).path),
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
            Strategy::Batches | Strategy::Random | Strategy::Matched | Strategy::Coverage
        );
        let bad_price = s.llm.price.is_some_and(|p| {
            [Some(p.input), Some(p.output), p.cached_input].into_iter().flatten().any(|x| !(x.is_finite() && x >= 0.0))
        });
        let rules: [(bool, &str, &str, &str); 11] = [
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
                bad_price,
                "llm.price",
                "prices must be dollars per million tokens, 0 or more",
                "use e.g. price = { input = 0.27, output = 1.10, cached_input = 0.07 }",
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
