//! Helpers shared by the CLI tests: the repository root, a sample-DB cache shared by all
//! test binaries (so the scale-0.01 DB is generated once per target folder), and the
//! TPC-DS query folder (tests that need it print a plain "skipped" line when absent).
#![allow(dead_code)]

pub mod browser;

use std::path::{Path, PathBuf};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One cache for every test binary: generated DBs and LLM responses live here.
pub fn cache_dir() -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"));
    let dir = base.join("qt-test-cache");
    std::fs::create_dir_all(&dir).expect("create test cache dir");
    dir
}

/// The qt binary with the shared test cache and no colours.
pub fn qt() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("qt").expect("qt binary");
    c.env("QT_CACHE_DIR", cache_dir()).env("NO_COLOR", "1");
    c
}

/// Same, as a std Command (for signals and kill tests).
pub fn qt_std() -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("qt"));
    c.env("QT_CACHE_DIR", cache_dir()).env("NO_COLOR", "1");
    c
}

pub fn tpcds_queries() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("QT_TPCDS_QUERIES").map(PathBuf::from),
        Some(repo().join("../shared/tpcds/queries")),
    ];
    let found = candidates
        .into_iter()
        .flatten()
        .find(|p| p.join("query_1.sql").exists());
    if found.is_none() {
        eprintln!(
            "skipped: TPC-DS queries not found (set QT_TPCDS_QUERIES or put them at ../shared/tpcds/queries)"
        );
    }
    found
}

/// An offline spec: replayed demo answers, a scale-0.01 DB, 2 workers, one timing round,
/// output under `dir/out`. `files` are the query globs (`@REPO@` stands for the repository).
pub fn offline_spec(dir: &Path, name: &str, files: &[&str]) -> String {
    let files: Vec<String> = files.iter().map(|f| format!("{f:?}")).collect();
    format!(
        r#"name = "{name}"
[output]
root = "{out}"
[database]
generate = {{ benchmark = "tpcds", scale = 0.01 }}
[queries]
files = [{files}]
[llm]
provider = "replay"
responses = "@REPO@/prompts/demo_responses"
[generation]
workers = 2
template = "@REPO@/templates/v5_dag.j2"
retries_on_failure = 0
[examples]
dir = "@REPO@/prompts/examples"
[validation]
timing_rounds = 1
warmup = 0
"#,
        out = dir.join("out").display(),
        files = files.join(", "),
    )
}

/// A DuckDB file `dir/name` holding only what `ddl` creates (replacing any file there).
pub fn small_db(dir: &Path, name: &str, ddl: &str) -> PathBuf {
    let p = dir.join(name);
    let _ = std::fs::remove_file(&p);
    duckdb::Connection::open(&p).unwrap().execute_batch(ddl).unwrap();
    p
}

/// `text` with each `(from, to)` replaced once; every `from` must be there.
pub fn patched(mut text: String, patch: &[(&str, &str)]) -> String {
    for (from, to) in patch {
        assert!(text.contains(from), "patch target {from:?} not in the base spec");
        text = text.replacen(from, to, 1);
    }
    text
}

/// Write `text` as a spec file in `dir`, with `@REPO@` replaced by the repository path.
pub fn write_spec(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text.replace("@REPO@", &repo().display().to_string())).expect("write spec");
    p
}

/// Count files under `dir` (recursively) whose name ends with `suffix`.
pub fn count_files(dir: &Path, suffix: &str) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            n += count_files(&p, suffix);
        } else if p.to_string_lossy().ends_with(suffix) {
            n += 1;
        }
    }
    n
}

/// Entries of `dir` that satisfy `keep`, sorted (empty when `dir` does not exist).
pub fn sorted_entries(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| r.flatten().map(|e| e.path()).filter(|p| keep(p)).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// The `gen_NN` folders of a run folder, sorted.
pub fn gen_dirs(run: &Path) -> Vec<PathBuf> {
    sorted_entries(run, |p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("gen_"))
    })
}

/// `qt db generate --quiet ARGS` as a user runs it (cached like every generated DB): the
/// path it prints.
pub fn generate_db(args: &[&str]) -> PathBuf {
    let out = qt().args(["db", "generate", "--quiet"]).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().lines().last().unwrap().trim())
}
