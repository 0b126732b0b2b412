//! The output tree (OUTPUT.md): the one place that knows paths and file names under a
//! run folder, how they are written atomically, and what summary.json contains.
//!
//! It does not decide verdicts or talk to the console; it stores what `run/` reports.

pub mod atomic;
pub mod config;
pub mod layout;
pub mod lock;
pub mod report_model;
pub mod runs;
pub mod summary;

pub use atomic::{write_atomic, write_dir_atomic};
pub use layout::RunDir;
