//! Hardening (issue 14), on real processes and files: one writer per run folder (two
//! concurrent resumes, a killed owner's lock taken over), resume identity, no panics with
//! stdout closed / full / gone, range checks at load, secrets in URLs never written,
//! disk full stops the run, exit codes for dead infrastructure, spill folders of killed
//! runs swept.

mod common;
use common::*;
use qt::llm::mock_server::{self, MockReply, MockScript};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// An offline spec (replay answers, scale-0.01 DB) with `patch` applied as replacements.
fn spec_text(dir: &Path, patch: &[(&str, &str)]) -> String {
    patched(offline_spec(dir, "hard", &["@REPO@/queries/demo/demo3.sql"]), patch)
}

const REPLAY: &str = "provider = \"replay\"\nresponses = \"@REPO@/prompts/demo_responses\"";

fn mock_llm(url: &str, extra: &str) -> String {
    format!("base_url = \"{url}\"\n{extra}")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn good_answer() -> String {
    std::fs::read_to_string(repo().join("prompts/demo_responses/qdemo3/w01.txt")).unwrap()
}

fn run_dirs(dir: &Path) -> Vec<PathBuf> {
    sorted_entries(&dir.join("out/hard"), |p| p.is_dir())
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The scale-0.01 sample DB of the shared test cache (built once).
fn sample_db() -> PathBuf {
    qt().args(["db", "generate", "--scale", "0.01", "--quiet"]).assert().success();
    std::fs::read_dir(cache_dir().join("db"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "duckdb") && p.to_string_lossy().contains("sf0.01"))
        .expect("the scale-0.01 sample DB in the test cache")
}

#[test]
fn two_concurrent_resumes_one_writer_and_a_killed_owner_is_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let server = rt.block_on(mock_server::start(
        // Slow enough that a resume of the 6 missing generations lasts seconds: the second
        // resume reaches the lock while the first still holds it.
        MockScript::always(MockReply::Content(good_answer())).with_latency(Duration::from_millis(600)),
    ));
    let spec = write_spec(
        dir.path(),
        "r.toml",
        &spec_text(dir.path(), &[(REPLAY, &mock_llm(&server.url, "max_concurrency = 1")), ("workers = 2", "workers = 8")]),
    );
    // A first run, killed with SIGKILL after two generations: its lock line stays behind.
    let mut first = qt_std().args(["run", spec.to_str().unwrap(), "--no-cache"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let t = Instant::now();
    while run_dirs(dir.path()).first().map(|r| gen_dirs(r).len()).unwrap_or(0) < 2 {
        assert!(t.elapsed() < Duration::from_secs(120), "first run did not progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    let first_pid = first.id();
    first.kill().unwrap();
    first.wait().unwrap();
    let run = run_dirs(dir.path()).remove(0);
    let (asked_before, recorded_before) = (server.requests(), gen_dirs(&run).len());

    // Two resumes at once: exactly one works, the other is refused naming the owner.
    let resume = || {
        qt_std()
            .args(["run", spec.to_str().unwrap(), "--no-cache", "--resume"])
            .arg(&run)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (resume(), resume());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let codes = [a.status.code(), b.status.code()];
    assert!(codes.contains(&Some(0)) && codes.contains(&Some(2)), "codes {codes:?}\nA: {}\nB: {}", text(&a.stderr), text(&b.stderr));
    let (ok, refused) = if a.status.code() == Some(0) { (&a, &b) } else { (&b, &a) };
    let msg = text(&refused.stderr);
    assert!(msg.contains("in use by pid") && msg.contains(&run.display().to_string()), "{msg}");
    assert!(text(&ok.stdout).contains(&format!("took over the lock of pid {first_pid}")), "{}", text(&ok.stdout));

    let s = read_json(&run.join("summary.json"));
    assert_eq!(s["completed"], 8, "{s:#}");
    assert_eq!(gen_dirs(&run).len(), 8);
    assert_eq!(std::fs::read_to_string(run.join("results.jsonl")).unwrap().lines().count(), 8);
    let asked = server.requests() - asked_before;
    assert!(asked <= 8 - recorded_before, "no generation was asked twice: {asked} requests for {} missing", 8 - recorded_before);
    // The killed run's spill folders are gone after the next start.
    let leftovers: Vec<_> = [std::env::temp_dir(), cache_dir().join("spill")]
        .iter()
        .flat_map(|d| sorted_entries(d, |p| p.to_string_lossy().contains(&format!("qt-spill-{first_pid}-"))))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn resume_refuses_another_spec_and_force_keeps_what_is_in_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "a.toml", &spec_text(dir.path(), &[]));
    qt().args(["run", spec.to_str().unwrap(), "--quiet"]).assert().success();
    let run = run_dirs(dir.path()).remove(0);

    // Another experiment (other name) pointing at this folder.
    let other = write_spec(dir.path(), "b.toml", &spec_text(dir.path(), &[("name = \"hard\"", "name = \"other\"")]));
    let out = qt().args(["run", other.to_str().unwrap(), "--resume"]).arg(&run).output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("`hard`") && err.contains("`other`") && err.contains("b.toml") && err.contains("a.toml"), "{err}");

    // Same name, edited spec (1 worker): refused without --force.
    std::fs::write(&spec, spec_text(dir.path(), &[("workers = 2", "workers = 1")]).replace("@REPO@", &repo().display().to_string())).unwrap();
    let out = qt().args(["run", spec.to_str().unwrap(), "--resume"]).arg(&run).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--force"), "{}", text(&out.stderr));
    let cfg = read_json(&run.join("config.json"));
    assert_eq!(cfg["spec"]["generation"]["workers"], 2, "a refused resume leaves config.json alone");

    // --force: counts never exceed the new plan.
    let out = qt().args(["run", spec.to_str().unwrap(), "--force", "--json", "--resume"]).arg(&run).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((s["completed"].as_u64(), s["total_workers"].as_u64()), (Some(1), Some(1)), "{s:#}");
    assert!(read_json(&run.join("config.json"))["forced_from_sha256"].is_string());
}

/// Exit code and stderr of `args` with stdout closed, on /dev/full, and with the reader gone.
fn check_stdout_modes(args: &[String]) {
    let bin = assert_cmd::cargo::cargo_bin("qt");
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    let closed = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("exec '{}' {} >&-", bin.display(), quoted.join(" ")))
        .env("QT_CACHE_DIR", cache_dir())
        .output()
        .unwrap();
    let full = qt_std().args(args).stdout(std::fs::File::create("/dev/full").unwrap()).output().unwrap();
    let mut gone = qt_std().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    drop(gone.stdout.take());
    let gone = gone.wait_with_output().unwrap();
    for (mode, out, allowed) in [("closed", &closed, &[0, 1][..]), ("/dev/full", &full, &[1][..]), ("reader gone", &gone, &[0, 1][..])] {
        let err = text(&out.stderr);
        assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{args:?} [{mode}] panicked:\n{err}");
        let code = out.status.code().unwrap_or(-1);
        assert!(allowed.contains(&code), "{args:?} [{mode}] exit {code}:\n{err}");
        if mode == "/dev/full" {
            assert!(err.contains("No space left on device"), "{args:?} [{mode}] says why:\n{err}");
        }
    }
    // A closed stdout or a vanished reader is not a failure of the command itself.
    assert_eq!(closed.status.code(), Some(0), "{args:?} closed: {}", text(&closed.stderr));
    assert_eq!(gone.status.code(), Some(0), "{args:?} reader gone: {}", text(&gone.stderr));
}

#[test]
fn every_subcommand_survives_closed_full_and_gone_stdout() {
    let db = sample_db();
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "s.toml", &spec_text(dir.path(), &[]));
    let sql = dir.path().join("q.sql");
    std::fs::write(&sql, "SELECT r_reason_sk AS x FROM reason").unwrap();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let spec_s = spec.display().to_string();
    let (db_s, sql_s) = (db.display().to_string(), sql.display().to_string());
    check_stdout_modes(&s(&["plan", &spec_s]));
    check_stdout_modes(&s(&["run", &spec_s, "--quiet"]));
    check_stdout_modes(&s(&["run", &spec_s, "--json"]));
    check_stdout_modes(&s(&["validate", "--db", &db_s, &sql_s, &sql_s, "--rounds", "1"]));
    check_stdout_modes(&s(&["validate", "--db", &db_s, &sql_s, &sql_s, "--rounds", "1", "--json"]));
    check_stdout_modes(&s(&["db", "generate", "--scale", "0.01", "--quiet"]));
    check_stdout_modes(&s(&["bench", "--which", "llm"]));
}

#[test]
fn out_of_range_numbers_are_refused_at_load_with_file_and_line() {
    let cases: &[(&str, &str, &str, &str)] = &[
        ("timeout_s = 1e300", REPLAY, "provider = \"replay\"\ntimeout_s = 1e300\nresponses = \"@REPO@/prompts/demo_responses\"", "s.toml:10"),
        ("original_timeout_s = 1e300", "warmup = 0", "warmup = 0\noriginal_timeout_s = 1e300", "s.toml:20"),
        ("threads = 100000", "warmup = 0", "warmup = 0\nthreads = 100000", "s.toml:20"),
        ("memory_limit = lots", "warmup = 0", "warmup = 0\nmemory_limit = \"lots\"", "s.toml:20"),
        ("max_tokens = 0", REPLAY, "provider = \"replay\"\nmax_tokens = 0\nresponses = \"@REPO@/prompts/demo_responses\"", "s.toml:10"),
        ("scale = 1e300", "scale = 0.01", "scale = 1e300", "s.toml:5"),
    ];
    for (name, from, to, at) in cases {
        let dir = tempfile::tempdir().unwrap();
        let spec = write_spec(dir.path(), "s.toml", &spec_text(dir.path(), &[(from, to)]));
        for cmd in ["run", "plan"] {
            let out = qt().args([cmd, spec.to_str().unwrap()]).output().unwrap();
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "[{name}] {cmd}: {err}");
            assert!(err.contains(at), "[{name}] {cmd} names {at}: {err}");
        }
        assert!(!dir.path().join("out").exists(), "[{name}] nothing written");
    }
    let db = sample_db();
    let out = qt().args(["validate", "--db"]).arg(&db).args(["a.sql", "b.sql", "--threads", "100000"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--threads 100000"), "{}", text(&out.stderr));
    // per_worker larger than the examples folder: a warning naming the line, not an error.
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "s.toml", &spec_text(dir.path(), &[("dir = \"@REPO@/prompts/examples\"", "dir = \"@REPO@/prompts/examples\"\nper_worker = 999")]));
    let out = qt().args(["plan", spec.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("warning: ") && text(&out.stderr).contains("s.toml:17"), "{}", text(&out.stderr));
}

/// Every file under `dir`, recursively.
fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() { out.extend(all_files(&p)) } else { out.push(p) }
    }
    out
}

#[test]
fn secrets_in_base_url_are_never_written_and_dead_endpoints_exit_1() {
    let db = sample_db();
    let rt = runtime();
    let answer = good_answer();
    let server = rt.block_on(mock_server::start(MockScript::from_fn(move |r| {
        if r.index == 0 { MockReply::Status(500, "temporary".into()) } else { MockReply::Content(answer.clone()) }
    })));
    let (key, pass) = ("sk-url-secret-9f8e7d", "pw-userinfo-5c4b3a");
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let url_with = |base: &str| format!("{}?key=${{QT_TEST_URL_KEY}}", base.replace("http://", &format!("http://qtuser:{pass}@")));
    let llm = |url: &str| mock_llm(url, "api_key_env = \"QT_TEST_URL_KEY\"\nmax_attempts = 2\ntimeout_s = 5");
    let db_line = format!("path = \"{}\"", db.display());
    let spec = write_spec(
        dir.path(),
        "k.toml",
        &spec_text(dir.path(), &[(REPLAY, &llm(&url_with(&server.url))), ("generate = { benchmark = \"tpcds\", scale = 0.01 }", &db_line)]),
    );
    let ok = qt().env("QT_CACHE_DIR", &cache).env("QT_TEST_URL_KEY", key).args(["run", spec.to_str().unwrap()]).output().unwrap();
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert!(server.requests() >= 3, "the server was really called (one 500, two answers)");
    // A dead endpoint: every LLM call fails -> exit 1, and --json still prints an object.
    let dead = write_spec(
        dir.path(),
        "dead.toml",
        &spec_text(dir.path(), &[(REPLAY, &llm(&url_with("http://127.0.0.1:9/v1"))), ("generate = { benchmark = \"tpcds\", scale = 0.01 }", &db_line)]),
    );
    let bad = qt().env("QT_CACHE_DIR", &cache).env("QT_TEST_URL_KEY", key).args(["run", dead.to_str().unwrap(), "--json"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad.stderr));
    assert!(text(&bad.stderr).contains("every LLM call failed"), "{}", text(&bad.stderr));
    let j: Value = serde_json::from_slice(&bad.stdout).expect("--json prints a JSON object on failure");
    assert_eq!(j["exit_code"], 1);
    assert!(j["error"].as_str().is_some_and(|e| e.contains("every LLM call failed")), "{j:#}");

    let mut checked = 0;
    for f in all_files(dir.path()).into_iter().filter(|f| !f.ends_with("k.toml") && !f.ends_with("dead.toml")) {
        let bytes = std::fs::read(&f).unwrap();
        let body = String::from_utf8_lossy(&bytes);
        assert!(!body.contains(key) && !body.contains(pass), "{} holds a secret:\n{body}", f.display());
        checked += 1;
    }
    assert!(checked > 20, "the run folders and the cache were searched ({checked} files)");
    assert!(all_files(&cache.join("llm")).len() >= 2, "answers were cached (keyed by the redacted URL)");
    for out in [&ok, &bad] {
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(!all.contains(key) && !all.contains(pass), "console output holds a secret:\n{all}");
    }
    let cfg = std::fs::read_to_string(run_dirs(dir.path())[0].join("config.json")).unwrap();
    assert!(cfg.contains("key=REDACTED"), "{cfg}");
}

/// A small tmpfs, unmounted on drop; `None` when this process may not mount.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=16m", "tmpfs"])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fill the file system holding `dir` with one file (ENOSPC for every later write).
fn fill(dir: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(dir.join("filler")).unwrap();
    let block = vec![0u8; 64 * 1024];
    while f.write_all(&block).is_ok() {}
    let _ = f.sync_all();
}

#[test]
fn disk_full_stops_the_run_cleans_up_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    let tmpfs = Tmpfs::mount(&mnt);
    if tmpfs.is_none() {
        eprintln!("note: cannot mount a tmpfs here; injecting the write failure (QT_TEST_FAIL_RECORD_AFTER) instead");
    }
    let rt = runtime();
    let server = rt.block_on(mock_server::start(
        MockScript::always(MockReply::Content(good_answer())).with_latency(Duration::from_millis(200)),
    ));
    let workers = 30;
    let root = if tmpfs.is_some() { mnt.clone() } else { dir.path().to_path_buf() };
    let spec = write_spec(
        dir.path(),
        "full.toml",
        &spec_text(&root, &[(REPLAY, &mock_llm(&server.url, "max_concurrency = 1")), ("workers = 2", &format!("workers = {workers}"))]),
    );
    let mut cmd = qt_std();
    cmd.args(["run", spec.to_str().unwrap(), "--no-cache"]).stdout(Stdio::null()).stderr(Stdio::piped());
    if tmpfs.is_none() {
        cmd.env("QT_TEST_FAIL_RECORD_AFTER", "3");
    }
    let child = cmd.spawn().unwrap();
    let runs = || sorted_entries(&root.join("out/hard"), |p| p.is_dir());
    if tmpfs.is_some() {
        let t = Instant::now();
        while runs().first().map(|r| gen_dirs(r).len()).unwrap_or(0) < 3 {
            assert!(t.elapsed() < Duration::from_secs(120), "run did not progress");
            std::thread::sleep(Duration::from_millis(10));
        }
        fill(&mnt);
    }
    let out = child.wait_with_output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let run = runs().remove(0);
    assert!(err.contains("No space left on device") && err.contains("os error 28") && err.contains(&run.display().to_string()), "path and errno: {err}");
    let recorded = gen_dirs(&run).len();
    assert!(recorded < workers, "the run stopped");
    // No more LLM calls after the failure: at most the generations already in progress
    // (the runner keeps up to 2 x max_concurrency + 4 started ahead of the recorder).
    assert!(server.requests() <= recorded + 7 && server.requests() < workers, "{} requests for {recorded} recorded generations", server.requests());
    let temps = sorted_entries(&run, |p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(".tmp-")));
    assert!(temps.is_empty(), "temp entries left: {temps:?}");
    let s = read_json(&run.join("summary.json"));
    let completed = s["completed"].as_u64().unwrap() as usize;
    assert!(completed <= recorded && completed + 1 >= recorded, "the summary stays true: {completed} vs {recorded} folders");
}

#[test]
fn plan_writes_each_distinct_prompt_once_and_refuses_a_non_duckdb_file() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "p.toml", &spec_text(dir.path(), &[("workers = 2", "workers = 300"), ("dir = \"@REPO@/prompts/examples\"", "dir = \"@REPO@/prompts/examples\"\nstrategy = \"none\"")]));
    let out = dir.path().join("plan");
    let o = qt().args(["plan", spec.to_str().unwrap(), "--out"]).arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let files = count_files(&out, ".prompt.txt");
    assert_eq!(files, 1, "300 generations with one distinct prompt write one prompt file");
    let index = std::fs::read_to_string(out.join("qdemo3/index.txt")).unwrap();
    assert_eq!(index.lines().count(), 300);
    assert!(index.lines().all(|l| l.ends_with("\tgen_001.prompt.txt")), "{index}");

    let junk = dir.path().join("junk.duckdb");
    std::fs::write(&junk, (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect::<Vec<u8>>()).unwrap();
    let bad = write_spec(dir.path(), "junk.toml", &spec_text(dir.path(), &[("generate = { benchmark = \"tpcds\", scale = 0.01 }", &format!("path = \"{}\"", junk.display()))]));
    let fresh = dir.path().join("plan2");
    let o = qt().args(["plan", bad.to_str().unwrap(), "--out"]).arg(&fresh).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("junk.duckdb"), "{}", text(&o.stderr));
    assert!(!fresh.exists(), "no folder is left behind");
    let sql = dir.path().join("q.sql");
    std::fs::write(&sql, "SELECT 1").unwrap();
    let o = qt().args(["validate", "--db"]).arg(&junk).arg(&sql).arg(&sql).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
}

#[test]
fn fail_on_gates() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let server = rt.block_on(mock_server::start(MockScript::always(MockReply::Content("not json at all".into()))));
    let spec = write_spec(dir.path(), "f.toml", &spec_text(dir.path(), &[(REPLAY, &mock_llm(&server.url, ""))]));
    // Every answer is a parse_error: judged (not infrastructure), so plain exit 0...
    qt().args(["run", spec.to_str().unwrap(), "--quiet"]).assert().code(0);
    // ...but the CI gates fail it.
    qt().args(["run", spec.to_str().unwrap(), "--quiet", "--fail-on", "none-valid"]).assert().code(1);
    qt().args(["run", spec.to_str().unwrap(), "--quiet", "--fail-on", "any-error"]).assert().code(1);
}

#[test]
fn a_timing_run_waits_for_the_machine_timing_lock() {
    let db = sample_db();
    let dir = tempfile::tempdir().unwrap();
    let sql = dir.path().join("q.sql");
    std::fs::write(&sql, "SELECT count(*) FROM store_sales").unwrap();
    let cache = dir.path().join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    let lock = std::fs::File::create(cache.join("timing.lock")).unwrap();
    assert!(qt::files::lock::try_flock(&lock).unwrap(), "the test holds the machine timing lock");
    let mut child = qt_std()
        .env("QT_CACHE_DIR", &cache)
        .args(["validate", "--db"])
        .arg(&db)
        .arg(&sql)
        .arg(&sql)
        .args(["--rounds", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert!(child.try_wait().unwrap().is_none(), "qt validate queues behind the held timing lock");
    drop(lock);
    let status = child.wait().unwrap();
    assert!(matches!(status.code(), Some(0 | 1)), "{status:?}");
}
