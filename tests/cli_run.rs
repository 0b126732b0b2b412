//! `qt run` end to end as a subprocess, against a scripted OpenAI-compatible server on
//! 127.0.0.1 and a generated scale-0.01 TPC-DS DB: every file and field of the output
//! tree, Ctrl+C (exit 130, true summary), kill -9 + --resume (no loss, no duplicates),
//! and the offline demo.

mod common;
use common::*;
use qt::llm::mock_server::{self, MockReply, MockScript, MockServer};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const SECRET: &str = "sk-qt-test-7f3a9c1e5b";

fn demo_answer(name: &str) -> String {
    std::fs::read_to_string(repo().join("prompts/demo_responses/qdemo1").join(name)).unwrap()
}

/// Request i gets: 2 good, 1 wrong, 1 unparseable, 1 hostile, repeating.
fn mixed() -> MockScript {
    let (good, wrong, prose, hostile) =
        (demo_answer("w01.txt"), demo_answer("w02.txt"), demo_answer("w03.txt"), demo_answer("w04.txt"));
    MockScript::from_fn(move |r| {
        MockReply::Content(match r.index % 5 {
            0 | 1 => good.clone(),
            2 => wrong.clone(),
            3 => prose.clone(),
            _ => hostile.clone(),
        })
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn spec(dir: &Path, url: &str, workers: u32, concurrency: u32) -> PathBuf {
    let text = format!(
        r#"name = "e2e"
description = "end-to-end test"
[output]
root = "{out}"
[database]
generate = {{ benchmark = "tpcds", scale = 0.01 }}
[queries]
files = ["@REPO@/queries/demo/demo1.sql"]
[llm]
base_url = "{url}"
model = "mock-model"
api_key_env = "QT_TEST_API_KEY"
max_concurrency = {concurrency}
timeout_s = 20
max_attempts = 2
[generation]
workers = {workers}
template = "@REPO@/templates/v5_dag.j2"
retries_on_failure = 0
[examples]
dir = "@REPO@/prompts/examples"
[validation]
timing_rounds = 3
warmup = 0
"#,
        out = dir.join("out").display()
    );
    write_spec(dir, "e2e.toml", &text)
}

/// Run folders of the e2e experiment under a test's temp dir.
fn run_dirs(dir: &Path) -> Vec<PathBuf> {
    sorted_entries(&dir.join("out/e2e"), |p| p.is_dir())
}

fn json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

fn assert_no_secret(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            assert_no_secret(&p);
        } else if let Ok(t) = std::fs::read_to_string(&p) {
            assert!(!t.contains(SECRET), "API key leaked into {}", p.display());
        }
    }
}

#[test]
fn run_records_every_file_and_field() {
    let rt = runtime();
    let server: MockServer = rt.block_on(mock_server::start(mixed()));
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path(), &server.url, 20, 8);
    let out = qt().env("QT_TEST_API_KEY", SECRET).args(["run", spec.to_str().unwrap(), "--no-cache"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(server.requests(), 20, "one request per generation");
    assert!(server.auth_headers().iter().all(|h| h.as_deref() == Some(&format!("Bearer {SECRET}"))));

    let runs = run_dirs(dir.path());
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = &runs[0];
    assert!(run.file_name().unwrap().to_string_lossy().starts_with("qdemo1_"));
    for f in ["config.json", "original.sql", "plan.json", "plan_full.txt", "plan_summary.txt", "base_prompt.txt", "summary.json", "summary.txt", "results.jsonl"] {
        assert!(run.join(f).is_file(), "missing {f}");
    }
    let cfg = json(&run.join("config.json"));
    for k in ["spec_path", "spec_sha256", "git", "qt_version", "duckdb_version", "database", "arms", "seed", "started_at"] {
        assert!(!cfg[k].is_null(), "config.json lacks {k}: {cfg:#}");
    }
    assert_eq!(cfg["spec_sha256"].as_str().unwrap().len(), 64);
    assert!(!cfg["database"]["fingerprint"].is_null());
    assert_eq!(cfg["distinct_prompts"], 20);

    let gens = gen_dirs(run);
    assert_eq!(gens.len(), 20);
    let mut by_reason = std::collections::BTreeMap::<String, usize>::new();
    for g in &gens {
        let v = json(&g.join("validation.json"));
        for k in ["worker_id", "status", "speedup", "error", "original_time", "optimized_time", "retried", "first_error", "arm", "examples", "reason", "rows", "timing", "tokens", "latency_s", "cached"] {
            assert!(v.get(k).is_some(), "{} lacks {k}: {v:#}", g.display());
        }
        assert!(g.join("prompt.txt").is_file() && g.join("response.txt").is_file());
        let status = v["status"].as_str().unwrap().to_string();
        let key = if status == "pass" { status.clone() } else { v["reason"].as_str().unwrap_or("?").to_string() };
        *by_reason.entry(key).or_default() += 1;
        let built = !matches!(v["reason"].as_str(), Some("parse_error" | "not_select"));
        assert_eq!(g.join("optimized.sql").exists(), built, "optimized.sql only when one was assembled: {}", g.display());
        if status == "pass" {
            assert!(v["speedup"].as_f64().unwrap() > 0.0);
            assert_eq!(v["timing"]["rounds"], 4, "3 rounds asked = 2 whole O,C,C,O blocks");
            assert_eq!(v["timing"]["ci95"].as_array().unwrap().len(), 2);
            assert!(v["rows"]["original"].as_u64().unwrap() > 0);
        }
    }
    assert_eq!(by_reason.get("pass"), Some(&8), "{by_reason:?}");
    assert_eq!(by_reason.get("parse_error"), Some(&4), "{by_reason:?}");
    assert_eq!(by_reason.get("not_select"), Some(&4), "{by_reason:?}");
    let wrong: usize = ["value_mismatch", "row_count_mismatch", "order_mismatch"].iter().filter_map(|r| by_reason.get(*r)).sum();
    assert_eq!(wrong, 4, "the wrong rewrite is caught every time: {by_reason:?}");

    let s = json(&run.join("summary.json"));
    for k in ["query_number", "total_workers", "completed", "valid_count", "failed_count", "valid_workers", "speedups", "best_speedup", "best_worker", "avg_speedup", "elapsed_seconds", "timestamp", "by_status", "by_reason", "arms", "tokens"] {
        assert!(s.get(k).is_some(), "summary.json lacks {k}");
    }
    assert_eq!(s["completed"], 20);
    assert_eq!(s["valid_count"], 8);
    assert_eq!(s["failed_count"], 12);
    assert_eq!(s["interrupted"], false);
    let lines = std::fs::read_to_string(run.join("results.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 20);
    assert_eq!(stdout.matches("Gen ").count(), 20, "{stdout}");
    assert!(stdout.contains("RESULTS"), "{stdout}");
    assert_no_secret(dir.path());
    assert_no_secret(&cache_dir());
    assert!(!stderr.contains(SECRET) && !stdout.contains(SECRET));
}

#[test]
fn a_rerun_is_answered_from_the_cache() {
    let rt = runtime();
    let server = rt.block_on(mock_server::start(mixed()));
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path(), &server.url, 5, 5);
    for _ in 0..2 {
        let out = qt().env("QT_TEST_API_KEY", SECRET).args(["run", spec.to_str().unwrap(), "--quiet"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let runs = run_dirs(dir.path());
    assert_eq!(runs.len(), 2);
    for (a, b) in gen_dirs(&runs[0]).iter().zip(gen_dirs(&runs[1]).iter()) {
        assert_eq!(
            std::fs::read_to_string(a.join("prompt.txt")).unwrap(),
            std::fs::read_to_string(b.join("prompt.txt")).unwrap(),
            "the plan analysis is cached, so prompts are byte-identical across runs"
        );
        assert_eq!(json(&b.join("validation.json"))["cached"], true, "{}", b.display());
    }
    assert_eq!(server.requests(), 5, "the second run sent no request");
}

#[test]
fn a_failed_candidate_is_re_asked_with_its_failure_in_the_prompt() {
    let (good, wrong) = (demo_answer("w01.txt"), demo_answer("w02.txt"));
    // The wrong answer ends with a marker sentence; once the prompt's history shows it,
    // the model "learns" and answers correctly.
    let script = MockScript::from_fn(move |r| {
        let prompt = r.body["messages"][0]["content"].as_str().unwrap_or_default();
        MockReply::Content(if prompt.contains("forgot the 1.2 factor") { good.clone() } else { wrong.clone() })
    });
    let rt = runtime();
    let server = rt.block_on(mock_server::start(script));
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(spec(dir.path(), &server.url, 2, 2)).unwrap().replace("retries_on_failure = 0", "retries_on_failure = 1");
    let spec = write_spec(dir.path(), "retry.toml", &text);
    let out = qt().env("QT_TEST_API_KEY", SECRET).args(["run", spec.to_str().unwrap(), "--no-cache"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(server.requests(), 4, "one retry per generation");
    for g in gen_dirs(&run_dirs(dir.path())[0]) {
        let v = json(&g.join("validation.json"));
        assert_eq!(v["status"], "pass", "{v:#}");
        assert_eq!(v["retried"], true);
        assert_eq!(v["first_error"]["reason"], "value_mismatch", "{v:#}");
        assert!(std::fs::read_to_string(g.join("response.1.txt")).unwrap().contains("forgot the 1.2 factor"));
        assert!(!std::fs::read_to_string(g.join("prompt.1.txt")).unwrap().contains("forgot the 1.2 factor"));
        let retry_prompt = std::fs::read_to_string(g.join("prompt.txt")).unwrap();
        assert!(retry_prompt.contains("value_mismatch"), "the retry prompt says why the first attempt failed");
    }
}

fn wait_for_gens(dir: &Path, n: usize, limit: Duration) {
    let t = Instant::now();
    while t.elapsed() < limit {
        if let Some(run) = run_dirs(dir).first() {
            if gen_dirs(run).len() >= n {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("fewer than {n} generations after {limit:?}");
}

#[test]
fn ctrl_c_exits_130_with_a_true_summary() {
    let rt = runtime();
    let server = rt.block_on(mock_server::start(mixed().with_latency(Duration::from_millis(1500))));
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path(), &server.url, 20, 2);
    let mut child = qt_std().env("QT_TEST_API_KEY", SECRET).args(["run", spec.to_str().unwrap(), "--no-cache"])
        .stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    wait_for_gens(dir.path(), 2, Duration::from_secs(120));
    let sent = Instant::now();
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert!(sent.elapsed() < Duration::from_secs(10), "took {:?} to stop", sent.elapsed());
    assert_eq!(status.code(), Some(130));
    let run = &run_dirs(dir.path())[0];
    let gens = gen_dirs(run);
    assert!(gens.len() < 20, "interrupted before the end");
    for g in &gens {
        assert!(g.join("validation.json").is_file(), "complete gen folders only");
    }
    let s = json(&run.join("summary.json"));
    assert_eq!(s["interrupted"], true);
    assert_eq!(s["completed"].as_u64().unwrap() as usize, gens.len());
    assert_eq!(std::fs::read_to_string(run.join("results.jsonl")).unwrap().lines().count(), gens.len());
}

#[test]
fn kill_9_then_resume_loses_nothing_and_duplicates_nothing() {
    let rt = runtime();
    let slow = rt.block_on(mock_server::start(mixed().with_latency(Duration::from_millis(1000))));
    let dir = tempfile::tempdir().unwrap();
    let spec_slow = spec(dir.path(), &slow.url, 20, 2);
    let mut child = qt_std().env("QT_TEST_API_KEY", SECRET).args(["run", spec_slow.to_str().unwrap()])
        .stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
    wait_for_gens(dir.path(), 3, Duration::from_secs(120));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let run = run_dirs(dir.path())[0].clone();
    let before: Vec<PathBuf> = gen_dirs(&run);
    let before_json: Vec<Value> = before.iter().map(|g| json(&g.join("validation.json"))).collect();

    let fast = rt.block_on(mock_server::start(mixed()));
    let spec_fast = spec(dir.path(), &fast.url, 20, 8);
    // The spec now points at another server (its sha256 changed): --force accepts that.
    let out = qt().env("QT_TEST_API_KEY", SECRET).args(["run", spec_fast.to_str().unwrap(), "--resume", "--force"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(run_dirs(dir.path()), vec![run.clone()], "resume reuses the run folder");
    let after = gen_dirs(&run);
    assert_eq!(after.len(), 20);
    for (g, v) in before.iter().zip(&before_json) {
        assert_eq!(&json(&g.join("validation.json")), v, "completed generations are kept as they were");
    }
    assert!(fast.requests() <= 20 - before.len(), "resume asked only for the missing generations");
    let lines = std::fs::read_to_string(run.join("results.jsonl")).unwrap();
    let gens: std::collections::BTreeSet<u64> = lines.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["gen"].as_u64().unwrap()).collect();
    assert_eq!(lines.lines().count(), 20);
    assert_eq!(gens.len(), 20, "no duplicates");
    assert!(std::fs::read_dir(&run).unwrap().flatten().all(|e| !e.file_name().to_string_lossy().starts_with(".tmp-")));
    assert_eq!(json(&run.join("summary.json"))["completed"], 20);
}

#[test]
fn offline_demo_shows_every_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo().join("experiments/demo.toml")).unwrap();
    let text = text
        .replace("scale = 1.0", "scale = 0.01")
        .replace("\"../research/experiments\"", &format!("\"{}\"", dir.path().join("out").display()))
        .replace("\"../", "\"@REPO@/");
    let spec = write_spec(dir.path(), "demo.toml", &text);
    let out = qt().args(["run", spec.to_str().unwrap(), "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let sweep: Value = serde_json::from_slice(&out.stdout).expect("--json prints the summary on stdout");
    assert_eq!(sweep["queries"], 3);
    let mut statuses = std::collections::BTreeSet::new();
    for run in sorted_entries(&dir.path().join("out/demo"), |p| p.is_dir()) {
        for g in gen_dirs(&run) {
            let v = json(&g.join("validation.json"));
            statuses.insert(v["status"].as_str().unwrap().to_string());
            if v["status"] != "pass" {
                statuses.insert(v["reason"].as_str().unwrap_or("?").to_string());
            }
        }
    }
    for s in ["pass", "validation_failed", "error", "parse_error", "not_select"] {
        assert!(statuses.contains(s), "demo should show {s}: {statuses:?}");
    }

    // Running part of the experiment again replaces only that part of the experiment's
    // view: the other queries stay, each row says which run it comes from.
    let exp = dir.path().join("out/demo");
    let first_id = json(&exp.join("summary.json"))["run_id"].as_str().unwrap().to_string();
    let out = qt().args(["run", spec.to_str().unwrap(), "--query", "demo2"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let view = json(&exp.join("summary.json"));
    let rows = view["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "every query is still in the experiment's view: {view}");
    let second_id = view["run_id"].as_str().unwrap();
    assert_ne!(second_id, first_id);
    for r in rows {
        let expected = if r["query_id"] == "demo2" { second_id } else { first_id.as_str() };
        assert_eq!(r["run_id"], expected, "{r}");
        assert!(r["date"].is_string() && std::path::Path::new(r["run_dir"].as_str().unwrap()).is_dir(), "{r}");
    }
    let own = json(&exp.join("runs").join(second_id).join("summary.json"));
    assert_eq!(own["rows"].as_array().unwrap().len(), 1, "the run's own summary holds its part only");
    assert!(stdout.contains("*: from an earlier run"), "the SWEEP marks cells from earlier runs:\n{stdout}");
    let html = std::fs::read_to_string(exp.join("report.html")).unwrap();
    assert_eq!(html.matches("class=\"h").count() - html.matches("class=\"hx").count(), 3, "the matrix shows all three queries");
}
