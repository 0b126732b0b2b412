//! Everything the user reads: progress bars, one line per finished generation, the
//! RESULTS block, the sweep table, the HTML/Markdown/JSON report of a run or sweep
//! (`export/`) and the printed comparison of two runs (`compare_view`). It renders what
//! record/ read and compare/ decided; it never decides or stores anything itself, except
//! writing the rendered bytes where the caller asked.

pub mod bench;
pub mod compare_view;
pub mod console;
pub mod export;
pub mod sqlview;
pub mod stdout;
pub mod sweep;

pub use console::Console;

use anyhow::Context as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::cli::{CompareArgs, ReportArgs};
use crate::error::{BadInput, EXIT_OK};
use crate::record::report_model::{self, ReadError};

/// File name of the HTML report inside a run or sweep folder.
pub const REPORT_HTML: &str = "report.html";

fn bad_read(e: ReadError) -> anyhow::Error {
    match e {
        ReadError::NotARun(_) | ReadError::Json { .. } => anyhow::Error::new(BadInput(e.to_string())),
        ReadError::Io { .. } => anyhow::Error::new(e),
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

/// Where rendered bytes go: a file (opened before any work, so a bad path fails early)
/// or stdout for `-`.
enum Sink {
    Stdout,
    File(PathBuf, std::fs::File),
}

impl Sink {
    fn open(out: &Path) -> anyhow::Result<Sink> {
        if out == Path::new("-") {
            return Ok(Sink::Stdout);
        }
        let f = std::fs::File::create(out)
            .map_err(|e| BadInput(format!("--out {}: cannot write there ({e}); pick a writable path or `-` for stdout", out.display())))?;
        Ok(Sink::File(out.to_path_buf(), f))
    }

    fn write(self, bytes: &[u8]) -> anyhow::Result<Option<PathBuf>> {
        match self {
            Sink::Stdout => {
                std::io::stdout().lock().write_all(bytes)?;
                Ok(None)
            }
            Sink::File(p, mut f) => {
                f.write_all(bytes).with_context(|| format!("writing {}", p.display()))?;
                f.sync_all()?;
                Ok(Some(p))
            }
        }
    }
}

/// `qt report [DIR] [--out FILE] [--format html|md|json]`.
pub fn report_cmd(a: &ReportArgs) -> anyhow::Result<i32> {
    let default_name = match a.format {
        export::Format::Html => REPORT_HTML,
        export::Format::Md => "report.md",
        export::Format::Json => "report.json",
    };
    let out = a.out.clone().unwrap_or_else(|| a.dir.join(default_name));
    if !a.dir.is_dir() {
        return Err(BadInput(format!("{}: no such folder; pass a run folder (q<ID>_<stamp>) or an experiment's output folder", a.dir.display())).into());
    }
    let sink = Sink::open(&out)?;
    let t = std::time::Instant::now();
    let model = report_model::read(&a.dir).map_err(bad_read)?;
    let bytes = export::exporter(a.format).render(&model)?;
    if let Some(p) = sink.write(&bytes)? {
        eprintln!(
            "report: {} ({} generations, {:.1} kB, {:.2}s)",
            p.display(),
            model.generation_count(),
            bytes.len() as f64 / 1e3,
            t.elapsed().as_secs_f64()
        );
    }
    Ok(EXIT_OK)
}

/// `qt compare A B [--format table|md|json] [--noise X]`.
pub fn compare_cmd(a: &CompareArgs) -> anyhow::Result<i32> {
    if !(0.0..1.0).contains(&a.noise) {
        return Err(BadInput(format!("--noise {}: expected a fraction between 0 and 1 (0.05 = 5%)", a.noise)).into());
    }
    let c = crate::compare::compare_dirs(&a.a, &a.b, a.noise).map_err(|e| match e {
        crate::compare::CompareError::Read(r) => bad_read(r),
        other => anyhow::Error::new(BadInput(other.to_string())),
    })?;
    let text = match a.format {
        compare_view::CompareFormat::Table => compare_view::table(&c),
        compare_view::CompareFormat::Md => compare_view::markdown(&c),
        compare_view::CompareFormat::Json => serde_json::to_string_pretty(&c)? + "\n",
    };
    print!("{text}");
    Ok(EXIT_OK)
}
