//! Arms and jobs: explicit `[[arms]]` first (file order), then the `[matrix]` product
//! (keys sorted, last key fastest); overrides applied and type-checked; job numbering.

use qt::spec::{self, Experiment, Strategy};
use std::fs;
use std::path::Path;

fn sandbox() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    fs::create_dir_all(p.join("templates")).unwrap();
    fs::create_dir_all(p.join("prompts/examples")).unwrap();
    fs::write(p.join("templates/v5_dag.j2"), "{{ query.sql }}").unwrap();
    fs::write(p.join("templates/alt.j2"), "{{ query.id }}").unwrap();
    fs::write(p.join("prompts/examples/a.json"), "{}").unwrap();
    fs::write(p.join("query_1.sql"), "SELECT 1").unwrap();
    fs::write(p.join("query_2.sql"), "SELECT 2").unwrap();
    dir
}

fn load(dir: &Path, extra: &str) -> Experiment {
    let text = format!(
        "name = \"m\"\n[database]\ngenerate = {{}}\n[queries]\nids = [1, 2]\n[generation]\nworkers = 3\n{extra}"
    );
    let path = dir.join("m.toml");
    fs::write(&path, text).unwrap();
    spec::load_with_env(&path, &|_| None).unwrap_or_else(|e| panic!("{e}"))
}

fn names(exp: &Experiment) -> Vec<&str> {
    exp.arms.iter().map(|a| a.name.as_str()).collect()
}

#[test]
fn no_matrix_gives_one_default_arm() {
    let dir = sandbox();
    let exp = load(dir.path(), "[matrix]\n");
    assert_eq!(names(&exp), ["default"]);
    assert!(exp.arms[0].params.is_empty());
}

#[test]
fn product_is_sorted_by_key_with_last_key_fastest() {
    let dir = sandbox();
    let exp = load(
        dir.path(),
        "[matrix]\n\"llm.temperature\" = [0.2, 0.8]\n\"examples.strategy\" = [\"batches\", \"matched\"]\n",
    );
    assert_eq!(
        names(&exp),
        [
            "examples.strategy=batches,llm.temperature=0.2",
            "examples.strategy=batches,llm.temperature=0.8",
            "examples.strategy=matched,llm.temperature=0.2",
            "examples.strategy=matched,llm.temperature=0.8",
        ]
    );
    let a = &exp.arms[2];
    assert_eq!(a.index, 2);
    assert_eq!(a.examples.strategy, Strategy::Matched);
    assert_eq!(a.llm.temperature, 0.2);
    assert_eq!(a.params["llm.temperature"], serde_json::json!(0.2));
    assert_eq!(a.params["examples.strategy"], serde_json::json!("matched"));
    // Non-overridden values stay the base ones.
    assert_eq!(a.generation.workers, 3);
}

#[test]
fn explicit_arms_come_first_in_file_order() {
    let dir = sandbox();
    let exp = load(
        dir.path(),
        "[[arms]]\nname = \"zeta\"\nset = { \"generation.template\" = \"templates/alt.j2\", \"generation.workers\" = 1 }\n\
         [[arms]]\nname = \"alpha\"\n\
         [matrix]\n\"llm.model\" = [\"m1\", \"m2\"]\n",
    );
    assert_eq!(
        names(&exp),
        ["zeta", "alpha", "llm.model=m1", "llm.model=m2"]
    );
    let zeta = &exp.arms[0];
    assert_eq!(
        zeta.template_path,
        fs::canonicalize(dir.path())
            .unwrap()
            .join("templates/alt.j2")
    );
    assert_eq!(zeta.generation.workers, 1);
    assert!(exp.arms[1].params.is_empty());
    assert!(exp.arms[1].template_path.ends_with("templates/v5_dag.j2"));
    assert_eq!(exp.arms[3].llm.model, "m2");
}

#[test]
fn jobs_are_ordered_and_numbered_across_arms() {
    let dir = sandbox();
    let exp = load(
        dir.path(),
        "[[arms]]\nname = \"one\"\nset = { \"generation.workers\" = 1 }\n[[arms]]\nname = \"three\"\n",
    );
    let jobs = spec::jobs(&exp);
    assert_eq!(exp.job_count(), 8);
    let got: Vec<(usize, usize, u32, u32)> = jobs
        .iter()
        .map(|j| (j.query, j.arm, j.worker, j.r#gen))
        .collect();
    assert_eq!(
        got,
        [
            (0, 0, 1, 1),
            (0, 1, 1, 2),
            (0, 1, 2, 3),
            (0, 1, 3, 4),
            (1, 0, 1, 1),
            (1, 1, 1, 2),
            (1, 1, 2, 3),
            (1, 1, 3, 4),
        ]
    );
}

#[test]
fn loading_is_deterministic() {
    let dir = sandbox();
    let extra = "[matrix]\n\"validation.threads\" = [1, 2]\n\"llm.max_tokens\" = [100, 200]\n\"examples.seed\" = [1, 2]\n";
    let a = load(dir.path(), extra);
    let b = load(dir.path(), extra);
    assert_eq!(a.arms, b.arms);
    assert_eq!(a.arms.len(), 8);
    assert_eq!(
        a.arms[1].name,
        "examples.seed=1,llm.max_tokens=100,validation.threads=2"
    );
}

#[test]
fn bad_override_in_an_arm_is_located() {
    let dir = sandbox();
    let text = "name = \"m\"\n[database]\ngenerate = {}\n[queries]\nids = [1]\n[[arms]]\nname = \"a\"\nset = { \"llm.temprature\" = 0.2 }\n";
    let path = dir.path().join("bad.toml");
    fs::write(&path, text).unwrap();
    let err = spec::load_with_env(&path, &|_| None).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("unknown key in [[arms]] set `llm.temprature`")
            && msg.contains("did you mean `llm.temperature`?"),
        "{msg}"
    );
    assert_eq!(err.line(), Some(8), "{msg}");

    let text = text.replace(
        "\"llm.temprature\" = 0.2",
        "\"examples.per_worker\" = \"3\"",
    );
    fs::write(&path, text).unwrap();
    let err = spec::load_with_env(&path, &|_| None).unwrap_err();
    assert!(
        err.to_string()
            .contains("wrong value for `examples.per_worker`"),
        "{err}"
    );
    assert_eq!(err.line(), Some(8), "{err}");
}

#[test]
fn per_arm_semantic_checks_name_the_arm() {
    let dir = sandbox();
    let text = "name = \"m\"\n[database]\ngenerate = {}\n[queries]\nids = [1]\n[matrix]\n\"generation.workers\" = [2,\n 0]\n";
    let path = dir.path().join("bad.toml");
    fs::write(&path, text).unwrap();
    let err = spec::load_with_env(&path, &|_| None).unwrap_err();
    assert!(
        err.to_string()
            .contains("arm `generation.workers=0`: workers must be at least 1"),
        "{err}"
    );
    assert_eq!(err.line(), Some(8), "{err}");
}

#[test]
fn sweep_fixture_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/spec/repo/experiments/sweep.toml");
    let exp = spec::load_with_env(&path, &|_| None).unwrap();
    assert_eq!(exp.queries.len(), 3);
    assert_eq!(exp.arms.len(), 6);
    assert_eq!(exp.arms[1].name, "hot");
    assert_eq!(exp.arms[1].llm.temperature, 1.2);
    assert_eq!(exp.job_count(), 3 * (2 + 1 + 4 * 2));
}
