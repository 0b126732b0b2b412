//! The one reader behind `qt report` and `qt compare`: a run folder or a sweep folder on
//! disk -> a [`ReportModel`] with every derived number (per-arm rates, medians, wins,
//! valid@k / best-speedup@k curves, the per-transform table) computed once here and handed
//! to every export format (report/export/) and to the comparison (compare/).
//!
//! Fields written by newer or older qt versions are read defensively: anything missing is
//! `None`/empty and simply not shown. This module renders nothing.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::figures::{self, Figures, GenFacts};
use super::layout::{self, RunDir};
use crate::record::at_k::{self, AtK};

/// Above this many generations in one run folder, prompts, responses and SQL are read only
/// for the best `DETAIL_LIMIT` (by status and speedup) and only those are listed in the
/// HTML; every generation still counts in every figure.
pub const DETAIL_LIMIT: usize = 2000;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}: not a qt run folder (config.json) or sweep folder (summary.json with rows); pass the folder `qt run` printed after \"saved in\"")]
    NotARun(PathBuf),
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{path}: not valid JSON ({error}); was it written by qt?")]
    Json { path: PathBuf, error: serde_json::Error },
    #[error(
        "{dir}: nothing could be read: every generation's validation.json was skipped ({files}); restore them from a copy or rerun those generations (qt run --resume)"
    )]
    NothingReadable { dir: PathBuf, files: String },
}

/// A file the reader skipped (unreadable or malformed) or a value it refused (a speedup
/// outside the plausible range): named on stderr by `qt report` / `qt compare`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadProblem {
    pub path: PathBuf,
    /// What happened, starting with `skipped:` or `refused:`.
    pub what: String,
    /// A generation's validation.json that could not be read at all.
    #[serde(skip)]
    pub lost_generation: bool,
}

impl std::fmt::Display for ReadProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.what)
    }
}

fn skipped(path: &Path, e: &ReadError, lost_generation: bool) -> ReadProblem {
    let what = match e {
        ReadError::Json { error, .. } => format!("skipped: not valid JSON ({error})"),
        ReadError::Io { error, .. } => format!("skipped: unreadable ({error})"),
        other => format!("skipped: {other}"),
    };
    ReadProblem { path: path.into(), what, lost_generation }
}

/// Speedups and their interval bounds qt shows lie in (0, 1e6]: anything else (a record
/// edited by hand, a corrupted file) is refused rather than printed as inf or NaN.
pub fn implausible(v: &Value) -> Option<String> {
    let bad = |x: &Value| x.as_f64().is_some_and(|f| !figures::plausible(f));
    let ci = &v["timing"]["ci95"];
    (bad(&v["speedup"]) || bad(&ci[0]) || bad(&ci[1])).then(|| {
        format!("refused: implausible speedup {} (95% CI {}), outside (0, {:e}]", v["speedup"], ci, figures::MAX_PLAUSIBLE_SPEEDUP)
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Run,
    Sweep,
}

/// Facts shown at the top of a report (from config.json and summary.json).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Header {
    pub name: String,
    pub description: String,
    pub spec_path: String,
    pub spec_sha256: String,
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
    pub qt_version: String,
    pub duckdb_version: String,
    /// The engine the runs validated on (`duckdb` when config.json does not say).
    pub engine: String,
    /// (path, sha256 or fingerprint text) per database / instance.
    pub databases: Vec<(String, String)>,
    pub models: Vec<String>,
    pub run_ids: Vec<String>,
    pub started_at: String,
    pub wall_s: f64,
    pub tokens_prompt: u64,
    pub tokens_completion: u64,
    /// The command-line overrides of the run (`--set generation.workers=5`, `--ids 15`).
    pub overrides: Vec<String>,
    /// Dollars spent / re-read from the response cache by every generation shown (None:
    /// some cost is unknown), and the generations skipped (budget, stop_when).
    pub cost_spent_usd: Option<f64>,
    pub cost_cached_usd: Option<f64>,
    pub skipped: u64,
}

/// One earlier attempt of a generation (the failure it was re-asked about).
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    pub prompt: String,
    pub response: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GenReport {
    pub number: u32,
    pub folder: String,
    pub arm: String,
    pub status: String,
    pub reason: Option<String>,
    pub error: Option<String>,
    pub speedup: Option<f64>,
    pub ci95: Option<[f64; 2]>,
    pub win: bool,
    pub below_floor: bool,
    pub timing_note: Option<String>,
    /// Re-timing of this generation when it was an arm's best: (speedup, held).
    pub confirmed: Option<(f64, Option<bool>)>,
    /// The generation this one is an identical copy of (`gen_03`): validated once, there.
    pub same_as: Option<String>,
    /// What the named figures read of it (figures.rs).
    pub facts: GenFacts,
    /// The recorded timing object (rounds for `qt compare`'s bootstrap).
    #[serde(skip)]
    pub timing: Value,
    /// The full-size confirmation (`confirm`), when this generation was confirmed.
    pub full: Option<super::summary_full::FullStat>,
    pub examples: Vec<String>,
    pub transforms: Vec<String>,
    pub tokens_prompt: u64,
    pub tokens_completion: u64,
    /// Dollars of this generation's answers, spent + from the response cache (None: unknown).
    pub cost_usd: Option<f64>,
    pub retried: bool,
    pub first_error: Option<String>,
    pub rows_original: Option<u64>,
    pub rows_optimized: Option<u64>,
    /// Per-instance results when validated on several DBs (absent on older runs).
    pub instances: Value,
    /// First differing rows (`{"original": [...], "optimized": [...]}`) on a mismatch.
    pub diff: Value,
    pub notes: Vec<String>,
    pub model: Option<String>,
    /// False when only the row was kept (beyond `DETAIL_LIMIT`).
    pub has_details: bool,
    pub optimized_sql: Option<String>,
    pub prompt: Option<String>,
    pub response: Option<String>,
    pub earlier: Vec<Attempt>,
}

impl GenReport {
    pub fn is_pass(&self) -> bool {
        self.status == "pass"
    }
}

/// Per arm of one query (or, in [`ReportModel::arms`], pooled over queries).
#[derive(Debug, Clone, Serialize)]
pub struct ArmStats {
    pub name: String,
    pub completed: usize,
    pub valid: usize,
    pub valid_rate: Option<f64>,
    /// The median and best *screening* speedup and the wins of `figures` (older names).
    pub median_speedup: Option<f64>,
    pub best_speedup: Option<f64>,
    pub wins: usize,
    pub at_k: Vec<AtK>,
    /// The named figures (screening, confirmed, wins; copies once): see figures.rs.
    pub figures: Figures,
    /// Dollars of these generations' answers (spent + from the response cache; None when
    /// one is unknown) and per valid rewrite (`record/cost.rs`).
    pub cost_usd_total: Option<f64>,
    pub cost_per_valid: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TransformRow {
    pub name: String,
    pub count: usize,
    pub valid: usize,
    pub valid_rate: f64,
    pub median_speedup: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub dir: PathBuf,
    pub query_id: String,
    pub run_id: Option<String>,
    pub original_sql: String,
    pub base_prompt: String,
    pub interrupted: bool,
    pub elapsed_s: f64,
    pub total: Option<u64>,
    /// The re-timing of the query's best (summary.json `confirmed`, older runs' only one).
    pub confirmed: Value,
    /// Every re-timing (summary.json `confirmations`: one per arm's best candidate).
    pub confirmations: Vec<Value>,
    /// Sample vs full size: the confirm DB used last and what its confirmations show.
    pub full_db: Option<String>,
    pub full: Option<super::predict::Prediction>,
    /// The confirmed candidates behind `full` (the points of the scatter plot).
    pub full_points: Vec<super::predict::Confirmed>,
    pub arms: Vec<ArmStats>,
    /// Sorted: passes by speedup (best first), then the rest by number.
    pub gens: Vec<GenReport>,
    /// summary.json's dollars and skipped generations (`record/cost.rs`, `skipped.rs`).
    pub cost_usd: Option<f64>,
    pub cost_usd_cached: Option<f64>,
    pub skipped: u64,
    /// Files of this run skipped and values refused while reading.
    pub problems: Vec<ReadProblem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportModel {
    pub kind: Kind,
    pub dir: PathBuf,
    pub header: Header,
    pub runs: Vec<RunReport>,
    pub arm_names: Vec<String>,
    pub transforms: Vec<TransformRow>,
    /// Which run holds each (query, arm) cell: the sweep rows' choice (an experiment shows
    /// the latest run of every cell), else the first run of that query.
    pub cells: Vec<(String, String, usize)>,
    /// Files skipped and values refused while reading (every run's).
    pub problems: Vec<ReadProblem>,
}

fn read_json(path: &Path) -> Result<Option<Value>, ReadError> {
    match std::fs::read_to_string(path) {
        Ok(t) => serde_json::from_str(&t).map(Some).map_err(|error| ReadError::Json { path: path.into(), error }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(ReadError::Io { path: path.into(), error }),
    }
}

fn read_text(path: &Path) -> Option<String> {
    super::capped::read_detail(path)
}

fn s(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

/// Read a run folder or a sweep folder.
pub fn read(dir: &Path) -> Result<ReportModel, ReadError> {
    if dir.join(layout::CONFIG).is_file() {
        let run = read_run(dir)?;
        let cfg = read_json(&dir.join(layout::CONFIG))?.unwrap_or(Value::Null);
        return readable(assemble(Kind::Run, dir, vec![run], &cfg));
    }
    let Some(sweep) = read_json(&dir.join(layout::SUMMARY_JSON))?.filter(|v| v["rows"].is_array()) else {
        return Err(ReadError::NotARun(dir.into()));
    };
    let mut run_dirs: Vec<PathBuf> = Vec::new();
    // (query, arm, run folder) per row: which run each cell shows.
    let mut row_cells: Vec<(String, String, PathBuf)> = Vec::new();
    for row in sweep["rows"].as_array().into_iter().flatten() {
        if let Some(p) = row["run_dir"].as_str().map(PathBuf::from) {
            // Folders are recorded as written; a moved sweep keeps its relative layout.
            let p = if p.is_dir() { p } else { dir.join(p.file_name().unwrap_or_default()) };
            if !run_dirs.contains(&p) {
                run_dirs.push(p.clone());
            }
            if let (Some(q), Some(arm)) = (row["query_id"].as_str(), row["arm"].as_str()) {
                row_cells.push((q.to_string(), arm.to_string(), p));
            }
        }
    }
    let run_dirs: Vec<PathBuf> = run_dirs.into_iter().filter(|p| p.join(layout::CONFIG).is_file()).collect();
    let mut runs = Vec::new();
    for p in &run_dirs {
        runs.push(read_run(p)?);
    }
    let cfg = match run_dirs.last() {
        Some(p) => read_json(&p.join(layout::CONFIG))?.unwrap_or(Value::Null),
        None => Value::Null,
    };
    let mut model = assemble(Kind::Sweep, dir, runs, &cfg);
    let chosen: Vec<(String, String, usize)> = row_cells
        .into_iter()
        .filter_map(|(q, a, p)| run_dirs.iter().position(|d| *d == p).map(|i| (q, a, i)))
        .collect();
    if !chosen.is_empty() {
        model.cells = chosen;
        model.transforms = transform_table(model.cell_gens());
    }
    if let Some(id) = s(&sweep["run_id"]) {
        if !model.header.run_ids.contains(&id) {
            model.header.run_ids.insert(0, id);
        }
    }
    readable(model)
}

/// A model with no generation read while some validation.json was skipped is an error
/// naming those files (exit 1), not an empty table.
fn readable(model: ReportModel) -> Result<ReportModel, ReadError> {
    let lost: Vec<String> = model.problems.iter().filter(|p| p.lost_generation).map(|p| p.path.display().to_string()).collect();
    if model.generation_count() == 0 && !lost.is_empty() {
        return Err(ReadError::NothingReadable { dir: model.dir, files: lost.join(", ") });
    }
    Ok(model)
}

fn assemble(kind: Kind, dir: &Path, mut runs: Vec<RunReport>, cfg: &Value) -> ReportModel {
    // Generation numbers repeat across runs: figures pooled over runs tell them apart.
    for (i, r) in runs.iter_mut().enumerate() {
        for g in &mut r.gens {
            g.facts.scope = i as u32;
        }
    }
    let mut header = header(cfg);
    let mut arm_names: Vec<String> = Vec::new();
    for r in &runs {
        for a in &r.arms {
            if !arm_names.contains(&a.name) {
                arm_names.push(a.name.clone());
            }
        }
        for g in &r.gens {
            header.tokens_prompt += g.tokens_prompt;
            header.tokens_completion += g.tokens_completion;
            if let Some(m) = g.model.as_deref().map(model_label) {
                if !header.models.contains(&m) {
                    header.models.push(m);
                }
            }
        }
        header.wall_s += r.elapsed_s;
        add_costs(&mut header, r);
        if let Some(id) = &r.run_id {
            if !header.run_ids.contains(id) {
                header.run_ids.push(id.clone());
            }
        }
    }
    // The full-size confirm DBs, named like the others (config.json knows only the spec's).
    for f in runs.iter().flat_map(|r| r.gens.iter()).filter_map(|g| g.full.as_ref()) {
        let entry = (format!("{} (full size: {})", f.path.clone().unwrap_or_default(), f.db), f.fingerprint.chars().take(16).collect::<String>());
        if !header.databases.contains(&entry) {
            header.databases.push(entry);
        }
    }
    if header.models.is_empty() {
        header.models = spec_model(cfg).into_iter().collect();
    }
    let mut cells = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        for a in &r.arms {
            if !cells.iter().any(|(q, arm, _): &(String, String, usize)| *q == r.query_id && *arm == a.name) {
                cells.push((r.query_id.clone(), a.name.clone(), i));
            }
        }
    }
    let problems = runs.iter().flat_map(|r| r.problems.iter().cloned()).collect();
    let mut model = ReportModel { kind, dir: dir.into(), header, runs, arm_names, transforms: Vec::new(), cells, problems };
    model.transforms = transform_table(model.cell_gens());
    model
}

/// What answered the prompts, as the records say: the replay provider answers from
/// recorded files, whatever model the spec names.
fn model_label(recorded: &str) -> String {
    match recorded {
        "replay" => "replay provider (recorded answers, no LLM call)".to_string(),
        m => m.to_string(),
    }
}

/// The spec's model, when no generation recorded one (every call failed, or none ran).
fn spec_model(cfg: &Value) -> Option<String> {
    match cfg["spec"]["llm"]["provider"].as_str() {
        Some("replay") => Some(model_label("replay")),
        _ => s(&cfg["spec"]["llm"]["model"]),
    }
}

fn header(cfg: &Value) -> Header {
    let mut databases = Vec::new();
    if let Some(p) = cfg["database"]["path"].as_str() {
        let fp = &cfg["database"]["fingerprint"];
        let id = fp["sha256"].as_str().map(|h| h.chars().take(16).collect()).unwrap_or_else(|| fp.to_string());
        databases.push((p.to_string(), id));
    }
    for inst in cfg["database"]["instances"].as_array().into_iter().flatten() {
        let path = s(&inst["path"]).unwrap_or_else(|| inst.to_string());
        let id = inst["fingerprint"]["sha256"].as_str().map(|h| h.chars().take(16).collect()).unwrap_or_default();
        databases.push((path, id));
    }
    Header {
        name: s(&cfg["name"]).unwrap_or_default(),
        description: s(&cfg["description"]).unwrap_or_default(),
        spec_path: s(&cfg["spec_path"]).unwrap_or_default(),
        spec_sha256: s(&cfg["spec_sha256"]).unwrap_or_default(),
        git_commit: s(&cfg["git"]["commit"]),
        git_dirty: cfg["git"]["dirty"].as_bool(),
        qt_version: s(&cfg["qt_version"]).unwrap_or_default(),
        duckdb_version: s(&cfg["duckdb_version"]).unwrap_or_default(),
        engine: s(&cfg["engine"]).unwrap_or_else(|| "duckdb".into()),
        databases,
        models: Vec::new(),
        run_ids: Vec::new(),
        started_at: s(&cfg["started_at"]).unwrap_or_default(),
        wall_s: 0.0,
        tokens_prompt: 0,
        tokens_completion: 0,
        overrides: overrides_of(cfg),
        cost_spent_usd: Some(0.0),
        cost_cached_usd: Some(0.0),
        skipped: 0,
    }
}

/// Sum a run's dollars and skipped generations into the header (None stays None).
fn add_costs(h: &mut Header, r: &RunReport) {
    h.cost_spent_usd = h.cost_spent_usd.zip(r.cost_usd).map(|(a, b)| super::cost::usd(a + b));
    h.cost_cached_usd = h.cost_cached_usd.zip(r.cost_usd_cached).map(|(a, b)| super::cost::usd(a + b));
    h.skipped += r.skipped;
}

/// config.json `overrides` as typed: `--set KEY=VALUE`, `--ids 15`.
fn overrides_of(cfg: &Value) -> Vec<String> {
    let shown = |o: &Value| {
        let (flag, given) = (o["flag"].as_str()?, o["given"].as_str()?);
        Some(if flag.starts_with("--set") { format!("--set {given}") } else { format!("{flag} {given}") })
    };
    cfg["overrides"].as_array().into_iter().flatten().filter_map(shown).collect()
}

/// Read one query's run folder.
pub fn read_run(dir: &Path) -> Result<RunReport, ReadError> {
    let run = RunDir { path: dir.to_path_buf() };
    let cfg = read_json(&run.file(layout::CONFIG))?.ok_or_else(|| ReadError::NotARun(dir.into()))?;
    let mut problems = Vec::new();
    let summary_path = run.file(layout::SUMMARY_JSON);
    // The summary is rebuilt from the generations; a damaged one only loses its extras.
    let summary = read_json(&summary_path).unwrap_or_else(|e| {
        problems.push(skipped(&summary_path, &e, false));
        None
    });
    let summary = summary.unwrap_or(Value::Null);
    let confirmed = summary["confirmed"].clone();
    let confirmations = figures::confirmations_of(&summary);
    let mut gens = Vec::new();
    for (n, path) in run.gen_folder_paths() {
        let file = path.join(layout::VALIDATION);
        let v = match read_json(&file) {
            Ok(Some(v)) => v,
            Ok(None) => continue,
            Err(e) => {
                problems.push(skipped(&file, &e, true));
                continue;
            }
        };
        let refused = implausible(&v);
        let mut row = gen_row(n, &path, &v, &confirmations);
        if let Some(what) = refused {
            row.reason = Some(match row.reason.take() {
                Some(r) => format!("{r}; {what}"),
                None => what.clone(),
            });
            problems.push(ReadProblem { path: file, what, lost_generation: false });
        }
        gens.push(row);
    }
    sort_gens(&mut gens);
    for (i, g) in gens.iter_mut().enumerate() {
        if i < DETAIL_LIMIT {
            read_details(&dir.join(&g.folder), g);
        } else {
            // Only the row is kept: a 100,000-generation run stays small in memory.
            (g.instances, g.diff, g.notes, g.first_error, g.error) = (Value::Null, Value::Null, Vec::new(), None, None);
        }
    }
    let arm_order: Vec<String> = cfg["arms"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| s(&a["name"]))
        .collect();
    let arms = arm_stats(&gens, &arm_order);
    let (full_db, full_points) = full_of(&gens);
    Ok(RunReport {
        dir: dir.into(),
        query_id: s(&cfg["query_id"]).unwrap_or_default(),
        run_id: s(&cfg["run_id"]),
        original_sql: read_text(&run.file(layout::ORIGINAL)).unwrap_or_default(),
        base_prompt: read_text(&run.file(layout::BASE_PROMPT)).unwrap_or_default(),
        interrupted: summary["interrupted"].as_bool() == Some(true),
        elapsed_s: summary["elapsed_seconds"].as_f64().unwrap_or(0.0),
        total: cfg["total_generations"].as_u64().or(summary["total_workers"].as_u64()),
        confirmed,
        confirmations,
        full: full_db.as_ref().map(|_| super::predict::predict(&full_points)),
        full_db,
        full_points,
        arms,
        gens,
        cost_usd: summary["cost_usd"].as_f64(),
        cost_usd_cached: summary["cost_usd_cached"].as_f64(),
        skipped: summary["skipped_count"].as_u64().unwrap_or(0),
        problems,
    })
}

/// The confirm DB used last and its confirmed candidates (screening figures beside them).
pub fn full_of(gens: &[GenReport]) -> (Option<String>, Vec<super::predict::Confirmed>) {
    let list: Vec<(u32, &str, Option<f64>, bool, &super::summary_full::FullStat)> =
        gens.iter().filter_map(|g| g.full.as_ref().map(|f| (g.number, g.arm.as_str(), g.speedup, g.win, f))).collect();
    super::summary_full::latest_confirmed(&list)
}

fn gen_row(number: u32, path: &Path, v: &Value, confirmations: &[Value]) -> GenReport {
    let mut facts = [GenFacts::from_record(number, v)];
    figures::attach_confirmations(&mut facts, confirmations);
    let [facts] = facts;
    let ci95 = facts.screening.and_then(|m| m.ci95);
    let confirmed = facts.confirmed.map(|m| (m.speedup, Some(m.win)));
    let strings = |k: &Value| k.as_array().into_iter().flatten().filter_map(|x| s(x)).collect::<Vec<_>>();
    let first_error = match &v["first_error"] {
        Value::Null => None,
        fe => Some(super::capped::text(
            &format!("{}: {}", fe["reason"].as_str().unwrap_or("?"), fe["error"].as_str().unwrap_or("")),
            super::capped::MAX_NOTE_BYTES,
            "validation.json",
        )),
    };
    GenReport {
        number,
        folder: path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        arm: s(&v["arm_name"]).unwrap_or_default(),
        status: s(&v["status"]).unwrap_or_else(|| "unknown".into()),
        reason: s(&v["reason"]),
        error: s(&v["error"]).map(|e| super::capped::text(&e, super::capped::MAX_NOTE_BYTES, "validation.json")),
        speedup: v["speedup"].as_f64().filter(|x| figures::plausible(*x)),
        ci95,
        win: facts.is_win(),
        below_floor: facts.below_floor,
        timing_note: s(&v["timing"]["timing_note"]),
        confirmed,
        same_as: s(&v["same_as"]),
        timing: v["timing"].clone(),
        full: super::summary_full::FullStat::from_record(v),
        examples: strings(&v["examples"]),
        transforms: strings(&v["transforms"]),
        tokens_prompt: v["tokens"]["prompt"].as_u64().unwrap_or(0),
        cost_usd: v["cost_usd"].as_f64().zip(v["cost_usd_cached"].as_f64()).map(|(a, b)| a + b),
        tokens_completion: v["tokens"]["completion"].as_u64().unwrap_or(0),
        retried: v["retried"].as_bool() == Some(true),
        first_error,
        rows_original: v["rows"]["original"].as_u64(),
        rows_optimized: v["rows"]["optimized"].as_u64(),
        instances: v["instances"].clone(),
        diff: v["diff"].clone(),
        notes: super::capped::notes(&v["notes"]),
        model: s(&v["model"]),
        has_details: false,
        optimized_sql: None,
        prompt: None,
        response: None,
        earlier: Vec::new(),
        facts,
    }
}

/// Passes by speedup (best first; those without a figure after), then the rest by number.
fn sort_gens(gens: &mut [GenReport]) {
    gens.sort_by(|a, b| {
        b.is_pass()
            .cmp(&a.is_pass())
            .then_with(|| b.speedup.unwrap_or(f64::NEG_INFINITY).total_cmp(&a.speedup.unwrap_or(f64::NEG_INFINITY)))
            .then_with(|| a.number.cmp(&b.number))
    });
}

fn read_details(dir: &Path, g: &mut GenReport) {
    g.has_details = true;
    g.optimized_sql = read_text(&dir.join(layout::OPTIMIZED));
    g.prompt = read_text(&dir.join("prompt.txt"));
    g.response = read_text(&dir.join("response.txt"));
    for i in 1.. {
        let Some(prompt) = read_text(&dir.join(format!("prompt.{i}.txt"))) else { break };
        g.earlier.push(Attempt { prompt, response: read_text(&dir.join(format!("response.{i}.txt"))) });
    }
}

/// Valid rate, the named figures (figures.rs) and the @k curves of some generations.
pub fn stats_of<'a>(name: &str, gens: impl Iterator<Item = &'a GenReport> + Clone) -> ArmStats {
    let completed = gens.clone().count();
    let valid = gens.clone().filter(|g| g.is_pass()).count();
    let pairs: Vec<(bool, Option<f64>)> = gens.clone().map(|g| (g.is_pass(), g.speedup)).collect();
    let f = figures::figures(gens.clone().map(|g| &g.facts));
    ArmStats {
        name: name.to_string(),
        completed,
        valid,
        valid_rate: (completed > 0).then(|| valid as f64 / completed as f64),
        median_speedup: f.median_screening,
        best_speedup: f.best_screening.map(|b| b.speedup),
        wins: f.wins,
        at_k: at_k::curves(&pairs),
        cost_usd_total: cost_total(gens.clone()),
        cost_per_valid: cost_total(gens).filter(|_| valid > 0).map(|c| super::cost::usd(c / valid as f64)),
        figures: f,
    }
}

/// Dollars (spent + from the cache) of some generations; None when one is unknown.
fn cost_total<'a>(gens: impl Iterator<Item = &'a GenReport>) -> Option<f64> {
    gens.map(|g| g.cost_usd).sum::<Option<f64>>().map(super::cost::usd)
}

fn arm_stats(gens: &[GenReport], order: &[String]) -> Vec<ArmStats> {
    let mut names: Vec<String> = order.to_vec();
    for g in gens {
        if !names.contains(&g.arm) {
            names.push(g.arm.clone());
        }
    }
    names.iter().map(|a| stats_of(a, gens.iter().filter(|g| &g.arm == a))).collect()
}

/// Count, valid rate and median speedup per declared transform ("which patterns win?");
/// a generation declaring two transforms counts for both; `(none)` when none declared.
pub fn transform_table<'a>(gens: impl Iterator<Item = &'a GenReport>) -> Vec<TransformRow> {
    let mut by: BTreeMap<String, Vec<&GenReport>> = BTreeMap::new();
    for g in gens {
        if g.transforms.is_empty() {
            by.entry("(none)".into()).or_default().push(g);
        }
        for t in &g.transforms {
            by.entry(t.clone()).or_default().push(g);
        }
    }
    let mut rows: Vec<TransformRow> = by
        .into_iter()
        .map(|(name, gs)| {
            let st = stats_of(&name, gs.iter().copied());
            TransformRow {
                name,
                count: st.completed,
                valid: st.valid,
                valid_rate: st.valid_rate.unwrap_or(0.0),
                median_speedup: st.median_speedup,
            }
        })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    rows
}

impl ReportModel {
    /// Arm statistics of query `query_id` and arm `arm`, if that pair ran (from the run
    /// the cell shows: see `cells`).
    pub fn cell(&self, query_id: &str, arm: &str) -> Option<(&RunReport, &ArmStats)> {
        let (_, _, i) = self.cells.iter().find(|(q, a, _)| q == query_id && a == arm)?;
        let r = self.runs.get(*i)?;
        r.arms.iter().find(|a| a.name == arm).map(|a| (r, a))
    }

    /// The generations of every cell shown (each query and arm from the run it shows).
    pub fn cell_gens(&self) -> impl Iterator<Item = &GenReport> + Clone {
        self.cells.iter().flat_map(move |(_, arm, i)| {
            self.runs.get(*i).into_iter().flat_map(move |r| r.gens.iter().filter(move |g| &g.arm == arm))
        })
    }

    pub fn query_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        for r in &self.runs {
            if !ids.contains(&r.query_id) {
                ids.push(r.query_id.clone());
            }
        }
        ids
    }

    pub fn generation_count(&self) -> usize {
        self.runs.iter().map(|r| r.gens.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mk(n: u32, status: &str, speedup: Option<f64>, t: &[&str]) -> GenReport {
        let v = json!({"status": status, "speedup": speedup, "arm_name": "a", "transforms": t,
                        "timing": {"ci95": [1.1, 2.0], "win": true}, "original_time": 0.5});
        gen_row(n, Path::new("/x/gen_01"), &v, &[])
    }

    #[test]
    fn gens_sort_passes_first_by_speedup_and_transforms_are_tabled() {
        let mut g = vec![
            mk(1, "error", None, &[]),
            mk(2, "pass", Some(1.5), &["decorrelate"]),
            mk(3, "pass", Some(3.0), &["decorrelate", "early_filter"]),
            mk(4, "validation_failed", None, &["early_filter"]),
        ];
        sort_gens(&mut g);
        assert_eq!(g.iter().map(|g| g.number).collect::<Vec<_>>(), vec![3, 2, 1, 4]);
        let t = transform_table(g.iter());
        let dec = t.iter().find(|r| r.name == "decorrelate").unwrap();
        assert_eq!((dec.count, dec.valid, dec.median_speedup), (2, 2, Some(2.25)));
        let ef = t.iter().find(|r| r.name == "early_filter").unwrap();
        assert_eq!((ef.count, ef.valid_rate), (2, 0.5));
        assert_eq!(t.iter().find(|r| r.name == "(none)").unwrap().count, 1);
        let a = stats_of("a", g.iter());
        assert_eq!((a.completed, a.valid, a.wins, a.best_speedup), (4, 2, 2, Some(3.0)));
        assert_eq!(a.at_k.len(), 4);
    }

    #[test]
    fn a_folder_that_is_no_run_is_refused_with_its_path() {
        let t = tempfile::tempdir().unwrap();
        let e = read(t.path()).unwrap_err().to_string();
        assert!(e.contains(&t.path().display().to_string()) && e.contains("not a qt run folder"), "{e}");
    }
}
