//! Robustness: 20+ bad inputs each exit 2 with a message naming the file (and line where
//! there is one) and leave no run folder behind; hostile LLM answers through a full run
//! never pass and never touch the DB; an LLM server that dies mid-run gives `llm_error`
//! for the rest and a true summary.

mod common;
use common::*;
use qt::llm::mock_server::{self, MockReply, MockScript};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// A valid offline spec (replay, scale-0.01 DB) with `patch` applied as text replacements.
fn spec_text(dir: &Path, patch: &[(&str, &str)]) -> String {
    patched(offline_spec(dir, "robust", &["@REPO@/queries/demo/demo3.sql"]), patch)
}

fn no_run_folder(dir: &Path) -> bool {
    let root = dir.join("out/robust");
    std::fs::read_dir(&root).map(|r| r.flatten().all(|e| !e.file_name().to_string_lossy().starts_with('q'))).unwrap_or(true)
}

/// Run `qt run` on a spec and expect exit 2 with every `needles` in stderr.
fn expect_bad(name: &str, text: String, needles: &[&str], setup: impl FnOnce(&Path)) {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let text = text.replace("@DIR@", &dir.path().display().to_string());
    let spec = write_spec(dir.path(), "bad.toml", &text);
    let out = qt().args(["run", spec.to_str().unwrap()]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "[{name}] expected exit 2; stderr:\n{stderr}");
    for n in needles {
        let n = n.replace("@DIR@", &dir.path().display().to_string());
        assert!(stderr.contains(&n), "[{name}] stderr lacks {n:?}:\n{stderr}");
    }
    assert!(no_run_folder(dir.path()), "[{name}] a run folder was left behind");
}

fn base(patch: &[(&str, &str)]) -> String {
    // @DIR@ is substituted per case; output goes under it.
    spec_text(Path::new("@DIR@"), patch)
}

#[test]
fn bad_inputs_exit_2_naming_the_file() {
    let none = |_: &Path| {};
    expect_bad("malformed toml", "name = \"x\n[queries]\n".into(), &["bad.toml:1"], none);
    expect_bad("unknown key", base(&[("workers = 2", "worker = 2")]), &["bad.toml:12", "did you mean `workers`"], none);
    expect_bad("wrong type", base(&[("workers = 2", "workers = \"two\"")]), &["bad.toml:12"], none);
    expect_bad("unknown section", base(&[("[validation]", "[validaton]")]), &["bad.toml:17", "validation"], none);
    expect_bad("unset env var", base(&[("\"@REPO@/prompts/examples\"", "\"${QT_SURELY_UNSET_VAR}\"")]), &["bad.toml:16", "QT_SURELY_UNSET_VAR"], none);
    expect_bad("workers = 0", base(&[("workers = 2", "workers = 0")]), &["bad.toml:12", "workers"], none);
    expect_bad("unknown matrix key", base(&[("[validation]", "[matrix]\n\"examples.strateg\" = [\"batches\"]\n[validation]")]), &["bad.toml:18", "did you mean"], none);
    expect_bad("duplicate arm names", base(&[("[validation]", "[[arms]]\nname = \"a\"\n[[arms]]\nname = \"a\"\n[validation]")]), &["bad.toml:", "a"], none);
    expect_bad("bad range", base(&[("files = [\"@REPO@/queries/demo/demo3.sql\"]", "dir = \"@REPO@/queries/demo\"\nids = [\"5..2\"]")]), &["bad.toml:8", "5..2"], none);
    expect_bad("missing query files", base(&[("@REPO@/queries/demo/demo3.sql", "@DIR@/nope/*.sql")]), &["bad.toml:7", "nope"], none);
    expect_bad("empty sql file", base(&[("@REPO@/queries/demo/demo3.sql", "@DIR@/empty.sql")]), &["empty.sql"], |d| std::fs::write(d.join("empty.sql"), "  \n").unwrap());
    expect_bad("missing db", base(&[("generate = { benchmark = \"tpcds\", scale = 0.01 }", "path = \"@DIR@/missing.duckdb\"")]), &["missing.duckdb"], none);
    expect_bad("db not duckdb", base(&[("generate = { benchmark = \"tpcds\", scale = 0.01 }", "path = \"@DIR@/notdb.duckdb\"")]), &["notdb.duckdb"], |d| std::fs::write(d.join("notdb.duckdb"), "hello, I am a text file\n").unwrap());
    expect_bad("unknown benchmark", base(&[("benchmark = \"tpcds\"", "benchmark = \"tpcx\"")]), &["tpcx"], none);
    expect_bad("negative scale", base(&[("scale = 0.01", "scale = -1.0")]), &["scale"], none);
    expect_bad("missing template", base(&[("@REPO@/templates/v5_dag.j2", "@DIR@/nope.j2")]), &["bad.toml:13", "nope.j2"], none);
    expect_bad("template missing variable", base(&[("@REPO@/templates/v5_dag.j2", "@DIR@/t.j2")]), &["t.j2:2", "nope", "| {{ nope.deeper }}"], |d| std::fs::write(d.join("t.j2"), "ok\n{{ nope.deeper }}\n").unwrap());
    expect_bad("template syntax error", base(&[("@REPO@/templates/v5_dag.j2", "@DIR@/t.j2")]), &["t.j2:1"], |d| std::fs::write(d.join("t.j2"), "{% if %}\n").unwrap());
    expect_bad("missing examples dir", base(&[("@REPO@/prompts/examples", "@DIR@/noexamples")]), &["noexamples"], none);
    expect_bad("empty examples dir", base(&[("@REPO@/prompts/examples", "@DIR@/ex")]), &["ex"], |d| std::fs::create_dir(d.join("ex")).unwrap());
    expect_bad("bad example json", base(&[("@REPO@/prompts/examples", "@DIR@/ex")]), &["broken.json"], |d| {
        std::fs::create_dir(d.join("ex")).unwrap();
        std::fs::write(d.join("ex/broken.json"), "{\"id\": \"x\",\n").unwrap();
    });
    expect_bad("missing replay folder", base(&[("@REPO@/prompts/demo_responses", "@DIR@/noresponses")]), &["noresponses"], none);
    let openai = |extra: &str| base(&[("provider = \"replay\"\nresponses = \"@REPO@/prompts/demo_responses\"", &format!("provider = \"openai\"\nbase_url = \"https://api.example.com\"\n{extra}"))]);
    expect_bad("missing api key env", openai("api_key_env = \"QT_SURELY_UNSET_KEY\""), &["QT_SURELY_UNSET_KEY"], none);
    expect_bad("missing api key file", openai("api_key_file = \"@DIR@/key.txt\""), &["key.txt"], none);
    expect_bad("unwritable output", base(&[("root = \"@DIR@/out\"", "root = \"/proc/qt-cannot-write\"")]), &["/proc/qt-cannot-write"], none);
}

/// One hostile answer per request, as ```sql blocks (response_format = "sql").
const HOSTILE: &[&str] = &[
    "DROP TABLE store_sales",
    "DELETE FROM store_sales",
    "COPY store_sales TO '@OUT@/stolen.csv'",
    "ATTACH '@OUT@/other.duckdb' AS o",
    "SELECT * FROM read_csv('/etc/passwd')",
    "INSTALL httpfs",
    "SELECT 1; DROP TABLE store_sales",
    "PRAGMA enable_profiling",
    "SET threads = 64",
    "CALL dbgen(sf = 1)",
    "EXPORT DATABASE '@OUT@/export'",
    "CREATE TABLE x AS SELECT 1",
    "SELECT count(*) FROM range(1000000000) a, range(1000000000) b",
];

fn sha256(p: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(p).unwrap()))
}

#[test]
fn hostile_answers_never_pass_and_never_touch_the_db() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("loot");
    std::fs::create_dir(&out).unwrap();
    let answers: Vec<String> = HOSTILE.iter().map(|h| format!("```sql\n{}\n```", h.replace("@OUT@", &out.display().to_string()))).collect();
    let n = answers.len();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let server = rt.block_on(mock_server::start(MockScript::from_fn(move |r| MockReply::Content(answers[r.index % n].clone()))));
    let text = spec_text(dir.path(), &[
        ("provider = \"replay\"\nresponses = \"@REPO@/prompts/demo_responses\"", &format!("base_url = \"{}\"\nmax_concurrency = 1", server.url)),
        ("workers = 2", &format!("workers = {n}")),
        ("template = \"@REPO@/templates/v5_dag.j2\"", "template = \"@REPO@/templates/full_sql.j2\"\nresponse_format = \"sql\""),
        ("warmup = 0", "warmup = 0\noriginal_timeout_s = 5.0"),
    ]);
    let spec = write_spec(dir.path(), "hostile.toml", &text);
    qt().args(["db", "generate", "--scale", "0.01", "--quiet"]).assert().success();
    let db = std::fs::read_dir(cache_dir().join("db")).unwrap().flatten().map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "duckdb") && p.to_string_lossy().contains("sf0.01"))
        .expect("the scale-0.01 sample DB in the test cache");
    let before = sha256(&db);
    let run = qt().args(["run", spec.to_str().unwrap(), "--no-cache"]).output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let root = dir.path().join("out/robust");
    let run_dir = sorted_entries(&root, |p| p.is_dir()).remove(0);
    let mut seen = 0;
    for g in gen_dirs(&run_dir) {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(g.join("validation.json")).unwrap()).unwrap();
        let reason = v["reason"].as_str().unwrap_or("");
        assert_ne!(v["status"], "pass", "{}: {v:#}", g.display());
        assert!(["not_select", "parse_error", "execution_error", "timeout"].contains(&reason), "{}: {v:#}", g.display());
        seen += 1;
    }
    assert_eq!(seen, n);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0, "nothing was written by a candidate");
    assert_eq!(sha256(&db), before, "the sample DB is byte-identical");
}

#[test]
fn server_dying_mid_run_records_llm_error_and_a_true_summary() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(repo().join("prompts/demo_responses/qdemo3/w01.txt")).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let server = rt.block_on(mock_server::start(MockScript::always(MockReply::Content(good)).with_latency(Duration::from_millis(300))));
    let text = spec_text(dir.path(), &[
        ("provider = \"replay\"\nresponses = \"@REPO@/prompts/demo_responses\"", &format!("base_url = \"{}\"\nmax_concurrency = 1\nmax_attempts = 2\ntimeout_s = 2", server.url)),
        ("workers = 2", "workers = 12"),
    ]);
    let spec = write_spec(dir.path(), "dies.toml", &text);
    let mut child = qt_std().args(["run", spec.to_str().unwrap(), "--no-cache"])
        .stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
    let root = dir.path().join("out/robust");
    let t = std::time::Instant::now();
    loop {
        let done = sorted_entries(&root, |p| p.is_dir()).first().map(|run| gen_dirs(run).len()).unwrap_or(0);
        if done >= 3 { break; }
        assert!(t.elapsed() < Duration::from_secs(120), "run did not progress");
        std::thread::sleep(Duration::from_millis(50));
    }
    rt.block_on(server.shutdown());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let run = sorted_entries(&root, |p| p.is_dir()).remove(0);
    let s: Value = serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["completed"], 12, "every generation has a recorded status: {s:#}");
    let llm_errors = s["by_reason"]["llm_error"].as_u64().unwrap_or(0);
    assert!(llm_errors >= 1, "generations after the server died are llm_error: {s:#}");
    assert_eq!(s["by_status"]["pass"].as_u64().unwrap_or(0) + llm_errors, 12, "{s:#}");
    assert_eq!(std::fs::read_to_string(run.join("results.jsonl")).unwrap().lines().count(), 12);
}
