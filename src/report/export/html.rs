//! The report as one self-contained HTML page: minijinja template embedded in the binary,
//! autoescape on, inline CSS/SVG/JS, a Content-Security-Policy that forbids any network
//! request and runs only the page's own script (by its sha256), control and bidi
//! characters shown as escapes (`visible.rs`). Readable without JavaScript (tables, native `<details>` expanders); with it,
//! filters by status, reason, arm and transform (also from the URL: `#status=pass`).
//!
//! This file only adds presentation geometry (bar positions, curve points, heat classes)
//! to numbers the model already holds; it decides nothing.

use minijinja::{AutoEscape, Environment, Value};
use serde::Serialize;
use std::path::Path;

use super::markdown::SHOWN_K;
use super::{ExportError, Exporter};
use crate::record::report_model::{DETAIL_LIMIT, ArmStats, GenReport, Kind, ReportModel, RunReport, TransformRow, stats_of};
use crate::record::figures::{self, Stage};
use crate::record::summary::confirmed_line;
use crate::report::sqlview;

const TEMPLATE: &str = include_str!("../templates/report.html");

pub struct Html;

/// Speedup bar: 0..BAR_W px, log scale from 1/SPAN to SPAN, 1.0x in the middle.
const BAR_W: f64 = 120.0;
const SPAN: f64 = 4.0;

fn bar_x(s: f64) -> f64 {
    let x = BAR_W / 2.0 + BAR_W / 2.0 * s.max(1e-9).ln() / SPAN.ln();
    (x.clamp(1.0, BAR_W - 1.0) * 10.0).round() / 10.0
}

#[derive(Serialize)]
struct Bar {
    pt: f64,
    lo: f64,
    w: f64,
}

#[derive(Serialize)]
struct GenView<'a> {
    #[serde(flatten)]
    g: &'a GenReport,
    bar: Option<Bar>,
    transforms_attr: String,
    instances_text: Option<String>,
    diff_original: Vec<String>,
    diff_optimized: Vec<String>,
}

#[derive(Serialize)]
struct Curve {
    arm: String,
    color: usize,
    valid_points: String,
    best_points: String,
}

#[derive(Serialize)]
struct ArmView<'a> {
    #[serde(flatten)]
    a: &'a ArmStats,
    shown: Vec<(usize, f64, f64)>,
    screening_cell: String,
    confirmed_cell: String,
}

#[derive(Serialize)]
struct RunView<'a> {
    query_id: &'a str,
    run_id: &'a Option<String>,
    dir: String,
    link: String,
    original_sql: &'a str,
    base_prompt: &'a str,
    interrupted: bool,
    /// One line per re-timing (each arm's best candidate).
    confirmed: Vec<String>,
    /// Sample vs full size (`[validation.confirm]`, `qt confirm`), when confirmed.
    full: Option<super::full_view::FullSection>,
    arms: Vec<ArmView<'a>>,
    curves: Vec<Curve>,
    best_max: f64,
    n_max: usize,
    gens: Vec<GenView<'a>>,
    rows_not_shown: usize,
    /// JSON: the details the page shows on expanding a generation (see `details_blob`).
    data: String,
}

#[derive(Serialize)]
struct Cell {
    /// The named figures' cells (figures.rs: the same text as every other view).
    screening: String,
    confirmed: String,
    median: Option<f64>,
    valid_rate: Option<f64>,
    wins: usize,
    heat: String,
    /// The run the cell comes from (an experiment shows the latest of every cell).
    run: String,
    /// The best full-size speedup of the arm (`WRONG` when a candidate differs there).
    full: Option<String>,
}

#[derive(Serialize)]
struct MatrixRow {
    query_id: String,
    link: String,
    cells: Vec<Option<Cell>>,
}

#[derive(Serialize)]
struct View<'a> {
    kind: Kind,
    title: String,
    header: &'a crate::record::report_model::Header,
    generated_at: String,
    arms: &'a [String],
    statuses: Vec<String>,
    reasons: Vec<String>,
    transforms_list: Vec<String>,
    transforms: &'a [TransformRow],
    pooled: Vec<ArmStats>,
    matrix: Vec<MatrixRow>,
    runs: Vec<RunView<'a>>,
    generations: usize,
    full_runs: Vec<super::full_view::FullRow>,
    full_pooled: Option<super::full_view::FullSection>,
}

fn prompt_cut(prompt: &str, base: &str) -> (usize, String, usize) {
    if base.is_empty() {
        return (0, prompt.to_string(), 0);
    }
    let pre = prompt.char_indices().zip(base.chars()).take_while(|((_, a), b)| a == b).map(|((i, a), _)| i + a.len_utf8()).last().unwrap_or(0);
    let rest = &prompt[pre..];
    let base_rest = &base[base.len().min(pre)..];
    let suf_bytes: usize = rest.chars().rev().zip(base_rest.chars().rev()).take_while(|(a, b)| a == b).map(|(a, _)| a.len_utf8()).sum();
    let middle = &rest[..rest.len() - suf_bytes];
    (prompt[..pre].chars().count(), middle.to_string(), rest[rest.len() - suf_bytes..].chars().count())
}

/// Each distinct line once, texts as lists of line numbers: prompts repeat the same
/// examples and rewrites repeat the original's lines, so 1,000 generations stay small.
#[derive(Default)]
struct Lines {
    ids: std::collections::HashMap<String, usize>,
    list: Vec<String>,
}

impl Lines {
    fn id(&mut self, line: &str) -> usize {
        let line = &super::visible::escape(line);
        if let Some(&i) = self.ids.get(line.as_str()) {
            return i;
        }
        self.list.push(line.to_string());
        self.ids.insert(line.to_string(), self.list.len() - 1);
        self.list.len() - 1
    }

    fn text(&mut self, text: &str) -> Vec<usize> {
        text.split('\n').map(|l| self.id(l)).collect()
    }
}

/// `{"t": text lines, "h": HTML lines (escaped by sqlview), "g": {gen folder: {"d": diff,
/// "p": [chars before, the worker's part, chars after], "r": response, "e": [[prompt,
/// response], ...] earlier attempts}}}`; rendered by the page's script on expanding.
fn details_blob(r: &RunReport) -> String {
    let (mut t, mut h) = (Lines::default(), Lines::default());
    let mut gens = serde_json::Map::new();
    for g in r.gens.iter().take(DETAIL_LIMIT).filter(|g| g.has_details) {
        let diff = g.optimized_sql.as_deref().map(|sql| {
            sqlview::diff_html(&r.original_sql, sql).lines().map(|l| h.id(l)).collect::<Vec<_>>()
        });
        let prompt = g.prompt.as_deref().map(|p| {
            let (pre, mid, post) = prompt_cut(p, &r.base_prompt);
            serde_json::json!([pre, t.text(&mid), post])
        });
        let earlier: Vec<serde_json::Value> = g
            .earlier
            .iter()
            .map(|a| serde_json::json!([t.text(&a.prompt), a.response.as_deref().map(|x| t.text(x))]))
            .collect();
        let response = g.response.as_deref().map(|x| t.text(x));
        gens.insert(g.folder.clone(), serde_json::json!({"d": diff, "p": prompt, "r": response, "e": earlier}));
    }
    serde_json::json!({"t": t.list, "h": h.list, "g": gens}).to_string()
}

fn gen_view(g: &GenReport) -> GenView<'_> {
    let bar = g.speedup.filter(|_| g.is_pass()).map(|s| {
        let [lo, hi] = g.ci95.unwrap_or([s, s]);
        let (lo, hi) = (bar_x(lo), bar_x(hi));
        Bar { pt: bar_x(s), lo, w: ((hi - lo) * 10.0).round().max(10.0) / 10.0 }
    });
    let rows = |k: &str| -> Vec<String> {
        g.diff[k].as_array().into_iter().flatten().map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).collect()
    };
    GenView {
        g,
        bar,
        transforms_attr: g.transforms.join(" "),
        instances_text: (!g.instances.is_null()).then(|| serde_json::to_string_pretty(&g.instances).unwrap_or_default()),
        diff_original: rows("original"),
        diff_optimized: rows("optimized"),
    }
}

fn curves(arms: &[ArmStats]) -> (Vec<Curve>, f64, usize) {
    let n_max = arms.iter().filter_map(|a| a.at_k.last()).map(|p| p.k).max().unwrap_or(1).max(2);
    let best_max = arms.iter().flat_map(|a| a.at_k.iter()).map(|p| p.best_speedup).fold(1.1, f64::max);
    // Plot area 40..290 x 10..110 (viewBox 300x130).
    let px = |k: usize| 40.0 + 250.0 * (k as f64 - 1.0) / (n_max as f64 - 1.0);
    let py = |frac: f64| 110.0 - 100.0 * frac.clamp(0.0, 1.0);
    let pts = |f: &dyn Fn(&crate::record::at_k::AtK) -> f64, a: &ArmStats| {
        a.at_k.iter().map(|p| format!("{:.1},{:.1}", px(p.k), py(f(p)))).collect::<Vec<_>>().join(" ")
    };
    let list = arms
        .iter()
        .enumerate()
        .map(|(i, a)| Curve {
            arm: a.name.clone(),
            color: i % 6,
            valid_points: pts(&|p| p.valid, a),
            best_points: pts(&|p| (p.best_speedup - 1.0) / (best_max - 1.0), a),
        })
        .collect();
    ((list), (best_max * 100.0).round() / 100.0, n_max)
}

fn link_to(from: &Path, run_dir: &Path) -> String {
    match run_dir.strip_prefix(from) {
        Ok(rel) => format!("{}/report.html", rel.display()),
        Err(_) => match run_dir.file_name() {
            Some(n) if run_dir.parent() == Some(from) => format!("{}/report.html", n.to_string_lossy()),
            _ => format!("file://{}/report.html", run_dir.display()),
        },
    }
}

fn run_view<'a>(m: &ReportModel, r: &'a RunReport) -> RunView<'a> {
    let (curves, best_max, n_max) = curves(&r.arms);
    let arms = r
        .arms
        .iter()
        .map(|a| {
            let last = a.at_k.last().map(|p| p.k);
            let shown = a.at_k.iter().filter(|p| SHOWN_K.contains(&p.k) || Some(p.k) == last).map(|p| (p.k, p.valid, p.best_speedup)).collect();
            ArmView {
                a,
                shown,
                screening_cell: figures::cell(&a.figures, Stage::Screening),
                confirmed_cell: figures::cell(&a.figures, Stage::Confirmed),
            }
        })
        .collect();
    RunView {
        query_id: &r.query_id,
        run_id: &r.run_id,
        dir: r.dir.display().to_string(),
        link: link_to(&m.dir, &r.dir),
        original_sql: &r.original_sql,
        base_prompt: &r.base_prompt,
        interrupted: r.interrupted,
        confirmed: r.confirmations.iter().map(|c| {
            let arms = c["arms"].as_array().map(|a| a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(", "));
            match arms {
                Some(a) if !a.is_empty() => format!("{} (best of {a})", confirmed_line(c)),
                _ => confirmed_line(c),
            }
        }).collect(),
        full: super::full_view::run_section(r),
        arms,
        curves,
        best_max,
        n_max,
        gens: r.gens.iter().take(DETAIL_LIMIT).map(gen_view).collect(),
        data: details_blob(r),
        rows_not_shown: r.gens.len().saturating_sub(DETAIL_LIMIT),
    }
}

fn heat(best: Option<f64>) -> &'static str {
    match best {
        None => "hx",
        Some(b) if b < 1.0 => "h0",
        Some(b) if b < 1.1 => "h1",
        Some(b) if b < 1.5 => "h2",
        Some(b) if b < 2.0 => "h3",
        Some(b) if b < 3.0 => "h4",
        Some(_) => "h5",
    }
}

fn matrix(m: &ReportModel) -> Vec<MatrixRow> {
    m.query_ids()
        .into_iter()
        .map(|q| {
            let cells = m
                .arm_names
                .iter()
                .map(|arm| {
                    let (run, a) = m.cell(&q, arm)?;
                    let f = &a.figures;
                    Some(Cell {
                        screening: figures::cell(f, Stage::Screening),
                        confirmed: figures::cell(f, Stage::Confirmed),
                        median: f.median_screening,
                        valid_rate: a.valid_rate,
                        wins: f.wins,
                        heat: heat(f.best_screening.map(|b| b.speedup)).into(),
                        run: run.run_id.clone().unwrap_or_default(),
                        full: full_cell(run.gens.iter().filter(|g| g.arm == *arm)),
                    })
                })
                .collect();
            let link = m.cells.iter().find(|(cq, _, _)| *cq == q).and_then(|(_, _, i)| m.runs.get(*i)).map(|r| link_to(&m.dir, &r.dir));
            MatrixRow { query_id: q, link: link.unwrap_or_default(), cells }
        })
        .collect()
}

/// The matrix's full-size figure of one arm: `WRONG` when one of its candidates differs
/// at full size, else its best full speedup; `None` when nothing was confirmed.
fn full_cell<'a>(gens: impl Iterator<Item = &'a GenReport>) -> Option<String> {
    let fulls: Vec<&crate::record::summary_full::FullStat> = gens.filter_map(|g| g.full.as_ref()).collect();
    if fulls.is_empty() {
        return None;
    }
    if fulls.iter().any(|f| f.reason.as_deref() == Some("differs_at_full_scale")) {
        return Some("WRONG".into());
    }
    Some(fulls.iter().filter(|f| f.is_pass()).filter_map(|f| f.speedup).reduce(f64::max).map(|b| format!("{b:.2}x")).unwrap_or_else(|| "-".into()))
}

fn distinct<'a>(it: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut v: Vec<String> = it.map(str::to_string).collect();
    v.sort();
    v.dedup();
    v
}

fn view(m: &ReportModel) -> View<'_> {
    let gens = || m.runs.iter().flat_map(|r| r.gens.iter());
    let pooled = m
        .arm_names
        .iter()
        .map(|a| {
            let mut st = stats_of(a, m.cell_gens().filter(|g| &g.arm == a));
            st.at_k.clear(); // curves are per query: pooled over queries they mean nothing
            st
        })
        .collect();
    let (full_runs, full_pooled) = if m.kind == Kind::Sweep { super::full_view::sweep_sections(m) } else { (Vec::new(), None) };
    let title = match m.kind {
        Kind::Run => format!("qt report: {} q{}", m.header.name, m.runs.first().map(|r| r.query_id.as_str()).unwrap_or("?")),
        Kind::Sweep => format!("qt report: {} (sweep)", m.header.name),
    };
    View {
        kind: m.kind,
        title,
        header: &m.header,
        generated_at: chrono::Local::now().format("%Y-%m-%d %H:%M:%S %z").to_string(),
        arms: &m.arm_names,
        statuses: distinct(gens().map(|g| g.status.as_str())),
        reasons: distinct(gens().filter_map(|g| g.reason.as_deref())),
        transforms_list: distinct(gens().flat_map(|g| g.transforms.iter().map(String::as_str))),
        transforms: &m.transforms,
        pooled,
        matrix: if m.kind == Kind::Sweep { matrix(m) } else { Vec::new() },
        runs: if m.kind == Kind::Run { m.runs.iter().map(|r| run_view(m, r)).collect() } else { Vec::new() },
        generations: m.generation_count(),
        full_runs,
        full_pooled,
    }
}

fn env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_filter("sql", |s: String| Value::from_safe_string(sqlview::highlight(&s)));
    env.add_filter("sqldiff", |new: String, old: String| Value::from_safe_string(sqlview::diff_html(&old, &new)));
    env.add_filter("x", |v: Value| -> String {
        match f64::try_from(v) {
            Ok(f) => format!("{f:.2}x"),
            Err(_) => "-".into(),
        }
    });
    env.add_filter("usd", |v: Value| -> String {
        match f64::try_from(v) {
            Ok(f) => crate::record::cost::fmt_usd(f),
            Err(_) => "-".into(),
        }
    });
    env.add_filter("pct", |v: Value| -> String {
        match f64::try_from(v) {
            Ok(f) => format!("{:.0}%", f * 100.0),
            Err(_) => "-".into(),
        }
    });
    // JSON inside <script type="application/json">: no `<` can end the element early.
    env.add_filter("jsonblob", |s: String| Value::from_safe_string(s.replace('<', "\\u003c")));
    env.add_filter("f", |v: f64, digits: usize| format!("{v:.digits$}"));
    env.add_filter("short", |s: String, n: usize| s.chars().take(n).collect::<String>());
    env.add_template("report.html", TEMPLATE).expect("the embedded report template parses (tested)");
    env
}

impl Exporter for Html {
    fn render(&self, model: &ReportModel) -> Result<Vec<u8>, ExportError> {
        let env = env();
        let tmpl = env.get_template("report.html")?;
        let page = super::visible::escape(&tmpl.render(Value::from_serialize(view(model)))?);
        Ok(super::visible::pin_script(page).into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_is_centred_on_one_and_clamped() {
        assert_eq!(bar_x(1.0), 60.0);
        assert_eq!(bar_x(4.0), 119.0);
        assert_eq!(bar_x(1000.0), 119.0);
        assert!(bar_x(0.5) < 60.0);
    }

    #[test]
    fn prompt_cut_keeps_only_the_workers_part() {
        let base = "You are X.\nEXAMPLES:\n\nAnswer in JSON.";
        let p = "You are X.\nEXAMPLES:\nex1 ex2\nAnswer in JSON.";
        let (pre, mid, suf) = prompt_cut(p, base);
        assert_eq!(mid, "ex1 ex2");
        assert_eq!(pre + mid.chars().count() + suf, p.chars().count());
        assert_eq!(prompt_cut("abc", ""), (0, "abc".into(), 0));
        assert_eq!(prompt_cut("é", "é"), (1, String::new(), 0));
    }
}
