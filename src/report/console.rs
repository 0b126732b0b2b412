//! Console reporter: header, indicatif progress (generations, validations), a line per
//! finished generation (`Gen 03: pass, 2.15x`), and the RESULTS block.
//!
//! Human output goes to stderr (bars) and stdout (lines and RESULTS); with `--json` stdout
//! is reserved for the machine summary and everything human goes to stderr. Bars are
//! hidden when stderr is not a terminal, so CI logs stay readable; NO_COLOR is honoured.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;
use std::io::IsTerminal;

use crate::record::layout::gen_name;
use crate::record::summary::{
    answers_line, confirmed_line, fmt_speedup_note, fmt_x, is_below_floor, largest_gen, tokens_line, top_speedups,
};
use crate::report::events::{Event, GenOutcome};

pub struct Console {
    quiet: bool,
    json: bool,
    color: bool,
    mp: MultiProgress,
    gens: Option<ProgressBar>,
    vals: Option<ProgressBar>,
    /// Generations of the current query (sets the `Gen NN` width, as the folders').
    total: usize,
}

impl Console {
    pub fn new(quiet: bool, json: bool) -> Console {
        let tty = std::io::stderr().is_terminal();
        let target = if tty && !quiet { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        Console {
            quiet,
            json,
            color: tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
            mp: MultiProgress::with_draw_target(target),
            gens: None,
            vals: None,
            total: 0,
        }
    }

    /// Print a human line (above the bars when they are drawn).
    pub fn line(&self, text: &str) {
        if self.quiet {
            return;
        }
        self.emit(text);
    }

    /// Print a line even in quiet mode (errors, the RESULTS block).
    pub fn emit(&self, text: &str) {
        if !self.mp.is_hidden() {
            let _ = self.mp.println(text);
        } else if self.json {
            crate::errln!("{text}");
        } else {
            crate::stdio::write_line(text);
        }
    }

    fn paint(&self, text: &str, code: &str) -> String {
        if self.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }

    fn bar(&self, len: u64, label: &str) -> ProgressBar {
        let style = ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let b = self.mp.add(ProgressBar::new(len).with_style(style));
        b.set_prefix(label.to_string());
        b
    }

    pub fn header(&self, name: &str, description: &str, generations: usize, output: &std::path::Path) {
        self.line(&format!("qt {} - experiment {name}", env!("CARGO_PKG_VERSION")));
        if !description.is_empty() {
            self.line(&format!("  {description}"));
        }
        self.line(&format!("  {generations} generations; output under {}", output.display()));
    }

    pub fn on_event(&mut self, ev: &Event) {
        match ev {
            Event::QueryStarted { query_id, run_dir, total, largest_gen, already_done } => {
                self.line(&format!("Query {query_id}: {}", run_dir.display()));
                if *already_done > 0 {
                    self.line(&format!("  resuming: {already_done}/{total} generations already recorded"));
                }
                self.total = *largest_gen;
                let g = self.bar(*total as u64, "generations");
                g.set_position(*already_done as u64);
                self.gens = Some(g);
                self.vals = Some(self.bar(0, "validations"));
            }
            Event::Note(n) => self.line(&format!("  {n}")),
            Event::LlmStarted { .. } | Event::LlmFinished { .. } | Event::Abandoned { .. } => {}
            Event::ValidationStarted { .. } => {
                if let Some(v) = &self.vals {
                    v.inc_length(1);
                }
            }
            Event::ValidationFinished { .. } => {
                if let Some(v) = &self.vals {
                    v.inc(1);
                }
            }
            Event::GenFinished(o) => {
                if let Some(g) = &self.gens {
                    g.inc(1);
                }
                let line = self.gen_line(o);
                self.line(&line);
            }
            Event::QueryFinished { summary, run_dir } => {
                for b in [self.gens.take(), self.vals.take()].into_iter().flatten() {
                    b.finish_and_clear();
                }
                self.results(summary, run_dir);
            }
            Event::ConfirmStarted { query_id, db, candidates, done } => {
                let already = if *done > 0 { format!(" ({done} already confirmed there)") } else { String::new() };
                self.line(&format!("Confirming q{query_id} on {db}: {candidates} candidates{already}"));
            }
            Event::ConfirmProgress(text) => self.line(&format!("  {text}")),
            Event::ConfirmFinished { number, largest_gen, screening, confirm } => {
                let line = super::confirm_view::confirm_line(*number, *largest_gen, *screening, confirm);
                // A wrong answer at full size is printed even with --quiet.
                if super::confirm_view::is_wrong_at_full_size(confirm) {
                    self.emit(&self.paint(&line, "31"));
                } else {
                    self.line(&line);
                }
            }
        }
    }

    /// `Gen 03: pass, 2.15x` / `Gen 04: validation_failed (value_mismatch)`.
    pub fn gen_line(&self, o: &GenOutcome) -> String {
        let r = &o.record;
        let status = r["status"].as_str().unwrap_or("?");
        let painted = match status {
            "pass" => self.paint(status, "32"),
            "validation_failed" | "error" => self.paint(status, "31"),
            _ => self.paint(status, "33"),
        };
        let n = gen_name(o.number, self.total);
        let mut s = format!("Gen {}: {painted}", n.trim_start_matches("gen_"));
        if let Some(x) = r["speedup"].as_f64() {
            s.push_str(&format!(", {x:.2}x"));
            let ci = &r["timing"]["ci95"];
            if let (Some(lo), Some(hi)) = (ci[0].as_f64(), ci[1].as_f64()) {
                s.push_str(&format!(" [{lo:.2}-{hi:.2}]"));
            }
            let floor = crate::validate::timing::NOISE_FLOOR_S;
            s.push_str(&fmt_speedup_note(r["original_time"].as_f64().is_some_and(|t| t < floor), None));
        }
        if let Some(reason) = r["reason"].as_str() {
            s.push_str(&format!(" ({reason})"));
        }
        if r["retried"].as_bool() == Some(true) {
            s.push_str(" after retry");
        }
        s
    }

    /// The RESULTS block (printed even with --quiet, unless --json owns stdout).
    pub fn results(&self, s: &Value, run_dir: &std::path::Path) {
        let mut t = String::new();
        t.push_str(&format!("\n{}\n", self.paint(&format!("RESULTS q{}", s["query_id"].as_str().unwrap_or("?")), "1")));
        if s["interrupted"].as_bool() == Some(true) {
            t.push_str("  interrupted: figures cover completed generations only (resume with --resume)\n");
        }
        t.push_str(&format!("  elapsed:    {:.1}s\n", s["elapsed_seconds"].as_f64().unwrap_or(0.0)));
        t.push_str(&format!("  completed:  {}/{}\n", s["completed"], s["total_workers"]));
        t.push_str(&format!(
            "  valid:      {}   failed: {}   inconclusive: {}\n",
            s["valid_count"],
            s["failed_count"],
            s["inconclusive_count"].as_u64().unwrap_or(0)
        ));
        for line in top_speedups(s).lines() {
            t.push_str(&format!("  {line}\n"));
        }
        if let Some(b) = s["best_worker"].as_u64() {
            let name = gen_name(b as u32, largest_gen(s));
            let note = fmt_speedup_note(is_below_floor(s, b), None);
            t.push_str(&format!("  best:       {name} ({}){note}\n", fmt_x(&s["best_speedup"])));
            t.push_str(&format!("              {}\n", run_dir.join(&name).display()));
        }
        if s["confirmed"].get("confirmed_speedup").is_some() {
            t.push_str(&format!("  confirmed:  {} (fresh re-timing of the best)\n", confirmed_line(&s["confirmed"])));
        }
        t.push_str(&format!("  avg valid:  {}\n", fmt_x(&s["avg_speedup"])));
        t.push_str(&super::confirm_view::results_lines(s));
        t.push_str(&format!("  {}\n  {}\n", answers_line(s), tokens_line(&s["tokens"])));
        t.push_str(&format!("  saved in:   {}", run_dir.display()));
        if !self.json {
            self.emit(&t);
        } else if !self.quiet {
            crate::errln!("{t}");
        }
    }
}
