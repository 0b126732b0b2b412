//! `qt run`: flags -> [`RunOptions`], then `run::run`. With `--json`, stdout gets a JSON
//! object even when the run fails (`{"error": ..., "exit_code": ...}`).

use serde_json::json;

use super::cli::{FailOn, RunArgs};
use crate::run::{self, RunOptions};

impl From<FailOn> for run::FailOn {
    fn from(f: FailOn) -> Self {
        match f {
            FailOn::NoneValid => run::FailOn::NoneValid,
            FailOn::AnyError => run::FailOn::AnyError,
        }
    }
}

impl RunOptions {
    fn from_args(a: &RunArgs) -> Result<Self, crate::spec::SpecError> {
        Ok(RunOptions {
            spec: a.spec.clone(),
            resume: a.resume.clone(),
            no_cache: a.no_cache,
            no_validate: a.no_validate,
            quiet: a.quiet,
            json: a.json,
            queries: a.queries.clone(),
            arms: a.arms.clone(),
            repeat: a.repeat,
            force: a.force,
            fail_on: a.fail_on.map(Into::into),
            shard: a.shard.clone(),
            overrides: super::overrides::from_args(&a.overrides)?,
        })
    }
}

pub fn run(a: &RunArgs) -> anyhow::Result<i32> {
    let result = RunOptions::from_args(a).map_err(anyhow::Error::from).and_then(|o| run::run(&o));
    if a.json {
        if let Err(e) = &result {
            let out = json!({"error": format!("{e:#}"), "exit_code": super::exit_code_of(e)});
            crate::outln!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        }
    }
    result
}
