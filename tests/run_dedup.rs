//! `qt run` validates identical candidates of a query once: the copies (same SQL up to
//! whitespace, comments and keyword case) record `same_as` with the same verdict and no
//! timing of their own; distinct equivalent rewrites are each validated; with
//! `validation.dedup = false` every candidate is validated.

mod common;
use common::*;
use qt::llm::mock_server::{self, MockReply, MockScript};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn answers() -> Vec<String> {
    let same = qt::bench::varied_demo2(0);
    let relaid = format!(
        "-- the same query, laid out differently\n{}",
        same.replace('\n', "  \n    ").replace("select", "SELECT").replace("from", "FROM").replace("where", "WHERE")
    );
    let commented = format!("{same}\n/* nothing changed */ ;");
    let distinct = [1, 2, 4].map(qt::bench::varied_demo2);
    let mut v = vec![same, relaid, commented];
    v.extend(distinct);
    v.into_iter().map(|s| format!("Here it is:\n```sql\n{s}\n```")).collect()
}

fn spec(dir: &Path, url: &str, dedup: bool) -> PathBuf {
    let text = format!(
        r#"name = "dedup"
[output]
root = "{out}"
[database]
generate = {{ benchmark = "tpcds", scale = 0.01 }}
[queries]
files = ["@REPO@/queries/demo/demo2.sql"]
[llm]
base_url = "{url}"
model = "mock-model"
max_concurrency = 6
timeout_s = 20
[generation]
workers = 6
template = "@REPO@/templates/full_sql.j2"
response_format = "sql"
retries_on_failure = 0
[examples]
strategy = "none"
dir = "@REPO@/prompts/examples"
[validation]
timing_rounds = 2
warmup = 0
dedup = {dedup}
"#,
        out = dir.join("out").display()
    );
    write_spec(dir, "dedup.toml", &text)
}

/// (gen folder name, validation.json, optimized.sql) of the single run.
fn run(dedup: bool) -> Vec<(String, Value, String)> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let replies = answers().into_iter().map(MockReply::Content).collect();
    let server = rt.block_on(mock_server::start(MockScript::replies(replies)));
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path(), &server.url, dedup);
    let out = qt().args(["run", "--quiet", "--no-cache", spec.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let runs = sorted_entries(&dir.path().join("out/dedup"), |p| p.is_dir());
    assert_eq!(runs.len(), 1);
    gen_dirs(&runs[0])
        .iter()
        .map(|g| {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(g.join("validation.json")).unwrap()).unwrap();
            let sql = std::fs::read_to_string(g.join("optimized.sql")).unwrap();
            (g.file_name().unwrap().to_string_lossy().into_owned(), v, sql)
        })
        .collect()
}

#[test]
fn identical_candidates_are_validated_once() {
    let gens = run(true);
    assert_eq!(gens.len(), 6);
    let mut groups: BTreeMap<String, Vec<&(String, Value, String)>> = BTreeMap::new();
    for g in &gens {
        assert_eq!(g.1["status"], "pass", "{}: {:#}", g.0, g.1);
        groups.entry(qt::validate::dedup::normalize(&g.2)).or_default().push(g);
    }
    assert_eq!(groups.len(), 4, "three copies of one query and three distinct rewrites");
    for members in groups.values() {
        let firsts: Vec<_> = members.iter().filter(|g| g.1.get("same_as").is_none()).collect();
        assert_eq!(firsts.len(), 1, "exactly one validated per distinct SQL: {members:#?}");
        let first = firsts[0];
        for g in members.iter().filter(|g| g.0 != first.0) {
            assert_eq!(g.1["same_as"], first.0.as_str(), "{}", g.0);
            assert_eq!(g.1["speedup"], first.1["speedup"]);
            assert_eq!(g.1["timing"], first.1["timing"], "a copy gets the same timing, not its own");
        }
    }
    assert!(groups.values().any(|m| m.len() == 3));
}

#[test]
fn without_dedup_every_candidate_is_timed() {
    let gens = run(false);
    assert_eq!(gens.len(), 6);
    for (name, v, _) in &gens {
        assert_eq!(v["status"], "pass", "{name}: {v:#}");
        assert!(v.get("same_as").is_none(), "{name}");
        assert_eq!(v["timing"]["rounds"], 2);
    }
}
