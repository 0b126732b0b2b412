//! Per-query prompt inputs (DAG, plan summary, schema, target nodes) and per-arm prompt
//! rendering. Shared by `qt plan` (offline rendering) and `qt run`, so the prompt a run
//! sends is exactly the prompt `qt plan` shows.

use anyhow::Context as _;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use crate::dag::{self, Dag};
use crate::db::{self, PlanAnalysis};
use crate::error::BadInput;
use crate::prompt::{self, Example, PromptEnv};
use crate::query::QueryFile;
use crate::spec::{Arm, Experiment};

/// Everything about one query that every prompt of it shares.
pub struct QueryInputs {
    pub query: QueryFile,
    pub dag: Result<Dag, String>,
    pub plan: Option<PlanAnalysis>,
    pub plan_error: Option<String>,
    pub schema: Value,
    pub target_nodes: Vec<String>,
    pub features: BTreeSet<String>,
}

impl QueryInputs {
    /// Parse the query, and when a DB is given, analyse its plan (EXPLAIN ANALYZE with a
    /// deadline) and read the schema of the tables it touches.
    pub fn prepare(query: &QueryFile, db_path: Option<&Path>, explain_timeout: Duration) -> QueryInputs {
        let dag = dag::parse_dag(&query.sql).map_err(|e| e.to_string());
        let (plan, plan_error) = match db_path {
            Some(p) => match db::analyze_plan(p, &query.sql, explain_timeout) {
                Ok(a) => (Some(a), None),
                Err(e) => (None, Some(e.to_string())),
            },
            None => (None, Some("no sample DB yet: plan summary omitted".into())),
        };
        let tables: Vec<String> = match &dag {
            Ok(d) => {
                let set: BTreeSet<String> = d.nodes.iter().flat_map(|n| n.tables.iter().cloned()).collect();
                set.into_iter().collect()
            }
            Err(_) => Vec::new(),
        };
        let schema = db_path
            .and_then(|p| db::schema_for(p, &tables).ok())
            .map(|s| serde_json::to_value(s).unwrap_or(Value::Null))
            .unwrap_or_else(|| json!([]));
        let shares: BTreeMap<String, f64> =
            plan.as_ref().map(|p| p.summary.table_time_share.clone()).unwrap_or_default();
        let (target_nodes, features) = match &dag {
            Ok(d) => (dag::target_nodes(d, &shares, 3), dag::query_features(d)),
            Err(_) => (Vec::new(), BTreeSet::new()),
        };
        QueryInputs { query: query.clone(), dag, plan, plan_error, schema, target_nodes, features }
    }

    pub fn plan_summary_text(&self) -> String {
        self.plan.as_ref().map(|p| p.summary_text.clone()).unwrap_or_default()
    }
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
            &inputs.features,
        )
    }

    /// Render the arm's template. `examples` empty + `worker` None gives the base prompt.
    pub fn render(
        &self,
        inputs: &QueryInputs,
        worker: Option<u32>,
        examples: &[Example],
        history: &[Value],
    ) -> anyhow::Result<String> {
        let dag = match &inputs.dag {
            Ok(d) => serde_json::to_value(d)?,
            Err(e) if self.arm.generation.response_format == crate::spec::ResponseFormat::DagJson => {
                return Err(BadInput(format!(
                    "{}: cannot build the DAG the dag_json prompt needs: {e}. Fix the SQL or use response_format = \"sql\"",
                    inputs.query.path.display()
                ))
                .into());
            }
            Err(_) => Value::Null,
        };
        let ctx = json!({
            "query": {"id": inputs.query.id, "sql": inputs.query.sql, "file": inputs.query.path.display().to_string()},
            "dag": dag,
            "target_nodes": inputs.target_nodes,
            "plan_summary": inputs.plan_summary_text(),
            "plan": inputs.plan.as_ref().map(|p| p.json.clone()).unwrap_or(Value::Null),
            "schema": inputs.schema,
            "examples": examples,
            "worker": {"id": worker, "arm": self.arm.name},
            "arm": self.arm.params,
            "history": history,
            "dialect": "duckdb",
        });
        self.env
            .render(&self.arm.template_path, &ctx)
            .map_err(|e| anyhow::Error::new(BadInput(e.to_string())))
            .with_context(|| format!("rendering the prompt for query {}", inputs.query.id))
    }
}

/// Load every arm's prompts once.
pub fn load_arms(exp: &Experiment) -> anyhow::Result<Vec<ArmPrompts>> {
    exp.arms.iter().map(ArmPrompts::load).collect()
}
