//! Gold rewrite examples: one JSON file each under `prompts/examples/`, loaded in id
//! order (never filesystem order) and checked on load: bad JSON names the file and line,
//! an `output` without `rewrite_sets[0].nodes` is rejected.
//!
//! Choosing which examples a worker sees is `strategy.rs`'s job, not this file's.

use super::PromptError;
use crate::spec::Strategy;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Example {
    /// Stable id (file order never matters; lists are sorted by id).
    pub id: String,
    pub name: String,
    pub description: String,
    /// Feature tags, same vocabulary as `dag::query_features`.
    pub tags: Vec<String>,
    /// Patterns this example's rewrite fixes (`dag::patterns::PATTERNS` names); the
    /// `matched` and `coverage` strategies pick examples by overlap with the query's.
    #[serde(default)]
    pub patterns: Vec<String>,
    /// The SQL slice before the rewrite.
    pub input: String,
    /// The rewrite in the answer format: {"rewrite_sets": [{"nodes": {...}}]}.
    pub output: serde_json::Value,
    pub key_insight: String,
    /// Honest note on when and how much it helps.
    pub evidence: String,
}

/// Every `*.json` example in `dir`, sorted by id. An empty folder is an error.
pub fn load_examples(dir: &Path) -> Result<Vec<Example>, PromptError> {
    let read_err = |e: std::io::Error| PromptError::Read {
        path: dir.into(),
        error: e.to_string(),
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(read_err)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(PromptError::NoExamples(dir.into()));
    }
    let mut examples = Vec::with_capacity(paths.len());
    for path in paths {
        let example = load_one(&path)?;
        if let Some(other) = examples.iter().find(|e: &&Example| e.id == example.id) {
            return Err(PromptError::InvalidExample {
                path,
                message: format!(
                    "id `{}` is already used by example `{}`",
                    example.id, other.name
                ),
            });
        }
        examples.push(example);
    }
    examples.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(examples)
}

/// Examples for a strategy: `none` needs (and reads) nothing.
pub fn load_examples_for(dir: &Path, strategy: Strategy) -> Result<Vec<Example>, PromptError> {
    match strategy {
        Strategy::None => Ok(Vec::new()),
        _ => load_examples(dir),
    }
}

fn load_one(path: &Path) -> Result<Example, PromptError> {
    let text = std::fs::read_to_string(path).map_err(|e| PromptError::Read {
        path: path.into(),
        error: e.to_string(),
    })?;
    let example: Example = serde_json::from_str(&text).map_err(|e| PromptError::BadExample {
        path: path.into(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let invalid = |message: String| PromptError::InvalidExample {
        path: path.into(),
        message,
    };
    crate::dag::extract_rewrite_set(&example.output.to_string())
        .map_err(|e| invalid(format!("`output` is not a usable answer: {e}")))?;
    if let Some(bad) = example
        .patterns
        .iter()
        .find(|p| !crate::dag::patterns::is_known_pattern(p))
    {
        let names: Vec<&str> = crate::dag::PATTERNS.iter().map(|p| p.name).collect();
        let near = names
            .iter()
            .copied()
            .max_by(|a, b| strsim::jaro_winkler(a, bad).total_cmp(&strsim::jaro_winkler(b, bad)));
        let hint = near
            .map(|n| format!(" (did you mean `{n}`?)"))
            .unwrap_or_default();
        return Err(invalid(format!(
            "unknown pattern `{bad}`{hint}; known patterns: {}",
            names.join(", ")
        )));
    }
    if example.id.trim().is_empty() {
        return Err(invalid("`id` is empty".into()));
    }
    Ok(example)
}
