//! `qt plan` end to end: matrix printed, every prompt rendered offline, distinct count,
//! and bad specs exit 2 naming file and line.

mod common;
use common::*;
use predicates::prelude::*;

#[test]
fn plan_sweep_renders_every_prompt() {
    let Some(q) = tpcds_queries() else { return };
    let out = tempfile::tempdir().unwrap();
    let spec = repo().join("experiments/sweep.toml");
    let env = |k: &str| if k == "QT_TPCDS_QUERIES" { Some(q.display().to_string()) } else { std::env::var(k).ok() };
    let exp = qt::spec::load_with_env(&spec, &env).expect("sweep.toml loads");
    let n = qt::spec::jobs(&exp).len();
    assert!(exp.arms.len() >= 2 && exp.queries.len() >= 2, "a sweep has several queries and arms");
    qt().env("QT_TPCDS_QUERIES", &q)
        .args(["plan", spec.to_str().unwrap(), "--out"])
        .arg(out.path())
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("rendered {n} prompts")));
    // Each distinct prompt is written once; index.txt lists every generation.
    let indexed: usize = sorted_entries(out.path(), |p| p.is_dir())
        .iter()
        .map(|q| std::fs::read_to_string(q.join("index.txt")).unwrap().lines().count())
        .sum();
    assert_eq!(indexed, n);
    assert!(count_files(out.path(), ".prompt.txt") <= n);
}

#[test]
fn plan_q1_20_renders_20_distinct_prompts() {
    let Some(q) = tpcds_queries() else { return };
    let out = tempfile::tempdir().unwrap();
    qt().env("QT_TPCDS_QUERIES", &q)
        .args(["plan", "experiments/q1_20.toml", "--out"])
        .arg(out.path())
        .current_dir(repo())
        .assert()
        .success()
        .stdout(predicate::str::contains("rendered 20 prompts (20 distinct)"));
    assert_eq!(count_files(out.path(), ".prompt.txt"), 20);
    let p = std::fs::read_to_string(out.path().join("q1/gen_01.prompt.txt")).unwrap();
    assert!(p.contains("customer_total_return"), "the prompt shows the query's CTE");
}

#[test]
fn typo_in_spec_exits_2_with_file_line_and_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(
        dir.path(),
        "bad.toml",
        "name = \"bad\"\n[queries]\nfiles = [\"*.sql\"]\n[generation]\nworker = 3\n",
    );
    qt().args(["plan", spec.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.toml:5"))
        .stderr(predicate::str::contains("did you mean `workers`"));
}

#[test]
fn missing_spec_file_exits_2() {
    qt().args(["run", "/nonexistent/spec.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/spec.toml"));
}
