//! `qt report` and `qt compare`: flags -> the report model (record/) rendered by an
//! exporter (report/), or a comparison decided by compare/ and printed by report/.
//! The output file is opened before any work, so a bad path fails early.

use anyhow::Context as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::cli::{CompareArgs, CompareFormat, ReportArgs, ReportFormat};
use crate::error::{BadInput, EXIT_OK};
use crate::record::report_model;
use crate::report::{REPORT_HTML, bad_read, compare_view, export};

impl From<ReportFormat> for export::Format {
    fn from(f: ReportFormat) -> Self {
        match f {
            ReportFormat::Html => export::Format::Html,
            ReportFormat::Md => export::Format::Md,
            ReportFormat::Json => export::Format::Json,
        }
    }
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
pub fn report(a: &ReportArgs) -> anyhow::Result<i32> {
    // HTML is a page to open: report.html in DIR. Markdown and JSON are text to paste or
    // pipe: stdout unless --out.
    let out = match (&a.out, a.format) {
        (Some(o), _) => o.clone(),
        (None, ReportFormat::Html) => a.dir.join(REPORT_HTML),
        (None, _) => PathBuf::from("-"),
    };
    if !a.dir.is_dir() {
        return Err(BadInput(format!("{}: no such folder; pass a run folder (q<ID>_<stamp>) or an experiment's output folder", a.dir.display())).into());
    }
    let sink = Sink::open(&out)?;
    let t = std::time::Instant::now();
    let model = report_model::read(&a.dir).map_err(bad_read)?;
    crate::report::warn_problems(&model.problems);
    let bytes = export::exporter(a.format.into()).render(&model)?;
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

/// `qt compare A B [--map A_ARM=B_ARM]... | qt compare DIR --arms A_ARM,B_ARM`
/// `[--format table|md|json] [--noise X] [--min-candidates N]`.
pub fn compare(a: &CompareArgs) -> anyhow::Result<i32> {
    if !(0.0..1.0).contains(&a.noise) {
        return Err(BadInput(format!("--noise {}: expected a fraction between 0 and 1 (0.05 = 5%)", a.noise)).into());
    }
    let opts = crate::compare::CompareOptions { noise: a.noise, maps: a.map.clone(), min_candidates: a.min_candidates };
    let result = match (&a.b, &a.arms) {
        (_, Some(arms)) => crate::compare::compare_arms(&a.a, arms, &opts),
        (Some(b), None) => crate::compare::compare_dirs_across(&a.a, b, &opts, a.across_engines),
        (None, None) => return Err(BadInput("give a second folder to compare with, or --arms A_ARM,B_ARM to compare two arms of one".into()).into()),
    };
    let c = result.map_err(|e| match e {
        crate::compare::CompareError::Read(r) => bad_read(r),
        other => anyhow::Error::new(BadInput(other.to_string())),
    })?;
    let text = match a.format {
        CompareFormat::Table => compare_view::table(&c),
        CompareFormat::Md => compare_view::markdown(&c),
        CompareFormat::Json => serde_json::to_string_pretty(&c)? + "\n",
    };
    crate::report::warn_problems(&c.problems);
    print!("{text}");
    Ok(EXIT_OK)
}
