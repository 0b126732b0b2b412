//! Prompts: the minijinja environment (`env`), the template context (`context`), gold
//! examples on disk (`examples`) and how each worker's examples are chosen (`strategy`).
//!
//! Nothing here calls an LLM or decides what to do with an answer (`dag` reads answers);
//! rendering is pure: the same context gives the same prompt, byte for byte.

mod context;
mod env;
mod examples;
mod strategy;
mod undefined;

pub use context::{HistoryEntry, PromptInputs, QueryInfo, WorkerInfo, build_context};
pub use env::PromptEnv;
pub use examples::{Example, load_examples, load_examples_for};
pub use strategy::{coverage_count, distinct_count, overlap, score, select_examples};

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("template {location}: {message}; fix the template or the context it uses{quote}")]
    Render {
        location: String,
        message: String,
        /// The offending template line, as "\n    | text", or "".
        quote: String,
    },
    #[error("templates folder {0} does not exist; check generation.template in the spec")]
    NoTemplateDir(PathBuf),
    #[error(
        "template {path} is not inside the templates folder {root}; keep included templates next to the main one"
    )]
    OutsideRoot { path: PathBuf, root: PathBuf },
    #[error("cannot read examples {path}: {error}; check examples.dir in the spec")]
    Read { path: PathBuf, error: String },
    #[error("example {path}:{line}:{column}: {message}; fix the JSON file")]
    BadExample {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("example {path}: {message}; fix the file")]
    InvalidExample { path: PathBuf, message: String },
    #[error(
        "examples folder {0} has no *.json example; add examples or set examples.strategy = \"none\""
    )]
    NoExamples(PathBuf),
}
