//! Secrets out of every text qt records or prints: the one function, [`redact_text`],
//! applied where errors become text (LLM client errors, validation.json and results.jsonl
//! lines, the console and `--json` through `outln!`/`errln!`).
//!
//! Two layers, both applied to the whole text:
//! 1. every URL in it (any scheme, any case: `HTTP://`, `postgresql://`) is parsed with the
//!    `url` crate and loses its userinfo and the values of secret-named query parameters
//!    (`key`, `token`, `sig`, `password`, `*_key`, ...); what the URL held is added to the
//!    secrets of step 2, so the same secret elsewhere in the text goes too;
//! 2. every known secret (registered API keys, key files, secrets found in `base_url`; at
//!    least [`MIN_SECRET_LEN`] characters) is removed in every form a client or server may
//!    have written it: as given, percent-decoded, percent-encoded (`%2F` or `%2f`, `+` or
//!    `%20` for a space), matched ASCII-case-insensitively (hosts and schemes are folded by
//!    URL normalisation).
//!
//! Secrets are registered once, where they are read ([`register_secret`]). This file knows
//! no LLM, no file and no engine.

use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::Value;
use std::sync::RwLock;

pub const REDACTED: &str = "REDACTED";

/// Secrets shorter than this are not searched for in free text (they would eat words);
/// inside a URL every secret-named value goes, whatever its length.
pub const MIN_SECRET_LEN: usize = 4;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Remember `secret` so that [`redact_text`] removes it (in every form) from now on.
pub fn register_secret(secret: &str) {
    let s = secret.trim();
    if s.chars().count() < MIN_SECRET_LEN {
        return;
    }
    let mut all = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    if !all.iter().any(|x| x == s) {
        all.push(s.to_string());
    }
}

/// True for a query parameter name that carries a credential.
pub fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace(['-', '_'], "");
    [
        "key", "token", "secret", "password", "passwd", "pass", "pwd", "sig", "signature", "auth", "authorization", "code",
        "credential", "credentials", "apikey", "accesstoken",
    ]
    .iter()
    .any(|s| n == *s)
        || ["key", "token", "secret", "password", "signature", "credential", "sig"].iter().any(|s| n.ends_with(s))
}

/// What the WHATWG URL standard percent-encodes in a userinfo (the widest set `url` uses).
const USERINFO: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b':')
    .add(b';')
    .add(b'=')
    .add(b'@')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'|');

/// Everything but the unreserved characters (`encodeURIComponent`, RFC 3986).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The forms a secret can take in text (longest first).
fn forms(secret: &str) -> Vec<String> {
    let decoded = percent_decode_str(secret).decode_utf8_lossy().into_owned();
    let mut out = vec![secret.to_string(), decoded.clone(), decoded.replace('+', " ")];
    for base in [secret.to_string(), decoded] {
        out.push(url::form_urlencoded::byte_serialize(base.as_bytes()).collect());
        out.push(utf8_percent_encode(&base, NON_ALPHANUMERIC).to_string());
        out.push(utf8_percent_encode(&base, COMPONENT).to_string());
        out.push(utf8_percent_encode(&base, USERINFO).to_string());
    }
    out.retain(|f| f.chars().count() >= MIN_SECRET_LEN);
    out.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    out.dedup();
    out
}

/// Every ASCII-case-insensitive occurrence of each needle replaced by [`REDACTED`].
fn replace_ci(text: &str, needles: &[String]) -> String {
    let mut out = text.to_string();
    for n in needles.iter().filter(|n| !n.is_empty()) {
        // ASCII lowercasing keeps byte offsets, so positions map back to `out`.
        let lower = out.to_ascii_lowercase();
        let nl = n.to_ascii_lowercase();
        if !lower.contains(&nl) {
            continue;
        }
        let mut s = String::with_capacity(out.len());
        let mut last = 0;
        for (at, _) in lower.match_indices(&nl) {
            s.push_str(&out[last..at]);
            s.push_str(REDACTED);
            last = at + nl.len();
        }
        s.push_str(&out[last..]);
        out = s;
    }
    out
}

/// `text` without any secret (see the module doc): URLs redacted, registered secrets gone.
pub fn redact_text(text: &str) -> String {
    redact_text_with(text, &[])
}

/// [`redact_text`] with `extra` secrets besides the registered ones.
pub fn redact_text_with(text: &str, extra: &[String]) -> String {
    let mut secrets: Vec<String> = SECRETS.read().unwrap_or_else(|e| e.into_inner()).clone();
    secrets.extend(extra.iter().map(|s| s.trim().to_string()));
    let out = redact_urls_in(text, &mut secrets);
    let mut needles: Vec<String> = secrets.iter().filter(|s| s.chars().count() >= MIN_SECRET_LEN).flat_map(|s| forms(s)).collect();
    if needles.is_empty() {
        return out;
    }
    needles.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    needles.dedup();
    replace_ci(&out, &needles)
}

/// Every string of a JSON value through [`redact_text_with`].
pub fn redact_json(v: &mut Value, extra: &[String]) {
    match v {
        Value::String(s) => {
            let cleaned = redact_text_with(s, extra);
            if cleaned != *s {
                *s = cleaned;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|x| redact_json(x, extra)),
        Value::Object(map) => map.values_mut().for_each(|x| redact_json(x, extra)),
        _ => {}
    }
}

/// Where each URL in `text` starts and ends: a scheme (letters, digits, `+-.`, starting
/// with a letter) before `://`, up to whitespace, a quote, `<`, `>`, `` ` `` or `)`;
/// trailing `.,;:` are not part of it.
fn url_spans(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(p) = text[from..].find("://").map(|p| p + from) {
        let mut s = p;
        while s > 0 && (b[s - 1].is_ascii_alphanumeric() || matches!(b[s - 1], b'+' | b'-' | b'.')) {
            s -= 1;
        }
        while s < p && !b[s].is_ascii_alphabetic() {
            s += 1;
        }
        let mut e = p + 3;
        while e < b.len() && !b[e].is_ascii_whitespace() && !matches!(b[e], b'"' | b'\'' | b'<' | b'>' | b'`' | b')') {
            e += 1;
        }
        while e > p + 3 && matches!(b[e - 1], b'.' | b',' | b';' | b':') {
            e -= 1;
        }
        if s < p {
            out.push((s, e));
        }
        from = e.max(p + 3);
    }
    out
}

/// The URLs inside `text` redacted; the secrets they held join `secrets`.
fn redact_urls_in(text: &str, secrets: &mut Vec<String>) -> String {
    let spans = url_spans(text);
    if spans.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (s, e) in spans {
        out.push_str(&text[last..s]);
        out.push_str(&redact_one_url(&text[s..e], secrets));
        last = e;
    }
    out.push_str(&text[last..]);
    out
}

fn decoded(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// One URL as written, its userinfo and secret-named query values replaced (the rest kept
/// as written, so text around a URL the parser refuses is still cleaned). The parsed URL
/// names its secrets decoded; they join `secrets`.
fn redact_one_url(raw: &str, secrets: &mut Vec<String>) -> String {
    // A PostgreSQL URL's user is a role name, not a credential, and users must see which
    // role a message is about (`qt db load` prints the URL to validate with): only its
    // password goes.
    let scheme = raw.split("://").next().unwrap_or("").to_ascii_lowercase();
    let keeps_user = matches!(scheme.as_str(), "postgres" | "postgresql");
    if let Ok(u) = url::Url::parse(raw) {
        let user = Some(u.username()).filter(|_| !keeps_user);
        for part in [user, u.password()].into_iter().flatten().filter(|p| !p.is_empty()) {
            secrets.push(part.to_string());
            secrets.push(decoded(part));
        }
        for (k, v) in u.query_pairs() {
            if secret_name(&k) && !v.is_empty() {
                secrets.push(v.into_owned());
            }
        }
    }
    let scheme_end = raw.find("://").map(|p| p + 3).unwrap_or(0);
    let rest = &raw[scheme_end..];
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let mut out = raw[..scheme_end].to_string();
    match rest[..auth_end].rfind('@') {
        Some(at) if keeps_user => {
            // user[:password]: the user stays, the password goes.
            match rest[..at].split_once(':') {
                Some((user, pw)) => {
                    if !pw.is_empty() {
                        secrets.push(pw.to_string());
                        secrets.push(decoded(pw));
                    }
                    out.push_str(user);
                    out.push(':');
                    out.push_str(REDACTED);
                }
                None => out.push_str(&rest[..at]),
            }
            out.push_str(&rest[at..auth_end]);
        }
        Some(at) => {
            for part in rest[..at].split(':').filter(|p| !p.is_empty()) {
                secrets.push(part.to_string());
                secrets.push(decoded(part));
            }
            out.push_str(REDACTED);
            out.push_str(&rest[at..auth_end]);
        }
        None => out.push_str(&rest[..auth_end]),
    }
    let tail = &rest[auth_end..];
    let Some(q) = tail.find('?') else {
        out.push_str(tail);
        return out;
    };
    out.push_str(&tail[..=q]);
    let (query, frag) = match tail[q + 1..].find('#') {
        Some(h) => (&tail[q + 1..q + 1 + h], &tail[q + 1 + h..]),
        None => (&tail[q + 1..], ""),
    };
    let pairs: Vec<String> = query
        .split(['&', ';'])
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if secret_name(&decoded(k).replace('+', " ")) && !v.is_empty() => {
                secrets.push(v.to_string());
                secrets.push(decoded(&v.replace('+', " ")));
                format!("{k}={REDACTED}")
            }
            _ => pair.to_string(),
        })
        .collect();
    out.push_str(&pairs.join("&"));
    out.push_str(frag);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(text: &str, extra: &[&str]) -> String {
        redact_text_with(text, &extra.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn every_form_of_a_url_secret_goes() {
        // What reqwest prints for a connection error: normalised scheme and host, the path
        // extended, the query kept percent-encoded.
        let err = "request error: error sending request for url (http://127.0.0.1:39999/v1/chat/completions?sig=abc%2Fdef%3D): connection refused";
        let out = clean(err, &[]);
        assert!(!out.contains("abc%2Fdef%3D") && out.contains("sig=REDACTED"), "{out}");
        // The spec's URL as written, then the same secret decoded and lower-case-encoded elsewhere.
        let out = clean("HTTP://127.0.0.1:39999/v1?sig=abc%2Fdef%3D then abc/def= and abc%2fdef%3d", &[]);
        assert!(!out.contains("abc/def=") && !out.to_ascii_lowercase().contains("abc%2fdef%3d"), "{out}");
        // Userinfo plus a key with an encoded space: every form of it.
        let out = clean(
            "HTTPS://Bob:Hunter%2099@API.Example.com/v1?key=SECRET%20QS5 | SECRET QS5 | SECRET+QS5 | secret%20qs5",
            &[],
        );
        for leak in ["Hunter", "SECRET", "secret", "QS5", "qs5", "Bob"] {
            assert!(!out.contains(leak), "{leak} in {out}");
        }
        assert!(out.contains("API.Example.com"), "the host stays: {out}");
    }

    #[test]
    fn registered_and_extra_secrets_go_in_every_form() {
        register_secret("sk-live/Zq 42+x");
        let text = "key sk-live/Zq 42+x, encoded sk-live%2FZq%2042%2Bx, form sk-live%2FZq+42%2Bx, upper SK-LIVE/ZQ 42+X";
        let out = redact_text(text);
        assert!(!out.to_ascii_lowercase().contains("zq"), "{out}");
        assert_eq!(clean("short abc stays", &["abc"]), "short abc stays");
        let out = clean("pg postgresql://qt_reader:pw%40x@localhost:5432/db?sslmode=disable", &[]);
        assert!(!out.contains("pw") && out.contains("localhost:5432/db?sslmode=disable"), "{out}");
        // A PostgreSQL URL keeps its role name (not a credential), never its password.
        assert!(out.contains("postgresql://qt_reader:REDACTED@localhost"), "{out}");
        let out = clean("role reader: postgresql://reader@/tpcds?host=/tmp/s&password=hunter22", &[]);
        assert_eq!(out, "role reader: postgresql://reader@/tpcds?host=/tmp/s&password=REDACTED");
    }

    #[test]
    fn json_strings_and_plain_text_are_kept_otherwise() {
        let mut v = serde_json::json!({"e": "at http://h/v1?token=t0k3n1 failed", "n": 3, "l": ["x token=t0k3n1"]});
        redact_json(&mut v, &[]);
        assert_eq!(v["e"], "at http://h/v1?token=REDACTED failed");
        assert_eq!(v["n"], 3);
        assert_eq!(clean("nothing secret here: 1 + 2", &[]), "nothing secret here: 1 + 2");
        assert_eq!(clean("see https://api.deepseek.com/v1 (docs).", &[]), "see https://api.deepseek.com/v1 (docs).");
    }
}
