//! The OpenAI-compatible client against the scripted mock server on 127.0.0.1.
//! No timed assertions: waits are checked on the recorded values, not the wall clock.

use qt::llm::mock_server::{self, MockReply, MockScript, MockServer};
use qt::llm::{ChatRequest, Client, ClientOptions, LlmError, Message, RetryPolicy, new_limiter};
use qt::spec::LlmCfg;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tempfile::TempDir;

/// A temp folder with a key file holding a unique random key, and a cache dir.
struct Env {
    dir: TempDir,
    key: String,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key = format!("sk-qt-test-{:032x}", rand::random::<u128>());
        std::fs::write(dir.path().join("key.txt"), format!("  {key}\n")).unwrap();
        Env { dir, key }
    }
    fn key_file(&self) -> PathBuf {
        self.dir.path().join("key.txt")
    }
    fn cache_dir(&self) -> PathBuf {
        self.dir.path().join("cache")
    }
    fn client_with(&self, cfg: LlmCfg, no_cache: bool) -> Client {
        let opts = ClientOptions {
            no_cache,
            cache_dir: Some(self.cache_dir()),
            retry: RetryPolicy::new(Duration::from_millis(10), Duration::from_secs(5)),
            samples_seed: 0,
            ..Default::default()
        };
        Client::new(&cfg, Some(&self.key_file()), None, opts).unwrap()
    }
    fn client(&self, server: &MockServer) -> Client {
        self.client_with(cfg(server), false)
    }
}

fn cfg(server: &MockServer) -> LlmCfg {
    LlmCfg {
        base_url: format!("{}/v1", server.url),
        model: "test-model".into(),
        timeout_s: 10.0,
        max_attempts: 4,
        max_concurrency: 4,
        ..LlmCfg::default()
    }
}

fn req(text: &str, sample_index: u32) -> ChatRequest {
    ChatRequest {
        messages: vec![Message::system("You rewrite SQL."), Message::user(text)],
        temperature: 0.7,
        max_tokens: 512,
        sample_index,
        query_id: "1".into(),
        worker: 1,
        attempt: 0,
    }
}

fn ok(s: &str) -> MockReply {
    MockReply::Content(s.into())
}

#[tokio::test]
async fn success_reports_content_tokens_model_and_sends_the_key() {
    let env = Env::new();
    let server = mock_server::start(MockScript::replies(vec![MockReply::Completion {
        content: "SELECT 42".into(),
        finish_reason: Some("stop".into()),
        prompt_tokens: 120,
        completion_tokens: 7,
    }]))
    .await;
    let r = env.client(&server).complete(req("q", 0)).await.unwrap();
    assert_eq!(r.content, "SELECT 42");
    assert_eq!((r.prompt_tokens, r.completion_tokens), (120, 7));
    assert_eq!(r.model, "mock-model", "the model the server reports, not the one asked");
    assert_eq!(r.finish_reason.as_deref(), Some("stop"));
    assert!(!r.cached);
    assert_eq!(r.attempts.len(), 1);
    assert_eq!(r.attempts[0].status, Some(200));
    let seen = server.seen();
    assert_eq!(seen[0].path, "/v1/chat/completions");
    assert_eq!(seen[0].authorization.as_deref(), Some(format!("Bearer {}", env.key).as_str()));
    assert_eq!(seen[0].body["model"], "test-model");
    assert_eq!(seen[0].body["max_tokens"], 512);
    assert_eq!(seen[0].body["messages"][1]["content"], "q");
}

#[tokio::test]
async fn base_url_without_v1_and_with_trailing_slash() {
    let env = Env::new();
    let server = mock_server::start(MockScript::always(ok("x"))).await;
    let c = LlmCfg { base_url: format!("{}/", server.url), ..cfg(&server) };
    env.client_with(c, true).complete(req("q", 0)).await.unwrap();
    assert_eq!(server.seen()[0].path, "/chat/completions");
}

#[tokio::test]
async fn retry_after_is_honoured_and_recorded() {
    let env = Env::new();
    let script = MockScript::replies(vec![MockReply::RateLimited { retry_after: Some("1".into()) }, ok("fine")]);
    let server = mock_server::start(script).await;
    let r = env.client(&server).complete(req("q", 0)).await.unwrap();
    assert_eq!(r.content, "fine");
    assert_eq!(r.attempts.len(), 2);
    assert_eq!(r.attempts[0].status, Some(429));
    let wait = r.attempts[0].wait_s;
    assert!((1.0..=1.01).contains(&wait), "wait {wait} should be the Retry-After of 1 s");
    assert_eq!(r.attempts[1].status, Some(200));
    assert_eq!(r.attempts[1].wait_s, 0.0);
}

#[tokio::test]
async fn server_error_then_success() {
    let env = Env::new();
    let script = MockScript::replies(vec![MockReply::Status(500, "boom".into()), ok("fine")]);
    let server = mock_server::start(script).await;
    let r = env.client(&server).complete(req("q", 0)).await.unwrap();
    assert_eq!(r.content, "fine");
    assert_eq!(r.attempts[0].status, Some(500));
    assert!(r.attempts[0].error.as_deref().unwrap().contains("boom"));
    assert!(r.attempts[0].wait_s > 0.0);
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn slow_answer_times_out_and_is_retried() {
    let env = Env::new();
    let slow = MockReply::Slow(Duration::from_secs(5), Box::new(ok("too late")));
    let server = mock_server::start(MockScript::replies(vec![slow, ok("in time")])).await;
    let c = LlmCfg { timeout_s: 0.3, ..cfg(&server) };
    let r = env.client_with(c, true).complete(req("q", 0)).await.unwrap();
    assert_eq!(r.content, "in time");
    assert_eq!(r.attempts[0].status, None);
    assert!(r.attempts[0].error.as_deref().unwrap().starts_with("timeout"), "{:?}", r.attempts[0]);
}

#[tokio::test]
async fn malformed_body_fails_at_once() {
    let env = Env::new();
    let server = mock_server::start(MockScript::always(MockReply::Malformed)).await;
    let e = env.client(&server).complete(req("q", 0)).await.unwrap_err();
    assert!(matches!(e, LlmError::Malformed { .. }), "{e:?}");
    assert_eq!(e.attempts().len(), 1);
    assert!(e.to_string().contains("base_url"), "{e}");
    assert_eq!(e.kind(), "llm_error");
}

#[tokio::test]
async fn empty_content_is_an_llm_error() {
    let env = Env::new();
    let server = mock_server::start(MockScript::always(MockReply::Empty)).await;
    let e = env.client(&server).complete(req("q", 0)).await.unwrap_err();
    assert!(matches!(e, LlmError::Empty(_)), "{e:?}");
    assert_eq!(e.kind(), "llm_error");
    assert_eq!(e.partial_content(), Some(""));
    assert_eq!(e.attempts().len(), 1);
}

#[tokio::test]
async fn truncated_answer_keeps_the_partial_content() {
    let env = Env::new();
    let server = mock_server::start(MockScript::always(MockReply::Truncated("SELECT a, b FROM".into()))).await;
    let e = env.client(&server).complete(req("q", 0)).await.unwrap_err();
    assert!(matches!(e, LlmError::Truncated(_)), "{e:?}");
    assert_eq!(e.kind(), "llm_error");
    assert_eq!(e.partial_content(), Some("SELECT a, b FROM"));
    assert!(e.to_string().contains("max_tokens"), "{e}");
}

#[tokio::test]
async fn exhausted_quota_fails_at_once() {
    let env = Env::new();
    let server = mock_server::start(MockScript::always(MockReply::Quota)).await;
    let e = env.client(&server).complete(req("q", 0)).await.unwrap_err();
    assert!(matches!(e, LlmError::Quota { .. }), "{e:?}");
    assert_eq!(e.attempts().len(), 1);
    assert_eq!(server.requests(), 1);
    assert!(e.is_fatal_for_run() && !e.is_bad_input());
    assert!(e.to_string().contains("quota"), "{e}");
}

#[tokio::test]
async fn unauthorized_fails_at_once() {
    let env = Env::new();
    let server = mock_server::start(MockScript::always(MockReply::Status(401, "invalid key".into()))).await;
    let e = env.client(&server).complete(req("q", 0)).await.unwrap_err();
    assert!(matches!(e, LlmError::Refused { status: 401, .. }), "{e:?}");
    assert_eq!(server.requests(), 1);
    assert!(e.to_string().contains("api_key_env"), "{e}");
}

#[tokio::test]
async fn attempt_cap_is_respected() {
    let env = Env::new();
    let server = mock_server::start(MockScript::always(MockReply::Status(503, "busy".into()))).await;
    let c = LlmCfg { max_attempts: 3, ..cfg(&server) };
    let e = env.client_with(c, false).complete(req("q", 0)).await.unwrap_err();
    assert!(matches!(e, LlmError::GaveUp { .. }), "{e:?}");
    assert_eq!(server.requests(), 3);
    let a = e.attempts();
    assert_eq!(a.iter().map(|a| a.n).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(a.iter().all(|a| a.status == Some(503)));
    assert_eq!(a[2].wait_s, 0.0);
    assert!(e.to_string().contains("3 attempt"), "{e}");
}

#[tokio::test]
async fn second_identical_call_is_a_cache_hit() {
    let env = Env::new();
    let server = mock_server::start(MockScript::always(MockReply::EchoSql)).await;
    let client = env.client(&server);
    let first = client.complete(req("```sql\nSELECT 1\n```", 0)).await.unwrap();
    let second = client.complete(req("```sql\nSELECT 1\n```", 0)).await.unwrap();
    assert_eq!(server.requests(), 1);
    assert!(!first.cached && second.cached);
    assert_eq!(second.content, first.content);
    assert_eq!(second.model, first.model);
    // Another sample of the same prompt is a different answer: a miss.
    let third = client.complete(req("```sql\nSELECT 1\n```", 1)).await.unwrap();
    assert!(!third.cached);
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn a_new_samples_seed_is_a_fresh_sample_and_keeps_the_others_cached() {
    let env = Env::new();
    let server = mock_server::start(MockScript::always(MockReply::EchoSql)).await;
    let with_seed = |seed: u64| {
        let opts = ClientOptions {
            cache_dir: Some(env.cache_dir()),
            retry: RetryPolicy::new(Duration::from_millis(10), Duration::from_secs(5)),
            samples_seed: seed,
            ..Default::default()
        };
        Client::new(&cfg(&server), Some(&env.key_file()), None, opts).unwrap()
    };
    let prompt = "```sql\nSELECT 2\n```";
    assert!(!with_seed(0).complete(req(prompt, 1)).await.unwrap().cached);
    assert!(!with_seed(1).complete(req(prompt, 1)).await.unwrap().cached, "seed 1: fresh");
    assert_eq!(server.requests(), 2);
    assert!(with_seed(1).complete(req(prompt, 1)).await.unwrap().cached, "seed 1 again: its own answer");
    assert!(with_seed(0).complete(req(prompt, 1)).await.unwrap().cached, "seed 0 keeps its answer");
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn errors_and_truncated_answers_are_not_cached() {
    let env = Env::new();
    let script = MockScript::replies(vec![
        MockReply::Status(500, "down".into()),
        MockReply::Truncated("SELECT".into()),
        ok("SELECT 1"),
    ]);
    let server = mock_server::start(script).await;
    let c = LlmCfg { max_attempts: 1, ..cfg(&server) };
    let client = env.client_with(c, false);
    assert!(client.complete(req("q", 0)).await.is_err());
    assert!(client.complete(req("q", 0)).await.is_err());
    let r = client.complete(req("q", 0)).await.unwrap();
    assert!(!r.cached);
    assert_eq!(server.requests(), 3);
    assert!(client.complete(req("q", 0)).await.unwrap().cached);
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn no_cache_bypasses_reads_and_writes() {
    let env = Env::new();
    let server = mock_server::start(MockScript::always(ok("SELECT 1"))).await;
    env.client(&server).complete(req("q", 0)).await.unwrap();
    let bypass = env.client_with(cfg(&server), true);
    let r = bypass.complete(req("q", 0)).await.unwrap();
    assert!(!r.cached);
    assert_eq!(server.requests(), 2);
    assert!(bypass.cache_dir().is_none());
    bypass.complete(req("other", 0)).await.unwrap();
    assert_eq!(files_under(&env.cache_dir()).len(), 1, "no_cache must not write");
}

#[tokio::test]
async fn the_key_never_reaches_files_or_errors() {
    let env = Env::new();
    // A hostile server echoing the Authorization header in bodies and content.
    let server = mock_server::start(MockScript::from_fn(|r| {
        let auth = r.authorization.clone().unwrap_or_default();
        match r.index {
            0 => MockReply::Status(500, format!("bad header {auth}")),
            1 => MockReply::Status(400, format!("rejected {auth}")),
            _ => MockReply::Content(format!("you sent {auth}")),
        }
    }))
    .await;
    let c = LlmCfg { max_attempts: 2, ..cfg(&server) };
    let client = env.client_with(c, false);
    let e = client.complete(req("q", 0)).await.unwrap_err();
    let texts = [e.to_string(), format!("{e:?}"), serde_json::to_string(e.attempts()).unwrap()];
    for t in &texts {
        assert!(!t.contains(&env.key), "key leaked into {t}");
    }
    assert!(texts[0].contains("***"), "{}", texts[0]);
    let r = client.complete(req("q", 0)).await.unwrap();
    assert!(!r.content.contains(&env.key) && r.content.contains("***"));
    assert!(!format!("{client:?}").contains(&env.key));
    let files = files_under(env.dir.path().join("cache").as_path());
    assert_eq!(files.len(), 1);
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(&env.key), "key leaked into {f:?}");
    }
}

#[tokio::test]
async fn missing_key_is_bad_input_naming_env_and_file() {
    let c = LlmCfg {
        base_url: "https://api.example.invalid".into(),
        api_key_env: Some("QT_LLM_TEST_UNSET_VARIABLE".into()),
        ..LlmCfg::default()
    };
    let e = Client::new(&c, Some(Path::new("/nonexistent/key.txt")), None, ClientOptions::default())
        .unwrap_err();
    assert!(e.is_bad_input());
    let msg = e.to_string();
    assert!(msg.contains("QT_LLM_TEST_UNSET_VARIABLE") && msg.contains("/nonexistent/key.txt"), "{msg}");
}

#[tokio::test]
async fn local_server_runs_without_a_key() {
    let server = mock_server::start(MockScript::always(ok("SELECT 1"))).await;
    let c = Client::new(&cfg(&server), None, None, ClientOptions { no_cache: true, ..Default::default() });
    c.unwrap().complete(req("q", 0)).await.unwrap();
    assert_eq!(server.auth_headers(), vec![None]);
}

#[tokio::test]
async fn concurrency_limit_is_shared_between_clients() {
    let env = Env::new();
    let server = mock_server::start(MockScript::always(ok("x")).with_latency(Duration::from_millis(40))).await;
    let limiter = new_limiter(3);
    let a = env.client_with(cfg(&server), true).with_limiter(limiter.clone());
    let b = env.client_with(LlmCfg { model: "other".into(), ..cfg(&server) }, true).with_limiter(limiter);
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let c = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { c.complete(req("q", i)).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(server.requests(), 16);
    assert!(server.max_in_flight() <= 3, "peak {} > limit 3", server.max_in_flight());
}

#[tokio::test]
async fn server_dying_mid_run_gives_up_with_connection_errors() {
    let env = Env::new();
    let server = mock_server::start(MockScript::always(ok("x"))).await;
    let c = LlmCfg { max_attempts: 2, ..cfg(&server) };
    let client = env.client_with(c, true);
    client.complete(req("q", 0)).await.unwrap();
    server.shutdown().await;
    let e = client.complete(req("q", 1)).await.unwrap_err();
    assert!(matches!(e, LlmError::GaveUp { .. }), "{e:?}");
    assert_eq!(e.attempts().len(), 2);
    assert!(e.attempts().iter().all(|a| a.status.is_none()), "{:?}", e.attempts());
    assert!(e.attempts().iter().all(|a| a.error.as_deref().unwrap().starts_with("connection error")));
}

#[tokio::test]
async fn seeded_faults_are_retried_away() {
    let env = Env::new();
    let server = mock_server::start(MockScript::always(ok("x")).with_faults(0.4, 7)).await;
    let c = LlmCfg { max_attempts: 20, ..cfg(&server) };
    let client = env.client_with(c, true);
    let mut retried = 0;
    for i in 0..10 {
        let r = client.complete(req("q", i)).await.unwrap();
        retried += r.attempts.iter().filter(|a| a.status == Some(500)).count();
    }
    assert!(retried > 0, "a 40% fault rate over 10 calls injected no fault");
    assert_eq!(server.requests(), 10 + retried);
}

#[tokio::test]
async fn echo_mode_answers_the_prompt_sql() {
    let server = mock_server::start(MockScript::default()).await;
    let c = Client::new(&cfg(&server), None, None, ClientOptions { no_cache: true, ..Default::default() });
    let r = c.unwrap().complete(req("Rewrite:\n```sql\nSELECT a FROM t\n```\nThanks", 0)).await.unwrap();
    assert_eq!(r.content, "```sql\nSELECT a FROM t\n```");
}

#[test]
fn client_is_clone_send_sync() {
    fn check<T: Clone + Send + Sync + 'static>() {}
    check::<Client>();
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The provider's prompt-cache hits are read where each provider reports them (OpenAI:
/// `prompt_tokens_details.cached_tokens`; DeepSeek: `prompt_cache_hit_tokens` /
/// `prompt_cache_miss_tokens`), survive the response cache, and give the cost; an answer
/// without `usage` has unknown tokens, so no cost.
#[tokio::test]
async fn usage_with_prompt_cache_hits_is_read_for_openai_and_deepseek() {
    let env = Env::new();
    let usage = |u: serde_json::Value| MockReply::Usage { content: "SELECT 1".into(), usage: u };
    let server = mock_server::start(MockScript::replies(vec![
        usage(serde_json::json!({"prompt_tokens": 2000, "completion_tokens": 300, "total_tokens": 2300,
            "prompt_tokens_details": {"cached_tokens": 1536}, "completion_tokens_details": {"reasoning_tokens": 100}})),
        usage(serde_json::json!({"prompt_tokens": 1000, "completion_tokens": 50, "total_tokens": 1050,
            "prompt_cache_hit_tokens": 640, "prompt_cache_miss_tokens": 360})),
        usage(serde_json::json!({"completion_tokens": 10, "prompt_cache_hit_tokens": 64, "prompt_cache_miss_tokens": 36})),
        usage(serde_json::Value::Null),
    ]))
    .await;
    let client = env.client(&server);
    let price = qt::llm::price::Price { input: 0.28, output: 0.42, cached_input: 0.028, source: "test".into() };
    let openai = client.complete(req("a", 0)).await.unwrap();
    assert_eq!((openai.prompt_tokens, openai.prompt_cache_hit_tokens, openai.completion_tokens), (2000, 1536, 300));
    let c = price.cost(&openai).unwrap();
    assert!((c - (464.0 * 0.28 + 1536.0 * 0.028 + 300.0 * 0.42) / 1e6).abs() < 1e-15, "{c}");
    let deepseek = client.complete(req("b", 0)).await.unwrap();
    assert_eq!((deepseek.prompt_tokens, deepseek.prompt_cache_hit_tokens), (1000, 640));
    let split_only = client.complete(req("c", 0)).await.unwrap();
    assert_eq!((split_only.prompt_tokens, split_only.prompt_cache_hit_tokens, split_only.completion_tokens), (100, 64, 10));
    let none = client.complete(req("d", 0)).await.unwrap();
    assert!(!none.usage_reported);
    assert_eq!(price.cost(&none), None, "unreported usage is an unknown cost, not $0");
    // From the response cache: the same usage, so the same cost.
    let again = client.complete(req("a", 0)).await.unwrap();
    assert!(again.cached);
    assert_eq!((again.prompt_tokens, again.prompt_cache_hit_tokens), (2000, 1536));
    assert_eq!(price.cost(&again), price.cost(&openai));
    assert_eq!(server.requests(), 4);
}
