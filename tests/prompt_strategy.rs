//! Example selection per worker: determinism, distinct sets across workers, matching.

use qt::prompt::{Example, distinct_count, load_examples, select_examples};
use qt::spec::Strategy;
use std::collections::BTreeSet;
use std::path::Path;

fn examples(n: usize) -> Vec<Example> {
    let all =
        load_examples(&Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts/examples")).unwrap();
    assert!(all.len() >= n);
    all.into_iter().take(n).collect()
}

fn ids(list: &[Example]) -> Vec<String> {
    list.iter().map(|e| e.id.clone()).collect()
}

fn sets(
    strategy: Strategy,
    ex: &[Example],
    p: usize,
    seed: u64,
    workers: u32,
    f: &BTreeSet<String>,
) -> Vec<Vec<String>> {
    (1..=workers)
        .map(|w| ids(&select_examples(strategy, ex, p, seed, w, workers, f)))
        .collect()
}

fn distinct_sets(all: &[Vec<String>]) -> usize {
    all.iter()
        .map(|s| s.iter().cloned().collect::<BTreeSet<_>>())
        .collect::<BTreeSet<_>>()
        .len()
}

#[test]
fn batches_give_20_distinct_sets_from_12_examples() {
    let ex = examples(12);
    let none = BTreeSet::new();
    let all = sets(Strategy::Batches, &ex, 3, 42, 20, &none);
    assert!(
        all.iter()
            .all(|s| s.len() == 3 && s.iter().collect::<BTreeSet<_>>().len() == 3)
    );
    assert_eq!(distinct_sets(&all), 20, "{all:?}");
    // The first 4 workers together see every example exactly once.
    let first: Vec<&String> = all[..4].iter().flatten().collect();
    assert_eq!(first.iter().collect::<BTreeSet<_>>().len(), 12);
    // Deterministic for a seed, different for another seed.
    assert_eq!(all, sets(Strategy::Batches, &ex, 3, 42, 20, &none));
    assert_ne!(all, sets(Strategy::Batches, &ex, 3, 7, 20, &none));
    let rendered: Vec<String> = all.iter().map(|s| s.join(",")).collect();
    assert_eq!(distinct_count(&rendered), 20);
}

#[test]
fn batches_cycle_when_sets_run_out() {
    let ex = examples(4);
    let all = sets(Strategy::Batches, &ex, 3, 1, 10, &BTreeSet::new());
    assert_eq!(distinct_sets(&all), 4, "C(4,3) = 4 distinct sets");
    let all = sets(Strategy::Batches, &ex, 5, 1, 3, &BTreeSet::new());
    assert!(all.iter().all(|s| s.len() == 4));
    assert_eq!(
        all.iter().collect::<BTreeSet<_>>().len(),
        3,
        "order varies when all are shown"
    );
}

#[test]
fn random_is_seeded_per_worker() {
    let ex = examples(12);
    let none = BTreeSet::new();
    let a = sets(Strategy::Random, &ex, 3, 42, 20, &none);
    assert_eq!(a, sets(Strategy::Random, &ex, 3, 42, 20, &none));
    assert!(distinct_sets(&a) > 10);
    assert!(a.iter().all(|s| s.len() == 3));
}

#[test]
fn matched_puts_matching_examples_first() {
    let ex = examples(12);
    let features: BTreeSet<String> = ["correlated_subquery", "scalar_subquery"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let all = sets(Strategy::Matched, &ex, 2, 42, 5, &features);
    let first = &ex.iter().find(|e| e.id == all[0][0]).unwrap().tags;
    assert!(
        first.contains(&"correlated_subquery".to_string()),
        "{all:?}"
    );
    assert_eq!(all, sets(Strategy::Matched, &ex, 2, 42, 5, &features));
    assert!(distinct_sets(&all) == 5);
}

#[test]
fn none_and_all() {
    let ex = examples(12);
    let none = BTreeSet::new();
    assert!(select_examples(Strategy::None, &ex, 3, 1, 1, 20, &none).is_empty());
    assert_eq!(
        ids(&select_examples(Strategy::All, &ex, 3, 1, 5, 20, &none)),
        ids(&ex)
    );
    assert!(select_examples(Strategy::Batches, &[], 3, 1, 1, 20, &none).is_empty());
}
