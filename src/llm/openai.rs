//! The OpenAI-compatible chat-completions provider (DeepSeek, OpenAI, OpenRouter, Ollama,
//! vLLM, llama.cpp server): one POST per attempt, answer parsed into an [`LlmResponse`].
//!
//! URL rule ([`chat_completions_url`]): trailing slashes are dropped and
//! `/chat/completions` is appended, so give `base_url` exactly as the provider's own SDK
//! wants it: `https://api.deepseek.com`, `https://api.openai.com/v1`,
//! `http://127.0.0.1:8080/v1`, `http://localhost:11434/v1`. A base_url already ending in
//! `/chat/completions` is used as is. No `/v1` is ever added or removed.
//!
//! Not here: retries and waits (retry.rs), caching (cache.rs), the concurrency limit.

use super::error::{redact, snippet};
use super::key::ApiKey;
use super::retry::{Failure, FailureKind, classify_status, parse_retry_after};
use super::{Attempt, ChatRequest, LlmError, LlmResponse, Message};
use crate::spec::LlmCfg;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// `{base_url}/chat/completions` by the rule in the module doc.
/// A query string (`?key=...`, `?api-version=...`) stays at the end.
pub fn chat_completions_url(base_url: &str) -> String {
    let t = base_url.trim();
    let (base, query) = match t.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (t, None),
    };
    let base = base.trim_end_matches('/');
    let mut url = if base.ends_with("/chat/completions") { base.to_string() } else { format!("{base}/chat/completions") };
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

pub(crate) struct OpenAi {
    http: reqwest::Client,
    /// The real URL: used for the request only.
    endpoint: String,
    /// The URL without secrets (`url_redact.rs`): cache keys, errors, records.
    public_endpoint: String,
    /// Secrets that must never appear in text: the key and secrets found in the URL.
    secrets: Vec<String>,
    model: String,
    key: Option<ApiKey>,
}

#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    messages: &'a [Message],
    temperature: f64,
    max_tokens: u32,
    stream: bool,
}

#[derive(Deserialize)]
struct Completion {
    model: Option<String>,
    choices: Vec<Choice>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Option<ChoiceMessage>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct ChoiceMessage {
    content: Option<String>,
}

/// `usage` as OpenAI and DeepSeek report it. OpenAI puts the prompt-cache hits in
/// `prompt_tokens_details.cached_tokens`; DeepSeek splits the prompt into
/// `prompt_cache_hit_tokens` + `prompt_cache_miss_tokens`.
#[derive(Deserialize, Default)]
struct Usage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    prompt_tokens_details: Option<PromptDetails>,
    prompt_cache_hit_tokens: Option<u64>,
    prompt_cache_miss_tokens: Option<u64>,
}

#[derive(Deserialize, Default)]
struct PromptDetails {
    cached_tokens: Option<u64>,
}

impl Usage {
    /// (prompt, completion, prompt-cache hits); None when no token count was reported.
    fn tokens(&self) -> Option<(u64, u64, u64)> {
        let hit = self.prompt_cache_hit_tokens.or(self.prompt_tokens_details.as_ref().and_then(|d| d.cached_tokens));
        let split = match (self.prompt_cache_hit_tokens, self.prompt_cache_miss_tokens) {
            (Some(h), Some(m)) => Some(h + m),
            _ => None,
        };
        let prompt = self.prompt_tokens.or(split);
        if prompt.is_none() && self.completion_tokens.is_none() {
            return None;
        }
        let prompt = prompt.unwrap_or(0);
        Some((prompt, self.completion_tokens.unwrap_or(0), hit.unwrap_or(0).min(prompt)))
    }
}

impl OpenAi {
    pub(crate) fn new(cfg: &LlmCfg, key: Option<ApiKey>) -> Result<Self, LlmError> {
        let endpoint = chat_completions_url(&cfg.base_url);
        let mut secrets: Vec<String> = key.iter().map(|k| k.expose().to_string()).collect();
        let (public_endpoint, in_url) = super::url_redact::redact_url_parts(&endpoint, &secrets);
        secrets.extend(in_url);
        match reqwest::Url::parse(&endpoint) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => {
                return Err(LlmError::BadConfig(format!(
                    "llm.base_url {:?} is not an http(s) URL; use e.g. \
                     \"https://api.deepseek.com\" or \"http://127.0.0.1:8080/v1\"",
                    super::url_redact::redact_url(&cfg.base_url, &secrets)
                )));
            }
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs_f64(cfg.timeout_s))
            .connect_timeout(Duration::from_secs_f64(cfg.timeout_s.min(30.0)))
            .build()
            .map_err(|e| LlmError::BadConfig(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self { http, endpoint, public_endpoint, secrets, model: cfg.model.clone(), key })
    }

    /// The endpoint without secrets (never the URL the request goes to).
    pub(crate) fn endpoint(&self) -> &str {
        &self.public_endpoint
    }
    pub(crate) fn model(&self) -> &str {
        &self.model
    }
    pub(crate) fn provider_name(&self) -> &'static str {
        "openai"
    }

    /// `text` with the key, the URL's secrets and the real URL removed.
    fn scrub(&self, text: &str) -> String {
        let t = if self.endpoint != self.public_endpoint { text.replace(&self.endpoint, &self.public_endpoint) } else { text.to_string() };
        // The key becomes `***` (as before); secrets found in the URL become `REDACTED`.
        let t = redact(&t, self.key.as_ref().map(ApiKey::expose));
        super::url_redact::scrub(&t, &self.secrets)
    }

    /// One POST. On success returns the response (attempts filled in by the retry loop)
    /// and the HTTP status.
    pub(crate) async fn send_once(&self, req: &ChatRequest) -> Result<(LlmResponse, u16), Failure> {
        let body = Body {
            model: &self.model,
            messages: &req.messages,
            temperature: req.temperature,
            max_tokens: req.max_tokens,
            stream: false,
        };
        let started = Instant::now();
        let mut builder = self.http.post(&self.endpoint).json(&body);
        if let Some(key) = &self.key {
            builder = builder.bearer_auth(key.expose());
        }
        let result = async {
            let resp = builder.send().await?;
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let text = resp.text().await?;
            Ok::<_, reqwest::Error>((status, retry_after, text))
        }
        .await;
        let latency = started.elapsed();
        let (status, retry_after, text) = result.map_err(|e| self.transport_failure(&e, latency))?;
        let text = self.scrub(&text);
        if !(200..300).contains(&status) {
            let kind = classify_status(status, &text);
            return Err(Failure {
                kind,
                status: Some(status),
                message: format!("http {status}: {}", snippet(&text)),
                body: snippet(&text),
                retry_after,
                latency,
            });
        }
        let resp = self.parse(&text, latency).map_err(|detail| Failure {
            kind: FailureKind::Malformed,
            status: Some(status),
            message: format!("malformed response: {detail}"),
            body: snippet(&text),
            retry_after: None,
            latency,
        })?;
        Ok((resp, status))
    }

    fn parse(&self, text: &str, latency: Duration) -> Result<LlmResponse, String> {
        let c: Completion = serde_json::from_str(text).map_err(|e| {
            format!("{e} (body starts with {:?})", snippet(text).chars().take(80).collect::<String>())
        })?;
        let choice = c.choices.into_iter().next().ok_or("no choices in the answer")?;
        let tokens = c.usage.unwrap_or_default().tokens();
        let (prompt_tokens, completion_tokens, prompt_cache_hit_tokens) = tokens.unwrap_or((0, 0, 0));
        Ok(LlmResponse {
            content: choice.message.and_then(|m| m.content).unwrap_or_default(),
            finish_reason: choice.finish_reason,
            model: c.model.filter(|m| !m.is_empty()).unwrap_or_else(|| self.model.clone()),
            prompt_tokens,
            completion_tokens,
            prompt_cache_hit_tokens,
            usage_reported: tokens.is_some(),
            latency_s: latency.as_secs_f64(),
            cached: false,
            attempts: Vec::new(),
            source: None,
            warnings: Vec::new(),
        })
    }

    fn transport_failure(&self, e: &reqwest::Error, latency: Duration) -> Failure {
        let what = if e.is_timeout() {
            "timeout"
        } else if e.is_connect() {
            "connection error"
        } else if e.is_body() || e.is_decode() {
            "error reading the answer"
        } else {
            "request error"
        };
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            detail.push_str(": ");
            detail.push_str(&s.to_string());
            source = s.source();
        }
        Failure {
            kind: FailureKind::Retryable,
            status: None,
            message: self.scrub(&format!("{what}: {detail}")),
            body: String::new(),
            retry_after: None,
            latency,
        }
    }

    /// The key must not reach the record or the cache even if a server echoes it.
    pub(crate) fn redact_response(&self, resp: &mut LlmResponse) {
        resp.content = self.scrub(&resp.content);
        resp.model = self.scrub(&resp.model);
    }

    /// Turns the last failure of the retry loop into the error the caller sees.
    pub(crate) fn to_error(&self, f: Failure, attempts: Vec<Attempt>) -> LlmError {
        let endpoint = self.public_endpoint.clone();
        match f.kind {
            FailureKind::Quota => {
                LlmError::Quota { endpoint, status: f.status.unwrap_or(429), body: f.body, attempts }
            }
            FailureKind::Refused => {
                let status = f.status.unwrap_or(400);
                LlmError::Refused { endpoint, status, body: f.body, hint: self.hint(status), attempts }
            }
            FailureKind::Malformed => LlmError::Malformed { endpoint, detail: f.message, attempts },
            FailureKind::Retryable => LlmError::GaveUp { endpoint, last: f.message, attempts },
            FailureKind::NotSent => LlmError::NotSent { attempts },
        }
    }

    fn hint(&self, status: u16) -> String {
        match status {
            401 | 403 => "Check the API key (llm.api_key_env / llm.api_key_file) and that it \
                          is allowed to use this model"
                .into(),
            404 => format!(
                "Check llm.base_url (requests go to {}) and llm.model ({:?})",
                self.public_endpoint, self.model
            ),
            _ => format!(
                "Check llm.model ({:?}), llm.temperature and llm.max_tokens against the \
                 provider's limits",
                self.model
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::chat_completions_url as url;

    #[test]
    fn url_rule() {
        assert_eq!(url("https://api.deepseek.com"), "https://api.deepseek.com/chat/completions");
        assert_eq!(url("https://api.deepseek.com/"), "https://api.deepseek.com/chat/completions");
        assert_eq!(url("http://127.0.0.1:8080/v1"), "http://127.0.0.1:8080/v1/chat/completions");
        assert_eq!(url("http://127.0.0.1:8080/v1/"), "http://127.0.0.1:8080/v1/chat/completions");
        assert_eq!(url("https://g.example.com/v1/?key=k1"), "https://g.example.com/v1/chat/completions?key=k1");
        assert_eq!(
            url("https://openrouter.ai/api/v1/chat/completions"),
            "https://openrouter.ai/api/v1/chat/completions"
        );
    }
}
