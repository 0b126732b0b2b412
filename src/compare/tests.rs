use super::*;
use serde_json::{Value, json};

fn opts() -> CompareOptions {
    CompareOptions::default()
}

/// `n` candidates, the first `valid` valid with speedups from `speed` up, no rounds.
fn side(valid: usize, n: usize, speed: f64) -> Vec<Candidate> {
    (0..n)
        .map(|i| {
            let s = (i < valid).then(|| speed + i as f64 * 0.01);
            Candidate::new(i as u32 + 1, i < valid, s, false, 0, &Value::Null)
        })
        .collect()
}

/// Paired rounds whose O/C ratios are `ratios` (alternating O-first and C-first).
fn timing(ratios: &[f64]) -> Value {
    let o: Vec<f64> = ratios.iter().map(|r| 0.1 * r).collect();
    let c = vec![0.1; ratios.len()];
    let first: Vec<bool> = (0..ratios.len()).map(|i| i % 2 == 0).collect();
    json!({"original_s": o, "optimized_s": c, "o_first": first})
}

#[test]
fn clearly_better_worse_and_same() {
    let better: Vec<_> = (0..5).map(|_| (side(2, 10, 1.5), side(8, 10, 2.0))).collect();
    let c = arm_comparison("x", &better, &opts());
    assert_eq!(c.verdict, Verdict::Better, "{c:?}");
    assert!(c.valid_rate_diff.unwrap().point > 0.5);
    assert!(c.sentence.starts_with("x: B better (5 queries; 50 vs 50 distinct candidates (10 vs 40 timed)"), "{}", c.sentence);
    let worse: Vec<_> = better.iter().map(|(a, b)| (b.clone(), a.clone())).collect();
    assert_eq!(arm_comparison("x", &worse, &opts()).verdict, Verdict::Worse);
    let same: Vec<_> = (0..5).map(|_| (side(5, 10, 1.5), side(5, 10, 1.5))).collect();
    let s = arm_comparison("x", &same, &opts());
    assert_eq!(s.verdict, Verdict::NoEvidence);
    assert_eq!(s.kept_ratio.unwrap().point, 1.0);
}

#[test]
fn one_timed_candidate_and_its_copies_are_not_enough_and_keep_their_interval() {
    // The case: 6 generations of one SQL (1 timed + 5 copies), screening 1.10x whose
    // own rounds spread from 0.63 to 1.48, against a baseline of 1.0x.
    let rounds = timing(&[0.63, 1.48, 1.2, 0.8, 1.3, 0.9, 1.1, 1.0]);
    let b = vec![Candidate::new(1, true, Some(1.096), false, 5, &rounds)];
    let a = vec![Candidate::new(1, true, Some(1.0), false, 5, &timing(&[1.0; 8]))];
    let c = arm_comparison("default", &[(a, b)], &opts());
    assert_eq!(c.verdict, Verdict::NotEnoughEvidence, "{c:?}");
    assert_eq!((c.candidates_a, c.candidates_b, c.copies_b), (1, 1, 5));
    let k = c.kept_ratio.unwrap();
    assert!(k.ci95[1] - k.ci95[0] > 0.05, "the candidate's own rounds widen the interval: {k:?}");
    assert!(c.sentence.contains("1 vs 1 distinct candidates") && c.sentence.contains("10 copies not counted"), "{}", c.sentence);
    assert!(c.sentence.contains("not enough evidence"), "{}", c.sentence);
}

#[test]
fn a_confirmation_that_did_not_hold_cannot_make_b_better() {
    let a: Vec<_> = (0..3).map(|_| side(5, 10, 1.0)).collect();
    let held_not = |_: usize| -> Vec<Candidate> {
        (0..10u32).map(|i| Candidate::new(i + 1, true, Some(3.0), true, 0, &Value::Null)).collect()
    };
    let cells: Vec<_> = a.into_iter().enumerate().map(|(i, a)| (a, held_not(i))).collect();
    let c = arm_comparison("x", &cells, &opts());
    assert_ne!(c.verdict, Verdict::Better, "{c:?}");
    assert!(c.kept_ratio.unwrap().point <= 1.0, "not held: kept as 1.0x, {c:?}");
}

#[test]
fn the_interval_is_reproducible() {
    let p: Vec<_> = (0..3).map(|i| (side(3, 8, 1.2 + i as f64 * 0.1), side(4, 8, 1.3))).collect();
    let (x, y) = (arm_comparison("x", &p, &opts()), arm_comparison("x", &p, &opts()));
    assert_eq!(x.kept_ratio, y.kept_ratio);
    let d = x.kept_ratio.unwrap();
    assert!(d.ci95[0] <= d.point && d.point <= d.ci95[1], "{d:?}");
}

#[test]
fn blocks_come_from_balanced_rounds() {
    let (b, r) = evidence::blocks_of(&timing(&[1.0, 2.0, 1.0, 2.0]));
    assert_eq!((b.len(), r.len()), (2, 0));
    let one_order = json!({"original_s": [0.2, 0.2], "optimized_s": [0.1, 0.1], "o_first": [true, true]});
    assert_eq!(evidence::blocks_of(&one_order).1, vec![2.0, 2.0]);
    let bad = json!({"original_s": [0.2, -1.0], "optimized_s": [0.1, 0.1]});
    assert_eq!(evidence::blocks_of(&bad), (Vec::new(), Vec::new()));
}
