//! `qt confirm DIR --db FILE`: the confirmation stage after the fact, on run folders made
//! earlier (here or on another machine): the same picks, checks, records and report
//! refresh as `[validation.confirm]` in `qt run`, one run folder at a time under its lock.
//! Everything is checked before any candidate runs: every folder is a qt run, the DB is
//! not the run's own sample, and each query binds there (exit 2 otherwise).
//!
//! Settings come from the run's config.json (its `[validation]` and `[validation.confirm]`),
//! then the flags. Exit codes: 0 done, 1 a candidate is wrong at full size or a record
//! could not be written, 2 bad input, 130 interrupted (run it again to continue).

use anyhow::Context as _;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

use super::stage::{StageInputs, run_stage};
use super::target::{ConfirmTarget, StageSettings, stage_config};
use crate::db::Target;
use crate::error::{BadInput, EXIT_INTERRUPTED};
use crate::record::{RunDir, confirm as rec, layout};
use crate::report::Console;
use crate::report::events::Event;
use crate::validate::{TimingLane, ValidatorConfig};

/// What `qt confirm` was asked (flags already range-checked by commands/).
#[derive(Debug, Clone)]
pub struct ConfirmOptions {
    pub dir: PathBuf,
    pub db: PathBuf,
    pub label: Option<String>,
    pub top: Option<u32>,
    pub min_speedup: Option<f64>,
    pub rounds: Option<u32>,
    pub threads: Option<u32>,
    pub json: bool,
    pub quiet: bool,
    /// Recompute the original's baseline instead of reading the baseline cache.
    pub fresh_baseline: bool,
}

/// One run folder, ready for the stage.
struct Prepared {
    run: RunDir,
    query_id: String,
    sql: String,
    cfg: ValidatorConfig,
    top: u32,
    min_speedup: Option<f64>,
    largest_gen: usize,
}

fn read_json(p: &Path) -> Option<Value> {
    std::fs::read_to_string(p).ok().and_then(|t| serde_json::from_str(&t).ok())
}

fn prepare(o: &ConfirmOptions, target: &ConfirmTarget, run: RunDir) -> anyhow::Result<Prepared> {
    let cfg = read_json(&run.file(layout::CONFIG))
        .ok_or_else(|| BadInput(format!("{}: not a qt run folder (no readable config.json)", run.path.display())))?;
    let query_id = cfg["query_id"].as_str().unwrap_or("?").to_string();
    let original = std::fs::read_to_string(run.file(layout::ORIGINAL))
        .map_err(|e| BadInput(format!("{}: {e}; the run folder is incomplete", run.file(layout::ORIGINAL).display())))?;
    let sql = crate::db::split_statements(&original).into_iter().next().unwrap_or(original.clone());
    // The run's own sample DB: by path where it exists here, else by its recorded fingerprint.
    let primary = cfg["database"]["path"].as_str().map(PathBuf::from).filter(|p| p.is_file()).map(Target::from);
    if let Some(p) = &primary {
        target.refuse_primary(p)?;
    }
    let fp = &cfg["database"]["fingerprint"];
    if fp["sha256"].as_str() == Some(target.fingerprint.as_str()) && fp["file_size"].as_u64() == Some(target.file_size) {
        return Err(BadInput(format!(
            "{} is the sample DB run {} was screened on (same fingerprint); confirm on a full-size database",
            target.target.display(),
            run.path.display()
        ))
        .into());
    }
    target.check_queries(primary.as_ref(), &[(query_id.clone(), run.file(layout::ORIGINAL), sql.clone())])?;
    let validation: crate::spec::ValidationCfg = serde_json::from_value(cfg["spec"]["validation"].clone()).unwrap_or_default();
    let mut settings = validation.confirm.as_ref().map(StageSettings::from).unwrap_or_default();
    settings.timing_rounds = o.rounds.or(settings.timing_rounds);
    settings.threads = o.threads.or(settings.threads);
    let summary = read_json(&run.file(layout::SUMMARY_JSON)).unwrap_or(Value::Null);
    let largest_gen = summary["largest_gen"]
        .as_u64()
        .or(cfg["total_generations"].as_u64())
        .map(|n| n as usize)
        .unwrap_or_else(|| run.gen_folder_paths().last().map(|(n, _)| *n as usize).unwrap_or(1));
    Ok(Prepared {
        top: o.top.or(validation.confirm.as_ref().map(|c| c.top.clamp(1, crate::spec::confirm::MAX_TOP) as u32)).unwrap_or(3),
        min_speedup: o.min_speedup.or(validation.confirm.as_ref().and_then(|c| c.min_speedup)),
        cfg: stage_config(&validation, &settings),
        run,
        query_id,
        sql,
        largest_gen,
    })
}

/// `qt confirm`: returns the exit code.
pub fn confirm(o: &ConfirmOptions) -> anyhow::Result<i32> {
    let runs = rec::run_folders(&o.dir);
    if runs.is_empty() {
        return Err(BadInput(format!(
            "{}: no qt run folder here (a folder with config.json, or an experiment folder holding them); pass the folder `qt run` printed after \"saved in\"",
            o.dir.display()
        ))
        .into());
    }
    let target = ConfirmTarget::open(Target::from(&o.db), o.label.as_deref())?;
    let prepared = runs.into_iter().map(|r| prepare(o, &target, r)).collect::<anyhow::Result<Vec<_>>>()?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let result = rt.block_on(confirm_all(o, &target, prepared));
    rt.shutdown_background();
    result
}

async fn confirm_all(o: &ConfirmOptions, target: &ConfirmTarget, prepared: Vec<Prepared>) -> anyhow::Result<i32> {
    let cancel = crate::run::cancel::Cancel::default();
    let _on_stop = cancel.follow_stop();
    let lane = TimingLane::new();
    let run_id = crate::record::runs::new_run_id(&target.fingerprint);
    let mut console = Console::new(o.quiet, o.json);
    console.line(&format!("qt {} - confirming {} run folder(s) on {} ({})", env!("CARGO_PKG_VERSION"), prepared.len(), target.label, target.target.display()));
    let (mut out, mut code) = (Vec::new(), 0);
    for p in &prepared {
        if cancel.is_cancelled() {
            code = EXIT_INTERRUPTED;
            break;
        }
        let (_lock, note) = crate::run::resume::lock(&p.run.path)?;
        if let Some(n) = note {
            console.line(&format!("  {n}"));
        }
        let inp = StageInputs {
            run: &p.run,
            query_id: &p.query_id,
            sql: &p.sql,
            target,
            cfg: p.cfg.clone(),
            top: p.top,
            min_speedup: p.min_speedup,
            largest_gen: p.largest_gen,
            run_id: &run_id,
            fresh_baseline: o.fresh_baseline,
        };
        let mut finished = Vec::new();
        let stage = run_stage(inp, &lane, &cancel, &mut |ev| {
            if let Event::ConfirmFinished { number, screening, confirm, .. } = &ev {
                finished.push(json!({"gen": number, "screening_speedup": screening, "confirm": confirm}));
            }
            console.on_event(&ev);
        })
        .await;
        let summary = rec::rebuild_summary(&p.run).with_context(|| format!("rewriting the summary of {}", p.run.path.display()))?;
        if let Err(e) = crate::report::write_report(&p.run.path) {
            console.emit(&format!("warning: the report of {} was not written: {e:#}", p.run.path.display()));
        }
        let wrong = summary["full"]["differs"].as_u64().unwrap_or(0);
        console.emit(&format!("\nCONFIRMED q{} on {}\n{}  saved in:   {}", p.query_id, target.label, crate::report::confirm_view::results_lines(&summary), p.run.path.display()));
        if stage.interrupted {
            code = EXIT_INTERRUPTED;
        } else if stage.fatal.is_some() || wrong > 0 {
            code = code.max(1);
        }
        if let Some(f) = &stage.fatal {
            console.emit(&format!("error: {f}"));
        }
        out.push(json!({
            "run_dir": p.run.path, "query_id": p.query_id, "picked": stage.picked, "confirmed": stage.confirmed,
            "already_confirmed": stage.already, "interrupted": stage.interrupted, "error": stage.fatal,
            "confirmations": finished, "full": summary["full"],
        }));
    }
    refresh_sweep(&o.dir, &prepared, &console);
    if code == EXIT_INTERRUPTED {
        console.emit("interrupted: the confirmations recorded so far are kept; run the same `qt confirm` again to continue");
    } else if code == 1 && out.iter().any(|r| r["full"]["differs"].as_u64().unwrap_or(0) > 0) {
        console.emit("exit 1: a candidate that passed on the samples gives another answer at full size (see WRONG AT FULL SIZE above)");
    }
    if o.json {
        let v = json!({"db": target.label, "path": target.target.display(), "fingerprint": target.fingerprint, "run_id": run_id, "runs": out, "exit_code": code});
        crate::outln!("{}", serde_json::to_string_pretty(&v)?);
    }
    Ok(code)
}

/// An experiment folder's summary.json and report, rebuilt from its run folders' new
/// summaries (its name and run id kept).
fn refresh_sweep(dir: &Path, prepared: &[Prepared], console: &Console) {
    let file = dir.join(layout::SUMMARY_JSON);
    let Some(old) = read_json(&file).filter(|v| v["rows"].is_array()) else { return };
    let results: Vec<(Value, PathBuf)> =
        prepared.iter().filter_map(|p| read_json(&p.run.file(layout::SUMMARY_JSON)).map(|s| (s, p.run.path.clone()))).collect();
    let mut sweep = crate::report::sweep::sweep_json(old["name"].as_str().unwrap_or_default(), &results);
    sweep["run_id"] = old["run_id"].clone();
    let written = serde_json::to_vec_pretty(&sweep).map_err(std::io::Error::other).and_then(|b| crate::record::write_atomic(&file, &b));
    if let Err(e) = written.map_err(anyhow::Error::from).and_then(|_| crate::report::write_report(dir).map(|_| ())) {
        console.emit(&format!("warning: the experiment summary in {} was not refreshed: {e:#}", dir.display()));
    }
}
