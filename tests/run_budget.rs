//! Dollars end to end against the local mock LLM server: every generation's cost from the
//! provider's usage, sums per arm and query equal to the per-generation sums (and the same
//! answers from the response cache cost nothing); `budget_usd` stops issuing requests
//! within one wave of requests in flight and `--resume` with a larger budget continues the
//! skipped generations; `stop_when` stops a query's arm after its 3rd valid rewrite.
//! No timing assertions: counts of requests and records only.

mod common;
use common::*;
use qt::llm::mock_server::{self, MockReply, MockScript};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

const SPEC: &str = r#"name = "cost"
[output]
root = "out"
[database]
generate = { benchmark = "tpcds", scale = 0.01 }
[queries]
dir = "@REPO@/queries/demo"
ids = ["demo2"]
[llm]
base_url = "@URL@"
model = "some-model-without-a-builtin-price"
max_concurrency = 2
timeout_s = 30
price = { input = 1.0, output = 2.0, cached_input = 0.5 }
[generation]
workers = 4
template = "@REPO@/templates/full_sql.j2"
response_format = "sql"
retries_on_failure = 0
[examples]
strategy = "none"
dir = "@REPO@/prompts/examples"
[validation]
timing_rounds = 1
warmup = 0
"#;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn spec(dir: &Path, url: &str, patch: &[(&str, &str)]) -> PathBuf {
    let text = patched(SPEC.replace("@URL@", &format!("{url}/v1")), patch);
    write_spec(dir, "cost.toml", &text)
}

fn json_at(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn run_ok(args: &[&str]) -> String {
    let out = qt().args(args).output().unwrap();
    let text = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{text}");
    text
}

fn run_dirs(dir: &Path) -> Vec<PathBuf> {
    sorted_entries(&dir.join("out/cost"), |p| p.join("config.json").is_file())
}

fn records(run: &Path) -> Vec<Value> {
    gen_dirs(run).iter().map(|g| json_at(&g.join("validation.json"))).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// 1000 prompt tokens (400 from the provider's prompt cache) and 200 completion tokens:
/// 600 x $1 + 400 x $0.5 + 200 x $2 per million = $0.0012 an answer.
fn usage_reply(content: &str) -> MockReply {
    MockReply::Usage {
        content: content.into(),
        usage: json!({"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200,
                      "prompt_tokens_details": {"cached_tokens": 400}}),
    }
}

#[test]
fn cost_sums_equal_the_per_generation_sums_and_cache_hits_cost_nothing() {
    let rt = runtime();
    let server = rt.block_on(mock_server::start(MockScript::always(usage_reply("```sql\nSELECT 1\n```"))));
    let d = tempfile::tempdir().unwrap();
    let s = spec(d.path(), &server.url, &[("[examples]", "[matrix]\n\"llm.temperature\" = [0.2, 0.8]\n[examples]")]);
    let s = s.to_str().unwrap();
    let text = run_ok(&["run", "--no-validate", s]);
    assert!(text.contains("Cost: $0.009600 spent; no valid rewrite"), "{text}");
    let run = run_dirs(d.path()).remove(0);
    let recs = records(&run);
    assert_eq!(recs.len(), 8);
    for r in &recs {
        assert!(close(r["cost_usd"].as_f64().unwrap(), 0.0012), "{r}");
        assert_eq!(r["cost_usd_cached"], 0.0);
        assert_eq!(r["tokens"]["prompt_cache_hit"], 400);
    }
    let sum = |recs: &[Value], k: &str| recs.iter().map(|r| r[k].as_f64().unwrap()).sum::<f64>();
    let summary = json_at(&run.join("summary.json"));
    assert!(close(summary["cost_usd"].as_f64().unwrap(), sum(&recs, "cost_usd")), "{summary}");
    for arm in summary["arms"].as_array().unwrap() {
        let mine: Vec<Value> = recs.iter().filter(|r| r["arm_name"] == arm["name"]).cloned().collect();
        assert_eq!(mine.len(), 4);
        assert!(close(arm["cost_usd"].as_f64().unwrap(), sum(&mine, "cost_usd")), "{arm}");
    }
    let sweep = json_at(&d.path().join("out/cost/summary.json"));
    let rows = sweep["rows"].as_array().unwrap();
    assert!(close(rows.iter().map(|r| r["cost_usd"].as_f64().unwrap()).sum::<f64>(), 0.0096), "{sweep}");
    let cfg = json_at(&run.join("config.json"));
    assert_eq!(cfg["arms"][0]["price"]["source"], "spec");
    assert!(std::fs::read_to_string(run.join("summary.txt")).unwrap().contains("Cost: $0.009600 spent"));

    // The same run again: every answer from the response cache, nothing spent.
    run_ok(&["run", "--no-validate", s]);
    assert_eq!(server.requests(), 8);
    let again = run_dirs(d.path()).pop().unwrap();
    let summary = json_at(&again.join("summary.json"));
    assert_eq!(summary["cost_usd"], 0.0);
    assert!(close(summary["cost_usd_cached"].as_f64().unwrap(), 0.0096), "{summary}");
    rt.block_on(server.shutdown());
}

#[test]
fn unknown_price_is_null_with_a_hint_and_a_budget_needs_a_price() {
    let rt = runtime();
    let server = rt.block_on(mock_server::start(MockScript::always(usage_reply("```sql\nSELECT 1\n```"))));
    let d = tempfile::tempdir().unwrap();
    let s = spec(d.path(), &server.url, &[("price = { input = 1.0, output = 2.0, cached_input = 0.5 }\n", "")]);
    let s = s.to_str().unwrap();
    let text = run_ok(&["run", "--no-validate", "--no-cache", s, "-s", "generation.workers=2"]);
    assert!(text.contains("no price known for model `some-model-without-a-builtin-price`") && text.contains("llm.price="), "{text}");
    assert!(text.contains("Cost: unknown for 2 generations"), "{text}");
    let run = run_dirs(d.path()).remove(0);
    assert!(records(&run).iter().all(|r| r["cost_usd"].is_null()));
    assert!(json_at(&run.join("summary.json"))["cost_usd"].is_null());
    let out = qt().args(["run", "--no-validate", s, "--budget-usd", "1"]).output().unwrap();
    let e = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(e.contains("budget_usd = 1 needs a price") && e.contains("price = {"), "{e}");
    // A built-in price: no hint, a cost.
    let text = run_ok(&["run", "--no-validate", "--no-cache", s, "-s", "generation.workers=1", "--model", "deepseek-chat"]);
    assert!(!text.contains("no price known") && text.contains("Cost: $0.0"), "{text}");
    rt.block_on(server.shutdown());
}

#[test]
fn budget_stops_within_one_wave_and_resume_with_a_larger_budget_continues() {
    let rt = runtime();
    // $0.001 an answer (1000 prompt tokens at $1 per million), 300 ms each.
    let reply = MockReply::Usage { content: "```sql\nSELECT 1\n```".into(), usage: json!({"prompt_tokens": 1000, "completion_tokens": 0}) };
    let server = rt.block_on(mock_server::start(MockScript::always(reply).with_latency(Duration::from_millis(300))));
    let d = tempfile::tempdir().unwrap();
    let s = spec(d.path(), &server.url, &[("workers = 4", "workers = 12")]);
    let s = s.to_str().unwrap();
    let text = run_ok(&["run", "--no-validate", "--no-cache", s, "--budget-usd", "0.0035"]);
    assert!(text.contains("budget spent: $0.00"), "{text}");
    let sent = server.requests();
    // 4 answers reach $0.0035; at most one more wave (max_concurrency = 2) was in flight.
    assert!((4..=6).contains(&sent), "{sent} requests for a budget of 4 answers");
    let run = run_dirs(d.path()).remove(0);
    let summary = json_at(&run.join("summary.json"));
    assert_eq!(summary["completed"].as_u64(), Some(sent as u64), "every request sent is recorded: {summary}");
    assert_eq!(summary["skipped_count"].as_u64(), Some(12 - sent as u64), "{summary}");
    assert_eq!(summary["skipped"]["budget"], summary["skipped_count"]);
    assert_eq!(summary["by_status"]["skipped"], summary["skipped_count"]);
    assert_eq!(summary["failed_count"], 0, "skipped generations are not failures");
    assert!(close(summary["skipped"]["est_saved_usd"].as_f64().unwrap(), (12 - sent) as f64 * 0.001), "{summary}");
    let spent = summary["cost_usd"].as_f64().unwrap();
    assert!(spent >= 0.0035 && spent <= 0.0035 + 2.0 * 0.001 + 1e-9, "{spent}");
    assert_eq!(gen_dirs(&run).len(), sent, "a skipped generation has no folder");
    assert!(std::fs::read_to_string(run.join("summary.txt")).unwrap().contains("Skipped: "));

    // The same budget again: nothing more is sent (the folder already spent it).
    let text = run_ok(&["run", "--no-validate", "--no-cache", s, "--budget-usd", "0.0035", "--resume"]);
    assert!(text.contains("already spent"), "{text}");
    assert_eq!(server.requests(), sent);
    // A larger budget continues the skipped generations (no --force: the budget is not
    // part of the run's identity).
    run_ok(&["run", "--no-validate", "--no-cache", s, "--budget-usd", "1", "--resume"]);
    assert_eq!(server.requests(), 12);
    let summary = json_at(&run.join("summary.json"));
    assert_eq!((summary["completed"].as_u64(), summary["skipped_count"].as_u64()), (Some(12), Some(0)), "{summary}");
    assert!(close(summary["cost_usd"].as_f64().unwrap(), 0.012), "{summary}");
    assert_eq!(run_dirs(d.path()).len(), 1);
    rt.block_on(server.shutdown());
}

#[test]
fn stop_when_stops_an_arm_after_its_third_valid_rewrite_and_resume_continues() {
    let rt = runtime();
    // Distinct equivalent rewrites; from the 4th request on the answer takes 6 s, so the
    // first three are validated while the 4th is in flight.
    let script = MockScript::from_fn(|r| {
        let reply = usage_reply(&format!("```sql\n{}\n```", qt::bench::varied_demo2(r.index)));
        if r.index >= 3 { MockReply::Slow(Duration::from_secs(6), Box::new(reply)) } else { reply }
    });
    let server = rt.block_on(mock_server::start(script));
    let d = tempfile::tempdir().unwrap();
    let s = spec(
        d.path(),
        &server.url,
        &[
            ("workers = 4", "workers = 8\nstop_when = { valid = 3, min_speedup = 0.01 }"),
            ("max_concurrency = 2", "max_concurrency = 1"),
        ],
    );
    let s = s.to_str().unwrap();
    let text = run_ok(&["run", "--no-cache", s]);
    assert!(text.contains("stop_when met for arm default (3 distinct passes >= 0.01x)"), "{text}");
    let sent = server.requests();
    let run = run_dirs(d.path()).remove(0);
    let summary = json_at(&run.join("summary.json"));
    assert!(summary["valid_count"].as_u64().unwrap() >= 3, "{summary}");
    assert!(sent <= 5, "{sent} requests: the arm should stop after its 3rd valid rewrite");
    assert_eq!(summary["completed"].as_u64(), Some(sent as u64));
    assert_eq!(summary["skipped"]["stop_when"].as_u64(), Some(8 - sent as u64), "{summary}");
    assert_eq!(summary["arms"][0]["skipped"]["stop_when"].as_u64(), Some(8 - sent as u64));

    // Resume with a higher target: the skipped generations run (stop_when is not part of
    // the identity either).
    run_ok(&["run", "--no-cache", s, "--resume", "-s", "generation.stop_when={valid = 100}"]);
    let summary = json_at(&run.join("summary.json"));
    assert_eq!((summary["completed"].as_u64(), summary["skipped_count"].as_u64()), (Some(8), Some(0)), "{summary}");
    rt.block_on(server.shutdown());
}
