//! Hostile and careless inputs, second pass (issue 21), end to end through the `qt` binary:
//! query ids that prefix each other through run, --resume and merge.

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

fn run_folders(dir: &Path) -> Vec<PathBuf> {
    sorted_entries(dir, |p| p.is_dir() && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('q')))
}

fn ok(args: &[&str]) -> String {
    let out = qt().args(args).env_remove("JOB_COMPLETION_INDEX").env_remove("SLURM_ARRAY_TASK_ID").output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "qt {args:?}:\n{text}");
    text
}

/// Queries `1` and `1_2` (files q1.sql, q1_2.sql) with their own replayed answers.
fn prefix_ids_spec(dir: &Path) -> PathBuf {
    let answers = dir.join("answers");
    for (id, demo) in [("1", "demo3"), ("1_2", "demo1")] {
        std::fs::copy(repo().join(format!("queries/demo/{demo}.sql")), dir.join(format!("q{id}.sql"))).unwrap();
        std::fs::create_dir_all(answers.join(format!("q{id}"))).unwrap();
        for w in ["w01.txt", "w02.txt"] {
            std::fs::copy(repo().join(format!("prompts/demo_responses/q{demo}/{w}")), answers.join(format!("q{id}/{w}"))).unwrap();
        }
    }
    let files = [format!("{}/q1.sql", dir.display()), format!("{}/q1_2.sql", dir.display())];
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let text = patched(offline_spec(dir, "prefixes", &files), &[("@REPO@/prompts/demo_responses", &answers.display().to_string())]);
    write_spec(dir, "prefixes.toml", &text)
}

/// Each run folder holds the query its name says, in config.json and every result line.
fn assert_folders_hold_their_own_query(root: &Path) {
    for run in run_folders(root) {
        let name = run.file_name().unwrap().to_string_lossy().into_owned();
        let id = if name.starts_with("q1_2_") { "1_2" } else { "1" };
        assert_eq!(json(&run.join("config.json"))["query_id"], id, "{name}");
        let results = std::fs::read_to_string(run.join("results.jsonl")).unwrap();
        for line in results.lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["query_id"], id, "{name}: {line}");
        }
    }
}

#[test]
fn ids_that_prefix_each_other_keep_their_own_folders_through_resume_and_merge() {
    let dir = tempfile::tempdir().unwrap();
    let spec = prefix_ids_spec(dir.path());
    let root = dir.path().join("out/prefixes");
    ok(&["run", spec.to_str().unwrap(), "--quiet"]);
    let first = run_folders(&root);
    assert_eq!(first.len(), 2, "{first:?}");
    ok(&["run", spec.to_str().unwrap(), "--resume", "--quiet"]);
    assert_eq!(run_folders(&root), first, "--resume continued the existing folders");
    assert_folders_hold_their_own_query(&root);
    let sweep = json(&root.join("summary.json"));
    for row in sweep["rows"].as_array().unwrap() {
        let id = row["query_id"].as_str().unwrap();
        let dir_name = Path::new(row["run_dir"].as_str().unwrap()).file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(dir_name.starts_with("q1_2_"), id == "1_2", "sweep row {id} reads {dir_name}");
    }

    // Sharded, then merged: both queries keep every generation in their own folder.
    let dir = tempfile::tempdir().unwrap();
    let spec = prefix_ids_spec(dir.path());
    let root = dir.path().join("out/prefixes");
    ok(&["run", spec.to_str().unwrap(), "--shard", "1/2", "--quiet"]);
    ok(&["run", spec.to_str().unwrap(), "--shard", "2/2", "--quiet"]);
    ok(&["merge", root.to_str().unwrap(), "--quiet"]);
    let merged = run_folders(&root.join("merged"));
    assert_eq!(merged.len(), 2, "{merged:?}");
    assert_folders_hold_their_own_query(&root.join("merged"));
    for run in &merged {
        assert_eq!(gen_dirs(run).len(), 2, "{}", run.display());
    }
}

/// Every file under `dir` (recursively) as text (lossy).
fn all_text(dir: &Path) -> String {
    let mut out = String::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.push_str(&all_text(&p));
        } else {
            out.push_str(&format!("\n== {}\n", p.display()));
            out.push_str(&String::from_utf8_lossy(&std::fs::read(&p).unwrap_or_default()));
        }
    }
    out
}

#[test]
fn percent_encoded_secrets_in_base_url_reach_no_file_and_no_output() {
    // A port nothing listens on: every call is a connection error quoting the URL.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cases = [
        (format!("HTTP://127.0.0.1:{port}/v1?sig=abc%2Fdef%3D"), vec!["abc%2Fdef%3D", "abc%2fdef%3d", "abc/def="]),
        (
            format!("http://qtuser:Hunter%2099x@LOCALHOST:{port}/v1?key=SECRET%20QS5&api-version=1"),
            vec!["SECRET%20QS5", "SECRET QS5", "SECRET+QS5", "secret%20qs5", "Hunter%2099x", "Hunter 99x", "qtuser"],
        ),
    ];
    for (url, forms) in cases {
        let dir = tempfile::tempdir().unwrap();
        let text = patched(offline_spec(dir.path(), "leak", &["@REPO@/queries/demo/demo3.sql"]), &[
            ("provider = \"replay\"\nresponses = \"@REPO@/prompts/demo_responses\"", &format!("base_url = \"{url}\"\nmax_attempts = 1\ntimeout_s = 5")),
        ]);
        let spec = write_spec(dir.path(), "leak.toml", &text);
        for json in [false, true] {
            let mut args = vec!["run", spec.to_str().unwrap(), "--no-cache"];
            if json {
                args.push("--json");
            }
            let out = qt().args(&args).output().unwrap();
            let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            assert_eq!(out.status.code(), Some(1), "{printed}");
            let recorded = all_text(&dir.path().join("out"));
            assert!(recorded.contains("validation.json") && recorded.contains("report.html"), "a run was recorded");
            for f in &forms {
                assert!(!printed.contains(f), "{url}: {f:?} printed:\n{printed}");
                assert!(!recorded.contains(f), "{url}: {f:?} recorded:\n{recorded}");
            }
            assert!(printed.contains("REDACTED"), "the error still names the endpoint: {printed}");
        }
    }
}

/// A query file named with an escape sequence, or linked out of its folder: exit 2 before
/// anything runs, the name escaped (never raw on the terminal), link and target named.
#[test]
fn hostile_query_file_names_and_links_are_refused_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let queries = dir.path().join("queries");
    std::fs::create_dir_all(&queries).unwrap();
    std::fs::write(queries.join("q\u{1b}]0;owned\u{7}1.sql"), "SELECT 1").unwrap();
    let spec = write_spec(dir.path(), "esc.toml", &offline_spec(dir.path(), "esc", &["queries/*.sql"]));
    let out = qt().args(["plan", spec.to_str().unwrap()]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "raw escape sequence printed: {err:?}");
    assert!(err.contains("\\u{1b}]0;owned\\u{7}1.sql") && err.contains("control characters"), "{err}");

    #[cfg(unix)]
    {
        let dir = tempfile::tempdir().unwrap();
        let queries = dir.path().join("queries");
        std::fs::create_dir_all(&queries).unwrap();
        std::fs::write(dir.path().join("private.sql"), "SELECT 'not a query file'").unwrap();
        std::os::unix::fs::symlink(dir.path().join("private.sql"), queries.join("q1.sql")).unwrap();
        let spec = write_spec(dir.path(), "link.toml", &offline_spec(dir.path(), "link", &["queries/*.sql"]));
        let out = qt().args(["plan", spec.to_str().unwrap()]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("q1.sql") && err.contains("private.sql") && err.contains("outside its queries folder"), "{err}");
    }
}
