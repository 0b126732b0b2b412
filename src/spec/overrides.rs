//! Command-line overrides of spec keys: `--set KEY=VALUE` (dotted key, TOML value; a bare
//! word is a string) and the shortcuts `--ids`, `--model`, `--base-url`, `--budget-usd`.
//!
//! An override is applied to the parsed, spanned TOML document before `${VAR}` expansion,
//! typed deserialization and every check (`load.rs`), so any key of the spec, including
//! keys added later, is overridable and a bad key or value gets the same error as in the
//! file. For that, each override is written as one line `KEY = VALUE` after the file's
//! text (the loader's "source"); its value is parsed from there, so spans point at the
//! override and `spans::Source` names it (`--set #2`) instead of a file line.
//! This file parses and applies; it does not read files or the environment.

use super::error::SpecError;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One override as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// How the user gave it: `--set #2`, `--ids`, `--model`, `--base-url`, `--budget-usd`.
    pub origin: String,
    /// The key as written (`generation.workers`, `matrix."llm.temperature"`).
    pub key: String,
    /// The key's segments (`["matrix", "llm.temperature"]`).
    pub path: Vec<String>,
    /// Where each segment is written inside `key` (errors about one segment point at it).
    pub spans: Vec<Range<usize>>,
    /// The value as TOML text (a bare word already quoted).
    pub value: String,
    /// What was typed (`generation.workers=5`, `15,23`), for messages and config.json.
    pub given: String,
}

impl Override {
    /// `KEY = VALUE`: the line the loader parses.
    pub fn line(&self) -> String {
        format!("{} = {}", self.key, self.value)
    }

    /// Byte offset of the value inside [`Override::line`].
    pub fn value_offset(&self) -> usize {
        self.key.len() + 3
    }

    /// The dotted key (segments joined with `.`), as the known-keys lists spell it.
    pub fn dotted(&self) -> String {
        self.path.join(".")
    }

    /// The value as JSON (for config.json); null if it cannot be read.
    pub fn value_json(&self) -> serde_json::Value {
        format!("v = {}", self.value)
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .and_then(|v| serde_json::to_value(v).ok())
            .unwrap_or(serde_json::Value::Null)
    }

    /// What config.json records of it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"flag": self.origin, "key": self.dotted(), "value": self.value_json(), "given": self.given})
    }

    /// `--set generation.workers=5` / `--ids 15,23`, as shown in reports.
    pub fn display(&self) -> String {
        match self.origin.strip_prefix("--set #") {
            Some(_) => format!("--set {}", self.given),
            None => format!("{} {}", self.origin, self.given),
        }
    }
}

fn flag_error(origin: &str, given: &str, message: impl Into<String>, help: impl Into<String>) -> SpecError {
    SpecError::Flag { flag: format!("{origin} {given}"), message: message.into(), help: Some(help.into()) }
}

/// Parses the `n`-th (1-based) `--set` argument.
pub fn parse_set(n: usize, arg: &str) -> Result<Override, SpecError> {
    let origin = format!("--set #{n}");
    let Some((key, value)) = split_key_value(arg) else {
        return Err(flag_error(
            &origin,
            arg,
            "expected KEY=VALUE",
            "write a dotted key and a TOML value, e.g. --set generation.workers=5 or --set llm.model=deepseek-reasoner",
        ));
    };
    let key = key.trim();
    let (path, spans) = parse_key(key).ok_or_else(|| {
        flag_error(&origin, arg, format!("`{key}` is not a key"), "use a dotted key of the spec, e.g. generation.workers, llm.model, queries.ids")
    })?;
    let value = value_text(value.trim()).map_err(|e| {
        flag_error(
            &origin,
            arg,
            format!("the value is not TOML: {e}"),
            "write the value as in the spec file: 5, 0.2, true, \"text\", [15, 23], {input = 0.27, output = 1.1}; a bare word is a string",
        )
    })?;
    Ok(Override { origin, key: key.to_string(), path, spans, value, given: arg.to_string() })
}

/// A shortcut flag setting `key` (a plain dotted key) to a TOML `value`.
pub fn shortcut(flag: &str, key: &str, value: String, given: &str) -> Override {
    let (path, spans) = parse_key(key).unwrap_or_else(|| (vec![key.to_string()], vec![0..key.len()]));
    Override {
        origin: flag.to_string(),
        key: key.to_string(),
        path,
        spans,
        value,
        given: given.to_string(),
    }
}

/// `--ids 15,23a,1..5`: numbers as integers, anything else as strings (a leading `q` of
/// `q15` is dropped, as `--query` accepts it).
pub fn ids(given: &str) -> Result<Override, SpecError> {
    let items: Vec<&str> = given.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if items.is_empty() {
        return Err(flag_error("--ids", given, "no query id given", "list ids separated by commas, e.g. --ids 15,23a"));
    }
    let values: Vec<String> = items
        .iter()
        .map(|id| {
            let id = match id.strip_prefix(['q', 'Q']) {
                Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
                _ => id,
            };
            match id.parse::<u32>() {
                Ok(n) => n.to_string(),
                Err(_) => toml_string(id),
            }
        })
        .collect();
    Ok(shortcut("--ids", "queries.ids", format!("[{}]", values.join(", ")), given))
}

/// A TOML basic string holding `s`.
pub fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Every override of one command line: the shortcuts first, then each `--set` in order (a
/// later `--set` of the same key wins). A shortcut and a `--set` of the same key is an
/// error (which one was meant?).
pub fn collect(sets: &[String], shortcuts: Vec<Override>) -> Result<Vec<Override>, SpecError> {
    let mut out = shortcuts;
    for (i, arg) in sets.iter().enumerate() {
        let o = parse_set(i + 1, arg)?;
        if let Some(s) = out.iter().find(|s| !s.origin.starts_with("--set") && s.dotted() == o.dotted()) {
            return Err(flag_error(
                &o.origin,
                &o.given,
                format!("{} also sets {}", s.origin, s.dotted()),
                format!("keep one of {} and {}", s.display(), o.display()),
            ));
        }
        out.push(o);
    }
    Ok(out)
}

/// Splits at the first `=` outside quotes (quoted key segments may hold `=`).
fn split_key_value(arg: &str) -> Option<(&str, &str)> {
    let mut quote: Option<char> = None;
    for (i, c) in arg.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '=') => return Some((&arg[..i], &arg[i + 1..])),
            _ => {}
        }
    }
    None
}

/// The segments of a dotted TOML key and where each is written, parsed by toml itself
/// (quoted segments allowed).
fn parse_key(key: &str) -> Option<(Vec<String>, Vec<Range<usize>>)> {
    if key.is_empty() {
        return None;
    }
    let doc = format!("{key} = 0");
    let parsed = DeTable::parse(&doc).ok()?;
    let (mut path, mut spans) = (Vec::new(), Vec::new());
    let mut table = parsed.get_ref();
    loop {
        if table.len() != 1 {
            return None;
        }
        let (k, v) = table.iter().next()?;
        path.push(k.get_ref().to_string());
        spans.push(k.span());
        match v.get_ref() {
            DeValue::Table(t) => table = t,
            _ => return Some((path, spans)),
        }
    }
}

/// The value as TOML text: as given when it parses, quoted when it is a bare word.
fn value_text(v: &str) -> Result<String, String> {
    if v.is_empty() {
        return Err("nothing after `=` (an empty string is written \"\")".into());
    }
    match DeValue::parse(v) {
        Ok(_) => Ok(v.to_string()),
        Err(_) if !v.starts_with(['"', '\'', '[', '{']) => Ok(toml_string(v)),
        Err(e) => Err(e.message().trim().to_string()),
    }
}

/// Where one override sits in the loader's source text.
#[derive(Debug, Clone)]
pub struct Placed {
    /// The override's line (`KEY = VALUE`).
    pub line: Range<usize>,
    pub value: Range<usize>,
    pub origin: String,
}

/// The loader's source: the file's text, then one line per override. Returns the text
/// and where each override landed.
pub fn source_text(file_text: &str, overrides: &[Override]) -> (String, Vec<Placed>) {
    let mut text = file_text.to_string();
    let mut placed = Vec::new();
    for o in overrides {
        text.push('\n');
        let start = text.len();
        text.push_str(&o.line());
        let value_start = start + o.value_offset();
        placed.push(Placed { line: start..text.len(), value: value_start..text.len(), origin: o.origin.clone() });
    }
    (text, placed)
}

/// Why an override cannot be applied to the document.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyError {
    pub message: String,
    pub help: String,
}

/// Sets each override's key in `doc` (tables created as needed; the old value, a whole
/// table included, replaced). `text` is the loader's source from [`source_text`].
pub fn apply<'i>(
    doc: &mut DeTable<'i>,
    text: &'i str,
    overrides: &[Override],
    placed: &[Placed],
) -> Result<(), (usize, ApplyError)> {
    for (i, (o, p)) in overrides.iter().zip(placed).enumerate() {
        let value = DeValue::parse(&text[p.value.clone()]).map_err(|e| {
            (i, ApplyError { message: format!("the value is not TOML: {}", e.message().trim()), help: String::new() })
        })?;
        let value = shift(value, p.value.start);
        let spans: Vec<Range<usize>> = o.spans.iter().map(|s| s.start + p.line.start..s.end + p.line.start).collect();
        set(doc, &o.path, &spans, value, p.line.clone()).map_err(|e| (i, e))?;
    }
    Ok(())
}

/// Sets `path` (segment `i` written at `spans[i]`) to `value`; `line` is the override's.
fn set<'i>(
    doc: &mut DeTable<'i>,
    path: &[String],
    spans: &[Range<usize>],
    value: Spanned<DeValue<'i>>,
    line: Range<usize>,
) -> Result<(), ApplyError> {
    let (last, parents) = path.split_last().expect("a parsed key has a segment");
    let span_of = |i: usize| spans.get(i).cloned().unwrap_or(line.clone());
    let mut table = doc;
    for (depth, seg) in parents.iter().enumerate() {
        let key = Spanned::new(span_of(depth), std::borrow::Cow::Owned(seg.clone()));
        let entry = table
            .entry(key)
            .or_insert_with(|| Spanned::new(line.clone(), DeValue::Table(DeTable::new())));
        table = match entry.get_mut() {
            DeValue::Table(t) => t,
            other => {
                let at = path[..=depth].join(".");
                return Err(ApplyError {
                    message: format!("`{at}` is {}, not a table, so it has no key `{}`", kind(other), path[depth + 1]),
                    help: format!("set `{at}` itself, or fix the key"),
                });
            }
        };
    }
    // Remove first, so the key's span is the override's (errors about the key point here).
    table.remove(last.as_str());
    table.insert(Spanned::new(span_of(parents.len()), std::borrow::Cow::Owned(last.clone())), value);
    Ok(())
}

fn kind(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

/// The same value with every span moved by `by` bytes (parsed alone, placed in the source).
fn shift(v: Spanned<DeValue<'_>>, by: usize) -> Spanned<DeValue<'_>> {
    let span = v.span();
    let inner = match v.into_inner() {
        DeValue::Array(items) => DeValue::Array(items.into_iter().map(|x| shift(x, by)).collect()),
        DeValue::Table(t) => DeValue::Table(
            t.into_iter()
                .map(|(k, x)| {
                    let ks = k.span();
                    (Spanned::new(ks.start + by..ks.end + by, k.into_inner()), shift(x, by))
                })
                .collect(),
        ),
        other => other,
    };
    Spanned::new(span.start + by..span.end + by, inner)
}
