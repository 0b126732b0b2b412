//! Why an LLM call failed, in words that say what to do next.
//!
//! Every variant that follows a network exchange carries the attempts made, so the
//! generation's record shows the whole story. Text that reaches an error has already been
//! passed through [`redact`]: the API key never appears in it.

use super::{Attempt, LlmResponse};

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The spec's `[llm]` section or a flag is unusable (bad input, exit 2).
    #[error("{0}")]
    BadConfig(String),

    /// No API key where the spec says to find one (bad input, exit 2).
    #[error("{0}")]
    MissingKey(String),

    /// The server refused the request in a way retrying cannot fix (400/401/403/404...).
    #[error("LLM server at {endpoint} refused the request: HTTP {status}: {body}. {hint}")]
    Refused { endpoint: String, status: u16, body: String, hint: String, attempts: Vec<Attempt> },

    /// 429/402 saying the account's quota or balance is exhausted.
    #[error(
        "LLM provider at {endpoint} says the quota or balance is exhausted (HTTP {status}: \
         {body}). Top up the account or use another key/provider, then rerun; finished \
         generations are kept"
    )]
    Quota { endpoint: String, status: u16, body: String, attempts: Vec<Attempt> },

    /// Retries exhausted on 429/5xx/timeouts/connection errors.
    #[error(
        "LLM request to {endpoint} failed after {} attempt(s); last error: {last}. Check that \
         the server is up and reachable, or lower llm.max_concurrency / raise llm.timeout_s \
         or llm.max_attempts", .attempts.len()
    )]
    GaveUp { endpoint: String, last: String, attempts: Vec<Attempt> },

    /// A 2xx answer that is not a chat completion.
    #[error(
        "LLM server at {endpoint} answered with something that is not a chat completion: \
         {detail}. Check that llm.base_url points to an OpenAI-compatible API"
    )]
    Malformed { endpoint: String, detail: String, attempts: Vec<Attempt> },

    /// finish_reason = "length": the answer was cut; the partial text is kept.
    #[error(
        "LLM answer was truncated (finish_reason = length) after {} completion tokens; raise \
         llm.max_tokens or ask for a shorter answer", .0.completion_tokens
    )]
    Truncated(Box<LlmResponse>),

    /// The answer had no content.
    #[error(
        "LLM answer was empty (finish_reason = {}); retry, or check that the model \
         answers in plain text", .0.finish_reason.as_deref().unwrap_or("none")
    )]
    Empty(Box<LlmResponse>),

    /// The caller's gate (`Client::complete_gated`) stopped the request before it was
    /// sent: nothing was asked, nothing is billed.
    #[error("not sent: the run stopped issuing LLM requests (budget spent or early stop)")]
    NotSent { attempts: Vec<Attempt> },

    /// Replay found no file for this request.
    #[error("{0}")]
    Replay(String),
}

impl LlmError {
    /// Every attempt made (empty for config errors, replay and cache).
    pub fn attempts(&self) -> &[Attempt] {
        match self {
            Self::Refused { attempts, .. }
            | Self::Quota { attempts, .. }
            | Self::GaveUp { attempts, .. }
            | Self::Malformed { attempts, .. }
            | Self::NotSent { attempts } => attempts,
            Self::Truncated(r) | Self::Empty(r) => &r.attempts,
            Self::BadConfig(_) | Self::MissingKey(_) | Self::Replay(_) => &[],
        }
    }

    /// The text the model did produce, for truncated/empty answers.
    pub fn partial_content(&self) -> Option<&str> {
        match self {
            Self::Truncated(r) | Self::Empty(r) => Some(&r.content),
            _ => None,
        }
    }

    /// The response as received, for truncated/empty answers (tokens, model, latency).
    pub fn response(&self) -> Option<&LlmResponse> {
        match self {
            Self::Truncated(r) | Self::Empty(r) => Some(r),
            _ => None,
        }
    }

    /// Missing key or unusable config: exit code 2, nothing was sent.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Self::BadConfig(_) | Self::MissingKey(_))
    }

    /// Every further call would fail the same way (bad input, quota, rejected key,
    /// wrong URL or model): a runner may stop starting new generations.
    pub fn is_fatal_for_run(&self) -> bool {
        match self {
            Self::BadConfig(_) | Self::MissingKey(_) | Self::Quota { .. } => true,
            Self::Refused { status, .. } => matches!(status, 401 | 403 | 404),
            _ => false,
        }
    }

    /// The `reason` recorded in validation.json.
    pub fn kind(&self) -> &'static str {
        if self.is_bad_input() { "bad_input" } else { "llm_error" }
    }

    /// A finer, stable name for the failure (for records and summaries).
    pub fn detail_kind(&self) -> &'static str {
        match self {
            Self::BadConfig(_) => "bad_config",
            Self::MissingKey(_) => "missing_key",
            Self::Refused { .. } => "refused",
            Self::Quota { .. } => "quota",
            Self::GaveUp { .. } => "gave_up",
            Self::Malformed { .. } => "malformed_response",
            Self::Truncated(_) => "truncated",
            Self::Empty(_) => "empty_content",
            Self::Replay(_) => "replay",
            Self::NotSent { .. } => "not_sent",
        }
    }
}

/// Replaces every occurrence of `secret` in `text` by `***`.
pub(crate) fn redact(text: &str, secret: Option<&str>) -> String {
    match secret {
        Some(s) if !s.is_empty() && text.contains(s) => text.replace(s, "***"),
        _ => text.to_string(),
    }
}

/// Shortens a server body for an error message (whole chars, one line).
pub(crate) fn snippet(body: &str) -> String {
    const MAX: usize = 300;
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MAX {
        return one_line;
    }
    let cut: String = one_line.chars().take(MAX).collect();
    format!("{cut}...")
}
