//! `qt plan SPEC`: print the matrix (queries x arms x workers) and render every prompt
//! into a folder, offline (no LLM call). The plan summary is included when the sample DB
//! already exists (a given file, or a generated one in the cache); otherwise it is left
//! empty and the output says how to build the DB. Per query it also prints the rewrite
//! patterns found and each worker's examples with their overlap (`plan_examples.rs`).

use anyhow::Context as _;
use std::collections::BTreeSet;
use std::path::PathBuf;

use super::prompts::{QueryInputs, for_each_first_prompt, load_arms, prompt_digest};
use crate::cli::PlanArgs;
use crate::db;
use crate::error::{BadInput, EXIT_OK};
use crate::spec::{self, DbSource, Experiment};

fn existing_db(exp: &Experiment) -> Option<PathBuf> {
    match &exp.database {
        DbSource::Path(p) => p.exists().then(|| p.clone()),
        DbSource::Generate { .. } => {
            let p = db::generated_path_for(&exp.database.gen_spec()?);
            p.exists().then_some(p)
        }
    }
}

pub fn plan_cmd(args: &PlanArgs) -> anyhow::Result<i32> {
    let exp = spec::load(&args.spec)?;
    let arms = load_arms(&exp)?;
    let jobs = spec::jobs(&exp);
    println!("experiment {} ({})", exp.name, exp.spec_path.display());
    let ids: Vec<&str> = exp.queries.iter().map(|q| q.id.as_str()).collect();
    println!("  queries: {} [{}]", ids.len(), ids.join(", "));
    println!("  arms:    {}", exp.arms.len());
    for a in &exp.arms {
        println!("    {:>2}. {} ({} workers)", a.index + 1, a.name, a.generation.workers);
    }
    let per_query: u32 = exp.arms.iter().map(|a| a.generation.workers).sum();
    println!("  total:   {} queries x {} generations per query = {} generations", ids.len(), per_query, jobs.len());

    let out = match &args.out {
        Some(d) => d.clone(),
        None => tempfile::Builder::new().prefix("qt-plan-").tempdir()?.keep(),
    };
    std::fs::create_dir_all(&out)
        .map_err(|e| BadInput(format!("cannot create --out folder {}: {e}", out.display())))?;
    let db = existing_db(&exp);
    if db.is_none() {
        println!("  note: sample DB not built yet, prompts have no plan summary (build it with `qt db generate` or `qt run`)");
    }
    let timeout = std::time::Duration::from_secs_f64(exp.resolved.validation.original_timeout_s);
    // The same plan cache key as `qt run`, so `qt plan` shows the prompts a run will send.
    let db_key = db.as_deref().and_then(|p| super::setup::DbInfo::read(p).ok()).map(|i| i.key);
    let (mut rendered, mut distinct) = (0usize, BTreeSet::new());
    let mut tally = super::plan_examples::CoverageTally::default();
    for (qi, q) in exp.queries.iter().enumerate() {
        let inputs = QueryInputs::prepare(q, db.as_deref(), db_key.as_deref(), timeout);
        let qdir = out.join(format!("q{}", q.id));
        std::fs::create_dir_all(&qdir)?;
        std::fs::write(qdir.join("base_prompt.txt"), arms[0].render(&inputs, None, &[], &[])?)?;
        let (mut q_rendered, mut q_distinct) = (0usize, BTreeSet::new());
        for_each_first_prompt(&jobs, qi, &arms, &inputs, |job, prompt| {
            let name = crate::record::layout::gen_name(job.r#gen, per_query as usize);
            let file = qdir.join(format!("{name}.prompt.txt"));
            std::fs::write(&file, &prompt).with_context(|| format!("writing {}", file.display()))?;
            q_distinct.insert(prompt_digest(&prompt));
            q_rendered += 1;
            Ok(())
        })?;
        rendered += q_rendered;
        distinct.extend(q_distinct.iter().copied());
        println!("  q{}: {q_rendered} prompts, {} distinct", q.id, q_distinct.len());
        super::plan_examples::print_query_examples(&arms, &inputs, &mut tally);
    }
    super::plan_examples::print_coverage_summary(&tally);
    println!("rendered {rendered} prompts ({} distinct) into {}", distinct.len(), out.display());
    if distinct.len() < rendered {
        println!(
            "  note: {} generations share a prompt with another one (they differ only by sampling)",
            rendered - distinct.len()
        );
    }
    Ok(EXIT_OK)
}
