//! The dotted keys an arm may override (`llm.temperature`, `examples.strategy`, ...)
//! and how to set one on a copy of the base configuration.
//!
//! Setting goes through TOML on purpose: the section is serialized to a table, the key
//! replaced, and the table deserialized back, so an override is type-checked exactly like
//! the same key written in its section. Only per-arm sections are overridable; `name`,
//! `output`, `database` and `queries` are shared by all arms.

use super::types::{ExamplesCfg, GenerationCfg, LlmCfg, ValidationCfg};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Every key an arm (`[matrix]` or `[[arms]] set`) may override.
pub const OVERRIDABLE: &[&str] = &[
    "llm.provider",
    "llm.base_url",
    "llm.model",
    "llm.api_key_env",
    "llm.api_key_file",
    "llm.temperature",
    "llm.max_tokens",
    "llm.timeout_s",
    "llm.max_concurrency",
    "llm.max_attempts",
    "llm.responses",
    "llm.price",
    "generation.workers",
    "generation.template",
    "generation.response_format",
    "generation.retries_on_failure",
    "generation.samples_seed",
    "examples.dir",
    "examples.strategy",
    "examples.per_worker",
    "examples.seed",
    "validation.timing_rounds",
    "validation.warmup",
    "validation.timeout_factor",
    "validation.original_timeout_s",
    "validation.threads",
    "validation.memory_limit",
    "validation.work_mem",
    "validation.max_parallel_workers_per_gather",
    "validation.temp_file_limit",
    "validation.skip",
    "validation.dedup",
    "validation.min_rows",
    "validation.rebind_tries",
];

/// Keys of the per-arm sections that hold for the whole run and cannot differ by arm:
/// the budget is the run's, and early stop is judged the same way for every (query, arm).
pub const RUN_LEVEL: &[&str] = &["generation.budget_usd", "generation.stop_when"];

/// The per-arm configuration sections, with overrides applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Sections {
    pub llm: LlmCfg,
    pub generation: GenerationCfg,
    pub examples: ExamplesCfg,
    pub validation: ValidationCfg,
}

/// Why an override could not be applied.
#[derive(Debug, Clone, PartialEq)]
pub enum OverrideError {
    /// Not in [`OVERRIDABLE`]; carries the nearest valid key, if any.
    UnknownKey { suggestion: Option<String> },
    /// The value does not fit the key's type (serde's message).
    WrongType(String),
    /// A [`RUN_LEVEL`] key: set it in its section (or with `--set`), not per arm.
    RunLevel,
}

/// The valid key closest to `key`: a typo of a dotted key, or a bare field name
/// (`temperature` -> `llm.temperature`).
pub fn suggest(key: &str) -> Option<String> {
    if let Some(full) = OVERRIDABLE
        .iter()
        .find(|k| k.split_once('.').map(|(_, f)| f) == Some(key))
    {
        return Some(full.to_string());
    }
    super::error::nearest(key, OVERRIDABLE.iter().copied()).map(str::to_string)
}

impl Sections {
    /// A copy with `key` set to `value`.
    pub fn with(&self, key: &str, value: &toml::Value) -> Result<Sections, OverrideError> {
        if RUN_LEVEL.contains(&key) {
            return Err(OverrideError::RunLevel);
        }
        if !OVERRIDABLE.contains(&key) {
            return Err(OverrideError::UnknownKey {
                suggestion: suggest(key),
            });
        }
        let (section, field) = key.split_once('.').unwrap_or((key, ""));
        let mut out = self.clone();
        match section {
            "llm" => out.llm = set(&self.llm, field, value)?,
            "generation" => out.generation = set(&self.generation, field, value)?,
            "examples" => out.examples = set(&self.examples, field, value)?,
            _ => out.validation = set(&self.validation, field, value)?,
        }
        Ok(out)
    }
}

fn set<T: Serialize + DeserializeOwned>(
    cfg: &T,
    field: &str,
    value: &toml::Value,
) -> Result<T, OverrideError> {
    let mut table =
        toml::Table::try_from(cfg).map_err(|e| OverrideError::WrongType(e.to_string()))?;
    table.insert(field.to_string(), value.clone());
    toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| OverrideError::WrongType(e.message().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn base() -> Sections {
        Sections {
            llm: LlmCfg::default(),
            generation: GenerationCfg::default(),
            examples: ExamplesCfg::default(),
            validation: ValidationCfg::default(),
        }
    }

    /// Guards the table against drift from the types: every field of every section.
    #[test]
    fn overridable_matches_the_types() {
        let llm = LlmCfg {
            api_key_env: Some("K".into()),
            api_key_file: Some("f".into()),
            responses: Some("r".into()),
            price: Some(super::super::types::PriceCfg { input: 1.0, output: 1.0, cached_input: Some(0.5) }),
            ..LlmCfg::default()
        };
        let mut fields = BTreeSet::new();
        let mut b = base();
        b.generation.budget_usd = Some(1.0);
        b.generation.stop_when = Some(super::super::types::StopWhenCfg { valid: 1, min_speedup: None });
        b.validation.work_mem = Some("64MB".into());
        b.validation.max_parallel_workers_per_gather = Some(0);
        b.validation.temp_file_limit = Some("-1".into());
        let sections: [(&str, toml::Table); 4] = [
            ("llm", toml::Table::try_from(&llm).unwrap()),
            ("generation", toml::Table::try_from(&b.generation).unwrap()),
            ("examples", toml::Table::try_from(&b.examples).unwrap()),
            ("validation", toml::Table::try_from(&b.validation).unwrap()),
        ];
        for (name, t) in sections {
            for k in t.keys() {
                fields.insert(format!("{name}.{k}"));
            }
        }
        let table: BTreeSet<String> = OVERRIDABLE.iter().chain(RUN_LEVEL).map(|s| s.to_string()).collect();
        assert_eq!(fields, table);
        assert_eq!(base().with("generation.budget_usd", &toml::Value::Float(1.0)), Err(OverrideError::RunLevel));
    }

    #[test]
    fn with_sets_and_type_checks() {
        let s = base()
            .with("llm.temperature", &toml::Value::Float(0.2))
            .unwrap();
        assert_eq!(s.llm.temperature, 0.2);
        let s = s.with("llm.temperature", &toml::Value::Integer(1)).unwrap();
        assert_eq!(s.llm.temperature, 1.0);
        let s = s
            .with("examples.strategy", &toml::Value::String("matched".into()))
            .unwrap();
        assert_eq!(s.examples.strategy, super::super::types::Strategy::Matched);
        let err = s
            .with("generation.workers", &toml::Value::String("x".into()))
            .unwrap_err();
        assert!(
            matches!(&err, OverrideError::WrongType(m) if m.contains("expected u32")),
            "{err:?}"
        );
        let err = s
            .with("examples.strategy", &toml::Value::String("matchd".into()))
            .unwrap_err();
        assert!(
            matches!(&err, OverrideError::WrongType(m) if m.contains("matched")),
            "{err:?}"
        );
    }

    #[test]
    fn unknown_keys_get_suggestions() {
        let err = base()
            .with("llm.temprature", &toml::Value::Float(0.2))
            .unwrap_err();
        assert_eq!(
            err,
            OverrideError::UnknownKey {
                suggestion: Some("llm.temperature".into())
            }
        );
        assert_eq!(suggest("temperature").as_deref(), Some("llm.temperature"));
        assert_eq!(suggest("strategy").as_deref(), Some("examples.strategy"));
        assert_eq!(suggest("name"), None);
    }
}
