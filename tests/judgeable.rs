//! How many statements the default instances can judge (issue 22's goal: under 5%
//! unjudgeable): every statement of the TPC-DS queries (../shared, never copied) and of
//! our own set (`queries/user/`) prepared as a reference exactly as `qt run` does, on the
//! four default instances of the tests' primary (SF1 @ 1%, another slice and scale 0.01
//! with NULL corners, the sparse instance), with re-binding on. A statement is judgeable
//! when its reference carries at least `min_rows` rows of evidence, as written or
//! re-bound. Ignored by default (a few minutes); the README's figures come from
//! `cargo test --release --test judgeable -- --ignored --nocapture`.

mod common;
use common::*;
use qt::validate::instances::Instance;
use qt::validate::reference::Reference;
use qt::validate::{TimingLane, ValidatorConfig};
use std::path::{Path, PathBuf};

#[derive(Default, Debug)]
struct Tally {
    statements: usize,
    as_written: usize,
    rebound: usize,
    unjudgeable: Vec<String>,
}

fn survey(dir: &Path, dbs: &[Instance], cfg: &ValidatorConfig) -> Tally {
    let files = qt::validate::survey::collect_files(&[dir.to_path_buf()]).unwrap();
    let lane = TimingLane::new();
    let mut t = Tally::default();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let statements = qt::db::split_statements(&text);
        for (k, sql) in statements.iter().enumerate() {
            let name = match statements.len() {
                1 => f.file_name().unwrap().to_string_lossy().into_owned(),
                _ => format!("{}#{}", f.file_name().unwrap().to_string_lossy(), k + 1),
            };
            t.statements += 1;
            match Reference::prepare(&dbs[0], &dbs[1..], sql, cfg, &lane) {
                Ok(r) if r.total() >= r.min_rows => {
                    if r.rebound.is_some() {
                        t.rebound += 1
                    } else {
                        t.as_written += 1
                    }
                }
                Ok(r) => t.unjudgeable.push(format!("{name} ({} row(s) of evidence)", r.total())),
                Err(v) => t.unjudgeable.push(format!("{name} ({})", v.summary_line())),
            }
        }
    }
    t
}

#[test]
#[ignore = "a few minutes: run with --ignored for the README's figures"]
fn unjudgeable_share_on_the_default_instances() {
    let Some(tpcds) = tpcds_queries() else { return };
    let label = |p: &PathBuf| Instance::new(p.clone(), p.file_name().unwrap().to_string_lossy().into_owned());
    // QT_JUDGEABLE_DBS=a.duckdb:b.duckdb:... measures another instance set (the users'
    // SF100 @ 1% defaults, say); the bounds below are for the tests' set.
    let custom: Option<Vec<PathBuf>> = std::env::var("QT_JUDGEABLE_DBS").ok().map(|v| v.split(':').map(PathBuf::from).collect());
    let paths = custom.clone().unwrap_or_else(|| {
        vec![
            generate_db(&["--scale", "1", "--sample", "0.01"]),
            generate_db(&["--scale", "1", "--sample", "0.01", "--instance", "2", "--nulls"]),
            generate_db(&["--scale", "0.01", "--nulls"]),
            generate_db(&["--scale", "0.01", "--sparse"]),
        ]
    });
    let dbs: Vec<Instance> = paths.iter().map(label).collect();
    let cfg = ValidatorConfig { timing_rounds: 0, rebind_tries: std::env::var("QT_REBIND_TRIES").ok().and_then(|v| v.parse().ok()).unwrap_or(32), ..Default::default() };
    // Measured 2026-12-07 with 32 tries: 10 of 105 (11 before count bounds were re-bound, 16
    // with 8 tries) and 1 of 24; on the users' SF100 @ 1% defaults 2 of 105 and 1 of 24.
    // These bounds keep what the tests' smaller primary reached.
    for (set, dir, bound) in [("TPC-DS", tpcds, 10), ("queries/user", repo().join("queries/user"), 1)] {
        let t = survey(&dir, &dbs, &cfg);
        let share = t.unjudgeable.len() as f64 / t.statements as f64;
        println!(
            "{set}: {} statements, {} judgeable as written, {} after re-binding, {} unjudgeable ({:.1}%)",
            t.statements,
            t.as_written,
            t.rebound,
            t.unjudgeable.len(),
            share * 100.0
        );
        for u in &t.unjudgeable {
            println!("  unjudgeable: {u}");
        }
        assert!(custom.is_some() || t.unjudgeable.len() <= bound, "{set}: {} unjudgeable, more than the {bound} measured before", t.unjudgeable.len());
    }
}
