//! `qt bench --which engines`: the same candidates of a few TPC-DS queries validated and
//! timed on DuckDB and on PostgreSQL with the same data, speedup per engine side by side;
//! `--which aa_pg`: A/A timing noise on PostgreSQL (false wins, per-query medians).
//!
//! The candidates are named textual edits applied at run time to the queries of
//! ../shared/tpcds (each engine's own dialect folder), never copies of them: each edit is
//! a list of (find, replace) pairs, and every find must occur exactly once.

use anyhow::Context as _;
use serde_json::{Value, json};
use std::path::PathBuf;

use crate::db::Target;
use crate::validate::instances::Instance;
use crate::validate::{TimingLane, ValidatorConfig, Verdict};

/// A rewrite as an edit of a TPC-DS query file.
pub struct Edit {
    pub name: &'static str,
    pub query: &'static str,
    pub pairs: &'static [(&'static str, &'static str)],
}

/// q1 decorrelated (PostgreSQL does not unnest the correlated AVG), q1 with its date
/// filter split into a CTE, q15's OR of three filters turned into a UNION of key sets.
pub const EDITS: [Edit; 3] = [
    Edit {
        name: "q1_decorrelate",
        query: "query_1.sql",
        pairs: &[(
            "where ctr1.ctr_total_return > (select avg(ctr_total_return)*1.2\nfrom customer_total_return ctr2\nwhere ctr1.ctr_store_sk = ctr2.ctr_store_sk)",
            ",(select ctr_store_sk as avg_store_sk, avg(ctr_total_return)*1.2 as avg_limit\nfrom customer_total_return\ngroup by ctr_store_sk) ctr2\nwhere ctr1.ctr_total_return > ctr2.avg_limit\nand ctr1.ctr_store_sk = ctr2.avg_store_sk",
        )],
    },
    Edit {
        name: "q1_date_cte",
        query: "query_1.sql",
        pairs: &[
            ("with customer_total_return as", "with year_days as (select d_date_sk from date_dim where d_year =2000),\ncustomer_total_return as"),
            (",date_dim\nwhere sr_returned_date_sk = d_date_sk\nand d_year =2000", ",year_days\nwhere sr_returned_date_sk = d_date_sk"),
        ],
    },
    Edit {
        name: "q15_or_to_union",
        query: "query_15.sql",
        pairs: &[
            (
                "and ( substr(ca_zip,1,5) in (",
                "and (cs_item_sk, cs_order_number) in (select cs_item_sk, cs_order_number from catalog_sales, customer, customer_address where cs_bill_customer_sk = c_customer_sk and c_current_addr_sk = ca_address_sk and substr(ca_zip,1,5) in (",
            ),
            (
                "or ca_state in ('CA','WA','GA')",
                "union select cs_item_sk, cs_order_number from catalog_sales, customer, customer_address where cs_bill_customer_sk = c_customer_sk and c_current_addr_sk = ca_address_sk and ca_state in ('CA','WA','GA')",
            ),
            ("or cs_sales_price > 500)", "union select cs_item_sk, cs_order_number from catalog_sales where cs_sales_price > 500)"),
        ],
    },
];

/// `sql` with every pair applied; each find must occur exactly once.
pub fn apply(sql: &str, pairs: &[(&str, &str)]) -> Result<String, String> {
    let mut out = sql.to_string();
    for (find, replace) in pairs {
        let n = out.matches(find).count();
        if n != 1 {
            return Err(format!("the edit's text {find:?} occurs {n} times (expected once)"));
        }
        out = out.replacen(find, replace, 1);
    }
    Ok(out)
}

fn queries_dir(dialect: &str) -> anyhow::Result<PathBuf> {
    let base = std::env::var_os("QT_TPCDS_QUERIES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/tpcds/queries"));
    let dir = if dialect == "postgres" { base.join("../queries-postgres") } else { base };
    anyhow::ensure!(dir.join("query_1.sql").exists(), "TPC-DS queries not found in {} (set QT_TPCDS_QUERIES)", dir.display());
    Ok(dir)
}

/// The PostgreSQL and DuckDB targets of the engines benches, checked.
pub fn targets(o: &super::BenchOptions) -> anyhow::Result<(Target, Target)> {
    let url = o.pg_url.as_deref().context(
        "--which engines/aa_pg needs --pg-url: load the sample with `qt db load --engine postgres --url ADMIN_URL --scale 1` and pass the URL it prints",
    )?;
    let pg = Target::parse(url, std::env::var("PGPASSWORD").ok()).map_err(anyhow::Error::msg)?;
    pg.check_open()?;
    let duck = match &o.engines_duckdb {
        Some(p) => Target::from(p),
        None => Target::from(crate::db::ensure_generated("tpcds", 1.0, true)?),
    };
    duck.check_open()?;
    Ok((pg, duck))
}

fn first_statement(sql: &str) -> String {
    crate::db::split_statements(sql).into_iter().next().unwrap_or_default()
}

fn timing(v: &Verdict) -> Option<&crate::validate::Timing> {
    match v {
        Verdict::Pass { timing, .. } => Some(timing),
        _ => None,
    }
}

fn describe(v: &Verdict) -> (String, Option<f64>, Option<(f64, f64)>) {
    match v {
        Verdict::Pass { timing, .. } => (
            if timing.win { "pass (win)".into() } else { "pass".into() },
            timing.speedup,
            timing.ci95.map(|c| (c[0], c[1])),
        ),
        other => (format!("{}/{}", other.status(), other.reason().unwrap_or("")), None, None),
    }
}

/// Each edit validated and timed on both engines (default timing rounds).
pub fn engines_bench(pg: &Target, duck: &Target) -> anyhow::Result<Value> {
    let cfg = ValidatorConfig::from_spec(&crate::spec::ValidationCfg::default());
    let lane = TimingLane::new();
    let mut rows = Vec::new();
    crate::outln!("\nSame candidates on two engines (same TPC-DS data; speedup, 95% interval, verdict):");
    crate::outln!("  {:<18} {:<34} {:<34}", "candidate", "DuckDB", "PostgreSQL");
    for e in &EDITS {
        let mut cells = Vec::new();
        let mut js = serde_json::Map::new();
        for (db, dialect) in [(duck, "duckdb"), (pg, "postgres")] {
            let file = queries_dir(dialect)?.join(e.query);
            let original = first_statement(&std::fs::read_to_string(&file)?);
            let candidate = apply(&original, e.pairs).map_err(|m| anyhow::anyhow!("{}: {}: {m}", e.name, file.display()))?;
            // Judged as `qt validate` judges (evidence rules, re-binding of a thin original).
            let primary = Instance::of(db.clone(), db.short_label());
            let checked = crate::validate::multi::judge_file(&primary, &[], &original, &candidate, &cfg, &lane);
            let v = checked.verdict;
            let (status, speedup, ci) = describe(&v);
            let text = match (speedup, ci) {
                (Some(s), Some((lo, hi))) => format!("{s:.2}x [{lo:.2}, {hi:.2}] {status}"),
                (Some(s), None) => format!("{s:.2}x {status}"),
                _ => status.clone(),
            };
            cells.push(text);
            js.insert(dialect.into(), json!({"status": status, "speedup": speedup, "ci95": ci.map(|c| [c.0, c.1]),
                "original_median_s": timing(&v).and_then(|t| t.original_median_s), "rebinding": checked.rebinding}));
        }
        crate::outln!("  {:<18} {:<34} {:<34}", e.name, cells[0], cells[1]);
        rows.push(json!({"candidate": e.name, "query": e.query, "engines": js}));
    }
    Ok(json!({"bench": "engines", "rows": rows}))
}

/// A/A on PostgreSQL: each query's original as its own candidate, `runs` times.
pub fn aa_pg(pg: &Target, runs: usize) -> anyhow::Result<Value> {
    let dir = queries_dir("postgres")?;
    let queries: Vec<(String, String)> = ["query_3.sql", "query_7.sql", "query_19.sql", "query_42.sql", "query_55.sql", "query_96.sql"]
        .iter()
        .map(|f| Ok((f.trim_end_matches(".sql").replace("query_", "q"), first_statement(&std::fs::read_to_string(dir.join(f))?))))
        .collect::<anyhow::Result<_>>()?;
    let cfg = ValidatorConfig::from_spec(&crate::spec::ValidationCfg::default());
    let results = crate::validate::aa_bench_verdicts(pg, &queries, runs, &cfg);
    crate::outln!("\nA/A on PostgreSQL ({runs} validations per query, default rounds):");
    let (mut total, mut wins_all) = (0usize, 0usize);
    let mut out = Vec::new();
    for (name, verdicts) in &results {
        let mut xs: Vec<f64> = verdicts.iter().filter_map(|v| v.speedup()).collect();
        xs.sort_by(|a, b| a.total_cmp(b));
        let wins = verdicts.iter().filter(|v| timing(v).is_some_and(|t| t.win)).count();
        total += verdicts.len();
        wins_all += wins;
        let med = crate::validate::timing::stats::median(&xs).unwrap_or(f64::NAN);
        let base = verdicts.first().and_then(timing).and_then(|t| t.original_median_s).unwrap_or(f64::NAN);
        crate::outln!(
            "  {name:<5} original {:.1} ms  median speedup {med:.3}  min {:.3}  max {:.3}  false wins {wins}/{}",
            base * 1000.0,
            xs.first().copied().unwrap_or(f64::NAN),
            xs.last().copied().unwrap_or(f64::NAN),
            verdicts.len()
        );
        out.push(json!({"query": name, "median": med, "false_wins": wins, "runs": verdicts.len(), "speedups": xs}));
    }
    crate::outln!("  false wins {wins_all}/{total}");
    Ok(json!({"bench": "aa_pg", "queries": out, "false_wins": wins_all, "validations": total}))
}

#[cfg(test)]
mod tests {
    use super::{EDITS, apply, first_statement, queries_dir};

    /// The bench's candidates are edits of ../shared's files: they must still apply to
    /// both dialects' copies (and change them), or the bench table cannot be re-measured.
    #[test]
    fn every_edit_applies_to_both_dialects() {
        for dialect in ["duckdb", "postgres"] {
            let Ok(dir) = queries_dir(dialect) else {
                eprintln!("skipped: TPC-DS queries not found (set QT_TPCDS_QUERIES)");
                return;
            };
            for e in &EDITS {
                let original = first_statement(&std::fs::read_to_string(dir.join(e.query)).unwrap());
                let edited = apply(&original, e.pairs).unwrap_or_else(|m| panic!("{} on {dialect}: {m}", e.name));
                assert_ne!(edited, original);
                let engine = crate::db::Engine::parse(dialect).unwrap();
                crate::dag::parse_first_dag_for(&edited, engine).unwrap_or_else(|m| panic!("{} on {dialect}: {m}", e.name));
            }
        }
    }

    #[test]
    fn edits_apply_once_or_fail() {
        assert_eq!(apply("a b c", &[("b", "x")]).unwrap(), "a x c");
        assert!(apply("a b b", &[("b", "x")]).is_err());
        assert!(apply("a c", &[("b", "x")]).is_err());
    }
}
