//! Finding the API key: `llm.api_key_env` first, then the key file (trimmed).
//!
//! The key is held in an [`ApiKey`] whose `Debug` prints `***`; nothing here logs, writes
//! or formats the key itself. A local server (127.0.0.1, localhost, ::1) may run without
//! one; anywhere else a missing key is bad input with a message saying how to set it.

use super::LlmError;
use crate::spec::LlmCfg;
use std::path::{Path, PathBuf};

/// The secret. Only `expose()` gives the text (for the Authorization header and redaction).
#[derive(Clone)]
pub(crate) struct ApiKey(String);

impl ApiKey {
    /// The key, registered so that no recorded or printed text can carry it (`crate::redact`).
    fn new(key: &str) -> ApiKey {
        crate::redact::register_secret(key);
        ApiKey(key.to_string())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Loads the key for `cfg`; `file_override` (resolved by the caller) wins over
/// `cfg.api_key_file`. `Ok(None)` only for local servers.
pub(crate) fn load(cfg: &LlmCfg, file_override: Option<&Path>) -> Result<Option<ApiKey>, LlmError> {
    let mut tried = Vec::new();
    if let Some(var) = cfg.api_key_env.as_deref().filter(|v| !v.is_empty()) {
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => return Ok(Some(ApiKey::new(v.trim()))),
            Ok(_) => tried.push(format!("environment variable {var} is empty")),
            Err(_) => tried.push(format!("environment variable {var} is not set")),
        }
    }
    let file: Option<PathBuf> =
        file_override.map(Path::to_path_buf).or_else(|| cfg.api_key_file.as_ref().map(PathBuf::from));
    if let Some(file) = &file {
        match std::fs::read_to_string(file) {
            Ok(text) if !text.trim().is_empty() => return Ok(Some(ApiKey::new(text.trim()))),
            Ok(_) => tried.push(format!("key file {} is empty", file.display())),
            Err(e) => tried.push(format!("key file {} cannot be read ({e})", file.display())),
        }
    }
    if is_local(&cfg.base_url) {
        return Ok(None);
    }
    Err(LlmError::MissingKey(missing_key_message(cfg, &file, &tried)))
}

fn missing_key_message(cfg: &LlmCfg, file: &Option<PathBuf>, tried: &[String]) -> String {
    let mut how = Vec::new();
    if let Some(var) = &cfg.api_key_env {
        how.push(format!("export {var}=<your key>"));
    }
    if let Some(file) = file {
        how.push(format!("put the key alone in {}", file.display()));
    }
    if how.is_empty() {
        return format!(
            "no API key for {}: the spec's [llm] sets neither api_key_env nor api_key_file. \
             Add e.g. api_key_env = \"DEEPSEEK_API_KEY\" and export that variable",
            super::url_redact::redact_url(&cfg.base_url, &[])
        );
    }
    let url = super::url_redact::redact_url(&cfg.base_url, &[]);
    format!("no API key for {url}: {}. To fix: {}", tried.join("; "), how.join(", or "))
}

/// True for servers on this machine, which commonly run without a key.
pub(crate) fn is_local(base_url: &str) -> bool {
    match reqwest::Url::parse(base_url) {
        Ok(u) => matches!(
            u.host_str(),
            Some("127.0.0.1" | "localhost" | "[::1]" | "::1" | "0.0.0.0")
        ),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_hosts() {
        assert!(is_local("http://127.0.0.1:8080/v1"));
        assert!(is_local("http://localhost:11434"));
        assert!(is_local("http://[::1]:8000/v1"));
        assert!(!is_local("https://api.deepseek.com"));
        assert!(!is_local("not a url"));
    }

    #[test]
    fn missing_key_names_env_and_file() {
        let cfg = LlmCfg {
            api_key_env: Some("QT_TEST_SURELY_UNSET_KEY_VAR".into()),
            api_key_file: Some("/nonexistent/qt/key.txt".into()),
            ..LlmCfg::default()
        };
        let err = load(&cfg, None).unwrap_err();
        assert!(err.is_bad_input());
        let msg = err.to_string();
        assert!(msg.contains("QT_TEST_SURELY_UNSET_KEY_VAR"), "{msg}");
        assert!(msg.contains("/nonexistent/qt/key.txt"), "{msg}");
        assert!(msg.contains("export"), "{msg}");
    }

    #[test]
    fn no_source_configured() {
        let err = load(&LlmCfg::default(), None).unwrap_err();
        assert!(err.to_string().contains("api_key_env"), "{err}");
    }

    #[test]
    fn debug_hides_key() {
        assert_eq!(format!("{:?}", ApiKey("sk-secret".into())), "***");
    }
}
