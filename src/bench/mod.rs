//! `qt bench`: measurements of qt itself, printed as a table and optionally saved as JSON.
//! Nothing here asserts on time (the machine is shared and noisy); the figures go in the
//! README's Performance section.
//!
//! - `llm`: 200 client calls at concurrency 20 against the mock server (200 ms latency).
//! - `load` (or `a`, `b`, `c` alone): whole `qt run` subprocesses against the mock server on a scale-0.01 DB:
//!   (a) 1,000 generations at concurrency 64, 200 ms latency, answers = varied equivalent
//!   rewrites of the query (all distinct, so dedup skips none), validated; (b) 100,000 generations with validation skipped (throughput, peak RSS);
//!   (c) (a) with 10% injected 429/500 faults (retries, every generation has a status).
//! - `aa`: repeated A/A validations of a few TPC-DS queries on the sample DB.
//! - `report`: size and render time of the HTML report of a 1,000-generation run.
//! - `sample`: sampled DB builds and multi-instance validation (`sample.rs`).
//! - `aa_run`: the A/A run through `qt run` (see `aa.rs`): false-win rate, medians.
//! - `confirm_db`, `confirm`, `confirm_predict`: the full-size confirm DB's build, q1's
//!   top 3 confirmed there, and how well the sample predicts the full size (`confirm.rs`).

use anyhow::Context as _;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::llm::mock_server::{self, MockReply, MockScript};
use crate::record::layout;

mod engines;
pub mod aa;
mod child;
pub mod confirm;
pub mod rewrites;
pub mod sample;

use child::run_measured;

/// What `qt bench` was asked to measure (`commands/bench.rs` builds it from the flags;
/// the flags' help says what each set is).
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Comma-separated sets: quick, llm, load, a, b, c, report, aa, sample, sample_db,
    /// instances, aa_run, all.
    pub which: String,
    pub n_validated: Option<usize>,
    pub n_unvalidated: Option<usize>,
    pub aa_runs: Option<usize>,
    pub aa_workers: usize,
    pub aa_scale: f64,
    /// Also write the figures as JSON here.
    pub json: Option<PathBuf>,
    /// `engines` and `aa_pg`: the PostgreSQL database to validate on (the SELECT-only
    /// URL `qt db load` prints; password from PGPASSWORD), loaded from the DuckDB sample
    /// `engines_duckdb` (the same data).
    pub pg_url: Option<String>,
    pub engines_duckdb: Option<PathBuf>,
    /// The sample and full-size DBs of the confirm benches.
    pub confirm_dbs: confirm::ConfirmBenchDbs,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?)
}

/// `qt bench`: run the chosen sets, print the table; returns the exit code.
pub fn run(args: &BenchOptions) -> anyhow::Result<i32> {
    let which: Vec<&str> = args.which.split(',').map(str::trim).collect();
    // `quick` (the default) runs everything at a small size, so plain `qt bench` answers
    // in under a minute; the README's figures come from `--which all`.
    // (c) is (a) with faults, left out of the quick set.
    let quick = which.contains(&"quick");
    let all = which.contains(&"all") || quick;
    let sized = |given: Option<usize>, small: usize, full: usize| given.unwrap_or(if quick { small } else { full });
    let (n_validated, n_unvalidated, aa_runs) =
        (sized(args.n_validated, 12, 1000), sized(args.n_unvalidated, 200, 100_000), sized(args.aa_runs, 3, 30));
    if quick {
        crate::outln!(
            "quick set: llm, load (a) with {n_validated} and (b) with {n_unvalidated} generations, the report, {aa_runs} A/A \
             runs per query, validation on the cached sample DBs (no DB is built). The full set the README reports: \
             qt bench --which all (several minutes)"
        );
    }
    let mut rows: Vec<Value> = Vec::new();
    if all || which.contains(&"llm") {
        let rt = runtime()?;
        let f = rt.block_on(crate::llm::bench::concurrency_bench(200, 20, Duration::from_millis(200)));
        crate::outln!("llm client: {f}");
        rows.push(json!({"bench": "llm_concurrency", "figures": f}));
    }
    let load = all || which.contains(&"load");
    let workloads = [("a", Workload::a(n_validated)), ("b", Workload::b(n_unvalidated)), ("c", Workload::c(n_validated))];
    for (key, w) in workloads {
        if (load && !(quick && key == "c")) || which.contains(&key) {
            let r = w.run().with_context(|| format!("workload {}", w.name))?;
            crate::outln!("{}", w.line(&r));
            rows.push(r);
        }
    }
    if all || which.contains(&"report") {
        rows.push(crate::report::bench::report_bench(n_validated)?);
    }
    if which.contains(&"engines") || which.contains(&"aa_pg") {
        let (pg, duck) = engines::targets(args)?;
        if which.contains(&"engines") {
            rows.push(engines::engines_bench(&pg, &duck)?);
        }
        if which.contains(&"aa_pg") {
            rows.push(engines::aa_pg(&pg, aa_runs)?);
        }
    }
    if all || which.contains(&"aa") {
        let r = aa_bench(aa_runs)?;
        rows.push(r);
    }
    // Building sample DBs takes minutes: `quick` never builds them (it measured a build
    // into a temporary folder before); it validates on the default instances only when
    // they are already cached.
    let sample = (all && !quick) || which.contains(&"sample");
    let instances = sample || which.contains(&"instances") || (quick && sample::default_dbs_cached());
    if sample || which.contains(&"sample_db") || instances {
        let builds = sample || which.contains(&"sample_db");
        rows.extend(sample::sample_bench(builds, instances)?);
    } else if quick {
        crate::outln!("validation with 1 vs 3 instances: skipped (the default sample DBs are not cached; `qt bench --which instances` builds them)");
    }
    // The A/A run through `qt run` takes minutes at scale 1: never part of the quick set.
    if (all && !quick) || which.contains(&"aa_run") {
        let r = aa::aa_run_bench(args.aa_workers, args.aa_scale)?;
        rows.push(r);
    }
    // The confirm benches build or read a full-size DB: never part of `quick` or `all`.
    if which.contains(&"confirm_db") {
        rows.push(confirm::confirm_db_row(args.confirm_dbs)?);
    }
    if which.contains(&"confirm") {
        rows.push(confirm::confirm_q1_row(args.confirm_dbs)?);
    }
    if which.contains(&"confirm_predict") {
        rows.push(confirm::predict_row(args.confirm_dbs)?);
    }
    print_table(&rows);
    if quick {
        crate::outln!("\nquick set only: run `qt bench --which all` for the full measurements (several minutes)");
    }
    if let Some(p) = &args.json {
        crate::files::atomic::write_atomic(p, &serde_json::to_vec_pretty(&rows)?)?;
        crate::outln!("figures written to {}", p.display());
    }
    Ok(0)
}

fn print_table(rows: &[Value]) {
    crate::outln!("\n{:<28} {:>10} {:>10} {:>8} {:>10} {:>12}", "bench", "wall s", "ideal s", "ratio", "gens/s", "peak RSS MB");
    for r in rows {
        let f = |k: &str| r[k].as_f64().map(|x| format!("{x:.2}")).unwrap_or_else(|| "-".into());
        crate::outln!(
            "{:<28} {:>10} {:>10} {:>8} {:>10} {:>12}",
            r["bench"].as_str().unwrap_or("?"),
            r["wall_s"].as_f64().or(r["figures"]["elapsed_s"].as_f64()).map(|x| format!("{x:.2}")).unwrap_or("-".into()),
            r["ideal_s"].as_f64().or(r["figures"]["ideal_s"].as_f64()).map(|x| format!("{x:.2}")).unwrap_or("-".into()),
            f("ratio"),
            f("gens_per_s"),
            f("peak_rss_mb"),
        );
    }
}

/// Below this ideal (seconds), wall/ideal says nothing (process start-up and recording
/// dominate): no ratio is given. Workload (b) (5 ms calls, no validation) is such a case.
const MIN_IDEAL_S: f64 = 0.5;

/// wall / ideal, or `None` (printed `-`) when the ideal is too small to divide by.
fn ratio(wall: f64, ideal: f64) -> Option<f64> {
    (ideal.is_finite() && ideal >= MIN_IDEAL_S).then(|| wall / ideal)
}

/// A `qt run` workload against the mock server.
struct Workload {
    name: &'static str,
    n: usize,
    concurrency: usize,
    latency: Duration,
    fault_rate: f64,
    validate: bool,
}

impl Workload {
    fn a(n: usize) -> Self {
        Workload { name: "a_validated", n, concurrency: 64, latency: Duration::from_millis(200), fault_rate: 0.0, validate: true }
    }
    fn b(n: usize) -> Self {
        Workload { name: "b_no_validate", n, concurrency: 64, latency: Duration::from_millis(5), fault_rate: 0.0, validate: false }
    }
    fn c(n: usize) -> Self {
        Workload { name: "c_faults_10pct", n, concurrency: 64, latency: Duration::from_millis(200), fault_rate: 0.10, validate: true }
    }

    fn spec(&self, dir: &Path, url: &str) -> anyhow::Result<PathBuf> {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let text = format!(
            r#"name = "bench_{name}"
[output]
root = "{out}"
[database]
generate = {{ benchmark = "tpcds", scale = 0.01 }}
[queries]
files = ["{repo}/queries/demo/demo2.sql"]
[llm]
base_url = "{url}"
model = "mock"
max_concurrency = {c}
timeout_s = 30
max_attempts = 6
[generation]
workers = {n}
template = "{repo}/templates/full_sql.j2"
response_format = "sql"
retries_on_failure = 0
[examples]
strategy = "none"
dir = "{repo}/prompts/examples"
[validation]
timing_rounds = 3
warmup = 0
instances = 1
skip = {skip}
"#,
            name = self.name,
            out = dir.display(),
            repo = repo.display(),
            c = self.concurrency,
            n = self.n,
            skip = !self.validate
        );
        let p = dir.join("bench.toml");
        std::fs::write(&p, text)?;
        Ok(p)
    }

    fn run(&self) -> anyhow::Result<Value> {
        let rt = runtime()?;
        // Validated workloads get varied equivalent rewrites, so deduplication of identical
        // candidates cannot make them look faster than a real run.
        let script = if self.validate {
            MockScript::from_fn(|r| MockReply::Content(format!("```sql\n{}\n```", varied_demo2(r.index))))
        } else {
            MockScript::always(MockReply::EchoSql)
        };
        let script = script.with_latency(self.latency).with_faults(self.fault_rate, 7);
        let server = rt.block_on(mock_server::start(script));
        let dir = tempfile::Builder::new().prefix("qt-bench-").tempdir()?;
        let spec = self.spec(dir.path(), &server.url)?;
        let exe = std::env::current_exe()?;
        let started = Instant::now();
        let (code, peak_rss_kb) = run_measured(&exe, &spec)?;
        let wall = started.elapsed().as_secs_f64();
        let run = std::fs::read_dir(dir.path().join(format!("bench_{}", self.name)))?
            .flatten()
            .map(|e| e.path())
            .find(|p| p.join(layout::SUMMARY_JSON).exists())
            .context("no run folder written")?;
        let summary: Value = serde_json::from_str(&std::fs::read_to_string(run.join(layout::SUMMARY_JSON))?)?;
        let (mut retries, mut lane_s, mut recorded) = (0u64, 0f64, 0usize);
        for line in std::fs::read_to_string(run.join(layout::RESULTS))?.lines() {
            let v: Value = serde_json::from_str(line)?;
            recorded += usize::from(v["status"].is_string());
            retries += v["llm_attempts"].as_array().map(|a| a.len().saturating_sub(1) as u64).unwrap_or(0);
            for k in ["original_s", "optimized_s"] {
                lane_s += v["timing"][k].as_array().map(|a| a.iter().filter_map(Value::as_f64).sum::<f64>()).unwrap_or(0.0);
            }
        }
        let llm_ideal = self.n.div_ceil(self.concurrency) as f64 * self.latency.as_secs_f64();
        let ideal = llm_ideal + lane_s;
        Ok(json!({
            "bench": self.name, "generations": self.n, "concurrency": self.concurrency,
            "latency_ms": self.latency.as_millis() as u64, "fault_rate": self.fault_rate,
            "exit_code": code, "wall_s": wall, "ideal_s": ideal, "llm_ideal_s": llm_ideal, "lane_s": lane_s,
            "ratio": ratio(wall, ideal), "gens_per_s": self.n as f64 / wall,
            "peak_rss_mb": peak_rss_kb as f64 / 1024.0, "requests": server.requests(),
            "retries": retries, "recorded_with_status": recorded, "completed": summary["completed"],
            "by_status": summary["by_status"],
        }))
    }

    fn line(&self, r: &Value) -> String {
        format!(
            "{}: {} generations in {:.1} s ({}), {:.0} gens/s, peak RSS {:.0} MB, {} retries, {}/{} recorded with a status",
            self.name, self.n, r["wall_s"].as_f64().unwrap_or(0.0),
            match r["ratio"].as_f64() {
                Some(x) => format!("ideal {:.1} s, ratio {x:.2}", r["ideal_s"].as_f64().unwrap_or(0.0)),
                None => format!("ideal {:.2} s: too small to compare with, the figure is gens/s", r["ideal_s"].as_f64().unwrap_or(0.0)),
            },
            r["gens_per_s"].as_f64().unwrap_or(0.0), r["peak_rss_mb"].as_f64().unwrap_or(0.0),
            r["retries"], r["recorded_with_status"], self.n
        )
    }
}

/// The `i`-th answer of the validated workloads: one of three rewrites of
/// `queries/demo/demo2.sql` (a folded tautology, an arithmetic-shifted year with an IN
/// list, a pre-filtered date CTE), each equivalent to it and, through `i`, textually
/// distinct from every other answer.
pub fn varied_demo2(i: usize) -> String {
    const SELECT: &str = "select i_category, d_moy, sum(ss_ext_sales_price) as revenue, count(*) as sales";
    const TAIL: &str = "group by i_category, d_moy\norder by i_category, d_moy";
    match i % 3 {
        0 => format!(
            "{SELECT}\nfrom store_sales\njoin date_dim on ss_sold_date_sk = d_date_sk\njoin item on ss_item_sk = i_item_sk\n\
             where {i} = {i} and d_year = 2000 and (d_qoy = 1 or d_qoy = 4)\n{TAIL}"
        ),
        1 => format!(
            "{SELECT}\nfrom store_sales\njoin date_dim on ss_sold_date_sk = d_date_sk\njoin item on ss_item_sk = i_item_sk\n\
             where d_year + {i} = 2000 + {i} and d_qoy in (1, 4)\n{TAIL}"
        ),
        _ => format!(
            "with dates_{i} as (select d_date_sk, d_moy from date_dim where d_year = 2000 and d_qoy in (1, 4))\n\
             {SELECT}\nfrom store_sales\njoin dates_{i} on ss_sold_date_sk = d_date_sk\njoin item on ss_item_sk = i_item_sk\n{TAIL}"
        ),
    }
}

/// A few TPC-DS queries that return rows on the generated data (read from
/// `$QT_TPCDS_QUERIES` or `../shared/tpcds/queries`, never copied), else our demo queries.
fn aa_queries() -> anyhow::Result<Vec<(String, String)>> {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tpcds = std::env::var_os("QT_TPCDS_QUERIES")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("../shared/tpcds/queries"));
    let (dir, files): (PathBuf, &[&str]) = if tpcds.join("query_3.sql").is_file() {
        (tpcds, &["query_3.sql", "query_42.sql", "query_52.sql", "query_55.sql"])
    } else {
        crate::outln!("TPC-DS queries not found at {}: using the demo queries", tpcds.display());
        (repo.join("queries/demo"), &["demo1.sql", "demo2.sql", "demo3.sql"])
    };
    files
        .iter()
        .map(|f| Ok((f.to_string(), std::fs::read_to_string(dir.join(f))?)))
        .collect()
}

/// A/A validations on the generated sample DB: the spread of speedups that noise alone
/// gives, the false wins, and the order effect the balanced blocks cancel.
fn aa_bench(runs: usize) -> anyhow::Result<Value> {
    let db = crate::db::ensure_generated("tpcds", 0.1, true)?;
    let queries = aa_queries()?;
    let cfg = crate::validate::ValidatorConfig::from_spec(&crate::spec::ValidationCfg::default());
    let results = crate::validate::aa_bench_verdicts(&db, &queries, runs, &cfg);
    let mut out = Vec::new();
    crate::outln!("\nA/A speedups ({runs} validations per query, default rounds, sample DB scale 0.1):");
    for (name, verdicts) in &results {
        let timings: Vec<&crate::validate::Timing> = verdicts
            .iter()
            .filter_map(|v| match v {
                crate::validate::Verdict::Pass { timing, .. } => Some(timing),
                _ => None,
            })
            .collect();
        let xs: Vec<f64> = verdicts.iter().map(|v| v.speedup().unwrap_or(f64::NAN)).collect();
        let wins = timings.iter().filter(|t| t.win).count();
        let mut s = xs.clone();
        s.sort_by(|a, b| a.total_cmp(b));
        let q = |p: f64| s.get(((s.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(f64::NAN);
        let med = |f: &dyn Fn(&crate::validate::Timing) -> Option<f64>| {
            crate::validate::timing::stats::median(&timings.iter().filter_map(|t| f(t)).collect::<Vec<_>>()).unwrap_or(f64::NAN)
        };
        let (of, cf) = (med(&|t| t.ratio_o_first), med(&|t| t.ratio_c_first));
        crate::outln!(
            "  {name:<10} min {:.3}  p05 {:.3}  median {:.3}  p95 {:.3}  max {:.3}  false wins {wins}/{}  O-first {of:.3} C-first {cf:.3}",
            q(0.0), q(0.05), q(0.5), q(0.95), q(1.0), timings.len()
        );
        out.push(json!({"query": name, "speedups": xs, "median": q(0.5), "p05": q(0.05), "p95": q(0.95),
            "false_wins": wins, "ratio_o_first_median": of, "ratio_c_first_median": cf}));
    }
    Ok(json!({"bench": "aa_noise", "queries": out}))
}

#[cfg(test)]
mod tests {
    #[test]
    fn no_ratio_against_a_tiny_ideal() {
        assert_eq!(super::ratio(3.0, 0.0), None);
        assert_eq!(super::ratio(3.0, 0.02), None);
        assert_eq!(super::ratio(3.0, 1.5), Some(2.0));
    }
}
