//! `qt plan`: flags -> [`PlanOptions`], then `run::plan::plan` (offline: no LLM call).

use super::cli::PlanArgs;
use crate::run::plan::{self, PlanOptions};

pub fn plan(a: &PlanArgs) -> anyhow::Result<i32> {
    let overrides = super::overrides::from_args(&a.overrides)?;
    plan::plan(&PlanOptions { spec: a.spec.clone(), out: a.out.clone(), shard: a.shard.clone(), overrides })
}
