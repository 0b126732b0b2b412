//! Dollars in summary.json: sums of the generations' `cost_usd` (answers this run paid
//! for) and `cost_usd_cached` (answers re-read from qt's response cache, at their price),
//! per arm and per query, and the cost of a valid rewrite. A sum is `null` as soon as one
//! generation's cost is unknown (no price for its model, or no usage reported): a partial
//! sum would look like a total. The run's price per arm is in config.json `prices`.

use serde_json::{Map, Value, json};

use super::summary::GenStat;

/// Dollar sums of some generations.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CostTotals {
    /// None: some generation's cost is unknown.
    pub spent: Option<f64>,
    pub cached: Option<f64>,
    /// Generations whose cost is unknown.
    pub unpriced: usize,
}

/// Round to a nanodollar: sums of many small floats stay readable and comparable.
pub fn usd(x: f64) -> f64 {
    (x * 1e9).round() / 1e9
}

pub fn totals<'a>(stats: impl Iterator<Item = &'a GenStat>) -> CostTotals {
    let (mut spent, mut cached, mut unpriced) = (Some(0.0), Some(0.0), 0);
    for g in stats {
        match (g.cost_usd, g.cost_usd_cached) {
            (Some(s), Some(c)) => {
                spent = spent.map(|x| x + s);
                cached = cached.map(|x| x + c);
            }
            _ => {
                unpriced += 1;
                spent = None;
                cached = None;
            }
        }
    }
    CostTotals { spent: spent.map(usd), cached: cached.map(usd), unpriced }
}

/// `cost_usd`, `cost_usd_cached`, `cost_per_valid` ((spent + cached) / valid passes: what
/// a valid rewrite costs, whether or not this run paid for it), `unpriced_generations`.
pub fn fields(t: &CostTotals, valid: usize) -> Map<String, Value> {
    let per_valid = match (t.spent, t.cached) {
        (Some(s), Some(c)) if valid > 0 => Some(usd((s + c) / valid as f64)),
        _ => None,
    };
    let mut m = Map::new();
    m.insert("cost_usd".into(), json!(t.spent));
    m.insert("cost_usd_cached".into(), json!(t.cached));
    m.insert("cost_per_valid".into(), json!(per_valid));
    m.insert("unpriced_generations".into(), json!(t.unpriced));
    m
}

/// `$0.0123`: dollars with 4 significant decimals (cents hide the cost of one call).
pub fn fmt_usd(x: f64) -> String {
    if x == 0.0 || x >= 0.01 { format!("${x:.4}") } else { format!("${x:.6}") }
}

/// The cost line of summary.txt and the console's RESULTS:
/// `Cost: $0.0123 spent, $0.0040 from the response cache; $0.0054 per valid rewrite`.
pub fn cost_line(s: &Value) -> String {
    let (spent, cached) = (s["cost_usd"].as_f64(), s["cost_usd_cached"].as_f64());
    match (spent, cached) {
        (Some(sp), Some(c)) => {
            let mut line = format!("Cost: {} spent", fmt_usd(sp));
            if c > 0.0 {
                line.push_str(&format!(", {} from the response cache (not spent)", fmt_usd(c)));
            }
            match s["cost_per_valid"].as_f64() {
                Some(v) => line.push_str(&format!("; {} per valid rewrite", fmt_usd(v))),
                None => line.push_str("; no valid rewrite"),
            }
            line
        }
        _ if s.get("cost_usd").is_none() => "Cost: not recorded (a run of an older qt)".into(),
        _ => format!(
            "Cost: unknown for {} generations (no price for their model, or no token usage reported); \
             set [llm] price = {{ input = ..., output = ... }} in dollars per million tokens",
            s["unpriced_generations"].as_u64().unwrap_or(0)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(spent: Option<f64>, cached: Option<f64>) -> GenStat {
        let mut g = GenStat::from_record(&json!({"status": "pass", "speedup": 1.5}));
        g.cost_usd = spent;
        g.cost_usd_cached = cached;
        g
    }

    #[test]
    fn sums_are_null_when_any_cost_is_unknown() {
        let known = [stat(Some(0.001), Some(0.0)), stat(Some(0.002), Some(0.0005))];
        let t = totals(known.iter());
        assert_eq!((t.spent, t.cached, t.unpriced), (Some(0.003), Some(0.0005), 0));
        let f = fields(&t, 2);
        assert_eq!(f["cost_per_valid"], json!(0.00175));
        let mixed = [stat(Some(0.001), Some(0.0)), stat(None, None)];
        let t = totals(mixed.iter());
        assert_eq!((t.spent, t.unpriced), (None, 1));
        assert_eq!(fields(&t, 2)["cost_per_valid"], Value::Null);
        assert_eq!(fields(&totals(known.iter()), 0)["cost_per_valid"], Value::Null);
    }

    #[test]
    fn the_line_says_what_is_known() {
        let s = json!({"cost_usd": 0.0123, "cost_usd_cached": 0.004, "cost_per_valid": 0.00543});
        assert_eq!(cost_line(&s), "Cost: $0.0123 spent, $0.004000 from the response cache (not spent); $0.005430 per valid rewrite");
        let s = json!({"cost_usd": null, "cost_usd_cached": null, "unpriced_generations": 3});
        assert!(cost_line(&s).starts_with("Cost: unknown for 3 generations"), "{}", cost_line(&s));
    }
}
