//! The full-size confirmation stage, end to end at small scale: the primary is TPC-DS
//! scale 1 with 1% of the facts (plus its default extra instances), the "full" DB is
//! TPC-DS scale 1 unsampled. Three replayed rewrites of one of our own queries: two
//! correct ones, and one that filters out a ticket only the full data holds (found at test
//! time), so it passes on every sample instance and differs at full size.
//!
//! Checked: the wrong one is `validation_failed/differs_at_full_scale` in its confirm
//! record and loud on the console; a correct one gets both speedups; the screening fields
//! are untouched; an interrupted stage resumes with only the rest; `qt confirm` works on a
//! copied run folder (and refuses the run's own sample, a held lock); bad input is exit 2
//! before anything runs.

mod common;
use common::*;
use qt::db::{self, GenSpec};
use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const QUERY: &str = "SELECT d_year, d_moy, count(*) AS sales, sum(ss_quantity) AS qty
FROM store_sales JOIN date_dim ON ss_sold_date_sk = d_date_sk
GROUP BY d_year, d_moy
ORDER BY d_year, d_moy
";

const PREAGG: &str = "SELECT d_year, d_moy, sum(n) AS sales, sum(q) AS qty
FROM (SELECT ss_sold_date_sk, count(*) AS n, sum(ss_quantity) AS q FROM store_sales GROUP BY ss_sold_date_sk) s
JOIN date_dim ON ss_sold_date_sk = d_date_sk
GROUP BY d_year, d_moy
ORDER BY d_year, d_moy";

const CTE: &str = "WITH d AS (SELECT d_date_sk, d_year, d_moy FROM date_dim)
SELECT d_year, d_moy, count(*) AS sales, sum(ss_quantity) AS qty
FROM store_sales JOIN d ON ss_sold_date_sk = d_date_sk
GROUP BY d_year, d_moy
ORDER BY d_year, d_moy";

struct Fixture {
    dir: PathBuf,
    query: PathBuf,
    responses: PathBuf,
    /// The screening sample and the full-size DB (both in the shared test cache).
    primary: PathBuf,
    full: PathBuf,
}

fn tickets(p: &Path) -> HashSet<i64> {
    let c = duckdb::Connection::open_with_flags(p, duckdb::Config::default().access_mode(duckdb::AccessMode::ReadOnly).unwrap()).unwrap();
    let mut st = c.prepare("SELECT DISTINCT ss_ticket_number FROM store_sales WHERE ss_ticket_number IS NOT NULL").unwrap();
    st.query_map([], |r| r.get::<_, i64>(0)).unwrap().map(Result::unwrap).collect()
}

/// A ticket of the full DB (with a sale date, so it counts in the query) that none of the
/// sample instances holds.
fn full_only_ticket(full: &Path, samples: &[PathBuf]) -> i64 {
    let seen: HashSet<i64> = samples.iter().flat_map(|p| tickets(p)).collect();
    let c = duckdb::Connection::open_with_flags(full, duckdb::Config::default().access_mode(duckdb::AccessMode::ReadOnly).unwrap()).unwrap();
    let mut st = c
        .prepare("SELECT DISTINCT ss_ticket_number FROM store_sales WHERE ss_sold_date_sk IS NOT NULL AND ss_ticket_number IS NOT NULL ORDER BY 1 DESC LIMIT 20000")
        .unwrap();
    let found = st.query_map([], |r| r.get::<_, i64>(0)).unwrap().map(Result::unwrap).find(|t| !seen.contains(t));
    found.expect("a ticket only the full DB holds")
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let cache = cache_dir();
        let build = |g: GenSpec| db::ensure_spec_in(&cache, &g, false).expect("build a test DB").path;
        let primary = build(GenSpec::sampled(1.0, 0.01, 1));
        let samples: Vec<PathBuf> = std::iter::once(primary.clone())
            .chain(GenSpec::sampled(1.0, 0.01, 1).default_instances(3).into_iter().map(build))
            .collect();
        let full = build(GenSpec::full(1.0));
        let v = full_only_ticket(&full, &samples);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("qt-confirm-tests");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("answers/qconfirm1")).unwrap();
        let query = dir.join("confirm1.sql");
        std::fs::write(&query, QUERY).unwrap();
        let wrong = QUERY.replace("GROUP BY", &format!("WHERE ss_ticket_number <> {v}\nGROUP BY"));
        for (n, sql) in [(1, PREAGG.to_string()), (2, wrong), (3, CTE.to_string())] {
            std::fs::write(dir.join(format!("answers/qconfirm1/w{n:02}.txt")), format!("Here it is:\n```sql\n{sql}\n```\n")).unwrap();
        }
        Fixture { responses: dir.join("answers"), dir, query, primary, full }
    })
}

/// A spec in a fresh folder `name` under the fixture: 3 replayed workers on the sample,
/// `extra` appended (e.g. a `[validation.confirm]` section).
fn spec(name: &str, extra: &str) -> (PathBuf, PathBuf) {
    let f = fixture();
    let dir = f.dir.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let text = format!(
        r#"name = "{name}"
[output]
root = "{out}"
[database]
generate = {{ benchmark = "tpcds", scale = 1, sample = 0.01 }}
[queries]
files = ["{query}"]
[llm]
provider = "replay"
responses = "{responses}"
[generation]
workers = 3
template = "@REPO@/templates/full_sql.j2"
response_format = "sql"
retries_on_failure = 0
[examples]
strategy = "none"
dir = "@REPO@/prompts/examples"
[validation]
timing_rounds = 2
warmup = 0
{extra}"#,
        out = dir.join("out").display(),
        query = f.query.display(),
        responses = f.responses.display(),
    );
    let spec = write_spec(&dir, "s.toml", &text);
    (spec, dir.join("out").join(name))
}

const CONFIRM: &str = r#"
[validation.confirm]
db = { generate = { benchmark = "tpcds", scale = 1 } }
top = 3
timing_rounds = 4
threads = 1
"#;

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

fn the_run(out: &Path) -> PathBuf {
    let runs = sorted_entries(out, |p| p.is_dir() && p.join("config.json").is_file());
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs[0].clone()
}

fn gens(run: &Path) -> Vec<Value> {
    gen_dirs(run).iter().map(|g| read_json(&g.join("validation.json"))).collect()
}

fn log_lines(run: &Path) -> usize {
    std::fs::read_to_string(run.join("confirm.jsonl")).map(|t| t.lines().count()).unwrap_or(0)
}

#[test]
fn a_rewrite_wrong_only_at_full_size_is_caught_and_a_right_one_gets_both_speedups() {
    let (spec, out) = spec("caught", CONFIRM);
    let o = qt().args(["run", spec.to_str().unwrap()]).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
    let run = the_run(&out);
    let v = gens(&run);
    assert!(v.iter().all(|g| g["status"] == "pass"), "all three pass on the samples: {v:#?}");
    let wrong = &v[1]["confirm"];
    assert_eq!((wrong["status"].as_str(), wrong["reason"].as_str()), (Some("validation_failed"), Some("differs_at_full_scale")), "{wrong:#}");
    assert!(wrong["detail"].is_string() && wrong["error"].as_str().unwrap().contains("WRONG AT FULL SIZE"), "{wrong:#}");
    assert_eq!(wrong["db"], "tpcds sf1");
    assert!(stdout.contains("Gen 2: pass") || stdout.contains("Gen 02: pass"), "{stdout}");
    assert!(stdout.contains("(sample) -> validation_failed (differs_at_full_scale"), "the console says it: {stdout}");
    assert!(stdout.contains("WRONG AT FULL SIZE"), "{stdout}");
    for g in [&v[0], &v[2]] {
        let c = &g["confirm"];
        assert_eq!(c["status"], "pass", "{c:#}");
        assert!(c["speedup"].as_f64().is_some() && g["speedup"].as_f64().is_some(), "screening and full speedups: {g:#}");
        assert!(c["ci95"].is_array() && c["fingerprint"].is_string() && c["original_time"].is_number(), "{c:#}");
        assert_eq!(c["screening_speedup"], g["speedup"], "the sample figure is kept beside the full one");
    }
    assert!(stdout.contains("(sample) -> ") && stdout.contains("(tpcds sf1)"), "{stdout}");
    // Records: the screening line stays a screening line; the log has one line each.
    for line in std::fs::read_to_string(run.join("results.jsonl")).unwrap().lines() {
        assert!(serde_json::from_str::<Value>(line).unwrap().get("confirm").is_none(), "results.jsonl: screening only");
    }
    assert_eq!(log_lines(&run), 3);
    let s = read_json(&run.join("summary.json"));
    assert_eq!((s["full"]["candidates"].as_u64(), s["full"]["differs"].as_u64(), s["full"]["pass"].as_u64()), (Some(3), Some(1), Some(2)), "{:#}", s["full"]);
    assert_eq!(s["full"]["wrong_at_full_size"], serde_json::json!([2]));
    let arm = &s["arms"][0];
    assert!(arm["best_full_speedup"].is_number() && arm["best_full_gen"].is_number(), "{arm:#}");
    assert!(arm["best_speedup"].is_number(), "the screening best is still there, separately");
    assert!(std::fs::read_to_string(run.join("summary.txt")).unwrap().contains("WRONG AT FULL SIZE"));
    let cfg = read_json(&run.join("config.json"));
    assert_eq!(cfg["database"]["confirm"]["db"], "tpcds sf1");
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(html.contains("differs_at_full_scale"), "the report shows the full-size verdict");
}

#[test]
fn an_interrupted_confirmation_resumes_with_only_the_rest() {
    let (spec, out) = spec("resumed", CONFIRM);
    let o = qt().args(["run", spec.to_str().unwrap()]).env("QT_TEST_INTERRUPT_CONFIRM_AFTER", "1").output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", String::from_utf8_lossy(&o.stderr));
    let run = the_run(&out);
    let first: Vec<Value> = gens(&run).into_iter().filter(|g| g["confirm"].is_object()).collect();
    assert_eq!(first.len(), 1, "one confirmation recorded before the interrupt");
    assert_eq!(log_lines(&run), 1);
    assert_eq!(read_json(&run.join("summary.json"))["interrupted"], true);
    let o = qt().args(["run", spec.to_str().unwrap(), "--resume"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("1 already confirmed"), "{stdout}");
    let v = gens(&run);
    assert!(v.iter().all(|g| g["confirm"].is_object()), "every pick confirmed after the resume");
    let again = v.iter().find(|g| g["gen"] == first[0]["gen"]).unwrap();
    assert_eq!(again["confirm"]["confirmed_at"], first[0]["confirm"]["confirmed_at"], "the first confirmation was not redone");
    assert_eq!(log_lines(&run), 3, "one log line per confirmation, none twice");
    assert_eq!(read_json(&run.join("summary.json"))["full"]["candidates"], 3);
}

#[test]
fn qt_confirm_works_on_a_copied_run_folder_and_keeps_the_screening_records() {
    let f = fixture();
    let (spec, out) = spec("copied", "");
    let o = qt().args(["run", spec.to_str().unwrap()]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let run = the_run(&out);
    // Another machine: the run folder copied elsewhere.
    let elsewhere = f.dir.join("copied-elsewhere");
    let _ = std::fs::remove_dir_all(&elsewhere);
    let copy = elsewhere.join(run.file_name().unwrap());
    copy_tree(&run, &copy);
    let before: Vec<Value> = gens(&copy);
    let o = qt().args(["confirm", copy.to_str().unwrap(), "--db", f.full.to_str().unwrap(), "--label", "full sf1", "--top", "3", "--rounds", "4", "--threads", "1", "--json"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "a candidate is wrong at full size: exit 1\n{stdout}\n{}", String::from_utf8_lossy(&o.stderr));
    let j: Value = serde_json::from_str(&stdout).expect("--json prints one JSON object");
    assert_eq!(j["runs"][0]["confirmations"].as_array().unwrap().len(), 3);
    assert_eq!(j["runs"][0]["full"]["differs"], 1);
    let after = gens(&copy);
    for (b, a) in before.iter().zip(&after) {
        let mut a = a.clone();
        assert_eq!(a["confirm"]["db"], "full sf1");
        a.as_object_mut().unwrap().remove("confirm");
        assert_eq!(&a, b, "screening fields unchanged");
    }
    assert!(!run.join("confirm.jsonl").exists() && gens(&run).iter().all(|g| g.get("confirm").is_none()), "the original folder is untouched");
    assert!(read_json(&copy.join("summary.json"))["full"].is_object(), "the summary is refreshed");
    assert!(std::fs::read_to_string(copy.join("report.html")).unwrap().contains("full sf1"), "the report is refreshed");
    // Again: everything is already confirmed there.
    let o = qt().args(["confirm", copy.to_str().unwrap(), "--db", f.full.to_str().unwrap(), "--label", "full sf1", "--top", "3", "--quiet"]).output().unwrap();
    assert_eq!(log_lines(&copy), 3, "nothing confirmed twice: {}", String::from_utf8_lossy(&o.stdout));
    // The run's own sample is refused, and a folder in use is refused.
    let o = qt().args(["confirm", copy.to_str().unwrap(), "--db", f.primary.to_str().unwrap()]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("sample DB"), "{}", String::from_utf8_lossy(&o.stderr));
    let _held = qt::files::lock::FolderLock::acquire(&copy).unwrap();
    let o = qt().args(["confirm", copy.to_str().unwrap(), "--db", f.full.to_str().unwrap()]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("in use"), "{}", String::from_utf8_lossy(&o.stderr));
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let t = to.join(e.file_name());
        if e.path().is_dir() {
            copy_tree(&e.path(), &t);
        } else if e.file_name() != ".lock" {
            std::fs::copy(e.path(), &t).unwrap();
        }
    }
}


#[test]
fn bad_confirm_settings_are_exit_2_before_anything_runs() {
    let f = fixture();
    let bad = f.dir.join("bad-dbs");
    std::fs::create_dir_all(&bad).unwrap();
    let no_table = small_db(&bad, "no_table.duckdb", "CREATE TABLE date_dim (d_date_sk INTEGER, d_year INTEGER, d_moy INTEGER);");
    let no_column = small_db(
        &bad,
        "no_column.duckdb",
        "CREATE TABLE date_dim (d_date_sk INTEGER, d_year INTEGER); CREATE TABLE store_sales (ss_sold_date_sk INTEGER, ss_quantity INTEGER);",
    );
    let cases: Vec<(&str, String, &[&str])> = vec![
        ("missing table", format!("[validation.confirm]\ndb = {{ path = \"{}\" }}\n", no_table.display()), &["store_sales", "no_table.duckdb"]),
        ("missing column", format!("[validation.confirm]\ndb = {{ path = \"{}\" }}\n", no_column.display()), &["d_moy"]),
        ("the primary", "[validation.confirm]\ndb = { generate = { benchmark = \"tpcds\", scale = 1, sample = 0.01 } }\n".into(), &["primary sample DB"]),
        ("top 0", "[validation.confirm]\ndb = { generate = { benchmark = \"tpcds\", scale = 1 } }\ntop = 0\n".into(), &["s.toml:24", "top must be between 1"]),
        ("top -1", "[validation.confirm]\ndb = { generate = { benchmark = \"tpcds\", scale = 1 } }\ntop = -1\n".into(), &["s.toml:24", "top must be between 1"]),
        ("no db", "[validation.confirm]\ntop = 2\n".into(), &["s.toml", "db"]),
        ("typo", "[validation.confirm]\ndb = { generate = { benchmark = \"tpcds\", scale = 1 } }\ntopp = 2\n".into(), &["s.toml:24", "top"]),
    ];
    for (what, extra, wants) in cases {
        let (spec, out) = spec(&format!("bad-{}", what.replace(' ', "-")), &extra);
        let o = qt().args(["run", spec.to_str().unwrap()]).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        for w in wants {
            assert!(err.contains(w), "{what}: the message names {w:?}: {err}");
        }
        assert!(sorted_entries(&out, |p| p.is_dir()).is_empty(), "{what}: nothing was started");
    }
}

/// The sample-vs-full section of report.html in a real browser: one point per candidate
/// confirmed with both speedups, the wrong one marked apart, the Spearman figure, a
/// `full size` column beside the sample speedup, no script error, no network request.
#[test]
fn the_sample_vs_full_plot_works_in_a_real_browser() {
    let Some(bin) = common::browser::chromium() else { return };
    let (spec, out) = spec("browser", CONFIRM);
    let o = qt().args(["run", spec.to_str().unwrap()]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let run = the_run(&out);
    let s = read_json(&run.join("summary.json"));
    let url = format!("file://{}", run.join("report.html").display());
    let (dom, log) = common::browser::browse(&bin, &url, &["--virtual-time-budget=5000", "--dump-dom"]);
    assert!(dom.contains("data-js=\"ok\""), "the script ran to the end:\n{log}");
    let section = &dom[dom.find("<section class=\"full\"").expect("a sample-vs-full section")..];
    let section = &section[..section.find("</section>").unwrap()];
    assert_eq!(section.matches("<circle class=\"pt ").count() as u64, s["full"]["pairs"].as_u64().unwrap(), "one point per candidate with both speedups");
    assert_eq!(section.matches("<g class=\"wrong\">").count(), 1, "the wrong one is marked apart");
    assert!(section.contains("gen_02"), "its title names it");
    assert!(section.contains("Spearman"), "{section}");
    assert!(dom.contains("<th>full size</th>"), "a full-size column");
    let header = &dom[dom.find("<thead><tr><th>gen</th>").unwrap()..];
    let header = &header[..header.find("</tr>").unwrap()];
    assert!(header.find("speedup").unwrap() < header.find("full size").unwrap(), "sample and full side by side: {header}");
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE") || l.contains("Refused to")).collect();
    assert!(console.is_empty(), "browser console:\n{}", console.join("\n"));
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("confirm-report.png");
    let _ = std::fs::remove_file(&shot);
    common::browser::browse(&bin, &format!("{url}#full-qconfirm1"), &["--virtual-time-budget=5000", "--window-size=1400,1800", &format!("--screenshot={}", shot.display())]);
    assert!(std::fs::metadata(&shot).map(|m| m.len() > 10_000).unwrap_or(false), "screenshot at {}", shot.display());
    eprintln!("screenshot: {}", shot.display());
}
