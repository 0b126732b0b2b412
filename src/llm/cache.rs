//! The on-disk response cache: one JSON file per request, named by the sha256 of what
//! determines the answer (provider, endpoint, model, messages, temperature, max_tokens,
//! sample index, samples seed — so repeated samples of one prompt stay distinct, and
//! `--repeat N` asks for a fresh set while the cache keeps answering seed 0 runs).
//!
//! Writes are atomic (temp file + rename) so concurrent workers never see half a file.
//! Only complete answers are stored (the client never calls `put` for errors, truncated
//! or empty answers). The API key is not part of the key nor of the file. A corrupt or
//! unreadable entry is a miss, never an error.

use super::{ChatRequest, LlmResponse, Message};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const VERSION: u32 = 1;

pub(crate) struct Cache {
    dir: PathBuf,
}

/// What goes into the hash (and, minus the messages, into the file for audit).
#[derive(Serialize)]
struct KeyInput<'a> {
    version: u32,
    provider: &'a str,
    endpoint: &'a str,
    model: &'a str,
    messages: &'a [Message],
    temperature: f64,
    max_tokens: u32,
    sample_index: u32,
    /// `generation.samples_seed` / `qt run --repeat N`: another set of samples. Left out
    /// of the hash when 0, so caches written before it existed still answer.
    #[serde(skip_serializing_if = "is_zero")]
    samples_seed: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A computed cache key: the hex digest plus the fields recorded next to the answer.
pub(crate) struct CacheKey {
    hex: String,
    request: serde_json::Value,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    version: u32,
    cache_key: String,
    created_at: String,
    request: serde_json::Value,
    content: String,
    finish_reason: Option<String>,
    model: String,
    prompt_tokens: u64,
    completion_tokens: u64,
    /// Absent in entries written before the provider's prompt-cache hits were read.
    #[serde(default)]
    prompt_cache_hit_tokens: u64,
    #[serde(default = "reported")]
    usage_reported: bool,
    latency_s: f64,
}

fn reported() -> bool {
    true
}

/// `$QT_CACHE_DIR/llm`, else `~/.cache/qt/llm` (else the system temp dir).
pub(crate) fn default_dir() -> PathBuf {
    let non_empty = |v: &str| std::env::var_os(v).filter(|s| !s.is_empty()).map(PathBuf::from);
    if let Some(root) = non_empty("QT_CACHE_DIR") {
        return root.join("llm");
    }
    match non_empty("HOME") {
        Some(home) => home.join(".cache").join("qt").join("llm"),
        None => std::env::temp_dir().join("qt").join("llm"),
    }
}

pub(crate) fn key(provider: &str, endpoint: &str, model: &str, req: &ChatRequest, samples_seed: u64) -> CacheKey {
    let input = KeyInput {
        version: VERSION,
        provider,
        endpoint,
        model,
        messages: &req.messages,
        temperature: req.temperature,
        max_tokens: req.max_tokens,
        sample_index: req.sample_index,
        samples_seed,
    };
    let bytes = serde_json::to_vec(&input).unwrap_or_default();
    let hex = hex::encode(Sha256::digest(&bytes));
    let messages = serde_json::to_vec(&req.messages).unwrap_or_default();
    let request = serde_json::json!({
        "provider": provider,
        "endpoint": endpoint,
        "model": model,
        "temperature": req.temperature,
        "max_tokens": req.max_tokens,
        "sample_index": req.sample_index,
        "samples_seed": samples_seed,
        "messages_sha256": hex::encode(Sha256::digest(&messages)),
    });
    CacheKey { hex, request }
}

impl Cache {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{}.json", key.hex))
    }

    /// The stored answer marked `cached: true`, or None on any miss or unreadable entry.
    pub(crate) async fn get(&self, key: &CacheKey) -> Option<LlmResponse> {
        let path = self.path(key);
        let text = tokio::fs::read_to_string(&path).await.ok()?;
        let e: Entry = serde_json::from_str(&text).ok()?;
        if e.version != VERSION || e.cache_key != key.hex {
            return None;
        }
        Some(LlmResponse {
            content: e.content,
            finish_reason: e.finish_reason,
            model: e.model,
            prompt_tokens: e.prompt_tokens,
            completion_tokens: e.completion_tokens,
            prompt_cache_hit_tokens: e.prompt_cache_hit_tokens,
            usage_reported: e.usage_reported,
            latency_s: e.latency_s,
            cached: true,
            attempts: Vec::new(),
            source: Some(format!("cache: {}", path.display())),
            warnings: Vec::new(),
        })
    }

    /// Stores `resp` atomically. The error is a sentence for `LlmResponse::warnings`.
    pub(crate) async fn put(&self, key: &CacheKey, resp: &LlmResponse) -> Result<(), String> {
        let entry = Entry {
            version: VERSION,
            cache_key: key.hex.clone(),
            created_at: chrono::Utc::now().to_rfc3339(),
            request: key.request.clone(),
            content: resp.content.clone(),
            finish_reason: resp.finish_reason.clone(),
            model: resp.model.clone(),
            prompt_tokens: resp.prompt_tokens,
            completion_tokens: resp.completion_tokens,
            prompt_cache_hit_tokens: resp.prompt_cache_hit_tokens,
            usage_reported: resp.usage_reported,
            latency_s: resp.latency_s,
        };
        let path = self.path(key);
        let fail = |what: &str, e: std::io::Error| {
            format!(
                "response not cached: cannot {what} {} ({e}); check the cache dir or pass --no-cache",
                path.display()
            )
        };
        let json = serde_json::to_vec_pretty(&entry).map_err(|e| format!("response not cached: {e}"))?;
        tokio::fs::create_dir_all(&self.dir).await.map_err(|e| fail("create the folder of", e))?;
        let tmp = self.dir.join(format!(
            ".{}.{}.{}.tmp",
            key.hex,
            std::process::id(),
            rand::random::<u64>()
        ));
        if let Err(e) = tokio::fs::write(&tmp, &json).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(fail("write", e));
        }
        if let Err(e) = tokio::fs::rename(&tmp, &path).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(fail("rename a temp file to", e));
        }
        Ok(())
    }
}
