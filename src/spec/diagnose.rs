//! Turning serde/toml deserialization errors into spec errors a person can act on:
//! the key named by its dotted path, the nearest valid key or value suggested, and a
//! hint for the usual mistakes (quotes around numbers, unquoted matrix keys).
//!
//! The list of valid names comes from serde's own "expected one of `a`, `b`" text, so it
//! can never drift from the types. This file only rewords; it never decides validity.

use super::error::{SpecError, nearest};
use super::spans::{self, Source};

/// Rewords one deserialization error of the whole spec.
pub fn serde_error(src: &Source, e: toml::de::Error) -> SpecError {
    let msg = e.message().trim().to_string();
    let span = e.span();
    let path = span.as_ref().and_then(|s| spans::path_at(src.root, s));
    let (message, help) = reword(&msg, path.as_deref(), src);
    // A missing top-level key has the whole document as its span: no line to blame.
    let whole_file = msg.starts_with("missing field") && path.is_none();
    match span {
        Some(span) if !whole_file => src.at(span, message, help),
        _ => src.whole(message, help),
    }
}

fn reword(msg: &str, path: Option<&str>, src: &Source) -> (String, Option<String>) {
    let ticks = backticked(msg);
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or_default();
        return unknown_key(name, &ticks[1.min(ticks.len())..], path, src);
    }
    if msg.starts_with("unknown variant `") {
        let name = ticks.first().map(String::as_str).unwrap_or_default();
        let valid: Vec<&str> = ticks.iter().skip(1).map(String::as_str).collect();
        let key = path.map(|p| format!(" for `{p}`")).unwrap_or_default();
        let help = match nearest(name, valid.iter().copied()) {
            Some(s) => format!("did you mean `{s}`? valid values: {}", valid.join(", ")),
            None => format!("valid values: {}", valid.join(", ")),
        };
        return (format!("unknown value `{name}`{key}"), Some(help));
    }
    if msg.starts_with("missing field `") {
        let name = ticks.first().map(String::as_str).unwrap_or_default();
        return missing_key(name, path);
    }
    if msg.contains("untagged enum QueryId") {
        return (
            format!("bad entry in `{}`", path.unwrap_or("queries.ids")),
            Some("ids are numbers (1), inclusive ranges (\"1..99\") or names (\"23a\")".into()),
        );
    }
    if path.is_some_and(|p| p.starts_with("matrix.")) && msg.contains("invalid type: map") {
        return (
            "unquoted dotted key in [matrix]".into(),
            Some("quote matrix keys: \"llm.temperature\" = [0.2, 0.8]".into()),
        );
    }
    let key = path.map(|p| format!(" for `{p}`")).unwrap_or_default();
    let help = if path.is_some_and(|p| p.starts_with("matrix")) {
        "matrix entries are quoted dotted keys with a list of values: \"llm.temperature\" = [0.2, 0.8]".to_string()
    } else if msg.starts_with("invalid type: string") && !msg.contains("expected a string") {
        "remove the quotes around the value, or give a value of the expected type".to_string()
    } else {
        "change the value to the expected type (see SPEC.md for each key)".to_string()
    };
    (format!("wrong value{key}: {msg}"), Some(help))
}

fn unknown_key(
    name: &str,
    valid: &[String],
    path: Option<&str>,
    src: &Source,
) -> (String, Option<String>) {
    let section = path
        .and_then(|p| p.rsplit_once('.'))
        .map(|(s, _)| s.to_string());
    let is_table = path.is_some_and(|p| {
        let parts: Vec<&str> = p.split('.').collect();
        spans::find(src.root, &parts).is_some_and(|(_, v)| v.get_ref().is_table())
    });
    // `arms[1]` reads better as `[[arms]] #2`.
    let section =
        section.map(
            |s| match s.strip_prefix("arms[").and_then(|r| r.strip_suffix(']')) {
                Some(i) => format!("[[arms]] #{}", i.parse::<usize>().map_or(0, |i| i + 1)),
                None => format!("[{s}]"),
            },
        );
    let message = match (&section, is_table) {
        (None, true) => format!("unknown section [{name}]"),
        (None, false) => format!("unknown key `{name}`"),
        (Some(s), _) => format!("unknown key `{name}` in {s}"),
    };
    let valid: Vec<&str> = valid.iter().map(String::as_str).collect();
    let help = match nearest(name, valid.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None if valid.is_empty() => "remove it".to_string(),
        None => format!("valid keys here: {}", valid.join(", ")),
    };
    (message, Some(help))
}

fn missing_key(name: &str, path: Option<&str>) -> (String, Option<String>) {
    match (name, path) {
        ("name", Some(p)) if p.starts_with("arms") => (
            format!("missing `name` in `{p}`"),
            Some("give every [[arms]] table a name, e.g. name = \"low_temp\"".into()),
        ),
        ("name", _) => (
            "missing required key `name`".into(),
            Some("add name = \"my_experiment\" at the top of the file; it names the output folder".into()),
        ),
        ("queries", _) => (
            "missing required section [queries]".into(),
            Some("add [queries] with dir = \"folder of .sql files\" and ids = [1], or files = [\"q/*.sql\"]".into()),
        ),
        (other, p) => (
            format!("missing required key `{other}`{}", p.map(|p| format!(" in `{p}`")).unwrap_or_default()),
            Some(format!("add {other} = ...")),
        ),
    }
}

/// The `...` pieces of a serde message, in order.
fn backticked(msg: &str) -> Vec<String> {
    msg.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backticks() {
        let m = "unknown field `worker`, expected one of `workers`, `template`";
        assert_eq!(backticked(m), ["worker", "workers", "template"]);
    }
}
