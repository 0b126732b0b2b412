//! One query of an experiment: set up its run folder (config, original, plan files, base
//! prompt), start the original's baseline, run every job concurrently, and feed events to
//! the recorder and the console. LLM calls are bounded by the client's limiter; candidate
//! checks by `validate_slots`; timed executions by the single timing lane.

use anyhow::Context as _;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{OnceCell, Semaphore, mpsc};

use super::cancel::Cancel;
use super::generation::GenEnd;
use crate::record::skipped::{STOP_WHEN, Skip};
use crate::report::events::Event;
use super::prompts::{ArmPrompts, QueryInputs};
use crate::llm::Client;
use crate::record::layout::{self, GenFiles};
use crate::record::figures::{self, GenFacts};
use crate::record::summary::{GenStat, SummaryContext, summary_json, summary_text};
use crate::record::RunDir;
use crate::report::Console;
use crate::spec::{Experiment, Job};
use crate::validate::instances::{Checked, Extras, Instance};
use crate::validate::reference::Reference;
use crate::validate::{self, Baseline, TimingLane, ValidatorConfig, Verdict};

/// State shared by the generations of one query.
pub struct QueryShared {
    pub inputs: QueryInputs,
    pub arms: Arc<Vec<ArmPrompts>>,
    pub clients: Vec<Client>,
    pub db: crate::db::Target,
    pub vcfg: Vec<ValidatorConfig>,
    pub base_cfg: ValidatorConfig,
    pub lane: TimingLane,
    /// The original (statement 1) on every instance, re-bound if thin, computed once.
    pub reference: OnceCell<Result<Arc<Reference>, Arc<Verdict>>>,
    /// The primary DB as an instance (label, fingerprint) and the extra instances.
    pub primary: Instance,
    pub instances: Arc<Vec<Instance>>,
    /// Concurrent correctness checks: the cores the timing lane does not use.
    pub validate_slots: Semaphore,
    /// Candidates waiting for the lane wait here (one permit), not on a blocked thread.
    pub lane_queue: Semaphore,
    /// Validate identical candidates once (`validation.dedup`).
    pub dedup: bool,
    /// Normalized candidate SQL -> its verdict and the generation that was validated.
    pub seen: std::sync::Mutex<HashMap<String, Arc<OnceCell<(Checked, u32)>>>>,
    pub cancel: Cancel,
    /// Bounded: when the recorder falls behind (it fsyncs every file), generations wait
    /// instead of piling finished outcomes up in memory.
    pub events: mpsc::Sender<Event>,
    pub no_validate: bool,
    /// This `qt run`'s id, recorded in every results line.
    pub run_id: String,
    /// Each arm's price (`llm/price.rs`); None: unknown, costs recorded as null.
    pub prices: Arc<Vec<Option<crate::llm::price::Price>>>,
    /// The run's spending (`budget.rs`), shared by every query.
    pub budget: Arc<super::budget::Budget>,
    /// This query's early stop per arm (`stop_when.rs`).
    pub stop: super::stop_when::StopWhen,
}

impl QueryShared {
    /// The original's reference, computed once: its baseline on the primary (timed), on
    /// every extra instance, its evidence, and a re-binding when it is thin as written.
    pub async fn reference(&self) -> Result<Arc<Reference>, Arc<Verdict>> {
        self.reference
            .get_or_init(|| async {
                let (primary, inst, sql, cfg, lane) = (
                    self.primary.clone(),
                    self.instances.clone(),
                    self.inputs.target_sql.clone(),
                    self.base_cfg.clone(),
                    self.lane.clone(),
                );
                let r =
                    super::spawn_duckdb(move || Reference::prepare(&primary, &inst, &sql, &cfg, &lane)).await;
                match r {
                    Ok(Ok(b)) => Ok(Arc::new(b)),
                    Ok(Err(v)) => Err(Arc::new(v)),
                    Err(e) => Err(Arc::new(internal(format!("baseline task failed: {e}")))),
                }
            })
            .await
            .clone()
    }

    /// The original's baseline on the primary (the one candidates are timed against).
    pub async fn baseline(&self) -> Result<Arc<Baseline>, Arc<Verdict>> {
        self.reference().await.map(|r| r.base.clone())
    }

    /// Validate a candidate on every instance; `None` when cancelled while waiting. With
    /// dedup on, identical candidates of the query (same normalized SQL, same validation
    /// settings) are validated once: the others get the same verdict and, as second
    /// value, the number of the generation that was validated (recorded as `same_as`).
    pub async fn validate(&self, number: u32, arm: usize, sql: String) -> Option<(Checked, Option<u32>)> {
        let reference = match self.reference().await {
            Ok(b) => b,
            // A baseline cut short by Ctrl+C says nothing about the candidate.
            Err(_) if self.cancel.is_cancelled() => return None,
            Err(v) => return Some(((*v).clone().into(), None)),
        };
        // The one rule for files of several statements (validate/statements.rs): the
        // candidate's statement k against the original's; the prompts ask for statement 1.
        let pairs = match validate::statements::pair(&self.inputs.query.sql, &sql) {
            Ok(p) => p,
            Err(message) => return Some((Verdict::Error { reason: validate::Reason::NotSelect, message }.into(), None)),
        };
        if pairs.iter().all(|p| p.same) {
            let v = Verdict::Inconclusive {
                reason: validate::Reason::NoChange,
                rows: None,
                message: "the candidate is the original query again (same text after normalizing layout); nothing to measure".into(),
            };
            return Some((v.into(), None));
        }
        let beyond_first = pairs.iter().any(|p| p.index > 1 && !p.same);
        let sql = if beyond_first { sql } else { pairs[0].candidate.clone() };
        if !self.dedup {
            return self.validate_fresh(number, arm, reference, sql, beyond_first).await.map(|v| (v, None));
        }
        let key = format!("{:?}\n{}", self.vcfg[arm], validate::dedup::normalize(&sql));
        let cell = self.seen.lock().unwrap_or_else(|e| e.into_inner()).entry(key).or_default().clone();
        // The first to arrive validates; the others wait for its verdict. If it is
        // cancelled, the cell stays empty and a waiter validates instead.
        let init = || async {
            let v = self.validate_fresh(number, arm, reference.clone(), sql.clone(), beyond_first).await;
            v.map(|v| (v, number)).ok_or(())
        };
        let got = tokio::select! {
            r = cell.get_or_try_init(init) => r.ok()?.clone(),
            _ = self.cancel.cancelled() => return None,
        };
        Some((got.0, (got.1 != number).then_some(got.1)))
    }

    /// Correctness on every instance on one of the correctness slots, then (if
    /// equivalent) timing on the primary in the lane's queue: the slot is released before
    /// the candidate waits for the lane, so the next candidate's check runs while this
    /// one is timed. Checks hold the lane's quiet gate shared, so they run between
    /// timings, never during one (`timing/quiet.rs`).
    async fn validate_fresh(
        &self,
        number: u32,
        arm: usize,
        reference: Arc<Reference>,
        sql: String,
        whole_file: bool,
    ) -> Option<Checked> {
        let cfg = self.vcfg[arm].clone();
        if whole_file {
            return self.validate_file(number, cfg, sql).await;
        }
        let checked = {
            let _slot = tokio::select! {
                s = self.validate_slots.acquire() => s.ok()?,
                _ = self.cancel.cancelled() => return None,
            };
            let _ = self.events.send(Event::ValidationStarted { number }).await;
            let (db, r, sql, cfg) = (self.db.clone(), reference.clone(), sql.clone(), cfg.clone());
            let lane = self.lane.clone();
            let task = super::spawn_duckdb(move || {
                let _quiet = lane.quiet();
                let started = std::time::Instant::now();
                let v = r.check_correctness(&db, &sql, &cfg);
                crate::validate::timing::trace::span("check", number, started);
                v
            });
            // On Ctrl+C an unfinished check is abandoned (the generation stays unrecorded).
            tokio::select! {
                r = task => r.unwrap_or_else(|e| Err(internal(format!("validation task failed: {e}")).into())),
                _ = self.cancel.cancelled() => return None,
            }
        };
        let v = match checked {
            Err(done) => done,
            Ok((eq, reports)) => {
                let _turn = tokio::select! {
                    s = self.lane_queue.acquire() => s.ok()?,
                    _ = self.cancel.cancelled() => return None,
                };
                let (db, lane, base) = (self.db.clone(), self.lane.clone(), reference.base.clone());
                let task =
                    super::spawn_duckdb(move || validate::time_checked(&db, &base, &cfg, &lane, eq));
                let verdict = tokio::select! {
                    r = task => r.unwrap_or_else(|e| internal(format!("timing task failed: {e}"))),
                    _ = self.cancel.cancelled() => return None,
                };
                Checked { verdict, instances: reports, rebinding: reference.rebinding_json() }
            }
        };
        // A check cut short by Ctrl+C carries the stop error, not a verdict: unrecorded.
        if self.cancel.is_cancelled() {
            return None;
        }
        let _ = self.events.send(Event::ValidationFinished { number }).await;
        Some(v)
    }
}

impl QueryShared {
    /// A candidate that changes a statement beyond the first (a `sql` answer holding the
    /// whole file): judged statement by statement like `qt validate`, holding a check slot
    /// and the lane's turn for the whole file.
    async fn validate_file(&self, number: u32, cfg: ValidatorConfig, sql: String) -> Option<Checked> {
        let _slot = tokio::select! {
            s = self.validate_slots.acquire() => s.ok()?,
            _ = self.cancel.cancelled() => return None,
        };
        let _turn = tokio::select! {
            s = self.lane_queue.acquire() => s.ok()?,
            _ = self.cancel.cancelled() => return None,
        };
        let _ = self.events.send(Event::ValidationStarted { number }).await;
        let (primary, inst, file, lane) =
            (self.primary.clone(), self.instances.clone(), self.inputs.query.sql.clone(), self.lane.clone());
        let task = super::spawn_duckdb(move || {
            validate::multi::judge_file(&primary, &inst, &file, &sql, &cfg, &lane)
        });
        let v = tokio::select! {
            r = task => r.unwrap_or_else(|e| internal(format!("validation task failed: {e}")).into()),
            _ = self.cancel.cancelled() => return None,
        };
        let _ = self.events.send(Event::ValidationFinished { number }).await;
        Some(v)
    }
}

/// "original: 12 rows in 0.045 s on tpcds scale 100 sample 0.01 instance 1; 9 rows on
/// ... instance 2; empty on tpcds scale 0.01" (the survey's numbers, per instance).
fn instance_survey(b: &Baseline, primary: &Instance, extras: &Extras) -> String {
    let mut parts = vec![format!("{} rows in {:.3} s on {}", b.rows, b.original_median_s, primary.label)];
    for e in &extras.instances {
        parts.push(match &e.base {
            Ok(x) if x.result.is_vacuous() => format!("empty on {}", e.instance.label),
            Ok(x) => format!("{} rows on {}", x.rows, e.instance.label),
            Err(why) => format!("not a reference on {} ({why})", e.instance.label),
        });
    }
    format!("original: {}", parts.join("; "))
}

/// A validation thread that panicked or was cancelled: an `error`, never a pass.
fn internal(message: String) -> Verdict {
    Verdict::Error { reason: validate::Reason::ExecutionError, message }
}

/// What a finished query reports back to the experiment level.
pub struct QueryResult {
    pub summary: Value,
    pub run_dir: PathBuf,
    pub interrupted: bool,
    /// The recording failure that stopped the run (disk full...), if any.
    pub fatal: Option<String>,
    /// Why no generation of this query could be judged (LLM unreachable, DB unusable).
    pub infra: Option<String>,
}

/// Writes events to the run folder: gen folders, results.jsonl, and the summary after each
/// generation (on runs of more than `EVERY_GEN_LIMIT` generations, at most once a second;
/// always at the end). The summary is derived from the recorded generations, so a stale
/// one after a kill is rebuilt by `--resume`.
struct Recorder<'a> {
    run: RunDir,
    /// What the summary reads of each recorded generation.
    records: BTreeMap<u32, GenStat>,
    /// Generations not started (budget, stop_when): in the summary, without a folder.
    skipped: BTreeMap<u32, Skip>,
    last_summary: Instant,
    arms: Vec<(String, usize)>,
    total: usize,
    /// The largest generation number of the whole spec (sets `gen_NN`'s width).
    largest: usize,
    started: Instant,
    query_id: &'a str,
    run_id: &'a str,
    /// Writes wait for the lane's timing in progress (its quiet gate), at most this long.
    lane: &'a TimingLane,
}

/// The longest a recorder write waits for a timing to end: long timings (slow queries)
/// see one short write rather than a stalled run.
const RECORD_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

impl Recorder<'_> {
    fn summary(&self, interrupted: bool, confirmations: Vec<Value>) -> Value {
        let ctx = SummaryContext {
            query_id: self.query_id,
            total: self.total,
            largest_gen: self.largest,
            arms: &self.arms,
            elapsed_seconds: self.started.elapsed().as_secs_f64(),
            interrupted,
            confirmations,
        };
        let mut s = summary_json(&self.records, &ctx);
        s["run_id"] = json!(self.run_id);
        crate::record::skipped::annotate(&mut s, &self.skipped);
        s
    }

    fn write_summary(&self, s: &Value) -> anyhow::Result<()> {
        self.run.write(layout::SUMMARY_JSON, serde_json::to_vec_pretty(s)?)?;
        self.run.write(layout::SUMMARY_TXT, summary_text(s))?;
        Ok(())
    }

    fn maybe_write_summary(&mut self) -> anyhow::Result<()> {
        const EVERY_GEN_LIMIT: usize = 1000;
        if self.total <= EVERY_GEN_LIMIT || self.last_summary.elapsed() >= std::time::Duration::from_secs(1) {
            self.write_summary(&self.summary(false, Vec::new()))?;
            self.last_summary = Instant::now();
        }
        Ok(())
    }

    fn on_finished(&mut self, o: &crate::report::events::GenOutcome) -> anyhow::Result<()> {
        // The write (files, fsync, the summary) keeps off the lane's timed rounds: it would
        // otherwise land on the first rounds of the next candidate, every time.
        let lane = self.lane;
        tokio::task::block_in_place(|| {
            let _quiet = lane.quiet_within(RECORD_WAIT);
            self.record_quietly(o)
        })
    }

    fn record_quietly(&mut self, o: &crate::report::events::GenOutcome) -> anyhow::Result<()> {
        let started = std::time::Instant::now();
        let r = self.record_outcome(o);
        crate::validate::timing::trace::span("record", o.number, started);
        r
    }

    fn record_outcome(&mut self, o: &crate::report::events::GenOutcome) -> anyhow::Result<()> {
        let files = GenFiles { attempts: &o.attempts, optimized_sql: o.optimized_sql.as_deref(), validation: &o.record };
        super::fatal::injected_failure(self.records.len())
            .and_then(|_| self.run.write_gen(o.number, self.largest, &files))
            .with_context(|| format!("cannot record {}", self.run.gen_dir(o.number, self.largest).display()))?;
        // The folder exists: the summary counts it even if the lines below fail.
        self.records.insert(o.number, GenStat::from_record(&o.record));
        self.run
            .append_result(&o.record)
            .with_context(|| format!("cannot append to {}", self.run.file(layout::RESULTS).display()))?;
        self.maybe_write_summary()
            .with_context(|| format!("cannot write {}", self.run.file(layout::SUMMARY_JSON).display()))
    }
}

/// Inputs to `run_query` that come from the experiment level.
pub struct QueryRun<'a> {
    pub exp: &'a Experiment,
    pub jobs: Vec<Job>,
    /// (name, workers) of the arms this run covers (all, or those picked with `--arm`).
    pub arms: Vec<(String, usize)>,
    /// Setup notes (resume, plan analysis, distinct prompts) shown under the query header.
    pub notes: Vec<String>,
    pub run: RunDir,
    pub already: BTreeMap<u32, Value>,
    pub shared: Arc<QueryShared>,
    /// `[validation.confirm]`: the full-size stage after the last generation.
    pub confirm: Option<Arc<super::confirm::ConfirmPlan>>,
}

pub async fn run_query(
    qr: QueryRun<'_>,
    mut rx: mpsc::Receiver<Event>,
    console: &mut Console,
) -> anyhow::Result<QueryResult> {
    let q = qr.shared.clone();
    let total: usize = qr.arms.iter().map(|a| a.1).sum();
    // Folder names take the width of the largest number of the whole spec's numbering
    // (a `--arm` re-try keeps the numbers of the full run).
    let largest: usize = qr.exp.arms.iter().map(|a| a.generation.workers as usize).sum();
    let mut rec = Recorder {
        run: qr.run.clone(),
        records: qr.already.iter().map(|(k, v)| (*k, GenStat::from_record(v))).collect(),
        skipped: BTreeMap::new(),
        last_summary: Instant::now(),
        arms: qr.arms.clone(),
        total,
        largest,
        started: Instant::now(),
        query_id: &q.inputs.query.id,
        run_id: &q.run_id,
        lane: &q.lane,
    };
    console.on_event(&Event::QueryStarted {
        query_id: q.inputs.query.id.clone(),
        run_dir: qr.run.path.clone(),
        total,
        largest_gen: largest,
        already_done: qr.already.len(),
    });
    for n in &qr.notes {
        console.on_event(&Event::Note(n.clone()));
    }
    // What a resumed folder already holds counts toward stop_when.
    for v in qr.already.values() {
        if let Some(arm) = qr.exp.arms.iter().position(|a| v["arm_name"].as_str() == Some(a.name.as_str())) {
            q.stop.record(arm, v);
        }
    }
    rec.write_summary(&rec.summary(false, Vec::new()))?;

    if !q.no_validate {
        let qb = q.clone();
        tokio::spawn(async move {
            let base = qb.reference().await;
            if let Ok(r) = &base {
                let _ = qb.events.send(Event::Note(instance_survey(&r.base, &qb.primary, &r.extras))).await;
                if let Some(j) = r.rebinding_json() {
                    let note = match j["applied"].as_bool() {
                        Some(true) => format!(
                            "the original has {} row(s) of evidence as written: candidates are judged re-bound ({})",
                            j["evidence_written"], j["description"].as_str().unwrap_or("")
                        ),
                        _ => format!("the original has {} row(s) of evidence and re-binding did not help ({}): candidates that agree are inconclusive", j["evidence_written"], j["why"].as_str().unwrap_or("")),
                    };
                    let _ = qb.events.send(Event::Note(note)).await;
                }
            }
            if let Err(v) = base {
                let why = format!("{}: {}", v.reason().unwrap_or("error"), v.message().unwrap_or_default());
                let note = format!(
                    "warning: the original cannot serve as a reference on this DB ({why}); every candidate \
                     of this query will be {}. Point database.path at a DB where it returns rows",
                    v.status()
                );
                let _ = qb.events.send(Event::Note(note)).await;
            }
        });
    }
    let mut pending = qr.jobs.len();
    let mut fatal: Option<String> = None;
    let mut first_llm_error: Option<String> = None;
    spawn_jobs(q.clone(), qr.jobs);
    while pending > 0 {
        let Some(ev) = rx.recv().await else { break };
        match &ev {
            Event::GenFinished(o) => {
                pending -= 1;
                if o.record["reason"] == "llm_error" && first_llm_error.is_none() {
                    first_llm_error = o.record["error"].as_str().map(str::to_string);
                }
                if fatal.is_some() {
                    // Finished after the run was stopped: left unrecorded for --resume.
                    continue;
                }
                if let Err(e) = rec.on_finished(o) {
                    // Disk full or another fatal I/O error: stop like Ctrl+C, no more LLM calls.
                    console.emit(&format!("error: {e:#}\n  stopping the run: no more LLM calls; fix the problem, then --resume"));
                    q.cancel.cancel();
                    fatal = Some(format!("{e:#}"));
                } else if q.stop.record(o.arm, &o.record) {
                    let name = qr.exp.arms.get(o.arm).map(|a| a.name.as_str()).unwrap_or("?");
                    console.emit(&format!(
                        "  stop_when met for arm {name} ({}): its remaining generations are skipped",
                        q.stop.describe()
                    ));
                }
                if let Some(why) = q.budget.take_reason() {
                    console.emit(&format!("  {why}"));
                }
            }
            Event::Abandoned { .. } => pending -= 1,
            Event::Skipped { number, arm, reason } => {
                pending -= 1;
                let name = qr.exp.arms.get(*arm).map(|a| a.name.clone()).unwrap_or_default();
                // Written with the next summary (a skip costs nothing to redo).
                rec.skipped.insert(*number, Skip { arm: name, reason: reason.to_string() });
            }
            _ => {}
        }
        console.on_event(&ev);
    }
    let interrupted = q.cancel.is_cancelled();
    let confirmations = if interrupted || q.no_validate { Vec::new() } else { confirm_bests(&q, &rec, console).await };
    if let (Some(plan), false, false, None) = (&qr.confirm, q.cancel.is_cancelled(), q.no_validate, &fatal) {
        let inp = super::confirm::StageInputs {
            run: &rec.run,
            query_id: &q.inputs.query.id,
            sql: &q.inputs.target_sql,
            target: &plan.target,
            cfg: plan.cfg.clone(),
            top: plan.top,
            min_speedup: plan.min_speedup,
            largest_gen: largest,
            run_id: &q.run_id,
            fresh_baseline: false,
        };
        let out = super::confirm::run_stage(inp, &q.lane, &q.cancel, &mut |ev| console.on_event(&ev)).await;
        // The summary reads each generation's `confirm` from disk, like a resume would.
        for (n, v) in rec.run.completed_gens() {
            if let Some(g) = rec.records.get_mut(&n) {
                *g = GenStat::from_record(&v);
            }
        }
        if let Some(f) = out.fatal {
            console.emit(&format!("error: {f}\n  stopping the run; fix the problem, then --resume"));
            q.cancel.cancel();
            fatal = Some(f);
        }
    }
    let interrupted = q.cancel.is_cancelled();
    let summary = rec.summary(interrupted, confirmations);
    match (&fatal, rec.write_summary(&summary)) {
        (_, Ok(())) => {}
        // The last summary on disk stays true: it counts what was recorded before the failure.
        (Some(_), Err(_)) => {}
        (None, Err(e)) => return Err(e),
    }
    if fatal.is_some() {
        let _ = crate::files::atomic::remove_temp_entries(&qr.run.path);
    } else if let Err(e) = crate::report::write_report(&qr.run.path) {
        console.emit(&format!("warning: the report was not written: {e:#}"));
    }
    console.on_event(&Event::QueryFinished { summary: summary.clone(), run_dir: qr.run.path.clone() });
    let infra = super::fatal::infrastructure_failure(&q, &rec.records, first_llm_error);
    Ok(QueryResult { summary, run_dir: qr.run.path, interrupted: interrupted && fatal.is_none(), fatal, infra })
}

/// Start the jobs with backpressure: at most a few more generations in progress than LLM
/// calls and checks can run, so a 100,000-generation run never holds 100,000 prompts.
/// Jobs not started when the run is cancelled are reported as abandoned.
fn spawn_jobs(q: Arc<QueryShared>, jobs: Vec<Job>) {
    let in_flight = q.arms.iter().map(|a| a.arm.llm.max_concurrency).max().unwrap_or(1) * 2 + 4;
    let slots = Arc::new(Semaphore::new(in_flight));
    tokio::spawn(async move {
        for job in jobs {
            let permit = tokio::select! {
                p = slots.clone().acquire_owned() => p.ok(),
                _ = q.cancel.cancelled() => None,
            };
            let Some(permit) = permit else {
                let _ = q.events.send(Event::Abandoned { number: job.r#gen }).await;
                continue;
            };
            if q.stop.is_met(job.arm) {
                let _ = q.events.send(Event::Skipped { number: job.r#gen, arm: job.arm, reason: STOP_WHEN }).await;
                continue;
            }
            let qj = q.clone();
            tokio::spawn(async move {
                let ev = match super::generation::run_generation(qj.clone(), job).await {
                    GenEnd::Done(o) => Event::GenFinished(o),
                    GenEnd::Skipped(reason) => Event::Skipped { number: job.r#gen, arm: job.arm, reason },
                    GenEnd::Cancelled => Event::Abandoned { number: job.r#gen },
                };
                let _ = qj.events.send(ev).await;
                drop(permit);
            });
        }
    });
}

/// Winner's curse: re-time each arm's best distinct candidate in fresh rounds, with that
/// arm's validation settings; a candidate that is the best of several arms is re-timed once.
async fn confirm_bests(q: &Arc<QueryShared>, rec: &Recorder<'_>, console: &Console) -> Vec<Value> {
    let facts: Vec<GenFacts> = rec.records.iter().map(|(n, g)| GenFacts { number: *n, ..g.facts.clone() }).collect();
    // (validated generation, screening speedup, arms it is the best of, settings' arm index)
    let mut picks: Vec<(u32, f64, Vec<String>, usize)> = Vec::new();
    for (arm, _) in &rec.arms {
        let Some(best) = figures::figures(facts.iter().filter(|g| &g.arm == arm)).best_screening else { continue };
        let root = facts.iter().find(|g| g.number == best.number).map(GenFacts::root).unwrap_or(best.number);
        match picks.iter_mut().find(|p| p.0 == root) {
            Some(p) => p.2.push(arm.clone()),
            None => {
                let idx = q.arms.iter().position(|a| &a.arm.name == arm).unwrap_or(0);
                picks.push((root, best.speedup, vec![arm.clone()], idx));
            }
        }
    }
    let mut out = Vec::new();
    for (number, screening, arms, idx) in picks {
        if q.cancel.is_cancelled() {
            break;
        }
        if let Some(c) = confirm_one(q, rec, console, number, screening, idx).await {
            let mut c = c;
            c["arms"] = json!(arms);
            out.push(c);
        }
    }
    out
}

async fn confirm_one(q: &Arc<QueryShared>, rec: &Recorder<'_>, console: &Console, number: u32, screening: f64, arm: usize) -> Option<Value> {
    let dir = rec.run.find_gen(number)?;
    let sql = std::fs::read_to_string(dir.join(layout::OPTIMIZED)).ok()?;
    let reference = q.reference().await.ok()?;
    let (base, sql) = (reference.base.clone(), reference.candidate_sql(&sql).ok()?);
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    console.line(&format!("  confirming {name} ({screening:.2}x) in fresh timing rounds..."));
    let (db, cfg, lane) = (q.db.clone(), q.vcfg.get(arm).unwrap_or(&q.base_cfg).clone(), q.lane.clone());
    let timing = super::spawn_duckdb(move || validate::confirm(&db, &base, &sql, &cfg, &lane)).await.ok()??;
    let t = serde_json::to_value(&timing).ok()?;
    Some(json!({"gen": number, "gen_name": name, "screening_speedup": screening, "confirmed_speedup": t["speedup"],
                "ci95": t["ci95"], "win": t["win"], "timing": t}))
}
