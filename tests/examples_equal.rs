//! A/A over every gold example: its "before" SQL (`input`) and its "after" SQL (`output`
//! assembled the way an LLM answer is) must give the same, non-empty result on the
//! scale-0.01 TPC-DS sample DB, checked by the real validation code (sandbox, baseline
//! self-consistency, equivalence). A wrong example can then never teach a wrong rewrite.

mod db_support;

use qt::dag::{assemble, parse_dag};
use qt::prompt::load_examples;
use qt::spec::ResponseFormat;
use qt::validate::{TimingLane, ValidatorConfig, prepare_baseline, validate_candidate};
use std::path::Path;
use std::time::Duration;

#[test]
fn every_example_rewrite_gives_the_same_rows_as_its_input() {
    let db = db_support::sample_db("examples_equal");
    let examples =
        load_examples(&Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts/examples")).unwrap();
    let cfg = ValidatorConfig {
        threads: 1,
        memory_limit: "1GB".into(),
        timing_rounds: 0,
        warmup: 0,
        timeout_factor: 10.0,
        original_timeout: Duration::from_secs(60),
        skip_timing: true,
        ..Default::default()
    };
    let lane = TimingLane::new();
    let mut failures = Vec::new();
    for e in &examples {
        let dag = parse_dag(&e.input).unwrap_or_else(|err| panic!("{}: input: {err}", e.id));
        let after = assemble(&dag, &e.output.to_string(), ResponseFormat::DagJson)
            .unwrap_or_else(|err| panic!("{}: output: {err}", e.id));
        let verdict = match prepare_baseline(db, &e.input, &cfg, &lane) {
            Ok(base) => validate_candidate(db, &base, &after, &cfg, &lane),
            Err(v) => v,
        };
        let rows = verdict.rows().map(|r| r.original).unwrap_or(0);
        eprintln!("{}: {} ({rows} rows)", e.id, verdict.summary_line());
        if !verdict.is_pass() {
            failures.push(format!(
                "{}: {}\n  after: {after}",
                e.id,
                verdict.render_human()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "examples whose rewrite is not equal:\n{}",
        failures.join("\n")
    );

    // Control: the same check refuses a wrong rewrite (ex04 with its second branch lost).
    let e = examples
        .iter()
        .find(|e| e.id.starts_with("ex04"))
        .expect("ex04 is shipped");
    let wrong = e.output["rewrite_sets"][0]["nodes"]["main_query"]
        .as_str()
        .unwrap();
    let wrong = wrong.split(" UNION ALL ").next().unwrap();
    let base = prepare_baseline(db, &e.input, &cfg, &lane).expect("ex04 baseline");
    let verdict = validate_candidate(db, &base, wrong, &cfg, &lane);
    assert!(
        !verdict.is_pass(),
        "a dropped branch must not pass: {}",
        verdict.summary_line()
    );
}
