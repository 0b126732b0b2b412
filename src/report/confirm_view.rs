//! How the full-size confirmation reads on the console: one line per confirmed candidate,
//! its sample (screening) figure and its full figure side by side, never one for the
//! other (`Gen 11: pass 2.45x (sample) -> 1.80x [1.71, 1.90] (tpcds sf10)`), a loud line
//! for a candidate that is wrong at full size, and the `full size:` part of the RESULTS
//! block (read from summary.json's `full` block). Renders only.

use serde_json::Value;

use crate::record::layout::gen_name;
use crate::record::summary_full::prediction_line;

/// `[1.71, 1.90]`, or nothing without an interval.
fn interval(ci: &Value) -> String {
    match (ci[0].as_f64(), ci[1].as_f64()) {
        (Some(lo), Some(hi)) => format!(" [{lo:.2}, {hi:.2}]"),
        _ => String::new(),
    }
}

/// Is this confirmation a difference in results at full size?
pub fn is_wrong_at_full_size(confirm: &Value) -> bool {
    confirm["reason"].as_str() == Some("differs_at_full_scale")
}

/// The part after `Gen NN: ` for one confirmed candidate.
pub fn confirm_line(number: u32, largest_gen: usize, screening: f64, c: &Value) -> String {
    let n = gen_name(number, largest_gen);
    let db = c["db"].as_str().unwrap_or("full size");
    let full = match (c["status"].as_str(), c["speedup"].as_f64()) {
        (Some("pass"), Some(x)) => format!("{x:.2}x{}", interval(&c["ci95"])),
        (Some("pass"), None) => "pass (timing skipped)".to_string(),
        (status, _) => {
            let reason = match (c["reason"].as_str(), c["detail"].as_str()) {
                (Some(r), Some(d)) => format!(" ({r}: {d})"),
                (Some(r), None) => format!(" ({r})"),
                _ => String::new(),
            };
            format!("{}{reason}", status.unwrap_or("?"))
        }
    };
    let copy = c["same_as"].as_str().map(|s| format!(" (same SQL as {s})")).unwrap_or_default();
    let mut line = format!("Gen {}: pass {screening:.2}x (sample) -> {full} ({db}){copy}", n.trim_start_matches("gen_"));
    if is_wrong_at_full_size(c) {
        line.push_str(&format!(
            "\n  WRONG AT FULL SIZE: {} gives the original's answer on every sample instance but not on {db}; do not ship it",
            n
        ));
        if let Some(m) = c["diff"]["message"].as_str() {
            line.push_str(&format!("\n  {m}"));
        }
    }
    line
}

/// The `full size:` lines of the RESULTS block (empty when nothing was confirmed).
pub fn results_lines(s: &Value) -> String {
    let f = &s["full"];
    if !f.is_object() {
        return String::new();
    }
    let total = crate::record::summary::largest_gen(s);
    let n = |k: &str| f[k].as_u64().unwrap_or(0);
    let db = f["db"].as_str().unwrap_or("?");
    let mut t = format!("  full size:  {db}: {} confirmed, {} pass, {} differ, {} other\n", n("candidates"), n("pass"), n("differs"), n("other"));
    if let Some(wrong) = f["wrong_at_full_size"].as_array().filter(|w| !w.is_empty()) {
        let names: Vec<String> = wrong.iter().filter_map(Value::as_u64).map(|g| gen_name(g as u32, total)).collect();
        t.push_str(&format!("              WRONG AT FULL SIZE: {} (equal on the samples, different on {db})\n", names.join(", ")));
    }
    if let (Some(b), Some(g)) = (f["best_full_speedup"].as_f64(), f["best_full_gen"].as_u64()) {
        let screening = s["speedups"][g.to_string()].as_f64().map(|x| format!(", sample {x:.2}x")).unwrap_or_default();
        t.push_str(&format!("              best full:  {} {b:.2}x (full{screening})\n", gen_name(g as u32, total)));
    }
    t.push_str(&format!("              sample vs full: {}\n", prediction_line(f)));
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sample_and_full_side_by_side_and_wrong_ones_loud() {
        let ok = json!({"db": "tpcds sf10", "status": "pass", "speedup": 1.8, "ci95": [1.71, 1.9]});
        assert_eq!(confirm_line(11, 20, 2.45, &ok), "Gen 11: pass 2.45x (sample) -> 1.80x [1.71, 1.90] (tpcds sf10)");
        let bad = json!({"db": "tpcds sf10", "status": "validation_failed", "reason": "differs_at_full_scale", "detail": "value_mismatch",
                         "diff": {"message": "row 3: qty 10 vs 9"}});
        let line = confirm_line(3, 20, 1.5, &bad);
        assert!(line.starts_with("Gen 03: pass 1.50x (sample) -> validation_failed (differs_at_full_scale: value_mismatch) (tpcds sf10)"), "{line}");
        assert!(line.contains("WRONG AT FULL SIZE") && line.contains("row 3"), "{line}");
        let timeout = json!({"db": "x", "status": "error", "reason": "timeout"});
        assert_eq!(confirm_line(1, 5, 1.1, &timeout), "Gen 01: pass 1.10x (sample) -> error (timeout) (x)");
    }
}
