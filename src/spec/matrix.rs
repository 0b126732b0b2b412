//! Arms: the configurations an experiment compares.
//!
//! Order (deterministic, documented in SPEC.md terms):
//! 1. `[[arms]]` tables, in file order;
//! 2. then the `[matrix]` product. Matrix keys are taken in `BTreeMap` order (sorted by
//!    key, e.g. `examples.strategy` before `llm.temperature`); the first key varies
//!    slowest and the last key fastest, each key's values in the order written.
//!
//! With neither, the experiment has one arm named `default` with no overrides.
//! Product arms are named `key=value,key=value` (strings unquoted). Every override is
//! type-checked by [`Sections::with`]. This file does not resolve paths or check that
//! files exist; `load.rs` does that per arm.

use super::error::SpecError;
use super::keys::{OverrideError, Sections};
use super::spans::Source;
use super::types::SpecFile;
use std::collections::BTreeMap;
use std::ops::Range;
use toml::de::{DeTable, DeValue};

/// One arm before path resolution.
#[derive(Debug, Clone)]
pub struct ArmDraft {
    pub name: String,
    /// Dotted key -> value, exactly as overridden.
    pub params: BTreeMap<String, toml::Value>,
    pub sections: Sections,
    /// Where each param was written (to point later per-arm checks at it).
    pub spans: BTreeMap<String, Range<usize>>,
    /// Where the arm itself is defined (its `[[arms]]` name or first matrix key).
    pub span: Option<Range<usize>>,
}

/// Expands `[[arms]]` and `[matrix]` into the ordered list of arms (at least one).
pub fn expand(spec: &SpecFile, src: &Source) -> Result<Vec<ArmDraft>, SpecError> {
    let base = Sections {
        llm: spec.llm.clone(),
        generation: spec.generation.clone(),
        examples: spec.examples.clone(),
        validation: spec.validation.clone(),
    };
    let mut arms = explicit_arms(spec, &base, src)?;
    arms.extend(product_arms(spec, &base, src)?);
    if arms.is_empty() {
        arms.push(ArmDraft {
            name: "default".into(),
            params: BTreeMap::new(),
            sections: base,
            spans: BTreeMap::new(),
            span: None,
        });
    }
    reject_duplicate_names(&arms, src)?;
    Ok(arms)
}

fn explicit_arms(
    spec: &SpecFile,
    base: &Sections,
    src: &Source,
) -> Result<Vec<ArmDraft>, SpecError> {
    let mut out = Vec::new();
    for (i, arm) in spec.arms.iter().enumerate() {
        let name_span = arm_span(src.root, i, &["name"]);
        let bad_name = arm.name.trim().is_empty()
            || arm.name.contains(['/', '\\'])
            || arm.name.starts_with('.');
        if bad_name {
            return Err(err(
                src,
                name_span,
                format!("arm name {:?} cannot be used as a folder name", arm.name),
                "give the arm a short name without slashes, e.g. name = \"low_temp\"",
            ));
        }
        let mut sections = base.clone();
        let mut spans = BTreeMap::new();
        for (key, value) in &arm.set {
            let span = arm_span(src.root, i, &["set", key]);
            sections = apply(&sections, key, value, span.clone(), Origin::Arm(i), src)?;
            spans.extend(span.map(|s| (key.clone(), s)));
        }
        out.push(ArmDraft {
            name: arm.name.clone(),
            params: arm.set.clone().into_iter().collect(),
            sections,
            spans,
            span: name_span,
        });
    }
    Ok(out)
}

fn product_arms(
    spec: &SpecFile,
    base: &Sections,
    src: &Source,
) -> Result<Vec<ArmDraft>, SpecError> {
    if spec.matrix.is_empty() {
        return Ok(Vec::new());
    }
    // Check every key and value against the base before multiplying.
    for (key, values) in &spec.matrix {
        if values.is_empty() {
            return Err(src.at_value(
                &["matrix", key],
                format!("matrix key `{key}` has an empty list of values"),
                Some(format!(
                    "list at least one value, e.g. \"{key}\" = [...], or remove the line"
                )),
            ));
        }
        for (j, value) in values.iter().enumerate() {
            apply(
                base,
                key,
                value,
                matrix_item_span(src.root, key, j),
                Origin::Matrix,
                src,
            )?;
        }
    }
    // Each combination is a list of (key, index into that key's values).
    let mut combos: Vec<Vec<(&String, usize)>> = vec![Vec::new()];
    for (key, values) in &spec.matrix {
        combos = combos
            .into_iter()
            .flat_map(|combo| {
                (0..values.len()).map(move |j| {
                    let mut c = combo.clone();
                    c.push((key, j));
                    c
                })
            })
            .collect();
    }
    let first_key = spec
        .matrix
        .keys()
        .next()
        .map(String::as_str)
        .unwrap_or_default();
    let mut out = Vec::new();
    for combo in combos {
        let mut sections = base.clone();
        let mut params = BTreeMap::new();
        let mut spans = BTreeMap::new();
        let mut name = Vec::new();
        for (key, j) in combo {
            let value = &spec.matrix[key][j];
            let span = matrix_item_span(src.root, key, j);
            sections = apply(&sections, key, value, span.clone(), Origin::Matrix, src)?;
            spans.extend(span.map(|s| (key.clone(), s)));
            name.push(format!("{key}={}", display_value(value)));
            params.insert(key.clone(), value.clone());
        }
        out.push(ArmDraft {
            name: name.join(","),
            params,
            sections,
            spans,
            span: key_span_of_matrix(src.root, first_key),
        });
    }
    Ok(out)
}

/// Where an override comes from, to word errors and find the key's span.
#[derive(Clone, Copy)]
enum Origin {
    Matrix,
    /// The i-th `[[arms]]` table.
    Arm(usize),
}

fn apply(
    sections: &Sections,
    key: &str,
    value: &toml::Value,
    span: Option<Range<usize>>,
    origin: Origin,
    src: &Source,
) -> Result<Sections, SpecError> {
    sections.with(key, value).map_err(|e| match e {
        OverrideError::UnknownKey { suggestion } => {
            let help = match suggestion {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("overridable keys: {}", super::keys::OVERRIDABLE.join(", ")),
            };
            // Unknown keys point at the key itself, not at a value.
            let (key_span, what) = match origin {
                Origin::Matrix => (key_span_of_matrix(src.root, key), "[matrix] key"),
                Origin::Arm(i) => (arm_key_span(src.root, i, key), "key in [[arms]] set"),
            };
            err(
                src,
                key_span.or(span),
                format!("unknown {what} `{key}`"),
                &help,
            )
        }
        OverrideError::RunLevel => err(
            src,
            span,
            format!("`{key}` holds for the whole run and cannot differ by arm"),
            &format!("set it once under [{}] (or with --set {key}=...)", key.split('.').next().unwrap_or(key)),
        ),
        OverrideError::WrongType(msg) => err(
            src,
            span,
            format!("wrong value for `{key}`: {msg}"),
            &format!(
                "give `{key}` a value of the same type as in its [{}] section",
                key.split('.').next().unwrap_or(key)
            ),
        ),
    })
}

fn reject_duplicate_names(arms: &[ArmDraft], src: &Source) -> Result<(), SpecError> {
    for (i, arm) in arms.iter().enumerate() {
        if arms[..i].iter().any(|a| a.name == arm.name) {
            return Err(err(
                src,
                arm.span.clone(),
                format!("duplicate arm name `{}`", arm.name),
                "every arm needs a unique name: rename one of the [[arms]] tables",
            ));
        }
    }
    Ok(())
}

fn err(src: &Source, span: Option<Range<usize>>, message: String, help: &str) -> SpecError {
    match span {
        Some(s) => src.at(s, message, Some(help.to_string())),
        None => src.whole(message, Some(help.to_string())),
    }
}

/// Strings without quotes (`batches`), everything else in TOML syntax (`0.2`, `true`).
pub fn display_value(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn key_span_of_matrix(root: &DeTable<'_>, key: &str) -> Option<Range<usize>> {
    super::spans::key_span(root, &["matrix", key])
}

fn matrix_item_span(root: &DeTable<'_>, key: &str, j: usize) -> Option<Range<usize>> {
    let (_, v) = super::spans::find(root, &["matrix", key])?;
    match v.get_ref() {
        DeValue::Array(items) => items.get(j).map(|i| i.span()),
        _ => None,
    }
}

/// Span of an override's key inside the i-th `[[arms]]` table's `set`.
fn arm_key_span(root: &DeTable<'_>, i: usize, key: &str) -> Option<Range<usize>> {
    let (_, arms) = super::spans::find(root, &["arms"])?;
    let DeValue::Array(items) = arms.get_ref() else {
        return None;
    };
    match items.get(i)?.get_ref() {
        DeValue::Table(t) => super::spans::key_span(t, &["set", key]),
        _ => None,
    }
}

/// Span of a value inside the i-th `[[arms]]` table (`["set", "llm.temperature"]`).
fn arm_span(root: &DeTable<'_>, i: usize, path: &[&str]) -> Option<Range<usize>> {
    let (_, arms) = super::spans::find(root, &["arms"])?;
    let DeValue::Array(items) = arms.get_ref() else {
        return None;
    };
    let item = items.get(i)?;
    match item.get_ref() {
        DeValue::Table(t) => super::spans::value_span(t, path).or(Some(item.span())),
        _ => Some(item.span()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::path::Path;

    fn arms_of(text: &str) -> Result<Vec<ArmDraft>, SpecError> {
        let root = DeTable::parse(text).unwrap();
        let spec = SpecFile::deserialize(toml::de::Deserializer::from(root.clone())).unwrap();
        let src = Source {
            file: Path::new("t.toml"),
            text,
            root: root.get_ref(),
            overrides: &[],
        };
        expand(&spec, &src)
    }

    const HEAD: &str = "name = \"t\"\n[queries]\nids = [1]\n";

    #[test]
    fn product_then_names_and_overrides() {
        let text = format!(
            "{HEAD}[matrix]\n\"llm.temperature\" = [0.2, 0.8]\n\"examples.strategy\" = [\"all\", \"none\"]\n"
        );
        let arms = arms_of(&text).unwrap();
        let names: Vec<&str> = arms.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "examples.strategy=all,llm.temperature=0.2",
                "examples.strategy=all,llm.temperature=0.8",
                "examples.strategy=none,llm.temperature=0.2",
                "examples.strategy=none,llm.temperature=0.8",
            ]
        );
        assert_eq!(arms[1].sections.llm.temperature, 0.8);
        assert_eq!(
            arms[3].sections.examples.strategy,
            super::super::types::Strategy::None
        );
    }

    #[test]
    fn explicit_first_and_empty_gives_default() {
        let text = format!(
            "{HEAD}[[arms]]\nname = \"b\"\n[[arms]]\nname = \"a\"\n[matrix]\n\"llm.model\" = [\"x\"]\n"
        );
        let names: Vec<String> = arms_of(&text)
            .unwrap()
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert_eq!(names, ["b", "a", "llm.model=x"]);
        let arms = arms_of(HEAD).unwrap();
        assert_eq!((arms.len(), arms[0].name.as_str()), (1, "default"));
    }

    #[test]
    fn bad_key_and_empty_list_are_located() {
        let text = format!("{HEAD}[matrix]\n\"llm.modle\" = [\"x\"]\n");
        let err = arms_of(&text).unwrap_err();
        assert_eq!(err.line(), Some(5));
        assert!(
            err.to_string().contains("did you mean `llm.model`?"),
            "{err}"
        );
        let text = format!("{HEAD}[matrix]\n\"llm.model\" = []\n");
        assert!(
            arms_of(&text)
                .unwrap_err()
                .to_string()
                .contains("empty list")
        );
    }
}
