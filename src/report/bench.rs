//! `qt bench --which report`: size and render time of the HTML report of one run folder
//! with N generations of realistic size (the demo's SQL, answers and examples, an 8 kB
//! base prompt, three examples per worker), written to a temporary folder. Render time is
//! qt's (read + render + write) and, when Debian's `chromium` is installed, the browser's
//! (headless, load + scripts + layout until the DOM is dumped).

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::record::layout;

fn repo_file(rel: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(root.join(rel)).unwrap_or_default()
}

/// A run folder with `n` generations: 40% pass, 20% wrong results, the rest errors.
pub fn synthetic_run(root: &Path, n: usize) -> anyhow::Result<PathBuf> {
    let run = root.join("q1_20261127_120000");
    std::fs::create_dir_all(&run)?;
    let original = repo_file("queries/demo/demo1.sql");
    let template = repo_file("templates/v5_dag.j2");
    let base: String = std::iter::repeat_n(template.as_str(), 8000 / template.len().max(1) + 1).collect();
    let examples: Vec<String> = std::fs::read_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("prompts/examples"))
        .map(|d| d.flatten().filter_map(|e| std::fs::read_to_string(e.path()).ok()).collect())
        .unwrap_or_default();
    let answer = repo_file("prompts/demo_responses/qdemo1/w01.txt");
    let cfg = json!({"name": "bench", "query_id": "1", "arms": [{"name": "batches"}, {"name": "matched"}],
                     "spec_path": "bench.toml", "spec_sha256": "0".repeat(64), "qt_version": env!("CARGO_PKG_VERSION"),
                     "run_id": "20261127T120000Z-000000", "total_generations": n});
    std::fs::write(run.join(layout::CONFIG), serde_json::to_vec_pretty(&cfg)?)?;
    std::fs::write(run.join(layout::ORIGINAL), &original)?;
    std::fs::write(run.join(layout::BASE_PROMPT), &base)?;
    for i in 1..=n {
        let g = run.join(layout::gen_name(i as u32, 1000.max(n)));
        std::fs::create_dir_all(&g)?;
        let (status, reason, speedup) = match i % 5 {
            0 | 1 => ("pass", Value::Null, Some(0.8 + (i % 37) as f64 / 12.0)),
            2 => ("validation_failed", json!("value_mismatch"), None),
            3 => ("error", json!("parse_error"), None),
            _ => ("error", json!("execution_error"), None),
        };
        let worker_part: String = (0..3).map(|k| examples.get((i + k) % examples.len().max(1)).cloned().unwrap_or_default()).collect();
        let prompt = format!("{}\n{worker_part}\n{}", &base[..base.len() / 2], &base[base.len() / 2..]);
        let v = json!({"gen": i, "worker_id": i, "status": status, "reason": reason, "speedup": speedup,
            "arm_name": if i % 2 == 0 { "batches" } else { "matched" }, "examples": ["decorrelate", "early_filter", "or_to_union"],
            "transforms": ["decorrelate"], "original_time": 0.25, "optimized_time": speedup.map(|s| 0.25 / s),
            "rows": {"original": 100, "optimized": if status == "validation_failed" { 99 } else { 100 }},
            "timing": speedup.map(|s| json!({"rounds": 5, "ci95": [s * 0.95, s * 1.05], "win": s > 1.1})),
            "diff": if status == "validation_failed" { json!({"original": ["1 | a | 10.5"], "optimized": ["1 | a | 10.6"]}) } else { Value::Null },
            "tokens": {"prompt": 5000, "completion": 600}, "model": "bench-model"});
        std::fs::write(g.join(layout::VALIDATION), serde_json::to_vec_pretty(&v)?)?;
        std::fs::write(g.join(layout::PROMPT), &prompt)?;
        std::fs::write(g.join(layout::RESPONSE), &answer)?;
        if status != "error" {
            std::fs::write(g.join(layout::OPTIMIZED), original.replacen("where", "where 1 = 1 and", 1))?;
        }
    }
    Ok(run)
}

/// Headless Chromium on the page, if installed: (seconds for the whole browser process
/// to load the page and dump its DOM, milliseconds from navigation to the page's load
/// event as the page itself measured them).
fn browser_seconds(page: &Path) -> Option<(f64, Option<f64>)> {
    let bin = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].into_iter().find(|p| Path::new(p).exists())?;
    let profile = tempfile::tempdir().ok()?;
    let t = Instant::now();
    let out = std::process::Command::new(bin)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync", "--dump-dom"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .ok()?;
    let wall = t.elapsed().as_secs_f64();
    let dom = String::from_utf8_lossy(&out.stdout);
    if !dom.contains("data-js=\"ok\"") {
        return None;
    }
    let load_ms = dom.split("data-load-ms=\"").nth(1).and_then(|r| r.split('"').next()).and_then(|v| v.parse().ok());
    Some((wall, load_ms))
}

pub fn report_bench(n: usize) -> anyhow::Result<Value> {
    let dir = tempfile::tempdir()?;
    let run = synthetic_run(dir.path(), n)?;
    let t = Instant::now();
    let page = super::write_report(&run)?;
    let render_s = t.elapsed().as_secs_f64();
    let size_mb = std::fs::metadata(&page)?.len() as f64 / 1e6;
    let browser_s = browser_seconds(&page);
    // Keep the page for a look (or a profile) when asked.
    if let Some(keep) = std::env::var_os("QT_BENCH_REPORT_COPY") {
        std::fs::copy(&page, &keep)?;
    }
    let line = format!(
        "report, {n} generations: {size_mb:.2} MB, qt render {render_s:.2}s, browser {}",
        match browser_s {
            Some((wall, Some(ms))) => format!("page loaded in {:.2}s ({wall:.2}s with browser start-up)", ms / 1e3),
            Some((wall, None)) => format!("{wall:.2}s with start-up"),
            None => "n/a (no chromium)".into(),
        }
    );
    println!("{line}");
    Ok(json!({"bench": format!("report_{n}"), "generations": n, "size_mb": size_mb, "wall_s": render_s,
              "browser_process_s": browser_s.map(|b| b.0), "page_load_s": browser_s.and_then(|b| b.1).map(|ms| ms / 1e3)}))
}
