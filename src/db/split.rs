//! Splitting a SQL file into statements on `;`, ignoring semicolons inside string literals
//! ('...'), quoted identifiers ("..."), line comments (-- ...) and block comments (/* */).
//!
//! Not a parser: it does not validate SQL nor understand dollar-quoting; it only needs to
//! cut benchmark files (e.g. TPC-DS queries 14, 23, 24, 39 hold two statements).

/// The statements of `sql`, trimmed, without their terminating `;`. Pieces holding only
/// whitespace and comments are dropped.
pub fn split_statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = sql.as_bytes();
    let (mut start, mut i, mut has_code) = (0usize, 0usize, false);
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' => {
                i = skip_quoted(bytes, i);
                has_code = true;
                continue;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = find_from(bytes, i, b"\n").map_or(bytes.len(), |p| p + 1);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = find_from(bytes, i + 2, b"*/").map_or(bytes.len(), |p| p + 2);
                continue;
            }
            b';' => {
                if has_code {
                    out.push(sql[start..i].trim().to_string());
                }
                start = i + 1;
                has_code = false;
            }
            c if !c.is_ascii_whitespace() => has_code = true,
            _ => {}
        }
        i += 1;
    }
    if has_code {
        out.push(sql[start..].trim().to_string());
    }
    out
}

/// Index just past the closing quote of the literal opening at `open` (a doubled quote
/// inside is an escaped quote); the end of input if it never closes.
fn skip_quoted(bytes: &[u8], open: usize) -> usize {
    let quote = bytes[open];
    let mut i = open + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

fn find_from(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

#[cfg(test)]
mod tests {
    use super::split_statements;

    #[test]
    fn splits_on_semicolons_outside_quotes_and_comments() {
        let sql = "select ';' as a, \"x;y\" from t; -- c;\n/* d; */ select 2;\n-- trailing;\n";
        assert_eq!(
            split_statements(sql),
            vec![
                "select ';' as a, \"x;y\" from t",
                "-- c;\n/* d; */ select 2"
            ]
        );
    }

    #[test]
    fn keeps_a_last_statement_without_semicolon_and_escaped_quotes() {
        assert_eq!(split_statements("select 'it''s;'"), vec!["select 'it''s;'"]);
        assert!(split_statements(" ;; -- nothing\n").is_empty());
    }
}
