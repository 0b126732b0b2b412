//! The `plan_summary.txt` text: a plain rendering of a [`PlanSummary`], short enough to
//! read at a glance and to paste into a prompt. No analysis happens here.

use std::fmt::Write;

use super::plan_summary::{MISESTIMATE_FACTOR, PlanSummary};

impl PlanSummary {
    /// The `plan_summary.txt` text.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Total time: {:.3} s", self.total_time_s);
        let _ = writeln!(s, "\nTop operators by share of time:");
        for o in &self.operators {
            let table = o
                .table
                .as_deref()
                .map(|t| format!(" {t}"))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "  {:5.1}%  {}{}  {:.4} s, {} rows",
                o.share * 100.0,
                o.name,
                table,
                o.time_s,
                o.rows
            );
        }
        if !self.table_time_share.is_empty() {
            let _ = writeln!(s, "\nTime share by table (scans + filters directly above):");
            let mut by_share: Vec<_> = self.table_time_share.iter().collect();
            by_share.sort_by(|a, b| b.1.total_cmp(a.1));
            for (table, share) in by_share {
                let _ = writeln!(s, "  {:5.1}%  {table}", share * 100.0);
            }
        }
        let _ = writeln!(s, "\nScans (rows scanned -> rows kept):");
        for sc in &self.scans {
            let pct = if sc.rows_scanned > 0 {
                format!(
                    " ({:.1}%)",
                    sc.rows_kept as f64 * 100.0 / sc.rows_scanned as f64
                )
            } else {
                String::new()
            };
            let _ = writeln!(
                s,
                "  {}: {} -> {}{pct}, {:.4} s",
                sc.table, sc.rows_scanned, sc.rows_kept, sc.time_s
            );
        }
        let _ = writeln!(
            s,
            "\nMisestimates (estimated vs actual rows, >= {MISESTIMATE_FACTOR}x):"
        );
        if self.misestimates.is_empty() {
            let _ = writeln!(s, "  none");
        }
        for m in &self.misestimates {
            let table = m
                .table
                .as_deref()
                .map(|t| format!(" {t}"))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "  {}{}: estimated {}, actual {} ({:.0}x)",
                m.operator, table, m.estimated, m.actual, m.factor
            );
        }
        let _ = writeln!(s, "\nJoins (left rows x right rows -> output rows):");
        for j in &self.joins {
            let kind = j
                .join_type
                .as_deref()
                .map(|t| format!(" {t}"))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "  {}{}: {} x {} -> {}, {:.4} s",
                j.name, kind, j.left_rows, j.right_rows, j.out_rows, j.time_s
            );
        }
        s
    }
}
