//! The console's text, as pure functions of the records (so tests and the figures
//! invariant read exactly what a user sees): a line per finished generation and the
//! RESULTS block. `paint` adds colour (or not); nothing here prints.

use serde_json::Value;
use std::path::Path;

use crate::record::layout::gen_name;
use crate::record::summary::{answers_line, figure_lines, fmt_speedup_note, fmt_x, largest_gen, tokens_line};
use crate::validate::timing::NOISE_FLOOR_S;

/// Longest part of a failure message shown on a `Gen` line (the rest is in validation.json).
const MESSAGE_CHARS: usize = 100;

/// `Gen 03: pass, 2.15x [1.90-2.40] win` / `Gen 04: validation_failed (value_mismatch):
/// 3 rows differ ...` / `Gen 06: pass, 1.10x [0.63-1.48] (same as gen_01)`.
pub fn gen_line(r: &Value, number: u32, total: usize, paint: &dyn Fn(&str, &str) -> String) -> String {
    let status = r["status"].as_str().unwrap_or("?");
    let painted = match status {
        "pass" => paint(status, "32"),
        "validation_failed" | "error" => paint(status, "31"),
        _ => paint(status, "33"),
    };
    let n = gen_name(number, total);
    let mut s = format!("Gen {}: {painted}", n.trim_start_matches("gen_"));
    if r["rebinding"]["applied"].as_bool() == Some(true) {
        s.push_str(&format!(" (re-bound: {})", r["rebinding"]["description"].as_str().unwrap_or("")));
    }
    if let Some(x) = r["speedup"].as_f64() {
        s.push_str(&format!(", {x:.2}x"));
        let ci = &r["timing"]["ci95"];
        let lo = ci[0].as_f64();
        if let (Some(lo), Some(hi)) = (lo, ci[1].as_f64()) {
            s.push_str(&format!(" [{lo:.2}-{hi:.2}]"));
        }
        let win = r["timing"]["win"].as_bool() == Some(true);
        if win {
            s.push_str(" win");
        } else if let (Some(lo), Some(b)) = (lo, r["timing"]["win_bound"].as_f64()) {
            // The interval alone looks like a win; say which bound decided.
            if lo > 1.0 {
                s.push_str(&format!(", not a win (99% one-sided bound {b:.2}x)"));
            }
        }
        s.push_str(&fmt_speedup_note(r["original_time"].as_f64().is_some_and(|t| t < NOISE_FLOOR_S), None));
    }
    if let Some(reason) = r["reason"].as_str() {
        s.push_str(&format!(" ({reason})"));
    }
    if r["retried"].as_bool() == Some(true) {
        s.push_str(" after retry");
    }
    if let Some(orig) = r["same_as"].as_str() {
        s.push_str(&format!(" (same as {orig})"));
    } else if status != "pass" {
        if let Some(m) = r["error"].as_str().map(first_line).filter(|m| !m.is_empty()) {
            s.push_str(&format!(": {m}"));
        }
    }
    s
}

/// The first line of a message, cut at [`MESSAGE_CHARS`] characters.
fn first_line(m: &str) -> String {
    let line = m.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    match line.char_indices().nth(MESSAGE_CHARS) {
        Some((i, _)) => format!("{}...", &line[..i]),
        None => line.to_string(),
    }
}

/// The RESULTS block of one query (its summary.json).
pub fn results_text(s: &Value, run_dir: &Path, paint: &dyn Fn(&str, &str) -> String) -> String {
    let mut t = String::new();
    t.push_str(&format!("\n{}\n", paint(&format!("RESULTS q{}", s["query_id"].as_str().unwrap_or("?")), "1")));
    if s["interrupted"].as_bool() == Some(true) {
        t.push_str("  interrupted: figures cover completed generations only (resume with --resume)\n");
    }
    t.push_str(&format!("  elapsed:    {:.1}s\n", s["elapsed_seconds"].as_f64().unwrap_or(0.0)));
    t.push_str(&format!("  completed:  {}/{}\n", s["completed"], s["total_workers"]));
    if let Some(line) = crate::record::skipped::skipped_line(s) {
        t.push_str(&format!("  {line}\n"));
    }
    t.push_str(&format!(
        "  valid:      {}   failed: {}   inconclusive: {}\n",
        s["valid_count"],
        s["failed_count"],
        s["inconclusive_count"].as_u64().unwrap_or(0)
    ));
    if let Some(n) = s["copies"].as_u64().filter(|n| *n > 0) {
        t.push_str(&format!("  copies:     {n} (the same SQL as an earlier generation: validated once, counted once)\n"));
    }
    for line in figure_lines(s) {
        t.push_str(&format!("  {line}\n"));
    }
    if let Some(b) = s["best_worker"].as_u64() {
        t.push_str(&format!("  best generation: {}\n", run_dir.join(gen_name(b as u32, largest_gen(s))).display()));
    }
    t.push_str(&format!("  avg valid:  {}\n", fmt_x(&s["avg_speedup"])));
    t.push_str(&super::confirm_view::results_lines(s));
    t.push_str(&format!("  {}\n  {}\n", answers_line(s), tokens_line(&s["tokens"])));
    t.push_str(&format!("  {}\n", crate::record::cost::cost_line(s)));
    t.push_str(&format!("  saved in:   {}", run_dir.display()));
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plain(s: &str, _: &str) -> String {
        s.to_string()
    }

    #[test]
    fn failures_say_why_and_copies_say_of_what() {
        let e = json!({"status": "error", "reason": "parse_error", "retried": true,
                       "error": "no JSON object found in the answer (expected {...})\nmore"});
        assert_eq!(gen_line(&e, 5, 20, &plain), "Gen 05: error (parse_error) after retry: no JSON object found in the answer (expected {...})");
        let c = json!({"status": "pass", "speedup": 1.1, "same_as": "gen_01", "timing": {"ci95": [0.63, 1.48], "win": false}, "original_time": 0.05});
        assert_eq!(gen_line(&c, 6, 20, &plain), "Gen 06: pass, 1.10x [0.63-1.48] (same as gen_01)");
        let long = json!({"status": "validation_failed", "reason": "value_mismatch", "error": "x".repeat(300)});
        assert!(gen_line(&long, 1, 9, &plain).ends_with(&format!("{}...", "x".repeat(100))));
    }

    #[test]
    fn an_interval_above_one_that_is_no_win_names_the_bound() {
        let r = json!({"status": "pass", "speedup": 1.3, "original_time": 0.05,
                       "timing": {"ci95": [1.15, 1.49], "win": false, "win_bound": 0.98}});
        assert_eq!(gen_line(&r, 3, 9, &plain), "Gen 03: pass, 1.30x [1.15-1.49], not a win (99% one-sided bound 0.98x)");
        let w = json!({"status": "pass", "speedup": 2.0, "original_time": 0.05, "timing": {"ci95": [1.8, 2.2], "win": true, "win_bound": 1.7}});
        assert_eq!(gen_line(&w, 3, 9, &plain), "Gen 03: pass, 2.00x [1.80-2.20] win");
    }
}
