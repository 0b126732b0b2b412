//! Naming the missing variable of a strict-undefined template error. minijinja reports
//! "undefined value" at a line (for `{{ x }}` often without the expression), so the
//! dotted names used on that line are checked against the render context and the first
//! one that does not resolve is named, with what exists instead.

use serde_json::Value;

const KEYWORDS: &[&str] = &[
    "if", "elif", "else", "endif", "for", "endfor", "in", "not", "and", "or", "is", "set", "endset",
    "include", "import", "from", "extends", "block", "endblock", "macro", "endmacro", "call", "endcall",
    "with", "endwith", "filter", "endfilter", "true", "false", "none", "True", "False", "None", "loop",
    "recursive", "as", "ignore", "missing", "raw", "endraw", "self", "super", "caller", "namespace",
    "range", "dict", "varargs", "kwargs", "defined", "undefined",
];

/// The dotted names (`a`, `a.b.c`) in the `{{ }}` / `{% %}` tags of `line`: not filter
/// or test names, not keywords, not inside string literals.
fn dotted_names(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(open) = rest.find(['{']) {
        let after = &rest[open + 1..];
        let close = match after.chars().next() {
            Some('{') => "}}",
            Some('%') => "%}",
            _ => {
                rest = after;
                continue;
            }
        };
        let body_start = &after[1..];
        let end = body_start.find(close).unwrap_or(body_start.len());
        scan_expr(&body_start[..end], &mut out);
        rest = &body_start[end..];
    }
    out
}

fn scan_expr(expr: &str, out: &mut Vec<String>) {
    let b = expr.as_bytes();
    let (mut i, mut prev) = (0, b' ');
    while i < b.len() {
        let c = b[i];
        if c == b'"' || c == b'\'' {
            i += 1;
            while i < b.len() && b[i] != c {
                i += 1;
            }
            i += 1;
            prev = b'"';
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.') {
                i += 1;
            }
            let name = expr[start..i].trim_end_matches('.');
            let head = name.split('.').next().unwrap_or_default();
            let is_filter_or_test = prev == b'|' || expr[..start].trim_end().ends_with(" is");
            let is_call_kwarg = expr[i..].trim_start().starts_with('=') && !expr[i..].trim_start().starts_with("==");
            if !is_filter_or_test && !is_call_kwarg && !KEYWORDS.contains(&head) && prev != b'.' {
                out.push(name.to_string());
            }
            prev = b'a';
            continue;
        }
        if !c.is_ascii_whitespace() {
            prev = c;
        }
        i += 1;
    }
}

/// Names a template binds itself (`for x in`, `for k, v in`, `set x =`, macro arguments).
fn locals(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    for tag in source.split("{%").skip(1) {
        let tag = tag.split("%}").next().unwrap_or_default().trim().trim_start_matches('-').trim();
        let words: Vec<&str> = tag.split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')').filter(|w| !w.is_empty()).collect();
        match words.first().copied() {
            Some("for") => out.extend(words[1..].iter().take_while(|w| **w != "in").map(|w| w.to_string())),
            Some("set") | Some("macro") => out.extend(words[1..].iter().take_while(|w| !w.contains('=')).map(|w| w.to_string())),
            _ => {}
        }
    }
    out
}

/// A sentence naming the missing variable or field on `line`, if one can be found.
pub(super) fn explain(line: &str, source: &str, ctx: &Value) -> Option<String> {
    let bound = locals(source);
    for name in dotted_names(line) {
        let mut parts = name.split('.');
        let head = parts.next()?;
        let Some(mut v) = ctx.get(head) else {
            if bound.iter().any(|b| b == head) {
                continue;
            }
            let have: Vec<&str> = ctx.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
            return Some(format!("`{head}` is not a template variable (the context has: {})", have.join(", ")));
        };
        let mut path = head.to_string();
        for field in parts {
            match v.get(field) {
                Some(next) => v = next,
                None => {
                    let have = v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "));
                    return Some(match have {
                        Some(h) => format!("`{path}` has no field `{field}` (it has: {h})"),
                        None => format!("`{path}.{field}`: `{path}` is not an object"),
                    });
                }
            }
            path.push('.');
            path.push_str(field);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_the_missing_variable_or_field() {
        let ctx = json!({"query": {"id": "1", "sql": "x"}, "dialect": "duckdb", "dag": {"nodes": []}});
        let src = "{% for n in dag.nodes %}{{ n.sql }}{% endfor %}";
        assert_eq!(explain("bad {{ nope }}", src, &ctx).unwrap(), "`nope` is not a template variable (the context has: query, dialect, dag)");
        assert_eq!(explain("{{ query.idd | upper }}", src, &ctx).unwrap(), "`query` has no field `idd` (it has: id, sql)");
        assert_eq!(explain("{% if dialect == 'x' %}{{ n.whatever }}{% endif %}", src, &ctx), None, "loop variables are not judged");
        assert_eq!(explain("{{ 'nope' ~ dialect | indent(2) }}", src, &ctx), None);
    }
}
