//! Reading an LLM answer: find the JSON rewrite set (`dag_json`, the last object with
//! `rewrite_sets`) or the SQL block (`sql`, the last ```sql block) in free text, tolerating the usual noise (fences, prose, trailing commas, raw
//! newlines inside JSON strings).
//!
//! It does not build the final query (see `assemble.rs`) and never substitutes the
//! original SQL: anything unusable is an [`AnswerError`] whose `reason()` is
//! `parse_error` and whose message says what was wrong.

use super::parse::parse_one_query_for;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnswerError {
    #[error(
        "no JSON object found in the answer (expected {{\"rewrite_sets\": [{{\"nodes\": {{...}}}}]}})"
    )]
    NoJson,
    /// No JSON, but a fenced SQL block: the template probably asks for plain SQL.
    #[error(
        "no JSON object found in the answer, but a fenced ```sql block: if the template asks for plain SQL, set response_format = \"sql\" (dag_json expects {{\"rewrite_sets\": [{{\"nodes\": {{...}}}}]}})"
    )]
    NoJsonButSql,
    #[error("the JSON object in the answer does not parse: {0}")]
    BadJson(String),
    #[error("rewrite_sets missing: the JSON object has no `rewrite_sets` list")]
    MissingRewriteSets,
    #[error("rewrite_sets is empty: expected at least one set with `nodes`")]
    EmptyRewriteSets,
    #[error("rewrite_sets[0].nodes missing or not an object mapping node ids to SQL")]
    MissingNodes,
    #[error("rewrite_sets[0].nodes is empty: no node was rewritten")]
    EmptyNodes,
    #[error("node `{0}` is not a SQL string")]
    NodeNotString(String),
    #[error("node `{node}` is not valid SQL: {error}")]
    InvalidNodeSql { node: String, error: String },
    /// Parsed as SQL, but not as exactly one query (DDL, DML, PRAGMA, several statements):
    /// recorded as `not_select`, like the sandbox's own refusal.
    #[error("node `{node}` is not a single query: {error}")]
    NotAQuery { node: String, error: String },
    #[error(
        "new CTE `{0}` has the name of a base table the query reads; it would replace that table everywhere — choose another name"
    )]
    ShadowsTable(String),
    #[error("cycle between new CTEs {0}")]
    Cycle(String),
    #[error("the assembled SQL is not one valid query: {0}")]
    Assembled(String),
    #[error("no ```sql block found and the answer is not a single SQL query: {0}")]
    NoSql(String),
}

impl AnswerError {
    /// Machine reason recorded in validation.json: `not_select` for statements other than
    /// one query, `parse_error` for everything else.
    pub fn reason(&self) -> &'static str {
        match self {
            AnswerError::NotAQuery { .. } => "not_select",
            _ => "parse_error",
        }
    }
}

/// The first rewrite set of a `dag_json` answer.
#[derive(Debug, Clone, PartialEq)]
pub struct RewriteSet {
    /// Node id -> SQL body, in the answer's order.
    pub nodes: Vec<(String, String)>,
    /// Free-text name of the transform, when given.
    pub transform: Option<String>,
    /// The whole set as answered (unknown fields kept for the record).
    pub raw: Value,
}

/// Find and check `rewrite_sets[0].nodes` in an answer.
pub fn extract_rewrite_set(response: &str) -> Result<RewriteSet, AnswerError> {
    let object = find_answer_object(response)?;
    let sets = match object.get("rewrite_sets") {
        Some(Value::Array(sets)) => sets,
        _ => return Err(AnswerError::MissingRewriteSets),
    };
    let first = sets.first().ok_or(AnswerError::EmptyRewriteSets)?;
    let Some(Value::Object(map)) = first.get("nodes") else {
        return Err(AnswerError::MissingNodes);
    };
    if map.is_empty() {
        return Err(AnswerError::EmptyNodes);
    }
    let mut nodes = Vec::with_capacity(map.len());
    for (id, body) in map {
        let sql = match body {
            Value::String(s) => s.clone(),
            // Some models split long SQL into a list of lines.
            Value::Array(lines) if lines.iter().all(Value::is_string) => lines
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n"),
            _ => return Err(AnswerError::NodeNotString(id.clone())),
        };
        nodes.push((id.trim().to_string(), sql));
    }
    let transform = first
        .get("transform")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(RewriteSet {
        nodes,
        transform,
        raw: first.clone(),
    })
}

/// The SQL of a `sql` answer: the last ```sql block, else the whole text if it parses
/// as exactly one query (DuckDB's SQL).
pub fn extract_sql(response: &str) -> Result<String, AnswerError> {
    extract_sql_for(response, crate::db::Engine::DuckDb)
}

/// [`extract_sql`] for an answer in `engine`'s SQL.
pub fn extract_sql_for(response: &str, engine: crate::db::Engine) -> Result<String, AnswerError> {
    let block = fences(response)
        .into_iter()
        .rev()
        .find(|(lang, _)| lang.eq_ignore_ascii_case("sql"))
        .map(|(_, body)| body);
    let text = block
        .unwrap_or(response)
        .trim()
        .trim_end_matches(';')
        .trim();
    // sqlparser reads most answers; what it cannot read, the engine decides.
    let checked = parse_one_query_for(text, engine)
        .map(|_| ())
        .or_else(|e| super::parse::engine_check(text, engine).map_err(|d| (e, d.to_string())));
    match checked {
        Ok(()) => Ok(text.to_string()),
        Err((_, d)) if block.is_some() => Err(AnswerError::Assembled(d)),
        Err((_, d)) => Err(AnswerError::NoSql(d)),
    }
}

/// The JSON object carrying `rewrite_sets`: the last such fenced block, else the last
/// such balanced `{...}` in the text (models that correct themselves answer last).
fn find_answer_object(text: &str) -> Result<Value, AnswerError> {
    let mut candidates: Vec<&str> = fences(text).into_iter().rev().map(|(_, b)| b).collect();
    candidates.extend(brace_spans(text).into_iter().rev());
    if candidates.iter().all(|c| !c.trim_start().starts_with('{')) {
        let sql_fence = fences(text).iter().any(|(lang, body)| lang.eq_ignore_ascii_case("sql") && !body.trim().is_empty());
        return Err(if sql_fence { AnswerError::NoJsonButSql } else { AnswerError::NoJson });
    }
    let mut first_error = None;
    let mut any_object = false;
    for c in candidates
        .iter()
        .filter(|c| c.trim_start().starts_with('{'))
    {
        match serde_json::from_str::<Value>(&repair_json(c)) {
            Ok(v @ Value::Object(_)) if v.get("rewrite_sets").is_some() => return Ok(v),
            Ok(Value::Object(_)) => any_object = true,
            Ok(_) => {}
            Err(e) => {
                first_error.get_or_insert(e.to_string());
            }
        }
    }
    match (any_object, first_error) {
        (false, Some(e)) => Err(AnswerError::BadJson(e)),
        _ => Err(AnswerError::MissingRewriteSets),
    }
}

/// Fenced code blocks as (language, body), in order. An unclosed fence runs to the end.
fn fences(text: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        let line_end = after.find('\n').unwrap_or(after.len());
        let lang = after[..line_end].trim();
        let body_start = (line_end + 1).min(after.len());
        let body = &after[body_start..];
        match body.find("```") {
            Some(close) => {
                out.push((lang, &body[..close]));
                rest = &body[close + 3..];
            }
            None => {
                out.push((lang, body));
                break;
            }
        }
    }
    out
}

/// Top-level balanced `{...}` spans (string-aware); an unbalanced tail is returned whole.
fn brace_spans(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'{' {
            i += 1;
            continue;
        }
        let (mut depth, mut in_str, mut esc, mut end) = (0usize, false, false, None);
        for (j, &b) in bytes.iter().enumerate().skip(i) {
            if in_str {
                match (esc, b) {
                    (true, _) => esc = false,
                    (false, b'\\') => esc = true,
                    (false, b'"') => in_str = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_str = true,
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        match end {
            Some(j) => {
                out.push(&text[i..=j]);
                i = j + 1;
            }
            None => {
                out.push(&text[i..]);
                break;
            }
        }
    }
    out
}

/// Fix trivially broken JSON: trailing commas before `}`/`]`, raw control characters
/// (newlines, tabs) and `\'` inside strings.
fn repair_json(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let (mut in_str, mut esc) = (false, false);
    for (i, &c) in chars.iter().enumerate() {
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                // `\'` is not a JSON escape; models write it for SQL quotes.
                (false, '\\') if chars.get(i + 1) == Some(&'\'') => continue,
                (false, '\\') => esc = true,
                (false, '"') => in_str = false,
                (false, '\n') => {
                    out.push_str("\\n");
                    continue;
                }
                (false, '\r') => continue,
                (false, '\t') => {
                    out.push_str("\\t");
                    continue;
                }
                _ => {}
            }
            out.push(c);
            continue;
        }
        if c == '"' {
            in_str = true;
        } else if c == ',' {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(next, Some('}') | Some(']')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}
