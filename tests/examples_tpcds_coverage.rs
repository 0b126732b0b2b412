//! The example-coverage goal on the 99 TPC-DS queries (read from the shared folder, never
//! copied): with 20 workers and 3 examples each, every query with a detected pattern has
//! at least 15 of 20 workers seeing an example that fixes one of its patterns, under
//! `matched` and `coverage`. Patterns come from the DAG only (no DB needed). Prints the
//! figures, batches and random included for comparison.

mod common;

use qt::dag::{detect_patterns, parse_first_dag, pattern_names};
use qt::prompt::{coverage_count, load_examples, select_examples};
use qt::spec::Strategy;
use std::collections::BTreeMap;

#[test]
fn every_tpcds_query_with_a_pattern_has_15_of_20_workers_covered() {
    let Some(dir) = common::tpcds_queries() else {
        return;
    };
    let examples = load_examples(&common::repo().join("prompts/examples")).unwrap();
    let strategies = [
        Strategy::Batches,
        Strategy::Random,
        Strategy::Matched,
        Strategy::Coverage,
    ];
    let (mut with, mut without, mut failures) = (0usize, Vec::new(), Vec::new());
    let mut totals: BTreeMap<String, (usize, usize)> = BTreeMap::new(); // strategy -> (sum, min)
    let mut freq: BTreeMap<String, usize> = BTreeMap::new();
    for n in 1..=99 {
        let path = dir.join(format!("query_{n}.sql"));
        let sql =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let first = qt::db::split_statements(&sql)
            .into_iter()
            .next()
            .unwrap_or(sql.clone());
        let Ok(dag) = parse_first_dag(&first) else {
            without.push(format!("q{n} (no DAG)"));
            continue;
        };
        let pats = pattern_names(&detect_patterns(&dag, None));
        if pats.is_empty() {
            without.push(format!("q{n}"));
            continue;
        }
        with += 1;
        for p in &pats {
            *freq.entry(p.clone()).or_default() += 1;
        }
        for s in strategies {
            let sets: Vec<_> = (1..=20)
                .map(|w| select_examples(s, &examples, 3, 42, w, 20, &pats))
                .collect();
            let covered = coverage_count(&sets, &pats);
            let e = totals.entry(format!("{s:?}")).or_insert((0, usize::MAX));
            e.0 += covered;
            e.1 = e.1.min(covered);
            if matches!(s, Strategy::Matched | Strategy::Coverage) && covered < 15 {
                failures.push(format!("q{n} {s:?}: {covered}/20 (patterns {pats:?})"));
            }
        }
    }
    eprintln!("{with} of 99 queries with a detected pattern; without: {without:?}");
    for (s, (sum, min)) in &totals {
        eprintln!(
            "  {s}: workers seeing a matching example: mean {:.1}/20, lowest {min}/20",
            *sum as f64 / with.max(1) as f64
        );
    }
    eprintln!("  pattern frequency: {freq:?}");
    assert!(with >= 90, "patterns found in only {with} queries");
    assert!(failures.is_empty(), "below 15/20:\n{}", failures.join("\n"));
}
