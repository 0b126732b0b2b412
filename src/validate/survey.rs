//! `qt db survey`: which queries a sample DB can judge. Each statement of each query file
//! runs once in the validation sandbox; the survey reports its rows and time, and flags
//! the ones whose result is empty (no rows, or only NULLs): validation on that DB would
//! say `inconclusive/empty_result` for every candidate.
//!
//! It only reads and prints; it decides no verdict.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::evidence::{constant_columns, evidence_rows};
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
    /// Rows of evidence (`evidence.rs`): fewer than [`SURVEY_MIN_ROWS`] cannot judge.
    pub evidence: usize,
    /// For an empty or thin statement: the re-binding that gives it enough rows here
    /// (`d_year 2000->1999`), if one was found.
    pub rebound: Option<String>,
    pub error: Option<String>,
}

/// The evidence a statement needs to judge on this one DB (the default `min_rows`).
pub const SURVEY_MIN_ROWS: usize = 2;

impl SurveyRow {
    /// Non-empty but with fewer than [`SURVEY_MIN_ROWS`] rows of evidence.
    pub fn thin(&self) -> bool {
        self.error.is_none() && !self.empty && self.evidence < SURVEY_MIN_ROWS
    }
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
                match (self.empty || self.thin(), &self.rebound) {
                    (false, _) => String::new(),
                    (true, None) if self.empty => "  empty: cannot be judged here".to_string(),
                    (true, None) => format!("  thin: {} row(s) of evidence", self.evidence),
                    (true, Some(b)) => format!("  {}: rescued by re-binding ({b})", if self.empty { "empty" } else { "thin" }),
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

/// The re-binding that gives `sql` enough evidence on this DB, described; every probe and
/// try runs in the sandbox.
fn rescue(sb: &Sandbox, sql: &str, deadline: Duration, tries: u32) -> Option<String> {
    let run_all = |s: &str| vec![sb.run_capped(s, deadline, super::TIE_ROWS_CAP).map(|x| x.result).map_err(|e| e.to_string())];
    let score = |r: &[Result<super::ResultSet, String>]| -> usize {
        r.iter().flatten().map(|x| evidence_rows(x, &constant_columns(sql, x.columns.len()))).sum()
    };
    super::rebind::search(sql, tries, SURVEY_MIN_ROWS, &run_all, &score)
        .ok()
        .map(|r| format!("{}; {} row(s) of evidence", super::rebind::describe(&r.changes), r.evidence))
}

/// Runs every statement of every file on `db` (threads 1, `deadline` each); an empty or
/// thin one gets up to `rebind_tries` re-bindings (0 = none).
pub fn survey(
    db: impl Into<crate::db::Target>,
    files: &[PathBuf],
    deadline: Duration,
    rebind_tries: u32,
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
                Ok(x) => {
                    let evidence = evidence_rows(&x.result, &constant_columns(sql, x.result.columns.len()));
                    let rebound = (evidence < SURVEY_MIN_ROWS && rebind_tries > 0)
                        .then(|| rescue(&sb, sql, deadline, rebind_tries))
                        .flatten();
                    SurveyRow {
                        name,
                        rows: Some(x.result.rows.len()),
                        seconds: Some(x.elapsed.as_secs_f64()),
                        empty: x.result.is_vacuous(),
                        evidence,
                        rebound,
                        error: None,
                    }
                }
                Err(e) => SurveyRow {
                    name,
                    rows: None,
                    seconds: None,
                    empty: false,
                    evidence: 0,
                    rebound: None,
                    error: Some(e.to_string()),
                },
            };
            each(&row);
            out.push(row);
        }
    }
    Ok(out)
}

/// The closing line: `105 statements: 100 judgeable, 3 empty (query_8.sql, ...), 2 thin
/// (...), 0 errors; re-binding rescues 4 of the 5 (query_8.sql, ...)`.
pub fn totals_line(rows: &[SurveyRow]) -> String {
    let names = |f: &dyn Fn(&SurveyRow) -> bool| -> Vec<&str> { rows.iter().filter(|r| f(r)).map(|r| r.name.as_str()).collect() };
    let list = |v: &[&str]| if v.is_empty() { String::new() } else { format!(" ({})", v.join(", ")) };
    let empty = names(&|r| r.empty);
    let thin = names(&|r| r.thin());
    let rescued = names(&|r| (r.empty || r.thin()) && r.rebound.is_some());
    let errors = rows.iter().filter(|r| r.error.is_some()).count();
    let judgeable = rows.len() - empty.len() - thin.len() - errors;
    let thin_part = if thin.is_empty() { String::new() } else { format!(", {} thin{}", thin.len(), list(&thin)) };
    let rescue_part = if empty.len() + thin.len() == 0 {
        String::new()
    } else {
        format!("; re-binding rescues {} of the {}{}", rescued.len(), empty.len() + thin.len(), list(&rescued))
    };
    format!(
        "{} statements: {judgeable} judgeable, {} empty{}{thin_part}, {errors} errors{rescue_part}",
        rows.len(),
        empty.len(),
        list(&empty)
    )
}
