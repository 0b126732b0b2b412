//! The report under hostile records (issue 21): 100 MB of notes once made a 243 MB page
//! that took 78 s to load, bidi controls reversed SQL lines, and the CSP allowed any
//! inline script. Now notes and details are capped ("N more"), control and bidi
//! characters are shown as `\u{XXXX}`, and the CSP runs only the page's own script (its
//! sha256), checked in a real headless Chromium.

mod common;
use common::browser::{browse, chromium};
use common::*;
use serde_json::json;
use std::path::{Path, PathBuf};

const RLO: char = '\u{202E}';

fn hostile_run(root: &Path) -> PathBuf {
    let run = root.join("q1_20261127_100000");
    std::fs::create_dir_all(&run).unwrap();
    let cfg = json!({"name": "hostile", "query_id": "1", "arms": [{"name": "a"}], "run_id": "20261127T100000Z-abcdef"});
    std::fs::write(run.join("config.json"), cfg.to_string()).unwrap();
    std::fs::write(run.join("original.sql"), "SELECT 1 AS x").unwrap();
    let g = run.join("gen_01");
    std::fs::create_dir_all(&g).unwrap();
    let mut notes: Vec<String> = (0..500).map(|i| format!("note {i}")).collect();
    notes[0] = format!("WHERE admin {RLO} -- reversed \u{1b}[31m red");
    notes[1] = "n".repeat(5_000_000);
    let v = json!({"status": "validation_failed", "reason": "value_mismatch", "arm_name": "a",
                   "error": format!("rows differ {RLO}{}", "e".repeat(3_000_000)), "notes": notes});
    std::fs::write(g.join("validation.json"), v.to_string()).unwrap();
    std::fs::write(g.join("optimized.sql"), format!("SELECT 1 AS x -- {RLO} hidden\n")).unwrap();
    std::fs::write(g.join("response.txt"), format!("{{\"sql\": \"SELECT 1 AS x\"}} {RLO}{}", "r".repeat(2_000_000))).unwrap();
    run
}

#[test]
fn hostile_records_give_a_small_visible_report_with_a_hashed_script() {
    let dir = tempfile::tempdir().unwrap();
    let run = hostile_run(dir.path());
    let out = qt().args(["report"]).arg(&run).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let page = run.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.len() < 2_000_000, "the report stays small: {} bytes", html.len());
    assert!(!html.contains(RLO) && !html.contains('\u{1b}'), "no raw bidi or escape character in the page");
    assert!(html.contains("\\u{202E}"), "bidi controls are shown as escapes");
    assert!(html.contains("more notes in validation.json"), "notes say how many more there are");
    assert!(html.contains("more bytes in"), "long texts say how much more there is");
    let csp = html.lines().find(|l| l.contains("Content-Security-Policy")).unwrap();
    assert!(!csp.contains("unsafe-inline'; img") && csp.contains("script-src 'sha256-"), "{csp}");
    assert!(!csp.contains("script-src 'unsafe-inline'"), "{csp}");

    let md = qt().args(["report", "--format", "md"]).arg(&run).output().unwrap();
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(!md.contains(RLO), "markdown shows escapes too");

    let Some(bin) = chromium() else { return };
    let url = format!("file://{}#open=all", page.display());
    let (dom, log) = browse(&bin, &url, &["--virtual-time-budget=5000", "--dump-dom"]);
    assert!(dom.contains("data-js=\"ok\""), "the hashed script ran:\n{log}");
    let refused: Vec<&str> = log.lines().filter(|l| l.contains("Refused to") || l.contains(":CONSOLE")).collect();
    assert!(refused.is_empty(), "browser console:\n{}", refused.join("\n"));
    assert!(!dom.contains(RLO), "no bidi control reaches the DOM (details built by the script included)");
    assert!(dom.contains("\\u{202E}"), "the escape is visible");

    // An injected inline script (a page edited by hand, or a template mistake) does not run.
    let tampered = dir.path().join("tampered.html");
    std::fs::write(&tampered, html.replacen("</body>", "<script>document.body.setAttribute('data-evil','1')</script></body>", 1)).unwrap();
    let (dom, log) = browse(&bin, &format!("file://{}", tampered.display()), &["--virtual-time-budget=5000", "--dump-dom"]);
    assert!(dom.contains("data-js=\"ok\""), "{log}");
    assert!(!dom.contains("data-evil=\"1\""), "an inline script without the hash is refused by the CSP");
}
