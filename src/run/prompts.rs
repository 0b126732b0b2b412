//! Per-query prompt inputs (DAG, plan summary, schema, target nodes) and per-arm prompt
//! rendering. Shared by `qt plan` (offline rendering) and `qt run`, so the prompt a run
//! sends is exactly the prompt `qt plan` shows.

use anyhow::Context as _;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use crate::dag::{self, Dag};
use crate::db::{self, PlanAnalysis, Target};
use crate::error::BadInput;
use crate::prompt::{self, Example, HistoryEntry, PromptEnv, PromptInputs, QueryInfo, WorkerInfo};
use crate::query::QueryFile;
use crate::spec::{Arm, Experiment, Job};

/// Everything about one query that every prompt of it shares.
pub struct QueryInputs {
    pub query: QueryFile,
    /// The statement being optimized and validated: the whole file, or the first statement
    /// of a multi-statement file (TPC-DS 14, 23, 24, 39), which the sandbox would refuse.
    pub target_sql: String,
    pub statement_count: usize,
    pub dag: Result<Dag, String>,
    pub plan: Option<PlanAnalysis>,
    pub plan_error: Option<String>,
    pub schema: Value,
    pub target_nodes: Vec<String>,
    pub features: BTreeSet<String>,
    /// Rewrite patterns found in the DAG (refined by the plan when there is one).
    pub patterns: Vec<dag::PatternHit>,
    /// The engine's SQL dialect (`{{ dialect }}`): "duckdb" or "postgres".
    pub dialect: &'static str,
}

impl QueryInputs {
    /// Parse the query, and when a DB is given, analyse its plan (EXPLAIN ANALYZE with a
    /// deadline) and read the schema of the tables it touches.
    /// `db_key` identifies the DB's content (fingerprint hash, size, mtime): with it, the plan
    /// analysis is cached, so a re-run or resumed run renders byte-identical prompts (and
    /// the LLM response cache can answer them).
    pub fn prepare(
        query: &QueryFile,
        db_path: Option<&Target>,
        db_key: Option<&str>,
        explain_timeout: Duration,
    ) -> QueryInputs {
        let statements = db::split_statements(&query.sql);
        let statement_count = statements.len().max(1);
        let target_sql = statements.into_iter().next().unwrap_or_else(|| query.sql.clone());
        // The target engine's dialect (DuckDB's when no DB is known yet).
        let engine = db_path.map(|t| t.engine()).unwrap_or(db::Engine::DuckDb);
        let dag = dag::parse_first_dag_for(&target_sql, engine).map_err(|e| e.to_string());
        let (plan, plan_error) = match db_path {
            Some(p) => match cached_plan(p, db_key, &target_sql, explain_timeout) {
                Ok(a) => (Some(a), None),
                Err(e) => (None, Some(e.to_string())),
            },
            None => (None, Some("no sample DB yet: plan summary omitted".into())),
        };
        let tables: Vec<String> = match &dag {
            // No structure: every word may be a table; the schema lookup keeps real ones.
            Ok(d) if d.note.is_some() => {
                let set: BTreeSet<String> = crate::sqltext::words(&target_sql).into_iter().collect();
                set.into_iter().collect()
            }
            Ok(d) => {
                let set: BTreeSet<String> = d.nodes.iter().flat_map(|n| n.tables.iter().cloned()).collect();
                set.into_iter().collect()
            }
            Err(_) => Vec::new(),
        };
        let schema = db_path
            .and_then(|p| p.schema(&tables).ok())
            .map(|s| serde_json::to_value(s).unwrap_or(Value::Null))
            .unwrap_or_else(|| json!([]));
        // With the schema known, unqualified correlated references are detected too.
        let dag = match dag {
            Ok(mut d) if d.note.is_some() => {
                let names = schema.as_array().into_iter().flatten();
                let names: Vec<String> =
                    names.filter_map(|t| t["name"].as_str().map(str::to_lowercase)).collect();
                d.nodes.iter_mut().for_each(|n| n.tables = names.clone());
                Ok(d)
            }
            Ok(d) if schema.as_array().is_some_and(|a| !a.is_empty()) => {
                dag::parse_first_dag_with_schema_for(&target_sql, &dag::columns_from_schema(&schema), engine).or(Ok(d))
            }
            other => other,
        };
        let shares: BTreeMap<String, f64> =
            plan.as_ref().map(|p| p.summary.table_time_share.clone()).unwrap_or_default();
        let (target_nodes, features, patterns) = match &dag {
            Ok(d) => (
                dag::target_nodes(d, &shares, 3),
                dag::query_features(d),
                dag::detect_patterns(d, plan.as_ref().map(|p| &p.summary)),
            ),
            Err(_) => (Vec::new(), BTreeSet::new(), Vec::new()),
        };
        QueryInputs {
            query: query.clone(),
            target_sql,
            statement_count,
            dag,
            plan,
            plan_error,
            schema,
            target_nodes,
            features,
            patterns,
            dialect: db_path.map(|t| t.engine().dialect()).unwrap_or("duckdb"),
        }
    }

    /// The query's pattern names (what example matching compares).
    pub fn pattern_names(&self) -> BTreeSet<String> {
        dag::pattern_names(&self.patterns)
    }

    pub fn plan_summary_text(&self) -> String {
        self.plan.as_ref().map(|p| p.summary_text.clone()).unwrap_or_default()
    }
}

/// The plan analysis of `sql`, from `<cache>/plans/` when this DB content was analysed
/// before, else from EXPLAIN ANALYZE (then stored). Without `db_key`, never cached.
/// The first stored analysis wins (no-replace link), and every caller uses the stored one,
/// so concurrent runs of the same query also render identical prompts.
fn cached_plan(db: &Target, db_key: Option<&str>, sql: &str, timeout: Duration) -> Result<PlanAnalysis, db::DbError> {
    use sha2::Digest;
    let Some(key) = db_key else { return db.explain(sql, timeout) };
    let name = hex::encode(sha2::Sha256::digest(format!("{key}\u{0}{sql}").as_bytes()));
    let dir = db::cache_dir().join("plans");
    let file = dir.join(format!("{name}.json"));
    let read = || -> Option<PlanAnalysis> {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&file).ok()?).ok()?;
        let text = |k: &str| v[k].as_str().map(str::to_string);
        PlanAnalysis::from_texts(text("json_text")?, text("full_text")?).ok()
    };
    if let Some(p) = read() {
        return Ok(p);
    }
    let p = db.explain(sql, timeout)?;
    // A cache that cannot be written only costs a re-analysis next time.
    let tmp = dir.join(format!(".tmp-{name}-{}", std::process::id()));
    let body = json!({"json_text": p.json_text, "full_text": p.full_text}).to_string();
    if std::fs::create_dir_all(&dir).is_ok() && std::fs::write(&tmp, body).is_ok() {
        let _ = std::fs::hard_link(&tmp, &file);
        let _ = std::fs::remove_file(&tmp);
    }
    Ok(read().unwrap_or(p))
}

/// One arm's template environment and gold examples.
pub struct ArmPrompts {
    pub arm: Arm,
    pub env: PromptEnv,
    pub examples: Vec<Example>,
}

impl ArmPrompts {
    pub fn load(arm: &Arm) -> anyhow::Result<ArmPrompts> {
        let dir = arm.template_path.parent().unwrap_or(Path::new("."));
        let env = PromptEnv::new(dir).map_err(|e| BadInput(e.to_string()))?;
        let examples = if arm.examples.strategy == crate::spec::Strategy::None {
            Vec::new()
        } else {
            prompt::load_examples(&arm.examples_dir).map_err(|e| BadInput(e.to_string()))?
        };
        Ok(ArmPrompts { arm: arm.clone(), env, examples })
    }

    /// The examples worker `worker` (1-based within the arm) gets.
    pub fn examples_for(&self, inputs: &QueryInputs, worker: u32) -> Vec<Example> {
        let e = &self.arm.examples;
        prompt::select_examples(
            e.strategy,
            &self.examples,
            e.per_worker,
            e.seed,
            worker,
            self.arm.generation.workers,
            &inputs.pattern_names(),
        )
    }

    /// Render the arm's template. `examples` empty + `worker` None gives the base prompt.
    pub fn render(
        &self,
        inputs: &QueryInputs,
        worker: Option<u32>,
        examples: &[Example],
        history: &[HistoryEntry],
    ) -> anyhow::Result<String> {
        let dag = inputs.dag.as_ref().map_err(|e| {
            BadInput(format!(
                "{}: cannot build the query's DAG, which the prompt needs: {e}. Fix the SQL file",
                inputs.query.path.display()
            ))
        })?;
        let query = QueryInfo {
            id: inputs.query.id.clone(),
            sql: inputs.query.sql.clone(),
            file: inputs.query.path.display().to_string(),
        };
        let worker = WorkerInfo { id: worker.unwrap_or(0), arm: self.arm.name.clone() };
        let arm = serde_json::to_value(&self.arm.params)?;
        let summary = inputs.plan_summary_text();
        let mut ctx = prompt::build_context(&PromptInputs {
            query: &query,
            dag,
            target_nodes: &inputs.target_nodes,
            plan_summary: &summary,
            plan: inputs.plan.as_ref().map(|p| &p.json),
            schema: &inputs.schema,
            examples,
            worker: &worker,
            arm: &arm,
            history,
        });
        // The plan-refined patterns, the same ones the examples were matched with.
        ctx["patterns"] = serde_json::to_value(&inputs.patterns)?;
        ctx["dialect"] = inputs.dialect.into();
        self.env
            .render(&self.arm.template_path, &ctx)
            .map_err(|e| anyhow::Error::new(BadInput(e.to_string())))
            .with_context(|| format!("rendering the prompt for query {}", inputs.query.id))
    }
}

/// Render the first-attempt prompt of every job of query `qi` (jobs in order), handing each
/// to `each` rather than collecting them, so a 100,000-generation preflight stays small.
/// `qt plan` and `qt run` both count distinct prompts through this one loop.
pub fn for_each_first_prompt(
    jobs: &[Job],
    qi: usize,
    arms: &[ArmPrompts],
    inputs: &QueryInputs,
    mut each: impl FnMut(&Job, String) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    for job in jobs.iter().filter(|j| j.query == qi) {
        let arm = &arms[job.arm];
        let examples = arm.examples_for(inputs, job.worker);
        each(job, arm.render(inputs, Some(job.worker), &examples, &[])?)?;
    }
    Ok(())
}

/// A short identity for a prompt's text (distinct-prompt counting without keeping prompts).
pub fn prompt_digest(prompt: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(prompt.as_bytes()).into()
}

/// Load every arm's prompts once.
pub fn load_arms(exp: &Experiment) -> anyhow::Result<Vec<ArmPrompts>> {
    exp.arms.iter().map(ArmPrompts::load).collect()
}
