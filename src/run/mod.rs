//! Orchestration of `qt run`: resolve the DB, build clients and prompts once, then run
//! each query's jobs concurrently (see `query.rs`), with cancellation and resume.
//! It emits events and hands results to record/ and report/; it formats nothing itself.

pub mod budget;
pub mod cancel;
pub mod confirm;
pub mod fatal;
pub mod generation;
pub mod plan;
pub mod plan_examples;
pub mod prompts;
pub mod query;
pub mod resume;
pub mod select;
pub mod setup;
pub mod shard;
pub mod stop_when;

use anyhow::Context as _;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc};

use crate::error::{BadInput, EXIT_INTERRUPTED};
use crate::report::{Console, sweep};
use crate::spec::shard::ShardArg;
use crate::spec::{self, Experiment};
use crate::validate::instances::Instance;
use crate::validate::{TimingLane, ValidatorConfig};

/// What `qt run` was asked to do (`commands/run.rs` builds it from the flags).
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The experiment spec (TOML).
    pub spec: PathBuf,
    /// `Some(None)`: continue the latest run folder of each query; `Some(Some(dir))`: that one.
    pub resume: Option<Option<PathBuf>>,
    /// Neither read nor write the LLM response cache.
    pub no_cache: bool,
    /// Record answers and assembled SQL only.
    pub no_validate: bool,
    /// Errors and the RESULTS block only.
    pub quiet: bool,
    /// The summary as JSON on stdout.
    pub json: bool,
    /// Only these queries / arms of the spec (generation numbers stay the whole spec's).
    pub queries: Vec<String>,
    pub arms: Vec<String>,
    /// A fresh set of LLM samples: generation.samples_seed = N.
    pub repeat: Option<u64>,
    /// With `resume`: accept a folder made by an earlier version of the spec.
    pub force: bool,
    pub fail_on: Option<FailOn>,
    /// Run one shard of the spec.
    pub shard: Option<ShardArg>,
    /// `--set KEY=VALUE` and its shortcuts, applied by the spec loader (recorded in
    /// config.json; part of the resume identity).
    pub overrides: Vec<spec::Override>,
}

/// Stricter exit-code gates for CI (`--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// No generation passed validation.
    NoneValid,
    /// Some generation ended with status `error`.
    AnyError,
}

/// `qt run SPEC`: returns the process exit code (0 done, 1 failure, 130 interrupted);
/// bad input is an error carrying [`BadInput`].
pub fn run(args: &RunOptions) -> anyhow::Result<i32> {
    let mut exp = spec::load_with_overrides(&args.spec, &args.overrides)?;
    let sel = select::Selection::apply(&mut exp, &args.queries, &args.arms, args.repeat)?;
    for w in spec::limits::warnings(&exp) {
        crate::errln!("{w}");
    }
    match &args.resume {
        Some(Some(dir)) => resume::check_explicit(&exp, dir, args.force)?,
        Some(None) => resume::check_latest(&exp, args.force)?,
        None => {}
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(8)
        .build()
        .context("starting the async runtime")?;
    let result = rt.block_on(run_experiment(exp, &sel, args));
    // Blocking work may still be inside DuckDB (the original's baseline when every LLM
    // call failed fast, a validation abandoned by Ctrl+C): interrupt it and wait for it,
    // so the process never exits under a running query (see `crate::stop`).
    crate::stop::request_stop();
    rt.shutdown_timeout(crate::stop::EXIT_WAIT);
    result
}

/// `spawn_blocking` for work that may enter DuckDB: it counts as busy while it runs, so
/// the process does not exit under it (`crate::stop`).
pub(crate) fn spawn_duckdb<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> tokio::task::JoinHandle<R> {
    tokio::task::spawn_blocking(move || {
        let _busy = crate::stop::busy();
        f()
    })
}

async fn run_experiment(mut exp: Experiment, sel: &select::Selection, args: &RunOptions) -> anyhow::Result<i32> {
    let sharded = shard::resolve(args.shard.as_ref())?;
    if sharded.is_some() && (!sel.query_filter.is_empty() || !sel.arm_filter.is_empty()) {
        return Err(BadInput(
            "--shard cannot be combined with --query or --arm: a shard is a fixed slice of the whole spec; \
             re-try a part of a shard with --query/--arm without --shard"
                .into(),
        )
        .into());
    }
    if let Some(s) = &sharded {
        exp.output_dir = shard::shard_dir(&exp.output_dir, &s.shard);
    }
    // The shard's jobs are chosen before the resume filter, so resuming never moves jobs.
    let all_jobs = if sharded.is_some() { shard::select_jobs(&exp, sharded.as_ref()) } else { sel.jobs(&exp) };
    let mut console = Console::new(args.quiet, args.json);
    console.header(&exp.name, &exp.description, all_jobs.len(), &exp.output_dir);
    if let Some(s) = &sharded {
        console.line(&format!("  shard {} ({}): {}", s.shard, s.source, shard::describe(&exp, &all_jobs)));
    }
    let running: Vec<usize> = all_jobs.iter().map(|j| j.arm).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let prices = Arc::new(budget::resolve_prices(&exp, &running)?);
    for n in budget::unknown_price_notes(&exp, &prices, &running) {
        console.line(&format!("  {n}"));
    }

    let db = setup::resolve_db(&exp, args.quiet).await?;
    {
        let (exp2, db2) = (exp.clone(), db.clone());
        tokio::task::spawn_blocking(move || setup::check_query_tables(&exp2, &db2)).await??;
    }
    let mut db_info = setup::DbInfo::read(&db)?;
    db_info.engine_settings = {
        let (exp2, db2) = (exp.clone(), db.clone());
        tokio::task::spawn_blocking(move || setup::engine_settings(&exp2, &db2)).await??
    };
    if let Some(g) = exp.database.gen_spec() {
        // Slices of one sample share schema and nearly all counts: name them.
        db_info.fingerprint["generated"] = serde_json::to_value(&g)?;
        db_info.key = format!("{}:{}", db_info.key, g.key());
    }
    let validating = !(args.no_validate || exp.resolved.validation.skip);
    let instances =
        Arc::new(if validating { setup::resolve_instances(&exp, args.quiet).await? } else { Vec::new() });
    let primary = Instance::of(db.clone(), setup::primary_label(&exp, &db));
    setup::check_extra_tables(&exp, &db, &instances)?;
    // The full-size DB is built (once) and checked before any LLM call.
    let confirm = if validating { confirm::prepare(&exp, &db, args.quiet).await? } else { None };
    if let Some(c) = &confirm {
        db_info.confirm = Some(c.target.config_json());
    }
    let arms = Arc::new(prompts::load_arms(&exp)?);
    let clients = setup::clients(&exp, args.no_cache)?;
    let cancel = cancel::Cancel::default();
    let _on_stop = cancel.follow_stop();
    let lane = TimingLane::new();
    let run_id = crate::record::runs::new_run_id(&exp.spec_sha256);
    // Correctness checks get the cores the timing lane (validation.threads) leaves free.
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let queries: Vec<usize> = shard::gens_by_query(&all_jobs).into_keys().collect();
    let limit = exp.resolved.generation.budget_usd;
    let already = if limit.is_some() { setup::already_spent(&exp, &queries, &args.resume) } else { 0.0 };
    let budget = Arc::new(budget::Budget::new(limit, already));
    if let Some(b) = limit {
        let before = if already > 0.0 { format!(" (${already:.4} already spent by the folders resumed)") } else { String::new() };
        console.line(&format!("  budget: ${b:.4}{before}; requests stop once it is spent"));
    }
    if let Some(why) = budget.take_reason() {
        console.emit(&format!("  {why}"));
    }

    let base_cfg = ValidatorConfig::from_spec(&exp.resolved.validation);
    // Every query is checked (plan, DAG, all prompts) before any output folder is made.
    let mut preflights = Vec::new();
    for &qi in &queries {
        if cancel.is_cancelled() {
            console.emit("interrupted before any generation started; nothing was written");
            if args.json {
                crate::outln!("{}", json!({"interrupted": true, "exit_code": EXIT_INTERRUPTED}));
            }
            return Ok(EXIT_INTERRUPTED);
        }
        preflights.push((qi, setup::preflight(&exp, &all_jobs, qi, &arms, &db, &db_info, &base_cfg).await?));
    }
    let _shard_lock = match &sharded {
        Some(_) => Some(shard::lock_shard(&exp.output_dir, args.quiet).await?),
        None => None,
    };
    if let Some(s) = &sharded {
        let record = shard::shard_json(&exp, s, &db, &db_info, &all_jobs);
        shard::write_shard_json(&exp.output_dir, record, args.resume.is_some())?;
    }

    let mut finished: Vec<query::QueryResult> = Vec::new();
    let mut interrupted = false;
    for (qi, pre) in preflights {
        if cancel.is_cancelled() {
            interrupted = !finished.iter().any(|r| r.fatal.is_some());
            break;
        }
        let prepared = setup::open_run(&exp, pre, &db, &db_info, args, sel, &run_id)?;
        // Held until this query is finished: one writer per run folder.
        let _lock = prepared.lock;
        let (tx, rx) = mpsc::channel(256);
        let shared = Arc::new(query::QueryShared {
            inputs: prepared.inputs,
            arms: arms.clone(),
            clients: clients.clone(),
            db: db.clone(),
            vcfg: exp.arms.iter().map(|a| ValidatorConfig::from_spec(&a.validation)).collect(),
            base_cfg: base_cfg.clone(),
            lane: lane.clone(),
            reference: tokio::sync::OnceCell::new(),
            primary: primary.clone(),
            instances: instances.clone(),
            validate_slots: Semaphore::new(cores.saturating_sub(base_cfg.threads as usize).max(1)),
            lane_queue: Semaphore::new(1),
            dedup: exp.resolved.validation.dedup,
            seen: Default::default(),
            cancel: cancel.clone(),
            events: tx,
            no_validate: args.no_validate || exp.resolved.validation.skip,
            run_id: run_id.clone(),
            prices: prices.clone(),
            budget: budget.clone(),
            stop: stop_when::StopWhen::new(exp.resolved.generation.stop_when, exp.arms.len()),
        });
        let jobs = all_jobs
            .iter()
            .filter(|j| j.query == qi && !prepared.already.contains_key(&j.r#gen))
            .copied()
            .collect();
        let arms = match &sharded {
            Some(_) => shard::arm_totals(&exp, &all_jobs, qi),
            None => sel.arm_list(&exp),
        };
        let qr = query::QueryRun {
            exp: &exp,
            jobs,
            arms,
            run: prepared.run,
            already: prepared.already,
            notes: prepared.notes,
            shared,
            confirm: confirm.clone(),
        };
        let res = query::run_query(qr, rx, &mut console).await?;
        interrupted |= res.interrupted;
        finished.push(res);
    }
    let results: Vec<(Value, std::path::PathBuf)> = finished.iter().map(|r| (r.summary.clone(), r.run_dir.clone())).collect();

    let mut sweep = sweep::sweep_json(&exp.name, &results);
    sweep["run_id"] = serde_json::json!(run_id);
    let previous = crate::record::runs::read_experiment_summary(&exp.output_dir);
    if results.len() > 1 || sel.arms.len() > 1 || sharded.is_some() || previous.is_some() {
        let exists = |r: &Value| crate::record::runs::row_run_exists(&exp.output_dir, r);
        let view = sweep::experiment_view(previous.as_ref(), &sweep, &exists);
        let own = crate::record::runs::write_sweep_summary(
            &exp.output_dir,
            &run_id,
            &serde_json::to_vec_pretty(&sweep)?,
            &serde_json::to_vec_pretty(&view)?,
        )?;
        console.emit(&format!("\nSWEEP {}\n{}", exp.name, sweep::sweep_table(&view)));
        console.emit(&format!("  saved in:   {} (this run: {})", exp.output_dir.join(crate::record::layout::SUMMARY_JSON).display(), own.display()));
        match crate::report::write_report(&exp.output_dir) {
            Ok(p) => console.emit(&format!("  report:     {}", p.display())),
            Err(e) => console.emit(&format!("warning: the sweep report was not written: {e:#}")),
        }
    }
    let (code, why) = fatal::exit_code(&finished, interrupted, args.fail_on);
    if let Some(why) = &why {
        crate::errln!("error: {why}");
    }
    if args.json {
        let mut out = if results.len() == 1 && sel.arms.len() == 1 { results[0].0.clone() } else { sweep };
        if let Some(why) = &why {
            out["error"] = json!(why);
        }
        out["exit_code"] = json!(code);
        crate::outln!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(code)
}
