//! The effective spec (the file with the command-line overrides applied) in one canonical
//! TOML text, and the run identity derived from it.
//!
//! Canonical: keys sorted at every level, no comments, values as toml writes them, taken
//! before `${VAR}` expansion (so a machine with another environment resumes the same run).
//! An edited copy of a spec and the original with the same values given as overrides
//! produce the same bytes.
//!
//! The identity (what `--resume`, shards and `qt merge` compare) is the effective spec
//! minus the keys that cannot change what a generation is ([`NOT_IDENTITY`]): which queries
//! run (each has its own folder), how much of the plan runs now (budget, early stop) and
//! how fast the provider is asked, and what its answers cost. No I/O here.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Dotted keys left out of the identity (a resume may change them freely).
pub const NOT_IDENTITY: &[&str] = &[
    "description",
    "queries.ids",
    "queries.files",
    "generation.budget_usd",
    "generation.stop_when",
    "llm.max_concurrency",
    "llm.price",
    "llm.timeout_s",
    "llm.max_attempts",
];

/// Whether a dotted key is part of the identity.
pub fn in_identity(key: &str) -> bool {
    !NOT_IDENTITY.iter().any(|x| key == *x || key.starts_with(&format!("{x}.")))
}

/// The document, keys sorted recursively (arrays keep their order).
pub fn canonical(t: &toml::Table) -> toml::Table {
    let sorted: BTreeMap<&String, &toml::Value> = t.iter().collect();
    sorted.into_iter().map(|(k, v)| (k.clone(), canonical_value(v))).collect()
}

fn canonical_value(v: &toml::Value) -> toml::Value {
    match v {
        toml::Value::Table(t) => toml::Value::Table(canonical(t)),
        toml::Value::Array(a) => toml::Value::Array(a.iter().map(canonical_value).collect()),
        other => other.clone(),
    }
}

/// The canonical TOML text of a document.
pub fn effective_text(doc: &toml::Table) -> String {
    toml::to_string(&canonical(doc)).unwrap_or_default()
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Every leaf of the document by dotted key (values of arrays and `[[arms]]` as written by
/// toml), without the [`NOT_IDENTITY`] keys.
pub fn identity_keys(doc: &toml::Table) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    flatten(doc, "", &mut out);
    out.retain(|k, _| in_identity(k));
    out
}

fn flatten(t: &toml::Table, prefix: &str, out: &mut BTreeMap<String, String>) {
    for (k, v) in t {
        let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            toml::Value::Table(inner) => flatten(inner, &key, out),
            other => {
                out.insert(key, canonical_value(other).to_string());
            }
        }
    }
}

/// The identity hash of a document: sha256 of its identity keys, one `key = value` a line.
pub fn identity_sha256(doc: &toml::Table) -> String {
    let lines: String = identity_keys(doc).iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
    sha256_hex(&lines)
}

/// A key whose value differs between two documents (identity keys only):
/// `(key, old value or None when absent, new value or None)`.
pub type Difference = (String, Option<String>, Option<String>);

/// The identity keys that differ between `old` and `new`, sorted by key.
pub fn differences(old: &toml::Table, new: &toml::Table) -> Vec<Difference> {
    let (a, b) = (identity_keys(old), identity_keys(new));
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| (k.clone(), a.get(k).cloned(), b.get(k).cloned()))
        .collect()
}
