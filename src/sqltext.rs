//! A tiny SQL lexer that reads any dialect the way DuckDB tokenizes it (words, quoted
//! text, punctuation; comments and whitespace dropped). It never decides what a statement
//! means (DuckDB's parser does, see db/gate.rs); it only finds text boundaries:
//! the trailing `;` and comments, the first word, the words a text mentions, a
//! layout-independent form for "is this the same SQL again?", and a WITH clause's parts.

/// One lexical token: what the tail, word and top-level helpers need, nothing more.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    Word,
    Quoted,
    Punct,
}

/// Tokens of `sql` as (kind, byte range); comments and whitespace dropped.
fn tokens(sql: &str) -> Vec<(Tok, usize, usize)> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let closing = |start: usize, q: u8| {
        let mut j = start + 1;
        while j < b.len() {
            if b[j] == q {
                if b.get(j + 1) == Some(&q) {
                    j += 2;
                    continue;
                }
                return j + 1;
            }
            j += 1;
        }
        b.len()
    };
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'-' && b.get(i + 1) == Some(&b'-') {
            i = sql[i..].find('\n').map_or(b.len(), |k| i + k);
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i = sql[i + 2..].find("*/").map_or(b.len(), |k| i + 2 + k + 2);
        } else if c == b'\'' || c == b'"' {
            let end = closing(i, c);
            out.push((Tok::Quoted, i, end));
            i = end;
        } else if c == b'$' && b.get(i + 1) == Some(&b'$') {
            let end = sql[i + 2..].find("$$").map_or(b.len(), |k| i + 2 + k + 2);
            out.push((Tok::Quoted, i, end));
            i = end;
        } else if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80) {
                i += 1;
            }
            out.push((Tok::Word, start, i));
        } else {
            out.push((Tok::Punct, i, i + 1));
            i += 1;
        }
    }
    out
}

/// Largest SQL text qt reads or hands to DuckDB (a query file, a candidate): 1 MiB. The
/// largest TPC-DS query is 7.8 KB; a 1 MiB IN list plans in about 2 s and 120 MB, while a
/// 50 MB one held DuckDB's parser for 15 minutes at 18 GB.
pub const MAX_SQL_BYTES: usize = 1 << 20;

/// What kind of text a [`lexemes`] item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lex {
    /// A word or number (`range`, `1e9`, `1_000`).
    Word,
    /// Quoted text, quotes included (`'abc'`, `"name"`, `$$x$$`).
    Quoted,
    /// One punctuation character.
    Punct,
}

/// Every token of `sql` with its text (comments and whitespace dropped), for checks that
/// read shapes rather than meaning (db/constsize.rs).
pub fn lexemes(sql: &str) -> Vec<(Lex, &str)> {
    tokens(sql)
        .into_iter()
        .map(|(k, s, e)| {
            let kind = match k {
                Tok::Word => Lex::Word,
                Tok::Quoted => Lex::Quoted,
                Tok::Punct => Lex::Punct,
            };
            (kind, &sql[s..e])
        })
        .collect()
}

/// `sql` without trailing semicolons and comments (the text up to its last real token).
pub fn strip_tail(sql: &str) -> &str {
    let toks = tokens(sql);
    let last = toks
        .iter()
        .rev()
        .find(|(k, s, _)| !(*k == Tok::Punct && &sql[*s..*s + 1] == ";"));
    match last {
        Some(&(_, _, end)) => &sql[..end],
        None => "",
    }
}

/// The first word of the statement (after comments and opening parentheses).
pub fn first_word(sql: &str) -> &str {
    tokens(sql)
        .into_iter()
        .find(|(k, _, _)| *k == Tok::Word)
        .map_or("", |(_, s, e)| &sql[s..e])
}

/// The names a text mentions, lowercased (words and double-quoted identifiers).
pub fn words(sql: &str) -> Vec<String> {
    tokens(sql)
        .into_iter()
        .filter_map(|(k, s, e)| match k {
            Tok::Word => Some(sql[s..e].to_lowercase()),
            Tok::Quoted if sql[s..].starts_with('"') => Some(
                sql[s + 1..e.saturating_sub(1).max(s + 1)]
                    .replace("\"\"", "\"")
                    .to_lowercase(),
            ),
            _ => None,
        })
        .collect()
}

/// Tokens outside every parenthesis: `(text, start, end)`, words lowercased.
pub fn top_level(sql: &str) -> Vec<(String, usize, usize)> {
    let mut depth = 0usize;
    let mut out = Vec::new();
    for (k, s, e) in tokens(sql) {
        let text = &sql[s..e];
        match (k, text) {
            (Tok::Punct, "(") => depth += 1,
            (Tok::Punct, ")") => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push((
                if k == Tok::Word {
                    text.to_lowercase()
                } else {
                    text.to_string()
                },
                s,
                e,
            )),
            _ => {}
        }
    }
    out
}

/// One CTE of a WITH clause, as text.
#[derive(Debug, Clone, PartialEq)]
pub struct CteText {
    /// The name as written, without quotes.
    pub name: String,
    /// Everything from the name up to the body's opening parenthesis
    /// (`x(a, b) AS MATERIALIZED`).
    pub head: String,
    /// The body inside the parentheses.
    pub body: String,
}

/// A query split at its top-level WITH: `(recursive, ctes, the rest)`. `None` when the
/// text does not start with WITH or its shape is not `name [(cols)] AS [..] (body), ...`.
pub fn split_with(sql: &str) -> Option<(bool, Vec<CteText>, String)> {
    let sql = strip_tail(sql);
    let toks = tokens(sql);
    let word = |i: usize, w: &str| {
        toks.get(i)
            .is_some_and(|&(k, s, e)| k == Tok::Word && sql[s..e].eq_ignore_ascii_case(w))
    };
    let punct = |i: usize, p: &str| {
        toks.get(i)
            .is_some_and(|&(k, s, e)| k == Tok::Punct && &sql[s..e] == p)
    };
    // Index of the token closing the parenthesis opened at `open`.
    let close = |open: usize| {
        let mut depth = 0usize;
        for (j, _) in toks.iter().enumerate().skip(open) {
            if punct(j, "(") {
                depth += 1;
            } else if punct(j, ")") {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
        }
        None
    };
    if !word(0, "with") {
        return None;
    }
    let mut i = 1;
    let recursive = word(i, "recursive");
    if recursive {
        i += 1;
    }
    let mut ctes = Vec::new();
    loop {
        let &(kind, ns, ne) = toks.get(i)?;
        let name = match kind {
            Tok::Word => sql[ns..ne].to_string(),
            Tok::Quoted if sql[ns..].starts_with('"') => {
                sql[ns + 1..ne.saturating_sub(1).max(ns + 1)].replace("\"\"", "\"")
            }
            _ => return None,
        };
        i += 1;
        if punct(i, "(") {
            i = close(i)? + 1;
        }
        if !word(i, "as") {
            return None;
        }
        i += 1;
        while word(i, "not") || word(i, "materialized") {
            i += 1;
        }
        if !punct(i, "(") {
            return None;
        }
        let end = close(i)?;
        ctes.push(CteText {
            name,
            head: sql[ns..toks[i].1].trim_end().to_string(),
            body: sql[toks[i].2..toks[end].1].trim().to_string(),
        });
        i = end + 1;
        if punct(i, ",") {
            i += 1;
            continue;
        }
        let &(_, rest, _) = toks.get(i)?;
        return Some((recursive, ctes, sql[rest..].to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_word_and_tail_ignore_comments() {
        assert_eq!(first_word("/* c */ (select 1)"), "select");
        assert_eq!(strip_tail("SELECT 1; -- x\n;"), "SELECT 1");
    }

    #[test]
    fn with_clauses_split_into_ctes() {
        let (rec, ctes, rest) = split_with(
            "WITH a(x) AS MATERIALIZED (SELECT (1)), \"limit\" AS (FROM a) SELECT * FROM \"limit\";",
        )
        .unwrap();
        assert!(!rec);
        assert_eq!(ctes.len(), 2);
        assert_eq!(
            (ctes[0].name.as_str(), ctes[0].head.as_str()),
            ("a", "a(x) AS MATERIALIZED")
        );
        assert_eq!(ctes[0].body, "SELECT (1)");
        assert_eq!(
            (ctes[1].name.as_str(), ctes[1].body.as_str()),
            ("limit", "FROM a")
        );
        assert_eq!(rest, "SELECT * FROM \"limit\"");
        assert!(split_with("SELECT 1").is_none());
        assert_eq!(
            words("SELECT \"Foo\" FROM t"),
            vec!["select", "foo", "from", "t"]
        );
    }
}
