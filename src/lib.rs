//! qt: run LLM SQL-rewrite experiments from a TOML spec, validate every candidate on a
//! sample DuckDB database, and record everything so every number can be re-derived.
//!
//! Modules follow the data flow: spec -> plan -> generate -> validate -> record -> report.
//! ARCHITECTURE.md at the repository root maps them and names the layers; lower layers
//! never import higher ones (`tests/architecture.rs`).

pub mod bench;
pub mod commands;
pub mod compare;
pub mod dag;
pub mod db;
pub mod error;
pub mod files;
pub mod llm;
pub mod merge;
pub mod prompt;
pub mod query;
pub mod record;
pub mod report;
pub mod run;
pub mod spec;
pub mod sqltext;
pub mod stdio;
pub mod stop;
pub mod validate;
