//! What the report shows must be what the data holds: bidi controls (which can make an
//! SQL line read backwards, "Trojan Source") and other control characters become
//! visible escapes (`\u{202E}`), and the page's one script is allowed by its hash, never
//! by `'unsafe-inline'`.

use sha2::{Digest, Sha256};

/// Characters shown as escapes: C0/C1 controls except tab, newline and carriage return,
/// and Unicode's bidi formatting characters (LRM/RLM/ALM, embeddings, overrides, isolates).
pub fn hidden(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every [`hidden`] character written as `\u{XXXX}`.
pub fn escape(text: &str) -> String {
    escape_with(text, "\\")
}

/// The same inside a JSON string: the backslash itself escaped, so the decoded text shows
/// `\u{XXXX}`.
pub fn escape_json(text: &str) -> String {
    escape_with(text, "\\\\")
}

fn escape_with(text: &str, backslash: &str) -> String {
    if !text.chars().any(hidden) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if hidden(c) {
            out.push_str(&format!("{backslash}u{{{:04X}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for ch in bytes.chunks(3) {
        let n = (ch[0] as u32) << 16 | (*ch.get(1).unwrap_or(&0) as u32) << 8 | *ch.get(2).unwrap_or(&0) as u32;
        for k in 0..4 {
            if k <= ch.len() {
                out.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The page with its CSP's `script-src 'unsafe-inline'` replaced by the sha256 of its one
/// executable `<script>` (data blocks, `<script type="application/json">`, never run).
pub fn pin_script(html: String) -> String {
    let Some(start) = html.find("<script>").map(|i| i + "<script>".len()) else {
        return html.replacen("script-src 'unsafe-inline'", "script-src 'none'", 1);
    };
    let Some(len) = html[start..].find("</script>") else { return html };
    let hash = base64(&Sha256::digest(html[start..start + len].as_bytes()));
    html.replacen("script-src 'unsafe-inline'", &format!("script-src 'sha256-{hash}'"), 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_visible_escapes() {
        assert_eq!(escape("a\u{202E}b\tc\n\u{1b}[31m"), "a\\u{202E}b\tc\n\\u{001B}[31m");
        assert_eq!(escape_json("x\u{2066}"), "x\\\\u{2066}");
        assert_eq!(escape("plain é"), "plain é");
    }

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
