//! Console reporter: header, indicatif progress (generations, validations), a line per
//! finished generation (`Gen 03: pass, 2.15x`), and the RESULTS block.
//!
//! Human output goes to stderr (bars) and stdout (lines and RESULTS); with `--json` stdout
//! is reserved for the machine summary and everything human goes to stderr. Bars are
//! hidden when stderr is not a terminal, so CI logs stay readable; NO_COLOR is honoured.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;
use std::io::IsTerminal;

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
            // One line says why when it starts (run/); each skip only moves the bar.
            Event::Skipped { .. } => {
                if let Some(g) = &self.gens {
                    g.inc(1);
                }
            }
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

    /// `Gen 03: pass, 2.15x` / `Gen 04: validation_failed (value_mismatch): ...`.
    pub fn gen_line(&self, o: &GenOutcome) -> String {
        super::console_text::gen_line(&o.record, o.number, self.total, &|t, c| self.paint(t, c))
    }

    /// The RESULTS block (printed even with --quiet, unless --json owns stdout).
    pub fn results(&self, s: &Value, run_dir: &std::path::Path) {
        let t = super::console_text::results_text(s, run_dir, &|t, c| self.paint(t, c));
        if !self.json {
            self.emit(&t);
        } else if !self.quiet {
            crate::errln!("{t}");
        }
    }
}
