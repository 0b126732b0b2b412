//! How well does the sample predict the full-size database? From the candidates that
//! were confirmed there: Spearman's rank correlation of the screening (sample) speedup
//! against the full speedup, and the two counts users decide with: how many sample wins
//! stayed wins at full size, and how many sample non-wins became wins.
//!
//! Pure arithmetic on figures already recorded; summary.json, the report and `qt compare`
//! all call this one function, so the numbers never differ between views.

use serde::Serialize;

/// One confirmed candidate: its screening figures and its full-size confirmation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Confirmed {
    pub number: u32,
    pub arm: String,
    /// Screening speedup on the sample (`validation.json` `speedup`).
    pub sample: f64,
    /// Screening `timing.win`.
    pub sample_win: bool,
    /// `confirm.status` on the full-size DB.
    pub full_status: String,
    pub full_reason: Option<String>,
    /// `confirm.speedup` (a pass with timing only).
    pub full: Option<f64>,
    pub full_ci95: Option<[f64; 2]>,
    /// `confirm.win`.
    pub full_win: bool,
}

impl Confirmed {
    pub fn full_pass(&self) -> bool {
        self.full_status == "pass"
    }
}

/// The sample-vs-full figures of a set of confirmed candidates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// Candidates confirmed on the full-size DB.
    pub candidates: usize,
    /// Of those: still equivalent (`pass`) there.
    pub pass: usize,
    /// Equal on the samples, different at full size (`differs_at_full_scale`).
    pub differs: usize,
    /// Errors (timeouts...) and inconclusive checks at full size.
    pub other: usize,
    /// Candidates with a speedup at both sizes (the points of the scatter plot).
    pub pairs: usize,
    /// Spearman's rank correlation over `pairs` (None below 3 pairs or without spread).
    pub spearman: Option<f64>,
    pub sample_wins: usize,
    /// Sample wins that are wins at full size too (a pass whose full interval is above 1).
    pub sample_wins_held: usize,
    pub sample_non_wins: usize,
    /// Sample non-wins that are wins at full size.
    pub sample_non_wins_became_wins: usize,
}

/// Fewest points a rank correlation is reported for.
pub const MIN_PAIRS: usize = 3;

pub fn predict(items: &[Confirmed]) -> Prediction {
    let pairs: Vec<(f64, f64)> = items
        .iter()
        .filter(|c| c.full_pass())
        .filter_map(|c| c.full.map(|f| (c.sample, f)))
        .filter(|(s, f)| s.is_finite() && f.is_finite())
        .collect();
    let (xs, ys): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
    let held = |c: &&Confirmed| c.full_pass() && c.full_win;
    Prediction {
        candidates: items.len(),
        pass: items.iter().filter(|c| c.full_pass()).count(),
        differs: items.iter().filter(|c| c.full_reason.as_deref() == Some("differs_at_full_scale")).count(),
        other: items.iter().filter(|c| !c.full_pass() && c.full_reason.as_deref() != Some("differs_at_full_scale")).count(),
        pairs: pairs.len(),
        spearman: if pairs.len() >= MIN_PAIRS { spearman(&xs, &ys) } else { None },
        sample_wins: items.iter().filter(|c| c.sample_win).count(),
        sample_wins_held: items.iter().filter(|c| c.sample_win).filter(held).count(),
        sample_non_wins: items.iter().filter(|c| !c.sample_win).count(),
        sample_non_wins_became_wins: items.iter().filter(|c| !c.sample_win).filter(held).count(),
    }
}

/// Ranks 1..=n, ties given their average rank.
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut out = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            out[k] = avg;
        }
        i = j + 1;
    }
    out
}

/// Spearman's rho: the Pearson correlation of the ranks (ties averaged). None when the
/// lengths differ, there are fewer than 2 points, or either side has no spread.
pub fn spearman(xs: &[f64], ys: &[f64]) -> Option<f64> {
    if xs.len() != ys.len() || xs.len() < 2 {
        return None;
    }
    let (rx, ry) = (ranks(xs), ranks(ys));
    let n = rx.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(sample: f64, sample_win: bool, status: &str, full: Option<f64>, full_win: bool) -> Confirmed {
        Confirmed {
            number: 1,
            arm: "a".into(),
            sample,
            sample_win,
            full_status: status.into(),
            full_reason: (status == "validation_failed").then(|| "differs_at_full_scale".into()),
            full,
            full_ci95: None,
            full_win,
        }
    }

    #[test]
    fn spearman_of_known_orders() {
        assert_eq!(spearman(&[1.0, 2.0, 3.0, 4.0], &[10.0, 20.0, 30.0, 40.0]), Some(1.0));
        assert_eq!(spearman(&[1.0, 2.0, 3.0, 4.0], &[4.0, 3.0, 2.0, 1.0]), Some(-1.0));
        // Monotone but not linear: rank correlation is still 1.
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[1.0, 100.0, 101.0]), Some(1.0));
        // Textbook example with ties: x = 1,2,2,3 -> ranks 1, 2.5, 2.5, 4.
        assert_eq!(ranks(&[1.0, 2.0, 2.0, 3.0]), vec![1.0, 2.5, 2.5, 4.0]);
        let r = spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 1.0, 4.0, 3.0, 5.0]).unwrap();
        assert!((r - 0.8).abs() < 1e-12, "{r}");
        assert_eq!(spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None, "no spread");
        assert_eq!(spearman(&[1.0], &[1.0]), None);
    }

    #[test]
    fn wins_held_and_non_wins_that_became_wins() {
        let items = vec![
            c(2.0, true, "pass", Some(1.8), true),
            c(1.9, true, "pass", Some(0.9), false),
            c(1.7, true, "validation_failed", None, false),
            c(1.0, false, "pass", Some(1.5), true),
            c(0.8, false, "pass", Some(0.7), false),
            c(0.9, false, "error", None, false),
        ];
        let p = predict(&items);
        assert_eq!((p.candidates, p.pass, p.differs, p.other, p.pairs), (6, 4, 1, 1, 4));
        assert_eq!((p.sample_wins, p.sample_wins_held), (3, 1), "a wrong one at full size never holds");
        assert_eq!((p.sample_non_wins, p.sample_non_wins_became_wins), (3, 1));
        // Pairs (2.0,1.8) (1.9,0.9) (1.0,1.5) (0.8,0.7): sample ranks 4,3,2,1; full 4,2,3,1.
        assert!((p.spearman.unwrap() - 0.8).abs() < 1e-12, "{:?}", p.spearman);
        assert_eq!(predict(&items[..2]).spearman, None, "fewer than 3 pairs");
    }
}
