//! Sweep level: one row per query x arm (valid rate, the named figures of figures.rs,
//! tokens), as JSON for `<root>/<name>/summary.json` and as a table for the console.
//!
//! The experiment's view keeps the latest row of every (query, arm) across runs
//! ([`experiment_view`]): running part of an experiment (`--query`, `--arm`, fewer `ids`)
//! replaces only the cells it ran; each row says which run (id and date) it comes from.

use serde_json::{Value, json};

use crate::record::figures::{self, Stage};
use crate::record::summary::fmt_x;

/// Fields of a query's arm copied into its sweep row, besides the named figures.
const ARM_FIELDS: &[&str] = &[
    "completed", "total", "valid_count", "valid_rate", "best_speedup", "median_speedup", "confirmed_speedup",
    "best_below_floor", "tokens", "cost_usd", "cost_usd_cached", "cost_per_valid", "skipped_count",
    "best_full_speedup", "best_full_gen", "full_differs",
];

/// Build the summary of one run's part of the experiment from each query's summary.json
/// and run folder.
pub fn sweep_json(name: &str, per_query: &[(Value, std::path::PathBuf)]) -> Value {
    let mut rows = Vec::new();
    for (s, dir) in per_query {
        for arm in s["arms"].as_array().into_iter().flatten() {
            let mut row = json!({"query_id": s["query_id"], "arm": arm["name"]});
            for k in ARM_FIELDS.iter().map(|k| k.to_string()).chain(figures::field_names()) {
                if let Some(v) = arm.get(&k) {
                    row[&k] = v.clone();
                }
            }
            row["run_id"] = s["run_id"].clone();
            row["date"] = s["timestamp"].clone();
            row["full_db"] = s["full"]["db"].clone();
            row["run_dir"] = json!(dir);
            rows.push(row);
        }
    }
    json!({
        "name": name,
        "queries": per_query.len(),
        "interrupted": per_query.iter().any(|(s, _)| s["interrupted"].as_bool() == Some(true)),
        "rows": rows,
        "timestamp": chrono::Local::now().format("%Y-%m-%dT%H:%M:%S%z").to_string(),
    })
}

/// The experiment's view: `this` run's rows, plus the rows of `previous` (the experiment's
/// summary.json before this run) for every (query, arm) this run did not cover and whose
/// run folder still exists (`exists`). Queries keep their first-seen order.
pub fn experiment_view(previous: Option<&Value>, this: &Value, exists: &dyn Fn(&Value) -> bool) -> Value {
    let key = |r: &Value| (r["query_id"].to_string(), r["arm"].to_string());
    let mine: Vec<Value> = this["rows"].as_array().cloned().unwrap_or_default();
    let mut rows: Vec<Value> = Vec::new();
    for r in previous.and_then(|p| p["rows"].as_array()).into_iter().flatten() {
        match mine.iter().find(|m| key(m) == key(r)) {
            Some(m) => rows.push(m.clone()),
            None if exists(r) => rows.push(r.clone()),
            None => {}
        }
    }
    for m in &mine {
        if !rows.iter().any(|r| key(r) == key(m)) {
            rows.push(m.clone());
        }
    }
    // Rows of one query together, in the order the queries were first seen.
    let mut order: Vec<String> = Vec::new();
    for r in &rows {
        let q = r["query_id"].to_string();
        if !order.contains(&q) {
            order.push(q);
        }
    }
    rows.sort_by_key(|r| order.iter().position(|q| *q == r["query_id"].to_string()));
    let mut view = this.clone();
    view["queries"] = json!(order.len());
    view["interrupted"] = json!(rows.iter().any(|r| r["completed"].as_u64() < r["total"].as_u64()) || this["interrupted"] == true);
    view["rows"] = json!(rows);
    view
}

/// A fixed-width table of the sweep rows. `ran` is completed/planned generations (an
/// interrupted sweep shows `6/10`), `valid` is passes out of those that ran; `screening`
/// and `confirmed` are the named figures of figures.rs; `run` the date of the run a row
/// comes from (`*`: an earlier run than the newest, kept in the experiment's view).
pub fn sweep_table(sweep: &Value) -> String {
    let rows = sweep["rows"].as_array().cloned().unwrap_or_default();
    let newest = sweep["run_id"].as_str();
    let arm_w = rows.iter().filter_map(|r| r["arm"].as_str()).map(str::len).max().unwrap_or(3).clamp(3, 60);
    let full = rows.iter().any(|r| !r["full_db"].is_null());
    let line = |c: [String; 12]| {
        let f = if full { format!(" {:>9}", c[11]) } else { String::new() };
        format!(
            "{:<6} {:<arm_w$} {:>11} {:>9} {:>7} {:>10} {:>10} {:>8} {:>5} {:>12}{f}  {}\n",
            c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10]
        )
    };
    let mut t = line(["query", "arm", "ran", "valid", "rate", "screening", "confirmed", "median", "wins", "tokens spent", "run", "full"].map(String::from));
    let mut earlier = false;
    for r in &rows {
        let tk = |k: &str| {
            let t = if r["tokens"]["spent"].is_object() { &r["tokens"]["spent"] } else { &r["tokens"] };
            t[k].as_u64().unwrap_or(0)
        };
        let old = newest.is_some() && r["run_id"].as_str().is_some_and(|id| Some(id) != newest);
        earlier |= old;
        t.push_str(&line([
            r["query_id"].as_str().unwrap_or("?").to_string(),
            r["arm"].as_str().unwrap_or("?").to_string(),
            format!("{}/{}", r["completed"], r["total"]),
            format!("{}/{}", r["valid_count"], r["completed"]),
            r["valid_rate"].as_f64().map(|x| format!("{:.0}%", x * 100.0)).unwrap_or_else(|| "-".into()),
            figures::cell_json(r, Stage::Screening),
            figures::cell_json(r, Stage::Confirmed),
            fmt_x(&r["median_speedup"]),
            r["wins"].as_u64().map(|w| w.to_string()).unwrap_or_else(|| "-".into()),
            (tk("prompt") + tk("completion")).to_string(),
            format!("{}{}", run_date(r), if old { " *" } else { "" }),
            full_cell(r),
        ]));
    }
    t.push_str("screening: best first measurement; confirmed: its fresh re-timing (! no win: did not hold); ~ original below the noise floor; wins: distinct candidates whose lower bounds are above 1.00x\n");
    if full {
        let dbs: Vec<&str> = rows.iter().filter_map(|r| r["full_db"].as_str()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        t.push_str(&format!("full: the best pass confirmed on the full-size DB ({}); WRONG: a candidate differs there\n", dbs.join(", ")));
    }
    if earlier {
        t.push_str("*: from an earlier run (the experiment shows the latest result of every query and arm)\n");
    }
    if sweep["interrupted"].as_bool() == Some(true) {
        t.push_str("interrupted: `ran` counts the generations that finished; `qt run --resume` continues\n");
    }
    t
}

/// The sweep's "full": the best full-size speedup of the row's arm, `WRONG` when one of
/// its candidates gave another answer at full size, `-` when nothing was confirmed.
pub fn full_cell(r: &Value) -> String {
    if r["full_differs"].as_u64().unwrap_or(0) > 0 {
        return "WRONG".into();
    }
    fmt_x(&r["best_full_speedup"])
}

/// `2026-11-27 10:30` from a row's `date` (or its run id), `-` when unknown.
pub fn run_date(r: &Value) -> String {
    if let Some(d) = r["date"].as_str().and_then(|d| chrono::DateTime::parse_from_str(d, "%Y-%m-%dT%H:%M:%S%z").ok()) {
        return d.format("%Y-%m-%d %H:%M").to_string();
    }
    r["run_id"].as_str().map(|id| id.chars().take(15).collect()).unwrap_or_else(|| "-".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_a_row_per_query_and_arm() {
        let s = json!({"query_id": "1", "interrupted": false, "arms": [
            {"name": "batches", "completed": 4, "total": 4, "valid_count": 2, "valid_rate": 0.5, "best_speedup": 2.0, "median_speedup": 1.5, "tokens": {"prompt": 10, "completion": 5}},
            {"name": "matched", "completed": 4, "total": 4, "valid_count": 0, "valid_rate": 0.0, "best_speedup": null, "median_speedup": null, "tokens": {"prompt": 1, "completion": 1}}]});
        let sw = sweep_json("x", &[(s, "/tmp/q1".into())]);
        let t = sweep_table(&sw);
        assert_eq!(t.lines().count(), 4, "{t}");
        assert!(t.lines().next().unwrap().contains("screening") && t.lines().next().unwrap().contains("confirmed"), "{t}");
        assert!(t.contains("2/4") && t.contains("50%") && t.contains("2.00x"), "{t}");
        assert!(t.lines().nth(2).unwrap().contains(" - "), "{t}");
        assert!(t.lines().nth(1).unwrap().contains(" 4/4 "), "{t}");
    }

    #[test]
    fn interrupted_sweep_shows_ran_of_planned() {
        let s = json!({"query_id": "3", "interrupted": true, "arms": [
            {"name": "a", "completed": 6, "total": 10, "valid_count": 6, "valid_rate": 1.0, "best_speedup": 1.2671695417970017, "median_speedup": 1.1, "tokens": {"prompt": 10, "completion": 5}}]});
        let t = sweep_table(&sweep_json("x", &[(s, "/tmp/q3".into())]));
        let row = t.lines().nth(1).unwrap();
        assert!(row.contains(" 6/10 ") && row.contains(" 6/6 ") && row.contains("1.27x"), "{t}");
        assert!(t.contains("interrupted"), "{t}");
    }
}

#[cfg(test)]
mod view_tests {
    use super::*;

    fn row(q: &str, arm: &str, run: &str, best: f64) -> Value {
        json!({"query_id": q, "arm": arm, "run_id": run, "best_screening_speedup": best, "completed": 2, "total": 2, "run_dir": format!("/x/{q}")})
    }

    #[test]
    fn a_partial_run_replaces_only_its_cells() {
        let prev = json!({"rows": [row("1", "a", "r1", 1.5), row("1", "b", "r1", 1.2), row("2", "a", "r1", 2.0), row("3", "a", "r1", 3.0)]});
        let this = json!({"run_id": "r2", "rows": [row("2", "a", "r2", 2.5)]});
        let gone = |r: &Value| r["query_id"] != "3";
        let v = experiment_view(Some(&prev), &this, &gone);
        let cells: Vec<(String, String, f64)> = v["rows"].as_array().unwrap().iter()
            .map(|r| (r["query_id"].as_str().unwrap().into(), r["run_id"].as_str().unwrap().into(), r["best_screening_speedup"].as_f64().unwrap())).collect();
        assert_eq!(cells, vec![("1".into(), "r1".into(), 1.5), ("1".into(), "r1".into(), 1.2), ("2".into(), "r2".into(), 2.5)]);
        let t = sweep_table(&v);
        assert!(t.lines().nth(1).unwrap().ends_with(" *") && !t.lines().nth(3).unwrap().ends_with(" *"), "{t}");
        assert!(t.contains("*: from an earlier run"), "{t}");
        assert_eq!(v["queries"], 2);
    }
}
