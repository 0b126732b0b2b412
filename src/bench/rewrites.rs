//! Named textual edits of TPC-DS queries (`confirm_rewrites.toml`, embedded): hand-written
//! candidate rewrites for measuring how well a sample speedup predicts the full-size one.
//! The queries themselves are benchmark data and never live in this repository: each
//! rewrite is applied at run time to `query_<id>.sql` of the TPC-DS folder.
//!
//! An edit's `find` must occur exactly once in the query (compared with whitespace runs
//! folded, so a find written on one line matches the file's layout); otherwise the
//! rewrite is refused naming it, the edit and the count, never applied somewhere else.

use serde::Deserialize;

const REWRITES: &str = include_str!("confirm_rewrites.toml");

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Edit {
    pub find: String,
    pub replace: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rewrite {
    /// The TPC-DS query id (`query_<id>.sql`).
    pub query: String,
    pub name: String,
    pub edits: Vec<Edit>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    rewrite: Vec<Rewrite>,
}

/// The embedded rewrites, in file order.
pub fn all() -> Vec<Rewrite> {
    parse(REWRITES).expect("the embedded confirm_rewrites.toml parses (tested)")
}

fn parse(text: &str) -> Result<Vec<Rewrite>, String> {
    toml::from_str::<File>(text).map(|f| f.rewrite).map_err(|e| e.to_string())
}

/// `text` with whitespace runs folded to one space, and for each kept char the byte
/// offset it came from.
fn folded(text: &str) -> (String, Vec<usize>) {
    let (mut out, mut at) = (String::new(), Vec::new());
    let mut in_space = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if !in_space {
                out.push(' ');
                at.push(i);
            }
            in_space = true;
        } else {
            out.push(c);
            for _ in 0..c.len_utf8() {
                at.push(i);
            }
            in_space = false;
        }
    }
    at.push(text.len());
    (out, at)
}

/// Byte ranges of `text` where `needle` occurs, whitespace runs compared as one space.
fn occurrences(text: &str, needle: &str) -> Vec<std::ops::Range<usize>> {
    let (t, at) = folded(text);
    let (n, _) = folded(needle.trim());
    if n.is_empty() {
        return Vec::new();
    }
    t.match_indices(&n)
        .map(|(i, m)| {
            let last = i + m.len() - 1;
            let end = at[last] + text[at[last]..].chars().next().map(char::len_utf8).unwrap_or(0);
            at[i]..end
        })
        .collect()
}

/// Apply `r`'s edits to `sql` in order; each find must occur exactly once.
pub fn apply(sql: &str, r: &Rewrite) -> Result<String, String> {
    let mut text = sql.to_string();
    for (k, e) in r.edits.iter().enumerate() {
        let found = occurrences(&text, &e.find);
        if found.len() != 1 {
            return Err(format!(
                "rewrite {} (query {}), edit {}: `find` occurs {} times in the query (it must occur exactly once): {}",
                r.name,
                r.query,
                k + 1,
                found.len(),
                e.find
            ));
        }
        text.replace_range(found[0].clone(), &e.replace);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_match_across_layouts_exactly_once() {
        let sql = "select a\n  ,b\nfrom\tt\n where x = 1\n   and y = 2;";
        let r = Rewrite { query: "1".into(), name: "n".into(), edits: vec![Edit { find: "from t where x = 1 and".into(), replace: "from t where x = 1 and z = 3 and".into() }] };
        assert_eq!(apply(sql, &r).unwrap(), "select a\n  ,b\nfrom t where x = 1 and z = 3 and y = 2;");
        let twice = Rewrite { edits: vec![Edit { find: "= ".into(), replace: "==".into() }], ..r.clone() };
        assert!(apply(sql, &twice).unwrap_err().contains("occurs 2 times"));
        let none = Rewrite { edits: vec![Edit { find: "nowhere".into(), replace: "".into() }], ..r };
        assert!(apply(sql, &none).unwrap_err().contains("occurs 0 times"));
    }

    #[test]
    fn the_embedded_file_parses_and_names_are_unique() {
        let all = all();
        assert!(all.len() >= 30, "{}", all.len());
        let mut names: Vec<&str> = all.iter().map(|r| r.name.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all.len(), "rewrite names are unique");
        let mut queries: Vec<&str> = all.iter().map(|r| r.query.as_str()).collect();
        queries.sort();
        queries.dedup();
        assert!(queries.len() >= 8, "{queries:?}");
    }
}
