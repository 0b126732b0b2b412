//! valid@k and best-speedup@k: what k workers would have found, estimated without bias from
//! the N generations a run actually made (the pass@k estimator of Chen et al. 2021,
//! generalised to the expected best of k drawn without replacement).
//!
//! Pure arithmetic on a list of per-generation values; it reads and prints nothing.

/// Points of a curve over k = 1..=n. Every k up to `DENSE`, then roughly logarithmic
/// steps, always ending at n: a 100,000-generation arm still gets a short curve.
pub fn k_points(n: usize) -> Vec<usize> {
    const DENSE: usize = 64;
    let mut ks: Vec<usize> = (1..=n.min(DENSE)).collect();
    let mut k = DENSE as f64;
    while (k as usize) < n {
        k *= 1.25;
        let v = (k as usize).min(n);
        if ks.last() != Some(&v) {
            ks.push(v);
        }
    }
    ks
}

/// valid@k = 1 - C(n-c, k) / C(n, k): the chance that at least one of k generations drawn
/// without replacement is valid, for n generations of which c are valid.
pub fn valid_at_k(n: usize, c: usize, k: usize) -> f64 {
    if k == 0 || n == 0 {
        return 0.0;
    }
    if n - c < k {
        return 1.0;
    }
    // C(n-c, k)/C(n, k) = prod_{i=0}^{k-1} (n-c-i)/(n-i), computed as a running product.
    let mut p = 1.0;
    for i in 0..k {
        p *= (n - c - i) as f64 / (n - i) as f64;
    }
    1.0 - p
}

/// Expected maximum of k values drawn without replacement from `values`:
/// sum over the sorted values v_(i) (i = 1..n) of v_(i) * C(i-1, k-1) / C(n, k).
pub fn expected_best_of_k(values: &[f64], k: usize) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    expected_best_of_k_sorted(&v, k)
}

/// [`expected_best_of_k`] on values already sorted ascending (sort once per curve).
fn expected_best_of_k_sorted(v: &[f64], k: usize) -> Option<f64> {
    let n = v.len();
    if k == 0 || k > n {
        return None;
    }
    // w_i = C(i-1, k-1)/C(n, k), built from the top: w_n = k/n and
    // w_{i-1} = w_i * (i-k)/(i-1).
    let mut w = k as f64 / n as f64;
    let mut sum = 0.0;
    for i in (k..=n).rev() {
        sum += v[i - 1] * w;
        if i > 1 {
            w *= (i - k) as f64 / (i - 1) as f64;
        }
    }
    Some(sum)
}

/// The value of one generation for best-speedup@k: its speedup when valid, and 1.0 (you
/// keep the original) when invalid or slower than the original.
pub fn kept_speedup(valid: bool, speedup: Option<f64>) -> f64 {
    match (valid, speedup) {
        (true, Some(s)) if s.is_finite() && s > 1.0 => s,
        _ => 1.0,
    }
}

/// One point of the curves.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AtK {
    pub k: usize,
    pub valid: f64,
    pub best_speedup: f64,
}

/// Both curves for one arm. `gens` holds (valid, speedup) per completed generation.
pub fn curves(gens: &[(bool, Option<f64>)]) -> Vec<AtK> {
    let n = gens.len();
    let c = gens.iter().filter(|g| g.0).count();
    let mut kept: Vec<f64> = gens.iter().map(|g| kept_speedup(g.0, g.1)).collect();
    kept.sort_by(f64::total_cmp);
    k_points(n)
        .into_iter()
        .map(|k| AtK {
            k,
            valid: round4(valid_at_k(n, c, k)),
            best_speedup: round4(expected_best_of_k_sorted(&kept, k).unwrap_or(1.0)),
        })
        .collect()
}

fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force over every k-subset, for small n.
    fn brute_best(values: &[f64], k: usize) -> f64 {
        let n = values.len();
        let (mut sum, mut count) = (0.0, 0usize);
        for mask in 0u32..(1 << n) {
            if mask.count_ones() as usize != k {
                continue;
            }
            let best = (0..n).filter(|i| mask & (1 << i) != 0).map(|i| values[i]).fold(f64::MIN, f64::max);
            sum += best;
            count += 1;
        }
        sum / count as f64
    }

    #[test]
    fn best_of_k_matches_brute_force() {
        let v = [1.0, 2.5, 1.0, 1.2, 3.0, 1.0, 0.9];
        for k in 1..=v.len() {
            let e = expected_best_of_k(&v, k).unwrap();
            assert!((e - brute_best(&v, k)).abs() < 1e-9, "k={k}: {e}");
        }
        assert!((expected_best_of_k(&v, 1).unwrap() - v.iter().sum::<f64>() / 7.0).abs() < 1e-12);
        assert_eq!(expected_best_of_k(&v, 7), Some(3.0));
        assert_eq!(expected_best_of_k(&v, 8), None);
    }

    #[test]
    fn valid_at_k_is_the_pass_at_k_estimator() {
        assert_eq!(valid_at_k(10, 0, 3), 0.0);
        assert_eq!(valid_at_k(10, 10, 1), 1.0);
        assert!((valid_at_k(10, 3, 1) - 0.3).abs() < 1e-12);
        // 1 - C(7,2)/C(10,2) = 1 - 21/45
        assert!((valid_at_k(10, 3, 2) - (1.0 - 21.0 / 45.0)).abs() < 1e-12);
        assert_eq!(valid_at_k(10, 3, 8), 1.0);
        let c = curves(&[(true, Some(2.0)), (false, None), (true, Some(0.5)), (false, None)]);
        assert_eq!(c.len(), 4);
        assert_eq!(c[0], AtK { k: 1, valid: 0.5, best_speedup: 1.25 });
        assert_eq!(c[3].best_speedup, 2.0);
        assert!(c.windows(2).all(|w| w[0].valid <= w[1].valid && w[0].best_speedup <= w[1].best_speedup));
    }

    #[test]
    fn long_arms_get_short_curves_ending_at_n() {
        let ks = k_points(100_000);
        assert!(ks.len() < 120, "{}", ks.len());
        assert_eq!(ks[..3], [1, 2, 3]);
        assert_eq!(*ks.last().unwrap(), 100_000);
        assert!(ks.windows(2).all(|w| w[0] < w[1]));
    }
}
