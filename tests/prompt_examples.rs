//! Gold examples on disk: loading rules and, for every shipped example, that its answer
//! assembles against its own input — the examples teach the exact answer format.

use qt::dag::{PATTERNS, assemble, detect_patterns, parse_dag, pattern_names, query_features};
use qt::prompt::{PromptError, load_examples, load_examples_for};
use qt::spec::{ResponseFormat, Strategy};
use std::path::Path;

fn shipped() -> Vec<qt::prompt::Example> {
    load_examples(&Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts/examples")).unwrap()
}

#[test]
fn shipped_examples_load_sorted_and_assemble() {
    let examples = shipped();
    assert!(examples.len() >= 20, "{} examples", examples.len());
    let ids: Vec<&str> = examples.iter().map(|e| e.id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    for e in &examples {
        let dag = parse_dag(&e.input).unwrap_or_else(|err| panic!("{}: input: {err}", e.id));
        let answer = e.output.to_string();
        assemble(&dag, &answer, ResponseFormat::DagJson)
            .unwrap_or_else(|err| panic!("{}: {err}", e.id));
        // Tags use the query_features vocabulary, and the input itself shows most of them.
        let features = query_features(&dag);
        let shown = e.tags.iter().filter(|t| features.contains(*t)).count();
        assert!(
            shown * 2 >= e.tags.len(),
            "{}: tags {:?} vs features {features:?}",
            e.id,
            e.tags
        );
        for field in [&e.name, &e.description, &e.key_insight, &e.evidence] {
            assert!(!field.trim().is_empty(), "{}", e.id);
        }
    }
}

#[test]
fn bad_json_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.json"),
        "{\n  \"id\": \"a\",\n  \"name\": oops\n}",
    )
    .unwrap();
    let err = load_examples(dir.path()).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, PromptError::BadExample { line: 3, .. }),
        "{msg}"
    );
    assert!(msg.contains("a.json:3:"), "{msg}");
}

#[test]
fn unknown_fields_and_unusable_outputs_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = serde_json::to_value(&shipped()[0]).unwrap();
    e["output"] = serde_json::json!({"rewrite_sets": []});
    std::fs::write(dir.path().join("x.json"), e.to_string()).unwrap();
    let msg = load_examples(dir.path()).unwrap_err().to_string();
    assert!(
        msg.contains("x.json") && msg.contains("rewrite_sets is empty"),
        "{msg}"
    );
    e["extra"] = serde_json::json!(1);
    std::fs::write(dir.path().join("x.json"), e.to_string()).unwrap();
    assert!(
        load_examples(dir.path())
            .unwrap_err()
            .to_string()
            .contains("extra")
    );
}

#[test]
fn empty_folder_is_an_error_unless_strategy_is_none() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        load_examples(dir.path()),
        Err(PromptError::NoExamples(_))
    ));
    assert!(load_examples_for(dir.path(), Strategy::Batches).is_err());
    assert!(
        load_examples_for(&dir.path().join("missing"), Strategy::None)
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        load_examples(&dir.path().join("missing")),
        Err(PromptError::Read { .. })
    ));
}

#[test]
fn every_example_input_shows_the_patterns_it_fixes_and_every_pattern_has_an_example() {
    let examples = shipped();
    for e in &examples {
        assert!(!e.patterns.is_empty(), "{} declares no pattern", e.id);
        let shown = pattern_names(&detect_patterns(&parse_dag(&e.input).unwrap(), None));
        for p in &e.patterns {
            assert!(
                shown.contains(p),
                "{}: declares {p} but its input shows {shown:?}",
                e.id
            );
        }
    }
    for def in PATTERNS {
        let n = examples
            .iter()
            .filter(|e| e.patterns.iter().any(|p| p == def.name))
            .count();
        assert!(n >= 1, "no example fixes pattern {}", def.name);
    }
}

#[test]
fn unknown_pattern_names_are_rejected_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = serde_json::to_value(&shipped()[0]).unwrap();
    e["patterns"] = serde_json::json!(["correlated_scalar_subqery"]);
    std::fs::write(dir.path().join("x.json"), e.to_string()).unwrap();
    let msg = load_examples(dir.path()).unwrap_err().to_string();
    assert!(
        msg.contains("x.json") && msg.contains("did you mean `correlated_scalar_subquery`"),
        "{msg}"
    );
}
