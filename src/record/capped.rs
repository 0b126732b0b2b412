//! Caps on what a report carries from a generation's records (notes, error texts, the
//! details read from its folder): a generation with 100 MB of notes once made a 243 MB
//! report.html that took 78 s to load. What is cut says how much more there is and where
//! the whole text is.

use serde_json::Value;

/// Most notes shown per generation.
pub const MAX_NOTES: usize = 20;
/// Most bytes of one note or error text.
pub const MAX_NOTE_BYTES: usize = 2_000;
/// Most bytes of all notes of one generation together.
pub const MAX_NOTES_TOTAL: usize = 16_000;
/// Most bytes of one detail file (prompt, response, rewrite) read for a report.
pub const MAX_DETAIL_BYTES: usize = 256 * 1024;

/// `text` cut to at most `max` bytes (at a character boundary), saying how many more
/// bytes `place` holds.
pub fn text(text: &str, max: usize, place: &str) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{} ... ({} more bytes in {place})", &text[..cut], text.len() - cut)
}

/// A record's `notes`: at most [`MAX_NOTES`], each at most [`MAX_NOTE_BYTES`], together at
/// most [`MAX_NOTES_TOTAL`]; then one line "N more notes in validation.json".
pub fn notes(v: &Value) -> Vec<String> {
    let all: Vec<&str> = v.as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let mut out = Vec::new();
    let mut bytes = 0;
    for n in &all {
        if out.len() == MAX_NOTES || bytes >= MAX_NOTES_TOTAL {
            break;
        }
        let n = text(n, MAX_NOTE_BYTES.min(MAX_NOTES_TOTAL - bytes), "validation.json");
        bytes += n.len();
        out.push(n);
    }
    if out.len() < all.len() {
        out.push(format!("{} more notes in validation.json", all.len() - out.len()));
    }
    out
}

/// A detail file's text, at most [`MAX_DETAIL_BYTES`] of it read.
pub fn read_detail(path: &std::path::Path) -> Option<String> {
    use std::io::Read;
    let f = std::fs::File::open(path).ok()?;
    let size = f.metadata().ok()?.len();
    let mut buf = Vec::new();
    f.take(MAX_DETAIL_BYTES as u64).read_to_end(&mut buf).ok()?;
    let mut s = String::from_utf8_lossy(&buf).into_owned();
    if size > buf.len() as u64 {
        if s.ends_with('\u{FFFD}') {
            s.pop();
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        s.push_str(&format!(" ... ({} more bytes in {name})", size - buf.len() as u64));
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn notes_are_capped_in_count_and_bytes() {
        let many: Vec<String> = (0..100).map(|i| format!("note {i}")).collect();
        let n = notes(&json!(many));
        assert_eq!(n.len(), MAX_NOTES + 1);
        assert_eq!(n.last().unwrap(), "80 more notes in validation.json");
        let huge = notes(&json!(["é".repeat(3_000_000), "x"]));
        assert!(huge[0].len() < MAX_NOTE_BYTES + 100 && huge[0].contains("more bytes in validation.json"), "{}", huge[0].len());
        assert_eq!(huge.len(), 2);
        let big: Vec<String> = (0..20).map(|_| "y".repeat(1_900)).collect();
        let total: usize = notes(&json!(big)).iter().map(String::len).sum();
        assert!(total < MAX_NOTES_TOTAL + 200, "{total}");
    }
}
