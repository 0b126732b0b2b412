//! Looking things up in the parsed, spanned TOML tree: "where is `generation.workers`
//! written?" and "which key owns this byte span?". Used only to point error messages at
//! the right line; values are read from the typed structs, never from here.

use super::error::{Location, SpecError};
use std::ops::Range;
use std::path::Path;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// The spec being loaded: file name, text and parsed tree, for building errors. `text` is
/// the file followed by one line per command-line override (`overrides.rs`); a span on such
/// a line is reported as that override (`--set #2`), not as a line of the file.
pub struct Source<'a, 'i> {
    pub file: &'a Path,
    pub text: &'a str,
    pub root: &'a DeTable<'i>,
    pub overrides: &'a [super::overrides::Placed],
}

impl Source<'_, '_> {
    /// An error pointing at a byte span.
    pub fn at(
        &self,
        span: Range<usize>,
        message: impl Into<String>,
        help: Option<String>,
    ) -> SpecError {
        let mut loc = Location::from_span(self.file, self.text, span.clone());
        loc.origin = self
            .overrides
            .iter()
            .find(|p| p.line.start <= span.start && span.start <= p.line.end)
            .map(|p| p.origin.clone());
        SpecError::At {
            loc: Box::new(loc),
            message: message.into(),
            help,
        }
    }

    /// An error pointing at the value of `path` (or its section, or the file).
    pub fn at_value(
        &self,
        path: &[&str],
        message: impl Into<String>,
        help: Option<String>,
    ) -> SpecError {
        match self.nearest_span(path, true) {
            Some(span) => self.at(span, message, help),
            None => self.whole(message, help),
        }
    }

    /// An error pointing at the key `path` (or its section, or the file).
    pub fn at_key(
        &self,
        path: &[&str],
        message: impl Into<String>,
        help: Option<String>,
    ) -> SpecError {
        match self.nearest_span(path, false) {
            Some(span) => self.at(span, message, help),
            None => self.whole(message, help),
        }
    }

    /// An error about the file as a whole.
    pub fn whole(&self, message: impl Into<String>, help: Option<String>) -> SpecError {
        SpecError::File {
            file: self.file.to_path_buf(),
            message: message.into(),
            help,
        }
    }

    /// The span of `path` if written, else of its closest written parent's key.
    fn nearest_span(&self, path: &[&str], value: bool) -> Option<Range<usize>> {
        if let Some((k, v)) = find(self.root, path) {
            return Some(if value { v.span() } else { k.span() });
        }
        (1..path.len())
            .rev()
            .find_map(|n| key_span(self.root, &path[..n]))
    }
}

/// The spanned key and value at a dotted path (`["generation", "workers"]`), if written.
pub fn find<'a, 'i>(
    root: &'a DeTable<'i>,
    path: &[&str],
) -> Option<(
    &'a Spanned<std::borrow::Cow<'i, str>>,
    &'a Spanned<DeValue<'i>>,
)> {
    let (first, rest) = path.split_first()?;
    let (key, value) = root.get_key_value(*first)?;
    if rest.is_empty() {
        return Some((key, value));
    }
    match value.get_ref() {
        DeValue::Table(t) => find(t, rest),
        _ => None,
    }
}

/// Span of the value at `path`, if written.
pub fn value_span(root: &DeTable<'_>, path: &[&str]) -> Option<Range<usize>> {
    find(root, path).map(|(_, v)| v.span())
}

/// Span of the key at `path`, if written.
pub fn key_span(root: &DeTable<'_>, path: &[&str]) -> Option<Range<usize>> {
    find(root, path).map(|(k, _)| k.span())
}

/// Whether the key at `path` is written in the file.
pub fn is_written(root: &DeTable<'_>, path: &[&str]) -> bool {
    find(root, path).is_some()
}

/// The dotted path (`generation.worker`, `arms[1].set`) of the innermost key or value
/// whose span contains `span`; used to name the key a serde error is about.
pub fn path_at(root: &DeTable<'_>, span: &Range<usize>) -> Option<String> {
    let mut best: Option<String> = None;
    walk_table(root, String::new(), span, &mut best);
    best
}

fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end && outer != &(0..0)
}

fn walk_table(t: &DeTable<'_>, prefix: String, span: &Range<usize>, best: &mut Option<String>) {
    for (k, v) in t.iter() {
        let path = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        if contains(&k.span(), span) {
            *best = Some(path.clone());
        }
        walk_value(v, path, span, best);
    }
}

fn walk_value(
    v: &Spanned<DeValue<'_>>,
    path: String,
    span: &Range<usize>,
    best: &mut Option<String>,
) {
    if contains(&v.span(), span) {
        *best = Some(path.clone());
    }
    match v.get_ref() {
        DeValue::Table(t) => walk_table(t, path, span, best),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk_value(item, format!("{path}[{i}]"), span, best);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_written_keys_and_paths() {
        let text = "name = \"x\"\n[generation]\nworkers = 3\n[[arms]]\nname = \"a\"\n";
        let root = DeTable::parse(text).unwrap();
        let root = root.get_ref();
        let span = value_span(root, &["generation", "workers"]).unwrap();
        assert_eq!(&text[span.clone()], "3");
        assert!(!is_written(root, &["generation", "template"]));
        assert_eq!(path_at(root, &span).as_deref(), Some("generation.workers"));
        let arm = text.find("\"a\"").unwrap();
        assert_eq!(
            path_at(root, &(arm..arm + 3)).as_deref(),
            Some("arms[0].name")
        );
    }
}
