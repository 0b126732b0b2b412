//! Paths users write: a relative path written in a spec resolves like its default (from
//! the spec's folder up to the project root; `./` and `../` exactly from the spec's
//! folder), and SPEC.md's example works when copied verbatim into `experiments/`.

mod common;

use qt::spec::{self, DbSource};
use std::fs;
use std::path::{Path, PathBuf};

/// SPEC.md from the shared design folder (next to the TPC-DS queries), if present.
fn spec_md() -> Option<String> {
    let mut candidates = vec![common::repo().join("../shared/design/SPEC.md")];
    if let Some(q) = std::env::var_os("QT_TPCDS_QUERIES") {
        candidates.push(PathBuf::from(q).join("../../design/SPEC.md"));
    }
    let found = candidates.into_iter().find(|p| p.is_file()).and_then(|p| fs::read_to_string(p).ok());
    if found.is_none() {
        eprintln!("skipped: SPEC.md not found (../shared/design/SPEC.md or $QT_TPCDS_QUERIES/../../design/SPEC.md)");
    }
    found
}

/// The first ```toml block of a markdown text, verbatim.
fn toml_block(md: &str) -> String {
    let start = md.find("```toml\n").expect("SPEC.md has a ```toml block") + "```toml\n".len();
    let len = md[start..].find("```").expect("the toml block is closed");
    md[start..start + len].to_string()
}

/// A project as a user has it: Cargo.toml at the root, templates/, prompts/examples/,
/// data/tpcds_sf1.duckdb, queries/query_1.sql, and the spec in experiments/.
struct Project {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Project {
    fn new() -> Project {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        fs::write(root.join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
        for d in ["templates", "prompts/examples", "data", "queries", "experiments"] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        fs::write(root.join("templates/v5_dag.j2"), "{{ query.sql }}").unwrap();
        fs::write(root.join("templates/full_sql.j2"), "{{ query.sql }}").unwrap();
        fs::write(root.join("prompts/examples/a.json"), "{}").unwrap();
        fs::write(root.join("data/tpcds_sf1.duckdb"), "").unwrap();
        fs::write(root.join("queries/query_1.sql"), "SELECT 1 AS a").unwrap();
        Project { _dir: dir, root }
    }

    fn load(&self, text: &str) -> Result<spec::Experiment, spec::SpecError> {
        let path = self.root.join("experiments/q1_20.toml");
        fs::write(&path, text).unwrap();
        let queries = self.root.join("queries").display().to_string();
        spec::load_with_env(&path, &move |v| (v == "QT_TPCDS_QUERIES").then(|| queries.clone()))
    }
}

fn check_spec_example(p: &Project, exp: &spec::Experiment) {
    let r = &p.root;
    assert_eq!(exp.output_dir, r.join("research/experiments/q1_20"));
    assert_eq!(exp.database, DbSource::Path(r.join("data/tpcds_sf1.duckdb")));
    assert_eq!(exp.queries.len(), 1);
    assert_eq!(exp.arms.len(), 4, "2 strategies x 2 temperatures");
    for arm in &exp.arms {
        assert_eq!(arm.template_path, r.join("templates/v5_dag.j2"));
        assert_eq!(arm.examples_dir, r.join("prompts/examples"));
    }
}

#[test]
fn spec_md_example_loads_verbatim_from_experiments() {
    let Some(md) = spec_md() else { return };
    let text = toml_block(&md);
    let p = Project::new();
    let exp = p.load(&text).unwrap_or_else(|e| panic!("SPEC.md's example does not load verbatim: {e}\n{text}"));
    check_spec_example(&p, &exp);
}

#[test]
fn writing_a_default_out_changes_nothing() {
    let Some(md) = spec_md() else { return };
    let text = toml_block(&md);
    let p = Project::new();
    // root written as the default would be, then left out entirely.
    let written = text.replace("root = \"../research/experiments\"", "root = \"research/experiments\"");
    assert_ne!(written, text, "SPEC.md's example writes output.root");
    check_spec_example(&p, &p.load(&written).unwrap());
    let default: String = text.lines().filter(|l| !l.starts_with("root =")).collect::<Vec<_>>().join("\n");
    check_spec_example(&p, &p.load(&default).unwrap());
    // The other template, written as it is named in the repository.
    let other = written.replace("templates/v5_dag.j2", "templates/full_sql.j2");
    let exp = p.load(&other).unwrap();
    assert_eq!(exp.arms[0].template_path, p.root.join("templates/full_sql.j2"));
}

const SMALL: &str = r#"name = "s"
[database]
path = "data/tpcds_sf1.duckdb"
[queries]
dir = "queries"
ids = [1]
"#;

#[test]
fn written_paths_resolve_like_defaults_without_spec_md() {
    let p = Project::new();
    let exp = p.load(&format!("{SMALL}[output]\nroot = \"research/experiments\"\n[generation]\ntemplate = \"templates/full_sql.j2\"\n[examples]\ndir = \"prompts/examples\"\n")).unwrap();
    assert_eq!(exp.output_dir, p.root.join("research/experiments/s"));
    assert_eq!(exp.arms[0].template_path, p.root.join("templates/full_sql.j2"));
    assert_eq!(exp.queries[0].path, p.root.join("queries/query_1.sql"));
    let defaults = p.load(SMALL).unwrap();
    assert_eq!(defaults.output_dir, exp.output_dir);
    // `./` is the spec's own folder, exactly.
    let here = p.load(&format!("{SMALL}[output]\nroot = \"./out\"\n")).unwrap();
    assert_eq!(here.output_dir, p.root.join("experiments/out/s"));
    // A file next to the spec wins over the project's.
    fs::create_dir_all(p.root.join("experiments/templates")).unwrap();
    fs::write(p.root.join("experiments/templates/full_sql.j2"), "near").unwrap();
    let near = p.load(&format!("{SMALL}[generation]\ntemplate = \"templates/full_sql.j2\"\n")).unwrap();
    assert_eq!(near.arms[0].template_path, p.root.join("experiments/templates/full_sql.j2"));
}

#[test]
fn a_path_found_nowhere_names_every_place_tried() {
    let p = Project::new();
    let err = p.load(&format!("{SMALL}[generation]\ntemplate = \"templates/nope.j2\"\n")).unwrap_err().to_string();
    for place in [p.root.join("experiments/templates/nope.j2"), p.root.join("templates/nope.j2")] {
        assert!(err.contains(&place.display().to_string()), "{err}");
    }
    assert!(err.contains("q1_20.toml:"), "names the spec file and line: {err}");
    let err = p.load(&SMALL.replace("data/tpcds_sf1.duckdb", "data/other.duckdb")).unwrap_err().to_string();
    assert!(err.contains(&Path::new(&p.root).join("data/other.duckdb").display().to_string()), "{err}");
    assert!(err.contains("project root"), "{err}");
}

#[test]
fn instances_beyond_the_users_own_dbs_are_a_warning_naming_the_line() {
    let p = Project::new();
    let text = format!("{SMALL}[validation]\ninstances = 3\n");
    let exp = p.load(&text).expect("instances counts generated DBs: with database.path it is not an error");
    let w = qt::spec::limits::warnings(&exp);
    assert!(w.iter().any(|l| l.contains("q1_20.toml:8: instances = 3 counts generated data instances")), "{w:?}");
    let exp = p.load(&format!("{SMALL}[validation]\ninstances = 1\n")).unwrap();
    assert!(!qt::spec::limits::warnings(&exp).iter().any(|l| l.contains("instances")));
}
