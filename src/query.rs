//! Finding and loading query files: `ids` looked up in a folder, or `files` globs.
//!
//! An id is a number (`1`), an inclusive range (`"1..99"`) or a name (`"23a"`). For id
//! `n` these file names are tried, in order: `query_{n}.sql`, `query{nn}.sql` (numeric
//! part zero-padded to 2), `query{n}.sql`, `q{n}.sql`, `{n}.sql`. A glob match gets its
//! id from the file stem, with a leading `query_`, `query` or `q` stripped when what
//! remains starts with a digit (`query_23a.sql` -> `23a`, `q07.sql` -> `07`,
//! `orders.sql` -> `orders`). This file knows nothing about TOML: the spec loader turns
//! a [`QueryError`] into a located spec error.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::sqltext::MAX_SQL_BYTES;

/// `ids = [1, "2..5", "23a"]` in a spec's `[queries]`.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, PartialEq)]
#[serde(untagged)]
pub enum QueryId {
    Number(u32),
    Text(String),
}

/// One query to optimize.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QueryFile {
    /// "1", "23a": names the query's output folder.
    pub id: String,
    pub path: PathBuf,
    pub sql: String,
}

/// Why a query selection failed. Messages name the folder or file and say what to do.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("bad query id {id:?}: {reason}")]
    BadId { id: String, reason: String },
    #[error("query folder {} does not exist; set queries.dir (or QT_TPCDS_QUERIES) to the folder holding the .sql files", dir.display())]
    DirMissing { dir: PathBuf },
    #[error("query {id} not found in {}: tried {}; {listing}", dir.display(), tried.join(", "))]
    NotFound {
        id: String,
        dir: PathBuf,
        tried: Vec<String>,
        listing: String,
    },
    #[error("glob {pattern:?} is not a valid pattern: {reason}")]
    BadPattern { pattern: String, reason: String },
    #[error(
        "glob {pattern:?} matches no files; check the pattern (it is relative to the spec file's folder)"
    )]
    NoMatch { pattern: String },
    #[error("cannot read query file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "query file {} is {size} bytes; qt reads at most {max} bytes (1 MiB) of SQL per query, because DuckDB's parser has no deadline; shorten it (e.g. put a long IN list in a table) or remove it from the selection",
        path.display()
    )]
    TooLarge { path: PathBuf, size: u64, max: usize },
    #[error("query file {} is empty; put the SQL to optimize in it or remove it from the selection", path.display())]
    Empty { path: PathBuf },
    #[error("two files give query id {id}: {} and {}; select only one of them", first.display(), second.display())]
    DuplicateId {
        id: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("no queries selected; set queries.ids (with queries.dir) or queries.files")]
    Nothing,
    /// The name is shown with its control characters escaped, never raw on a terminal.
    #[error("query file name {shown} has control characters (shown escaped); rename the file to letters, digits, '_', '-' and '.' or remove it from the selection")]
    ControlChars { shown: String },
    #[error(
        "query file {} resolves to {}, outside its queries folder {}; qt reads only files inside the folder: copy the file there (or point queries.dir/files at where it is)",
        shown(link), shown(target), shown(dir)
    )]
    OutsideFolder { link: PathBuf, target: PathBuf, dir: PathBuf },
}

/// Expands numbers, ranges and names into a list of ids (in order, without duplicates).
pub fn expand_ids(ids: &[QueryId]) -> Result<Vec<String>, QueryError> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |id: String| {
        if !out.contains(&id) {
            out.push(id);
        }
    };
    for id in ids {
        match id {
            QueryId::Number(n) => push(n.to_string()),
            QueryId::Text(t) => {
                let t = t.trim();
                if let Some((a, b)) = t.split_once("..") {
                    let (a, b) = parse_range(t, a, b.trim_start_matches('='))?;
                    (a..=b).for_each(|n| push(n.to_string()));
                } else {
                    push(normalize_id(t)?);
                }
            }
        }
    }
    Ok(out)
}

fn parse_range(t: &str, a: &str, b: &str) -> Result<(u32, u32), QueryError> {
    let bad = |reason: &str| QueryError::BadId {
        id: t.to_string(),
        reason: reason.to_string(),
    };
    let (Ok(a), Ok(b)) = (a.trim().parse::<u32>(), b.trim().parse::<u32>()) else {
        return Err(bad("a range is two numbers like \"1..99\" (inclusive)"));
    };
    if a > b {
        return Err(bad(&format!(
            "the range is empty (start {a} > end {b}); write \"{b}..{a}\""
        )));
    }
    Ok((a, b))
}

fn normalize_id(t: &str) -> Result<String, QueryError> {
    if t.is_empty()
        || !t
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(QueryError::BadId {
            id: t.to_string(),
            reason: "ids are numbers (1), ranges (\"1..99\") or names of letters, digits, '_' and '-' (\"23a\")".into(),
        });
    }
    // "007" and 7 name the same query.
    Ok(match t.parse::<u32>() {
        Ok(n) => n.to_string(),
        Err(_) => t.to_string(),
    })
}

/// The file names tried for an id, in order.
pub fn candidate_names(id: &str) -> Vec<String> {
    let digits = id.chars().take_while(|c| c.is_ascii_digit()).count();
    let padded = if digits > 0 && digits < 2 {
        format!("0{id}")
    } else {
        id.to_string()
    };
    vec![
        format!("query_{id}.sql"),
        format!("query{padded}.sql"),
        format!("query{id}.sql"),
        format!("q{id}.sql"),
        format!("{id}.sql"),
    ]
}

/// Finds each id's file in `dir` and reads it.
pub fn by_ids(dir: &Path, ids: &[QueryId]) -> Result<Vec<QueryFile>, QueryError> {
    if !dir.is_dir() {
        return Err(QueryError::DirMissing {
            dir: dir.to_path_buf(),
        });
    }
    expand_ids(ids)?
        .into_iter()
        .map(|id| {
            let mut tried = candidate_names(&id);
            tried.dedup();
            match tried.iter().map(|n| dir.join(n)).find(|p| p.is_file()) {
                Some(path) => {
                    check_file(&path, dir)?;
                    read(id, path)
                }
                None => Err(QueryError::NotFound {
                    id,
                    dir: dir.to_path_buf(),
                    tried,
                    listing: describe_folder(dir),
                }),
            }
        })
        .collect()
}

/// Reads every file matching the globs (relative to `base` unless absolute), each
/// pattern's matches sorted by path.
pub fn by_globs(base: &Path, patterns: &[String]) -> Result<Vec<QueryFile>, QueryError> {
    let mut out = Vec::new();
    for pattern in patterns {
        let full = if Path::new(pattern).is_absolute() {
            pattern.clone()
        } else {
            let base = glob::Pattern::escape(&base.to_string_lossy());
            format!("{base}/{pattern}")
        };
        let bad = |reason: String| QueryError::BadPattern {
            pattern: pattern.clone(),
            reason,
        };
        let mut paths: Vec<PathBuf> = glob::glob(&full)
            .map_err(|e| bad(e.to_string()))?
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect();
        if paths.is_empty() {
            return Err(QueryError::NoMatch {
                pattern: pattern.clone(),
            });
        }
        paths.sort();
        let root = glob_root(&full);
        for path in paths {
            check_file(&path, &root)?;
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push(read(id_from_stem(&stem), path)?);
        }
    }
    Ok(out)
}

/// A path as it may be printed: control characters escaped (`\u{1b}`, `\n`).
pub fn shown(path: &Path) -> String {
    path.to_string_lossy()
        .chars()
        .map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() })
        .collect()
}

/// The folder a glob selects from: its leading components without a wildcard
/// (`queries/**/*.sql` -> `queries`; a plain file name -> its folder).
fn glob_root(pattern: &str) -> PathBuf {
    let mut root = PathBuf::new();
    let mut wild = false;
    for c in Path::new(pattern).components() {
        if c.as_os_str().to_string_lossy().contains(['*', '?', '[', '{']) {
            wild = true;
            break;
        }
        root.push(c);
    }
    if !wild {
        root.pop();
    }
    root
}

/// A query file is read only when its name has no control characters (it names folders
/// and is printed) and it resolves inside `folder` (a symbolic link out of the folder, or
/// through a linked sub-folder, would read any file the user can read). Links inside the
/// folder are fine.
fn check_file(path: &Path, folder: &Path) -> Result<(), QueryError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if name.chars().any(char::is_control) {
        return Err(QueryError::ControlChars { shown: format!("\"{}\"", shown(path)) });
    }
    // Unresolvable paths are reported by the read that follows, naming the file.
    let (Ok(target), Ok(root)) = (std::fs::canonicalize(path), std::fs::canonicalize(folder)) else {
        return Ok(());
    };
    if !target.starts_with(&root) {
        return Err(QueryError::OutsideFolder { link: path.to_path_buf(), target, dir: folder.to_path_buf() });
    }
    Ok(())
}

/// `query_23a` -> `23a`, `q07` -> `07`, `orders` -> `orders`.
pub fn id_from_stem(stem: &str) -> String {
    for prefix in ["query_", "query", "q"] {
        if let Some(rest) = stem.strip_prefix(prefix)
            && rest.starts_with(|c: char| c.is_ascii_digit())
        {
            return rest.to_string();
        }
    }
    stem.to_string()
}

/// Ids then globs, deduplicated by file (first occurrence wins); two different files
/// with the same id are an error because the id names the output folder.
pub fn select(
    dir: Option<&Path>,
    ids: &[QueryId],
    base: &Path,
    files: &[String],
) -> Result<Vec<QueryFile>, QueryError> {
    let mut all = Vec::new();
    if !ids.is_empty() {
        let dir = dir.unwrap_or(base);
        all.extend(by_ids(dir, ids)?);
    }
    all.extend(by_globs(base, files)?);
    if all.is_empty() {
        return Err(QueryError::Nothing);
    }
    let mut seen_paths = HashSet::new();
    let mut out: Vec<QueryFile> = Vec::new();
    for q in all {
        let canon = std::fs::canonicalize(&q.path).unwrap_or_else(|_| q.path.clone());
        if !seen_paths.insert(canon) {
            continue;
        }
        if let Some(first) = out.iter().find(|o| o.id == q.id) {
            return Err(QueryError::DuplicateId {
                id: q.id,
                first: first.path.clone(),
                second: q.path,
            });
        }
        out.push(q);
    }
    Ok(out)
}

/// Reads one query file; empty (or whitespace-only) files are an error.
pub fn read(id: String, path: PathBuf) -> Result<QueryFile, QueryError> {
    let sql = read_sql(&path)?;
    if sql.trim().is_empty() {
        return Err(QueryError::Empty { path });
    }
    Ok(QueryFile { id, path, sql })
}

/// The text of one SQL file, refused (unread) when larger than [`MAX_SQL_BYTES`]: the
/// size is checked on the open file and at most one byte more than the bound is read.
pub fn read_sql(path: &Path) -> Result<String, QueryError> {
    use std::io::Read;
    let err = |source| QueryError::Read { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(err)?;
    let meta = file.metadata().map_err(err)?;
    let too_large = |size| QueryError::TooLarge { path: path.to_path_buf(), size, max: MAX_SQL_BYTES };
    if meta.len() > MAX_SQL_BYTES as u64 {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_SQL_BYTES as u64 + 1).read_to_end(&mut bytes).map_err(err)?;
    if bytes.len() > MAX_SQL_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not UTF-8 text ({e})"))))
}

/// "folder has 101 .sql files: query_1.sql, query_2.sql, query_3.sql, ..., query_99.sql;
/// ids look like 1..99, 14a, 14b"
pub fn describe_folder(dir: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".sql"))
                .collect()
        })
        .unwrap_or_default();
    if names.is_empty() {
        return "the folder has no .sql files".into();
    }
    names.sort_by_key(|n| natural_key(&id_from_stem(n.trim_end_matches(".sql"))));
    let shown = if names.len() > 5 {
        format!("{}, ..., {}", names[..3].join(", "), names[names.len() - 1])
    } else {
        names.join(", ")
    };
    let ids: Vec<String> = names
        .iter()
        .map(|n| id_from_stem(n.trim_end_matches(".sql")))
        .collect();
    format!(
        "folder has {} .sql files: {shown}; ids look like {}",
        names.len(),
        summarize_ids(&ids)
    )
}

fn natural_key(id: &str) -> (u64, String) {
    let digits: String = id.chars().take_while(|c| c.is_ascii_digit()).collect();
    (
        digits.parse().unwrap_or(u64::MAX),
        id[digits.len()..].to_string(),
    )
}

/// Numeric ids compressed to ranges, then the others: "1..99, 14a, 14b".
fn summarize_ids(ids: &[String]) -> String {
    let mut nums: Vec<u64> = ids.iter().filter_map(|i| i.parse().ok()).collect();
    nums.sort_unstable();
    nums.dedup();
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < nums.len() {
        let start = nums[i];
        while i + 1 < nums.len() && nums[i + 1] == nums[i] + 1 {
            i += 1;
        }
        parts.push(if nums[i] == start {
            start.to_string()
        } else {
            format!("{start}..{}", nums[i])
        });
        i += 1;
    }
    parts.extend(ids.iter().filter(|i| i.parse::<u64>().is_err()).cloned());
    if parts.len() > 10 {
        let more = parts.len() - 10;
        parts.truncate(10);
        parts.push(format!("... ({more} more)"));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> QueryId {
        QueryId::Text(s.into())
    }

    #[test]
    fn expands_numbers_ranges_and_names() {
        let ids = expand_ids(&[QueryId::Number(3), t("1..4"), t("23a"), t("007")]).unwrap();
        assert_eq!(ids, ["3", "1", "2", "4", "23a", "7"]);
        assert_eq!(expand_ids(&[t("2..=3")]).unwrap(), ["2", "3"]);
        let err = expand_ids(&[t("5..2")]).unwrap_err().to_string();
        assert!(err.contains("5..2") && err.contains("empty"), "{err}");
        assert!(expand_ids(&[t("a..b")]).is_err());
        assert!(expand_ids(&[t("../etc")]).is_err());
    }

    #[test]
    fn candidates_follow_the_documented_order() {
        assert_eq!(
            candidate_names("1"),
            [
                "query_1.sql",
                "query01.sql",
                "query1.sql",
                "q1.sql",
                "1.sql"
            ]
        );
        assert_eq!(candidate_names("23a")[1], "query23a.sql");
    }

    #[test]
    fn ids_from_stems() {
        assert_eq!(id_from_stem("query_23a"), "23a");
        assert_eq!(id_from_stem("query07"), "07");
        assert_eq!(id_from_stem("q5"), "5");
        assert_eq!(id_from_stem("quick"), "quick");
    }

    #[test]
    fn summarizes_ids() {
        let ids: Vec<String> = ["1", "2", "3", "5", "14a", "7", "6"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(summarize_ids(&ids), "1..3, 5..7, 14a");
    }
}
