//! The report as Markdown, ready to paste into an issue or a pull request: header, one
//! table per query and arm (valid rate, median / best speedup, wins, valid@k and
//! best-speedup@k at a few k), the per-transform table and each query's top generations.

use super::{ExportError, Exporter};
use crate::record::report_model::{ArmStats, ReportModel};

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
        o.push_str("| query | arm | valid | median | best | wins | valid@k / best-speedup@k |\n|---|---|---|---|---|---|---|\n");
        for r in &m.runs {
            for a in &r.arms {
                o.push_str(&format!(
                    "| {} | {} | {}/{} ({}) | {} | {} | {} | {} |\n",
                    r.query_id,
                    a.name,
                    a.valid,
                    a.completed,
                    pct(a.valid_rate),
                    x(a.median_speedup),
                    x(a.best_speedup),
                    a.wins,
                    at_k_text(a)
                ));
            }
        }
        if !m.transforms.is_empty() {
            o.push_str("\n| transform | count | valid rate | median speedup |\n|---|---|---|---|\n");
            for t in &m.transforms {
                o.push_str(&format!("| {} | {} | {} | {} |\n", t.name, t.count, pct(Some(t.valid_rate)), x(t.median_speedup)));
            }
        }
        for r in &m.runs {
            o.push_str(&format!("\n## q{} top generations\n\n| gen | arm | status | speedup | 95% CI | note |\n|---|---|---|---|---|---|\n", r.query_id));
            for g in r.gens.iter().take(10) {
                let ci = g.ci95.map(|[lo, hi]| format!("{lo:.2}-{hi:.2}")).unwrap_or_else(|| "-".into());
                let mut note = g.reason.clone().unwrap_or_default();
                if g.below_floor {
                    note.push_str(" below noise floor");
                }
                if let Some((c, held)) = g.confirmed {
                    let word = if held == Some(false) { "not confirmed" } else { "confirmed" };
                    note.push_str(&format!(" {word}: {c:.2}x"));
                }
                o.push_str(&format!("| {} | {} | {} | {} | {ci} | {} |\n", g.folder, g.arm, g.status, x(g.speedup), note.trim()));
            }
        }
        Ok(o.into_bytes())
    }
}
