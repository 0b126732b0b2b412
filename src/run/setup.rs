//! Before any generation: the sample DB (given or generated once), LLM clients (one per
//! arm, one shared concurrency limit), and each query's run folder with config.json,
//! original.sql, plan files and base_prompt.txt. On `--resume` the latest run folder is
//! reused: temp leftovers removed, complete generations kept, results.jsonl rebuilt.

use anyhow::Context as _;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Semaphore;

use super::prompts::{ArmPrompts, QueryInputs, for_each_first_prompt, prompt_digest};
use super::RunOptions;
use crate::db::{self, DEFAULT_GENERATED_INSTANCES, Target};
use crate::error::BadInput;
use crate::llm::{Client, ClientOptions, RetryPolicy};
use crate::record::config::{ConfigInputs, config_json};
use crate::files::lock::FolderLock;
use crate::record::{RunDir, layout};
use crate::spec::{DbSource, Experiment, Job};
use crate::validate::ValidatorConfig;
use crate::validate::instances::Instance;

/// The password of a PostgreSQL `[database]`: its `password_file`, else its
/// `password_env` variable (default PGPASSWORD). Held in memory only.
pub fn pg_password(exp: &Experiment) -> anyhow::Result<Option<String>> {
    let DbSource::Postgres { password_env, password_file, .. } = &exp.database else { return Ok(None) };
    if let Some(f) = password_file {
        let text = std::fs::read_to_string(f).map_err(|e| {
            BadInput(format!("{}: database.password_file {}: {e}", exp.spec_path.display(), f.display()))
        })?;
        return Ok(text.lines().next().map(|l| l.trim().to_string()).filter(|p| !p.is_empty()));
    }
    Ok(std::env::var(password_env).ok().filter(|p| !p.is_empty()))
}

/// A PostgreSQL target of this spec (the primary's URL or an extra instance's), checked:
/// reachable, a SELECT-only role. Bad input names the URL (never the password).
fn pg_target(exp: &Experiment, url: &str, what: &str) -> anyhow::Result<Target> {
    let password = pg_password(exp)?;
    let secrets: Vec<String> = password.iter().cloned().collect();
    let redact = |m: String| crate::llm::url_redact::scrub(&m, &secrets);
    let t = Target::parse(url, password.clone())
        .map_err(|e| BadInput(redact(format!("{}: {what}: {e}", exp.spec_path.display()))))?;
    // A session with every arm's engine settings opens now (a temp_file_limit the role
    // does not have is bad input here, before any LLM call).
    let mut tried: Vec<db::EngineSettings> = Vec::new();
    for s in exp.arms.iter().map(|a| ValidatorConfig::from_spec(&a.validation).engine) {
        if !tried.contains(&s) {
            let at = match crate::spec::limits::line_of(&exp.spec_text, &["validation", "temp_file_limit"]) {
                Some(l) if s.temp_file_limit_kb.is_some() => format!("{}:{l}", exp.spec_path.display()),
                _ => exp.spec_path.display().to_string(),
            };
            t.with_settings(&s)
                .check_open()
                .map_err(|e| BadInput(redact(format!("{at}: {what}: {e}"))))?;
            tried.push(s);
        }
    }
    if tried.is_empty() {
        t.check_open().map_err(|e| BadInput(redact(format!("{}: {what}: {e}", exp.spec_path.display()))))?;
    }
    Ok(t)
}

/// The engine settings a session of the base `[validation]` has, as the engine shows
/// them (config.json `engine_settings`; none for DuckDB).
pub fn engine_settings(exp: &Experiment, db: &Target) -> anyhow::Result<Option<Value>> {
    let shown = db.with_settings(&ValidatorConfig::from_spec(&exp.resolved.validation).engine).settings_in_force()?;
    Ok((!shown.is_empty()).then(|| json!(shown.into_iter().collect::<BTreeMap<_, _>>())))
}

/// The sample DB: the user's file, the cached generated one (built once), or a
/// PostgreSQL database (checked before any LLM call).
pub async fn resolve_db(exp: &Experiment, quiet: bool) -> anyhow::Result<Target> {
    match &exp.database {
        DbSource::Postgres { url, .. } => {
            let (exp2, url) = (exp.clone(), url.clone());
            tokio::task::spawn_blocking(move || pg_target(&exp2, &url, "database.url")).await?
        }
        DbSource::Path(p) => {
            let t = Target::from(p);
            t.check_open().map_err(|e| BadInput(format!("{}: {e}", exp.spec_path.display())))?;
            Ok(t)
        }
        DbSource::Generate { .. } => {
            let g = exp.database.gen_spec().context("generated DB")?;
            super::spawn_duckdb(move || db::ensure_generated_spec(&g, !quiet))
                .await
                .context("sample DB generation task")?
                .map(Target::from)
                .map_err(anyhow::Error::from)
        }
    }
}

/// The extra data instances every candidate must also agree on: for a generated DB its
/// default instances (another slice, a tiny scale, the sparse instance; built once,
/// cached), then every
/// `validation.extra_paths` file. `validation.instances` counts all of them, the primary
/// included (default: 4 + extra paths for a generated DB, 1 + extra paths otherwise);
/// extra paths are always checked, so it limits the generated ones. A file that is not a
/// DuckDB database is bad input.
pub async fn resolve_instances(exp: &Experiment, quiet: bool) -> anyhow::Result<Vec<Instance>> {
    let generated = exp.database.gen_spec();
    let paths = exp.extra_paths.len() as u32;
    let n = exp.instances.unwrap_or(if generated.is_some() { DEFAULT_GENERATED_INSTANCES + paths } else { 1 + paths });
    let mut out = Vec::new();
    let mut servers = Vec::new();
    for p in &exp.extra_paths {
        let text = p.to_string_lossy();
        if db::pg::is_pg_url(&text) {
            let (exp2, url) = (exp.clone(), text.into_owned());
            servers.push(tokio::task::spawn_blocking(move || pg_target(&exp2, &url, "validation.extra_paths")).await??);
            continue;
        }
        Target::from(p)
            .check_open()
            .map_err(|e| BadInput(format!("{}: validation.extra_paths: {e}", exp.spec_path.display())))?;
    }
    if let Some(g) = generated {
        for spec in g.default_instances(n.saturating_sub(paths).max(1)) {
            let s = spec.clone();
            let path = super::spawn_duckdb(move || db::ensure_generated_spec(&s, !quiet))
                .await
                .context("sample DB generation task")??;
            out.push(Instance::new(path, spec.label()));
        }
    }
    for p in exp.extra_paths.iter().filter(|p| !db::pg::is_pg_url(&p.to_string_lossy())) {
        let label = p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        out.push(Instance::new(p.clone(), label));
    }
    for t in servers {
        let label = t.short_label();
        out.push(tokio::task::spawn_blocking(move || Instance::of(t, label)).await?);
    }
    Ok(out)
}

/// Every extra instance must hold the tables each query reads on the primary (a user's
/// extra DB with another schema would only produce errors): else bad input naming both.
pub fn check_extra_tables(exp: &Experiment, primary: &Target, instances: &[Instance]) -> anyhow::Result<()> {
    if instances.is_empty() {
        return Ok(());
    }
    for q in &exp.queries {
        let sql = db::split_statements(&q.sql).into_iter().next().unwrap_or_default();
        let Some(read) = crate::validate::reads::tables_read(primary, &sql) else { continue };
        let names: Vec<String> = read.iter().map(|(n, _)| n.clone()).collect();
        for i in instances {
            let have = i.target.schema(&names).map_err(|e| BadInput(format!("{}: {e}", i.path.display())))?;
            if let Some(missing) = names.iter().find(|n| !have.iter().any(|t| t.name.eq_ignore_ascii_case(n))) {
                let at = match crate::spec::limits::line_of(&exp.spec_text, &["validation", "extra_paths"]) {
                    Some(n) => format!("{}:{n}", exp.spec_path.display()),
                    None => exp.spec_path.display().to_string(),
                };
                return Err(BadInput(format!(
                    "{at}: extra instance {} has no table {missing}, which {} reads; fix validation.extra_paths",
                    i.path.display(),
                    q.path.display(),
                ))
                .into());
            }
        }
    }
    Ok(())
}

/// A server database must hold every table the queries read (a wrong database, schema or
/// search_path would only produce errors): bad input naming the table and the URL, before
/// any LLM call. (A DuckDB file's missing table shows as the original failing.)
pub fn check_query_tables(exp: &Experiment, db: &Target) -> anyhow::Result<()> {
    if db.path().is_some() {
        return Ok(());
    }
    for q in &exp.queries {
        let sql = db::split_statements(&q.sql).into_iter().next().unwrap_or_default();
        let Ok(dag) = crate::dag::parse_first_dag_for(&sql, db.engine()) else { continue };
        let names: BTreeSet<String> = dag.nodes.iter().flat_map(|n| n.tables.iter().cloned()).collect();
        let names: Vec<String> = names.into_iter().collect();
        let have = db.schema(&names).map_err(|e| BadInput(format!("{}: {e}", exp.spec_path.display())))?;
        if let Some(missing) = names.iter().find(|n| !have.iter().any(|t| t.name.eq_ignore_ascii_case(n))) {
            return Err(BadInput(format!(
                "{} reads table {missing}, which {} does not have; load the data (`qt db load`) or fix database.url in {}",
                q.path.display(),
                db.display(),
                exp.spec_path.display()
            ))
            .into());
        }
    }
    Ok(())
}

/// The primary's label in instance reports.
pub fn primary_label(exp: &Experiment, db: &Target) -> String {
    match exp.database.gen_spec() {
        Some(g) => g.label(),
        None => db.short_label(),
    }
}

/// Facts about the DB recorded in every config.json.
pub struct DbInfo {
    pub fingerprint: Value,
    /// The DuckDB library qt is built with (recorded whatever the engine).
    pub duckdb_version: String,
    /// The engine validated on, and its version (recorded for engines other than DuckDB).
    pub engine: db::Engine,
    pub engine_version: String,
    /// Content key for caches derived from the DB (fingerprint hash, size, mtime).
    pub key: String,
    /// The full-size confirm DB (`[validation.confirm]`), recorded as `database.confirm`.
    pub confirm: Option<Value>,
    /// The engine's session settings in force (`engine_settings`), for engines with them.
    pub engine_settings: Option<Value>,
}

impl DbInfo {
    pub fn read(db: &Target) -> anyhow::Result<DbInfo> {
        let fp = db.fingerprint().with_context(|| format!("fingerprinting {}", db.display()))?;
        let key = format!("{}:{}:{}", fp.sha256, fp.file_size, fp.mtime);
        Ok(DbInfo {
            fingerprint: serde_json::to_value(fp)?,
            duckdb_version: db::duckdb_version(),
            engine: db.engine(),
            engine_version: db.version(),
            key,
            confirm: None,
            engine_settings: None,
        })
    }
}

/// One client per arm; all share one in-flight limit (the base spec's max_concurrency).
/// Each uses its arm's `generation.samples_seed` (set by `--repeat N`) in cache keys.
pub fn clients(exp: &Experiment, no_cache: bool) -> anyhow::Result<Vec<Client>> {
    let limiter = Arc::new(Semaphore::new(exp.resolved.llm.max_concurrency.max(1)));
    exp.arms
        .iter()
        .map(|arm| {
            let opts = ClientOptions {
                no_cache,
                cache_dir: None,
                retry: RetryPolicy::default(),
                samples_seed: arm.generation.samples_seed,
                recorded: Some(Arc::new(crate::record::answers::RecordedLayout)),
            };
            let c = Client::new(&arm.llm, arm.api_key_file.as_deref(), arm.responses.as_deref(), opts).map_err(|e| {
                if e.is_bad_input() { anyhow::Error::new(BadInput(e.to_string())) } else { anyhow::Error::new(e) }
            })?;
            Ok(c.with_limiter(limiter.clone()))
        })
        .collect()
}

/// A query ready to run.
pub struct PreparedQuery {
    pub run: RunDir,
    pub inputs: QueryInputs,
    pub already: BTreeMap<u32, Value>,
    pub notes: Vec<String>,
    /// This process's lock on `run`, held until the query is finished.
    pub lock: FolderLock,
}

fn stamp() -> String {
    chrono::Local::now().format("%Y%m%d_%H%M%S").to_string()
}

/// The folder `--resume` continues for a query: the given one when it holds this query,
/// else the query's latest; None without `--resume` or when there is none yet.
pub fn resumed_folder(exp: &Experiment, query_id: &str, resume: &Option<Option<PathBuf>>) -> Option<RunDir> {
    match resume {
        None => None,
        Some(Some(dir)) => {
            let holds = super::resume::read_config(dir).is_ok_and(|c| c["query_id"].as_str() == Some(query_id));
            if holds { Some(RunDir { path: dir.clone() }) } else { RunDir::latest(&exp.output_dir, query_id) }
        }
        Some(None) => RunDir::latest(&exp.output_dir, query_id),
    }
}

/// Dollars the folders this run continues have already spent (their recorded
/// generations' `cost_usd`): a budget covers a run and its resumes.
pub fn already_spent(exp: &Experiment, queries: &[usize], resume: &Option<Option<PathBuf>>) -> f64 {
    queries
        .iter()
        .filter_map(|qi| resumed_folder(exp, &exp.queries[*qi].id, resume))
        .flat_map(|run| run.completed_gens().into_values())
        .filter_map(|v| v["cost_usd"].as_f64())
        .sum()
}

/// Pick (resume) or create the run folder of query `qi`.
fn run_folder(exp: &Experiment, query_id: &str, args: &RunOptions) -> anyhow::Result<(RunDir, bool)> {
    let create = || {
        RunDir::create(&exp.output_dir, query_id, &stamp()).map_err(|e| {
            anyhow::Error::new(BadInput(format!(
                "cannot create the run folder under {}: {e}. Check output.root in {} or the folder's permissions",
                exp.output_dir.display(),
                exp.spec_path.display()
            )))
        })
    };
    if let Some(Some(dir)) = &args.resume {
        // An explicit folder that is not a run folder is bad input, not a fresh start.
        super::resume::read_config(dir)?;
    }
    match resumed_folder(exp, query_id, &args.resume) {
        Some(r) => Ok((r, true)),
        None => Ok((create()?, false)),
    }
}

/// [`run_folder`], then the identity check of a resumed folder and its lock.
fn locked_run_folder(exp: &Experiment, query_id: &str, args: &RunOptions) -> anyhow::Result<(RunDir, bool, FolderLock, Option<String>)> {
    let (run, resumed) = run_folder(exp, query_id, args)?;
    let (lock, note) = super::resume::lock(&run.path)?;
    if resumed {
        let cfg = super::resume::read_config(&run.path)?;
        super::resume::check_query(&cfg, &run.path, query_id)?;
        super::resume::check_identity(exp, &cfg, &run.path, args.force)?;
    }
    Ok((run, resumed, lock, note))
}

/// What can be checked about a query before anything is written: plan analysis, the DAG,
/// and every prompt rendered (a template error stops the run before any folder exists).
pub struct Preflight {
    pub inputs: QueryInputs,
    pub base_prompt: String,
    pub total: usize,
    pub distinct: usize,
}

pub async fn preflight(
    exp: &Experiment,
    jobs: &[Job],
    qi: usize,
    arms: &Arc<Vec<ArmPrompts>>,
    db: &Target,
    db_info: &DbInfo,
    base_cfg: &ValidatorConfig,
) -> anyhow::Result<Preflight> {
    let (dbp, timeout, query) = (db.clone(), base_cfg.original_timeout, exp.queries[qi].clone());
    let key = db_info.key.clone();
    let inputs =
        super::spawn_duckdb(move || QueryInputs::prepare(&query, Some(&dbp), Some(&key), timeout)).await?;
    let base_prompt = arms[0].render(&inputs, None, &[], &[])?;
    let (total, distinct) = distinct_prompts(jobs, qi, arms, &inputs)?;
    Ok(Preflight { inputs, base_prompt, total, distinct })
}

/// Open (or resume) the run folder of a preflighted query and write its setup files.
pub fn open_run(
    exp: &Experiment,
    pre: Preflight,
    db: &Target,
    db_info: &DbInfo,
    args: &RunOptions,
    sel: &super::select::Selection,
    run_id: &str,
) -> anyhow::Result<PreparedQuery> {
    let Preflight { inputs, base_prompt, total, distinct } = pre;
    let query = &inputs.query;
    let (run, resumed, lock, lock_note) = locked_run_folder(exp, &query.id, args)?;
    let mut notes: Vec<String> = lock_note.into_iter().collect();
    let mut already = BTreeMap::new();
    if resumed {
        crate::files::atomic::remove_temp_entries(&run.path)?;
        already = run.completed_gens();
        // Only generations of this spec's plan count (numbers 1..=N of the whole spec, also
        // under --arm/--query): `completed` can never exceed the plan.
        let plan: usize = exp.arms.iter().map(|a| a.generation.workers as usize).sum();
        let outside = already.split_off(&(plan as u32 + 1));
        already.remove(&0);
        if !outside.is_empty() {
            notes.push(format!("{} generation folders beyond this plan's {plan} are ignored", outside.len()));
        }
        run.rewrite_results(&already)?;
    }
    if inputs.statement_count > 1 {
        notes.push(format!(
            "{} holds {} statements: the first one is optimized and validated",
            query.path.display(),
            inputs.statement_count
        ));
    }
    if let Some(e) = &inputs.plan_error {
        notes.push(format!("plan analysis unavailable: {e}"));
    }
    write_query_files(&run, &inputs, &base_prompt, resumed)?;
    notes.push(format!("{total} generations, {distinct} distinct prompts"));
    let cfg = config_json(
        exp,
        &ConfigInputs {
            query_id: &query.id,
            query_file: &query.path,
            db_path: &PathBuf::from(db.display()),
            db_fingerprint: db_info.fingerprint.clone(),
            duckdb_version: &db_info.duckdb_version,
            started_at: &chrono::Local::now().to_rfc3339(),
            arms: json!(sel.arms.iter().map(|i| &exp.arms[*i]).map(|a| json!({"index": a.index, "name": a.name, "params": a.params, "workers": a.generation.workers, "samples_seed": a.generation.samples_seed, "price": crate::llm::price::Price::resolve(&a.llm)})).collect::<Vec<_>>()),
            total_generations: total,
            distinct_prompts: Some(distinct),
            options: json!({"no_cache": args.no_cache, "no_validate": args.no_validate, "resumed": resumed,
                "statements_in_file": inputs.statement_count, "optimized_statement": 1,
                "selection": sel.to_json(exp)}),
        },
    );
    let mut cfg = cfg;
    cfg["run_id"] = json!(run_id);
    if db_info.engine != db::Engine::DuckDb {
        cfg["engine"] = json!(db_info.engine.name());
        cfg["engine_version"] = json!(db_info.engine_version);
    }
    if let Some(s) = &db_info.engine_settings {
        cfg["engine_settings"] = s.clone();
    }
    if let Some(c) = &db_info.confirm {
        cfg["database"]["confirm"] = c.clone();
    }
    let mut cfg = if resumed { merge_resumed(&run, cfg) } else { cfg };
    if resumed && args.force {
        let old = super::resume::read_config(&run.path)?;
        if old["spec_sha256"] != cfg["spec_sha256"] {
            cfg["forced_from_sha256"] = old["spec_sha256"].clone();
        }
        if old["identity_sha256"].is_string() && old["identity_sha256"] != cfg["identity_sha256"] {
            cfg["forced_from_identity_sha256"] = old["identity_sha256"].clone();
        }
    }
    run.write(layout::CONFIG, serde_json::to_vec_pretty(&cfg)?)?;
    Ok(PreparedQuery { run, inputs, already, notes, lock })
}

/// Keep the first start time of a resumed run and list every resume.
fn merge_resumed(run: &RunDir, mut cfg: Value) -> Value {
    let old: Value = std::fs::read_to_string(run.file(layout::CONFIG))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let mut resumes = old["resumed_at"].as_array().cloned().unwrap_or_default();
    resumes.push(cfg["started_at"].clone());
    if !old["started_at"].is_null() {
        cfg["started_at"] = old["started_at"].clone();
    }
    cfg["resumed_at"] = json!(resumes);
    // The folder keeps its first run id; each resume's id is listed (results lines carry
    // the id of the run that produced them).
    let mut ids = old["resume_run_ids"].as_array().cloned().unwrap_or_default();
    ids.push(cfg["run_id"].clone());
    if !old["run_id"].is_null() {
        cfg["run_id"] = old["run_id"].clone();
    }
    cfg["resume_run_ids"] = json!(ids);
    cfg
}

fn write_query_files(run: &RunDir, inputs: &QueryInputs, base_prompt: &str, resumed: bool) -> anyhow::Result<()> {
    run.write(layout::ORIGINAL, &inputs.query.sql)?;
    if let Some(p) = &inputs.plan {
        if !(resumed && run.file(layout::PLAN_JSON).exists()) {
            run.write(layout::PLAN_JSON, &p.json_text)?;
            run.write(layout::PLAN_FULL, &p.full_text)?;
            run.write(layout::PLAN_SUMMARY, &p.summary_text)?;
        }
    }
    run.write(layout::BASE_PROMPT, base_prompt)?;
    Ok(())
}

/// Count the jobs of query `qi` and their distinct first prompts (the seed scripts sent
/// 20 calls with 5 distinct prompts without noticing).
fn distinct_prompts(jobs: &[Job], qi: usize, arms: &[ArmPrompts], inputs: &QueryInputs) -> anyhow::Result<(usize, usize)> {
    let (mut total, mut seen) = (0, BTreeSet::new());
    for_each_first_prompt(jobs, qi, arms, inputs, |_, prompt| {
        total += 1;
        seen.insert(prompt_digest(&prompt));
        Ok(())
    })?;
    Ok((total, seen.len()))
}

