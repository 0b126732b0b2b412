//! Which candidates are the same SQL: the key under which a query's identical candidates
//! are validated once (the others record `same_as`), and under which a candidate equal to
//! the original is `inconclusive/no_change`. The one normalizer of SQL text in qt.
//!
//! Normalization is deliberately shallow and safe: comments and whitespace go, a trailing
//! `;` goes, and structural keywords (SELECT, FROM, JOIN, AND ...) are upper-cased. Nothing
//! else changes: identifiers keep their case (DuckDB names output columns as written),
//! literals and quoted names are kept byte for byte, and words after `AS` are aliases, not
//! keywords. Two texts with the same key are the same query to DuckDB; different keys may
//! still be equivalent (then both are validated, which is only slower). When the SQL does
//! not tokenize, the key is the text itself.

use sqlparser::dialect::DuckDbDialect;
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

/// Keywords that only ever structure a query (never an output column name unquoted).
const STRUCTURAL: &[&str] = &[
    "ALL", "AND", "ANTI", "ANY", "AS", "ASC", "ASOF", "BETWEEN", "BY", "CASE", "CAST", "CROSS",
    "DESC", "DISTINCT", "ELSE", "END", "EXCEPT", "EXISTS", "FALSE", "FROM", "FULL", "GROUP",
    "HAVING", "ILIKE", "IN", "INNER", "INTERSECT", "INTERVAL", "IS", "JOIN", "LATERAL", "LEFT",
    "LIKE", "LIMIT", "MATERIALIZED", "NATURAL", "NOT", "NULL", "NULLS", "OFFSET", "ON", "OR",
    "ORDER", "OUTER", "OVER", "PARTITION", "QUALIFY", "RECURSIVE", "RIGHT", "SELECT", "SEMI",
    "SOME", "THEN", "TRUE", "UNION", "USING", "VALUES", "WHEN", "WHERE", "WITH",
];

/// The dedup key of a candidate.
pub fn normalize(sql: &str) -> String {
    let Ok(tokens) = Tokenizer::new(&DuckDbDialect {}, sql).tokenize() else {
        return sql.trim().to_string();
    };
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    let mut after_as = false;
    for t in tokens {
        let text = match &t {
            Token::Whitespace(
                Whitespace::Space
                | Whitespace::Newline
                | Whitespace::Tab
                | Whitespace::SingleLineComment { .. }
                | Whitespace::MultiLineComment(_),
            ) => continue,
            Token::Word(w) if w.quote_style.is_none() && !after_as => {
                let up = w.value.to_ascii_uppercase();
                if STRUCTURAL.contains(&up.as_str()) { up } else { w.value.clone() }
            }
            other => other.to_string(),
        };
        after_as = text == "AS";
        out.push(text);
    }
    while out.last().is_some_and(|t| t == ";") {
        out.pop();
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn whitespace_comments_and_keyword_case_do_not_matter() {
        let a = "SELECT a, sum(b) AS total\nFROM t -- note\nWHERE a > 1 GROUP BY a;";
        let b = "select a,  sum(b) as total /* other */ from t where a > 1\n\tgroup by a";
        assert_eq!(normalize(a), normalize(b));
    }

    #[test]
    fn identifiers_literals_and_aliases_keep_their_text() {
        assert_ne!(normalize("SELECT A FROM t"), normalize("SELECT a FROM t"));
        assert_ne!(normalize("SELECT 'x' FROM t"), normalize("SELECT 'X' FROM t"));
        assert_ne!(normalize("SELECT 1 AS Total"), normalize("SELECT 1 AS total"));
        assert_ne!(normalize("SELECT \"a b\" FROM t"), normalize("SELECT \"A B\" FROM t"));
        assert_ne!(normalize("SELECT a FROM t WHERE a > 1"), normalize("SELECT a FROM t WHERE a > 2"));
    }
}
