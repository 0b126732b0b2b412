//! `qt run --shard K/N`, `qt plan --shard`, `qt merge` end to end: a shard killed with
//! SIGKILL and resumed, merge refusing mixed specs and overlapping jobs (exit 2, naming
//! the shard), reporting a missing shard (exit 1), and bad `--shard` values (exit 2).

mod common;
use common::*;
use qt::llm::mock_server::{self, MockReply, MockScript};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const SHARD_VARS: [&str; 6] = [
    "JOB_COMPLETION_INDEX",
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_COUNT",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_MAX",
    "SLURM_ARRAY_TASK_STEP",
];

/// A replayed two-query, two-arm experiment (8 generations).
fn replay_spec(dir: &Path, description: &str) -> PathBuf {
    let files = ["@REPO@/queries/demo/demo1.sql", "@REPO@/queries/demo/demo3.sql"];
    let text = offline_spec(dir, "sharded", &files)
        .replacen('\n', &format!("\ndescription = \"{description}\"\n"), 1)
        + "[matrix]\n\"llm.temperature\" = [0.0, 0.5]\n";
    write_spec(dir, "sharded.toml", &text)
}

fn qt_clean() -> assert_cmd::Command {
    let mut c = qt();
    for v in SHARD_VARS {
        c.env_remove(v);
    }
    c
}

fn run_ok(args: &[&str]) -> String {
    let out = qt_clean().args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "qt {args:?}:\n{text}");
    text
}

fn json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

fn run_dirs(dir: &Path) -> Vec<PathBuf> {
    sorted_entries(dir, |p| p.is_dir() && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('q')))
}

#[test]
fn bad_shard_values_exit_2_naming_the_value_or_variable() {
    let dir = tempfile::tempdir().unwrap();
    let spec = replay_spec(dir.path(), "x");
    let s = spec.to_str().unwrap();
    let cases: Vec<(Vec<(&str, &str)>, &str, &str)> = vec![
        (vec![], "0/3", "0/3"),
        (vec![], "4/3", "4/3"),
        (vec![], "two/3", "two/3"),
        (vec![], "auto/3", "JOB_COMPLETION_INDEX"),
        (vec![("JOB_COMPLETION_INDEX", "3")], "auto/3", "JOB_COMPLETION_INDEX=3"),
        (vec![("SLURM_ARRAY_TASK_ID", "3"), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_STEP", "2")], "auto/3", "SLURM_ARRAY_TASK_STEP=2"),
        (vec![("SLURM_ARRAY_TASK_ID", "0"), ("SLURM_ARRAY_TASK_MIN", "0"), ("SLURM_ARRAY_TASK_COUNT", "4")], "auto/3", "SLURM_ARRAY_TASK_COUNT=4"),
    ];
    for (env, flag, needle) in cases {
        let mut c = qt_clean();
        for (k, v) in &env {
            c.env(k, v);
        }
        let out = c.args(["run", s, "--shard", flag]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--shard {flag} {env:?}: {stderr}");
        assert!(stderr.contains(needle), "--shard {flag} {env:?}: stderr lacks {needle:?}:\n{stderr}");
    }
    assert!(!dir.path().join("out").exists(), "nothing written on bad input");
}

#[test]
fn plan_lists_what_a_shard_will_do() {
    let dir = tempfile::tempdir().unwrap();
    let spec = replay_spec(dir.path(), "x");
    let mut all = BTreeSet::new();
    for k in 1..=3 {
        let text = run_ok(&["plan", spec.to_str().unwrap(), "--shard", &format!("{k}/3"), "--out", dir.path().join(format!("p{k}")).to_str().unwrap()]);
        assert!(text.contains(&format!("shard {k}/3")), "{text}");
        // Each distinct prompt is written once; index.txt lists every generation planned.
        for p in std::fs::read_dir(dir.path().join(format!("p{k}"))).unwrap().flatten() {
            let Ok(index) = std::fs::read_to_string(p.path().join("index.txt")) else { continue };
            for line in index.lines() {
                let name = line.split('\t').next().unwrap_or_default();
                assert!(all.insert(format!("{}/{name}", p.file_name().to_string_lossy())), "planned twice: {name}");
            }
        }
    }
    assert_eq!(all.len(), 8, "the three shards plan the 8 generations once: {all:?}");
}

fn shard_dir(dir: &Path, k: u32, n: u32) -> PathBuf {
    dir.join(format!("out/sharded/shards/{k}-of-{n}"))
}

#[test]
fn merge_refuses_mixed_specs_and_overlaps_and_reports_a_missing_shard() {
    let dir = tempfile::tempdir().unwrap();
    let spec = replay_spec(dir.path(), "first");
    let s = spec.to_str().unwrap().to_string();
    let sweep = dir.path().join("out/sharded");
    run_ok(&["run", &s, "--shard", "1/2", "--no-validate", "--quiet"]);

    // Shard 2 missing: a partial merge is written, exit 1, the shard is named.
    let out = qt_clean().args(["merge", sweep.to_str().unwrap()]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("missing: shard 2-of-2") && stderr.contains("--shard 2/2"), "{stderr}");
    assert_eq!(json(&sweep.join("merged/merge.json"))["missing_shards"], serde_json::json!([2]));

    // Shard 2 run from an edited spec: refused, naming shard 2.
    let edited = replay_spec(dir.path(), "second");
    run_ok(&["run", edited.to_str().unwrap(), "--shard", "2/2", "--no-validate", "--quiet"]);
    let out = qt_clean().args(["merge", sweep.to_str().unwrap()]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("shard 2-of-2") && stderr.contains("spec"), "{stderr}");

    // Shard 2 re-run with the first spec (a fresh run folder): merge completes.
    let spec = replay_spec(dir.path(), "first");
    run_ok(&["run", spec.to_str().unwrap(), "--shard", "2/2", "--no-validate", "--quiet"]);
    run_ok(&["merge", sweep.to_str().unwrap()]);
    let merged = run_dirs(&sweep.join("merged"));
    assert_eq!(merged.len(), 2);
    assert!(merged.iter().all(|r| gen_dirs(r).len() == 4));

    // A generation copied into the shard that does not own it: overlapping jobs, exit 2.
    // Two queries, two shards: each shard holds one whole query.
    let one = run_dirs(&shard_dir(dir.path(), 1, 2));
    assert_eq!(one.len(), 1);
    copy_tree(&one[0], &shard_dir(dir.path(), 2, 2).join(one[0].file_name().unwrap()));
    let out = qt_clean().args(["merge", shard_dir(dir.path(), 1, 2).to_str().unwrap(), shard_dir(dir.path(), 2, 2).to_str().unwrap()]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("overlapping jobs") && stderr.contains("shard 2-of-2"), "{stderr}");
}

#[test]
fn merge_refuses_shards_run_with_other_options_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let spec = replay_spec(dir.path(), "first");
    let s = spec.to_str().unwrap().to_string();
    let sweep = dir.path().join("out/sharded");
    run_ok(&["run", &s, "--shard", "1/2", "--no-validate", "--quiet"]);
    run_ok(&["run", &s, "--shard", "2/2", "--no-validate", "--quiet", "--repeat", "1"]);
    let out = qt_clean().args(["merge", sweep.to_str().unwrap()]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("shard 2-of-2") && stderr.contains("samples seed") && stderr.contains("--allow-mixed"), "{stderr}");
    assert!(!sweep.join("merged").exists(), "nothing written when refused");

    let out = qt_clean().args(["merge", sweep.to_str().unwrap(), "--allow-mixed"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    for run in run_dirs(&sweep.join("merged")) {
        let cfg = json(&run.join("config.json"));
        assert!(cfg["mixed_options"].is_array(), "{cfg}");
        for line in std::fs::read_to_string(run.join("results.jsonl")).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            let seed = &v["shard_options"]["samples seed per arm (--repeat N / generation.samples_seed)"];
            let expected = if v["shard"] == 2 { serde_json::json!([1, 1]) } else { serde_json::json!([0, 0]) };
            assert_eq!(seed, &expected, "each generation records its own shard's seed: {v}");
        }
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.path().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        } else {
            copy_tree(&e.path(), &to.join(e.file_name()));
        }
    }
}

fn mock_spec(dir: &Path, url: &str, concurrency: u32) -> PathBuf {
    let text = format!(
        r#"name = "killed"
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
[generation]
workers = 6
template = "@REPO@/templates/v5_dag.j2"
retries_on_failure = 0
[examples]
dir = "@REPO@/prompts/examples"
[validation]
timing_rounds = 1
warmup = 0
"#,
        out = dir.join("out").display()
    );
    write_spec(dir, "killed.toml", &text)
}

#[test]
fn a_shard_killed_with_sigkill_resumes_its_own_jobs_and_merges() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let answer = std::fs::read_to_string(repo().join("prompts/demo_responses/qdemo1/w01.txt")).unwrap();
    // One server (so the resumed spec is byte-identical): slow until the kill, then fast.
    let slow = Arc::new(AtomicBool::new(true));
    let (flag, reply) = (slow.clone(), MockReply::Content(answer));
    let server = rt.block_on(mock_server::start(MockScript::from_fn(move |_| {
        if flag.load(Ordering::SeqCst) { MockReply::Slow(Duration::from_millis(1000), Box::new(reply.clone())) } else { reply.clone() }
    })));
    let dir = tempfile::tempdir().unwrap();
    let spec = mock_spec(dir.path(), &server.url, 1);
    let mut child = qt_std()
        .env("QT_TEST_API_KEY", "k")
        .args(["run", spec.to_str().unwrap(), "--shard", "1/2", "--no-cache"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let shard1 = dir.path().join("out/killed/shards/1-of-2");
    let t = Instant::now();
    while run_dirs(&shard1).first().is_none_or(|r| gen_dirs(r).is_empty()) {
        assert!(t.elapsed() < Duration::from_secs(120), "no generation recorded");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let run = run_dirs(&shard1)[0].clone();
    let before = gen_dirs(&run).len();
    assert!(before < 3, "killed before the shard finished");

    slow.store(false, Ordering::SeqCst);
    let asked = server.requests();
    let s = spec.to_str().unwrap();
    let run_shard = |k: &str, resume: bool| {
        let mut c = qt_clean();
        c.env("QT_TEST_API_KEY", "k").args(["run", s, "--shard", k, "--no-cache", "--quiet"]);
        if resume {
            c.arg("--resume");
        }
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    };
    run_shard("1/2", true);
    assert_eq!(run_dirs(&shard1), vec![run.clone()], "resume reuses the shard's run folder");
    let names: Vec<String> = gen_dirs(&run).iter().map(|g| g.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names.len(), 3, "shard 1 of 2 holds gens 1-3 only: {names:?}");
    assert_eq!(server.requests() - asked, 3 - before, "resume asked only for the shard's missing generations");
    assert_eq!(std::fs::read_to_string(run.join("results.jsonl")).unwrap().lines().count(), 3);
    assert!(std::fs::read_dir(&run).unwrap().flatten().all(|e| !e.file_name().to_string_lossy().starts_with(".tmp-")));
    let shard_json = json(&shard1.join("shard.json"));
    assert_eq!((shard_json["shard"].as_u64(), shard_json["total"].as_u64()), (Some(1), Some(2)));
    assert_eq!(shard_json["resumed_at"].as_array().map(Vec::len), Some(1));

    run_shard("2/2", false);
    run_ok(&["merge", dir.path().join("out/killed").to_str().unwrap(), "--quiet"]);
    let merged = run_dirs(&dir.path().join("out/killed/merged"));
    assert_eq!(merged.len(), 1);
    assert_eq!(gen_dirs(&merged[0]).len(), 6);
    let lines = std::fs::read_to_string(merged[0].join("results.jsonl")).unwrap();
    let gens: BTreeSet<u64> = lines.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["gen"].as_u64().unwrap()).collect();
    assert_eq!((lines.lines().count(), gens.len()), (6, 6), "every generation exactly once");
    let summary = json(&merged[0].join("summary.json"));
    assert_eq!((summary["completed"].as_u64(), summary["total_workers"].as_u64()), (Some(6), Some(6)));
    assert_eq!(summary["interrupted"], false);
}
