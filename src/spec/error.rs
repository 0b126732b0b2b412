//! `SpecError`: every way a spec can be wrong, rendered like a compiler diagnostic
//! (`file:line:column: message`, the quoted source line, a caret, and a `help:` line).
//!
//! This file only formats and classifies; it does not decide what is wrong (that is
//! `load.rs`, `matrix.rs` and `query.rs`). Spec errors are always *bad input*: `main`
//! maps them to exit code 2, either by downcasting `anyhow::Error` to `SpecError` or
//! through the `From<SpecError> for BadInput` conversion below.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A point in the spec file, with the quoted line kept for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The spec path as the user gave it (not canonicalized: it is what they typed).
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// The whole source line (without the newline).
    pub source_line: String,
    /// How many characters to underline (at least 1).
    pub width: usize,
    /// Set when the place is a command-line override, not the file (`--set #2`,
    /// `--ids`): the error names it instead of `file:line:column`, and `source_line` is
    /// the override as the loader read it (`KEY = VALUE`).
    pub origin: Option<String>,
}

impl Location {
    /// Converts a byte span of `text` into a location.
    pub fn from_span(file: &Path, text: &str, span: Range<usize>) -> Self {
        let start = floor_char_boundary(text, span.start.min(text.len()));
        let end = floor_char_boundary(text, span.end.clamp(start, text.len()));
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let line = text[..start].matches('\n').count() + 1;
        let column = text[line_start..start].chars().count() + 1;
        let underlined = &text[start..end.min(line_end).max(start)];
        Location {
            file: file.to_path_buf(),
            line,
            column,
            source_line: text[line_start..line_end]
                .trim_end_matches('\r')
                .to_string(),
            width: underlined.chars().count().max(1),
            origin: None,
        }
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Some(origin) => write!(f, "{origin}"),
            None => write!(f, "{}:{}:{}", self.file.display(), self.line, self.column),
        }
    }
}

/// An invalid experiment spec. The message always names the spec file (and the line
/// when there is one) and ends with what to do next.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The spec file itself could not be read.
    #[error(
        "cannot read spec file {}: {source}\n  help: check the path; specs usually live in experiments/*.toml",
        path.display()
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    /// A problem that can be pinned to a place in the file.
    #[error("{}", render_at(loc, message, help.as_deref()))]
    At {
        loc: Box<Location>,
        message: String,
        help: Option<String>,
    },

    /// A command-line override that cannot even be read (`--set` without `=`, a value
    /// that is not TOML): `flag` is the flag and what was typed.
    #[error("{flag}: {message}{}", render_help(help.as_deref()))]
    Flag {
        flag: String,
        message: String,
        help: Option<String>,
    },

    /// A problem about the spec as a whole (no single line to blame).
    #[error("{}: {message}{}", file.display(), render_help(help.as_deref()))]
    File {
        file: PathBuf,
        message: String,
        help: Option<String>,
    },
}

impl SpecError {
    /// The 1-based line of the file the error points at, if any.
    pub fn line(&self) -> Option<usize> {
        match self {
            SpecError::At { loc, .. } if loc.origin.is_none() => Some(loc.line),
            _ => None,
        }
    }

    /// The location the error points at, if any.
    pub fn location(&self) -> Option<&Location> {
        match self {
            SpecError::At { loc, .. } => Some(loc),
            _ => None,
        }
    }
}

fn render_help(help: Option<&str>) -> String {
    help.map(|h| format!("\n  help: {h}")).unwrap_or_default()
}

fn render_at(loc: &Location, message: &str, help: Option<&str>) -> String {
    // An override has no line number: its gutter stays empty.
    let number = if loc.origin.is_some() { String::new() } else { loc.line.to_string() };
    let gutter = number.len();
    let pad = " ".repeat(gutter);
    format!(
        "{loc}: {message}\n{pad} |\n{number} | {}\n{pad} | {}{}{}",
        loc.source_line,
        " ".repeat(loc.column.saturating_sub(1)),
        "^".repeat(loc.width),
        render_help(help),
    )
}

impl From<SpecError> for crate::error::BadInput {
    fn from(e: SpecError) -> Self {
        crate::error::BadInput(e.to_string())
    }
}

/// The candidate closest to `word`, if it is close enough to be a plausible typo.
pub fn nearest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let word_l = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::damerau_levenshtein(&word_l, &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_counts_lines_and_columns() {
        let text = "a = 1\n[generation]\nworker = 20\n";
        let start = text.find("worker").unwrap();
        let loc = Location::from_span(Path::new("x.toml"), text, start..start + 6);
        assert_eq!((loc.line, loc.column, loc.width), (3, 1, 6));
        assert_eq!(loc.source_line, "worker = 20");
        assert_eq!(loc.to_string(), "x.toml:3:1");
    }

    #[test]
    fn nearest_finds_typos_only() {
        let keys = ["workers", "template", "response_format"];
        assert_eq!(nearest("worker", keys), Some("workers"));
        assert_eq!(nearest("tmplate", keys), Some("template"));
        assert_eq!(nearest("banana", keys), None);
    }
}
