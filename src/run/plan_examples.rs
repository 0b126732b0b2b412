//! The example part of `qt plan`'s output: the patterns found in each query, per worker
//! which examples it sees and why (the overlap of their patterns with the query's), and
//! the coverage figure: how many workers see at least one matching example.
//!
//! Only printing and counting; the choice itself is `prompt::select_examples`.

use super::prompts::{ArmPrompts, QueryInputs};
use crate::prompt::{self, Example};
use crate::spec::Strategy;

/// A worker "sees a matching example" target for queries with patterns: 3 of 4 workers.
pub const COVERAGE_GOAL: f64 = 0.75;

/// Coverage of one (query, arm) with detected patterns.
pub struct Coverage {
    pub query: String,
    pub covered: usize,
    /// Workers seeing an example of the highest overlap score.
    pub best: usize,
    pub workers: usize,
}

/// Per arm, the coverage of every query that shows at least one pattern.
#[derive(Default)]
pub struct CoverageTally {
    pub per_arm: Vec<(String, Vec<Coverage>)>,
    /// Queries without any detected pattern (not counted in coverage).
    pub without_patterns: Vec<String>,
}

/// Print the query's patterns and, per arm that shows examples, each worker's examples
/// with their overlap; record the coverage into `tally`.
pub fn print_query_examples(arms: &[ArmPrompts], inputs: &QueryInputs, tally: &mut CoverageTally) {
    let names = inputs.pattern_names();
    if inputs.patterns.is_empty() {
        println!("    patterns: none detected");
        tally.without_patterns.push(inputs.query.id.clone());
    } else {
        println!("    patterns:");
        for p in &inputs.patterns {
            println!("      - {} ({})", p.name, p.why);
        }
    }
    for arm in arms {
        let strategy = arm.arm.examples.strategy;
        if strategy == Strategy::None {
            continue;
        }
        let workers = arm.arm.generation.workers;
        let sets: Vec<Vec<Example>> = (1..=workers).map(|w| arm.examples_for(inputs, w)).collect();
        let covered = prompt::coverage_count(&sets, &names);
        let top = arm
            .examples
            .iter()
            .map(|e| prompt::score(e, &names))
            .max()
            .unwrap_or(0);
        let best = sets
            .iter()
            .filter(|s| top > 0 && s.iter().any(|e| prompt::score(e, &names) == top))
            .count();
        if tally.per_arm.iter().all(|(a, _)| a != &arm.arm.name) {
            tally.per_arm.push((arm.arm.name.clone(), Vec::new()));
        }
        if !names.is_empty() {
            let entry = tally.per_arm.iter_mut().find(|(a, _)| a == &arm.arm.name);
            if let Some((_, list)) = entry {
                list.push(Coverage {
                    query: inputs.query.id.clone(),
                    covered,
                    best,
                    workers: workers as usize,
                });
            }
        }
        println!(
            "    arm {}: {covered}/{workers} workers see an example matching a pattern of the query, {best}/{workers} a best-matching one",
            arm.arm.name
        );
        let shown = if strategy == Strategy::All {
            &sets[..sets.len().min(1)]
        } else {
            &sets[..]
        };
        for (w, set) in shown.iter().enumerate() {
            let items: Vec<String> = set
                .iter()
                .map(|e| {
                    let why = prompt::overlap(e, &names);
                    if why.is_empty() {
                        format!("{} (no overlap)", e.id)
                    } else {
                        format!("{} ({})", e.id, why.join(", "))
                    }
                })
                .collect();
            let who = if strategy == Strategy::All {
                "all workers".to_string()
            } else {
                format!("worker {:>2}", w + 1)
            };
            println!("      {who}: {}", items.join(", "));
        }
    }
}

/// The overall coverage line per arm: over queries with patterns, the lowest and mean
/// share of workers seeing a matching example, and the queries below the goal.
pub fn print_coverage_summary(tally: &CoverageTally) {
    if tally.per_arm.is_empty() {
        return;
    }
    let with: usize = tally
        .per_arm
        .iter()
        .map(|(_, l)| l.len())
        .max()
        .unwrap_or(0);
    println!(
        "example coverage ({} queries with a detected pattern, {} without):",
        with,
        tally.without_patterns.len()
    );
    for (arm, list) in &tally.per_arm {
        if list.is_empty() {
            println!("  {arm}: no query with a detected pattern");
            continue;
        }
        let share = |c: &Coverage| c.covered as f64 / c.workers.max(1) as f64;
        let min = list.iter().min_by(|a, b| share(a).total_cmp(&share(b)));
        let mean = list.iter().map(share).sum::<f64>() / list.len() as f64;
        let best = list
            .iter()
            .map(|c| c.best as f64 / c.workers.max(1) as f64)
            .sum::<f64>()
            / list.len() as f64;
        let below: Vec<&str> = list
            .iter()
            .filter(|c| share(c) < COVERAGE_GOAL)
            .map(|c| c.query.as_str())
            .collect();
        let min_text = min
            .map(|c| format!("{}/{} (q{})", c.covered, c.workers, c.query))
            .unwrap_or_default();
        println!(
            "  {arm}: lowest {min_text}, mean {:.0}% of workers (a best-matching example: {:.0}%); {} of {} queries below 3/4{}",
            mean * 100.0,
            best * 100.0,
            below.len(),
            list.len(),
            if below.is_empty() {
                String::new()
            } else {
                format!(
                    ": {}",
                    below
                        .iter()
                        .map(|q| format!("q{q}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
    }
}
