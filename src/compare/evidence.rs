//! The evidence one side of a comparison holds for one query and arm: its distinct
//! candidates (a `same_as` copy is the same SQL: counted once), each with the timing rounds
//! its speedup comes from, so the bootstrap can redraw that speedup from its own rounds
//! instead of treating a point estimate as exact.
//!
//! A candidate's speedup is its confirmed re-timing when it has one (fresh rounds, free of
//! the winner's curse), else its screening rounds. A candidate whose confirmation did not
//! hold keeps 1.0x: it can never make a side look better.

use rand::Rng;
use serde::Serialize;
use serde_json::Value;

use crate::record::report_model::GenReport;
use crate::validate::timing::stats::median;

/// Paired ratios original/candidate of one balanced block: (O-first round, C-first round).
type Block = (f64, f64);

#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// The generation validated (copies point at it).
    pub number: u32,
    pub valid: bool,
    /// The speedup the comparison uses (confirmed when re-timed, else screening).
    pub speedup: Option<f64>,
    /// Its confirmation was no win: kept as 1.0x.
    pub not_held: bool,
    pub copies: usize,
    #[serde(skip)]
    blocks: Vec<Block>,
    #[serde(skip)]
    ratios: Vec<f64>,
}

/// Blocks of a recorded timing object (`original_s`, `optimized_s`, `o_first`); rounds of
/// one order only (older records) come back as plain ratios.
pub fn blocks_of(timing: &Value) -> (Vec<Block>, Vec<f64>) {
    let nums = |k: &str| -> Vec<f64> { timing[k].as_array().into_iter().flatten().filter_map(Value::as_f64).collect() };
    let (o, c) = (nums("original_s"), nums("optimized_s"));
    let first: Vec<bool> = timing["o_first"].as_array().into_iter().flatten().filter_map(Value::as_bool).collect();
    if o.len() != c.len() || o.iter().chain(&c).any(|x| !(x.is_finite() && *x > 0.0)) {
        return (Vec::new(), Vec::new());
    }
    let ratios: Vec<f64> = o.iter().zip(&c).map(|(o, c)| o / c).collect();
    if !ratios.iter().all(|r| crate::record::figures::plausible(*r)) {
        return (Vec::new(), Vec::new());
    }
    if first.len() != ratios.len() {
        return (Vec::new(), ratios);
    }
    let (of, cf): (Vec<(usize, f64)>, Vec<(usize, f64)>) =
        ratios.iter().copied().enumerate().partition(|(i, _)| first[*i]);
    if of.is_empty() || cf.is_empty() {
        return (Vec::new(), ratios);
    }
    let blocks = of.iter().zip(&cf).map(|(a, b)| (a.1, b.1)).collect();
    (blocks, Vec::new())
}

impl Candidate {
    /// A candidate whose speedup (if valid) comes from `timing` (a recorded timing object:
    /// its rounds are resampled; without rounds the point is used as is).
    pub fn new(number: u32, valid: bool, speedup: Option<f64>, not_held: bool, copies: usize, timing: &Value) -> Candidate {
        let (blocks, ratios) = if valid { blocks_of(timing) } else { (Vec::new(), Vec::new()) };
        Candidate { number, valid, speedup: speedup.filter(|s| crate::record::figures::plausible(*s)), not_held, copies, blocks, ratios }
    }

    pub fn kept(&self) -> f64 {
        self.kept_of(self.speedup)
    }

    /// The kept speedup if its speedup were `s`: 1.0 unless valid, faster, and not a
    /// confirmation that did not hold.
    pub fn kept_of(&self, s: Option<f64>) -> f64 {
        kept(self.valid && !self.not_held, s)
    }

    /// Valid and timed: its speedup is evidence.
    pub fn has_speedup(&self) -> bool {
        self.valid && self.speedup.is_some()
    }

    /// A draw of the speedup from the candidate's own rounds (block bootstrap of the
    /// order-balanced estimator; plain ratios for records of one order; the point when
    /// there are no rounds).
    pub fn speedup_draw(&self, rng: &mut impl Rng) -> Option<f64> {
        if !self.valid {
            return None;
        }
        if self.blocks.len() >= 2 {
            let n = self.blocks.len();
            let (mut of, mut cf) = (Vec::with_capacity(n), Vec::with_capacity(n));
            for _ in 0..n {
                let b = self.blocks[rng.random_range(0..n)];
                of.push(b.0);
                cf.push(b.1);
            }
            return Some((median(&of)? * median(&cf)?).sqrt());
        }
        if self.ratios.len() >= 2 {
            let n = self.ratios.len();
            let draw: Vec<f64> = (0..n).map(|_| self.ratios[rng.random_range(0..n)]).collect();
            return median(&draw);
        }
        self.speedup
    }
}

/// The kept speedup of one candidate: its speedup when valid and faster, else 1.0 (you
/// keep the original).
pub fn kept(valid: bool, speedup: Option<f64>) -> f64 {
    match speedup {
        Some(s) if valid && s.is_finite() && s > 1.0 => s,
        _ => 1.0,
    }
}

/// The distinct candidates of some generations (copies folded into their original).
/// `confirmed(gen)` gives a re-timing's (speedup, win, timing object) when there is one.
pub fn candidates(gens: &[&GenReport], confirmed: &dyn Fn(u32) -> Option<(f64, bool, Value)>) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    let mut sorted: Vec<&&GenReport> = gens.iter().collect();
    sorted.sort_by_key(|g| (g.facts.same_as.is_some(), g.number));
    for g in sorted {
        let root = g.facts.root();
        if let Some(c) = out.iter_mut().find(|c| c.number == root) {
            c.copies += 1;
            continue;
        }
        let c = match (g.is_pass(), confirmed(root)) {
            (true, Some((s, win, timing))) => Candidate::new(root, true, Some(s), !win, 0, &timing),
            (valid, _) => Candidate::new(root, valid, g.speedup, false, 0, &g.timing),
        };
        out.push(c);
    }
    out
}
