//! Printing a [`Comparison`] decided by compare/: a console table or Markdown ready to
//! paste into a pull request. Intervals are always printed next to the point.

use crate::compare::{Comparison, Delta, Metrics};
use crate::report::export::markdown::{pct, x};

fn ratio(d: &Option<Delta>) -> String {
    d.map(|d| format!("x{:.3} [{:.3}, {:.3}]", d.point, d.ci95[0], d.ci95[1])).unwrap_or_else(|| "-".into())
}

fn points(d: &Option<Delta>) -> String {
    d.map(|d| format!("{:+.0} pts [{:+.0}, {:+.0}]", d.point * 100.0, d.ci95[0] * 100.0, d.ci95[1] * 100.0))
        .unwrap_or_else(|| "-".into())
}

fn side(m: &Metrics) -> [String; 4] {
    [format!("{} ({})", pct(m.valid_rate), m.completed), x(m.median_speedup), x(m.best_speedup), m.wins.to_string()]
}

fn preamble(c: &Comparison) -> Vec<String> {
    let mut v = vec![
        format!("A: {}{}", c.a.display(), ids(&c.a_run_ids)),
        format!("B: {}{}", c.b.display(), ids(&c.b_run_ids)),
    ];
    if !c.only_in_a.is_empty() || !c.only_in_b.is_empty() {
        v.push(format!(
            "not paired: only in A: {}; only in B: {}",
            list(&c.only_in_a),
            list(&c.only_in_b)
        ));
    }
    v.push(format!(
        "intervals: bootstrap 95% over queries and generations ({} resamples, seed {}); noise threshold {:.0}%",
        c.resamples,
        c.seed,
        c.noise * 100.0
    ));
    v
}

fn ids(v: &[String]) -> String {
    if v.is_empty() { String::new() } else { format!(" (run {})", v.join(", ")) }
}

fn list(v: &[String]) -> String {
    if v.is_empty() { "none".into() } else { v.join(", ") }
}

/// Fixed-width table for the console.
pub fn table(c: &Comparison) -> String {
    let mut t = preamble(c).join("\n") + "\n\n";
    let arm_w = c.rows.iter().map(|r| r.arm.len()).max().unwrap_or(3).clamp(3, 40);
    t.push_str(&format!(
        "{:<6} {:<arm_w$} {:>12} {:>12} {:>8} {:>8} {:>8} {:>8} {:>5} {:>5}\n",
        "query", "arm", "valid A", "valid B", "med A", "med B", "best A", "best B", "win A", "win B"
    ));
    for r in &c.rows {
        let (a, b) = (side(&r.a), side(&r.b));
        t.push_str(&format!(
            "{:<6} {:<arm_w$} {:>12} {:>12} {:>8} {:>8} {:>8} {:>8} {:>5} {:>5}\n",
            r.query_id, r.arm, a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3]
        ));
    }
    t.push('\n');
    for a in &c.arms {
        t.push_str(&format!("{}\n", a.sentence));
        t.push_str(&format!(
            "    valid rate {}; median speedup {}; best speedup {}\n",
            points(&a.valid_rate_diff),
            ratio(&a.median_ratio),
            ratio(&a.best_ratio)
        ));
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
    t.push_str("\n| arm | verdict | queries | kept speedup / gen (B/A) | valid rate (B-A) | median speedup (B/A) | best speedup (B/A) |\n|---|---|---|---|---|---|---|\n");
    for a in &c.arms {
        t.push_str(&format!(
            "| {} | **{}** | {} | {} | {} | {} | {} |\n",
            a.arm,
            a.verdict.words(),
            a.queries,
            ratio(&a.kept_ratio),
            points(&a.valid_rate_diff),
            ratio(&a.median_ratio),
            ratio(&a.best_ratio)
        ));
    }
    t.push_str("\n| query | arm | valid A | valid B | median A | median B | best A | best B | wins A | wins B |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for r in &c.rows {
        let (a, b) = (side(&r.a), side(&r.b));
        t.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.query_id, r.arm, a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3]
        ));
    }
    t.push_str(&super::compare_full::markdown(c));
    t
}
