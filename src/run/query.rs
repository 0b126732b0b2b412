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
use crate::report::events::Event;
use super::prompts::{ArmPrompts, QueryInputs};
use crate::llm::Client;
use crate::record::layout::{self, GenFiles};
use crate::record::summary::{GenStat, SummaryContext, summary_json, summary_text};
use crate::record::RunDir;
use crate::report::Console;
use crate::spec::{Experiment, Job};
use crate::validate::instances::{self, Checked, Extras, Instance};
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
    pub baseline: OnceCell<Result<Arc<Baseline>, Arc<Verdict>>>,
    /// The primary DB as an instance (label, fingerprint) and the extra instances.
    pub primary: Instance,
    pub instances: Arc<Vec<Instance>>,
    /// The original's baselines on the extra instances, computed once.
    pub extras: OnceCell<Arc<Extras>>,
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
}

impl QueryShared {
    /// The original's baseline, computed once (self-consistency, emptiness, timing).
    pub async fn baseline(&self) -> Result<Arc<Baseline>, Arc<Verdict>> {
        self.baseline
            .get_or_init(|| async {
                let (db, sql, cfg, lane) =
                    (self.db.clone(), self.inputs.target_sql.clone(), self.base_cfg.clone(), self.lane.clone());
                let r = tokio::task::spawn_blocking(move || validate::prepare_baseline(&db, &sql, &cfg, &lane)).await;
                match r {
                    Ok(Ok(b)) => Ok(Arc::new(b)),
                    Ok(Err(v)) => Err(Arc::new(v)),
                    Err(e) => Err(Arc::new(internal(format!("baseline task failed: {e}")))),
                }
            })
            .await
            .clone()
    }

    /// The original on every extra instance (and the tables it reads), computed once.
    pub async fn extras(&self) -> Arc<Extras> {
        self.extras
            .get_or_init(|| async {
                let (primary, inst, sql, cfg) =
                    (self.primary.clone(), self.instances.clone(), self.inputs.target_sql.clone(), self.base_cfg.clone());
                let r = tokio::task::spawn_blocking(move || Extras::prepare(&primary, &inst, &sql, &cfg)).await;
                Arc::new(r.unwrap_or_default())
            })
            .await
            .clone()
    }

    /// Validate a candidate on every instance; `None` when cancelled while waiting. With
    /// dedup on, identical candidates of the query (same normalized SQL, same validation
    /// settings) are validated once: the others get the same verdict and, as second
    /// value, the number of the generation that was validated (recorded as `same_as`).
    pub async fn validate(&self, number: u32, arm: usize, sql: String) -> Option<(Checked, Option<u32>)> {
        let base = match self.baseline().await {
            Ok(b) => b,
            Err(v) => return Some(((*v).clone().into(), None)),
        };
        if validate::dedup::normalize(&sql) == validate::dedup::normalize(&base.original_sql) {
            let v = Verdict::Inconclusive {
                reason: validate::Reason::NoChange,
                rows: None,
                message: "the candidate is the original query again (same text after normalizing layout); nothing to measure".into(),
            };
            return Some((v.into(), None));
        }
        if !self.dedup {
            return self.validate_fresh(number, arm, base, sql).await.map(|v| (v, None));
        }
        let key = format!("{:?}\n{}", self.vcfg[arm], validate::dedup::normalize(&sql));
        let cell = self.seen.lock().unwrap_or_else(|e| e.into_inner()).entry(key).or_default().clone();
        // The first to arrive validates; the others wait for its verdict. If it is
        // cancelled, the cell stays empty and a waiter validates instead.
        let init = || async {
            let v = self.validate_fresh(number, arm, base.clone(), sql.clone()).await;
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
    /// one is timed.
    async fn validate_fresh(&self, number: u32, arm: usize, base: Arc<Baseline>, sql: String) -> Option<Checked> {
        let cfg = self.vcfg[arm].clone();
        let extras = self.extras().await;
        let checked = {
            let _slot = tokio::select! {
                s = self.validate_slots.acquire() => s.ok()?,
                _ = self.cancel.cancelled() => return None,
            };
            let _ = self.events.send(Event::ValidationStarted { number }).await;
            let (db, base, sql, cfg) = (self.db.clone(), base.clone(), sql.clone(), cfg.clone());
            let task = tokio::task::spawn_blocking(move || {
                instances::check_correctness(&db, &base, &extras, &sql, &cfg)
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
                let (db, lane) = (self.db.clone(), self.lane.clone());
                let task =
                    tokio::task::spawn_blocking(move || validate::time_checked(&db, &base, &cfg, &lane, eq));
                let verdict = tokio::select! {
                    r = task => r.unwrap_or_else(|e| internal(format!("timing task failed: {e}"))),
                    _ = self.cancel.cancelled() => return None,
                };
                Checked { verdict, instances: reports }
            }
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
    last_summary: Instant,
    arms: Vec<(String, usize)>,
    total: usize,
    /// The largest generation number of the whole spec (sets `gen_NN`'s width).
    largest: usize,
    started: Instant,
    query_id: &'a str,
    run_id: &'a str,
}

impl Recorder<'_> {
    fn summary(&self, interrupted: bool, confirmed: Option<Value>) -> Value {
        let ctx = SummaryContext {
            query_id: self.query_id,
            total: self.total,
            largest_gen: self.largest,
            arms: &self.arms,
            elapsed_seconds: self.started.elapsed().as_secs_f64(),
            interrupted,
            confirmed,
        };
        let mut s = summary_json(&self.records, &ctx);
        s["run_id"] = json!(self.run_id);
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
            self.write_summary(&self.summary(false, None))?;
            self.last_summary = Instant::now();
        }
        Ok(())
    }

    fn on_finished(&mut self, o: &crate::report::events::GenOutcome) -> anyhow::Result<()> {
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
        last_summary: Instant::now(),
        arms: qr.arms.clone(),
        total,
        largest,
        started: Instant::now(),
        query_id: &q.inputs.query.id,
        run_id: &q.run_id,
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
    rec.write_summary(&rec.summary(false, None))?;

    if !q.no_validate {
        let qb = q.clone();
        tokio::spawn(async move {
            let base = qb.baseline().await;
            if let Ok(b) = &base {
                let extras = qb.extras().await;
                let _ = qb.events.send(Event::Note(instance_survey(b, &qb.primary, &extras))).await;
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
                }
            }
            Event::Abandoned { .. } => pending -= 1,
            _ => {}
        }
        console.on_event(&ev);
    }
    let interrupted = q.cancel.is_cancelled();
    let confirmed = if interrupted || q.no_validate { None } else { confirm_best(&q, &rec, console).await };
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
    let summary = rec.summary(interrupted, confirmed);
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
            let qj = q.clone();
            tokio::spawn(async move {
                let ev = match super::generation::run_generation(qj.clone(), job).await {
                    Some(o) => Event::GenFinished(Box::new(o)),
                    None => Event::Abandoned { number: job.r#gen },
                };
                let _ = qj.events.send(ev).await;
                drop(permit);
            });
        }
    });
}

/// Winner's curse: re-time the best generation in fresh rounds.
async fn confirm_best(q: &Arc<QueryShared>, rec: &Recorder<'_>, console: &Console) -> Option<Value> {
    let (number, screening) = rec
        .records
        .iter()
        .filter(|(_, g)| g.is_pass())
        .filter_map(|(n, g)| g.speedup.map(|s| (*n, s)))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let dir = rec.run.find_gen(number)?;
    let sql = std::fs::read_to_string(dir.join(layout::OPTIMIZED)).ok()?;
    let base = q.baseline().await.ok()?;
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    console.line(&format!("  confirming {name} ({screening:.2}x) in fresh timing rounds..."));
    let (db, cfg, lane) = (q.db.clone(), q.base_cfg.clone(), q.lane.clone());
    let timing = tokio::task::spawn_blocking(move || validate::confirm(&db, &base, &sql, &cfg, &lane)).await.ok()??;
    let t = serde_json::to_value(&timing).ok()?;
    Some(json!({"gen": number, "screening_speedup": screening, "confirmed_speedup": t["speedup"], "ci95": t["ci95"], "timing": t}))
}
