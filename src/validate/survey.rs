//! `qt db survey`: which queries a sample DB can judge. Each statement of each query file
//! runs once in the validation sandbox; the survey reports its rows and time, and flags
//! the ones whose result is empty (no rows, or only NULLs): validation on that DB would
//! say `inconclusive/empty_result` for every candidate.
//!
//! It only reads and prints; it decides no verdict.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::sandbox::Sandbox;

/// One surveyed statement.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SurveyRow {
    /// `query_1.sql`, or `query_14.sql#2` for the second statement of a file.
    pub name: String,
    pub rows: Option<usize>,
    pub seconds: Option<f64>,
    /// True when the result has no row with a non-NULL value.
    pub empty: bool,
    pub error: Option<String>,
}

impl SurveyRow {
    pub fn line(&self) -> String {
        match (&self.error, self.rows) {
            (Some(e), _) => format!("{:<22} error: {e}", self.name),
            (None, Some(r)) => format!(
                "{:<22} {:>9} rows {:>8.3} s{}",
                self.name,
                r,
                self.seconds.unwrap_or(0.0),
                if self.empty {
                    "  empty: cannot be judged here"
                } else {
                    ""
                }
            ),
            (None, None) => format!("{:<22} not run", self.name),
        }
    }
}

/// The `.sql` files named by `inputs` (files as given, folders' `.sql` files in natural
/// order: query_2 before query_10). Unreadable or missing paths are `Err` naming them.
pub fn collect_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("cannot read folder {}: {e}", p.display()))?
                .flatten()
                .map(|e| e.path())
                .filter(|f| f.extension().is_some_and(|x| x == "sql"))
                .collect();
            files.sort_by_key(|f| natural_key(f));
            out.extend(files);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(format!(
                "{} does not exist; name .sql files or folders of them",
                p.display()
            ));
        }
    }
    Ok(out)
}

fn natural_key(p: &Path) -> (String, u64, String) {
    let stem = p
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix: String = stem.chars().take_while(|c| !c.is_ascii_digit()).collect();
    let digits: String = stem[prefix.len()..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    (prefix, digits.parse().unwrap_or(0), stem.clone())
}

/// Runs every statement of every file on `db` (threads 1, `deadline` each).
pub fn survey(
    db: impl Into<crate::db::Target>,
    files: &[PathBuf],
    deadline: Duration,
    mut each: impl FnMut(&SurveyRow),
) -> Result<Vec<SurveyRow>, String> {
    let sb = Sandbox::open(db, 1, "4GB").map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
        let statements = crate::db::split_statements(&text);
        let file_name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for (i, sql) in statements.iter().enumerate() {
            let name = if statements.len() > 1 {
                format!("{file_name}#{}", i + 1)
            } else {
                file_name.clone()
            };
            let row = match sb.run(sql, deadline) {
                Ok(x) => SurveyRow {
                    name,
                    rows: Some(x.result.rows.len()),
                    seconds: Some(x.elapsed.as_secs_f64()),
                    empty: x.result.is_vacuous(),
                    error: None,
                },
                Err(e) => SurveyRow {
                    name,
                    rows: None,
                    seconds: None,
                    empty: false,
                    error: Some(e.to_string()),
                },
            };
            each(&row);
            out.push(row);
        }
    }
    Ok(out)
}

/// The closing line: `105 statements: 102 judgeable, 3 empty (query_8.sql, ...), 0 errors`.
pub fn totals_line(rows: &[SurveyRow]) -> String {
    let empty: Vec<&str> = rows
        .iter()
        .filter(|r| r.empty)
        .map(|r| r.name.as_str())
        .collect();
    let errors = rows.iter().filter(|r| r.error.is_some()).count();
    let judgeable = rows.len() - empty.len() - errors;
    let list = if empty.is_empty() {
        String::new()
    } else {
        format!(" ({})", empty.join(", "))
    };
    format!(
        "{} statements: {judgeable} judgeable, {} empty{list}, {errors} errors",
        rows.len(),
        empty.len()
    )
}
