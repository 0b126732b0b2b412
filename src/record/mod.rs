//! The output tree (OUTPUT.md): the one place that knows paths and file names under a
//! run folder, that they are written atomically (with `files/`), and what summary.json
//! contains, including the valid@k curves (`at_k.rs`).
//!
//! It does not decide verdicts or talk to the console; it stores what `run/` reports.

pub mod answers;
pub mod at_k;
pub mod capped;
pub mod config;
pub mod confirm;
pub mod cost;
pub mod figures;
pub mod layout;
pub mod predict;
pub mod report_model;
pub mod runs;
pub mod skipped;
pub mod summary;
pub mod summary_full;

pub use crate::files::atomic::{write_atomic, write_dir_atomic};
pub use layout::RunDir;
