//! The report as Markdown, ready to paste into an issue or a pull request: header, one
//! table per query and arm (valid rate, median / best speedup, wins, valid@k and
//! best-speedup@k at a few k), the per-transform table and each query's top generations.

use super::{ExportError, Exporter};
use crate::record::figures::{self, Stage};
use crate::record::report_model::{ArmStats, Kind, ReportModel};

pub struct Markdown;

/// The k shown in text tables (those that exist for the arm).
pub const SHOWN_K: &[usize] = &[1, 2, 5, 10, 20, 50, 100];

pub fn x(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2}x")).unwrap_or_else(|| "-".into())
}

pub fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:.0}%", v * 100.0)).unwrap_or_else(|| "-".into())
}

/// `k=1: 40% / 1.30x, k=5: 90% / 2.10x, ...` at the shown k plus the last one.
pub fn at_k_text(a: &ArmStats) -> String {
    let last = a.at_k.last().map(|p| p.k);
    a.at_k
        .iter()
        .filter(|p| SHOWN_K.contains(&p.k) || Some(p.k) == last)
        .map(|p| format!("k={}: {} / {:.2}x", p.k, pct(Some(p.valid)), p.best_speedup))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Exporter for Markdown {
    fn render(&self, m: &ReportModel) -> Result<Vec<u8>, ExportError> {
        let h = &m.header;
        let mut o = format!("# qt report: {}\n\n", if h.name.is_empty() { "(unnamed)" } else { &h.name });
        o.push_str(&format!("- spec: `{}` (sha256 `{}`)\n", h.spec_path, h.spec_sha256.get(..12).unwrap_or(&h.spec_sha256)));
        if !h.overrides.is_empty() {
            o.push_str(&format!("- overrides: `{}`\n", h.overrides.join("` `")));
        }
        if let Some(c) = &h.git_commit {
            let dirty = if h.git_dirty == Some(true) { " (dirty)" } else { "" };
            o.push_str(&format!("- git: `{}`{dirty}\n", c.get(..12).unwrap_or(c)));
        }
        o.push_str(&format!("- qt {}, DuckDB {}\n", h.qt_version, h.duckdb_version));
        for (p, id) in &h.databases {
            o.push_str(&format!("- database: `{p}` ({id})\n"));
        }
        o.push_str(&format!("- models: {}; runs: {}\n", h.models.join(", "), h.run_ids.join(", ")));
        o.push_str(&format!(
            "- started {}; wall {:.1}s; tokens {} prompt + {} completion\n\n",
            h.started_at, h.wall_s, h.tokens_prompt, h.tokens_completion
        ));
        let sweep = m.kind == Kind::Sweep;
        o.push_str(&format!(
            "| query | arm | valid | distinct | median | screening | confirmed | wins | valid@k / best-speedup@k |{}\n|---|---|---|---|---|---|---|---|---|{}\n",
            if sweep { " run |" } else { "" },
            if sweep { "---|" } else { "" }
        ));
        for (q, arm, _) in &m.cells {
            let Some((r, a)) = m.cell(q, arm) else { continue };
            let run = if sweep { format!(" {} |", r.run_id.as_deref().unwrap_or("-")) } else { String::new() };
            o.push_str(&format!(
                "| {} | {} | {}/{} ({}) | {} | {} | {} | {} | {} | {} |{run}\n",
                r.query_id,
                a.name,
                a.valid,
                a.completed,
                pct(a.valid_rate),
                a.figures.distinct_valid,
                x(a.figures.median_screening),
                figures::cell(&a.figures, Stage::Screening),
                figures::cell(&a.figures, Stage::Confirmed),
                a.figures.wins,
                at_k_text(a)
            ));
        }
        o.push_str(&format!(
            "\nscreening: the best first measurement; confirmed: its fresh re-timing (`!` no win: did not hold); `~` original below the noise floor; wins: {}; copies of one SQL count once.\n",
            "distinct candidates whose lower bounds are above 1.00x"
        ));
        if !m.transforms.is_empty() {
            o.push_str("\n| transform | count | valid rate | median speedup |\n|---|---|---|---|\n");
            for t in &m.transforms {
                o.push_str(&format!("| {} | {} | {} | {} |\n", t.name, t.count, pct(Some(t.valid_rate)), x(t.median_speedup)));
            }
        }
        for r in &m.runs {
            o.push_str(&format!("\n## q{} top generations (copies listed once)\n\n| gen | arm | status | speedup | 95% CI | note |\n|---|---|---|---|---|---|\n", r.query_id));
            for g in r.gens.iter().filter(|g| g.same_as.is_none()).take(10) {
                let ci = g.ci95.map(|[lo, hi]| format!("{lo:.2}-{hi:.2}")).unwrap_or_else(|| "-".into());
                let mut note = g.reason.clone().unwrap_or_default();
                if g.below_floor {
                    note.push_str(" below noise floor");
                }
                if g.win {
                    note.push_str(" win");
                }
                if let Some((c, held)) = g.confirmed {
                    let word = if held == Some(false) { "confirmed (did not hold)" } else { "confirmed" };
                    note.push_str(&format!(" {word}: {c:.2}x"));
                }
                match r.gens.iter().filter(|c| c.same_as.as_deref() == Some(g.folder.as_str())).count() {
                    0 => {}
                    1 => note.push_str(" +1 copy"),
                    n => note.push_str(&format!(" +{n} copies")),
                }
                o.push_str(&format!("| {} | {} | {} | {} | {ci} | {} |\n", g.folder, g.arm, g.status, x(g.speedup), note.trim()));
            }
        }
        Ok(super::visible::escape(&o).into_bytes())
    }
}
