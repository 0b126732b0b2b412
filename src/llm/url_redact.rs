//! Secrets inside URLs: `https://host/v1?key=${GEMINI_KEY}` (Azure, Gemini style) or
//! `https://user:pass@host/v1`. The real URL is used only for the HTTP request; everywhere
//! else (config.json, LLM cache keys and entries, error messages, logs) qt uses the URL
//! with the userinfo and every secret-looking query value replaced by `REDACTED`.
//!
//! A query value is secret when its name looks like a credential (key, token, secret,
//! password, signature, auth, code, ...) or when it holds a known secret: the value of the
//! spec's `api_key_env` variable or the contents of its `api_key_file`.

use serde_json::Value;

pub use crate::redact::REDACTED;
use crate::redact::secret_name;

fn holds_secret(value: &str, secrets: &[String]) -> bool {
    secrets.iter().any(|s| !s.is_empty() && value.contains(s.as_str()))
}

/// `url` without its secrets, plus the secret values that were removed (so the caller
/// can scrub them from other text, e.g. a transport error that quotes the URL).
pub fn redact_url_parts(url: &str, secrets: &[String]) -> (String, Vec<String>) {
    let mut removed = Vec::new();
    let Ok(mut u) = reqwest::Url::parse(url.trim()) else {
        return (scrub(url, secrets), removed);
    };
    if !u.username().is_empty() || u.password().is_some() {
        removed.extend(u.password().map(str::to_string));
        if !u.username().is_empty() {
            removed.push(u.username().to_string());
        }
        let _ = u.set_password(None);
        let _ = u.set_username(REDACTED);
    }
    let pairs: Vec<(String, String)> = u.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    if pairs.iter().any(|(k, v)| secret_name(k) || holds_secret(v, secrets)) {
        let mut q = u.query_pairs_mut();
        q.clear();
        for (k, v) in &pairs {
            if secret_name(k) || holds_secret(v, secrets) {
                if !v.is_empty() {
                    removed.push(v.clone());
                }
                q.append_pair(k, REDACTED);
            } else {
                q.append_pair(k, v);
            }
        }
    }
    if removed.is_empty() && u.username() != REDACTED && !u.query_pairs().any(|(_, v)| v == REDACTED) {
        // Nothing in the URL itself: keep it exactly as written (no normalisation).
        return (scrub(url, secrets), removed);
    }
    for r in &removed {
        crate::redact::register_secret(r);
    }
    let mut all: Vec<String> = secrets.to_vec();
    all.extend(removed.iter().cloned());
    (scrub(u.as_str(), &all), removed)
}

/// `url` with its userinfo and secret query values replaced by `REDACTED`.
pub fn redact_url(url: &str, secrets: &[String]) -> String {
    redact_url_parts(url, secrets).0
}

/// `text` without secrets: every URL in it redacted, every registered secret and every
/// one of `secrets` removed in all its forms (the one function, `crate::redact`).
pub fn scrub(text: &str, secrets: &[String]) -> String {
    crate::redact::redact_text_with(text, secrets)
}

/// Redact every string of a JSON value (`crate::redact::redact_json`).
pub fn redact_json(v: &mut Value, secrets: &[String]) {
    crate::redact::redact_json(v, secrets)
}

/// The secrets a spec points at: values of `api_key_env` variables and key files' text.
pub fn known_secrets(exp: &crate::spec::Experiment) -> Vec<String> {
    let mut out = Vec::new();
    for arm in &exp.arms {
        if let Some(v) = arm.llm.api_key_env.as_deref().and_then(|var| std::env::var(var).ok()) {
            out.push(v.trim().to_string());
        }
        if let Some(t) = arm.api_key_file.as_deref().and_then(|f| std::fs::read_to_string(f).ok()) {
            out.push(t.trim().to_string());
        }
    }
    out.retain(|s| !s.is_empty());
    out.sort();
    out.dedup();
    for s in &out {
        crate::redact::register_secret(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_params_and_userinfo_go() {
        let r = redact_url("https://gen.example.com/v1beta?key=AIzaSECRET123&alt=json", &[]);
        assert_eq!(r, "https://gen.example.com/v1beta?key=REDACTED&alt=json");
        let r = redact_url("https://bob:hunter22@api.example.com/v1", &[]);
        assert!(!r.contains("hunter22") && !r.contains("bob"), "{r}");
        let r = redact_url("https://x.example.com/v1?api-version=2024-02-01&q=sk-known-1", &["sk-known-1".into()]);
        assert_eq!(r, "https://x.example.com/v1?api-version=2024-02-01&q=REDACTED");
        assert_eq!(redact_url("https://api.deepseek.com", &[]), "https://api.deepseek.com");
    }

    #[test]
    fn json_strings_are_scrubbed() {
        let mut v = serde_json::json!({"spec": {"llm": {"base_url": "http://127.0.0.1:9/v1?token=abcd1234"}}, "note": "uses sk-zzzz"});
        redact_json(&mut v, &["sk-zzzz".into()]);
        let text = v.to_string();
        assert!(!text.contains("abcd1234") && !text.contains("sk-zzzz"), "{text}");
    }
}
