//! Which gold examples each worker sees. Deterministic for a seed: the same spec always
//! gives the same prompts, on any machine (a local SplitMix64, not `rand`'s StdRng whose
//! stream may change between versions).
//!
//! - `batches`: a seeded shuffle cut into consecutive groups of `per_worker`, so the first
//!   workers together see every example once; later workers get shifted windows, then
//!   strided windows, then seeded random sets — each set distinct from all earlier ones
//!   while distinct sets remain (12 examples, 3 per worker: 20 workers, 20 distinct sets).
//! - `random`: a seeded sample per worker.
//! - `matched`: examples ranked by pattern overlap with the query (weighted, see
//!   `dag::patterns`; ties in seeded order). When at least `per_worker` examples match,
//!   workers only see matching ones, in distinct sets walked like `batches`; when fewer
//!   match, every worker sees all of them plus a varying rest.
//! - `coverage`: every worker sees the best-matching example plus a rotation of the
//!   others (best-ranked first), so all prompts differ and each has the most relevant one.
//! - `none`: no examples; `all`: every example, in id order.
//!
//! With no matching example at all, `matched` and `coverage` fall back to `batches` over
//! the seeded order. It does not load or render examples.

use super::examples::Example;
use crate::dag::patterns::pattern_weight;
use crate::spec::Strategy;
use std::collections::BTreeSet;

/// The examples `worker` (1-based, of `workers`) gets. `patterns` are the query's
/// pattern names (`dag::detect_patterns`); only `matched` and `coverage` read them.
pub fn select_examples(
    strategy: Strategy,
    examples: &[Example],
    per_worker: usize,
    seed: u64,
    worker: u32,
    workers: u32,
    patterns: &BTreeSet<String>,
) -> Vec<Example> {
    let slot = worker.max(1) as usize - 1;
    let count = (workers as usize).max(slot + 1);
    let pick =
        |set: &[usize]| -> Vec<Example> { set.iter().map(|&i| examples[i].clone()).collect() };
    match strategy {
        Strategy::None => Vec::new(),
        Strategy::All => examples.to_vec(),
        Strategy::Batches => {
            let mut rng = SplitMix(seed);
            let mut pool: Vec<usize> = (0..examples.len()).collect();
            rng.shuffle(&mut pool);
            let sets = distinct_sets(pool.len(), per_worker, count, &mut rng);
            sets.get(slot)
                .map(|s| pick(&map(&pool, s)))
                .unwrap_or_default()
        }
        Strategy::Random => {
            let mut rng = SplitMix(seed ^ (worker as u64).wrapping_mul(0xA24B_AED4_963E_E407));
            let mut pool: Vec<usize> = (0..examples.len()).collect();
            rng.shuffle(&mut pool);
            pool.truncate(per_worker);
            pick(&pool)
        }
        Strategy::Matched | Strategy::Coverage => {
            let mut rng = SplitMix(seed);
            let ranked = ranked_by_patterns(examples, patterns, &mut rng);
            let matching = ranked
                .iter()
                .filter(|&&i| score(&examples[i], patterns) > 0)
                .count();
            // Positions every worker gets (`fixed`), then a distinct rotation of `rest`.
            let (fixed, rest): (Vec<usize>, Vec<usize>) = match strategy {
                _ if matching == 0 || per_worker == 0 => (Vec::new(), ranked),
                Strategy::Coverage => {
                    // The rotation starts after `matched`'s first window, so a sweep's
                    // matched and coverage arms do not send the same first prompt.
                    let mut others = ranked[1..].to_vec();
                    let shift = per_worker.saturating_sub(1).min(others.len());
                    others.rotate_left(shift);
                    (ranked[..1].to_vec(), others)
                }
                _ if matching < per_worker => {
                    (ranked[..matching].to_vec(), ranked[matching..].to_vec())
                }
                _ => (Vec::new(), ranked[..matching].to_vec()),
            };
            let p = per_worker.saturating_sub(fixed.len());
            let sets = varied_sets(rest.len(), p, count, &mut rng);
            let Some(set) = sets.get(slot) else {
                return Vec::new();
            };
            let mut chosen = fixed;
            chosen.extend(map(&rest, set));
            pick(&chosen)
        }
    }
}

/// The query patterns an example fixes (its overlap), vocabulary order of the example.
pub fn overlap(example: &Example, patterns: &BTreeSet<String>) -> Vec<String> {
    example
        .patterns
        .iter()
        .filter(|p| patterns.contains(*p))
        .cloned()
        .collect()
}

/// Weighted overlap of an example's patterns with the query's.
pub fn score(example: &Example, patterns: &BTreeSet<String>) -> u32 {
    overlap(example, patterns)
        .iter()
        .map(|p| pattern_weight(p))
        .sum()
}

/// How many of `sets` (one per worker) hold at least one example matching `patterns`.
pub fn coverage_count(sets: &[Vec<Example>], patterns: &BTreeSet<String>) -> usize {
    sets.iter()
        .filter(|set| set.iter().any(|e| score(e, patterns) > 0))
        .count()
}

/// How many different prompts a list holds.
pub fn distinct_count(prompts: &[String]) -> usize {
    prompts.iter().collect::<BTreeSet<_>>().len()
}

fn map(pool: &[usize], set: &[usize]) -> Vec<usize> {
    set.iter().map(|&pos| pool[pos]).collect()
}

/// Indices of examples, highest weighted overlap first (ties in seeded order).
fn ranked_by_patterns(
    examples: &[Example],
    patterns: &BTreeSet<String>,
    rng: &mut SplitMix,
) -> Vec<usize> {
    let mut order: Vec<usize> = (0..examples.len()).collect();
    rng.shuffle(&mut order);
    order.sort_by_key(|&i| std::cmp::Reverse(score(&examples[i], patterns))); // stable
    order
}

/// [`distinct_sets`], but once the distinct sets run out, repeats are rotated (a later
/// cycle shows the same examples in another order), so prompts still differ where the
/// order can make them differ.
fn varied_sets(n: usize, p: usize, count: usize, rng: &mut SplitMix) -> Vec<Vec<usize>> {
    if p >= n {
        // One set ("all"): vary its order, rotations first, then the rotations with the
        // first two swapped (all 6 orders of 3 examples).
        return (0..count)
            .map(|w| {
                let mut set: Vec<usize> = (0..n).collect();
                if n > 1 {
                    set.rotate_left(w % n);
                    if (w / n) % 2 == 1 {
                        set.swap(0, 1);
                    }
                }
                set
            })
            .collect();
    }
    let mut sets = distinct_sets(n, p, count, rng);
    let distinct = sets
        .iter()
        .map(|s| {
            let mut k = s.clone();
            k.sort_unstable();
            k
        })
        .collect::<BTreeSet<_>>()
        .len()
        .max(1);
    for (i, set) in sets.iter_mut().enumerate().skip(distinct) {
        let cycle = i / distinct;
        if !set.is_empty() {
            let len = set.len();
            set.rotate_left(cycle % len);
            if cycle >= len && len > 1 {
                set.swap(0, 1); // a second pass over rotations shows the mirrored orders
            }
        }
    }
    sets
}

/// `count` subsets (as ordered position lists) of `0..n` of size `p`, distinct while
/// C(n, p) allows, then repeating from the start.
fn distinct_sets(n: usize, p: usize, count: usize, rng: &mut SplitMix) -> Vec<Vec<usize>> {
    if n == 0 || p == 0 {
        return vec![Vec::new(); count];
    }
    if p >= n {
        // Every set is "all"; vary the order so prompts still differ.
        return (0..count)
            .map(|w| (0..n).map(|i| (i + w) % n).collect())
            .collect();
    }
    let total = binomial(n, p);
    let mut seen = BTreeSet::new();
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut offer = |set: Vec<usize>, out: &mut Vec<Vec<usize>>| {
        let mut key = set.clone();
        key.sort_unstable();
        if seen.insert(key) {
            out.push(set);
        }
    };
    // Windows over strided walks of the positions; stride 1 first (plain batches).
    'strides: for stride in (1..=n / 2).filter(|&k| gcd(k, n) == 1) {
        let walk: Vec<usize> = (0..n).map(|j| (j * stride) % n).collect();
        for offset in 0..p {
            for start in (offset..n).step_by(p) {
                offer((0..p).map(|i| walk[(start + i) % n]).collect(), &mut out);
                if out.len() >= count || out.len() >= total {
                    break 'strides;
                }
            }
        }
    }
    let mut attempts = 0;
    while out.len() < count.min(total) && attempts < 100 * count {
        attempts += 1;
        let mut all: Vec<usize> = (0..n).collect();
        rng.shuffle(&mut all);
        all.truncate(p);
        offer(all, &mut out);
    }
    let distinct = out.len();
    while out.len() < count {
        out.push(out[out.len() % distinct].clone());
    }
    out.truncate(count);
    out
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// C(n, k), saturating.
fn binomial(n: usize, k: usize) -> usize {
    if k > n {
        return 0;
    }
    let k = k.min(n - k);
    let mut r: usize = 1;
    for i in 0..k {
        r = r.saturating_mul(n - i) / (i + 1);
    }
    r
}

/// SplitMix64: tiny, fast, stable across versions.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Fisher–Yates.
    fn shuffle(&mut self, v: &mut [usize]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}
