//! A scripted OpenAI-compatible server on 127.0.0.1 (random port), for tests and for
//! `qt bench`: it answers `POST /chat/completions` and `/v1/chat/completions`.
//!
//! A [`MockScript`] says what each request gets (by arrival index, or from a function
//! of the request), plus a global latency and a seeded fault rate. The server counts
//! requests, tracks the peak number in flight and remembers what it saw (path,
//! Authorization header, body) so tests can check the key was sent. It is not a model:
//! the most it can do on its own is echo a ```sql block from the prompt.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// What one request gets.
#[derive(Debug, Clone, PartialEq)]
pub enum MockReply {
    /// 200, the given content, finish_reason "stop".
    Content(String),
    /// 200 with every field chosen.
    Completion { content: String, finish_reason: Option<String>, prompt_tokens: u64, completion_tokens: u64 },
    /// 200 with this content and this `usage` object verbatim (provider-specific fields
    /// such as `prompt_tokens_details` or `prompt_cache_hit_tokens`; `Null` for none).
    Usage { content: String, usage: Value },
    /// 429 with an optional `Retry-After` header value.
    RateLimited { retry_after: Option<String> },
    /// 429 whose body says `insufficient_quota`.
    Quota,
    /// Any status with a body (500, 401, 404 ...).
    Status(u16, String),
    /// Sleep, then answer as the inner reply.
    Slow(Duration, Box<MockReply>),
    /// 200 with a body that is not JSON.
    Malformed,
    /// 200, empty content.
    Empty,
    /// 200, the given partial content, finish_reason "length".
    Truncated(String),
    /// 200, content = the first ```sql block of the last message, re-fenced.
    EchoSql,
}

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct MockRequest {
    pub index: usize,
    pub path: String,
    pub authorization: Option<String>,
    pub body: Value,
}

pub type Responder = Arc<dyn Fn(&MockRequest) -> MockReply + Send + Sync>;

/// Per-request behaviour. Replies are used by arrival index; after the list, `fallback`.
#[derive(Clone)]
pub struct MockScript {
    pub replies: Vec<MockReply>,
    pub fallback: MockReply,
    /// If set, decides every reply (the list is ignored).
    pub responder: Option<Responder>,
    /// Added to every request before answering.
    pub latency: Duration,
    /// Probability that a request gets a 500 instead (seeded: reproducible for a given
    /// arrival order).
    pub fault_rate: f64,
    pub seed: u64,
    /// The model name reported in answers.
    pub model: String,
}

impl Default for MockScript {
    fn default() -> Self {
        Self {
            replies: Vec::new(),
            fallback: MockReply::EchoSql,
            responder: None,
            latency: Duration::ZERO,
            fault_rate: 0.0,
            seed: 0,
            model: "mock-model".into(),
        }
    }
}

impl MockScript {
    /// These replies in order, then `fallback` (EchoSql unless changed).
    pub fn replies(replies: Vec<MockReply>) -> Self {
        Self { replies, ..Self::default() }
    }
    /// The same reply to every request.
    pub fn always(reply: MockReply) -> Self {
        Self { fallback: reply, ..Self::default() }
    }
    /// A function of the request decides.
    pub fn from_fn(f: impl Fn(&MockRequest) -> MockReply + Send + Sync + 'static) -> Self {
        Self { responder: Some(Arc::new(f)), ..Self::default() }
    }
    pub fn then(mut self, fallback: MockReply) -> Self {
        self.fallback = fallback;
        self
    }
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }
    pub fn with_faults(mut self, rate: f64, seed: u64) -> Self {
        self.fault_rate = rate;
        self.seed = seed;
        self
    }
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }
}

struct St {
    script: MockScript,
    rng: Mutex<StdRng>,
    count: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    seen: Mutex<Vec<MockRequest>>,
}

/// A running mock; stops on [`MockServer::shutdown`] or drop.
pub struct MockServer {
    /// `http://127.0.0.1:PORT` (use as `llm.base_url`, with or without `/v1`).
    pub url: String,
    st: Arc<St>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// Starts a mock on 127.0.0.1:0. Panics only if no local port can be bound.
pub async fn start(script: MockScript) -> MockServer {
    match try_start(script).await {
        Ok(s) => s,
        Err(e) => panic!("mock LLM server: cannot bind 127.0.0.1:0: {e}"),
    }
}

/// Like [`start`], returning the bind error.
pub async fn try_start(script: MockScript) -> std::io::Result<MockServer> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let st = Arc::new(St {
        rng: Mutex::new(StdRng::seed_from_u64(script.seed)),
        script,
        count: AtomicUsize::new(0),
        in_flight: AtomicUsize::new(0),
        max_in_flight: AtomicUsize::new(0),
        seen: Mutex::new(Vec::new()),
    });
    let app = Router::new()
        .route("/chat/completions", post(handle))
        .route("/v1/chat/completions", post(handle))
        .with_state(st.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok(MockServer { url: format!("http://{addr}"), st, stop: Some(stop), task: Some(task) })
}

impl MockServer {
    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.st.count.load(Ordering::SeqCst)
    }
    /// The most requests that were being handled at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.st.max_in_flight.load(Ordering::SeqCst)
    }
    /// Authorization header of every request, in arrival order.
    pub fn auth_headers(&self) -> Vec<Option<String>> {
        self.seen().into_iter().map(|r| r.authorization).collect()
    }
    /// Every request seen, in arrival order.
    pub fn seen(&self) -> Vec<MockRequest> {
        let mut v = self.st.seen.lock().map(|s| s.clone()).unwrap_or_default();
        v.sort_by_key(|r| r.index);
        v
    }

    /// Stops accepting, lets in-flight requests finish (up to 2 s), closes connections.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(2), &mut task).await.is_err()
        {
            task.abort();
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Counts a request in flight for as long as it lives.
struct InFlight<'a>(&'a St);
impl<'a> InFlight<'a> {
    fn enter(st: &'a St) -> Self {
        let now = st.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        st.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(st)
    }
}
impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn handle(State(st): State<Arc<St>>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let _guard = InFlight::enter(&st);
    let req = MockRequest {
        index: st.count.fetch_add(1, Ordering::SeqCst),
        path: uri.path().to_string(),
        authorization: headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(String::from),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    if let Ok(mut seen) = st.seen.lock() {
        seen.push(req.clone());
    }
    let mut reply = pick(&st, &req);
    if !st.script.latency.is_zero() {
        tokio::time::sleep(st.script.latency).await;
    }
    while let MockReply::Slow(delay, inner) = reply {
        tokio::time::sleep(delay).await;
        reply = *inner;
    }
    render(reply, &req, &st.script.model)
}

fn pick(st: &St, req: &MockRequest) -> MockReply {
    let s = &st.script;
    if s.fault_rate > 0.0 {
        let draw: f64 = st.rng.lock().map(|mut r| r.random()).unwrap_or(1.0);
        if draw < s.fault_rate {
            return MockReply::Status(500, "injected fault".into());
        }
    }
    match &s.responder {
        Some(f) => f(req),
        None => s.replies.get(req.index).cloned().unwrap_or_else(|| s.fallback.clone()),
    }
}

fn render(reply: MockReply, req: &MockRequest, model: &str) -> Response {
    let ok = |content: String, finish: Option<&str>| completion(req, model, content, finish, None);
    match reply {
        MockReply::Content(c) => ok(c, Some("stop")),
        MockReply::Completion { content, finish_reason, prompt_tokens, completion_tokens } => {
            completion(req, model, content, finish_reason.as_deref(), Some((prompt_tokens, completion_tokens)))
        }
        MockReply::Usage { content, usage } => {
            let mut body = completion_body(req, model, content, Some("stop"), None);
            body["usage"] = usage;
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        MockReply::RateLimited { retry_after } => {
            let body = json!({"error": {"message": "Rate limit reached, slow down", "type": "rate_limit"}});
            let mut resp = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
            if let Some(ra) = retry_after.and_then(|v| v.parse().ok()) {
                resp.headers_mut().insert(header::RETRY_AFTER, ra);
            }
            resp
        }
        MockReply::Quota => {
            let body = json!({"error": {"message": "You exceeded your current quota", "code": "insufficient_quota"}});
            (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response()
        }
        MockReply::Status(code, body) => {
            (StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), body).into_response()
        }
        MockReply::Slow(_, inner) => render(*inner, req, model),
        MockReply::Malformed => (StatusCode::OK, "<html>upstream error</html>{\"choices\": [").into_response(),
        MockReply::Empty => ok(String::new(), Some("stop")),
        MockReply::Truncated(partial) => ok(partial, Some("length")),
        MockReply::EchoSql => ok(echo_sql(&req.body), Some("stop")),
    }
}

fn completion(
    req: &MockRequest,
    model: &str,
    content: String,
    finish: Option<&str>,
    tokens: Option<(u64, u64)>,
) -> Response {
    (StatusCode::OK, axum::Json(completion_body(req, model, content, finish, tokens))).into_response()
}

fn completion_body(req: &MockRequest, model: &str, content: String, finish: Option<&str>, tokens: Option<(u64, u64)>) -> Value {
    let prompt_chars: usize = messages(&req.body).map(str::len).sum();
    let (p, c) = tokens.unwrap_or(((prompt_chars / 4) as u64, (content.len() / 4) as u64));
    json!({
        "id": format!("mock-{}", req.index),
        "object": "chat.completion",
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
        "usage": {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c},
    })
}

fn messages(body: &Value) -> impl Iterator<Item = &str> {
    body.get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("content").and_then(Value::as_str))
}

/// The first ```sql block of the last message, re-fenced; `SELECT 1` if there is none.
fn echo_sql(body: &Value) -> String {
    format!("```sql\n{}\n```", prompt_sql(body).unwrap_or_else(|| "SELECT 1".into()))
}

/// The first ```sql block of a request's last message (the query the prompt shows).
pub fn prompt_sql(body: &Value) -> Option<String> {
    let last = messages(body).last().unwrap_or("");
    last.split_once("```sql").and_then(|(_, rest)| rest.split_once("```")).map(|(sql, _)| sql.trim().to_string())
}
