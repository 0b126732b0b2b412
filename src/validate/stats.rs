//! Small statistics for the timing lane: medians and a seeded paired bootstrap.
//!
//! Deliberately tiny and dependency-light: no distributions, no outlier rejection (the
//! median already ignores outliers, and dropping samples would hide real variance).
//! Everything is deterministic for a given seed so a recorded interval can be re-derived.

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

#[cfg(test)]
mod tests {
    use super::*;

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
