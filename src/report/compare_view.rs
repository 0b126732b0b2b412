//! Printing a [`Comparison`] decided by compare/: a console table or Markdown ready to
//! paste into a pull request. Intervals are always printed next to the point, and the
//! named figures (screening, confirmed) in the cells every other view prints.

use crate::compare::{Comparison, Delta, Metrics};
use crate::report::export::markdown::pct;

fn ratio(d: &Option<Delta>) -> String {
    d.map(|d| format!("x{:.3} [{:.3}, {:.3}]", d.point, d.ci95[0], d.ci95[1])).unwrap_or_else(|| "-".into())
}

fn points(d: &Option<Delta>) -> String {
    d.map(|d| format!("{:+.0} pts [{:+.0}, {:+.0}]", d.point * 100.0, d.ci95[0] * 100.0, d.ci95[1] * 100.0))
        .unwrap_or_else(|| "-".into())
}

/// valid (completed), distinct candidates, median, screening, confirmed, wins.
fn side(m: &Metrics) -> [String; 6] {
    [
        format!("{} ({})", pct(m.valid_rate), m.completed),
        m.candidates.to_string(),
        m.median_speedup.map(|x| format!("{x:.2}x")).unwrap_or_else(|| "-".into()),
        m.screening_cell.clone(),
        m.confirmed_cell.clone(),
        m.wins.to_string(),
    ]
}

const HEADS: [&str; 6] = ["valid", "distinct", "median", "screening", "confirmed", "wins"];

fn preamble(c: &Comparison) -> Vec<String> {
    let mut v = vec![
        format!("A: {}{}", c.a.display(), ids(&c.a_run_ids)),
        format!("B: {}{}", c.b.display(), ids(&c.b_run_ids)),
    ];
    if c.within_run {
        v.push("arms of one folder compared with each other (--arms)".into());
    }
    if !c.only_in_a.is_empty() || !c.only_in_b.is_empty() {
        v.push(format!("not paired: only in A: {}; only in B: {}", list(&c.only_in_a), list(&c.only_in_b)));
    }
    if !c.unpaired_arms_a.is_empty() || !c.unpaired_arms_b.is_empty() {
        v.push(format!(
            "arms not paired: A's {}; B's {} (pair them with --map A_ARM=B_ARM)",
            list(&c.unpaired_arms_a),
            list(&c.unpaired_arms_b)
        ));
    }
    v.push(format!(
        "intervals: bootstrap 95% over queries, distinct candidates and each candidate's own timing rounds ({} resamples, seed {}); noise threshold {:.0}%; a verdict needs {} distinct candidates per side",
        c.resamples,
        c.seed,
        c.noise * 100.0,
        c.min_candidates
    ));
    v
}

fn ids(v: &[String]) -> String {
    if v.is_empty() { String::new() } else { format!(" (run {})", v.join(", ")) }
}

fn list(v: &[String]) -> String {
    if v.is_empty() { "none".into() } else { v.join(", ") }
}

fn usd(x: Option<f64>) -> String {
    x.map(crate::record::cost::fmt_usd).unwrap_or_else(|| "unknown".into())
}

/// `cost per valid rewrite` lines, one per arm (plain ratios: cost is counted, not sampled).
fn cost_lines(c: &Comparison) -> Vec<String> {
    c.costs
        .iter()
        .map(|k| {
            let side = |s: &crate::compare::cost::CostSide| format!("{} ({} valid of {}, {} in all)", usd(s.cost_per_valid), s.valid, s.generations, usd(s.cost_usd));
            let ratio = k.per_valid_ratio.map(|r| format!(": x{r:.2}")).unwrap_or_default();
            format!("cost per valid rewrite, {}: A {}, B {}{ratio}", k.arm, side(&k.a), side(&k.b))
        })
        .collect()
}

/// Fixed-width table for the console.
pub fn table(c: &Comparison) -> String {
    let mut t = preamble(c).join("\n") + "\n\n";
    let arm_w = c.rows.iter().map(|r| r.arm.len()).max().unwrap_or(3).clamp(3, 40);
    let mut head = format!("{:<6} {:<arm_w$}", "query", "arm");
    for h in HEADS {
        head.push_str(&format!(" {:>11} {:>11}", format!("{h} A"), format!("{h} B")));
    }
    t.push_str(head.trim_end());
    t.push('\n');
    for r in &c.rows {
        let (a, b) = (side(&r.a), side(&r.b));
        let mut line = format!("{:<6} {:<arm_w$}", r.query_id, r.arm);
        for i in 0..HEADS.len() {
            line.push_str(&format!(" {:>11} {:>11}", a[i], b[i]));
        }
        t.push_str(line.trim_end());
        t.push('\n');
    }
    t.push_str("screening: best first measurement; confirmed: its fresh re-timing (! did not hold); ~ below the noise floor\n\n");
    for a in &c.arms {
        t.push_str(&format!("{}\n", a.sentence));
        t.push_str(&format!(
            "    valid rate {}; median speedup {}; best speedup {}\n",
            points(&a.valid_rate_diff),
            ratio(&a.median_ratio),
            ratio(&a.best_ratio)
        ));
    }
    for line in cost_lines(c) {
        t.push_str(&format!("{line}\n"));
    }
    t.push_str(&super::compare_full::table(c));
    t
}

/// Markdown for a pull request description.
pub fn markdown(c: &Comparison) -> String {
    let mut t = String::from("### qt compare\n\n");
    for line in preamble(c) {
        t.push_str(&format!("- {line}\n"));
    }
    t.push_str("\n| arm | verdict | queries | distinct candidates A / B | kept speedup / candidate (B/A) | valid rate (B-A) | median speedup (B/A) | best speedup (B/A) |\n|---|---|---|---|---|---|---|---|\n");
    for a in &c.arms {
        t.push_str(&format!(
            "| {} | **{}** | {} | {} / {} | {} | {} | {} | {} |\n",
            a.arm,
            a.verdict.words(),
            a.queries,
            a.candidates_a,
            a.candidates_b,
            ratio(&a.kept_ratio),
            points(&a.valid_rate_diff),
            ratio(&a.median_ratio),
            ratio(&a.best_ratio)
        ));
    }
    t.push_str("\n| query | arm |");
    for h in HEADS {
        t.push_str(&format!(" {h} A | {h} B |"));
    }
    t.push_str(&format!("\n|---|---|{}\n", "---|---|".repeat(HEADS.len())));
    for r in &c.rows {
        let (a, b) = (side(&r.a), side(&r.b));
        t.push_str(&format!("| {} | {} |", r.query_id, r.arm));
        for i in 0..HEADS.len() {
            t.push_str(&format!(" {} | {} |", a[i], b[i]));
        }
        t.push('\n');
    }
    let costs = cost_lines(c);
    if !costs.is_empty() {
        t.push('\n');
        for line in costs {
            t.push_str(&format!("- {line}\n"));
        }
    }
    t.push_str(&super::compare_full::markdown(c));
    t
}
