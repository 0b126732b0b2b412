//! `qt bench --which aa_run`: the A/A run through `qt run`, as a user would see it.
//!
//! Seven TPC-DS queries (3, 7, 19, 42, 52, 55, 96, read from `$QT_TPCDS_QUERIES` or
//! `../shared/tpcds/queries`, never copied) x N workers on a generated sample DB; the mock
//! LLM answers every prompt with the original SQL written in another letter case (the
//! letters of its table names, by a per-request bit mask: see [`case_variant`]), so every
//! candidate is the original query to DuckDB, yet none is deduplicated (the dedup key keeps
//! identifier case) and none is `no_change`: each is checked and timed like a real
//! rewrite, with the run's default settings. Every `win` is a false win and every speedup
//! is noise: it reports the false-win rate, each query's median and p05-p95 of speedups,
//! and the order effect the balanced blocks cancel (median O-first vs C-first ratios).
//! A measurement, never an assertion.

use anyhow::Context as _;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::llm::mock_server::{self, MockReply, MockScript};

const QUERIES: [&str; 7] = ["3", "7", "19", "42", "52", "55", "96"];

fn tpcds_dir() -> Option<PathBuf> {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::var_os("QT_TPCDS_QUERIES")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("../shared/tpcds/queries"));
    dir.join("query_3.sql").is_file().then_some(dir)
}

fn spec(dir: &Path, url: &str, queries: &Path, workers: usize, scale: f64) -> anyhow::Result<PathBuf> {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let files: Vec<String> =
        QUERIES.iter().map(|q| format!("\"{}\"", queries.join(format!("query_{q}.sql")).display())).collect();
    let text = format!(
        r#"name = "bench_aa_run"
[output]
root = "{out}"
[database]
generate = {{ benchmark = "tpcds", scale = {scale} }}
[queries]
files = [{files}]
[llm]
base_url = "{url}"
model = "mock"
max_concurrency = 16
timeout_s = 30
[generation]
workers = {workers}
template = "{repo}/templates/full_sql.j2"
response_format = "sql"
retries_on_failure = 0
[examples]
strategy = "none"
dir = "{repo}/prompts/examples"
"#,
        out = dir.display(),
        files = files.join(", "),
        repo = repo.display(),
    );
    let p = dir.join("aa_run.toml");
    std::fs::write(&p, text)?;
    Ok(p)
}

/// Nearest-rank percentile of sorted values.
fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted.get(((sorted.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(f64::NAN)
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// One query's figures from its results.jsonl.
fn query_figures(results: &str) -> anyhow::Result<(String, Value, usize, usize)> {
    let (mut id, mut speedups, mut wins, mut orig, mut of, mut cf, mut n) =
        (String::new(), Vec::new(), 0usize, Vec::new(), Vec::new(), Vec::new(), 0usize);
    for line in results.lines() {
        let v: Value = serde_json::from_str(line)?;
        id = v["query_id"].as_str().unwrap_or("?").to_string();
        n += 1;
        let Some(s) = v["speedup"].as_f64() else { continue };
        speedups.push(s);
        wins += usize::from(v["timing"]["win"].as_bool() == Some(true));
        orig.extend(v["original_time"].as_f64());
        of.extend(v["timing"]["ratio_o_first"].as_f64());
        cf.extend(v["timing"]["ratio_c_first"].as_f64());
    }
    let s = sorted(speedups.clone());
    let (of, cf) = (sorted(of), sorted(cf));
    let fig = json!({
        "query": id, "candidates": n, "timed": s.len(), "false_wins": wins,
        "original_median_ms": crate::validate::timing::stats::median(&orig).map(|x| x * 1e3),
        "median": pct(&s, 0.5), "p05": pct(&s, 0.05), "p95": pct(&s, 0.95),
        "min": pct(&s, 0.0), "max": pct(&s, 1.0),
        "ratio_o_first_median": pct(&of, 0.5), "ratio_c_first_median": pct(&cf, 0.5),
    });
    Ok((id, fig, s.len(), wins))
}

/// Run the A/A workload and return its figures (also printed).
pub fn aa_run_bench(workers: usize, scale: f64) -> anyhow::Result<Value> {
    let Some(queries) = tpcds_dir() else {
        crate::outln!("aa_run skipped: TPC-DS queries not found (set QT_TPCDS_QUERIES)");
        return Ok(json!({"bench": "aa_run", "skipped": "no TPC-DS queries"}));
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let script = MockScript::from_fn(|r| match mock_server::prompt_sql(&r.body) {
        Some(sql) => MockReply::Content(format!("```sql\n{}\n```", case_variant(&sql, r.index as u64 + 1))),
        None => MockReply::EchoSql,
    });
    let server = rt.block_on(mock_server::start(script));
    let dir = tempfile::Builder::new().prefix("qt-bench-aa-").tempdir()?;
    let spec = spec(dir.path(), &server.url, &queries, workers, scale)?;
    let started = Instant::now();
    let (code, peak_kb) = super::child::run_measured(&std::env::current_exe()?, &spec)?;
    let wall = started.elapsed().as_secs_f64();
    let mut runs: Vec<PathBuf> = std::fs::read_dir(dir.path().join("bench_aa_run"))
        .context("no output folder written")?
        .flatten()
        .map(|e| e.path().join(crate::record::layout::RESULTS))
        .filter(|p| p.is_file())
        .collect();
    runs.sort();
    let (mut per_query, mut timed, mut wins) = (Vec::new(), 0, 0);
    crate::outln!("\nA/A through qt run ({workers} candidates (the original in other letter case) x {} TPC-DS queries, scale {scale}):", QUERIES.len());
    for r in runs {
        let (id, fig, t, w) = query_figures(&std::fs::read_to_string(&r)?)?;
        crate::outln!(
            "  q{id:<4} original {:>6.1} ms  median {:.3}  p05-p95 {:.3}-{:.3}  false wins {w}/{t}  order effect O-first {:.3} / C-first {:.3}",
            fig["original_median_ms"].as_f64().unwrap_or(f64::NAN),
            fig["median"].as_f64().unwrap_or(f64::NAN),
            fig["p05"].as_f64().unwrap_or(f64::NAN),
            fig["p95"].as_f64().unwrap_or(f64::NAN),
            fig["ratio_o_first_median"].as_f64().unwrap_or(f64::NAN),
            fig["ratio_c_first_median"].as_f64().unwrap_or(f64::NAN),
        );
        per_query.push(fig);
        timed += t;
        wins += w;
    }
    let rate = wins as f64 / timed.max(1) as f64;
    crate::outln!("  false wins: {wins}/{timed} ({:.1}%), wall {wall:.0} s, exit code {code}", rate * 100.0);
    Ok(json!({
        "bench": "aa_run", "wall_s": wall, "exit_code": code, "workers": workers, "scale": scale,
        "timed": timed, "false_wins": wins, "false_win_rate": rate,
        "peak_rss_mb": peak_kb as f64 / 1024.0, "queries": per_query,
    }))
}

/// `sql` with the letters of its table names re-cased by the bits of `k` (bit i: the i-th
/// such letter in the text is upper case): the same query to DuckDB (unquoted identifiers
/// are case-insensitive) but a different text for every `k` below 2^letters. String
/// literals and quoted names are left alone.
pub fn case_variant(sql: &str, k: u64) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut bit = 0u32;
    let mut chars = sql.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' || c == '"' {
            out.push(c);
            for (_, d) in chars.by_ref() {
                out.push(d);
                if d == c {
                    break;
                }
            }
        } else if c.is_ascii_alphabetic() || c == '_' {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if !(d.is_ascii_alphanumeric() || d == '_') {
                    break;
                }
                end = j + d.len_utf8();
                chars.next();
            }
            let word = &sql[i..end];
            if crate::db::TPCDS_TABLES.contains(&word.to_ascii_lowercase().as_str()) {
                for ch in word.chars() {
                    if ch.is_ascii_alphabetic() {
                        let up = bit < 64 && (k >> bit) & 1 == 1;
                        out.push(if up { ch.to_ascii_uppercase() } else { ch.to_ascii_lowercase() });
                        bit += 1;
                    } else {
                        out.push(ch);
                    }
                }
            } else {
                out.push_str(word);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::case_variant;

    #[test]
    fn variants_differ_only_in_table_name_case() {
        let q = "select dt.d_year, item.i_brand from date_dim dt, store_sales, item where i_category = 'item' and \"item\".x = 1";
        let a = case_variant(q, 1);
        let b = case_variant(q, 2);
        assert_ne!(a, b);
        assert_eq!(a.to_ascii_lowercase(), q.to_ascii_lowercase());
        assert!(a.contains("Item.i_brand") && b.contains("iTem.i_brand"), "{a} / {b}");
        assert!(a.contains("'item'") && a.contains("\"item\".x") && a.contains("dt.d_year"), "{a}");
        let keys: std::collections::BTreeSet<String> = (1..200).map(|k| crate::validate::dedup::normalize(&case_variant(q, k))).collect();
        assert_eq!(keys.len(), 199, "every variant is its own dedup key");
    }
}
