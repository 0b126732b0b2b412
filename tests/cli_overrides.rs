//! `qt run|plan SPEC --set KEY=VALUE` and the shortcuts `--ids`, `--model`, `--base-url`,
//! `--budget-usd`, end to end against the local mock LLM server: an overridden run sends
//! the same prompts and records the same config as an edited copy of the spec; bad
//! overrides are exit 2 naming the flag; `--resume` refuses another override set unless
//! `--force` (but accepts another budget).

mod common;
use common::*;
use qt::llm::mock_server::{self, MockScript};
use serde_json::Value;
use std::path::{Path, PathBuf};

const BASE: &str = r#"name = "ov"
# the base experiment: query demo1, model m1, a dead endpoint
[output]
root = "out"
[database]
generate = { benchmark = "tpcds", scale = 0.01 }
[queries]
dir = "@REPO@/queries/demo"
ids = ["demo1"]
[llm]
base_url = "http://127.0.0.1:9/v1"
model = "m1"
max_concurrency = 2
timeout_s = 20
[generation]
workers = 2
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

fn qt_in(dir: &Path, args: &[&str]) -> std::process::Output {
    qt().current_dir(dir).args(args).output().unwrap()
}

fn ok(out: &std::process::Output) {
    assert_eq!(out.status.code(), Some(0), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

fn the_run(dir: &Path) -> PathBuf {
    let runs = sorted_entries(&dir.join("out/ov"), |p| p.join("config.json").is_file());
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs[0].clone()
}

fn json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// config.json without what names the file, the moment or the command line.
fn comparable_config(run: &Path) -> Value {
    let mut c = json(&run.join("config.json"));
    for k in ["spec_path", "spec_sha256", "git", "started_at", "run_id", "overrides"] {
        c.as_object_mut().unwrap().remove(k);
    }
    c
}

#[test]
fn overrides_match_an_edited_spec_byte_for_byte() {
    let rt = runtime();
    let server = rt.block_on(mock_server::start(MockScript::default()));
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_spec(a.path(), "spec.toml", BASE);
    let edited = patched(
        BASE.to_string(),
        &[
            ("# the base experiment", "# edited by hand"),
            ("ids = [\"demo1\"]", "ids = [\"demo2\"]"),
            ("model = \"m1\"", "model = \"m2\""),
            ("http://127.0.0.1:9/v1", &format!("{}/v1", server.url)),
            ("workers = 2", "workers = 3"),
        ],
    );
    write_spec(b.path(), "spec.toml", &edited);
    let url = format!("{}/v1", server.url);
    let run_args = ["run", "--quiet", "--no-cache", "--no-validate", "spec.toml"];
    let mut over = run_args.to_vec();
    over.extend(["--ids", "demo2", "--model", "m2", "--base-url", &url, "-s", "generation.workers=3"]);
    ok(&qt_in(a.path(), &over));
    ok(&qt_in(b.path(), &run_args));
    let (ra, rb) = (the_run(a.path()), the_run(b.path()));
    assert!(ra.file_name().unwrap().to_string_lossy().starts_with("qdemo2_"), "{ra:?}");
    let (ga, gb) = (gen_dirs(&ra), gen_dirs(&rb));
    assert_eq!(ga.len(), 3);
    assert_eq!(gb.len(), 3);
    for (x, y) in ga.iter().zip(&gb) {
        let (px, py) = (std::fs::read(x.join("prompt.txt")).unwrap(), std::fs::read(y.join("prompt.txt")).unwrap());
        assert!(px == py, "{} differs from {}", x.display(), y.display());
    }
    assert_eq!(std::fs::read(ra.join("base_prompt.txt")).unwrap(), std::fs::read(rb.join("base_prompt.txt")).unwrap());
    let (ca, cb) = (comparable_config(&ra), comparable_config(&rb));
    assert_eq!(ca, cb, "config.json differs beyond the spec file and the moment");
    assert!(!ca["effective_spec"].as_str().unwrap().contains("edited by hand"));
    let cfg = json(&ra.join("config.json"));
    let flags: Vec<&str> = cfg["overrides"].as_array().unwrap().iter().map(|o| o["flag"].as_str().unwrap()).collect();
    assert_eq!(flags, ["--ids", "--model", "--base-url", "--set #1"]);
    assert_eq!(cfg["overrides"][0]["value"], serde_json::json!(["demo2"]));
    assert_eq!(cfg["overrides"][3]["key"], "generation.workers");
    assert_eq!(cfg["overrides"][3]["value"], 3);
    // The report header names the overrides.
    let html = std::fs::read_to_string(ra.join("report.html")).unwrap();
    assert!(html.contains("--set generation.workers=3") && html.contains("--model m2"), "report header lacks the overrides");
    rt.block_on(server.shutdown());
}

fn bad(dir: &Path, args: &[&str]) -> String {
    let out = qt_in(dir, args);
    assert_eq!(out.status.code(), Some(2), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bad_overrides_are_exit_2_naming_the_flag() {
    let d = tempfile::tempdir().unwrap();
    write_spec(d.path(), "spec.toml", BASE);
    let e = bad(d.path(), &["run", "spec.toml", "-s", "llm.model=x", "--set", "generation.wokers=5"]);
    assert!(e.contains("--set #2: unknown key `wokers` in [generation]") && e.contains("did you mean `workers`?"), "{e}");
    let e = bad(d.path(), &["plan", "spec.toml", "--set", "llm.price={input = -0.27, output = 1.1}"]);
    assert!(e.contains("--set #1: prices must be dollars per million tokens"), "{e}");
    let e = bad(d.path(), &["run", "spec.toml", "--budget-usd", "-1"]);
    assert!(e.contains("--budget-usd: budget_usd must be a number of dollars, 0 or more"), "{e}");
    let e = bad(d.path(), &["run", "spec.toml", "--set", "generation.workers"]);
    assert!(e.contains("--set #1 generation.workers: expected KEY=VALUE"), "{e}");
    let e = bad(d.path(), &["run", "spec.toml", "--set", "queries.ids=[1, 2"]);
    assert!(e.contains("the value is not TOML"), "{e}");
    let e = bad(d.path(), &["run", "spec.toml", "--set", "generation.stop_when={valid = 3, min_speed = 1.2}"]);
    assert!(e.contains("unknown key `min_speed`") && e.contains("did you mean `min_speedup`?"), "{e}");
    let e = bad(d.path(), &["run", "spec.toml", "--ids", "nope"]);
    assert!(e.contains("--ids: ") && e.contains("nope"), "{e}");
    let e = bad(d.path(), &["run", "spec.toml", "--query", "demo2"]);
    assert!(e.contains("use --ids demo2"), "{e}");
    // A file error still names the file and line.
    write_spec(d.path(), "broken.toml", &BASE.replace("workers = 2", "workers = -2"));
    let e = bad(d.path(), &["plan", "broken.toml", "--model", "m2"]);
    assert!(e.contains("broken.toml:"), "{e}");
}

#[test]
fn plan_takes_the_same_overrides() {
    let d = tempfile::tempdir().unwrap();
    write_spec(d.path(), "spec.toml", BASE);
    let out = qt_in(d.path(), &["plan", "spec.toml", "--ids", "demo2,demo3", "-s", "generation.workers=4", "--out", "prompts"]);
    ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("queries: 2 [demo2, demo3]") && text.contains("(4 workers)"), "{text}");
}

#[test]
fn resume_refuses_another_override_set_unless_forced() {
    let rt = runtime();
    let server = rt.block_on(mock_server::start(MockScript::default()));
    let d = tempfile::tempdir().unwrap();
    write_spec(d.path(), "spec.toml", BASE);
    let url = format!("{}/v1", server.url);
    let base = ["run", "--quiet", "--no-cache", "--no-validate", "spec.toml", "--base-url", &url];
    let with = |extra: &[&'static str]| -> Vec<String> {
        base.iter().map(|s| s.to_string()).chain(extra.iter().map(|s| s.to_string())).collect()
    };
    let run = |args: Vec<String>| qt().current_dir(d.path()).args(&args).output().unwrap();
    ok(&run(with(&["--model", "m2"])));
    let out = run(with(&["--resume"]));
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("llm.model = \"m2\" there, \"m1\" now"), "{e}");
    let out = run(with(&["--resume", "--model", "m3", "-s", "generation.workers=3"]));
    let e = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(e.contains("generation.workers = 2 there, 3 now (--set #1)") && e.contains("(--model)"), "{e}");
    // The same overrides with another budget, price and concurrency: the same run (a
    // budget needs a price for the model).
    ok(&run(with(&["--resume", "--model", "m2", "--budget-usd", "5", "-s", "llm.max_concurrency=1", "-s", "llm.price={input = 1.0, output = 2.0}"])));
    // --force takes the folder over with the new settings.
    ok(&run(with(&["--resume", "--force", "--model", "m2", "-s", "generation.workers=3"])));
    let r = the_run(d.path());
    assert_eq!(gen_dirs(&r).len(), 3);
    let cfg = json(&r.join("config.json"));
    assert!(cfg["forced_from_identity_sha256"].is_string(), "{cfg}");
    rt.block_on(server.shutdown());
}
