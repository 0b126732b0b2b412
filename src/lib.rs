//! qt: run LLM SQL-rewrite experiments from a TOML spec, validate every candidate on a
//! sample DuckDB database, and record everything so every number can be re-derived.
//!
//! Modules follow the data flow: spec -> plan -> generate -> validate -> record -> report.

pub mod bench;
pub mod bench_sample;
pub mod bench_aa;
pub mod cli;
pub mod compare;
pub mod dag;
pub mod db;
pub mod error;
pub mod llm;
pub mod merge;
pub mod prompt;
pub mod query;
pub mod record;
pub mod report;
pub mod run;
pub mod spec;
pub mod sqltext;
pub mod validate;
