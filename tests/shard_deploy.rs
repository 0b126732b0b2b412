//! The deploy examples, run here as N local processes with the scheduler's variables set:
//! the Slurm array script (SLURM_ARRAY_TASK_*) and the Kubernetes Indexed Job's command
//! (JOB_COMPLETION_INDEX), each followed by its merge step. Both merged trees must equal
//! one unsharded run of the same replayed experiment (same generations, statuses and
//! summary counts). Also: concurrent processes on an empty cache build the sample DB once.

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const N: usize = 3;

/// Replayed: three queries x two arms x two workers = 12 generations.
fn spec(dir: &Path) -> PathBuf {
    let text = offline_spec(dir, "deployed", &["@REPO@/queries/demo/*.sql"])
        + "[matrix]\n\"llm.temperature\" = [0.0, 0.5]\n";
    write_spec(dir, "deployed.toml", &text)
}

fn clean(mut c: Command) -> Command {
    for v in ["JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX", "SLURM_ARRAY_TASK_STEP"] {
        c.env_remove(v);
    }
    c.env("QT_CACHE_DIR", cache_dir()).env("NO_COLOR", "1");
    c
}

fn qt_bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("qt")
}

/// Start every command at once, then wait for all; each must exit 0.
fn run_all(cmds: Vec<Command>) {
    let children: Vec<_> = cmds
        .into_iter()
        .map(|mut c| c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap())
        .collect();
    for ch in children {
        let out = ch.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "stdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

/// Per query id: gen number -> (arm, status, reason), and the summary's counts.
fn facts(tree: &Path) -> BTreeMap<String, (BTreeMap<u64, (Value, Value, Value)>, Value)> {
    let mut out = BTreeMap::new();
    for run in sorted_entries(tree, |p| p.is_dir() && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('q'))) {
        let cfg = json(&run.join("config.json"));
        let mut gens = BTreeMap::new();
        for line in std::fs::read_to_string(run.join("results.jsonl")).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            let prev = gens.insert(v["gen"].as_u64().unwrap(), (v["arm_name"].clone(), v["status"].clone(), v["reason"].clone()));
            assert!(prev.is_none(), "a generation twice in {}", run.display());
        }
        assert_eq!(gens.len(), gen_dirs(&run).len(), "results.jsonl matches the gen folders");
        let s = json(&run.join("summary.json"));
        let counts = serde_json::json!([s["total_workers"], s["completed"], s["valid_count"], s["by_status"], s["by_reason"],
            s["arms"].as_array().unwrap().iter().map(|a| serde_json::json!([a["name"], a["total"], a["completed"], a["valid_count"]])).collect::<Vec<_>>()]);
        out.insert(cfg["query_id"].as_str().unwrap().to_string(), (gens, counts));
    }
    out
}

fn sweep_rows(tree: &Path) -> Vec<Value> {
    let s = json(&tree.join("summary.json"));
    s["rows"].as_array().unwrap().iter().map(|r| serde_json::json!([r["query_id"], r["arm"], r["completed"], r["total"], r["valid_count"]])).collect()
}

/// `command: [...]` of a manifest (a YAML flow sequence of double-quoted strings is JSON).
fn k8s_command(manifest: &str) -> Vec<String> {
    let line = manifest.lines().find(|l| l.trim_start().starts_with("command:")).expect("a command line");
    serde_json::from_str(line.trim_start().trim_start_matches("command:").trim()).expect("command is a JSON-like list")
}

fn k8s_number(manifest: &str, key: &str) -> usize {
    let line = manifest.lines().find(|l| l.trim_start().starts_with(&format!("{key}:"))).unwrap();
    line.split(':').nth(1).unwrap().trim().parse().unwrap()
}

#[test]
fn slurm_array_and_k8s_indexed_job_shards_merge_to_the_unsharded_run() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path());
    let s = spec.to_str().unwrap();
    let sweep = dir.path().join("out/deployed");

    // The reference: one unsharded run.
    let mut c = clean(Command::new(qt_bin()));
    c.args(["run", s, "--quiet"]);
    run_all(vec![c]);
    let reference = facts(&sweep);
    assert_eq!(reference.len(), 3);
    assert_eq!(reference.values().map(|(g, _)| g.len()).sum::<usize>(), 12);

    // Slurm: the array script, one process per task id (1-based array, --array=1-3).
    let cmds = (1..=N)
        .map(|id| {
            let mut c = clean(Command::new("bash"));
            c.arg(repo().join("deploy/slurm-array.sh")).arg(s);
            c.env("QT_BIN", qt_bin()).env("QT_SHARDS", N.to_string());
            c.env("SLURM_ARRAY_TASK_ID", id.to_string()).env("SLURM_ARRAY_TASK_MIN", "1");
            c.env("SLURM_ARRAY_TASK_MAX", N.to_string()).env("SLURM_ARRAY_TASK_COUNT", N.to_string());
            c
        })
        .collect();
    run_all(cmds);
    let mut m = clean(Command::new("bash"));
    m.arg(repo().join("deploy/slurm-merge.sh")).arg(&sweep).env("QT_BIN", qt_bin());
    run_all(vec![m]);
    assert_eq!(facts(&sweep.join("merged")), reference, "Slurm shards merged = the unsharded run");
    assert_eq!(sweep_rows(&sweep.join("merged")), sweep_rows(&sweep));
    for k in 1..=N {
        let sj = json(&sweep.join(format!("shards/{k}-of-{N}/shard.json")));
        assert_eq!(sj["index_source"].as_str().unwrap().split(' ').next(), Some(format!("SLURM_ARRAY_TASK_ID={k}").as_str()));
    }

    // Kubernetes: the Indexed Job's command, one process per 0-based completion index,
    // into a second output root; then the merge Job's command.
    let manifest = std::fs::read_to_string(repo().join("deploy/k8s-indexed-job.yaml")).unwrap();
    let (completions, parallelism) = (k8s_number(&manifest, "completions"), k8s_number(&manifest, "parallelism"));
    let cmd = k8s_command(&manifest);
    assert_eq!(cmd[0], "qt");
    assert!(cmd.windows(2).any(|w| w[0] == "--shard" && w[1] == format!("auto/{completions}")), "{cmd:?}");
    assert_eq!(completions, parallelism);
    let k8s_dir = dir.path().join("k8s");
    std::fs::create_dir_all(&k8s_dir).unwrap();
    let k8s_spec = self::spec(&k8s_dir);
    let cmds = (0..completions)
        .map(|i| {
            let mut c = clean(Command::new(qt_bin()));
            c.args(cmd[1..].iter().map(|a| if a.ends_with(".toml") { k8s_spec.to_str().unwrap() } else { a.as_str() }));
            c.env("JOB_COMPLETION_INDEX", i.to_string());
            c
        })
        .collect();
    run_all(cmds);
    let merge_cmd = k8s_command(&std::fs::read_to_string(repo().join("deploy/k8s-merge-job.yaml")).unwrap());
    assert_eq!(&merge_cmd[..2], ["qt", "merge"]);
    let k8s_sweep = k8s_dir.join("out/deployed");
    let mut m = clean(Command::new(qt_bin()));
    m.arg("merge").arg(&k8s_sweep);
    run_all(vec![m]);
    assert_eq!(facts(&k8s_sweep.join("merged")), reference, "Kubernetes shards merged = the unsharded run");
    let sj = json(&k8s_sweep.join("shards/1-of-3/shard.json"));
    assert_eq!(sj["index_source"], "JOB_COMPLETION_INDEX=0");
}

/// Several processes start on an empty cache folder: one builds the sample DB, the others
/// wait for it and reuse it.
#[test]
fn concurrent_processes_build_the_sample_db_once() {
    let cache = tempfile::tempdir().unwrap();
    let cmds = (0..3)
        .map(|_| {
            let mut c = clean(Command::new(qt_bin()));
            c.env("QT_CACHE_DIR", cache.path()).args(["db", "generate", "--benchmark", "tpcds", "--scale", "0.01"]);
            c
        })
        .collect::<Vec<_>>();
    let children: Vec<_> = cmds.into_iter().map(|mut c| c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()).collect();
    let outs: Vec<_> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    let mut built = 0;
    for o in &outs {
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{stderr}");
        built += stderr.matches("building sample DB").count();
    }
    assert_eq!(built, 1, "exactly one process builds");
    let paths: std::collections::BTreeSet<String> = outs.iter().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).collect();
    assert_eq!(paths.len(), 1, "{paths:?}");
    let leftovers: Vec<String> = std::fs::read_dir(cache.path().join("db"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".duckdb"))
        .collect();
    assert!(leftovers.is_empty(), "no lock or temp file left: {leftovers:?}");
}

/// Several processes answer the same prompts at once through one LLM cache folder: every
/// entry stays whole (temp file + rename) and a later run is answered from it alone.
#[test]
fn concurrent_writers_share_the_llm_cache_without_corrupting_it() {
    use qt::llm::mock_server::{self, MockReply, MockScript};
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let answer = std::fs::read_to_string(repo().join("prompts/demo_responses/qdemo1/w01.txt")).unwrap();
    let server = rt.block_on(mock_server::start(MockScript::from_fn(move |_| MockReply::Content(answer.clone()))));
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"name = "cached"
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
max_concurrency = 4
[generation]
workers = 8
template = "@REPO@/templates/v5_dag.j2"
[examples]
dir = "@REPO@/prompts/examples"
"#,
        out = dir.path().join("out").display(),
        url = server.url
    );
    let spec = write_spec(dir.path(), "cached.toml", &text);
    // A fresh cache root that borrows the shared test DB (no rebuild).
    let root = dir.path().join("cache");
    std::fs::create_dir_all(&root).unwrap();
    std::os::unix::fs::symlink(cache_dir().join("db"), root.join("db")).unwrap();
    let run = || {
        let mut c = clean(Command::new(qt_bin()));
        c.env("QT_CACHE_DIR", &root).env("QT_TEST_API_KEY", "k").args(["run", spec.to_str().unwrap(), "--no-validate", "--quiet"]);
        c
    };
    run_all(vec![run(), run(), run()]);
    let entries: Vec<PathBuf> = sorted_entries(&root.join("llm"), |_| true);
    assert!(!entries.is_empty());
    for e in &entries {
        let name = e.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.ends_with(".json") && !name.starts_with('.'), "leftover {name}");
        let v: Value = serde_json::from_str(&std::fs::read_to_string(e).unwrap()).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert!(v["content"].as_str().is_some_and(|c| !c.is_empty()), "{name}");
    }
    let asked = server.requests();
    run_all(vec![run()]);
    assert_eq!(server.requests(), asked, "the fourth run is answered from the shared cache");
}
