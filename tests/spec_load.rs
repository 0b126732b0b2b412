//! Loading specs: good specs get the documented defaults and resolved paths; bad specs
//! fail with a message naming the file, the right line, and what to do.

mod common;

use qt::spec::{self, DbSource, Experiment, SpecError, Strategy};
use std::fs;
use std::path::{Path, PathBuf};

fn fixture_repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spec/repo")
}

/// A temp "repo" with templates/, prompts/examples/ and queries/ (3 files).
fn sandbox() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    fs::create_dir_all(p.join("templates")).unwrap();
    fs::create_dir_all(p.join("prompts/examples")).unwrap();
    fs::create_dir_all(p.join("queries")).unwrap();
    fs::write(p.join("templates/v5_dag.j2"), "{{ query.sql }}").unwrap();
    fs::write(p.join("templates/other.j2"), "{{ query.id }}").unwrap();
    fs::write(p.join("prompts/examples/a.json"), "{}").unwrap();
    for (f, sql) in [
        ("query_1.sql", "SELECT 1"),
        ("query_2.sql", "SELECT 2"),
        ("query_23a.sql", "SELECT 23"),
    ] {
        fs::write(p.join("queries").join(f), sql).unwrap();
    }
    dir
}

fn env(var: &str) -> Option<String> {
    match var {
        "QT_TEST_QUERIES" => Some("queries".into()),
        _ => None,
    }
}

fn load_in(dir: &Path, text: &str) -> Result<Experiment, SpecError> {
    let path = dir.join("spec.toml");
    fs::write(&path, text).unwrap();
    spec::load_with_env(&path, &env)
}

const BASE: &str = r#"name = "t"

[database]
generate = { benchmark = "tpcds", scale = 0.1 }

[queries]
dir = "queries"
ids = [1]
"#;

fn line_of(text: &str, needle: &str) -> usize {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in spec"));
    text[..at].matches('\n').count() + 1
}

/// Loads `text` (expecting failure) and checks the message and that it points at the
/// line holding `at`.
fn assert_fails(text: &str, at: Option<&str>, expected: &[&str]) -> String {
    let dir = sandbox();
    let err = match load_in(dir.path(), text) {
        Ok(_) => panic!("spec loaded but should fail:\n{text}"),
        Err(e) => e,
    };
    let msg = err.to_string();
    for want in expected {
        assert!(msg.contains(want), "expected {want:?} in:\n{msg}");
    }
    assert!(
        msg.contains("spec.toml"),
        "message must name the file:\n{msg}"
    );
    assert!(msg.contains("help:"), "message must say what to do:\n{msg}");
    if let Some(needle) = at {
        let line = line_of(text, needle);
        assert_eq!(err.line(), Some(line), "wrong line in:\n{msg}");
        assert!(
            msg.contains(&format!("spec.toml:{line}:")),
            "no file:line in:\n{msg}"
        );
        assert!(
            msg.contains(needle.lines().next().unwrap()),
            "source line not quoted:\n{msg}"
        );
    }
    msg
}

#[test]
fn good_spec_gets_defaults_and_repo_paths() {
    let repo = fixture_repo();
    let exp = spec::load_with_env(&repo.join("experiments/good.toml"), &env).unwrap();
    assert_eq!(exp.name, "good");
    assert_eq!(
        exp.spec_dir,
        fs::canonicalize(repo.join("experiments")).unwrap()
    );
    assert_eq!(exp.spec_sha256.len(), 64);
    assert!(exp.spec_text.contains("name = \"good\""));
    assert_eq!(
        exp.database,
        DbSource::Generate {
            benchmark: "tpcds".into(),
            scale: 0.1,
            sample: None,
            instance: 1
        }
    );
    let ids: Vec<&str> = exp.queries.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(ids, ["1", "23a"]);
    assert_eq!(exp.queries[0].sql.trim(), "SELECT 1 AS a;");
    assert_eq!(exp.arms.len(), 1);
    let arm = &exp.arms[0];
    assert_eq!((arm.index, arm.name.as_str()), (0, "default"));
    assert!(arm.params.is_empty());
    assert_eq!(arm.generation.workers, 20);
    assert_eq!(arm.generation.retries_on_failure, 1);
    assert_eq!(arm.examples.per_worker, 3);
    assert_eq!(arm.examples.strategy, Strategy::Batches);
    assert_eq!(arm.llm.api_key_env.as_deref(), Some("DEEPSEEK_API_KEY"));
    // Defaults are found upwards from experiments/, in the repo's own folders.
    assert_eq!(
        fs::canonicalize(&arm.template_path).unwrap(),
        fs::canonicalize(repo.join("templates/v5_dag.j2")).unwrap()
    );
    assert_eq!(
        fs::canonicalize(&arm.examples_dir).unwrap(),
        fs::canonicalize(repo.join("prompts/examples")).unwrap()
    );
    // output.root defaults to the nearest folder with Cargo.toml: this crate.
    let crate_root = fs::canonicalize(env!("CARGO_MANIFEST_DIR")).unwrap();
    assert_eq!(exp.output_dir, crate_root.join("research/experiments/good"));
    assert_eq!(spec::jobs(&exp).len(), 40);
}

#[test]
fn explicit_paths_resolve_against_the_spec_folder() {
    let dir = sandbox();
    let sub = dir.path().join("experiments");
    fs::create_dir_all(&sub).unwrap();
    let text = BASE.replace(
        "dir = \"queries\"",
        "dir = \"${QT_TEST_QUERIES_MISSING:-../queries}\"",
    ) + "[output]\nroot = \"out\"\n[generation]\ntemplate = \"../templates/other.j2\"\n[llm]\napi_key_file = \"key.txt\"\n";
    let path = sub.join("x.toml");
    fs::write(&path, &text).unwrap();
    let exp = spec::load_with_env(&path, &env).unwrap();
    let canon_sub = fs::canonicalize(&sub).unwrap();
    assert_eq!(exp.output_dir, canon_sub.join("out/t"));
    assert_eq!(
        exp.arms[0].template_path,
        fs::canonicalize(dir.path())
            .unwrap()
            .join("templates/other.j2")
    );
    assert_eq!(exp.arms[0].api_key_file, Some(canon_sub.join("key.txt")));
    assert_eq!(exp.resolved.queries.dir.as_deref(), Some("../queries"));
    // No Cargo.toml/.git above a temp dir: the default output root is the spec folder.
    let plain = load_in(dir.path(), BASE).unwrap();
    assert_eq!(
        plain.output_dir,
        fs::canonicalize(dir.path())
            .unwrap()
            .join("research/experiments/t")
    );
}

#[test]
fn env_vars_expand_in_strings() {
    let dir = sandbox();
    let exp = load_in(
        dir.path(),
        &BASE.replace("\"queries\"", "\"${QT_TEST_QUERIES}\""),
    )
    .unwrap();
    assert_eq!(exp.resolved.queries.dir.as_deref(), Some("queries"));
}

#[test]
fn database_path_must_exist_and_resolves_locally() {
    let dir = sandbox();
    fs::write(dir.path().join("s.duckdb"), b"x").unwrap();
    let text = BASE.replace(
        "generate = { benchmark = \"tpcds\", scale = 0.1 }",
        "path = \"s.duckdb\"",
    );
    let exp = load_in(dir.path(), &text).unwrap();
    assert_eq!(
        exp.database,
        DbSource::Path(fs::canonicalize(dir.path()).unwrap().join("s.duckdb"))
    );
    let text = BASE.replace(
        "generate = { benchmark = \"tpcds\", scale = 0.1 }",
        "path = \"nope.duckdb\"",
    );
    assert_fails(
        &text,
        Some("path = \"nope.duckdb\""),
        &["nope.duckdb", "does not exist"],
    );
}

#[test]
fn typo_in_key_suggests_the_real_one() {
    let text = format!("{BASE}\n[generation]\nworker = 3\n");
    assert_fails(
        &text,
        Some("worker = 3"),
        &[
            "unknown key `worker` in [generation]",
            "did you mean `workers`?",
        ],
    );
}

#[test]
fn unknown_section_suggests_the_real_one() {
    let text = format!("{BASE}\n[generaton]\nworkers = 3\n");
    assert_fails(
        &text,
        Some("[generaton]"),
        &["unknown section [generaton]", "did you mean `generation`?"],
    );
}

#[test]
fn wrong_type_names_key_and_line() {
    let text = format!("{BASE}\n[generation]\nworkers = \"many\"\n");
    assert_fails(
        &text,
        Some("workers = \"many\""),
        &[
            "generation.workers",
            "invalid type: string \"many\"",
            "expected u32",
        ],
    );
}

#[test]
fn unknown_enum_value_suggests() {
    let text = format!("{BASE}\n[examples]\nstrategy = \"matchd\"\n");
    assert_fails(
        &text,
        Some("strategy = \"matchd\""),
        &["unknown value `matchd`", "did you mean `matched`?"],
    );
}

#[test]
fn unset_env_var_is_explained() {
    let text = BASE.replace("\"queries\"", "\"${QT_DEFINITELY_UNSET_VAR}/q\"");
    assert_fails(
        &text,
        Some("dir = \"${QT"),
        &[
            "QT_DEFINITELY_UNSET_VAR",
            "export QT_DEFINITELY_UNSET_VAR=",
            ":-default}",
        ],
    );
}

#[test]
fn missing_query_lists_the_folder() {
    let text = BASE.replace("ids = [1]", "ids = [1, 7]");
    assert_fails(
        &text,
        Some("ids = [1, 7]"),
        &[
            "query 7 not found",
            "query_7.sql",
            "folder has 3 .sql files",
            "ids look like 1..2, 23a",
        ],
    );
}

#[test]
fn reversed_range_is_rejected() {
    let text = BASE.replace("ids = [1]", "ids = [\n  1,\n  \"5..2\",\n]");
    assert_fails(&text, Some("\"5..2\""), &["5..2", "empty"]);
}

#[test]
fn duplicate_arm_names_are_rejected() {
    let text = format!(
        "{BASE}\n[[arms]]\nname = \"a\"\n\n[[arms]]\nname = \"b\"\n\n[[arms]]\nname = \"a\"\nset = {{ \"llm.temperature\" = 0.1 }}\n"
    );
    let at = text.rfind("name = \"a\"").unwrap();
    let dir = sandbox();
    let err = load_in(dir.path(), &text).unwrap_err();
    assert!(err.to_string().contains("duplicate arm name `a`"), "{err}");
    assert_eq!(
        err.line(),
        Some(text[..at].matches('\n').count() + 1),
        "{err}"
    );
}

#[test]
fn unknown_matrix_key_suggests() {
    let text = format!("{BASE}\n[matrix]\n\"llm.temprature\" = [0.1, 0.2]\n");
    assert_fails(
        &text,
        Some("\"llm.temprature\""),
        &[
            "unknown [matrix] key `llm.temprature`",
            "did you mean `llm.temperature`?",
        ],
    );
    let text = format!("{BASE}\n[matrix]\n\"strategy\" = [\"none\"]\n");
    assert_fails(
        &text,
        Some("\"strategy\""),
        &["did you mean `examples.strategy`?"],
    );
}

#[test]
fn matrix_value_of_wrong_type_points_at_the_value() {
    let text = format!("{BASE}\n[matrix]\n\"generation.workers\" = [2,\n  \"x\"]\n");
    assert_fails(
        &text,
        Some("\"x\"]"),
        &["generation.workers", "expected u32"],
    );
}

#[test]
fn empty_matrix_list_is_rejected() {
    let text = format!("{BASE}\n[matrix]\n\"llm.temperature\" = []\n");
    assert_fails(&text, Some("\"llm.temperature\" = []"), &["empty list"]);
}

#[test]
fn unquoted_matrix_key_is_explained() {
    let text = format!("{BASE}\n[matrix]\nllm.temperature = [0.1]\n");
    assert_fails(
        &text,
        Some("llm.temperature = [0.1]"),
        &["unquoted dotted key in [matrix]", "quote matrix keys"],
    );
}

#[test]
fn both_database_sources_are_rejected() {
    let text = BASE.replace("[database]\n", "[database]\npath = \"x.duckdb\"\n");
    assert_fails(
        &text,
        Some("generate = {"),
        &["database.path and database.generate are both set"],
    );
}

#[test]
fn missing_database_suggests_generate() {
    let text = BASE.replace(
        "[database]\ngenerate = { benchmark = \"tpcds\", scale = 0.1 }\n",
        "",
    );
    let dir = sandbox();
    let msg = load_in(dir.path(), &text).unwrap_err().to_string();
    assert!(
        msg.contains("generate = { benchmark = \"tpcds\", scale = 0.1 }")
            && msg.contains("spec.toml"),
        "{msg}"
    );
}

#[test]
fn zero_workers_is_rejected_at_its_line() {
    let text = format!("{BASE}\n[generation]\nworkers = 0\n");
    assert_fails(&text, Some("workers = 0"), &["workers must be at least 1"]);
}

#[test]
fn zero_per_worker_with_batches_is_rejected() {
    let text = format!("{BASE}\n[examples]\nper_worker = 0\n");
    assert_fails(&text, Some("per_worker = 0"), &["per_worker = 0"]);
    let dir = sandbox();
    assert!(
        load_in(
            dir.path(),
            &format!("{BASE}\n[examples]\nper_worker = 0\nstrategy = \"none\"\n")
        )
        .is_ok()
    );
}

#[test]
fn missing_template_names_the_resolved_path() {
    let text = format!("{BASE}\n[generation]\ntemplate = \"templates/nope.j2\"\n");
    assert_fails(
        &text,
        Some("template = \"templates/nope.j2\""),
        &["templates/nope.j2 not found"],
    );
}

#[test]
fn missing_template_in_an_arm_points_at_the_override() {
    let text = format!(
        "{BASE}\n[[arms]]\nname = \"x\"\nset = {{ \"generation.template\" = \"gone.j2\" }}\n"
    );
    assert_fails(&text, Some("set = {"), &["arm `x`", "gone.j2 not found"]);
}

#[test]
fn missing_examples_dir_only_matters_when_used() {
    let text = format!("{BASE}\n[examples]\ndir = \"nowhere\"\n");
    assert_fails(
        &text,
        Some("dir = \"nowhere\""),
        &["examples folder", "nowhere", "not found"],
    );
    let dir = sandbox();
    assert!(load_in(dir.path(), &format!("{text}strategy = \"none\"\n")).is_ok());
}

#[test]
fn missing_name_and_queries_are_explained() {
    let text = BASE.replace("name = \"t\"\n", "");
    assert_fails(&text, None, &["missing required key `name`"]);
    let text = "name = \"t\"\n[database]\ngenerate = {}\n";
    assert_fails(text, None, &["missing required section [queries]"]);
    let text = BASE.replace("ids = [1]\n", "");
    assert_fails(
        &text,
        Some("[queries]"),
        &["no queries selected", "ids = [1]"],
    );
}

#[test]
fn toml_syntax_errors_are_located() {
    let text = format!("{BASE}\n[llm]\nmodel = \"unterminated\n");
    assert_fails(&text, Some("model = \"unterminated"), &["invalid TOML"]);
}

#[test]
fn bad_query_id_type_is_explained() {
    let text = BASE.replace("ids = [1]", "ids = [1.5]");
    assert_fails(&text, Some("ids = [1.5]"), &["ranges (\"1..99\")"]);
}

#[test]
fn unreadable_spec_names_the_path() {
    let err = spec::load(Path::new("/nonexistent/dir/spec.toml")).unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/dir/spec.toml"),
        "{err}"
    );
    let bad: qt::error::BadInput = err.into();
    assert!(bad.0.contains("cannot read spec file"));
}

fn tpcds_env(var: &str) -> Option<String> {
    let dir = common::tpcds_queries().map(|p| p.to_string_lossy().into_owned());
    if var == "QT_TPCDS_QUERIES" { dir } else { None }
}

/// The repository's own experiments load (given the repo's templates/ and prompts/).
#[test]
fn repository_experiments_load() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if tpcds_env("QT_TPCDS_QUERIES").is_none() {
        println!(
            "skipped: TPC-DS queries not found at $QT_TPCDS_QUERIES or ../shared/tpcds/queries"
        );
        return;
    }
    let have_prompts =
        root.join("templates/v5_dag.j2").is_file() && root.join("prompts/examples").is_dir();
    for (file, arms, jobs) in [
        ("experiments/q1_20.toml", 1, 20),
        ("experiments/sweep.toml", 3, 48),
        ("experiments/examples_coverage.toml", 3, 99 * 3 * 20),
    ] {
        match spec::load_with_env(&root.join(file), &tpcds_env) {
            Ok(exp) => {
                assert_eq!(
                    (exp.arms.len(), spec::jobs(&exp).len()),
                    (arms, jobs),
                    "{file}"
                );
                assert_eq!(
                    exp.arms[0].llm.api_key_env.as_deref(),
                    Some("DEEPSEEK_API_KEY")
                );
                assert_eq!(exp.arms[0].examples.per_worker, 3);
            }
            // templates/ and prompts/ are written on another branch: until merged, the
            // only acceptable failure is that they are missing.
            Err(e) if !have_prompts => {
                assert!(e.to_string().contains("v5_dag.j2 not found"), "{file}: {e}");
                println!(
                    "skipped full check of {file}: templates/ or prompts/examples/ not in this tree"
                );
            }
            Err(e) => panic!("{file}: {e}"),
        }
    }
}

#[test]
fn unknown_key_in_an_arm_names_the_arm() {
    let text = format!("{BASE}\n[[arms]]\nname = \"a\"\nsett = {{ \"llm.temperature\" = 0.1 }}\n");
    assert_fails(
        &text,
        Some("sett = {"),
        &["unknown key `sett` in [[arms]] #1\n", "did you mean `set`?"],
    );
}

/// PostgreSQL's session settings are `[validation]` keys with PostgreSQL's own formats
/// and ranges (exit 2 naming the line and the fix), overridable per arm, recorded in the
/// effective spec; on a DuckDB database they are a warning naming the line.
#[test]
fn postgres_session_settings_are_checked_validation_keys() {
    let pg = BASE.replace(
        "generate = { benchmark = \"tpcds\", scale = 0.1 }",
        "engine = \"postgres\"\nurl = \"postgresql://qt_reader@/tpcds?host=/tmp\"",
    );
    let dir = sandbox();
    let text = format!("{pg}\n[validation]\nwork_mem = \"256MB\"\nmax_parallel_workers_per_gather = 2\ntemp_file_limit = \"-1\"\n");
    let exp = load_in(dir.path(), &text).unwrap();
    let cfg = qt::validate::ValidatorConfig::from_spec(&exp.arms[0].validation);
    assert_eq!(cfg.engine.work_mem_kb, Some(256 * 1024));
    assert_eq!(cfg.engine.max_parallel_workers_per_gather, Some(2));
    assert_eq!(cfg.engine.temp_file_limit_kb, Some(-1));
    assert!(exp.effective_spec.contains("work_mem = \"256MB\""), "{}", exp.effective_spec);
    let w = spec::limits::warnings(&exp);
    assert!(!w.iter().any(|w| w.contains("work_mem") || w.contains("PostgreSQL setting")), "{w:?}");
    // Left out: the defaults (64MB and threads - 1 are the session's; the role's own
    // temp_file_limit).
    let exp = load_in(dir.path(), &pg).unwrap();
    assert_eq!(qt::validate::ValidatorConfig::from_spec(&exp.arms[0].validation).engine, Default::default());
    for (line, expected) in [
        ("work_mem = \"64 MiB\"", &["work_mem", "MiB", "kB, MB"][..]),
        ("work_mem = \"32kB\"", &["64kB"][..]),
        ("work_mem = \"lots\"", &["does not start with a number"][..]),
        ("max_parallel_workers_per_gather = 5000", &["1024"][..]),
        ("temp_file_limit = \"huge\"", &["temp_file_limit", "-1"][..]),
    ] {
        assert_fails(&format!("{pg}\n[validation]\n{line}\n"), Some(line), expected);
    }
    // Per arm, like every [validation] key.
    let exp = load_in(dir.path(), &format!("{pg}\n[matrix]\n\"validation.work_mem\" = [\"4MB\", \"1GB\"]\n")).unwrap();
    let mems: Vec<_> = exp.arms.iter().map(|a| a.validation.work_mem.clone().unwrap()).collect();
    assert_eq!(mems, ["4MB", "1GB"]);
    // On DuckDB: a warning with the line, naming what DuckDB uses instead.
    let text = format!("{BASE}\n[validation]\nthreads = 1\nwork_mem = \"256MB\"\n");
    let exp = load_in(dir.path(), &text).unwrap();
    let w = spec::limits::warnings(&exp);
    let line = line_of(&text, "work_mem");
    assert!(
        w.iter().any(|w| w.contains(&format!("spec.toml:{line}:")) && w.contains("DuckDB") && w.contains("memory_limit")),
        "{w:?}"
    );
}
