//! The sample-vs-full part of `qt compare`'s output: each row's best full-size speedup
//! per side (beside the screening table, never in its columns), each side's prediction
//! figures per query (Spearman, sample wins that held) and a text scatter plot of sample
//! against full speedup, both sides on one log grid. Renders what compare/full.rs read.

use crate::compare::Comparison;
use crate::compare::full::FullSide;
use crate::record::summary_full::prediction_line;

fn cell(best: Option<f64>, wrong: usize) -> String {
    match (best, wrong) {
        (_, w) if w > 0 => format!("WRONG ({w} differ)"),
        (Some(b), _) => format!("{b:.2}x"),
        (None, _) => "-".into(),
    }
}

fn any(c: &Comparison) -> bool {
    !c.full_a.is_empty() || !c.full_b.is_empty()
}

fn side_lines(name: &str, sides: &[FullSide]) -> Vec<String> {
    if sides.is_empty() {
        return vec![format!("{name}: nothing confirmed at full size")];
    }
    sides
        .iter()
        .map(|s| {
            let f = serde_json::to_value(&s.figures).unwrap_or_default();
            let wrong = if s.figures.differs > 0 { format!(", {} WRONG at full size", s.figures.differs) } else { String::new() };
            format!("{name} q{} on {}: {} confirmed{wrong}; {}", s.query_id, s.db, s.figures.candidates, prediction_line(&f))
        })
        .collect()
}

/// A text scatter plot: x = sample speedup, y = full speedup, one log scale; `a`/`b` mark
/// each side's candidates (`*` both), `|` and `-` are 1.00x, `.` the diagonal.
pub fn text_scatter(c: &Comparison) -> String {
    let pts: Vec<(char, [f64; 2])> = c
        .full_a
        .iter()
        .flat_map(|s| s.points.iter().map(|p| ('a', *p)))
        .chain(c.full_b.iter().flat_map(|s| s.points.iter().map(|p| ('b', *p))))
        .filter(|(_, p)| p.iter().all(|x| *x > 0.0))
        .collect();
    if pts.is_empty() {
        return String::new();
    }
    let (w, h) = (41usize, 13usize);
    let all = pts.iter().flat_map(|(_, p)| p.iter().copied());
    let lo = (all.clone().fold(0.8, f64::min) / 1.1).ln();
    let hi = (all.fold(1.25, f64::max) * 1.1).ln();
    let col = |v: f64| (((v.ln() - lo) / (hi - lo)) * (w - 1) as f64).round().clamp(0.0, (w - 1) as f64) as usize;
    let row = |v: f64| (h - 1) - (((v.ln() - lo) / (hi - lo)) * (h - 1) as f64).round().clamp(0.0, (h - 1) as f64) as usize;
    let mut grid = vec![vec![' '; w]; h];
    for x in 0..w {
        let v = (lo + (hi - lo) * x as f64 / (w - 1) as f64).exp();
        grid[row(v)][x] = '.';
    }
    let (c1, r1) = (col(1.0), row(1.0));
    for line in grid.iter_mut() {
        line[c1] = '|';
    }
    for ch in grid[r1].iter_mut() {
        *ch = if *ch == '|' { '+' } else { '-' };
    }
    for (m, [s, f]) in &pts {
        let cell = &mut grid[row(*f)][col(*s)];
        *cell = match *cell {
            'a' | 'b' | '*' if *cell != *m => '*',
            'a' | 'b' | '*' => *cell,
            _ => *m,
        };
    }
    let mut t = format!("full speedup (up) vs sample speedup (across), log scale {:.2}x..{:.2}x; a = A, b = B, * both; | and - are 1.00x, . is full = sample\n", lo.exp(), hi.exp());
    for line in grid {
        t.push_str("    ");
        t.push_str(line.iter().collect::<String>().trim_end());
        t.push('\n');
    }
    t
}

/// The block after the console table (empty when neither side was confirmed).
pub fn table(c: &Comparison) -> String {
    if !any(c) {
        return String::new();
    }
    let mut t = String::from("\nfull size (best pass confirmed on the full-size DB; the table above is the sample's screening):\n");
    for r in &c.rows {
        if r.full_a.is_some() || r.full_b.is_some() || r.wrong_at_full_a + r.wrong_at_full_b > 0 {
            t.push_str(&format!("  q{} {}: A {}, B {}\n", r.query_id, r.arm, cell(r.full_a, r.wrong_at_full_a), cell(r.full_b, r.wrong_at_full_b)));
        }
    }
    t.push_str("sample vs full:\n");
    for l in side_lines("A", &c.full_a).into_iter().chain(side_lines("B", &c.full_b)) {
        t.push_str(&format!("  {l}\n"));
    }
    t.push_str(&text_scatter(c));
    t
}

/// The same for `--format md`.
pub fn markdown(c: &Comparison) -> String {
    if !any(c) {
        return String::new();
    }
    let mut t = String::from("\n#### Full size\n\n| query | arm | best full A | best full B |\n|---|---|---|---|\n");
    for r in &c.rows {
        t.push_str(&format!("| {} | {} | {} | {} |\n", r.query_id, r.arm, cell(r.full_a, r.wrong_at_full_a), cell(r.full_b, r.wrong_at_full_b)));
    }
    t.push('\n');
    for l in side_lines("A", &c.full_a).into_iter().chain(side_lines("B", &c.full_b)) {
        t.push_str(&format!("- {l}\n"));
    }
    let plot = text_scatter(c);
    if !plot.is_empty() {
        t.push_str(&format!("\n```text\n{plot}```\n"));
    }
    t
}
