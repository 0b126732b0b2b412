//! Which candidates a query's confirmation stage takes: per arm, the `top` best distinct
//! passes by screening speedup (copies recorded `same_as` and texts equal after
//! normalizing layout count once), none below `min_speedup`. Candidates already confirmed
//! on this DB stay in the list, marked `done`, so a resumed stage takes the same ones and
//! redoes only the rest.
//!
//! Pure: the records and SQL texts come in, the list goes out.

use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

use crate::validate::dedup::normalize;

/// One candidate to confirm.
#[derive(Debug, Clone, PartialEq)]
pub struct Pick {
    pub number: u32,
    pub arm: String,
    /// 1-based position within its arm.
    pub rank: usize,
    /// Screening speedup (validation.json `speedup`).
    pub screening: f64,
    pub sql: String,
    /// Already confirmed on this DB (`confirm.fingerprint` equal, decided there).
    pub done: bool,
}

/// Is a recorded confirmation final on the DB `fingerprint`? An `inconclusive` one (the
/// original could not serve as a reference there, a timeout of the original) is retried.
pub fn is_done(record: &Value, fingerprint: &str) -> bool {
    let c = &record[crate::record::confirm::CONFIRM_KEY];
    c["fingerprint"].as_str() == Some(fingerprint) && matches!(c["status"].as_str(), Some("pass" | "validation_failed" | "error"))
}

/// The picks of one query, best screening speedup first (an interrupted stage has
/// confirmed the most promising ones). `sql_of(gen)` reads a generation's optimized SQL.
pub fn pick(
    records: &BTreeMap<u32, Value>,
    sql_of: impl Fn(u32) -> Option<String>,
    top: u32,
    min_speedup: Option<f64>,
    fingerprint: &str,
) -> Vec<Pick> {
    let mut passes: Vec<(u32, &Value, f64)> = records
        .iter()
        .filter(|(_, v)| v["status"] == "pass" && v["same_as"].is_null())
        .filter_map(|(n, v)| v["speedup"].as_f64().filter(|s| s.is_finite()).map(|s| (*n, v, s)))
        .filter(|(_, _, s)| min_speedup.is_none_or(|m| *s >= m))
        .collect();
    passes.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
    let mut per_arm: BTreeMap<String, usize> = BTreeMap::new();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut out = Vec::new();
    for (n, v, s) in passes {
        let arm = v["arm_name"].as_str().unwrap_or_default().to_string();
        let taken = per_arm.entry(arm.clone()).or_default();
        if *taken >= top as usize {
            continue;
        }
        let Some(sql) = sql_of(n) else { continue };
        if !seen.insert((arm.clone(), normalize(&sql))) {
            continue;
        }
        *taken += 1;
        out.push(Pick { number: n, arm, rank: *taken, screening: s, sql, done: is_done(v, fingerprint) });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn top_distinct_passes_per_arm_best_first() {
        let mut r = BTreeMap::new();
        let rec = |arm: &str, status: &str, s: Option<f64>| json!({"arm_name": arm, "status": status, "speedup": s});
        r.insert(1, rec("a", "pass", Some(1.2)));
        r.insert(2, rec("a", "pass", Some(3.0)));
        r.insert(3, rec("a", "pass", Some(2.0)));
        r.insert(4, json!({"arm_name": "a", "status": "pass", "speedup": 3.0, "same_as": "gen_02"}));
        r.insert(5, rec("a", "validation_failed", None));
        r.insert(6, rec("b", "pass", Some(1.5)));
        r.insert(7, rec("a", "pass", Some(2.5)));
        r.insert(8, rec("b", "pass", Some(0.9)));
        // gen 7 is gen 3's SQL with other layout: the same candidate.
        let sql = |n: u32| Some(match n { 7 => "SELECT  3".to_string(), n => format!("SELECT {n}") });
        let picks = pick(&r, sql, 2, None, "fp");
        let got: Vec<(u32, &str, usize)> = picks.iter().map(|p| (p.number, p.arm.as_str(), p.rank)).collect();
        assert_eq!(got, vec![(2, "a", 1), (7, "a", 2), (6, "b", 1), (8, "b", 2)]);
        let picks = pick(&r, sql, 3, Some(1.0), "fp");
        assert!(picks.iter().all(|p| p.screening >= 1.0) && picks.iter().any(|p| p.number == 1), "{picks:?}");
        assert!(!picks.iter().any(|p| p.number == 3), "gen 3 is gen 7's text");
    }

    #[test]
    fn confirmed_ones_are_done_only_on_the_same_db_and_when_decided() {
        let mut r = BTreeMap::new();
        r.insert(1, json!({"arm_name": "a", "status": "pass", "speedup": 2.0, "confirm": {"fingerprint": "fp", "status": "pass"}}));
        r.insert(2, json!({"arm_name": "a", "status": "pass", "speedup": 1.5, "confirm": {"fingerprint": "other", "status": "pass"}}));
        r.insert(3, json!({"arm_name": "a", "status": "pass", "speedup": 1.2, "confirm": {"fingerprint": "fp", "status": "inconclusive"}}));
        let picks = pick(&r, |n| Some(format!("SELECT {n}")), 3, None, "fp");
        assert_eq!(picks.iter().map(|p| p.done).collect::<Vec<_>>(), vec![true, false, false]);
    }
}
