//! What `qt run` tells the user is true: `failed` counts only `validation_failed` and
//! `error` (`--no-validate` gives inconclusive, not failures); more than 99 generations get
//! uniform `gen_001` folders that `--resume` reads; a re-run says its answers came from
//! the cache and spent no tokens; `--repeat N` asks for fresh samples while the cache
//! keeps the others; `--query`/`--arm` run part of a spec with the whole spec's numbering.

mod common;
use common::*;
use qt::llm::mock_server::{self, MockReply, MockScript, MockServer};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn echo_server(rt: &tokio::runtime::Runtime) -> MockServer {
    rt.block_on(mock_server::start(MockScript::always(MockReply::EchoSql)))
}

/// A spec answered by the mock (full SQL answers, no examples); `extra` is appended.
fn spec(dir: &Path, url: &str, workers: u32, files: &[&str], extra: &str) -> PathBuf {
    let files: Vec<String> = files.iter().map(|f| format!("\"@REPO@/queries/demo/{f}.sql\"")).collect();
    let text = format!(
        r#"name = "honest"
[output]
root = "{out}"
[database]
generate = {{ benchmark = "tpcds", scale = 0.01 }}
[queries]
files = [{files}]
[llm]
base_url = "{url}"
model = "mock"
max_concurrency = 32
timeout_s = 20
[generation]
workers = {workers}
template = "@REPO@/templates/full_sql.j2"
response_format = "sql"
retries_on_failure = 0
[examples]
strategy = "none"
[validation]
timing_rounds = 3
warmup = 0
{extra}"#,
        out = dir.join("out").display(),
        files = files.join(", ")
    );
    write_spec(dir, "honest.toml", &text)
}

fn run(spec: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = qt().env("QT_TEST_NO_KEY", "1").arg("run").arg(spec).args(extra).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

fn runs(dir: &Path) -> Vec<PathBuf> {
    sorted_entries(&dir.join("out/honest"), |p| p.is_dir())
}

#[test]
fn no_validate_is_inconclusive_and_wide_runs_get_uniform_folders() {
    let rt = runtime();
    let server = echo_server(&rt);
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path(), &server.url, 101, &["demo2"], "");
    let (code, stdout, stderr) = run(&spec, &["--no-validate"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let run_dir = runs(dir.path()).pop().unwrap();
    let names: Vec<String> = gen_dirs(&run_dir).iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names.len(), 101);
    assert_eq!((names[0].as_str(), names[100].as_str()), ("gen_001", "gen_101"), "one width for every folder");
    assert!(names.iter().all(|n| n.len() == "gen_001".len()), "{names:?}");
    let s = json(&run_dir.join("summary.json"));
    assert_eq!((s["valid_count"].as_u64(), s["failed_count"].as_u64(), s["inconclusive_count"].as_u64()), (Some(0), Some(0), Some(101)), "{s:#}");
    assert!(stdout.contains("failed: 0   inconclusive: 101"), "{stdout}");
    assert!(stdout.contains("Gen 001: inconclusive"), "{stdout}");
    let txt = std::fs::read_to_string(run_dir.join("summary.txt")).unwrap();
    assert!(txt.contains("Valid: 0   Failed: 0   Inconclusive: 101"), "{txt}");

    // --resume reads the 3-digit folders and writes the missing one with the same width.
    std::fs::remove_dir_all(run_dir.join("gen_050")).unwrap();
    let (code, stdout, stderr) = run(&spec, &["--no-validate", "--no-cache", "--resume"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("resuming: 100/101"), "{stdout}");
    assert_eq!(gen_dirs(&run_dir).len(), 101);
    assert!(run_dir.join("gen_050").is_dir());
    assert_eq!(std::fs::read_to_string(run_dir.join("results.jsonl")).unwrap().lines().count(), 101);
    assert_eq!(server.requests(), 102);
}

#[test]
fn reruns_say_they_came_from_the_cache_and_repeat_asks_for_fresh_samples() {
    let rt = runtime();
    let server = echo_server(&rt);
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path(), &server.url, 3, &["demo2"], "");
    // The response cache is shared by every test run: a model name of this run alone keeps
    // an earlier run's answers (a mock server that got the same port) out of "the first".
    let unique = dir.path().file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(&spec).unwrap().replace("model = \"mock\"", &format!("model = \"mock-{unique}\""));
    std::fs::write(&spec, text).unwrap();
    let mut summaries = Vec::new();
    for (args, requests_after) in [
        (vec![], 3),
        (vec![], 3),
        (vec!["--repeat", "1"], 6),
        (vec!["--repeat", "1"], 6),
        (vec![], 6),
    ] {
        let mut a = vec!["--no-validate"];
        a.extend(args.iter().copied());
        let (code, stdout, stderr) = run(&spec, &a);
        assert_eq!(code, 0, "{stdout}\n{stderr}");
        assert_eq!(server.requests(), requests_after, "after {args:?}");
        let run_dir = runs(dir.path()).pop().unwrap();
        summaries.push((json(&run_dir.join("summary.json")), json(&run_dir.join("config.json")), stdout));
    }
    let cached: Vec<u64> = summaries.iter().map(|(s, _, _)| s["cached_responses"].as_u64().unwrap()).collect();
    assert_eq!(cached, vec![0, 3, 0, 3, 3]);
    let (first, second) = (&summaries[0].0, &summaries[1].0);
    assert_eq!(first["llm_answers"], 3);
    assert!(first["tokens"]["spent"]["prompt"].as_u64().unwrap() > 0);
    assert_eq!(first["tokens"]["cached"]["prompt"], 0);
    assert_eq!(second["tokens"]["spent"]["prompt"], 0, "a cached answer spends nothing: {second:#}");
    assert_eq!(second["tokens"]["cached"]["prompt"], first["tokens"]["spent"]["prompt"]);
    assert_eq!(second["tokens"]["prompt"], first["tokens"]["prompt"], "totals keep the seed's meaning");
    assert!(summaries[1].2.contains("3 from the response cache"), "{}", summaries[1].2);
    assert!(summaries[0].2.contains("0 from the response cache"), "{}", summaries[0].2);
    assert_eq!(summaries[2].1["options"]["selection"]["repeat"], 1);
    assert_eq!(summaries[2].1["arms"][0]["samples_seed"], 1);
    assert!(summaries[0].1["options"]["selection"]["repeat"].is_null());
}

#[test]
fn query_and_arm_filters_keep_the_numbering_and_are_recorded() {
    let rt = runtime();
    let server = echo_server(&rt);
    let dir = tempfile::tempdir().unwrap();
    let arms = "[[arms]]\nname = \"a\"\n[[arms]]\nname = \"b\"\nset = { \"llm.temperature\" = 0.1 }\n";
    let spec = spec(dir.path(), &server.url, 2, &["demo1", "demo2"], arms);
    let (code, stdout, stderr) = run(&spec, &["--no-validate", "--query", "demo2", "--arm", "b"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(server.requests(), 2);
    let all = runs(dir.path());
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(all[0].file_name().unwrap().to_string_lossy().starts_with("qdemo2_"));
    let names: Vec<String> = gen_dirs(&all[0]).iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["gen_03", "gen_04"], "arm b's numbers in the whole spec");
    let cfg = json(&all[0].join("config.json"));
    assert_eq!(cfg["options"]["selection"]["query"], serde_json::json!(["demo2"]));
    assert_eq!(cfg["options"]["selection"]["arm"], serde_json::json!(["b"]));
    assert_eq!(cfg["total_generations"], 2);
    let s = json(&all[0].join("summary.json"));
    assert_eq!(s["total_workers"], 2);
    assert_eq!(s["arms"].as_array().unwrap().len(), 1);

    let (code, _, stderr) = run(&spec, &["--no-validate", "--arm", "c"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--arm c") && stderr.contains("its arms are: a, b"), "{stderr}");
    let (code, _, stderr) = run(&spec, &["--no-validate", "--query", "9"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("demo1, demo2"), "{stderr}");
}
