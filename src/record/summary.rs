//! summary.json / summary.txt of one query's run, derived only from the recorded
//! generations (validation.json contents), so a resumed or interrupted run can always
//! rebuild a true summary from disk.

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

use crate::record::at_k;
use super::figures::{self, Figures, GenFacts, Stage};
use super::layout::gen_name;
use crate::validate::timing::NOISE_FLOOR_S;

/// What the summary needs besides the generation records.
pub struct SummaryContext<'a> {
    pub query_id: &'a str,
    pub total: usize,
    /// The largest generation number of the spec's numbering (sets `gen_NN`'s width);
    /// equal to `total` unless `--arm` picked part of the arms.
    pub largest_gen: usize,
    /// (name, workers) of each arm, in order.
    pub arms: &'a [(String, usize)],
    pub elapsed_seconds: f64,
    pub interrupted: bool,
    /// Winner's-curse re-timings of the arms' best candidates (summary.json
    /// `confirmations`, one per distinct candidate re-timed), if done.
    pub confirmations: Vec<Value>,
}

/// The facts of one generation the summary reads, taken from its validation.json. The
/// runner keeps only these per generation, so a 100,000-generation run stays small.
#[derive(Debug, Clone, PartialEq)]
pub struct GenStat {
    pub status: String,
    pub reason: Option<String>,
    pub speedup: Option<f64>,
    pub arm: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Tokens of the answers that came from the response cache (not spent this run).
    pub cached_prompt_tokens: u64,
    pub cached_completion_tokens: u64,
    /// LLM answers this generation got (one per attempt), and how many came from the cache.
    pub answers: u64,
    pub cached_answers: u64,
    pub cached: bool,
    pub win: bool,
    /// A pass on a result of 1-5 rows (a `thin_result` note): weak evidence.
    pub thin: bool,
    /// The original ran faster than the noise floor: the speedup is not meaningful.
    pub below_floor: bool,
    /// What the named figures (figures.rs) read of it.
    pub facts: GenFacts,
    /// Dollars of the answers this run paid for / re-read from the response cache; None
    /// when unknown (`record/cost.rs`).
    pub cost_usd: Option<f64>,
    pub cost_usd_cached: Option<f64>,
    /// The full-size confirmation (`confirm`), when there is one.
    pub full: Option<super::summary_full::FullStat>,
}

/// Cached tokens of a record: `tokens.cached_*`, else (records written before the split)
/// all of them when the answer came from the cache.
fn cached_field(v: &Value, kind: &str) -> u64 {
    match v["tokens"][format!("cached_{kind}")].as_u64() {
        Some(n) => n,
        None if v["cached"].as_bool() == Some(true) => v["tokens"][kind].as_u64().unwrap_or(0),
        None => 0,
    }
}

impl GenStat {
    pub fn from_record(v: &Value) -> GenStat {
        let number = v["gen"].as_u64().or(v["worker_id"].as_u64()).and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
        let cached = v["cached"].as_bool() == Some(true);
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        GenStat {
            status: text("status").unwrap_or_default(),
            reason: text("reason"),
            speedup: v.get("speedup").and_then(Value::as_f64),
            arm: text("arm_name").unwrap_or_default(),
            prompt_tokens: v["tokens"]["prompt"].as_u64().unwrap_or(0),
            completion_tokens: v["tokens"]["completion"].as_u64().unwrap_or(0),
            cached_prompt_tokens: cached_field(v, "prompt"),
            cached_completion_tokens: cached_field(v, "completion"),
            answers: v["llm_answers"].as_u64().unwrap_or_else(|| if v["model"].is_string() { v["attempts"].as_u64().unwrap_or(1) } else { 0 }),
            cached_answers: v["cached_answers"].as_u64().unwrap_or(u64::from(cached)),
            cached,
            win: v["timing"]["win"].as_bool() == Some(true),
            thin: v["notes"].as_array().into_iter().flatten().any(|n| {
                n.as_str().is_some_and(|t| t.starts_with(crate::validate::THIN_RESULT_NOTE))
            }),
            below_floor: v["original_time"].as_f64().is_some_and(|t| t < NOISE_FLOOR_S),
            facts: GenFacts::from_record(number, v),
            cost_usd: v["cost_usd"].as_f64(),
            cost_usd_cached: v["cost_usd_cached"].as_f64(),
            full: super::summary_full::FullStat::from_record(v),
        }
    }

    /// Spent = not answered from the cache.
    fn spent(&self) -> (u64, u64) {
        (
            self.prompt_tokens.saturating_sub(self.cached_prompt_tokens),
            self.completion_tokens.saturating_sub(self.cached_completion_tokens),
        )
    }

    /// `validation_failed` or `error`: the candidate is wrong or could not be checked
    /// because of itself. `inconclusive` (incl. `not_validated`) is not a failure.
    pub fn is_failed(&self) -> bool {
        matches!(self.status.as_str(), "validation_failed" | "error")
    }

    pub fn is_inconclusive(&self) -> bool {
        self.status == "inconclusive"
    }

    pub fn is_pass(&self) -> bool {
        self.status == "pass"
    }
}


fn round(x: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (x * p).round() / p
}

fn count_by<'a>(keys: impl Iterator<Item = &'a str>) -> Map<String, Value> {
    let mut m: BTreeMap<&str, u64> = BTreeMap::new();
    for k in keys {
        *m.entry(k).or_default() += 1;
    }
    m.into_iter().map(|(k, n)| (k.to_string(), json!(n))).collect()
}

/// Token totals (`prompt`, `completion`, as the seed had them) split into `spent` (sent to
/// the provider by this run) and `cached` (answers re-read from the response cache).
fn tokens<'a>(stats: impl Iterator<Item = &'a GenStat>) -> Value {
    let (mut p, mut c, mut sp, mut sc) = (0, 0, 0, 0);
    for g in stats {
        let (gp, gc) = g.spent();
        p += g.prompt_tokens;
        c += g.completion_tokens;
        sp += gp;
        sc += gc;
    }
    json!({"prompt": p, "completion": c,
           "spent": {"prompt": sp, "completion": sc},
           "cached": {"prompt": p - sp, "completion": c - sc}})
}

fn arm_stats(records: &BTreeMap<u32, GenStat>, facts: &[GenFacts], arm: &str, total: usize) -> Value {
    let mine: Vec<(u32, &GenStat)> = records.iter().filter(|(_, g)| g.arm == arm).map(|(n, g)| (*n, g)).collect();
    let f = figures::figures(facts.iter().filter(|g| g.arm == arm));
    let valid = f.valid;
    let at_k = at_k::curves(&mine.iter().map(|g| (g.1.is_pass(), g.1.speedup)).collect::<Vec<_>>());
    let mine: Vec<&GenStat> = mine.into_iter().map(|g| g.1).collect();
    let mut v = json!({
        "name": arm,
        "total": total,
        "completed": mine.len(),
        "valid_count": valid,
        "failed_count": mine.iter().filter(|g| g.is_failed()).count(),
        "inconclusive_count": mine.iter().filter(|g| g.is_inconclusive()).count(),
        "valid_rate": if mine.is_empty() { Value::Null } else { json!(round(valid as f64 / mine.len() as f64, 3)) },
        // Older names of the figures below, kept for scripts: best_speedup/best_worker are
        // the screening best, confirmed_speedup the confirmed one.
        "best_speedup": f.best_screening.map(|b| round(b.speedup, 4)),
        "best_worker": f.best_screening.map(|b| b.number),
        "best_below_floor": f.best_screening.map(|b| b.below_floor),
        "confirmed_speedup": f.best_confirmed.map(|b| round(b.speedup, 4)),
        "median_speedup": f.median_screening.map(|m| round(m, 4)),
        "at_k": at_k,
        "tokens": tokens(mine.iter().copied()),
        "by_status": count_by(mine.iter().map(|g| g.status.as_str())),
    });
    extend(&mut v, figures::to_json(&f));
    extend(&mut v, super::cost::fields(&super::cost::totals(mine.iter().copied()), valid));
    extend(&mut v, super::summary_full::arm_fields(records, arm));
    v
}

fn extend(v: &mut Value, m: Map<String, Value>) {
    if let Some(o) = v.as_object_mut() {
        o.extend(m);
    }
}

/// The distinct candidates of the top list (at most 10), as summary.json `top_candidates`.
fn top_json(f: &Figures) -> Value {
    json!(f.top.iter().take(10).map(|c| json!({
        "gen": c.number, "speedup": c.screening.map(|s| round(s, 4)), "ci95": c.ci95.map(|[l, h]| [round(l, 4), round(h, 4)]),
        "win": c.win, "copies": c.copies, "below_floor": c.below_floor,
    })).collect::<Vec<_>>())
}

/// summary.json: the seed's fields plus counts by status/reason, per-arm aggregates,
/// tokens, and the named figures (screening, confirmed, wins: see figures.rs).
pub fn summary_json(records: &BTreeMap<u32, GenStat>, ctx: &SummaryContext<'_>) -> Value {
    let valid: Vec<(u32, f64)> = records
        .iter()
        .filter(|(_, g)| g.is_pass())
        .map(|(n, g)| (*n, g.speedup.unwrap_or(f64::NAN)))
        .collect();
    let speedups: Map<String, Value> =
        valid.iter().map(|(g, s)| (g.to_string(), json!(round(*s, 4)))).collect();
    let finite: Vec<f64> = valid.iter().map(|(_, s)| *s).filter(|s| s.is_finite()).collect();
    let avg = if finite.is_empty() { None } else { Some(finite.iter().sum::<f64>() / finite.len() as f64) };
    let answers: u64 = records.values().map(|g| g.answers).sum();
    let cached_answers: u64 = records.values().map(|g| g.cached_answers).sum();
    let confirmations: Vec<Value> = ctx.confirmations.iter().cloned().map(with_held).collect();
    let mut facts: Vec<GenFacts> = records.iter().map(|(n, g)| GenFacts { number: *n, ..g.facts.clone() }).collect();
    figures::attach_confirmations(&mut facts, &confirmations);
    let all = figures::figures(&facts);
    let best = all.best_screening;
    // The seed's single `confirmed`: the re-timing of the overall best, when there is one.
    let confirmed = best
        .and_then(|b| confirmations.iter().find(|c| c["gen"].as_u64() == Some(u64::from(b.number))).cloned())
        .unwrap_or(Value::Null);
    let below_floor: Vec<u32> = records.iter().filter(|(_, g)| g.is_pass() && g.below_floor).map(|(n, _)| *n).collect();
    let query_number = ctx.query_id.parse::<u64>().map(Value::from).unwrap_or_else(|_| json!(ctx.query_id));
    let mut v = json!({
        "query_number": query_number,
        "query_id": ctx.query_id,
        "total_workers": ctx.total,
        "largest_gen": ctx.largest_gen,
        "completed": records.len(),
        "valid_count": valid.len(),
        "failed_count": records.values().filter(|g| g.is_failed()).count(),
        "inconclusive_count": records.values().filter(|g| g.is_inconclusive()).count(),
        "valid_workers": valid.iter().map(|(g, _)| *g).collect::<Vec<_>>(),
        "speedups": speedups,
        "best_speedup": best.map(|b| round(b.speedup, 4)),
        "best_worker": best.map(|b| b.number),
        "avg_speedup": avg.map(|a| round(a, 4)),
        "median_speedup": all.median_screening.map(|m| round(m, 4)),
        "confirmed": confirmed,
        "confirmations": confirmations,
        "top_candidates": top_json(&all),
        "below_floor_workers": below_floor,
        "elapsed_seconds": round(ctx.elapsed_seconds, 3),
        "timestamp": chrono::Local::now().format("%Y-%m-%dT%H:%M:%S%z").to_string(),
        "interrupted": ctx.interrupted,
        "by_status": count_by(records.values().map(|g| g.status.as_str())),
        "by_reason": count_by(records.values().filter_map(|g| g.reason.as_deref())),
        "arms": ctx.arms.iter().map(|(a, w)| arm_stats(records, &facts, a, *w)).collect::<Vec<_>>(),
        "tokens": tokens(records.values()),
        "llm_answers": answers,
        "cached_responses": cached_answers,
        "thin_result_passes": records.values().filter(|g| g.is_pass() && g.thin).count(),
    });
    extend(&mut v, figures::to_json(&all));
    extend(&mut v, super::cost::fields(&super::cost::totals(records.values()), valid.len()));
    v["full"] = super::summary_full::full_block(records);
    v
}

/// Add `held` to a re-timing: is the fresh re-timing itself a win (figures.rs)?
fn with_held(mut c: Value) -> Value {
    c["held"] = json!(figures::confirmation_measure(&c).map(|(_, m)| m.win));
    c
}

/// How a speedup is shown to a human: `2.15x`, with `(below noise floor)` or
/// `(not confirmed: 1.02x on re-timing)` when that is the truth.
pub fn fmt_speedup_note(below_floor: bool, confirmed: Option<(f64, bool)>) -> String {
    let mut s = String::new();
    if below_floor {
        s.push_str(" (below noise floor)");
    }
    if let Some((c, held)) = confirmed {
        if held {
            s.push_str(&format!(" (confirmed {c:.2}x)"));
        } else {
            s.push_str(&format!(" (not confirmed: {c:.2}x on re-timing)"));
        }
    }
    s
}

/// What `win` means, said once wherever wins are counted.
pub const WIN_RULE: &str = "a win: its 99% one-sided bound and its 95% interval are above 1.00x, never below the noise floor";

/// summary.txt: the same facts for a human, top 10 speedups.
pub fn summary_text(s: &Value) -> String {
    let mut out = String::new();
    let g = |k: &str| s.get(k).cloned().unwrap_or(Value::Null);
    out.push_str(&format!("Query {}\n", s["query_id"].as_str().unwrap_or("?")));
    if s["interrupted"].as_bool() == Some(true) {
        out.push_str("INTERRUPTED: the figures below cover the completed generations only.\n");
    }
    out.push_str(&format!("Elapsed: {:.1}s\n", s["elapsed_seconds"].as_f64().unwrap_or(0.0)));
    out.push_str(&format!("Completed: {}/{}\n", g("completed"), g("total_workers")));
    if let Some(line) = super::skipped::skipped_line(s) {
        out.push_str(&format!("{line}\n"));
    }
    out.push_str(&format!("{}\n", counts_line(s)));
    let list = |m: &Value| {
        m.as_object()
            .map(|o| o.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    };
    out.push_str(&format!("By status: {}\n", list(&s["by_status"])));
    if s["by_reason"].as_object().is_some_and(|o| !o.is_empty()) {
        out.push_str(&format!("By reason: {}\n", list(&s["by_reason"])));
    }
    if let Some(n) = s["thin_result_passes"].as_u64().filter(|n| *n > 0) {
        out.push_str(&format!(
            "Thin results: {n} passes compared only 1-5 rows (thin_result): weak evidence\n"
        ));
    }
    for line in figure_lines(s) {
        out.push_str(&line);
        out.push('\n');
    }
    if let Some(a) = s["avg_speedup"].as_f64() {
        out.push_str(&format!("Average speedup of valid generations: {a:.2}x\n"));
    }
    out.push_str(&super::summary_full::text_lines(s));
    out.push_str(&format!("{}\n{}\n", answers_line(s), tokens_line(&s["tokens"])));
    out.push_str(&format!("{}\n", super::cost::cost_line(s)));
    out
}

/// The named figures of a query's summary as lines (summary.txt and the console's RESULTS
/// print the same ones): wins, the top list, best screening, best confirmed, one line per arm.
pub fn figure_lines(s: &Value) -> Vec<String> {
    let total = largest_gen(s);
    let mut out = vec![format!("Wins: {} ({WIN_RULE})", s["wins"].as_u64().unwrap_or(0))];
    out.extend(top_speedups(s).lines().map(str::to_string));
    if let Some(b) = figures::best_from_json(s, Stage::Screening) {
        out.push(format!(
            "Best screening: {} {}{}{}",
            gen_name(b.number, total),
            b.cell(Stage::Screening),
            ci_text(b.ci95),
            fmt_speedup_note(b.below_floor, None)
        ));
    }
    if s["confirmed"].is_object() {
        out.push(format!("Best confirmed: {}", confirmed_line(&s["confirmed"])));
    } else if let Some(b) = figures::best_from_json(s, Stage::Confirmed) {
        let held = if b.win { "held" } else { "did not hold" };
        out.push(format!("Best confirmed: {} {}{}, {held}", gen_name(b.number, total), b.cell(Stage::Confirmed), ci_text(b.ci95)));
    }
    for arm in s["arms"].as_array().into_iter().flatten() {
        out.push(arm_line(arm));
    }
    out
}

/// `Arm batches: 3/4 valid (4 planned), 2 distinct | screening 2.10x | confirmed 1.95x |
/// median 1.60x | wins 1`.
pub fn arm_line(arm: &Value) -> String {
    format!(
        "Arm {}: {}/{} valid ({} planned), {} distinct | screening {} | confirmed {} | median {} | wins {}",
        arm["name"].as_str().unwrap_or("?"),
        arm["valid_count"],
        arm["completed"],
        arm["total"],
        arm["distinct_candidates"].as_u64().unwrap_or(arm["valid_count"].as_u64().unwrap_or(0)),
        figures::cell_json(arm, Stage::Screening),
        figures::cell_json(arm, Stage::Confirmed),
        fmt_x(&arm["median_speedup"]),
        arm["wins"].as_u64().unwrap_or(0),
    )
}

fn ci_text(ci: Option<[f64; 2]>) -> String {
    ci.map(|[lo, hi]| format!(" [{lo:.2}-{hi:.2}]")).unwrap_or_default()
}

/// The largest generation number a summary's folder names are sized for.
pub fn largest_gen(s: &Value) -> usize {
    s["largest_gen"].as_u64().or(s["total_workers"].as_u64()).unwrap_or(0) as usize
}

/// `Valid: 8   Failed: 12   Inconclusive: 0` (failed = validation_failed + error).
pub fn counts_line(s: &Value) -> String {
    let mut line = format!(
        "Valid: {}   Failed: {}   Inconclusive: {}",
        s["valid_count"],
        s["failed_count"],
        s["inconclusive_count"].as_u64().unwrap_or(0)
    );
    if let Some(n) = s["copies"].as_u64().filter(|n| *n > 0) {
        line.push_str(&format!("   Copies: {n} (the same SQL as an earlier generation: validated once, counted once)"));
    }
    line
}

/// `LLM answers: 20 (18 from the cache ...)`: a re-run answered from the cache says so.
pub fn answers_line(s: &Value) -> String {
    let n = s["llm_answers"].as_u64().unwrap_or(0);
    let c = s["cached_responses"].as_u64().unwrap_or(0);
    let mut line = format!("LLM answers: {n} ({c} from the response cache");
    if c > 0 {
        line.push_str("; `--repeat N` asks for fresh samples, `--no-cache` ignores the cache");
    }
    line.push(')');
    line
}

/// `Tokens: 1234 prompt + 56 completion spent; 789 + 12 from the cache (not spent)`.
pub fn tokens_line(t: &Value) -> String {
    let n = |a: &str, b: &str| t[a][b].as_u64().unwrap_or(0);
    let (sp, sc) = match t["spent"].is_object() {
        true => (n("spent", "prompt"), n("spent", "completion")),
        false => (t["prompt"].as_u64().unwrap_or(0), t["completion"].as_u64().unwrap_or(0)),
    };
    format!(
        "Tokens: {sp} prompt + {sc} completion spent; {} + {} from the cache (not spent)",
        n("cached", "prompt"),
        n("cached", "completion")
    )
}

/// A speedup as `1.27x` (2 decimals everywhere), `-` when absent.
pub fn fmt_x(v: &Value) -> String {
    v.as_f64().map(|x| format!("{x:.2}x")).unwrap_or_else(|| "-".into())
}

/// Was generation `n`'s original below the noise floor (summary's `below_floor_workers`)?
pub fn is_below_floor(s: &Value, n: u64) -> bool {
    s["below_floor_workers"].as_array().is_some_and(|a| a.iter().any(|v| v.as_u64() == Some(n)))
}

/// `gen_03 1.02x! [0.95-1.10], did not hold (the fresh re-timing is no win; screening
/// 2.10x)` / `gen_03 2.05x [1.90-2.20], held` / `n/a`.
pub fn confirmed_line(c: &Value) -> String {
    let Some((number, m)) = figures::confirmation_measure(c) else { return "n/a".into() };
    let screening = c["screening_speedup"].as_f64().map(|x| format!("; screening {x:.2}x")).unwrap_or_default();
    let cell = figures::Best { number, speedup: m.speedup, ci95: m.ci95, win: m.win, below_floor: false }.cell(Stage::Confirmed);
    let name = match c["gen_name"].as_str() {
        Some(n) => n.to_string(),
        None => format!("gen {number}"),
    };
    if m.win {
        format!("{name} {cell}{}, held{screening}", ci_text(m.ci95))
    } else {
        format!("{name} {cell}{}, did not hold (the fresh re-timing is no win{screening})", ci_text(m.ci95))
    }
}

/// "Top speedups" block: each distinct candidate once (copies counted beside it), at most
/// 10, best first. Summaries written before `top_candidates` list `speedups`.
pub fn top_speedups(s: &Value) -> String {
    let total = largest_gen(s);
    let mut out = String::from("Top speedups (screening, each distinct candidate once):\n");
    if let Some(top) = s["top_candidates"].as_array() {
        if top.is_empty() {
            return "Top speedups: none (no valid generation)\n".into();
        }
        for c in top {
            let number = c["gen"].as_u64().unwrap_or(0) as u32;
            let ci = match (c["ci95"][0].as_f64(), c["ci95"][1].as_f64()) {
                (Some(l), Some(h)) => Some([l, h]),
                _ => None,
            };
            let mut line = format!("  {}: {}{}", gen_name(number, total), fmt_x(&c["speedup"]), ci_text(ci));
            if c["win"].as_bool() == Some(true) {
                line.push_str(" win");
            }
            line.push_str(&fmt_speedup_note(c["below_floor"].as_bool() == Some(true), None));
            match c["copies"].as_u64().unwrap_or(0) {
                0 => {}
                1 => line.push_str(" (+1 copy)"),
                n => line.push_str(&format!(" (+{n} copies)")),
            }
            out.push_str(&line);
            out.push('\n');
        }
        return out;
    }
    let mut v: Vec<(String, f64)> = s["speedups"]
        .as_object()
        .map(|o| o.iter().filter_map(|(k, v)| v.as_f64().map(|x| (k.clone(), x))).collect())
        .unwrap_or_default();
    v.sort_by(|a, b| b.1.total_cmp(&a.1));
    if v.is_empty() {
        return "Top speedups: none (no valid generation)\n".into();
    }
    for (g, x) in v.iter().take(10) {
        let n = g.parse::<u32>().unwrap_or(0);
        out.push_str(&format!("  {}: {x:.2}x{}\n", gen_name(n, total), fmt_speedup_note(is_below_floor(s, n as u64), None)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(status: &str, speedup: Option<f64>, arm: &str) -> Value {
        json!({"status": status, "speedup": speedup, "arm_name": arm, "reason": if status == "pass" { Value::Null } else { json!("value_mismatch") },
               "tokens": {"prompt": 10, "completion": 2}, "timing": {"win": speedup.map(|s| s > 1.5)}})
    }

    #[test]
    fn summary_counts_and_best() {
        let mut r = BTreeMap::new();
        r.insert(1, GenStat::from_record(&rec("pass", Some(2.0), "a")));
        r.insert(2, GenStat::from_record(&rec("validation_failed", None, "a")));
        r.insert(3, GenStat::from_record(&rec("pass", Some(1.2), "b")));
        let arms = vec![("a".to_string(), 2), ("b".to_string(), 2)];
        let ctx = SummaryContext { query_id: "1", total: 4, largest_gen: 4, arms: &arms, elapsed_seconds: 1.0, interrupted: false, confirmations: Vec::new() };
        let s = summary_json(&r, &ctx);
        assert_eq!(s["query_number"], 1);
        assert_eq!(s["completed"], 3);
        assert_eq!(s["valid_count"], 2);
        assert_eq!(s["failed_count"], 1);
        assert_eq!(s["best_worker"], 1);
        assert_eq!(s["best_speedup"], 2.0);
        assert_eq!(s["avg_speedup"], 1.6);
        assert_eq!(s["wins"], 1);
        assert_eq!(s["by_reason"]["value_mismatch"], 1);
        assert_eq!(s["arms"][0]["completed"], 2);
        assert_eq!(s["arms"][1]["best_speedup"], 1.2);
        assert_eq!(s["tokens"]["prompt"], 30);
        let t = summary_text(&s);
        assert!(t.contains("gen_01: 2.00x"), "{t}");
        assert!(t.contains("Completed: 3/4"), "{t}");
    }

    #[test]
    fn failed_is_wrong_or_error_and_inconclusive_is_its_own_count() {
        let mut r = BTreeMap::new();
        for (n, status) in [(1, "pass"), (2, "validation_failed"), (3, "error"), (4, "inconclusive"), (5, "inconclusive")] {
            r.insert(n, GenStat::from_record(&rec(status, (status == "pass").then_some(1.2671695417970017), "a")));
        }
        let arms = vec![("a".to_string(), 5)];
        let ctx = SummaryContext { query_id: "1", total: 5, largest_gen: 5, arms: &arms, elapsed_seconds: 1.0, interrupted: false,
            confirmations: vec![json!({"gen": 1, "confirmed_speedup": 1.2345678})] };
        let s = summary_json(&r, &ctx);
        assert_eq!((s["valid_count"].as_u64(), s["failed_count"].as_u64(), s["inconclusive_count"].as_u64()), (Some(1), Some(2), Some(2)));
        assert_eq!((s["arms"][0]["failed_count"].as_u64(), s["arms"][0]["inconclusive_count"].as_u64()), (Some(2), Some(2)));
        let t = summary_text(&s);
        assert!(t.contains("Valid: 1   Failed: 2   Inconclusive: 2"), "{t}");
        assert!(t.contains("Best screening: gen_01 1.27x") && t.contains("Best confirmed: gen 1 1.23x!"), "{t}");
        assert!(!t.contains("1.267") && !t.contains("1.234"), "2 decimals everywhere: {t}");
    }

    #[test]
    fn tokens_split_into_spent_and_cached() {
        let mut fresh = rec("pass", Some(2.0), "a");
        fresh["llm_answers"] = json!(1);
        fresh["cached_answers"] = json!(0);
        let mut hit = rec("pass", Some(2.0), "a");
        hit["tokens"] = json!({"prompt": 10, "completion": 2, "cached_prompt": 10, "cached_completion": 2});
        hit["llm_answers"] = json!(1);
        hit["cached_answers"] = json!(1);
        hit["cached"] = json!(true);
        // A record written before the split: cached=true means all its tokens were cached.
        let mut old = rec("pass", Some(2.0), "a");
        old["cached"] = json!(true);
        old["model"] = json!("m");
        let r: BTreeMap<u32, GenStat> = [(1, &fresh), (2, &hit), (3, &old)].into_iter().map(|(n, v)| (n, GenStat::from_record(v))).collect();
        let arms = vec![("a".to_string(), 3)];
        let ctx = SummaryContext { query_id: "1", total: 3, largest_gen: 3, arms: &arms, elapsed_seconds: 1.0, interrupted: false, confirmations: Vec::new() };
        let s = summary_json(&r, &ctx);
        assert_eq!(s["tokens"], json!({"prompt": 30, "completion": 6, "spent": {"prompt": 10, "completion": 2}, "cached": {"prompt": 20, "completion": 4}}));
        assert_eq!((s["llm_answers"].as_u64(), s["cached_responses"].as_u64()), (Some(3), Some(2)));
        let t = summary_text(&s);
        assert!(t.contains("LLM answers: 3 (2 from the response cache"), "{t}");
        assert!(t.contains("Tokens: 10 prompt + 2 completion spent; 20 + 4 from the cache"), "{t}");
    }
}
