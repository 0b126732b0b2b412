//! `${VAR}` and `${VAR:-default}` expansion inside the spec's string values.
//!
//! Expansion happens on the parsed, still-spanned TOML tree (before typed
//! deserialization), so a failure can point at the exact string in the file. Keys are
//! never expanded, and neither is anything outside string values. A `$` not followed by
//! `{` is kept literally; there is no nesting (`${A:-${B}}` is not supported).
//! This file does not read the process environment itself: callers pass a lookup.

use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Why a string could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvError {
    /// `${VAR}` with VAR unset and no default.
    Unset { var: String },
    /// `${` without the closing `}`, or an empty/invalid variable name.
    Malformed { text: String },
}

/// Expands one string. Bash semantics: `${VAR:-default}` uses the default when VAR is
/// unset *or empty*; `${VAR}` set to "" expands to "".
pub fn expand_str(s: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, EnvError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(EnvError::Malformed {
                text: rest[start..].to_string(),
            });
        };
        let inner = &after[..end];
        let (var, default) = match inner.split_once(":-") {
            Some((v, d)) => (v, Some(d)),
            None => (inner, None),
        };
        if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(EnvError::Malformed {
                text: format!("${{{inner}}}"),
            });
        }
        let value = env(var).filter(|v| default.is_none() || !v.is_empty());
        match (value, default) {
            (Some(v), _) => out.push_str(&v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => {
                return Err(EnvError::Unset {
                    var: var.to_string(),
                });
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Expands every string value in the tree, in place. On failure returns the error and
/// the span of the offending string.
pub fn expand_table(
    table: &mut DeTable<'_>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), (EnvError, Range<usize>)> {
    for (_, value) in table.iter_mut() {
        expand_value(value, env)?;
    }
    Ok(())
}

fn expand_value(
    value: &mut Spanned<DeValue<'_>>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), (EnvError, Range<usize>)> {
    let span = value.span();
    match value.get_mut() {
        DeValue::String(s) if s.contains("${") => {
            let expanded = expand_str(s, env).map_err(|e| (e, span))?;
            *s = expanded.into();
        }
        DeValue::Array(items) => {
            for item in items.iter_mut() {
                expand_value(item, env)?;
            }
        }
        DeValue::Table(t) => expand_table(t, env)?,
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(var: &str) -> Option<String> {
        match var {
            "HOME_X" => Some("/home/x".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expands_set_unset_and_defaults() {
        assert_eq!(expand_str("${HOME_X}/q", &env).unwrap(), "/home/x/q");
        assert_eq!(expand_str("${NOPE:-../d}", &env).unwrap(), "../d");
        assert_eq!(expand_str("${EMPTY:-dflt}", &env).unwrap(), "dflt");
        assert_eq!(expand_str("a${EMPTY}b", &env).unwrap(), "ab");
        assert_eq!(
            expand_str("cost $5 ${HOME_X}", &env).unwrap(),
            "cost $5 /home/x"
        );
        assert_eq!(expand_str("${HOME_X:-}", &env).unwrap(), "/home/x");
    }

    #[test]
    fn reports_unset_and_malformed() {
        assert_eq!(
            expand_str("${NOPE}", &env),
            Err(EnvError::Unset { var: "NOPE".into() })
        );
        assert!(matches!(
            expand_str("${NOPE", &env),
            Err(EnvError::Malformed { .. })
        ));
        assert!(matches!(
            expand_str("${}", &env),
            Err(EnvError::Malformed { .. })
        ));
        assert!(matches!(
            expand_str("${A B}", &env),
            Err(EnvError::Malformed { .. })
        ));
    }

    #[test]
    fn walks_nested_strings_and_keeps_spans() {
        let text = "a = \"${HOME_X}\"\n[t]\nb = [\"${NOPE:-x}\", 1]\nc = { d = \"${HOME_X}\" }\n";
        let mut root = DeTable::parse(text).unwrap();
        let span = root.span();
        expand_table(root.get_mut(), &env).unwrap();
        assert_eq!(root.span(), span);
        let de = toml::de::Deserializer::from(root);
        let v: toml::Table = serde::Deserialize::deserialize(de).unwrap();
        assert_eq!(v["a"].as_str(), Some("/home/x"));
        assert_eq!(v["t"]["b"][0].as_str(), Some("x"));
        assert_eq!(v["t"]["c"]["d"].as_str(), Some("/home/x"));
    }
}
