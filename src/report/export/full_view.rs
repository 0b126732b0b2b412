//! The "sample vs full size" part of the HTML report: per run a section with the
//! prediction figures (record::predict) and a scatter plot, and for a sweep a table of runs
//! plus the pooled plot.
//!
//! Geometry of the scatter plot (inline SVG): one point per
//! candidate confirmed on the full-size DB, its screening (sample) speedup across, its full
//! speedup up, both on the same log scale so the diagonal is "the sample predicted it
//! exactly" and the 1.0x lines split wins from losses. Candidates that gave another answer
//! at full size have no full speedup: they are marked under the axis, in red.
//!
//! Presentation only: the figures (Spearman, counts) come from record::predict.

use serde::Serialize;

use crate::record::layout::gen_name;
use crate::record::predict::{Confirmed, Prediction, predict};
use crate::record::report_model::{ReportModel, RunReport};
use crate::record::summary_full::prediction_line;

/// Plot area in the 300 x 270 viewBox: a square, so y = x is the diagonal.
const X0: f64 = 45.0;
const Y0: f64 = 220.0;
const SIDE: f64 = 210.0;
/// Where candidates wrong at full size are marked (below the x axis labels).
const WRONG_Y: f64 = 252.0;

#[derive(Debug, Serialize)]
pub struct Point {
    pub cx: f64,
    pub cy: f64,
    /// `held` (a win at both sizes), `lost` (a sample win that is none at full size),
    /// `gained` (a win only at full size), `neither`.
    pub class: &'static str,
    pub title: String,
}

#[derive(Debug, Serialize)]
pub struct Tick {
    pub pos: f64,
    pub label: String,
}

#[derive(Debug, Serialize)]
pub struct Scatter {
    pub points: Vec<Point>,
    /// Candidates wrong (or failing) at full size: x position and title.
    pub wrong: Vec<Point>,
    pub ticks: Vec<Tick>,
    /// Position of 1.0x on both axes.
    pub one: f64,
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

fn r1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The plot of `items` (a run's confirmed candidates); `None` when none has figures.
pub fn scatter(items: &[Confirmed], largest_gen: usize) -> Option<Scatter> {
    let finite = |x: &f64| x.is_finite() && *x > 0.0;
    let values: Vec<f64> = items.iter().flat_map(|c| [Some(c.sample), c.full]).flatten().filter(finite).collect();
    if values.is_empty() {
        return None;
    }
    let lo = (values.iter().copied().fold(0.8, f64::min) / 1.15).max(1.0 / 64.0);
    let hi = (values.iter().copied().fold(1.25, f64::max) * 1.15).min(64.0);
    let at = |v: f64| (v.clamp(lo, hi).ln() - lo.ln()) / (hi.ln() - lo.ln()) * SIDE;
    let (px, py) = (|v: f64| r1(X0 + at(v)), |v: f64| r1(Y0 - at(v)));
    let mut points = Vec::new();
    let mut wrong = Vec::new();
    for c in items {
        let name = gen_name(c.number, largest_gen);
        match c.full.filter(|f| finite(f) && c.full_pass()) {
            Some(f) if finite(&c.sample) => {
                let full_win = c.full_win;
                let class = match (c.sample_win, full_win) {
                    (true, true) => "held",
                    (true, false) => "lost",
                    (false, true) => "gained",
                    (false, false) => "neither",
                };
                points.push(Point { cx: px(c.sample), cy: py(f), class, title: format!("{name} ({}): sample {:.2}x, full {f:.2}x", c.arm, c.sample) });
            }
            _ if !c.full_pass() && finite(&c.sample) => wrong.push(Point {
                cx: px(c.sample),
                cy: WRONG_Y,
                class: "wrong",
                title: format!("{name} ({}): sample {:.2}x, at full size {} {}", c.arm, c.sample, c.full_status, c.full_reason.as_deref().unwrap_or("")),
            }),
            _ => {}
        }
    }
    let ticks = [0.125, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 8.0, 16.0, 32.0]
        .into_iter()
        .filter(|t| *t >= lo && *t <= hi)
        .map(|t| Tick { pos: r1(at(t)), label: format!("{t}x") })
        .collect();
    Some(Scatter { points, wrong, ticks, one: r1(at(1.0)), x0: X0, y0: Y0, x1: X0 + SIDE, y1: Y0 - SIDE })
}

/// One run's (or a sweep's pooled) sample-vs-full section.
#[derive(Debug, Serialize)]
pub struct FullSection {
    pub db: String,
    pub figures: Prediction,
    /// `Spearman 0.83 over 12 candidates; sample wins held 5/6; ...`
    pub line: String,
    pub scatter: Option<Scatter>,
}

fn section(db: String, items: &[Confirmed], largest_gen: usize) -> FullSection {
    let figures = predict(items);
    let line = prediction_line(&serde_json::to_value(&figures).unwrap_or_default());
    FullSection { db, figures, line, scatter: scatter(items, largest_gen) }
}

/// The section of one run, when something was confirmed at full size.
pub fn run_section(r: &RunReport) -> Option<FullSection> {
    let db = r.full_db.clone()?;
    let largest = r.total.map(|t| t as usize).unwrap_or_else(|| r.gens.iter().map(|g| g.number as usize).max().unwrap_or(1));
    Some(section(db, &r.full_points, largest))
}

/// A sweep's row per run with confirmations.
#[derive(Debug, Serialize)]
pub struct FullRow {
    pub query_id: String,
    pub db: String,
    pub figures: Prediction,
    pub line: String,
}

/// Per run rows and the pooled section of a sweep (every run's points on one plot).
pub fn sweep_sections(m: &ReportModel) -> (Vec<FullRow>, Option<FullSection>) {
    let mut rows = Vec::new();
    let mut pooled: Vec<Confirmed> = Vec::new();
    let mut dbs: Vec<String> = Vec::new();
    for r in &m.runs {
        let Some(s) = run_section(r) else { continue };
        if !dbs.contains(&s.db) {
            dbs.push(s.db.clone());
        }
        // Pooled points name their query (gen numbers repeat across queries).
        pooled.extend(r.full_points.iter().map(|c| Confirmed { arm: format!("q{}, {}", r.query_id, c.arm), ..c.clone() }));
        rows.push(FullRow { query_id: r.query_id.clone(), db: s.db, figures: s.figures, line: s.line });
    }
    let section = (!rows.is_empty()).then(|| section(dbs.join(", "), &pooled, 99));
    (rows, section)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(n: u32, sample: f64, sample_win: bool, status: &str, full: Option<f64>, full_win: bool) -> Confirmed {
        Confirmed { number: n, arm: "a".into(), sample, sample_win, full_status: status.into(), full_reason: None, full, full_ci95: None, full_win }
    }

    #[test]
    fn points_sit_on_one_log_scale_and_wrong_ones_below_the_axis() {
        let items = vec![
            c(1, 2.0, true, "pass", Some(2.0), true),
            c(2, 1.0, false, "pass", Some(1.0), false),
            c(3, 1.5, true, "validation_failed", None, false),
            c(4, 0.5, false, "pass", Some(1.6), true),
        ];
        let s = scatter(&items, 20).unwrap();
        assert_eq!(s.points.len(), 3);
        assert_eq!(s.wrong.len(), 1);
        let p1 = &s.points[0];
        assert!((p1.cx - X0 - (Y0 - p1.cy)).abs() < 0.2, "equal figures sit on the diagonal: {p1:?}");
        assert_eq!((s.points[0].class, s.points[1].class, s.points[2].class), ("held", "neither", "gained"));
        assert!((s.points[1].cx - X0 - s.one).abs() < 0.2, "1.0x sits on the 1.0 line");
        assert!(s.ticks.iter().any(|t| t.label == "1x"));
        assert!(s.points[0].title.contains("gen_01") && s.points[0].title.contains("full 2.00x"));
        assert!(scatter(&[], 20).is_none());
    }
}
