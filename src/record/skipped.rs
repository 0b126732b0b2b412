//! Generations a run chose not to start: status `skipped`, reason `budget` (the run's
//! `budget_usd` was spent) or `stop_when` (its query and arm already met
//! `stop_when`). They have no `gen_NN/` folder (a folder is a generation that ran), so
//! `--resume` runs them like any missing generation; summary.json lists them, apart from
//! failures:
//!
//! ```json
//! "skipped_count": 12,
//! "skipped": {"budget": 0, "stop_when": 12, "gens": {"stop_when": [9, 10, ...]},
//!             "est_saved_usd": 0.0123},
//! "by_status": {..., "skipped": 12}, "by_reason": {..., "stop_when": 12},
//! "arms": [{..., "skipped_count": 12, "skipped": {"stop_when": 12}}]
//! ```
//!
//! `completed` keeps counting generations that ran, so `completed/total_workers` stays
//! honest. `est_saved_usd` is an estimate and says so: skipped generations times the mean
//! cost of a generation of their arm that ran.

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

pub const BUDGET: &str = "budget";
pub const STOP_WHEN: &str = "stop_when";

/// One skipped generation: its arm's name and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub arm: String,
    pub reason: String,
}

fn count(skipped: &BTreeMap<u32, Skip>, keep: impl Fn(&Skip) -> bool) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for s in skipped.values().filter(|s| keep(s)) {
        *m.entry(s.reason.clone()).or_default() += 1;
    }
    m
}

/// Mean dollars (spent + from the cache) of a generation that ran, from a summary's or an
/// arm's figures.
fn mean_cost(v: &Value) -> Option<f64> {
    let n = v["completed"].as_u64().filter(|n| *n > 0)?;
    Some((v["cost_usd"].as_f64()? + v["cost_usd_cached"].as_f64()?) / n as f64)
}

/// Add the skipped generations to a summary built from the recorded ones.
pub fn annotate(summary: &mut Value, skipped: &BTreeMap<u32, Skip>) {
    let all = count(skipped, |_| true);
    let mut gens: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for (n, s) in skipped {
        gens.entry(s.reason.as_str()).or_default().push(*n);
    }
    let overall_mean = mean_cost(summary);
    let mut saved = Some(0.0);
    if let Some(arms) = summary["arms"].as_array_mut() {
        for arm in arms {
            let name = arm["name"].as_str().unwrap_or_default().to_string();
            let mine = count(skipped, |s| s.arm == name);
            let n: u64 = mine.values().sum();
            if n > 0 {
                let mean = mean_cost(arm).or(overall_mean);
                saved = match (saved, mean) {
                    (Some(x), Some(m)) => Some(x + m * n as f64),
                    _ => None,
                };
            }
            arm["skipped_count"] = json!(n);
            arm["skipped"] = json!(mine);
        }
    }
    let total: u64 = all.values().sum();
    summary["skipped_count"] = json!(total);
    let mut obj: Map<String, Value> = [BUDGET, STOP_WHEN].iter().map(|r| (r.to_string(), json!(all.get(*r).copied().unwrap_or(0)))).collect();
    obj.insert("gens".into(), json!(gens));
    obj.insert("est_saved_usd".into(), json!(saved.map(super::cost::usd)));
    summary["skipped"] = Value::Object(obj);
    if total > 0 {
        summary["by_status"]["skipped"] = json!(total);
        for (reason, n) in &all {
            summary["by_reason"][reason.as_str()] = json!(n);
        }
    }
}

/// The skipped generations a summary lists (for `qt merge`), with their arm when the
/// summary names one arm; generations recorded since are left out by the caller.
pub fn from_summary(s: &Value, arm_of: impl Fn(u32) -> String) -> BTreeMap<u32, Skip> {
    let mut out = BTreeMap::new();
    for (reason, list) in s["skipped"]["gens"].as_object().into_iter().flatten() {
        for n in list.as_array().into_iter().flatten().filter_map(Value::as_u64) {
            let n = n as u32;
            out.insert(n, Skip { arm: arm_of(n), reason: reason.clone() });
        }
    }
    out
}

/// `Skipped: 12 (stop_when 12; about $0.0123 not spent)`, when any generation was skipped.
pub fn skipped_line(s: &Value) -> Option<String> {
    let n = s["skipped_count"].as_u64().filter(|n| *n > 0)?;
    let reasons: Vec<String> = [BUDGET, STOP_WHEN]
        .iter()
        .filter_map(|r| s["skipped"][*r].as_u64().filter(|c| *c > 0).map(|c| format!("{r} {c}")))
        .collect();
    let saved = s["skipped"]["est_saved_usd"]
        .as_f64()
        .map(|x| format!("; about {} not spent", super::cost::fmt_usd(x)))
        .unwrap_or_default();
    Some(format!("Skipped: {n} ({}{saved}); `qt run --resume` continues them", reasons.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipped_are_counted_apart_and_priced_by_their_arm() {
        let mut s = json!({"completed": 4, "cost_usd": 0.004, "cost_usd_cached": 0.0, "by_status": {"pass": 3, "error": 1},
            "by_reason": {"parse_error": 1},
            "arms": [{"name": "a", "completed": 3, "cost_usd": 0.003, "cost_usd_cached": 0.0},
                     {"name": "b", "completed": 1, "cost_usd": 0.002, "cost_usd_cached": 0.0}]});
        let skipped: BTreeMap<u32, Skip> = [
            (5, Skip { arm: "a".into(), reason: STOP_WHEN.into() }),
            (6, Skip { arm: "a".into(), reason: STOP_WHEN.into() }),
            (9, Skip { arm: "b".into(), reason: BUDGET.into() }),
        ]
        .into_iter()
        .collect();
        annotate(&mut s, &skipped);
        assert_eq!(s["skipped_count"], 3);
        assert_eq!(s["skipped"]["stop_when"], 2);
        assert_eq!(s["skipped"]["gens"]["stop_when"], json!([5, 6]));
        assert_eq!(s["skipped"]["est_saved_usd"], json!(0.004), "2 x 0.001 (arm a) + 1 x 0.002 (arm b)");
        assert_eq!(s["by_status"]["skipped"], 3);
        assert_eq!(s["by_reason"]["budget"], 1);
        assert_eq!(s["arms"][0]["skipped_count"], 2);
        assert_eq!(s["completed"], 4, "completed counts what ran");
        let line = skipped_line(&s).unwrap();
        assert!(line.starts_with("Skipped: 3 (budget 1, stop_when 2; about $0.004000 not spent)"), "{line}");
        let back = from_summary(&s, |_| "a".into());
        assert_eq!(back.keys().copied().collect::<Vec<_>>(), vec![5, 6, 9]);
    }

    #[test]
    fn nothing_skipped_says_nothing() {
        let mut s = json!({"completed": 1, "by_status": {"pass": 1}, "arms": []});
        annotate(&mut s, &BTreeMap::new());
        assert_eq!(s["skipped_count"], 0);
        assert!(s["by_status"].get("skipped").is_none());
        assert_eq!(skipped_line(&s), None);
    }
}
