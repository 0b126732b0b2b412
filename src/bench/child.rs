//! Measuring a child process: its exit code and its own peak RSS (VmHWM from /proc).

use std::path::Path;
use std::time::Duration;

/// Run `qt run SPEC --quiet` as a child and return (exit code, peak RSS in KiB).
/// The peak is the child's own VmHWM, polled from /proc: rusage's maxrss would include
/// the memory of this (forking) process.
pub(super) fn run_measured(exe: &Path, spec: &Path) -> anyhow::Result<(i32, i64)> {
    let child = std::process::Command::new(exe)
        .args(["run", "--quiet", "--no-cache"])
        .arg(spec)
        .stdout(std::process::Stdio::null())
        .spawn()?;
    wait_measured(child, Duration::from_millis(50))
}

/// Run `qt ARGS` as a child (stdout to `stdout`, stderr inherited) and return (exit code,
/// peak RSS in KiB, wall seconds).
pub(super) fn run_args_measured(exe: &Path, args: &[String], stdout: std::process::Stdio) -> anyhow::Result<(i32, i64, f64)> {
    let started = std::time::Instant::now();
    let child = std::process::Command::new(exe).args(args).stdout(stdout).spawn()?;
    let (code, peak_kb) = wait_measured(child, Duration::from_millis(100))?;
    Ok((code, peak_kb, started.elapsed().as_secs_f64()))
}

/// Wait for `child`, polling its own VmHWM every `poll`: (exit code, peak RSS in KiB).
/// When qt is asked to stop (Ctrl+C, SIGTERM), the child is killed and waited for, so no
/// measurement outlives the bench.
pub(super) fn wait_measured(mut child: std::process::Child, poll: Duration) -> anyhow::Result<(i32, i64)> {
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0i64;
    let status = loop {
        if let Some(kb) = std::fs::read_to_string(&status_file).ok().and_then(|t| vm_hwm_kb(&t)) {
            peak_kb = peak_kb.max(kb);
        }
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if crate::stop::stop_requested() {
            let _ = child.kill();
            break child.wait()?;
        }
        std::thread::sleep(poll);
    };
    Ok((status.code().unwrap_or(-1), peak_kb))
}

pub(super) fn vm_hwm_kb(status: &str) -> Option<i64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
