//! Command-line overrides (`--set KEY=VALUE`, `--ids`, ...) go through the spec loader:
//! they set any key, are checked like the file, and their errors name the flag
//! (`--set #2`) with the nearest valid key. The effective spec of an overridden spec is
//! byte for byte the one of an edited copy; run-control keys stay out of the identity.

use qt::spec::overrides::{self, Override};
use qt::spec::{self, Experiment, SpecError};
use std::fs;
use std::path::Path;

/// A temp "repo" with a template, an examples folder and three queries.
fn sandbox() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    fs::create_dir_all(p.join("templates")).unwrap();
    fs::create_dir_all(p.join("prompts/examples")).unwrap();
    fs::create_dir_all(p.join("queries")).unwrap();
    fs::write(p.join("templates/v5_dag.j2"), "{{ query.sql }}").unwrap();
    fs::write(p.join("prompts/examples/a.json"), "{}").unwrap();
    for (f, sql) in [("query_1.sql", "SELECT 1"), ("query_15.sql", "SELECT 15"), ("query_23a.sql", "SELECT 23")] {
        fs::write(p.join("queries").join(f), sql).unwrap();
    }
    dir
}

const BASE: &str = r#"name = "t"
# a comment that is not part of the effective spec

[database]
generate = { benchmark = "tpcds", scale = 0.1 }

[queries]
dir = "queries"
ids = [1]

[generation]
workers = 20
"#;

fn sets(args: &[&str]) -> Vec<Override> {
    let owned: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    overrides::collect(&owned, Vec::new()).unwrap()
}

fn load(dir: &Path, text: &str, o: &[Override]) -> Result<Experiment, SpecError> {
    let path = dir.join("spec.toml");
    fs::write(&path, text).unwrap();
    spec::load_with(&path, &|_| None, o)
}

#[test]
fn set_changes_any_section_and_bare_words_are_strings() {
    let d = sandbox();
    let o = sets(&[
        "queries.ids=[15, \"23a\"]",
        "generation.workers=5",
        "llm.model=deepseek-reasoner",
        "llm.base_url=http://127.0.0.1:8080/v1",
        "examples.strategy=coverage",
        "llm.price={input=0.5, output=1.5}",
        "generation.budget_usd=2",
        "generation.stop_when={valid = 3, min_speedup = 1.2}",
        "matrix.\"llm.temperature\"=[0.2, 0.8]",
    ]);
    let exp = load(d.path(), BASE, &o).unwrap();
    let ids: Vec<&str> = exp.queries.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(ids, ["15", "23a"]);
    assert_eq!(exp.arms.len(), 2);
    let a = &exp.arms[0];
    assert_eq!(a.generation.workers, 5);
    assert_eq!(a.llm.model, "deepseek-reasoner");
    assert_eq!(a.llm.base_url, "http://127.0.0.1:8080/v1");
    assert_eq!(a.examples.strategy, spec::Strategy::Coverage);
    assert_eq!(a.llm.price.map(|p| (p.input, p.output, p.cached_input)), Some((0.5, 1.5, None)));
    assert_eq!(exp.resolved.generation.budget_usd, Some(2.0));
    assert_eq!(exp.resolved.generation.stop_when.map(|s| (s.valid, s.min_speedup)), Some((3, Some(1.2))));
    assert_eq!(exp.overrides.len(), 9);
}

#[test]
fn shortcuts_are_sugar_for_set() {
    let d = sandbox();
    let ids = overrides::ids("q15, 23a").unwrap();
    assert_eq!(ids.value, "[15, \"23a\"]");
    let model = overrides::shortcut("--model", "llm.model", overrides::toml_string("m2"), "m2");
    let exp = load(d.path(), BASE, &[ids, model]).unwrap();
    assert_eq!(exp.queries.iter().map(|q| q.id.as_str()).collect::<Vec<_>>(), ["15", "23a"]);
    assert_eq!(exp.arms[0].llm.model, "m2");
    let clash = overrides::collect(&["llm.model=x".into()], vec![overrides::shortcut("--model", "llm.model", "\"y\"".into(), "y")]);
    let e = clash.unwrap_err().to_string();
    assert!(e.contains("--set #1") && e.contains("--model also sets llm.model"), "{e}");
}

fn err(text: &str, args: &[&str]) -> String {
    let d = sandbox();
    load(d.path(), text, &sets(args)).unwrap_err().to_string()
}

#[test]
fn unknown_key_names_the_flag_and_the_nearest_key() {
    let e = err(BASE, &["llm.model=x", "generation.wokers=5"]);
    assert!(e.starts_with("--set #2: unknown key `wokers` in [generation]"), "{e}");
    assert!(e.contains("generation.wokers = 5") && e.contains("did you mean `workers`?"), "{e}");
    assert!(!e.contains("spec.toml:"), "an override is not a line of the file: {e}");
    let e = err(BASE, &["generaton.workers=5"]);
    assert!(e.starts_with("--set #1: unknown section [generaton]") && e.contains("did you mean `generation`?"), "{e}");
}

#[test]
fn wrong_values_are_checked_like_the_file() {
    let e = err(BASE, &["generation.workers=five"]);
    assert!(e.starts_with("--set #1: wrong value for `generation.workers`"), "{e}");
    let e = err(BASE, &["examples.strategy=matchd"]);
    assert!(e.starts_with("--set #1: unknown value `matchd`") && e.contains("did you mean `matched`?"), "{e}");
    let e = err(BASE, &["queries.ids=[999]"]);
    assert!(e.starts_with("--set #1:") && e.contains("999"), "{e}");
    let e = err(BASE, &["generation.workers=0"]);
    assert!(e.starts_with("--set #1: workers must be at least 1"), "{e}");
    let e = err(BASE, &["llm.price={input=-1, output=1}"]);
    assert!(e.starts_with("--set #1: prices must be dollars per million tokens"), "{e}");
    let e = err(BASE, &["generation.budget_usd=-2"]);
    assert!(e.starts_with("--set #1: budget_usd must be a number of dollars, 0 or more"), "{e}");
    let e = err(BASE, &["generation.stop_when={valid=3, min_speed=1.2}"]);
    assert!(e.starts_with("--set #1: unknown key `min_speed`") && e.contains("did you mean `min_speedup`?"), "{e}");
    let e = err(BASE, &["generation.workers.min=1"]);
    assert!(e.starts_with("--set #1: `generation.workers` is an integer, not a table"), "{e}");
}

#[test]
fn malformed_arguments_are_refused_before_loading() {
    let parse = |a: &str| overrides::parse_set(3, a).unwrap_err().to_string();
    let e = parse("generation.workers");
    assert!(e.starts_with("--set #3 generation.workers: expected KEY=VALUE"), "{e}");
    let e = parse("x=[1, 2");
    assert!(e.contains("the value is not TOML"), "{e}");
    let e = parse("=5");
    assert!(e.contains("is not a key"), "{e}");
    let e = parse("a=");
    assert!(e.contains("nothing after `=`"), "{e}");
}

#[test]
fn file_errors_still_point_at_the_file() {
    let text = BASE.replace("workers = 20", "workers = 0");
    let d = sandbox();
    let e = load(d.path(), &text, &sets(&["llm.model=x"])).unwrap_err();
    assert_eq!(e.line(), Some(text.lines().position(|l| l.starts_with("workers")).unwrap() + 1), "{e}");
    // ... and an override that fixes the file's value wins.
    load(d.path(), &text, &sets(&["generation.workers=2"])).unwrap();
}

#[test]
fn stop_when_and_price_in_the_file_are_checked_at_their_line() {
    let d = sandbox();
    let text = format!("{BASE}stop_when = {{ valid = 3, wins = 2 }}\n");
    let e = load(d.path(), &text, &[]).unwrap_err();
    assert_eq!(e.line(), Some(text.lines().count()), "{e}");
    assert!(e.to_string().contains("unknown key `wins`"), "{e}");
    let text = format!("{BASE}\n[llm]\nprice = {{ input = 0.27, output = -1.10 }}\n");
    let e = load(d.path(), &text, &[]).unwrap_err();
    assert_eq!(e.line(), Some(text.lines().count()), "{e}");
    let text = format!("{BASE}\n[matrix]\n\"generation.budget_usd\" = [1.0, 2.0]\n");
    let e = load(d.path(), &text, &[]).unwrap_err().to_string();
    assert!(e.contains("holds for the whole run and cannot differ by arm"), "{e}");
}

#[test]
fn effective_spec_equals_the_edited_copy_and_identity_ignores_run_control() {
    let d = sandbox();
    let edited = BASE.replace("ids = [1]", "ids = [15]").replace("workers = 20", "workers = 5").replace("# a comment", "# another comment")
        + "\n[llm]\nmodel = \"m2\"\n";
    let a = load(d.path(), &edited, &[]).unwrap();
    let o = vec![
        overrides::ids("15").unwrap(),
        overrides::shortcut("--model", "llm.model", "\"m2\"".into(), "m2"),
        overrides::parse_set(1, "generation.workers=5").unwrap(),
    ];
    let b = load(d.path(), BASE, &o).unwrap();
    assert_eq!(a.effective_spec, b.effective_spec);
    assert_eq!(a.identity_sha256, b.identity_sha256);
    assert!(!a.effective_spec.contains("comment"), "{}", a.effective_spec);
    assert_ne!(a.spec_sha256, b.spec_sha256, "the file's own hash still names the file");

    let run_control = load(d.path(), BASE, &sets(&["generation.budget_usd=5", "queries.ids=[15]", "llm.max_concurrency=3"])).unwrap();
    let plain = load(d.path(), BASE, &[]).unwrap();
    assert_eq!(run_control.identity_sha256, plain.identity_sha256);
    assert_ne!(run_control.effective_spec, plain.effective_spec);
    let other = load(d.path(), BASE, &sets(&["llm.temperature=0.1"])).unwrap();
    assert_ne!(other.identity_sha256, plain.identity_sha256);
    let old: toml::Table = plain.effective_spec.parse().unwrap();
    let new: toml::Table = other.effective_spec.parse().unwrap();
    let diff = qt::spec::identity::differences(&old, &new);
    assert_eq!(diff, vec![("llm.temperature".to_string(), None, Some("0.1".to_string()))]);
}
