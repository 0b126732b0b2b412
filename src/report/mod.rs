//! Everything the user reads: progress bars, one line per finished generation, the
//! RESULTS block, the sweep table, the HTML/Markdown/JSON report of a run or sweep
//! (`export/`) and the printed comparison of two runs (`compare_view`). It renders what
//! record/ read and compare/ decided; it never decides or stores anything itself, except
//! writing the rendered bytes where the caller asked.

pub mod bench;
pub mod compare_full;
pub mod compare_view;
pub mod confirm_view;
pub mod console;
pub mod console_text;
pub mod events;
pub mod export;
pub mod sqlview;
pub mod sweep;

pub use console::Console;

use anyhow::Context as _;
use std::path::{Path, PathBuf};

use crate::error::BadInput;
use crate::record::report_model::{self, ReadError};

/// File name of the HTML report inside a run or sweep folder.
pub const REPORT_HTML: &str = "report.html";

/// A read error as the commands report it: a folder that is not a run, or bad JSON, is
/// bad input (exit 2); an I/O error is a failure.
pub fn bad_read(e: ReadError) -> anyhow::Error {
    match e {
        ReadError::NotARun(_) | ReadError::Json { .. } => anyhow::Error::new(BadInput(e.to_string())),
        ReadError::Io { .. } | ReadError::NothingReadable { .. } => anyhow::Error::new(e),
    }
}

/// Name on stderr every file the reader skipped and every value it refused.
pub fn warn_problems(problems: &[report_model::ReadProblem]) {
    for p in problems {
        crate::errln!("warning: {p}");
    }
}

/// Render `report.html` into a run or sweep folder (atomically); used at the end of
/// `qt run` and by anything that produces a run tree (e.g. a merge of shards).
pub fn write_report(dir: &Path) -> anyhow::Result<PathBuf> {
    let model = report_model::read(dir).map_err(bad_read)?;
    let bytes = export::exporter(export::Format::Html).render(&model)?;
    let path = dir.join(REPORT_HTML);
    crate::record::write_atomic(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}
