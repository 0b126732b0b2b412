//! Orchestration of `qt run`: resolve the DB, build clients and prompts once, then run
//! each query's jobs concurrently (see `query.rs`), with cancellation and resume.
//! It emits events and hands results to record/ and report/; it formats nothing itself.

pub mod cancel;
pub mod events;
pub mod generation;
pub mod plan_cmd;
pub mod plan_examples;
pub mod prompts;
pub mod query;
pub mod select;
pub mod setup;

use anyhow::Context as _;
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc};

use crate::cli::RunArgs;
use crate::error::{EXIT_INTERRUPTED, EXIT_OK};
use crate::report::{Console, sweep};
use crate::spec::{self, Experiment};
use crate::validate::instances::Instance;
use crate::validate::{TimingLane, ValidatorConfig};

/// `qt run SPEC`: returns the process exit code.
pub fn run_cmd(args: &RunArgs) -> anyhow::Result<i32> {
    let mut exp = spec::load(&args.spec)?;
    let sel = select::Selection::apply(&mut exp, &args.queries, &args.arms, args.repeat)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(8)
        .build()
        .context("starting the async runtime")?;
    let result = rt.block_on(run_experiment(exp, &sel, args));
    // Do not wait for abandoned blocking work (a validation interrupted by Ctrl+C).
    rt.shutdown_background();
    result
}

async fn run_experiment(exp: Experiment, sel: &select::Selection, args: &RunArgs) -> anyhow::Result<i32> {
    let mut console = Console::new(args.quiet, args.json);
    let per_query = sel.per_query(&exp);
    console.header(&exp.name, &exp.description, per_query * exp.queries.len(), &exp.output_dir);

    let db = setup::resolve_db(&exp, args.quiet).await?;
    let mut db_info = setup::DbInfo::read(&db)?;
    if let Some(g) = exp.database.gen_spec() {
        // Slices of one sample share schema and nearly all counts: name them.
        db_info.fingerprint["generated"] = serde_json::to_value(&g)?;
        db_info.key = format!("{}:{}", db_info.key, g.key());
    }
    let validating = !(args.no_validate || exp.resolved.validation.skip);
    let instances =
        Arc::new(if validating { setup::resolve_instances(&exp, args.quiet).await? } else { Vec::new() });
    let primary = Instance::new(db.clone(), setup::primary_label(&exp, &db));
    setup::check_extra_tables(&exp, &db, &instances)?;
    let arms = Arc::new(prompts::load_arms(&exp)?);
    let clients = setup::clients(&exp, args.no_cache)?;
    let cancel = cancel::Cancel::default();
    cancel.listen_for_signals();
    let lane = TimingLane::new();
    let run_id = crate::record::runs::new_run_id(&exp.spec_sha256);
    let all_jobs = sel.jobs(&exp);
    let slots = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);

    let base_cfg = ValidatorConfig::from_spec(&exp.resolved.validation);
    // Every query is checked (plan, DAG, all prompts) before any output folder is made.
    let mut preflights = Vec::new();
    for qi in 0..exp.queries.len() {
        if cancel.is_cancelled() {
            console.emit("interrupted before any generation started; nothing was written");
            return Ok(EXIT_INTERRUPTED);
        }
        preflights.push(setup::preflight(&exp, &all_jobs, qi, &arms, &db, &db_info, &base_cfg).await?);
    }

    let mut results: Vec<(Value, std::path::PathBuf)> = Vec::new();
    let mut interrupted = false;
    for (qi, pre) in preflights.into_iter().enumerate() {
        if cancel.is_cancelled() {
            interrupted = true;
            break;
        }
        let prepared = setup::open_run(&exp, pre, &db, &db_info, args, sel, &run_id)?;
        let (tx, rx) = mpsc::channel(256);
        let shared = Arc::new(query::QueryShared {
            inputs: prepared.inputs,
            arms: arms.clone(),
            clients: clients.clone(),
            db: db.clone(),
            vcfg: exp.arms.iter().map(|a| ValidatorConfig::from_spec(&a.validation)).collect(),
            base_cfg: base_cfg.clone(),
            lane: lane.clone(),
            baseline: tokio::sync::OnceCell::new(),
            primary: primary.clone(),
            instances: instances.clone(),
            extras: tokio::sync::OnceCell::new(),
            validate_slots: Semaphore::new(slots),
            cancel: cancel.clone(),
            events: tx,
            no_validate: args.no_validate || exp.resolved.validation.skip,
            run_id: run_id.clone(),
        });
        let jobs = all_jobs
            .iter()
            .filter(|j| j.query == qi && !prepared.already.contains_key(&j.r#gen))
            .copied()
            .collect();
        let qr = query::QueryRun {
            exp: &exp,
            jobs,
            arms: sel.arm_list(&exp),
            run: prepared.run,
            already: prepared.already,
            notes: prepared.notes,
            shared,
        };
        let res = query::run_query(qr, rx, &mut console).await?;
        interrupted |= res.interrupted;
        results.push((res.summary, res.run_dir));
    }

    let mut sweep = sweep::sweep_json(&exp.name, &results);
    sweep["run_id"] = serde_json::json!(run_id);
    if results.len() > 1 || sel.arms.len() > 1 {
        let own = crate::record::runs::write_sweep_summary(&exp.output_dir, &run_id, &serde_json::to_vec_pretty(&sweep)?)?;
        console.emit(&format!("\nSWEEP {}\n{}", exp.name, sweep::sweep_table(&sweep)));
        console.emit(&format!("  saved in:   {} (this run: {})", exp.output_dir.join("summary.json").display(), own.display()));
        match crate::report::write_report(&exp.output_dir) {
            Ok(p) => console.emit(&format!("  report:     {}", p.display())),
            Err(e) => console.emit(&format!("warning: the sweep report was not written: {e:#}")),
        }
    }
    if args.json {
        let out = if results.len() == 1 && sel.arms.len() == 1 { results[0].0.clone() } else { sweep };
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(if interrupted { EXIT_INTERRUPTED } else { EXIT_OK })
}
