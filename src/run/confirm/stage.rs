//! The confirmation stage of one query's run folder: its picked candidates checked again
//! on the full-size DB with the same rules as the screening (the gate, equivalence with
//! the original's order promise and float tolerance, the reads-the-data rule, result caps,
//! balanced timing rounds in the lane), against the original's baseline on that DB
//! (cached, see `validate::baseline_cache`). A candidate equal on every sample instance and
//! different here is `validation_failed` / `differs_at_full_scale`: the most expensive
//! wrong pass, said loudly.
//!
//! Blocking work runs in `spawn_blocking` and is abandoned on Ctrl+C; records are written
//! here, on the async side, one candidate at a time, so an interrupted stage leaves whole
//! records only and `--resume` (or `qt confirm` again) confirms the rest. Progress and
//! results are events (`report::events::Event`); nothing here prints.
//!
//! Test hook: `QT_TEST_INTERRUPT_CONFIRM_AFTER=N` cancels the run like Ctrl+C once this
//! process has recorded N confirmations.

use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use super::select::{self, Pick};
use super::target::ConfirmTarget;
use crate::record::RunDir;
use crate::report::events::Event;
use crate::run::cancel::Cancel;
use crate::validate::baseline_cache::{self, Source};
use crate::validate::instances::{self, Extras};
use crate::validate::{Baseline, Reason, TimingLane, ValidatorConfig, Verdict, reads};

/// What the stage of one query needs.
pub struct StageInputs<'a> {
    pub run: &'a RunDir,
    pub query_id: &'a str,
    /// The statement validated (the first of a multi-statement file).
    pub sql: &'a str,
    pub target: &'a ConfirmTarget,
    pub cfg: ValidatorConfig,
    pub top: u32,
    pub min_speedup: Option<f64>,
    /// The largest generation number of the run (the `gen_NN` width).
    pub largest_gen: usize,
    pub run_id: &'a str,
    /// Recompute the original's baseline (and store it) instead of reading the cache.
    pub fresh_baseline: bool,
}

/// How the stage ended.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageOutcome {
    /// Candidates picked (top per arm), confirmed now, and found already confirmed.
    pub picked: usize,
    pub confirmed: usize,
    pub already: usize,
    pub interrupted: bool,
    /// A record that could not be written (disk full...): the stage stopped there.
    pub fatal: Option<String>,
}

static RECORDED: AtomicUsize = AtomicUsize::new(0);

fn injected_interrupt(cancel: &Cancel) {
    let n = RECORDED.fetch_add(1, Ordering::SeqCst) + 1;
    let after = std::env::var("QT_TEST_INTERRUPT_CONFIRM_AFTER").ok().and_then(|v| v.parse::<usize>().ok());
    if after == Some(n) {
        cancel.cancel();
    }
}

/// Run `f` on a blocking thread; `None` when cancelled first (the work is abandoned).
async fn blocking<T: Send + 'static>(cancel: &Cancel, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let task = tokio::task::spawn_blocking(f);
    tokio::select! {
        r = task => r.ok(),
        _ = cancel.cancelled() => None,
    }
}

/// Confirm the picked candidates of one run folder.
pub async fn run_stage(inp: StageInputs<'_>, lane: &TimingLane, cancel: &Cancel, on: &mut (dyn FnMut(Event) + Send)) -> StageOutcome {
    let records = inp.run.completed_gens();
    let run = inp.run.clone();
    let picks = select::pick(
        &records,
        |n| run.find_gen(n).and_then(|d| std::fs::read_to_string(d.join(crate::record::layout::OPTIMIZED)).ok()),
        inp.top,
        inp.min_speedup,
        &inp.target.fingerprint,
    );
    let mut out = StageOutcome { picked: picks.len(), already: picks.iter().filter(|p| p.done).count(), ..Default::default() };
    on(Event::ConfirmStarted { query_id: inp.query_id.to_string(), db: inp.target.label.clone(), candidates: picks.len(), done: out.already });
    let todo: Vec<&Pick> = picks.iter().filter(|p| !p.done).collect();
    if todo.is_empty() || cancel.is_cancelled() {
        out.interrupted = cancel.is_cancelled() && !todo.is_empty();
        return out;
    }
    let base = match baseline(&inp, lane, cancel, on).await {
        Some(b) => b,
        None => {
            out.interrupted = true;
            return out;
        }
    };
    let original_tables = {
        let (path, sql) = (inp.target.target.clone(), inp.sql.to_string());
        blocking(cancel, move || reads::tables_read(&path, &sql)).await.flatten()
    };
    let extras = Arc::new(Extras { primary: None, instances: Vec::new(), original_tables });
    // One confirmation per distinct text across arms: a second arm's copy gets the same record.
    let mut by_text: Vec<(String, u32, Value)> = Vec::new();
    for (k, p) in todo.iter().enumerate() {
        if cancel.is_cancelled() {
            out.interrupted = true;
            break;
        }
        let name = crate::record::layout::gen_name(p.number, inp.largest_gen);
        let head = format!("confirming {}/{} of q{} on {}: {name} ({:.2}x on the sample)", k + 1, todo.len(), inp.query_id, inp.target.label, p.screening);
        let norm = crate::validate::dedup::normalize(&p.sql);
        let object = match by_text.iter().find(|(t, _, _)| *t == norm) {
            Some((_, first, obj)) => {
                let mut o = obj.clone();
                o["same_as"] = json!(crate::record::layout::gen_name(*first, inp.largest_gen));
                o
            }
            None => {
                let started = Instant::now();
                let Some(verdict) = check(&inp, p, &base, &extras, lane, cancel, &head, on).await else {
                    out.interrupted = true;
                    break;
                };
                let o = confirm_object(&inp, p, &base, &verdict, started.elapsed().as_secs_f64());
                by_text.push((norm, p.number, o.clone()));
                o
            }
        };
        if cancel.is_cancelled() {
            out.interrupted = true;
            break;
        }
        if let Err(e) = crate::record::confirm::record(inp.run, p.number, &object) {
            out.fatal = Some(format!("cannot record the confirmation of {}: {e}", inp.run.path.join(&name).display()));
            break;
        }
        out.confirmed += 1;
        on(Event::ConfirmFinished { number: p.number, largest_gen: inp.largest_gen, screening: p.screening, confirm: object });
        injected_interrupt(cancel);
    }
    out
}

/// The original's baseline on the confirm DB (cached); `None` when cancelled. A failure
/// is returned as the verdict every candidate gets.
async fn baseline(inp: &StageInputs<'_>, lane: &TimingLane, cancel: &Cancel, on: &mut (dyn FnMut(Event) + Send)) -> Option<Result<Arc<Baseline>, Verdict>> {
    let cfg = &inp.cfg;
    on(Event::ConfirmProgress(format!(
        "q{} on {}: the original (2 correctness runs, {} warmup + {} timed rounds, threads {}; reused from the cache when this DB and settings were seen before)...",
        inp.query_id, inp.target.label, cfg.warmup, cfg.timing_rounds, cfg.threads
    )));
    let root = crate::db::cache_dir().join("baselines");
    let (path, key, sql, cfg, lane) = (inp.target.target.clone(), inp.target.key.clone(), inp.sql.to_string(), cfg.clone(), lane.clone());
    let fresh = inp.fresh_baseline;
    let (got, source) = blocking(cancel, move || baseline_cache::cached_baseline(&root, &path, &key, &sql, &cfg, &lane, !fresh)).await?;
    let text = match &got {
        Ok(b) => format!(
            "q{} on {}: original {} rows, median {:.3} s{}",
            inp.query_id,
            inp.target.label,
            b.rows,
            b.original_median_s,
            if source == Source::Cache { " (baseline from the cache)" } else { "" }
        ),
        Err(v) => format!(
            "warning: q{}'s original cannot serve as a reference on {} ({}: {}); its candidates are recorded {}",
            inp.query_id,
            inp.target.label,
            v.reason().unwrap_or("error"),
            v.message().unwrap_or_default(),
            v.status()
        ),
    };
    on(Event::ConfirmProgress(text));
    Some(got.map(Arc::new))
}

/// Correctness, then timing, of one candidate; `None` when cancelled.
#[allow(clippy::too_many_arguments)]
async fn check(
    inp: &StageInputs<'_>,
    p: &Pick,
    base: &Result<Arc<Baseline>, Verdict>,
    extras: &Arc<Extras>,
    lane: &TimingLane,
    cancel: &Cancel,
    head: &str,
    on: &mut (dyn FnMut(Event) + Send),
) -> Option<Verdict> {
    let base = match base {
        Ok(b) => b.clone(),
        Err(v) => return Some(v.clone()),
    };
    on(Event::ConfirmProgress(format!("{head}: comparing results...")));
    let (path, sql, cfg, ex, b) = (inp.target.target.clone(), p.sql.clone(), inp.cfg.clone(), extras.clone(), base.clone());
    let checked = blocking(cancel, move || instances::check_correctness(&path, &b, &ex, &sql, &cfg)).await?;
    let eq = match checked {
        Err(done) => return Some(done.verdict),
        Ok((eq, _)) => eq,
    };
    on(Event::ConfirmProgress(format!("{head}: timing {} paired rounds...", inp.cfg.timing_rounds)));
    let (path, cfg, lane) = (inp.target.target.clone(), inp.cfg.clone(), lane.clone());
    blocking(cancel, move || crate::validate::time_checked(&path, &base, &cfg, &lane, eq)).await
}

/// The `confirm` object of validation.json (OUTPUT.md fields plus the check's details).
/// A difference in results is `validation_failed` / `differs_at_full_scale`, the
/// equivalence reason kept as `detail`.
fn confirm_object(inp: &StageInputs<'_>, p: &Pick, base: &Result<Arc<Baseline>, Verdict>, v: &Verdict, elapsed_s: f64) -> Value {
    let mut m = v.to_json_fields();
    let mut detail = Value::Null;
    if let Verdict::Failed { reason, diff, .. } = v {
        if *reason != Reason::ConstantResult {
            detail = json!(reason.as_str());
            m.insert("reason".into(), json!(Reason::DiffersAtFullScale.as_str()));
            m.insert(
                "error".into(),
                json!(format!(
                    "WRONG AT FULL SIZE: equal to the original on every sample instance, different on {} ({}): {}",
                    inp.target.label, reason, diff.message
                )),
            );
        }
    }
    let timing = &m["timing"];
    let (ci95, win) = (timing["ci95"].clone(), timing["win"].as_bool() == Some(true));
    json!({
        "db": inp.target.label,
        "path": inp.target.target.display(),
        "fingerprint": inp.target.fingerprint,
        "status": m["status"],
        "reason": m["reason"],
        "detail": detail,
        "error": m["error"],
        "speedup": m["speedup"],
        "ci95": ci95,
        "win": win,
        "original_time": m["original_time"],
        "optimized_time": m["optimized_time"],
        "screening_speedup": p.screening,
        "rank": p.rank,
        "rows": m["rows"],
        "original_rows_full": base.as_ref().ok().map(|b| b.rows),
        "diff": m["diff"],
        "timing": m["timing"],
        "notes": m["notes"],
        "tolerance": m["tolerance"],
        "threads": inp.cfg.threads,
        "memory_limit": inp.cfg.memory_limit,
        "timing_rounds": inp.cfg.timing_rounds,
        "elapsed_s": (elapsed_s * 1000.0).round() / 1000.0,
        "confirmed_at": chrono::Local::now().to_rfc3339(),
        "run_id": inp.run_id,
    })
}
