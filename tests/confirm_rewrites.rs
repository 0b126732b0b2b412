//! The named textual edits behind `qt bench --which confirm_predict` (the README's
//! sample-vs-full measurement): each applies exactly once to its TPC-DS query (read from
//! ../shared, never copied), gives one query the gate accepts, and is a correct rewrite:
//! never `validation_failed` or `error` against the original on the scale-1 1% sample and
//! the full scale-0.01 database. Skipped (with a line saying so) without the queries.

mod common;
use common::*;
use qt::bench::rewrites;
use qt::db::GenSpec;
use qt::validate::{TimingLane, ValidatorConfig, Verdict, check_candidate, prepare_baseline};
use std::time::Duration;

fn equivalence_only() -> ValidatorConfig {
    ValidatorConfig {
        threads: 1,
        memory_limit: "2GB".into(),
        timing_rounds: 0,
        warmup: 0,
        timeout_factor: 20.0,
        original_timeout: Duration::from_secs(120),
        skip_timing: true,
        ..ValidatorConfig::default()
    }
}

#[test]
fn every_named_rewrite_applies_once_and_is_equivalent() {
    let Some(dir) = tpcds_queries() else { return };
    let dbs = [GenSpec::sampled(1.0, 0.01, 1), GenSpec::full(0.01)]
        .map(|g| qt::db::ensure_spec_in(&cache_dir(), &g, false).expect("test DB").path);
    let cfg = equivalence_only();
    let lane = TimingLane::new();
    let (mut judged, mut problems) = (0, Vec::new());
    for r in rewrites::all() {
        let text = std::fs::read_to_string(dir.join(format!("query_{}.sql", r.query))).unwrap();
        let original = qt::db::split_statements(&text).into_iter().next().unwrap();
        let candidate = match rewrites::apply(&original, &r) {
            Ok(c) => c,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        assert_ne!(candidate, original, "{}", r.name);
        if let Err(e) = qt::validate::sandbox::check_single_query(&candidate) {
            problems.push(format!("{}: not one query: {e}", r.name));
            continue;
        }
        for db in &dbs {
            let Ok(base) = prepare_baseline(db, &original, &cfg, &lane) else { continue };
            match check_candidate(db, &base, &candidate, &cfg) {
                Ok(_) => judged += 1,
                Err(v @ (Verdict::Failed { .. } | Verdict::Error { .. })) => {
                    problems.push(format!("{} on {}: {}", r.name, db.display(), v.summary_line()))
                }
                Err(_) => {}
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(judged >= 30, "only {judged} (rewrite, DB) pairs could be judged");
}
