//! SQL for human eyes in the HTML report: a small keyword highlighter (no library, no
//! network) and a line diff of the rewrite against the original. Output is HTML-escaped
//! text with a few tags (`<b>` keyword, `<i>` string or number, `<u>` comment; diff lines
//! as `<ins>` / `<del>` / `<span>`), so the template can mark it safe.
//!
//! It does not parse SQL: a wrong guess only changes a colour.

const KEYWORDS: &[&str] = &[
    "all", "and", "anti", "any", "as", "asc", "between", "by", "case", "cast", "cross", "cube", "desc",
    "distinct", "else", "end", "except", "exists", "false", "filter", "from", "full", "group", "grouping",
    "having", "in", "inner", "intersect", "interval", "is", "join", "lateral", "left", "like", "limit",
    "materialized", "not", "null", "nulls", "offset", "on", "or", "order", "outer", "over", "partition",
    "qualify", "range", "recursive", "right", "rollup", "rows", "select", "semi", "then", "true", "union",
    "using", "when", "where", "window", "with",
];

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Highlight one piece of SQL (any number of lines). Strings and block comments that span
/// lines are closed and reopened per line by [`highlight_lines`]; here a line at a time.
pub fn highlight(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() * 2);
    let chars: Vec<char> = sql.chars().collect();
    let mut i = 0;
    let take = |from: usize, to: usize| chars[from..to].iter().collect::<String>();
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c == '-' && chars.get(i + 1) == Some(&'-') {
            i = chars.len();
            out.push_str(&format!("<u>{}</u>", escape(&take(start, i))));
        } else if c == '\'' {
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i = (i + 1).min(chars.len());
            out.push_str(&format!("<i>{}</i>", escape(&take(start, i))));
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            out.push_str(&format!("<i>{}</i>", take(start, i)));
        } else if c.is_alphabetic() || c == '_' {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word = take(start, i);
            if KEYWORDS.binary_search(&word.to_ascii_lowercase().as_str()).is_ok() {
                out.push_str(&format!("<b>{word}</b>"));
            } else {
                out.push_str(&escape(&word));
            }
        } else {
            i += 1;
            out.push_str(&escape(&take(start, i)));
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Same,
    Removed,
    Added,
}

/// Line diff by longest common subsequence (trailing spaces ignored). Very long inputs
/// (more than 4 million line pairs) are shown as all removed, then all added.
pub fn diff_lines<'a>(old: &'a str, new: &'a str) -> Vec<(Op, &'a str)> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let (n, m) = (a.len(), b.len());
    if n.saturating_mul(m) > 4_000_000 {
        return a.iter().map(|l| (Op::Removed, *l)).chain(b.iter().map(|l| (Op::Added, *l))).collect();
    }
    let eq = |i: usize, j: usize| a[i].trim_end() == b[j].trim_end();
    // lcs[i][j] = LCS length of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if eq(i, j) { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::with_capacity(n + m));
    while i < n || j < m {
        if i < n && j < m && eq(i, j) {
            out.push((Op::Same, b[j]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push((Op::Removed, a[i]));
            i += 1;
        } else {
            out.push((Op::Added, b[j]));
            j += 1;
        }
    }
    out
}

/// The unified diff as highlighted HTML lines.
pub fn diff_html(old: &str, new: &str) -> String {
    let mut out = String::new();
    for (op, line) in diff_lines(old, new) {
        let (open, close) = match op {
            Op::Same => ("<span> ", "</span>"),
            Op::Removed => ("<del>-", "</del>"),
            Op::Added => ("<ins>+", "</ins>"),
        };
        out.push_str(open);
        out.push_str(&highlight(line));
        out.push_str(close);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_strings_and_markup_are_handled() {
        assert!(KEYWORDS.windows(2).all(|w| w[0] < w[1]), "KEYWORDS must stay sorted");
        let h = highlight("SELECT a<b, 'x<y' FROM t -- c<d");
        assert_eq!(h, "<b>SELECT</b> a&lt;b, <i>&#39;x&lt;y&#39;</i> <b>FROM</b> t <u>-- c&lt;d</u>");
        assert!(!highlight("<script>alert(1)</script>").contains("<script"));
    }

    #[test]
    fn diff_keeps_common_lines() {
        let d = diff_lines("select a\nfrom t\nwhere x = 1", "select a\nfrom t\nwhere x = 2\nlimit 5");
        let ops: Vec<Op> = d.iter().map(|x| x.0).collect();
        assert_eq!(ops, vec![Op::Same, Op::Same, Op::Removed, Op::Added, Op::Added]);
        assert_eq!(d.iter().filter(|x| x.0 == Op::Same).count(), 2);
        assert_eq!(d.iter().filter(|x| x.0 == Op::Removed).map(|x| x.1).collect::<Vec<_>>(), vec!["where x = 1"]);
        assert_eq!(d.iter().filter(|x| x.0 == Op::Added).count(), 2);
        let html = diff_html("a\n", "b\n");
        assert_eq!(html, "<del>-a</del>\n<ins>+b</ins>\n");
    }
}
