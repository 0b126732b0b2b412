//! `qt plan SPEC`: print the matrix (queries x arms x workers) and render every prompt
//! into a folder, offline (no LLM call). The plan summary is included when the sample DB
//! already exists (a given file, or a generated one in the cache); otherwise it is left
//! empty and the output says how to build the DB. Each distinct prompt is written once
//! (`q<ID>/index.txt` maps every generation to its prompt file); a folder qt created is
//! removed again when rendering fails. Per query it also prints the rewrite patterns
//! found and each worker's examples with their overlap (`plan_examples.rs`).
//! With `--shard K/N` only that shard's generations are listed and rendered.

use anyhow::Context as _;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::prompts::{QueryInputs, for_each_first_prompt, load_arms, prompt_digest};
use crate::spec::shard::ShardArg;
use crate::db::{self, Target};
use crate::error::{BadInput, EXIT_OK};
use crate::spec::{self, DbSource, Experiment};

fn existing_db(exp: &Experiment) -> Option<Target> {
    match &exp.database {
        DbSource::Path(p) => p.exists().then(|| Target::from(p)),
        DbSource::Postgres { url, .. } => {
            let password = super::setup::pg_password(exp).ok().flatten();
            Target::parse(url, password).ok().filter(|t| t.check_open().is_ok())
        }
        DbSource::Generate { .. } => {
            let p = db::generated_path_for(&exp.database.gen_spec()?);
            p.exists().then(|| Target::from(p))
        }
    }
}

/// What `qt plan` was asked to do (`commands/plan.rs` builds it from the flags).
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// The experiment spec (TOML).
    pub spec: PathBuf,
    /// Folder to render the prompts into (default: a temporary folder that is printed).
    pub out: Option<PathBuf>,
    /// Only what this shard will run.
    pub shard: Option<ShardArg>,
    /// `--set KEY=VALUE` and its shortcuts, applied by the spec loader.
    pub overrides: Vec<spec::Override>,
}

/// `qt plan SPEC`: print the matrix and render every distinct prompt; returns the exit code.
pub fn plan(args: &PlanOptions) -> anyhow::Result<i32> {
    let exp = spec::load_with_overrides(&args.spec, &args.overrides)?;
    for w in spec::limits::warnings(&exp) {
        crate::errln!("{w}");
    }
    if let DbSource::Path(p) = &exp.database {
        // A file that is not a DuckDB database is bad input, not a silently missing plan.
        Target::from(p).check_open().map_err(|e| BadInput(format!("{}: {e}", exp.spec_path.display())))?;
    }
    let arms = load_arms(&exp)?;
    let sharded = super::shard::resolve(args.shard.as_ref())?;
    let jobs = super::shard::select_jobs(&exp, sharded.as_ref());
    crate::outln!("experiment {} ({})", exp.name, exp.spec_path.display());
    let ids: Vec<&str> = exp.queries.iter().map(|q| q.id.as_str()).collect();
    crate::outln!("  queries: {} [{}]", ids.len(), ids.join(", "));
    crate::outln!("  arms:    {}", exp.arms.len());
    for a in &exp.arms {
        crate::outln!("    {:>2}. {} ({} workers)", a.index + 1, a.name, a.generation.workers);
    }
    let per_query: u32 = exp.arms.iter().map(|a| a.generation.workers).sum();
    crate::outln!("  total:   {} queries x {} generations per query = {} generations", ids.len(), per_query, exp.job_count());
    if let Some(s) = &sharded {
        let dir = super::shard::shard_dir(&exp.output_dir, &s.shard);
        crate::outln!("  shard {} ({}): {} generations into {}", s.shard, s.source, jobs.len(), dir.display());
        crate::outln!("    {}", super::shard::describe(&exp, &jobs));
    }

    // A folder qt made is removed again if rendering fails; a given one that existed is kept.
    let (out, made) = match &args.out {
        Some(d) => (d.clone(), !d.exists()),
        None => (tempfile::Builder::new().prefix("qt-plan-").tempdir()?.keep(), true),
    };
    let result = render_all(&exp, &arms, &jobs, &out);
    if result.is_err() && made {
        let _ = std::fs::remove_dir_all(&out);
    }
    result
}

/// Render every query's prompts into `out`: each distinct prompt once, as the
/// `gen_NN.prompt.txt` of the first generation that uses it; `q<ID>/index.txt` lists
/// every generation with the file holding its prompt.
fn render_all(exp: &Experiment, arms: &[super::prompts::ArmPrompts], jobs: &[spec::Job], out: &std::path::Path) -> anyhow::Result<i32> {
    std::fs::create_dir_all(out)
        .map_err(|e| BadInput(format!("cannot create --out folder {}: {e}", out.display())))?;
    let db = existing_db(exp);
    if db.is_none() {
        crate::outln!("  note: sample DB not built yet, prompts have no plan summary (build it with `qt db generate` or `qt run`)");
    }
    let timeout = std::time::Duration::from_secs_f64(exp.resolved.validation.original_timeout_s);
    // The same plan cache key as `qt run`, so `qt plan` shows the prompts a run will send.
    let db_key = db.as_ref().and_then(|p| super::setup::DbInfo::read(p).ok()).map(|i| i.key);
    let (mut rendered, mut distinct) = (0usize, BTreeSet::new());
    let per_query: usize = exp.arms.iter().map(|a| a.generation.workers as usize).sum();
    let mut tally = super::plan_examples::CoverageTally::default();
    for (qi, q) in exp.queries.iter().enumerate() {
        if !jobs.iter().any(|j| j.query == qi) {
            continue;
        }
        let inputs = QueryInputs::prepare(q, db.as_ref(), db_key.as_deref(), timeout);
        let qdir = out.join(format!("q{}", q.id));
        std::fs::create_dir_all(&qdir).with_context(|| format!("creating {}", qdir.display()))?;
        let write = |name: &str, text: &str| {
            let file = qdir.join(name);
            std::fs::write(&file, text).with_context(|| format!("writing {}", file.display()))
        };
        write(crate::record::layout::BASE_PROMPT, &arms[0].render(&inputs, None, &[], &[])?)?;
        let (mut q_rendered, mut first_of) = (0usize, BTreeMap::new());
        let mut index = String::new();
        for_each_first_prompt(jobs, qi, arms, &inputs, |job, prompt| {
            let gen_name = crate::record::layout::gen_name(job.r#gen, per_query);
            let name = format!("{gen_name}.prompt.txt");
            let file = first_of.entry(prompt_digest(&prompt)).or_insert_with(|| name.clone()).clone();
            if file == name {
                write(&name, &prompt)?;
            }
            index.push_str(&format!("{gen_name}\t{file}\n"));
            q_rendered += 1;
            Ok(())
        })?;
        write("index.txt", &index)?;
        rendered += q_rendered;
        distinct.extend(first_of.keys().copied());
        crate::outln!("  q{}: {q_rendered} prompts, {} distinct", q.id, first_of.len());
        super::plan_examples::print_query_examples(arms, &inputs, &mut tally);
    }
    super::plan_examples::print_coverage_summary(&tally);
    crate::outln!("rendered {rendered} prompts ({} distinct) into {}", distinct.len(), out.display());
    if distinct.len() < rendered {
        crate::outln!(
            "  note: {} generations share a prompt with another one (they differ only by sampling); \
             each distinct prompt is written once, index.txt maps every generation to its file",
            rendered - distinct.len()
        );
    }
    Ok(EXIT_OK)
}
