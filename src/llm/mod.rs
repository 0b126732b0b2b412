//! LLM providers: one chat-completion call per [`ChatRequest`], answered by an
//! OpenAI-compatible server (DeepSeek, OpenAI, OpenRouter, Ollama, vLLM, llama.cpp) or
//! replayed from files.
//!
//! [`Client`] is the single entry point. It owns the provider chosen by
//! `llm.provider`, the on-disk response cache, the retry policy and a concurrency limiter
//! (a tokio `Semaphore`) that may be shared by several clients so that one run never has
//! more than `max_concurrency` requests in flight, whatever the arms' settings.
//!
//! Deliberately not here: prompt rendering (prompt/), parsing answers into SQL (dag/),
//! the retry-*with-feedback* loop across generations (run/) and writing records (record/).
//! This module never logs and never prints; the API key lives only in memory.

mod cache;
mod error;
mod key;
mod limiter;
mod openai;
pub mod price;
pub mod price_table;
mod replay;
mod retry;
pub mod url_redact;

pub mod bench;
pub mod mock_server;

pub use error::LlmError;
pub use limiter::{Limiter, new_limiter};
pub use openai::chat_completions_url;
pub use replay::RecordedRuns;
pub use retry::RetryPolicy;

use crate::spec::{LlmCfg, ProviderKind};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One chat message (`role` is "system", "user" or "assistant").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn user(content: impl Into<String>) -> Self {
        Self { role: "user".into(), content: content.into() }
    }
    pub fn system(content: impl Into<String>) -> Self {
        Self { role: "system".into(), content: content.into() }
    }
}

/// One call. `sample_index` is part of the cache key so that repeated samples of the
/// same prompt are not collapsed; `query_id`/`worker`/`attempt` only steer replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    pub messages: Vec<Message>,
    pub temperature: f64,
    pub max_tokens: u32,
    pub sample_index: u32,
    pub query_id: String,
    /// 1-based worker number (gen_NN).
    pub worker: u32,
    /// 0-based retry-with-feedback index.
    pub attempt: u32,
}

impl ChatRequest {
    /// A request with `cfg`'s temperature and max_tokens; set the other fields as needed.
    pub fn new(cfg: &LlmCfg, messages: Vec<Message>) -> Self {
        Self {
            messages,
            temperature: cfg.temperature,
            max_tokens: cfg.max_tokens,
            sample_index: 0,
            query_id: String::new(),
            worker: 1,
            attempt: 0,
        }
    }
}

/// One HTTP attempt, kept for the generation's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// 1-based attempt number.
    pub n: u32,
    /// HTTP status, when the server answered.
    pub status: Option<u16>,
    /// Error kind and message (`timeout: ...`, `http 429: ...`); None on success.
    pub error: Option<String>,
    pub latency_s: f64,
    /// How long the client waited before the next attempt (0 for the last one).
    pub wait_s: f64,
}

/// A successful completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmResponse {
    pub content: String,
    pub finish_reason: Option<String>,
    /// The model name the server reported (the requested one if it reported none).
    pub model: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Prompt tokens the provider served from its own prompt cache (billed at the cached
    /// input price): OpenAI `usage.prompt_tokens_details.cached_tokens`, DeepSeek
    /// `usage.prompt_cache_hit_tokens`. Part of `prompt_tokens`.
    #[serde(default)]
    pub prompt_cache_hit_tokens: u64,
    /// False when the server reported no usage at all: the tokens (and so the cost) of
    /// this answer are unknown, not zero.
    #[serde(default = "reported")]
    pub usage_reported: bool,
    /// Latency of the successful request (of the original call for cache hits); earlier
    /// attempts are in `attempts`.
    pub latency_s: f64,
    pub cached: bool,
    /// Network attempts (empty for cache hits and replay).
    pub attempts: Vec<Attempt>,
    /// Replay: the file the answer came from (and whether it was cycled).
    pub source: Option<String>,
    /// Non-fatal problems, e.g. the cache could not be written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

fn reported() -> bool {
    true
}

/// Options that are not part of the spec (flags, environment, tests).
#[derive(Clone, Default)]
pub struct ClientOptions {
    /// `--no-cache`: neither read nor write the response cache.
    pub no_cache: bool,
    /// Default: `$QT_CACHE_DIR/llm`, else `~/.cache/qt/llm`.
    pub cache_dir: Option<PathBuf>,
    pub retry: RetryPolicy,
    /// Which set of samples (part of the cache key; 0 = the default set). A new seed gets
    /// fresh answers from the provider without bypassing the cache for other seeds.
    pub samples_seed: u64,
    /// How earlier runs are laid out, for the replay provider (`record::answers`); without
    /// it replay reads only its own file layouts.
    pub recorded: Option<Arc<dyn RecordedRuns>>,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("no_cache", &self.no_cache)
            .field("cache_dir", &self.cache_dir)
            .field("retry", &self.retry)
            .field("samples_seed", &self.samples_seed)
            .field("recorded", &self.recorded.is_some())
            .finish()
    }
}

/// The provider client. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    limiter: Limiter,
}

struct Inner {
    backend: Backend,
    cache: Option<cache::Cache>,
    retry: RetryPolicy,
    samples_seed: u64,
}

enum Backend {
    OpenAi(openai::OpenAi),
    Replay(replay::Replay),
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let provider = match &self.inner.backend {
            Backend::OpenAi(o) => format!("openai {}", o.endpoint()),
            Backend::Replay(r) => format!("replay {}", r.describe()),
        };
        f.debug_struct("Client")
            .field("provider", &provider)
            .field("cache", &self.inner.cache.as_ref().map(|c| c.dir().to_path_buf()))
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Builds the provider chosen by `cfg.provider`. `api_key_file` (already resolved by
    /// the caller, e.g. relative to the spec) overrides `cfg.api_key_file`; `responses`
    /// overrides `cfg.responses` for replay. Errors here are bad input (exit 2).
    pub fn new(
        cfg: &LlmCfg,
        api_key_file: Option<&Path>,
        responses: Option<&Path>,
        opts: ClientOptions,
    ) -> Result<Client, LlmError> {
        check_cfg(cfg)?;
        let mut retry = opts.retry.clone();
        retry.max_attempts.get_or_insert(cfg.max_attempts);
        let limiter = new_limiter(cfg.max_concurrency);
        let (backend, cache) = match cfg.provider {
            ProviderKind::Openai => {
                let key = key::load(cfg, api_key_file)?;
                let backend = openai::OpenAi::new(cfg, key)?;
                let cache = if opts.no_cache {
                    None
                } else {
                    Some(cache::Cache::new(opts.cache_dir.unwrap_or_else(cache::default_dir)))
                };
                (Backend::OpenAi(backend), cache)
            }
            ProviderKind::Replay => {
                let src = match (responses, cfg.responses.as_deref()) {
                    (Some(p), _) => p.to_string_lossy().into_owned(),
                    (None, Some(s)) => s.to_string(),
                    (None, None) => {
                        return Err(LlmError::BadConfig(
                            "provider = \"replay\" needs llm.responses: a folder or glob of \
                             response files (e.g. an earlier run's output folder)"
                                .into(),
                        ));
                    }
                };
                (Backend::Replay(replay::Replay::new(&src, opts.recorded.clone())?), None)
            }
        };
        let samples_seed = opts.samples_seed;
        Ok(Client { inner: Arc::new(Inner { backend, cache, retry, samples_seed }), limiter })
    }

    /// Shares one concurrency limit between clients (one per distinct `LlmCfg`).
    pub fn with_limiter(mut self, limiter: Limiter) -> Client {
        self.limiter = limiter;
        self
    }

    /// The limiter this client uses, to hand to [`Client::with_limiter`] of others.
    pub fn limiter(&self) -> Limiter {
        self.limiter.clone()
    }

    /// Where cached responses go (None with `no_cache` or replay).
    pub fn cache_dir(&self) -> Option<&Path> {
        self.inner.cache.as_ref().map(|c| c.dir())
    }

    /// One completion: cache, then the provider with retries. A truncated or empty answer
    /// is an error that keeps the partial content ([`LlmError::partial_content`]).
    pub async fn complete(&self, req: ChatRequest) -> Result<LlmResponse, LlmError> {
        self.complete_gated(req, &|| true).await
    }

    /// [`Client::complete`], but a network request is sent only if `gate()` still says
    /// yes once its concurrency permit is taken (else [`LlmError::NotSent`]). Cache hits
    /// and replayed answers cost nothing and pass.
    pub async fn complete_gated(
        &self,
        req: ChatRequest,
        gate: &(dyn Fn() -> bool + Sync),
    ) -> Result<LlmResponse, LlmError> {
        let resp = match &self.inner.backend {
            Backend::Replay(r) => r.answer(&req).await?,
            Backend::OpenAi(o) => self.complete_openai(o, &req, gate).await?,
        };
        check_content(resp)
    }

    async fn complete_openai(
        &self,
        o: &openai::OpenAi,
        req: &ChatRequest,
        gate: &(dyn Fn() -> bool + Sync),
    ) -> Result<LlmResponse, LlmError> {
        let key = cache::key(o.provider_name(), o.endpoint(), o.model(), req, self.inner.samples_seed);
        if let Some(c) = &self.inner.cache
            && let Some(hit) = c.get(&key).await
        {
            return Ok(hit);
        }
        let mut resp = retry::run(&self.inner.retry, &self.limiter, gate, || o.send_once(req))
            .await
            .map_err(|(failure, attempts)| o.to_error(failure, attempts))?;
        o.redact_response(&mut resp);
        if let Some(c) = &self.inner.cache
            && is_complete(&resp)
            && let Err(e) = c.put(&key, &resp).await
        {
            resp.warnings.push(e);
        }
        Ok(resp)
    }
}

fn check_cfg(cfg: &LlmCfg) -> Result<(), LlmError> {
    let bad = |m: String| Err(LlmError::BadConfig(m));
    if cfg.max_concurrency == 0 {
        return bad("llm.max_concurrency must be at least 1; set it in the spec's [llm]".into());
    }
    if cfg.max_attempts == 0 {
        return bad("llm.max_attempts must be at least 1; set it in the spec's [llm]".into());
    }
    if !(cfg.timeout_s.is_finite() && cfg.timeout_s > 0.0) {
        return bad(format!(
            "llm.timeout_s must be a positive number of seconds, got {}; fix the spec's [llm]",
            cfg.timeout_s
        ));
    }
    Ok(())
}

fn is_complete(resp: &LlmResponse) -> bool {
    resp.finish_reason.as_deref() != Some("length") && !resp.content.trim().is_empty()
}

/// Truncated and empty answers become errors (never cached: see `complete_openai`).
fn check_content(resp: LlmResponse) -> Result<LlmResponse, LlmError> {
    if resp.finish_reason.as_deref() == Some("length") {
        return Err(LlmError::Truncated(Box::new(resp)));
    }
    if resp.content.trim().is_empty() {
        return Err(LlmError::Empty(Box::new(resp)));
    }
    Ok(resp)
}
