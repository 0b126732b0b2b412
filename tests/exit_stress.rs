//! The process never exits under a running DuckDB query. When every LLM call fails fast
//! (HTTP 400), `qt run` used to return while the original's baseline was still being
//! computed on a blocking thread; `exit()` then ran DuckDB's static destructors under it
//! (heap corruption: "corrupted double-linked list", SIGSEGV in the binder; 4 of 60 runs
//! crashed with `MALLOC_PERTURB_`). Here the all-calls-fail path runs many times with
//! `MALLOC_PERTURB_` set, the baseline busy with many short timing rounds at exit, and
//! every run must end with exit 1 (no LLM call could be judged), never a signal.
//!
//! To widen the race window deterministically, half of the runs preload a tiny library
//! whose destructor sleeps after the executable's static destructors ran (compiled here
//! with `cc`; skipped with a plain line when there is no C compiler): a thread still inside
//! DuckDB then runs on destroyed objects. Before the fix 8 of 10 such runs crashed.

mod common;
use common::*;
use qt::llm::mock_server::{self, MockReply, MockScript};
use std::os::unix::process::ExitStatusExt;

/// Runs of the all-fail path (each ~1-2 s): before the fix about one in fifteen crashed
/// without the preload, eight in ten with it.
const RUNS: usize = 16;

/// A shared library whose destructor sleeps 300 ms at exit, or None without `cc`.
fn slow_fini(dir: &std::path::Path) -> Option<std::path::PathBuf> {
    let src = dir.join("slowfini.c");
    let lib = dir.join("slowfini.so");
    std::fs::write(&src, "#include <unistd.h>\n__attribute__((destructor)) static void slow_fini(void) { usleep(300000); }\n").ok()?;
    let ok = std::process::Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg(&src)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped the preloaded half: no C compiler (cc) to build the slow-exit library");
    }
    ok.then_some(lib)
}

/// The all-calls-fail run in `dir`: a mock server answering HTTP 400 to every call (kept
/// alive by the returned runtime), a fast original timed with `timing` (its baseline is
/// inside DuckDB when the run ends), 4 workers, and the scale-0.01 DB generated.
fn all_fail_run(dir: &std::path::Path, name: &str, timing: &str) -> (tokio::runtime::Runtime, mock_server::MockServer, std::path::PathBuf) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let server = rt.block_on(mock_server::start(MockScript::always(MockReply::Status(400, "{\"error\": \"bad request\"}".into()))));
    std::fs::write(
        dir.join("q1.sql"),
        "SELECT ss_store_sk, count(*) AS n, sum(ss_net_paid) AS s FROM store_sales GROUP BY ss_store_sk ORDER BY 1\n",
    )
    .unwrap();
    let text = patched(offline_spec(dir, name, &[&format!("{}/q1.sql", dir.display())]), &[
        ("provider = \"replay\"\nresponses = \"@REPO@/prompts/demo_responses\"", &format!("base_url = \"{}\"", server.url)),
        ("workers = 2", "workers = 4"),
        ("timing_rounds = 1\nwarmup = 0", timing),
    ]);
    let spec = write_spec(dir, &format!("{name}.toml"), &text);
    qt().args(["db", "generate", "--scale", "0.01", "--quiet"]).assert().success();
    (rt, server, spec)
}

#[test]
fn every_llm_call_failing_never_ends_in_a_crash_at_exit() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, server, spec) = all_fail_run(dir.path(), "allfail", "timing_rounds = 400\nwarmup = 5");
    let preload = slow_fini(dir.path());
    let mut codes = Vec::new();
    for i in 0..RUNS {
        let mut cmd = qt_std();
        cmd.args(["run", spec.to_str().unwrap(), "--no-cache", "--quiet"]).env("MALLOC_PERTURB_", (i % 254 + 1).to_string());
        if let Some(lib) = preload.as_ref().filter(|_| i % 2 == 0) {
            cmd.env("LD_PRELOAD", lib);
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.signal().is_none() && out.status.code() == Some(1),
            "run {i}: {:?} (signal {:?}); stderr:\n{stderr}",
            out.status.code(),
            out.status.signal()
        );
        assert!(stderr.contains("every LLM call failed"), "run {i}: {stderr}");
        codes.push(out.status.code());
    }
    assert_eq!(codes.len(), RUNS);
    rt.block_on(server.shutdown());
}

/// The same all-fail path under valgrind's memcheck: every invalid read or write, use
/// after free or mismatched free in qt, the duckdb crate or DuckDB's C++ until the process
/// is gone, static destructors included. (The issue asks for a sanitizer or Miri where the
/// code allows: Miri cannot run DuckDB's C++, and an ASan build of the bundled DuckDB
/// would not fit the suite's time; memcheck needs no rebuild.) About 2 minutes per run on
/// the 2 cores, so ignored by default: `cargo test --release --test exit_stress --
/// --ignored`. Measured 2026-12-07: 4 runs (5 to 30 timing rounds), 0 errors each.
#[test]
#[ignore = "about 2 minutes under valgrind: run with --ignored"]
fn the_all_fail_path_is_clean_under_valgrind_memcheck() {
    if std::process::Command::new("valgrind").arg("--version").output().is_err() {
        eprintln!("skipped: valgrind is not installed (apt-get install -y valgrind)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (rt, server, spec) = all_fail_run(dir.path(), "vgfail", "timing_rounds = 10\nwarmup = 2");
    let log = dir.path().join("memcheck.log");
    let out = std::process::Command::new("valgrind")
        .args(["--leak-check=no", "--error-exitcode=99"])
        .arg(format!("--log-file={}", log.display()))
        .arg(assert_cmd::cargo::cargo_bin("qt"))
        .args(["run", spec.to_str().unwrap(), "--no-cache", "--quiet"])
        .env("QT_CACHE_DIR", cache_dir())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let report = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(out.status.code(), Some(1), "exit 1 (nothing judged), 99 = memcheck errors:\n{report}");
    assert!(report.contains("ERROR SUMMARY: 0 errors"), "{report}");
    rt.block_on(server.shutdown());
}
