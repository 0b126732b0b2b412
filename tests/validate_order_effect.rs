//! Survey, not a test: where does "the execution that runs second in a pair is faster"
//! come from? Times A/A pairs of one TPC-DS query under the conditions a run creates and
//! prints the order effect of each: sqrt(median O/C when O ran first / median O/C when C
//! ran first); 1.00 means no effect, 1.05 means the first of a pair is 5% slower.
//!
//! `QT_VALIDATE_TPCDS_DB=db.duckdb QT_VALIDATE_AA=query_7 cargo test --release \
//!   --test validate_order_effect -- --ignored --nocapture`

mod common;

use qt::validate::sandbox::Sandbox;
use qt::validate::timing::stats::{balanced_speedup, median};
use qt::validate::timing::PairedRun;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const PAIRS: usize = 24;

fn effect(o: &[f64], c: &[f64], f: &[bool]) -> String {
    let (s, a, b) = balanced_speedup(o, c, f).unwrap();
    let (a, b) = (a.unwrap(), b.unwrap());
    format!(
        "order effect {:.3}  (O-first O/C {:.3}, C-first O/C {:.3}, balanced {:.3}, median {:.1} ms)",
        (a / b).sqrt(), a, b, s, median(o).unwrap() * 1e3
    )
}

/// PAIRS pairs (alternating order), calling `between` before each pair.
fn pairs(sb: &Sandbox, sql: &str, mut between: impl FnMut()) -> (Vec<f64>, Vec<f64>, Vec<bool>) {
    let run = PairedRun { original_sql: sql, candidate_sql: sql, original_deadline: Duration::from_secs(60), candidate_deadline: Duration::from_secs(60) };
    let (mut o, mut c, mut f) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..PAIRS / 2 {
        between();
        let p = run.run(sb, 0, 2).unwrap();
        o.extend(p.original_s);
        c.extend(p.optimized_s);
        f.extend(p.o_first);
    }
    (o, c, f)
}

#[test]
#[ignore]
fn order_effect_survey() {
    let (Some(db), Ok(name)) = (std::env::var_os("QT_VALIDATE_TPCDS_DB"), std::env::var("QT_VALIDATE_AA")) else {
        println!("skipped: set QT_VALIDATE_TPCDS_DB and QT_VALIDATE_AA");
        return;
    };
    let Some(dir) = common::tpcds_queries() else { return };
    let db = std::path::PathBuf::from(db);
    let sql = std::fs::read_to_string(dir.join(format!("{name}.sql"))).unwrap();
    let other = std::fs::read_to_string(dir.join("query_96.sql")).unwrap();
    let d = Duration::from_secs(60);
    let lane = Sandbox::open(&db, 1, "4GB").unwrap();
    let _ = lane.run(&sql, d);

    let (o, c, f) = pairs(&lane, &sql, || {});
    println!("{name} back to back on one warm connection:          {}", effect(&o, &c, &f));

    let (o, c, f) = pairs(&lane, &sql, || std::thread::sleep(Duration::from_millis(100)));
    println!("{name} 100 ms idle before each block:                 {}", effect(&o, &c, &f));

    let another = Sandbox::open(&db, 1, "4GB").unwrap();
    let (o, c, f) = pairs(&lane, &sql, || {
        let _ = another.run(&other, d);
    });
    println!("{name} another query (other connection) before each block: {}", effect(&o, &c, &f));

    let (o, c, f) = {
        let mut fresh = None;
        let (mut o, mut c, mut f) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..PAIRS / 2 {
            fresh = Some(Sandbox::open(&db, 1, "4GB").unwrap());
            let (a, b, g) = {
                let sb = fresh.as_ref().unwrap();
                let run = PairedRun { original_sql: &sql, candidate_sql: &sql, original_deadline: d, candidate_deadline: d };
                let p = run.run(sb, 0, 2).unwrap();
                (p.original_s, p.optimized_s, p.o_first)
            };
            o.extend(a);
            c.extend(b);
            f.extend(g);
        }
        drop(fresh);
        (o, c, f)
    };
    println!("{name} fresh connection per block (old lane):          {}", effect(&o, &c, &f));

    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let busy = Sandbox::open(&db, 1, "4GB").unwrap();
            while !stop.load(Ordering::Relaxed) {
                let _ = busy.run(&other, d);
            }
        });
        let (o, c, f) = pairs(&lane, &sql, || {});
        println!("{name} with correctness runs on the other core:       {}", effect(&o, &c, &f));
        stop.store(true, Ordering::Relaxed);
    });
}
