//! Text-level helpers of pattern detection: a small SQL tokenizer (identifiers, numbers,
//! symbols; literals, keywords and function names skipped) and the predicate shapes built
//! on it (literal filters, ORs across tables, offset equalities). Working on text keeps
//! them independent of sqlparser's AST and usable on truncated contract predicates.

use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// Column-like identifier (lowercase, qualifier kept as in `a.b`).
    Ident(String),
    Num,
    Sym(char),
    /// Keyword, function name or string literal.
    Other,
}

#[rustfmt::skip]
const KEYWORDS: &[&str] = &[
    "and", "or", "not", "in", "is", "null", "between", "like", "ilike", "case", "when", "then",
    "else", "end", "as", "cast", "date", "interval", "true", "false", "exists", "select",
    "from", "where", "group", "by", "order", "having", "limit", "distinct", "all", "any",
    "some", "day", "days", "month", "months", "week", "weeks", "hour", "minute", "second",
    "decimal", "integer", "int", "varchar", "char", "double", "timestamp", "asc", "desc",
    "nulls", "over", "partition", "rows", "range", "preceding", "following", "unbounded",
    "current", "row", "filter", "escape", "similar", "to", "join", "on", "left", "right",
    "full", "outer", "inner", "union", "with",
];

/// A small SQL tokenizer: identifiers (dotted chains kept whole), numbers, one-character
/// symbols; string literals, keywords and function names become `Other`.
fn tokens(sql: &str) -> Vec<Tok> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            i += 1;
            while i < chars.len() {
                if chars[i] == '\'' && chars.get(i + 1) == Some(&'\'') {
                    i += 2;
                } else if chars[i] == '\'' {
                    break;
                } else {
                    i += 1;
                }
            }
            i += 1;
            out.push(Tok::Other);
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            out.push(Tok::Num);
        } else if c.is_alphabetic() || c == '_' || c == '"' {
            let mut word = String::new();
            loop {
                if chars.get(i) == Some(&'"') {
                    i += 1;
                    while i < chars.len() && chars[i] != '"' {
                        word.push(chars[i]);
                        i += 1;
                    }
                    i += 1;
                } else {
                    while i < chars.len()
                        && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
                    {
                        word.push(chars[i]);
                        i += 1;
                    }
                }
                let next = chars.get(i + 1).copied().unwrap_or(' ');
                if chars.get(i) == Some(&'.')
                    && (next.is_alphabetic() || next == '_' || next == '"')
                {
                    word.push('.');
                    i += 1;
                } else {
                    break;
                }
            }
            let word = word.to_lowercase();
            let mut j = i;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            let call = chars.get(j) == Some(&'(');
            if call || KEYWORDS.contains(&word.as_str()) {
                out.push(Tok::Other);
            } else {
                out.push(Tok::Ident(word));
            }
        } else {
            out.push(Tok::Sym(c));
            i += 1;
        }
    }
    out
}

/// Column names in SQL text, qualifiers dropped.
pub(super) fn columns_in(sql: &str) -> BTreeSet<String> {
    tokens(sql)
        .into_iter()
        .filter_map(|t| match t {
            Tok::Ident(s) => Some(s.rsplit('.').next().unwrap_or(&s).to_string()),
            _ => None,
        })
        .collect()
}

/// A predicate that filters one table by literals (`d_year = 2000`, `i_category IN
/// (...)`, `(p_email = 'N' OR p_event = 'N')`): no subquery, and its columns are one
/// column or share one table prefix (`p_` in TPC-DS naming). Returns its columns.
pub(super) fn literal_filter(pred: &str) -> Option<BTreeSet<String>> {
    if pred.to_lowercase().contains("select") {
        return None;
    }
    let cols = columns_in(pred);
    let prefix = |c: &String| c.split('_').next().unwrap_or("").to_string();
    let prefixes: BTreeSet<String> = cols.iter().map(prefix).collect();
    let one_table =
        cols.len() == 1 || (prefixes.len() == 1 && cols.iter().all(|c| c.contains('_')));
    (!cols.is_empty() && one_table).then_some(cols)
}

/// Does a column name look like a date, year, month or week (not a surrogate key)?
pub(super) fn date_like(col: &str) -> bool {
    if col.ends_with("_sk") {
        return false;
    }
    ["date", "year", "month", "week", "moy", "qoy", "dom", "dow"]
        .iter()
        .any(|k| col.contains(k))
}

/// The columns of `pred` when it is a top-level OR over columns of several tables, which
/// no single table scan can evaluate: `ca_state = 'TX' OR cs_sales_price > 500`,
/// `(ca_state = 'TX' AND ss_net_profit > 1) OR (...)`. Tables are told apart by the
/// column-name prefix before the first `_` (TPC-DS naming; a name without `_` counts as
/// its own table). None for `d_moy = 1 OR d_moy = 2` or `p_email = 'N' OR p_event = 'N'`.
pub(super) fn or_across_columns(pred: &str) -> Option<Vec<String>> {
    let closed = close_truncated(pred.trim());
    let parts = split_top_level_or(strip_parens(&closed));
    if parts.len() < 2 || pred.to_lowercase().contains("select") {
        return None;
    }
    let sets: Vec<BTreeSet<String>> = parts.iter().map(|p| columns_in(p)).collect();
    if sets.iter().any(|s| s.is_empty()) {
        return None;
    }
    let all: BTreeSet<String> = sets.iter().flatten().cloned().collect();
    let tables: BTreeSet<&str> = all
        .iter()
        .map(|c| c.split('_').next().unwrap_or(c))
        .collect();
    (tables.len() >= 2).then(|| all.into_iter().take(4).collect())
}

/// A contract predicate cut with "..." (long ones are) gets its "..." dropped and its
/// open parentheses closed, so a long `(a AND b) OR (c AND ...` still splits at its OR.
fn close_truncated(s: &str) -> String {
    let Some(cut) = s.strip_suffix("...") else {
        return s.to_string();
    };
    let (mut depth, mut quoted) = (0i32, false);
    for c in cut.chars() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            _ => {}
        }
    }
    let mut out = cut.to_string();
    if quoted {
        out.push('\'');
    }
    out.push_str(&")".repeat(depth.max(0) as usize));
    out
}

/// `(x)` -> `x` when the outer parentheses wrap the whole text.
fn strip_parens(s: &str) -> &str {
    let mut s = s;
    while s.starts_with('(') && s.ends_with(')') {
        let inner = &s[1..s.len() - 1];
        if depth_never_negative(inner) {
            s = inner.trim();
        } else {
            break;
        }
    }
    s
}

fn depth_never_negative(s: &str) -> bool {
    let mut depth = 0i32;
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    true
}

/// Split at ` OR ` outside parentheses and string literals (case-insensitive).
fn split_top_level_or(s: &str) -> Vec<&str> {
    let bytes = s.as_bytes();
    let (mut depth, mut quoted, mut start) = (0i32, false, 0usize);
    let mut parts = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth -= 1,
            c if !quoted && depth == 0 && c.is_ascii_whitespace() => {
                let rest = &bytes[i + 1..];
                if rest.len() > 3
                    && rest[..2].eq_ignore_ascii_case(b"or")
                    && rest[2].is_ascii_whitespace()
                {
                    parts.push(&s[start..i]);
                    start = i + 3;
                    i += 3;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&s[start..]);
    parts
}

/// An equality between two columns where one side is offset by a number
/// (`a.rn = b.rn + 1`, `p.d_moy = m.d_moy - 1`), as text, if the SQL has one.
pub(super) fn offset_join(sql: &str) -> Option<String> {
    let t = tokens(sql);
    let ident = |i: usize| match t.get(i) {
        Some(Tok::Ident(s)) => Some(s.clone()),
        _ => None,
    };
    let pm = |i: usize| match t.get(i) {
        Some(Tok::Sym(c @ ('+' | '-'))) => Some(*c),
        _ => None,
    };
    let num = |i: usize| t.get(i) == Some(&Tok::Num);
    let eq = |i: usize| t.get(i) == Some(&Tok::Sym('='));
    for i in 0..t.len() {
        // a = b (+|-) N
        if let (Some(a), true, Some(b), Some(op), true) =
            (ident(i), eq(i + 1), ident(i + 2), pm(i + 3), num(i + 4))
        {
            return Some(format!("{a} = {b} {op} N"));
        }
        // a (+|-) N = b
        if let (Some(a), Some(op), true, true, Some(b)) =
            (ident(i), pm(i + 1), num(i + 2), eq(i + 3), ident(i + 4))
        {
            return Some(format!("{a} {op} N = {b}"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn or_across_columns_needs_different_columns() {
        assert!(or_across_columns("(a.x = 1 OR b.y = 2)").is_some());
        assert!(or_across_columns("p_email = 'N' OR p_event = 'N'").is_none());
        // Truncated contract predicates still split.
        assert!(
            or_across_columns(
                "((cd_status = 'M' AND ss_price > 1) OR (cd_status = 'S' AND ss_pr..."
            )
            .is_some()
        );
        assert!(or_across_columns("d_year = 2000 OR (d_year = 1999 AND d_moy = 12)").is_none());
        assert!(or_across_columns("x = 1 OR x = 2").is_none());
        assert!(or_across_columns("x = 'a OR b'").is_none());
        assert!(or_across_columns("(cd_x = 1 AND cd_y = 2) OR (cd_x = 3 AND cd_y = 4)").is_none());
        assert!(
            or_across_columns(
                "(ca_state = 'TX' AND ss_net_profit > 1) OR (ca_state = 'OH' AND ss_net_profit > 2)"
            )
            .is_some()
        );
        assert!(
            or_across_columns(
                "substr(ca_zip, 1, 5) IN ('1') OR ca_state IN ('CA') OR cs_sales_price > 500"
            )
            .is_some()
        );
    }

    #[test]
    fn literal_filters_and_offsets() {
        assert!(literal_filter("d_year = 2000").is_some());
        assert!(
            literal_filter(
                "d_date BETWEEN CAST('2000-01-27' AS DATE) AND CAST('2000-04-26' AS DATE)"
            )
            .is_some()
        );
        assert!(literal_filter("ss_sold_date_sk = d_date_sk").is_none());
        assert!(literal_filter("x > (SELECT AVG(y) FROM t)").is_none());
        assert!(date_like("d_moy") && !date_like("ss_sold_date_sk"));
        assert!(offset_join("SELECT 1 FROM v1 JOIN v1 AS l ON v1.rn = l.rn + 1").is_some());
        assert!(offset_join("SELECT 1 FROM m JOIN m AS p ON p.d_moy = m.d_moy - 1").is_some());
        assert!(offset_join("SELECT 1 FROM a JOIN b ON a.x = b.x").is_none());
    }
}
