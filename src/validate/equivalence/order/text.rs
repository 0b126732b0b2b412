//! The ordering promise of an original that sqlparser cannot read, taken from its text:
//! the ORDER BY and LIMIT/OFFSET outside every parenthesis are the top level's (window
//! and aggregate ORDER BYs, CTE bodies and subqueries are all parenthesized). Keys map to
//! output columns by position, name or `ALL`; the rest are exposed by wrapping the query
//! (`SELECT *, key .. FROM (original) ORDER BY ..`). What cannot be read or computed is
//! compared as a multiset, with a note (`OrderSpec::text_only`).

use super::{Exposure, OrderSpec};
use crate::sqltext::{strip_tail, top_level};

/// [`OrderSpec`] from the text of `sql`; `columns` are DuckDB's output names.
pub(super) fn analyze_text(sql: &str, columns: &[String]) -> OrderSpec {
    let body = strip_tail(sql);
    let toks = top_level(body);
    let word = |i: usize, w: &str| toks.get(i).is_some_and(|t| t.0 == w);
    let mut spec = OrderSpec {
        text_only: true,
        ..OrderSpec::default()
    };
    let order_at = (0..toks.len())
        .rev()
        .find(|&i| word(i, "order") && word(i + 1, "by"));
    let window_at = (order_at.unwrap_or(0)..toks.len())
        .find(|&i| word(i, "limit") || word(i, "offset") || word(i, "fetch"));
    let end = window_at.map_or(body.len(), |i| toks[i].1);
    if let Some(w) = window_at {
        read_window(&toks[w..], &mut spec);
        spec.unlimited_sql = Some(body[..toks[w].1].trim_end().to_string());
    }
    let Some(o) = order_at else {
        return spec;
    };
    spec.ordered = true;
    let keys_text = body[toks[o + 1].2..end].trim();
    let mut keys = Vec::new();
    let mut start = toks[o + 1].2;
    for t in toks[o + 2..].iter().take_while(|t| t.1 < end) {
        if t.0 == "," {
            keys.push(body[start..t.1].trim().to_string());
            start = t.2;
        }
    }
    keys.push(body[start..end].trim().to_string());
    if keys.len() == 1 && keys[0].eq_ignore_ascii_case("all") {
        spec.key_cols = (0..columns.len()).collect();
        return spec;
    }
    for (i, key) in keys.iter().enumerate() {
        match map_key(key, columns) {
            Some(c) => spec.key_cols.push(c),
            None => {
                spec.unmapped = keys[i..].iter().map(|k| bare(k).to_string()).collect();
                break;
            }
        }
    }
    if !spec.unmapped.is_empty() {
        let inner = body[..toks[o].1].trim_end();
        let extra: Vec<String> = spec
            .unmapped
            .iter()
            .enumerate()
            .map(|(n, k)| format!("{k} AS __qt_key_{n}"))
            .collect();
        let head = format!(
            "SELECT *, {} FROM (\n{inner}\n) AS __qt_src ORDER BY {keys_text}",
            extra.join(", ")
        );
        let tail = window_at.map_or("", |w| body[toks[w].1..].trim());
        spec.exposures = vec![Exposure {
            sql: format!("{head} {tail}"),
            unlimited_sql: window_at.map(|_| head.clone()),
            keys: spec.unmapped.len(),
        }];
    }
    spec
}

/// A key without its ASC/DESC/NULLS FIRST/LAST suffix.
fn bare(key: &str) -> &str {
    let mut k = key.trim();
    for suffix in ["first", "last", "nulls", "asc", "desc"] {
        let lower = k.to_lowercase();
        if lower.ends_with(suffix)
            && lower[..lower.len() - suffix.len()].ends_with(char::is_whitespace)
        {
            k = k[..k.len() - suffix.len()].trim_end();
        }
    }
    k
}

fn map_key(key: &str, columns: &[String]) -> Option<usize> {
    let k = bare(key);
    if let Ok(n) = k.parse::<usize>() {
        return (1..=columns.len()).contains(&n).then(|| n - 1);
    }
    let name = k
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(k);
    let hits: Vec<usize> = (0..columns.len())
        .filter(|&i| columns[i].eq_ignore_ascii_case(name))
        .collect();
    (hits.len() == 1).then(|| hits[0])
}

/// `LIMIT n [OFFSET m]` / `OFFSET m` with plain numbers; anything else is unknown.
fn read_window(toks: &[(String, usize, usize)], spec: &mut OrderSpec) {
    let mut i = 0;
    while i < toks.len() {
        let number = toks.get(i + 1).and_then(|t| t.0.parse::<u64>().ok());
        let percent = toks.get(i + 2).is_some_and(|t| t.0 == "%");
        match (toks[i].0.as_str(), number) {
            ("limit", Some(n)) if !percent => spec.limit = Some(n),
            ("offset", Some(n)) if !percent => spec.offset = n,
            _ => {
                spec.window_unknown = true;
                return;
            }
        }
        i += 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn top_level_order_and_window_from_text() {
        let sql = "WITH x AS (SELECT a FROM t ORDER BY a LIMIT 3) \
                   SELECT a, sum(b) OVER (ORDER BY c) AS s FROM x ORDER BY s DESC, a + 1 LIMIT 10 OFFSET 2;";
        let s = analyze_text(sql, &cols(&["a", "s"]));
        assert!(s.ordered && s.text_only);
        assert_eq!(s.key_cols, vec![1]);
        assert_eq!(s.unmapped, vec!["a + 1".to_string()]);
        assert_eq!((s.limit, s.offset, s.window_unknown), (Some(10), 2, false));
        assert!(
            s.exposures[0].sql.contains("a + 1 AS __qt_key_0"),
            "{}",
            s.exposures[0].sql
        );
        assert!(
            s.exposures[0].sql.ends_with("LIMIT 10 OFFSET 2"),
            "{}",
            s.exposures[0].sql
        );
        let s = analyze_text("FROM t SELECT a LIMIT 10%", &cols(&["a"]));
        assert!(!s.ordered && s.window_unknown);
        let s = analyze_text("SELECT a, b FROM t ORDER BY ALL", &cols(&["a", "b"]));
        assert_eq!(s.key_cols, vec![0, 1]);
        let s = analyze_text(
            "SELECT a, b FROM t ORDER BY 2 DESC NULLS LAST, \"a\"",
            &cols(&["a", "b"]),
        );
        assert_eq!(s.key_cols, vec![1, 0]);
    }
}
