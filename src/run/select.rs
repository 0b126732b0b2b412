//! `qt run --query ID --arm NAME`: run part of a spec (a quick re-try) with the numbering
//! of the whole spec, so `gen_23` of a filtered run is the same job (prompt, examples,
//! cache key) as `gen_23` of the full one. `--repeat N` sets every arm's
//! `generation.samples_seed`. What was selected is recorded in config.json.

use serde_json::{Value, json};

use crate::error::BadInput;
use crate::spec::{Experiment, Job};

/// The part of an experiment a run covers.
#[derive(Debug, Clone)]
pub struct Selection {
    /// Indices into `Experiment::arms` that run, in order.
    pub arms: Vec<usize>,
    /// The `--query` / `--arm` values as given (empty: all).
    pub query_filter: Vec<String>,
    pub arm_filter: Vec<String>,
    pub repeat: Option<u64>,
}

impl Selection {
    /// Keep the selected queries in `exp` (their files stay read) and pick the arms.
    /// Unknown ids or names are bad input naming the valid ones.
    pub fn apply(exp: &mut Experiment, queries: &[String], arms: &[String], repeat: Option<u64>) -> Result<Selection, BadInput> {
        if !queries.is_empty() {
            let ids: Vec<String> = exp.queries.iter().map(|q| q.id.clone()).collect();
            for q in queries {
                if !ids.iter().any(|id| same_query(id, q)) {
                    return Err(BadInput(format!(
                        "--query {q}: {} has no query {q}; its queries are: {}. --query only picks among \
                         the spec's queries; to run query {q} with this spec, use --ids {}",
                        exp.spec_path.display(),
                        ids.join(", "),
                        q.trim().trim_start_matches(['q', 'Q'])
                    )));
                }
            }
            exp.queries.retain(|f| queries.iter().any(|q| same_query(&f.id, q)));
        }
        let names: Vec<&str> = exp.arms.iter().map(|a| a.name.as_str()).collect();
        for a in arms {
            if !names.contains(&a.as_str()) {
                let hint = crate::spec::error::nearest(a, names.iter().copied())
                    .map(|n| format!("did you mean `{n}`? "))
                    .unwrap_or_default();
                return Err(BadInput(format!(
                    "--arm {a}: {} has no arm `{a}`; {hint}its arms are: {} (see `qt plan`)",
                    exp.spec_path.display(),
                    names.join(", ")
                )));
            }
        }
        let picked = (0..exp.arms.len()).filter(|i| arms.is_empty() || arms.iter().any(|a| *a == exp.arms[*i].name)).collect();
        if let Some(n) = repeat {
            for arm in &mut exp.arms {
                arm.generation.samples_seed = n;
            }
        }
        Ok(Selection { arms: picked, query_filter: queries.to_vec(), arm_filter: arms.to_vec(), repeat })
    }

    /// The jobs of the selected arms (queries are already filtered in the experiment).
    pub fn jobs(&self, exp: &Experiment) -> Vec<Job> {
        crate::spec::jobs(exp).into_iter().filter(|j| self.arms.contains(&j.arm)).collect()
    }

    /// Generations per query this run plans.
    pub fn per_query(&self, exp: &Experiment) -> usize {
        self.arms.iter().map(|i| exp.arms[*i].generation.workers as usize).sum()
    }

    /// (name, workers) of each selected arm, for the summary.
    pub fn arm_list(&self, exp: &Experiment) -> Vec<(String, usize)> {
        self.arms.iter().map(|i| (exp.arms[*i].name.clone(), exp.arms[*i].generation.workers as usize)).collect()
    }

    /// For config.json `options`.
    pub fn to_json(&self, exp: &Experiment) -> Value {
        json!({
            "query": self.query_filter,
            "arm": self.arm_filter,
            "repeat": self.repeat,
            "samples_seed": self.arms.iter().map(|i| exp.arms[*i].generation.samples_seed).collect::<Vec<_>>(),
        })
    }
}

/// `7`, `q7` and `Q7` name query `7`; other ids compare as written.
fn same_query(id: &str, given: &str) -> bool {
    let given = given.trim();
    id == given || given.strip_prefix(['q', 'Q']).is_some_and(|rest| rest == id)
}

#[cfg(test)]
mod tests {
    use super::same_query;

    #[test]
    fn query_ids_with_or_without_q() {
        assert!(same_query("7", "7") && same_query("7", "q7") && same_query("23a", "Q23a"));
        assert!(same_query("demo1", "qdemo1") && same_query("demo1", "demo1"));
        assert!(!same_query("7", "17") && !same_query("7", "q17"));
    }
}
