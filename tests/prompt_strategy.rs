//! Example selection per worker: determinism, distinct sets across workers, matching by
//! patterns (`matched`), the best example for everyone (`coverage`).

use qt::prompt::{Example, coverage_count, distinct_count, load_examples, score, select_examples};
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
    let patterns: BTreeSet<String> = ["correlated_scalar_subquery", "repeated_scan"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let all = sets(Strategy::Matched, &ex, 2, 42, 5, &patterns);
    let first = &ex.iter().find(|e| e.id == all[0][0]).unwrap().patterns;
    assert!(
        first.contains(&"correlated_scalar_subquery".to_string()),
        "highest weighted overlap first: {all:?}"
    );
    assert_eq!(all, sets(Strategy::Matched, &ex, 2, 42, 5, &patterns));
    assert_eq!(distinct_sets(&all), 5);
}

#[test]
fn matched_never_shows_a_non_matching_example_when_enough_match() {
    let ex = examples(21);
    let patterns: BTreeSet<String> = ["late_dimension_filter", "date_range_filter"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let matching: BTreeSet<String> = ex
        .iter()
        .filter(|e| score(e, &patterns) > 0)
        .map(|e| e.id.clone())
        .collect();
    assert!(matching.len() >= 3, "{matching:?}");
    let all = sets(Strategy::Matched, &ex, 3, 7, 20, &patterns);
    for s in &all {
        assert!(
            s.iter().all(|id| matching.contains(id)),
            "{s:?} vs {matching:?}"
        );
    }
    // Fewer matching examples than per_worker: every worker gets all of them, plus a
    // varying rest, and the prompts still differ.
    let one: BTreeSet<String> = ["union_distinct".to_string()].into();
    let all = sets(Strategy::Matched, &ex, 3, 7, 20, &one);
    let union_examples: Vec<&Example> = ex.iter().filter(|e| score(e, &one) > 0).collect();
    assert_eq!(union_examples.len(), 1);
    assert!(
        all.iter()
            .all(|s| s.contains(&union_examples[0].id) && s.len() == 3)
    );
    assert_eq!(distinct_sets(&all), 20);
}

#[test]
fn matched_with_few_matches_varies_order_when_sets_run_out() {
    let ex = examples(21);
    // Exactly per_worker matching examples: one set, shown in different orders.
    let patterns: BTreeSet<String> = ["correlated_scalar_subquery".to_string()].into();
    let all = sets(Strategy::Matched, &ex, 2, 1, 6, &patterns);
    assert_eq!(distinct_sets(&all), 1, "{all:?}");
    assert_eq!(
        all.iter().collect::<BTreeSet<_>>().len(),
        2,
        "two orders of two examples"
    );
}

#[test]
fn coverage_gives_everyone_the_best_and_rotates_the_rest() {
    let ex = examples(21);
    let patterns: BTreeSet<String> = ["window_able_self_join", "self_join", "repeated_scan"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let all = sets(Strategy::Coverage, &ex, 3, 42, 20, &patterns);
    let best = ex
        .iter()
        .max_by_key(|e| score(e, &patterns))
        .map(|e| e.id.clone())
        .unwrap();
    assert!(best.starts_with("ex11"), "{best}");
    assert!(all.iter().all(|s| s[0] == best && s.len() == 3), "{all:?}");
    assert_eq!(distinct_sets(&all), 20);
    let covered = (1..=20)
        .map(|w| select_examples(Strategy::Coverage, &ex, 3, 42, w, 20, &patterns))
        .collect::<Vec<_>>();
    assert_eq!(coverage_count(&covered, &patterns), 20);
    // No pattern at all: falls back to seeded batches (all examples in play).
    let none = BTreeSet::new();
    let fallback = sets(Strategy::Coverage, &ex, 3, 42, 20, &none);
    assert_eq!(distinct_sets(&fallback), 20);
    assert_eq!(fallback, sets(Strategy::Matched, &ex, 3, 42, 20, &none));
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
