//! The HTML report, run ids, valid@k in summary.json, `qt report`, `qt compare` and the
//! README's DuckDB queries, end to end on the offline demo (scale-0.01 sample DB, replayed
//! answers), plus the report in a real headless Chromium: every generation in the DOM,
//! filtering by status, no console error, no network request, a screenshot kept under
//! the target folder.

mod common;
use common::browser::{browse, chromium};
use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

/// Where tests keep artifacts (the screenshot, the demo's output tree).
fn artifacts() -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| repo().join("target"));
    let d = base.join("qt-test-artifacts");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The offline demo (3 queries x 4 replayed answers) run once per test binary; returns
/// the sweep folder `<out>/demo`.
fn demo() -> &'static Path {
    static DEMO: OnceLock<PathBuf> = OnceLock::new();
    DEMO.get_or_init(|| {
        let dir = artifacts().join("report-demo");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let text = std::fs::read_to_string(repo().join("experiments/demo.toml")).unwrap();
        let text = text
            .replace("scale = 1.0", "scale = 0.01")
            .replace("\"../research/experiments\"", &format!("\"{}\"", dir.join("out").display()))
            .replace("\"../", "\"@REPO@/");
        let spec = write_spec(&dir, "demo.toml", &text);
        // One override, so the report header shows it.
        let out = qt().args(["run", spec.to_str().unwrap(), "--set", "description=the offline demo"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("report:"), "the run says where its report is:\n{stdout}");
        dir.join("out/demo")
    })
}

fn run_folders(sweep: &Path) -> Vec<PathBuf> {
    sorted_entries(sweep, |p| p.is_dir() && p.join("config.json").is_file())
}

#[test]
fn every_run_and_the_sweep_get_a_self_contained_report() {
    let sweep = demo();
    let runs = run_folders(sweep);
    assert_eq!(runs.len(), 3);
    for run in &runs {
        let html = std::fs::read_to_string(run.join("report.html")).unwrap();
        for g in gen_dirs(run) {
            let name = g.file_name().unwrap().to_string_lossy().into_owned();
            assert!(html.contains(&format!("id=\"{name}\"")), "{name} missing from {}", run.display());
        }
        assert_self_contained(&html);
        assert!(html.contains("valid@k") && html.contains("best-speedup@k"));
        assert!(html.contains("id=\"qt-data\""), "details travel as one JSON blob");
    }
    let html = std::fs::read_to_string(sweep.join("report.html")).unwrap().replace("&#x2f;", "/");
    assert_self_contained(&html);
    assert!(html.contains("id=\"matrix\""));
    for run in &runs {
        let link = format!("href=\"{}/report.html\"", run.file_name().unwrap().to_string_lossy());
        assert!(html.contains(&link), "the sweep page links to {link}");
    }
    assert!(html.contains("id=\"transforms\"") && html.contains("decorrelate"), "per-transform table");
}

/// No external resource can be loaded: a CSP that forbids everything but inline code, and
/// no http(s) URL, external script or stylesheet in the markup.
fn assert_self_contained(html: &str) {
    assert!(html.contains("content=\"default-src 'none';"), "CSP meta");
    for attr in ["src=\"", "href=\""] {
        for (i, _) in html.match_indices(attr) {
            let v = &html[i + attr.len()..];
            assert!(!v.starts_with("http") && !v.starts_with("//"), "external {attr}{}", &v[..v.len().min(60)]);
        }
    }
    assert!(!html.contains("<link") && !html.contains("<script src") && !html.contains("@import"));
}

#[test]
fn run_ids_transforms_and_valid_at_k_are_recorded() {
    let sweep = demo();
    let sw = read_json(&sweep.join("summary.json"));
    let id = sw["run_id"].as_str().expect("sweep summary has the run id").to_string();
    assert_eq!(read_json(&sweep.join("runs").join(&id).join("summary.json"))["run_id"], id.as_str());
    assert_eq!(read_json(&sweep.join("runs/latest/summary.json"))["run_id"], id.as_str());
    let mut transforms = std::collections::BTreeSet::new();
    for run in run_folders(sweep) {
        assert_eq!(read_json(&run.join("config.json"))["run_id"], id.as_str());
        for line in std::fs::read_to_string(run.join("results.jsonl")).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["run_id"], id.as_str());
            assert!(v["transforms"].is_array());
        }
        for g in gen_dirs(&run) {
            let v = read_json(&g.join("validation.json"));
            transforms.extend(v["transforms"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()));
        }
        let s = read_json(&run.join("summary.json"));
        let at_k = s["arms"][0]["at_k"].as_array().expect("at_k curve per arm");
        assert_eq!(at_k.len(), 4, "k = 1..4 for 4 workers");
        assert_eq!(at_k[0]["k"], 1);
        let valid1 = at_k[0]["valid"].as_f64().unwrap();
        assert!((valid1 - s["arms"][0]["valid_rate"].as_f64().unwrap()).abs() < 1e-3, "valid@1 is the valid rate");
        assert!(at_k.windows(2).all(|w| w[0]["valid"].as_f64() <= w[1]["valid"].as_f64()));
    }
    assert!(transforms.contains("decorrelate"), "{transforms:?}");
}

#[test]
fn qt_report_renders_markdown_and_json_and_refuses_a_stranger_folder() {
    let sweep = demo();
    let run = &run_folders(sweep)[0];
    let md = qt().args(["report", run.to_str().unwrap(), "--format", "md"]).output().unwrap();
    assert_eq!(md.status.code(), Some(0), "{}", String::from_utf8_lossy(&md.stderr));
    let text = String::from_utf8_lossy(&md.stdout);
    assert!(text.starts_with("# qt report: demo") && text.contains("valid@k"), "markdown goes to stdout without --out: {text}");
    assert!(!run.join("report.md").exists(), "and no file is written");
    let js = qt().args(["report", sweep.to_str().unwrap(), "--format", "json", "--out", "-"]).output().unwrap();
    let model: Value = serde_json::from_slice(&js.stdout).unwrap();
    assert_eq!(model["kind"], "sweep");
    assert_eq!(model["runs"].as_array().unwrap().len(), 3);
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("r.html");
    qt().args(["report", run.to_str().unwrap(), "--out", dest.to_str().unwrap()]).assert().success();
    assert!(std::fs::read_to_string(&dest).unwrap().contains("<!doctype html>"));
    let bad = qt().args(["report", out.path().to_str().unwrap()]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a qt run folder"));
}

// ---- qt compare on synthetic run trees (exact, known differences) ----

/// A run folder of query `q` with one arm and the given (status, speedup) generations.
fn fake_run(root: &Path, q: &str, arm: &str, gens: &[(&str, Option<f64>)]) -> PathBuf {
    let run = root.join(format!("q{q}_20261127_100000"));
    std::fs::create_dir_all(&run).unwrap();
    let cfg = json!({"name": "fake", "query_id": q, "arms": [{"name": arm}], "run_id": "20261127T100000Z-abcdef"});
    std::fs::write(run.join("config.json"), cfg.to_string()).unwrap();
    for (i, (status, speedup)) in gens.iter().enumerate() {
        let g = run.join(format!("gen_{:02}", i + 1));
        std::fs::create_dir_all(&g).unwrap();
        let v = json!({"status": status, "speedup": speedup, "arm_name": arm, "reason": if *status == "pass" { Value::Null } else { json!("value_mismatch") },
                       "original_time": 0.5, "timing": {"ci95": speedup.map(|s| [s * 0.9, s * 1.1]), "win": speedup.is_some_and(|s| s > 1.2)},
                       "cost_usd": 0.001, "cost_usd_cached": 0.0});
        std::fs::write(g.join("validation.json"), v.to_string()).unwrap();
    }
    run
}

fn fake_sweep(root: &Path, runs: &[PathBuf]) {
    let rows: Vec<Value> = runs.iter().map(|r| json!({"run_dir": r})).collect();
    std::fs::write(root.join("summary.json"), json!({"name": "fake", "rows": rows}).to_string()).unwrap();
}

fn side(root: &Path, valid: usize, speed: f64) -> PathBuf {
    let gens: Vec<(&str, Option<f64>)> =
        (0..10).map(|i| if i < valid { ("pass", Some(speed + i as f64 * 0.02)) } else { ("validation_failed", None) }).collect();
    let runs: Vec<PathBuf> = ["1", "2", "3", "4"].iter().map(|q| fake_run(root, q, "batches", &gens)).collect();
    fake_sweep(root, &runs);
    root.to_path_buf()
}

#[test]
fn compare_gives_a_verdict_with_an_interval_in_every_format() {
    let t = tempfile::tempdir().unwrap();
    let a = side(&t.path().join("a"), 2, 1.3);
    let b = side(&t.path().join("b"), 8, 2.0);
    let out = qt().args(["compare", a.to_str().unwrap(), b.to_str().unwrap()]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("batches: B better (4 queries"), "{text}");
    assert!(text.contains("valid rate +60 pts ["), "the interval is printed: {text}");
    assert!(
        text.contains("cost per valid rewrite, batches: A $0.005000 (8 valid of 40, $0.0400 in all), B $0.001250 (32 valid of 40, $0.0400 in all): x0.25"),
        "{text}"
    );
    let back = qt().args(["compare", b.to_str().unwrap(), a.to_str().unwrap(), "--format", "md"]).output().unwrap();
    let md = String::from_utf8_lossy(&back.stdout);
    assert!(md.contains("| batches | **B worse** | 4 |"), "{md}");
    assert!(md.contains("- cost per valid rewrite, batches: A $0.001250"), "{md}");
    let same = qt().args(["compare", a.to_str().unwrap(), a.to_str().unwrap(), "--format", "json"]).output().unwrap();
    let c: Value = serde_json::from_slice(&same.stdout).unwrap();
    assert_eq!(c["arms"][0]["verdict"], "no_evidence");
    assert_eq!(c["rows"].as_array().unwrap().len(), 4);
    // Reproducible: the bootstrap is seeded.
    let again = qt().args(["compare", a.to_str().unwrap(), b.to_str().unwrap(), "--format", "json"]).output().unwrap();
    let once = qt().args(["compare", a.to_str().unwrap(), b.to_str().unwrap(), "--format", "json"]).output().unwrap();
    assert_eq!(again.stdout, once.stdout);
}

#[test]
fn compare_refuses_runs_that_share_no_query() {
    let t = tempfile::tempdir().unwrap();
    let a = fake_run(&t.path().join("a"), "1", "x", &[("pass", Some(1.5))]);
    let b = fake_run(&t.path().join("b"), "2", "x", &[("pass", Some(1.5))]);
    let out = qt().args(["compare", a.to_str().unwrap(), b.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("share no query") && err.contains("A has 1, B has 2"), "{err}");
}

#[test]
fn compare_refuses_arms_that_do_not_pair_and_map_pairs_them() {
    let t = tempfile::tempdir().unwrap();
    let gens: Vec<(&str, Option<f64>)> = (0..6).map(|i| ("pass", Some(1.2 + i as f64 * 0.01))).collect();
    let a = fake_run(&t.path().join("a"), "1", "default", &gens);
    let b1 = fake_run(&t.path().join("b"), "1", "dag_batches", &gens);
    let out = qt().args(["compare", a.to_str().unwrap(), b1.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("A's arms: default") && err.contains("B's arms: dag_batches") && err.contains("--map default=dag_batches"), "{err}");
    let out = qt().args(["compare", a.to_str().unwrap(), b1.to_str().unwrap(), "--map", "default=dag_batches", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let c: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(c["rows"][0]["arm"], "default -> dag_batches");
    assert_eq!(c["arms"][0]["candidates_b"], 6);
    let bad = qt().args(["compare", a.to_str().unwrap(), b1.to_str().unwrap(), "--map", "default=nope"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("`nope`"), "{}", String::from_utf8_lossy(&bad.stderr));
}

#[test]
fn copies_of_one_candidate_are_not_enough_evidence() {
    // The issue's case: B's 6 generations are one SQL (gen_01 timed, 5 copies).
    let t = tempfile::tempdir().unwrap();
    let a = fake_run(&t.path().join("a"), "1", "x", &[("pass", Some(1.0)); 6]);
    let b = fake_run(&t.path().join("b"), "1", "x", &[("pass", Some(1.096)); 6]);
    for n in 2..=6 {
        let p = b.join(format!("gen_{n:02}/validation.json"));
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        v["same_as"] = json!("gen_01");
        std::fs::write(&p, v.to_string()).unwrap();
    }
    let out = qt().args(["compare", a.to_str().unwrap(), b.to_str().unwrap()]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("x: not enough evidence (1 query; 6 vs 1 distinct candidates"), "{text}");
    assert!(text.contains("5 copies not counted") && !text.contains("B better"), "{text}");
}

#[test]
fn compare_two_arms_of_one_run() {
    let t = tempfile::tempdir().unwrap();
    let run = fake_run(t.path(), "1", "low", &[("pass", Some(1.05)); 8]);
    let cfg = json!({"name": "fake", "query_id": "1", "arms": [{"name": "low"}, {"name": "high"}], "run_id": "20261127T100000Z-abcdef"});
    std::fs::write(run.join("config.json"), cfg.to_string()).unwrap();
    for n in 9..=16 {
        let g = run.join(format!("gen_{n:02}"));
        std::fs::create_dir_all(&g).unwrap();
        let v = json!({"status": "pass", "speedup": 2.0 + n as f64 * 0.01, "arm_name": "high", "original_time": 0.5,
                       "timing": {"ci95": [1.9, 2.2], "win": true}});
        std::fs::write(g.join("validation.json"), v.to_string()).unwrap();
    }
    let out = qt().args(["compare", run.to_str().unwrap(), "--arms", "low,high"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("low -> high: B better (1 query; 8 vs 8 distinct candidates"), "{text}");
    let bad = qt().args(["compare", run.to_str().unwrap(), "--arms", "low,nope"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("its arms: low, high"), "{}", String::from_utf8_lossy(&bad.stderr));
}

// ---- the README's DuckDB queries over results.jsonl ----

/// The ```sql blocks of the README section "Query the results with DuckDB".
fn readme_queries() -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme.find("## Query the results with DuckDB").expect("README section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map(|i| i + 3).unwrap_or(section.len())];
    section.split("```sql").skip(1).map(|b| b[..b.find("```").unwrap()].trim().to_string()).collect()
}

/// DuckDB as bundled here has no JSON extension, so the test loads results.jsonl into a
/// table `results` with one column per top-level field (the columns `read_json` would
/// infer) and runs each README query with its `read_json(...)` replaced by that table:
/// a renamed or missing field fails the query.
#[test]
fn readme_duckdb_queries_run_on_real_results() {
    let sweep = demo();
    let queries = readme_queries();
    assert!(queries.len() >= 2, "{queries:?}");
    let con = duckdb::Connection::open_in_memory().unwrap();
    let mut lines: Vec<Value> = Vec::new();
    for run in run_folders(sweep) {
        for l in std::fs::read_to_string(run.join("results.jsonl")).unwrap().lines() {
            lines.push(serde_json::from_str(l).unwrap());
        }
    }
    let mut cols: Vec<(String, &str)> = Vec::new();
    for v in &lines {
        for (k, x) in v.as_object().unwrap() {
            let ty = match x {
                Value::Number(_) => "DOUBLE",
                Value::Bool(_) => "BOOLEAN",
                _ => "VARCHAR",
            };
            if !x.is_null() && !cols.iter().any(|c| c.0 == *k) {
                cols.push((k.clone(), ty));
            }
        }
    }
    let ddl: Vec<String> = cols.iter().map(|(k, t)| format!("\"{k}\" {t}")).collect();
    con.execute_batch(&format!("CREATE TABLE results ({})", ddl.join(", "))).unwrap();
    for v in &lines {
        let vals: Vec<String> = cols
            .iter()
            .map(|(k, _)| match &v[k] {
                Value::Null => "NULL".into(),
                Value::String(s) => format!("'{}'", s.replace('\'', "''")),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => format!("'{}'", other.to_string().replace('\'', "''")),
            })
            .collect();
        con.execute_batch(&format!("INSERT INTO results VALUES ({})", vals.join(", "))).unwrap();
    }
    for q in &queries {
        let i = q.find("read_json(").expect("each README query reads results.jsonl with read_json");
        let j = i + q[i..].find(')').unwrap();
        let sql = format!("{}results{}", &q[..i], &q[j + 1..]);
        let mut stmt = con.prepare(&sql).unwrap_or_else(|e| panic!("README query fails: {e}\n{q}"));
        let n = stmt.query_map([], |_| Ok(())).unwrap().count();
        assert!(n > 0, "README query returns no row on the demo:\n{q}");
    }
}

// ---- in a real browser ----

/// Opening tags of the generation groups in a dumped DOM.
fn gen_groups(dom: &str) -> Vec<&str> {
    dom.match_indices("<tbody class=\"gen\"").map(|(i, _)| &dom[i..i + dom[i..].find('>').unwrap()]).collect()
}

#[test]
fn the_report_works_in_a_real_browser() {
    let Some(bin) = chromium() else { return };
    let sweep = demo();
    let run = &run_folders(sweep)[0];
    let page = run.join("report.html");
    let gens = gen_dirs(run).len();
    let url = format!("file://{}", page.display());

    let (dom, log) = browse(&bin, &url, &["--virtual-time-budget=5000", "--dump-dom"]);
    assert!(dom.contains("data-js=\"ok\""), "the script ran to the end:\n{log}");
    assert!(dom.contains("<div id=\"js-errors\" hidden=\"\"></div>"), "no script error recorded");
    assert_eq!(gen_groups(&dom).len(), gens, "every generation is in the DOM");
    assert!(gen_groups(&dom).iter().all(|t| !t.contains("hidden")), "nothing hidden without a filter");
    // The page logs nothing itself: any console line is an error, an uncaught exception
    // or a request blocked by the Content-Security-Policy (an attempted network access).
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE") || l.contains("Refused to")).collect();
    assert!(console.is_empty(), "browser console:\n{}", console.join("\n"));
    // The header names the run's overrides and its cost (replayed answers are free), and
    // every arm row has a cost and a cost per valid rewrite.
    assert!(dom.contains("<code>--set description=the offline demo</code>"), "overrides in the header");
    assert!(dom.contains("<dd id=\"cost\">$0.0000 spent, $0.0000 from the response cache</dd>"), "cost in the header");
    assert!(dom.contains("<td class=\"n cost\">$0.0000</td>"), "cost per arm");

    let (dom, _) = browse(&bin, &format!("{url}#status=pass"), &["--virtual-time-budget=5000", "--dump-dom"]);
    let groups = gen_groups(&dom);
    assert_eq!(groups.len(), gens);
    let passes = groups.iter().filter(|t| t.contains("data-status=\"pass\"")).count();
    assert!(passes > 0 && passes < gens, "the demo has passes and failures");
    for t in &groups {
        assert_eq!(t.contains("hidden"), !t.contains("data-status=\"pass\""), "filter by status: {t}");
    }
    assert!(dom.contains(&format!("{passes} of {gens} generations shown")));

    // Expanding every generation (URL `open=all`) builds the details from the blob: the
    // rewrite as a highlighted diff, the prompt and the raw response.
    let (dom, log) = browse(&bin, &format!("{url}#open=all"), &["--virtual-time-budget=5000", "--dump-dom"]);
    assert!(dom.contains("<del>") || dom.contains("<ins>"), "the rewrite is shown as a diff:\n{log}");
    assert!(dom.contains("<b>SELECT</b>") || dom.contains("<b>select</b>"), "keywords are highlighted");
    assert_eq!(dom.matches("<summary>raw response</summary>").count(), gens, "every response, once");
    assert!(dom.contains("data-js=\"ok\""));

    let shot = artifacts().join("report.png");
    let _ = std::fs::remove_file(&shot);
    browse(&bin, &url, &["--virtual-time-budget=5000", "--window-size=1400,1800", &format!("--screenshot={}", shot.display())]);
    assert!(std::fs::metadata(&shot).map(|m| m.len() > 10_000).unwrap_or(false), "screenshot at {}", shot.display());
    eprintln!("screenshot: {}", shot.display());
}
