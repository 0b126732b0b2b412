//! The full-size figures of summary.json and summary.txt: per arm the best *full* speedup
//! and its generation (CROSS.md names: `best_full_speedup`, `best_full_gen`), and per run
//! the `full` block (the confirm DB, how many candidates held, differed or failed there,
//! and how well the sample predicted: [`super::predict`]). Read from each generation's
//! `confirm` object, so a resumed or re-confirmed run rebuilds them from disk.
//!
//! Screening and full figures are never mixed: nothing here reads or writes `speedup`.

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

use super::predict::{Confirmed, Prediction, predict};
use super::summary::GenStat;

/// A generation's `confirm` object, as far as the summary and the report need it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FullStat {
    /// The confirm DB's label (`tpcds sf10`, a file name).
    pub db: String,
    pub path: Option<String>,
    pub fingerprint: String,
    pub status: String,
    pub reason: Option<String>,
    pub speedup: Option<f64>,
    pub ci95: Option<[f64; 2]>,
    pub win: bool,
    pub confirmed_at: String,
    /// The equivalence reason behind `differs_at_full_scale` (`value_mismatch`...).
    pub detail: Option<String>,
    pub error: Option<String>,
    /// Another generation of the same SQL whose confirmation this one shares.
    pub same_as: Option<String>,
}

impl FullStat {
    pub fn from_record(v: &Value) -> Option<FullStat> {
        let c = v.get(super::confirm::CONFIRM_KEY).filter(|c| c.is_object())?;
        let text = |k: &str| c[k].as_str().map(str::to_string);
        let ci = &c["ci95"];
        Some(FullStat {
            db: text("db").unwrap_or_default(),
            path: text("path"),
            fingerprint: text("fingerprint").unwrap_or_default(),
            status: text("status").unwrap_or_default(),
            reason: text("reason"),
            speedup: c["speedup"].as_f64(),
            ci95: ci[0].as_f64().zip(ci[1].as_f64()).map(|(a, b)| [a, b]),
            win: c["win"].as_bool() == Some(true),
            confirmed_at: text("confirmed_at").unwrap_or_default(),
            detail: text("detail"),
            error: text("error"),
            same_as: text("same_as"),
        })
    }

    pub fn is_pass(&self) -> bool {
        self.status == "pass"
    }
}

/// The confirmations the summary speaks of: those on the most recently used confirm DB
/// (a run confirmed on SF10, later on a production copy, reports the latter; the log
/// keeps both).
fn current(records: &BTreeMap<u32, GenStat>) -> Vec<(u32, &GenStat, &FullStat)> {
    let Some(fp) = latest_fingerprint(records.values().filter_map(|g| g.full.as_ref())) else { return Vec::new() };
    records.iter().filter_map(|(n, g)| g.full.as_ref().filter(|f| f.fingerprint == fp).map(|f| (*n, g, f))).collect()
}

/// The fingerprint of the confirm DB used last (latest `confirmed_at`).
pub fn latest_fingerprint<'a>(fulls: impl Iterator<Item = &'a FullStat>) -> Option<String> {
    fulls.max_by(|a, b| a.confirmed_at.cmp(&b.confirmed_at)).map(|f| f.fingerprint.clone())
}

/// The candidates confirmed on the confirm DB used last, as the prediction reads them,
/// and that DB's label. `gens`: (number, arm, screening speedup, screening win, confirm).
pub fn latest_confirmed<'a>(gens: &[(u32, &'a str, Option<f64>, bool, &'a FullStat)]) -> (Option<String>, Vec<Confirmed>) {
    let Some(fp) = latest_fingerprint(gens.iter().map(|g| g.4)) else { return (None, Vec::new()) };
    let mine: Vec<&(u32, &str, Option<f64>, bool, &FullStat)> = gens.iter().filter(|g| g.4.fingerprint == fp).collect();
    let label = mine.first().map(|g| g.4.db.clone());
    let items = mine
        .iter()
        .map(|(n, arm, sample, win, f)| Confirmed {
            number: *n,
            arm: arm.to_string(),
            sample: sample.unwrap_or(f64::NAN),
            sample_win: *win,
            full_status: f.status.clone(),
            full_reason: f.reason.clone(),
            full: f.speedup,
            full_ci95: f.ci95,
            full_win: f.win,
        })
        .collect();
    (label, items)
}

fn confirmed_items<'a>(items: impl Iterator<Item = (u32, &'a GenStat, &'a FullStat)>) -> Vec<Confirmed> {
    items
        .map(|(n, g, f)| Confirmed {
            number: n,
            arm: g.arm.clone(),
            sample: g.speedup.unwrap_or(f64::NAN),
            sample_win: g.win,
            full_status: f.status.clone(),
            full_reason: f.reason.clone(),
            full: f.speedup,
            full_ci95: f.ci95,
            full_win: f.win,
        })
        .collect()
}

/// The prediction figures of the current confirmations (all arms).
pub fn prediction(records: &BTreeMap<u32, GenStat>) -> Prediction {
    predict(&confirmed_items(current(records).into_iter()))
}

/// Per-arm fields: `best_full_speedup`, `best_full_gen` (the best pass at full size),
/// `full_confirmed`, `full_differs`.
pub fn arm_fields(records: &BTreeMap<u32, GenStat>, arm: &str) -> Map<String, Value> {
    let mine: Vec<(u32, &GenStat, &FullStat)> = current(records).into_iter().filter(|(_, g, _)| g.arm == arm).collect();
    let best = mine.iter().filter(|(_, _, f)| f.is_pass()).filter_map(|(n, _, f)| f.speedup.map(|s| (*n, s))).max_by(|a, b| a.1.total_cmp(&b.1));
    let mut m = Map::new();
    m.insert("best_full_speedup".into(), json!(best.map(|b| round4(b.1))));
    m.insert("best_full_gen".into(), json!(best.map(|b| b.0)));
    m.insert("full_confirmed".into(), json!(mine.len()));
    m.insert("full_differs".into(), json!(mine.iter().filter(|(_, _, f)| f.reason.as_deref() == Some("differs_at_full_scale")).count()));
    m
}

fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// The run's `full` block (null when nothing was confirmed).
pub fn full_block(records: &BTreeMap<u32, GenStat>) -> Value {
    let cur = current(records);
    let Some((_, _, first)) = cur.first() else { return Value::Null };
    let p = predict(&confirmed_items(cur.iter().copied()));
    let best = cur.iter().filter(|(_, _, f)| f.is_pass()).filter_map(|(n, _, f)| f.speedup.map(|s| (*n, s))).max_by(|a, b| a.1.total_cmp(&b.1));
    let mut v = json!({
        "db": first.db,
        "path": first.path,
        "fingerprint": first.fingerprint,
        "best_full_speedup": best.map(|b| round4(b.1)),
        "best_full_gen": best.map(|b| b.0),
        "wrong_at_full_size": cur.iter().filter(|(_, _, f)| f.reason.as_deref() == Some("differs_at_full_scale")).map(|(n, _, _)| *n).collect::<Vec<_>>(),
    });
    if let (Some(o), Ok(Value::Object(pm))) = (v.as_object_mut(), serde_json::to_value(&p)) {
        o.extend(pm);
        o.insert("spearman".into(), json!(p.spearman.map(round4)));
    }
    v
}

/// summary.txt lines for the full-size stage (empty when nothing was confirmed).
pub fn text_lines(s: &Value) -> String {
    let f = &s["full"];
    if !f.is_object() {
        return String::new();
    }
    let n = |k: &str| f[k].as_u64().unwrap_or(0);
    let mut out = format!(
        "Full size ({}): {} confirmed, {} pass, {} differ (wrong at full size), {} other\n",
        f["db"].as_str().unwrap_or("?"),
        n("candidates"),
        n("pass"),
        n("differs"),
        n("other")
    );
    if let Some(wrong) = f["wrong_at_full_size"].as_array().filter(|w| !w.is_empty()) {
        let list: Vec<String> = wrong.iter().filter_map(Value::as_u64).map(|g| format!("gen {g}")).collect();
        out.push_str(&format!("WRONG AT FULL SIZE: {} (equal on every sample instance, different on {})\n", list.join(", "), f["db"].as_str().unwrap_or("?")));
    }
    if let Some(b) = f["best_full_speedup"].as_f64() {
        out.push_str(&format!("Best at full size: gen {} at {b:.2}x (full)\n", f["best_full_gen"]));
    }
    out.push_str(&format!("Sample vs full: {}\n", prediction_line(f)));
    out
}

/// `Spearman 0.83 over 12 candidates; sample wins held 5/6; non-wins that became wins 1/6`.
pub fn prediction_line(f: &Value) -> String {
    let n = |k: &str| f[k].as_u64().unwrap_or(0);
    let rho = match f["spearman"].as_f64() {
        Some(r) => format!("Spearman {r:.2} over {} candidates", n("pairs")),
        None => format!("Spearman n/a ({} candidates with both speedups, needs {})", n("pairs"), super::predict::MIN_PAIRS),
    };
    format!(
        "{rho}; sample wins held {}/{}; sample non-wins that became wins {}/{}",
        n("sample_wins_held"),
        n("sample_wins"),
        n("sample_non_wins_became_wins"),
        n("sample_non_wins")
    )
}
