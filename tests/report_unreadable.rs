//! `qt report` and `qt compare` on damaged records (issue 21): a validation.json with NaN,
//! Infinity, 1e309 or bytes that are not UTF-8 was dropped silently (empty table, exit 0),
//! and a 1e308 speedup printed "xinf [NaN, NaN]". Now every skipped file is named, nothing
//! readable exits 1, and speedups outside (0, 1e6] are refused and marked, never printed.

mod common;
use common::*;
use serde_json::json;
use std::path::{Path, PathBuf};

fn run_folder(root: &Path, name: &str, gens: &[&[u8]]) -> PathBuf {
    let run = root.join(name);
    std::fs::create_dir_all(&run).unwrap();
    let cfg = json!({"name": "damaged", "query_id": "1", "arms": [{"name": "a"}], "run_id": "20261127T100000Z-abcdef"});
    std::fs::write(run.join("config.json"), cfg.to_string()).unwrap();
    std::fs::write(run.join("original.sql"), "SELECT 1 AS x").unwrap();
    for (i, bytes) in gens.iter().enumerate() {
        let g = run.join(format!("gen_{:02}", i + 1));
        std::fs::create_dir_all(&g).unwrap();
        std::fs::write(g.join("validation.json"), bytes).unwrap();
    }
    run
}

fn pass(speedup: &str, lo: &str, hi: &str) -> Vec<u8> {
    format!(r#"{{"status": "pass", "arm_name": "a", "speedup": {speedup}, "timing": {{"ci95": [{lo}, {hi}], "win": true, "original_s": [1e300, 1e300], "optimized_s": [1e-300, 1e-300], "o_first": [true, false]}}}}"#)
        .into_bytes()
}

/// No "inf", "NaN" or "Infinity" word and no number longer than 20 digits.
fn assert_no_wild_numbers(text: &str, what: &str) {
    for w in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        let l = w.to_ascii_lowercase();
        assert!(!matches!(l.as_str(), "inf" | "nan" | "infinity" | "xinf"), "{what} prints `{w}`:\n{text}");
        assert!(!(w.len() > 20 && w.chars().all(|c| c.is_ascii_digit())), "{what} prints a {}-digit number:\n{text}", w.len());
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn damaged_records_are_named_implausible_speedups_refused_and_nothing_readable_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let good = pass("1.5", "1.2", "1.8");
    let a = run_folder(
        dir.path(),
        "q1_20261127_100000",
        &[
            &good,
            br#"{"status": "pass", "arm_name": "a", "speedup": NaN}"#,
            br#"{"status": "pass", "arm_name": "a", "speedup": Infinity}"#,
            br#"{"status": "pass", "arm_name": "a", "speedup": 1e309}"#,
            b"{\"status\": \"pass\", \"error\": \"\xff\xfe\"}",
        ],
    );
    std::fs::write(a.join("summary.json"), "{\"interrupted\": NaN").unwrap();

    let out = qt().args(["report", "--format", "md"]).arg(&a).output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    for g in ["gen_02", "gen_03", "gen_04", "gen_05"] {
        let named = err.lines().any(|l| l.contains(&format!("{g}/validation.json")) && l.contains("skipped"));
        assert!(named, "{g}/validation.json is named as skipped:\n{err}");
    }
    assert!(err.contains("summary.json"), "the malformed summary.json is named:\n{err}");
    assert!(!err.contains("gen_01"), "the readable generation is not named:\n{err}");

    // A speedup of 1e308 (and rounds whose ratio overflows) is refused and marked.
    let huge = pass("1e308", "1e308", "1e308");
    let b = run_folder(dir.path(), "q1_20261128_100000", &[&huge, &pass("2.0", "1.5", "2.5")]);
    let out = qt().args(["report", "--format", "md"]).arg(&b).output().unwrap();
    let (md, err) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_no_wild_numbers(&md, "the markdown report");
    assert!(err.contains("gen_01/validation.json") && err.contains("implausible"), "the refused speedup is named:\n{err}");
    assert!(md.contains("implausible"), "the report marks the refused speedup:\n{md}");
    let out = qt().args(["report", "--format", "json"]).arg(&b).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_no_wild_numbers(&text(&out.stdout), "the JSON report");
    let out = qt().args(["report"]).arg(&b).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_no_wild_numbers(&std::fs::read_to_string(b.join("report.html")).unwrap(), "the HTML report");

    for format in ["table", "md", "json"] {
        let out = qt().args(["compare", "--format", format, "--min-candidates", "1"]).arg(&a).arg(&b).output().unwrap();
        let (stdout, err) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert_no_wild_numbers(&stdout, &format!("qt compare --format {format}"));
        assert!(err.contains("gen_04/validation.json"), "compare names A's skipped files:\n{err}");
    }

    // Nothing readable: exit 1, naming the files.
    let c = run_folder(dir.path(), "q1_20261129_100000", &[b"{\"speedup\": NaN}", b"\xff"]);
    for args in [vec!["report".to_string()], vec!["compare".into(), a.display().to_string()]] {
        let out = qt().args(&args).arg(&c).output().unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("gen_01/validation.json") && err.contains("gen_02/validation.json"), "{args:?}: {err}");
        assert!(err.contains("nothing"), "{args:?} says nothing could be read: {err}");
    }
}
