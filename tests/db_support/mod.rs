//! Shared by the db_* test binaries: one scale-0.01 TPC-DS database per test binary run,
//! built fresh (into the cargo target's tmp folder) the first time a test asks for it,
//! and the location of the TPC-DS query files.
#![allow(dead_code)]

#[path = "../common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub const SCALE: f64 = 0.01;

/// A folder under the target's tmp dir for this test binary, emptied on first use.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("qt-db-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// The shared sample DB (built once per test binary; later calls reuse it).
pub fn sample_db(binary: &str) -> &'static Path {
    static DB: OnceLock<PathBuf> = OnceLock::new();
    DB.get_or_init(|| {
        let root = scratch(&format!("{binary}-cache"));
        let generated = qt::db::ensure_generated_in(&root, "tpcds", SCALE, false)
            .expect("generate the scale-0.01 sample DB");
        assert!(generated.built.is_some(), "a fresh cache must build");
        generated.path
    })
}

/// The TPC-DS query folder, or None (after printing why) when it is absent.
pub fn queries_dir() -> Option<PathBuf> {
    common::tpcds_queries()
}
