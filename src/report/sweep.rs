//! Sweep level: one row per query x arm (valid rate, best/median speedup, tokens), as
//! JSON for `<root>/<name>/summary.json` and as a table for the console.

use serde_json::{Value, json};

use crate::record::summary::fmt_x;

/// Build the experiment summary from each query's summary.json and run folder.
pub fn sweep_json(name: &str, per_query: &[(Value, std::path::PathBuf)]) -> Value {
    let mut rows = Vec::new();
    for (s, dir) in per_query {
        for arm in s["arms"].as_array().into_iter().flatten() {
            rows.push(json!({
                "query_id": s["query_id"],
                "arm": arm["name"],
                "completed": arm["completed"],
                "total": arm["total"],
                "valid_count": arm["valid_count"],
                "valid_rate": arm["valid_rate"],
                "best_speedup": arm["best_speedup"],
                "median_speedup": arm["median_speedup"],
                "confirmed_speedup": arm["confirmed_speedup"],
                "confirmation_held": arm["confirmation_held"],
                "best_full_speedup": arm["best_full_speedup"],
                "best_full_gen": arm["best_full_gen"],
                "full_differs": arm["full_differs"],
                "full_db": s["full"]["db"],
                "best_below_floor": arm["best_below_floor"],
                "wins": arm["wins"],
                "run_id": s["run_id"],
                "tokens": arm["tokens"],
                "run_dir": dir,
            }));
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

/// A fixed-width table of the sweep rows. `ran` is completed/planned generations (an
/// interrupted sweep shows `6/10`), `valid` is passes out of those that ran.
pub fn sweep_table(sweep: &Value) -> String {
    let rows = sweep["rows"].as_array().cloned().unwrap_or_default();
    let arm_w = rows.iter().filter_map(|r| r["arm"].as_str()).map(str::len).max().unwrap_or(3).clamp(3, 60);
    let full = rows.iter().any(|r| !r["full_db"].is_null());
    let mut t = format!(
        "{:<6} {:<arm_w$} {:>11} {:>9} {:>7} {:>8} {:>8} {:>12}{}\n",
        "query", "arm", "ran", "valid", "rate", "best", "median", "tokens spent", if full { format!(" {:>9}", "full") } else { String::new() }
    );
    for r in &rows {
        let tk = |k: &str| {
            let t = if r["tokens"]["spent"].is_object() { &r["tokens"]["spent"] } else { &r["tokens"] };
            t[k].as_u64().unwrap_or(0)
        };
        t.push_str(&format!(
            "{:<6} {:<arm_w$} {:>11} {:>9} {:>7} {:>8} {:>8} {:>12}{}\n",
            r["query_id"].as_str().unwrap_or("?"),
            r["arm"].as_str().unwrap_or("?"),
            format!("{}/{}", r["completed"], r["total"]),
            format!("{}/{}", r["valid_count"], r["completed"]),
            r["valid_rate"].as_f64().map(|x| format!("{:.0}%", x * 100.0)).unwrap_or_else(|| "-".into()),
            best_cell(r),
            fmt_x(&r["median_speedup"]),
            tk("prompt") + tk("completion"),
            if full { format!(" {:>9}", full_cell(r)) } else { String::new() }
        ));
    }
    t.push_str("best: the confirmed re-timing where there is one; ~ below the noise floor; ! the screening figure did not hold\n");
    if full {
        let dbs: Vec<&str> = rows.iter().filter_map(|r| r["full_db"].as_str()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        t.push_str(&format!("full: the best pass confirmed on the full-size DB ({}); WRONG: a candidate differs there\n", dbs.join(", ")));
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

/// The sweep's "best": the confirmed figure when the best was re-timed, marked `!` when
/// the screening figure did not hold and `~` when the original is below the noise floor.
pub fn best_cell(r: &Value) -> String {
    let mut cell = match r["confirmed_speedup"].as_f64() {
        Some(c) => format!("{c:.2}x"),
        None => fmt_x(&r["best_speedup"]),
    };
    if r["confirmation_held"].as_bool() == Some(false) {
        cell.push('!');
    }
    if r["best_below_floor"].as_bool() == Some(true) {
        cell.push('~');
    }
    cell
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
