//! Small statistics for the timing lane: medians, the order-balanced speedup estimator
//! and its block bootstrap interval, plus a seeded paired bootstrap.
//!
//! Deliberately tiny and dependency-light: no distributions beyond a short Student t
//! table, no outlier rejection (the median already ignores outliers, and dropping samples
//! would hide real variance). Everything is deterministic for a given seed so a recorded
//! interval can be re-derived.
//!
//! The timed rounds come in balanced blocks: pair 2k runs the original first (O,C), pair
//! 2k+1 the candidate first (C,O). Whatever runs second in a pair may be faster (warm
//! caches, a CPU that has ramped up); with ratios r = O/C that effect multiplies the
//! O-first ratios by f and the C-first ones by 1/f, so the geometric mean of the two
//! orders' medians cancels it exactly. The interval resamples whole blocks, never single
//! rounds, so it keeps the pairing and the order balance.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Number of bootstrap resamples used by the validator.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;
/// Seed used by the validator, so intervals are reproducible from the recorded samples.
pub const BOOTSTRAP_SEED: u64 = 0x5EED_0F_71_11_E5;

/// Median of the samples (mean of the two middle values for even counts); `None` if empty
/// or if any sample is NaN.
pub fn median(samples: &[f64]) -> Option<f64> {
    if samples.is_empty() || samples.iter().any(|x| x.is_nan()) {
        return None;
    }
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Linear-interpolated percentile (`p` in 0..=1) of already sorted values.
fn percentile_sorted(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 1 {
        return sorted[0];
    }
    let pos = p.clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    sorted[lo] * (1.0 - frac) + sorted[hi] * frac
}

/// The point estimate of the speedup: median(original) / median(candidate).
pub fn speedup(original: &[f64], candidate: &[f64]) -> Option<f64> {
    let (o, c) = (median(original)?, median(candidate)?);
    (c > 0.0).then_some(o / c)
}

/// 95% percentile-bootstrap interval of median(original)/median(candidate), resampling
/// the *pairs* (round i's original and candidate times stay together, so drift that hits
/// both halves of a round cancels). `None` when there are fewer than 2 pairs or the
/// slices differ in length.
pub fn bootstrap_ratio_ci(
    original: &[f64],
    candidate: &[f64],
    resamples: usize,
    seed: u64,
) -> Option<[f64; 2]> {
    let n = original.len();
    if n < 2 || candidate.len() != n || resamples == 0 {
        return None;
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut ratios = Vec::with_capacity(resamples);
    let (mut o, mut c) = (vec![0.0; n], vec![0.0; n]);
    for _ in 0..resamples {
        for k in 0..n {
            let i = rng.random_range(0..n);
            o[k] = original[i];
            c[k] = candidate[i];
        }
        if let Some(r) = speedup(&o, &c) {
            ratios.push(r);
        }
    }
    if ratios.is_empty() {
        return None;
    }
    ratios.sort_by(f64::total_cmp);
    Some([
        percentile_sorted(&ratios, 0.025),
        percentile_sorted(&ratios, 0.975),
    ])
}

/// Ratios original/candidate of each paired round (`None` if a sample is not positive).
fn pair_ratios(original: &[f64], candidate: &[f64]) -> Option<Vec<f64>> {
    if original.len() != candidate.len() {
        return None;
    }
    original
        .iter()
        .zip(candidate)
        .map(|(o, c)| (*o > 0.0 && *c > 0.0).then(|| o / c))
        .collect()
}

/// The order-balanced speedup of paired rounds: sqrt(median(O/C | O first) x
/// median(O/C | C first)). With only one order present it is that order's median ratio.
/// Returns (speedup, median ratio of O-first rounds, median ratio of C-first rounds).
pub fn balanced_speedup(
    original: &[f64],
    candidate: &[f64],
    o_first: &[bool],
) -> Option<(f64, Option<f64>, Option<f64>)> {
    let r = pair_ratios(original, candidate)?;
    if r.is_empty() || o_first.len() != r.len() {
        return None;
    }
    let pick = |want: bool| -> Vec<f64> {
        r.iter().zip(o_first).filter(|(_, f)| **f == want).map(|(x, _)| *x).collect()
    };
    let (a, b) = (median(&pick(true)), median(&pick(false)));
    let s = match (a, b) {
        (Some(a), Some(b)) => (a * b).sqrt(),
        (Some(x), None) | (None, Some(x)) => x,
        (None, None) => return None,
    };
    Some((s, a, b))
}

/// Blocks of paired rounds: consecutive pairs (2k, 2k+1); a trailing odd pair is its own
/// block.
fn blocks(n: usize) -> Vec<std::ops::Range<usize>> {
    (0..n.div_ceil(2)).map(|b| 2 * b..(2 * b + 2).min(n)).collect()
}

/// 95% percentile interval of [`balanced_speedup`] by a block bootstrap: whole blocks
/// (one O-first and one C-first round) are resampled with replacement. `None` with fewer
/// than 2 blocks.
pub fn block_bootstrap_ci(
    original: &[f64],
    candidate: &[f64],
    o_first: &[bool],
    resamples: usize,
    seed: u64,
) -> Option<[f64; 2]> {
    let n = original.len();
    if candidate.len() != n || o_first.len() != n || resamples == 0 {
        return None;
    }
    let bl = blocks(n);
    if bl.len() < 2 {
        return None;
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut stats = Vec::with_capacity(resamples);
    let (mut o, mut c, mut f) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..resamples {
        o.clear();
        c.clear();
        f.clear();
        for _ in 0..bl.len() {
            let b = bl[rng.random_range(0..bl.len())].clone();
            o.extend_from_slice(&original[b.clone()]);
            c.extend_from_slice(&candidate[b.clone()]);
            f.extend_from_slice(&o_first[b]);
        }
        if let Some((s, _, _)) = balanced_speedup(&o, &c, &f) {
            stats.push(s);
        }
    }
    if stats.is_empty() {
        return None;
    }
    stats.sort_by(f64::total_cmp);
    Some([
        percentile_sorted(&stats, 0.025),
        percentile_sorted(&stats, 0.975),
    ])
}

/// One-sided 99% Student t quantile for `df` degrees of freedom.
fn t99(df: usize) -> f64 {
    const T: [f64; 20] = [
        31.821, 6.965, 4.541, 3.747, 3.365, 3.143, 2.998, 2.896, 2.821, 2.764, 2.718, 2.681,
        2.650, 2.624, 2.602, 2.583, 2.567, 2.552, 2.539, 2.528,
    ];
    match df {
        0 => f64::INFINITY,
        1..=20 => T[df - 1],
        21..=30 => 2.457,
        31..=60 => 2.390,
        _ => 2.326,
    }
}

/// The lower 99% one-sided bound of the speedup from the blocks' mean log ratios (each
/// block averages one O-first and one C-first round, so the order effect cancels inside
/// it). The percentile bootstrap is optimistic with the 3-5 blocks a candidate gets; this
/// small-sample bound is the second gate a `win` has to pass. `None` with fewer than 2
/// blocks.
pub fn block_t_lower_bound(original: &[f64], candidate: &[f64]) -> Option<f64> {
    let r = pair_ratios(original, candidate)?;
    let d: Vec<f64> = blocks(r.len())
        .into_iter()
        .map(|b| r[b.clone()].iter().map(|x| x.ln()).sum::<f64>() / b.len() as f64)
        .collect();
    let k = d.len();
    if k < 2 {
        return None;
    }
    let mean = d.iter().sum::<f64>() / k as f64;
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1) as f64;
    Some((mean - t99(k - 1) * (var / k as f64).sqrt()).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A/A with a 10% "second runs faster" effect: every O-first ratio is 1.1, every
    /// C-first one 1/1.1.
    fn order_biased_aa() -> (Vec<f64>, Vec<f64>, Vec<bool>) {
        let f: Vec<bool> = (0..8).map(|i| i % 2 == 0).collect();
        let o: Vec<f64> = f.iter().enumerate().map(|(i, of)| {
            let base = 0.1 + 0.001 * i as f64;
            if *of { base * 1.1 } else { base }
        }).collect();
        let c: Vec<f64> = f.iter().enumerate().map(|(i, of)| {
            let base = 0.1 + 0.001 * i as f64;
            if *of { base } else { base * 1.1 }
        }).collect();
        (o, c, f)
    }

    #[test]
    fn order_effect_cancels_in_the_balanced_estimator() {
        let (o, c, f) = order_biased_aa();
        let (s, a, b) = balanced_speedup(&o, &c, &f).unwrap();
        assert!((s - 1.0).abs() < 1e-9, "{s}");
        assert!((a.unwrap() - 1.1).abs() < 1e-9 && (b.unwrap() - 1.0 / 1.1).abs() < 1e-9);
        let ci = block_bootstrap_ci(&o, &c, &f, 500, 3).unwrap();
        assert!(ci[0] <= 1.0 && 1.0 <= ci[1], "{ci:?}");
        let lb = block_t_lower_bound(&o, &c).unwrap();
        assert!(lb <= 1.0, "{lb}");
    }

    #[test]
    fn a_clear_win_passes_both_gates() {
        let f: Vec<bool> = (0..8).map(|i| i % 2 == 0).collect();
        let o = [0.20, 0.21, 0.19, 0.20, 0.205, 0.2, 0.198, 0.202];
        let c = [0.10, 0.101, 0.099, 0.1, 0.102, 0.098, 0.1, 0.1];
        let (s, _, _) = balanced_speedup(&o, &c, &f).unwrap();
        assert!((s - 2.0).abs() < 0.05, "{s}");
        assert!(block_bootstrap_ci(&o, &c, &f, 500, 3).unwrap()[0] > 1.5);
        assert!(block_t_lower_bound(&o, &c).unwrap() > 1.5);
    }

    #[test]
    fn one_block_has_no_interval() {
        let f = [true, false];
        assert_eq!(block_bootstrap_ci(&[1.0, 1.0], &[1.0, 1.0], &f, 100, 1), None);
        assert_eq!(block_t_lower_bound(&[1.0, 1.0], &[1.0, 1.0]), None);
        assert_eq!(balanced_speedup(&[1.0], &[0.0], &[true]), None);
    }

    #[test]
    fn median_odd_even_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn speedup_is_ratio_of_medians() {
        assert_eq!(speedup(&[2.0, 2.0, 9.0], &[1.0, 1.0, 1.0]), Some(2.0));
        assert_eq!(speedup(&[1.0], &[0.0]), None);
    }

    #[test]
    fn bootstrap_is_deterministic_for_a_seed() {
        let o = [1.00, 1.10, 0.95, 1.05, 1.02, 0.98, 1.01];
        let c = [0.50, 0.52, 0.49, 0.55, 0.51, 0.50, 0.53];
        let a = bootstrap_ratio_ci(&o, &c, 2000, 7).unwrap();
        let b = bootstrap_ratio_ci(&o, &c, 2000, 7).unwrap();
        assert_eq!(a, b);
        let point = speedup(&o, &c).unwrap();
        assert!(a[0] <= point && point <= a[1], "{a:?} vs {point}");
        assert!(
            a[0] > 1.5,
            "a clear 2x win must have a lower bound well above 1: {a:?}"
        );
    }

    #[test]
    fn bootstrap_of_same_distribution_contains_one() {
        let o = [1.0, 1.2, 0.9, 1.1, 1.0, 0.95, 1.05];
        let c = [1.05, 0.97, 1.1, 0.92, 1.0, 1.08, 0.99];
        let ci = bootstrap_ratio_ci(&o, &c, 2000, 1).unwrap();
        assert!(ci[0] <= 1.0 && 1.0 <= ci[1], "{ci:?}");
    }

    #[test]
    fn bootstrap_needs_two_pairs() {
        assert_eq!(bootstrap_ratio_ci(&[1.0], &[1.0], 100, 1), None);
        assert_eq!(bootstrap_ratio_ci(&[1.0, 2.0], &[1.0], 100, 1), None);
    }
}
