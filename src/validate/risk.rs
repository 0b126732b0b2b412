//! Notes that point at the risk: constructs of the original that decide which rows or
//! which NULLs come out, and that the candidate has fewer of. An outer join turned inner,
//! a DISTINCT dropped, a `NULLS FIRST/LAST` or a `COALESCE` removed, a `count(*)` turned
//! into `count(column)` (which skips the rows where the column is NULL) is right only when
//! the data makes it so; the samples may not hold the rows that show the difference, so the
//! verdict carries a note (on a pass too) and the report shows it.
//!
//! Counted on tokens (strings and comments cannot fool it), not on structure: a rewrite
//! that moves a COALESCE keeps its count and gets no note. Decides nothing.

use sqlparser::dialect::DuckDbDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

/// The prefix of every note this file writes (summaries can count them).
pub const RISK_NOTE: &str = "risk";

/// What is counted: a name for the note and a test on the upper-cased word sequence.
const CONSTRUCTS: [(&str, &str); 5] = [
    ("outer join", "OUTER_JOIN"),
    ("DISTINCT", "DISTINCT"),
    ("NULLS FIRST/LAST", "NULLS"),
    ("COALESCE", "COALESCE"),
    ("count(*)", "COUNT(*)"),
];

/// Upper-cased words of `sql` (no strings, comments or quoted names); `count(*)` is one
/// word, `COUNT(*)`.
fn words(sql: &str) -> Option<Vec<String>> {
    let tokens: Vec<Token> = Tokenizer::new(&DuckDbDialect {}, sql)
        .tokenize()
        .ok()?
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let mut out = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if let Token::Word(w) = t
            && w.quote_style.is_none()
        {
            let star = w.value.eq_ignore_ascii_case("count")
                && matches!(tokens.get(i + 1..i + 4), Some([Token::LParen, Token::Mul, Token::RParen]));
            out.push(if star { "COUNT(*)".to_string() } else { w.value.to_ascii_uppercase() });
        }
    }
    Some(out)
}

fn count(words: &[String], what: &str) -> usize {
    match what {
        // LEFT/RIGHT/FULL [OUTER] JOIN; IFNULL/NVL count as COALESCE.
        "OUTER_JOIN" => words
            .windows(2)
            .filter(|w| matches!(w[0].as_str(), "LEFT" | "RIGHT" | "FULL") && matches!(w[1].as_str(), "JOIN" | "OUTER"))
            .count(),
        "COALESCE" => words.iter().filter(|w| matches!(w.as_str(), "COALESCE" | "IFNULL" | "NVL")).count(),
        "NULLS" => words
            .windows(2)
            .filter(|w| w[0] == "NULLS" && matches!(w[1].as_str(), "FIRST" | "LAST"))
            .count(),
        other => words.iter().filter(|w| *w == other).count(),
    }
}

/// One note per construct the candidate has fewer of than the original.
pub fn notes(original: &str, candidate: &str) -> Vec<String> {
    let (Some(o), Some(c)) = (words(original), words(candidate)) else {
        return Vec::new();
    };
    CONSTRUCTS
        .iter()
        .filter_map(|(name, what)| {
            let (a, b) = (count(&o, what), count(&c, what));
            (b < a).then(|| {
                format!(
                    "{RISK_NOTE}: the candidate has {b} {name} where the original has {a}; right only if no row needs it (the sparse instance checks the usual cases)"
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::notes;

    #[test]
    fn dropped_constructs_get_a_note_and_strings_do_not_count() {
        let o = "select distinct coalesce(a, 0) from t left outer join u on t.k = u.k order by 1 nulls first";
        let c = "select a from t join u on t.k = u.k order by 1 -- left join coalesce";
        let n = notes(o, c);
        assert_eq!(n.len(), 4, "{n:?}");
        assert!(n[0].contains("0 outer join where the original has 1"));
        assert!(notes(o, o).is_empty());
        assert!(notes("select 'left join' from t", "select 1 from t").is_empty());
    }

    #[test]
    fn count_star_turned_count_column_gets_a_note() {
        let o = "select k, count(*) as n, count(x) from t left join u on t.k = u.k group by k";
        let c = "select k, count(u.k) as n, COUNT( * ) from t left join u on t.k = u.k group by k";
        assert!(notes(o, c).is_empty(), "one count(*) each: {:?}", notes(o, c));
        let c = "select k, count(u.k) as n, count(x) from t left join u on t.k = u.k group by k";
        let n = notes(o, c);
        assert_eq!(n.len(), 1, "{n:?}");
        assert!(n[0].contains("0 count(*) where the original has 1"), "{}", n[0]);
    }
}
