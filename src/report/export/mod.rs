//! Exporters of a [`ReportModel`] (hyperfine's `src/export/` shape): one trait whose
//! method turns the model into bytes, one small file per format. The caller does all I/O
//! (`-` is stdout) and opens the output before rendering, so a bad path fails early.

pub mod full_view;
pub mod html;
pub mod json;
pub mod markdown;
pub mod visible;

use crate::record::report_model::ReportModel;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("rendering the HTML template failed: {0}")]
    Template(#[from] minijinja::Error),
    #[error("serializing the report failed: {0}")]
    Json(#[from] serde_json::Error),
}

pub trait Exporter {
    fn render(&self, model: &ReportModel) -> Result<Vec<u8>, ExportError>;
}

/// The export formats (`qt report --format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Md,
    Json,
}

pub fn exporter(format: Format) -> Box<dyn Exporter> {
    match format {
        Format::Html => Box::new(html::Html),
        Format::Md => Box::new(markdown::Markdown),
        Format::Json => Box::new(json::Json),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One fixture for every format: a synthetic run folder of 10 generations.
    fn fixture() -> (tempfile::TempDir, ReportModel) {
        let t = tempfile::tempdir().unwrap();
        let run = crate::report::bench::synthetic_run(t.path(), 10).unwrap();
        let m = crate::record::report_model::read(&run).unwrap();
        (t, m)
    }

    #[test]
    fn markdown_snapshot() {
        let (_t, m) = fixture();
        let md = String::from_utf8(exporter(Format::Md).render(&m).unwrap()).unwrap();
        insta::assert_snapshot!(md);
    }

    #[test]
    fn json_and_html_carry_every_generation() {
        let (_t, m) = fixture();
        let js: serde_json::Value = serde_json::from_slice(&exporter(Format::Json).render(&m).unwrap()).unwrap();
        assert_eq!(js["runs"][0]["gens"].as_array().unwrap().len(), 10);
        assert_eq!(js["runs"][0]["arms"][0]["at_k"].as_array().unwrap().len(), 5);
        let html = String::from_utf8(exporter(Format::Html).render(&m).unwrap()).unwrap();
        for n in 1..=10 {
            assert!(html.contains(&format!("id=\"gen_{n:04}\"")), "gen_{n:04}");
        }
        assert!(html.contains("Content-Security-Policy"));
        // Autoescape: the prompt's JSON quotes and any markup arrive escaped.
        assert!(!html.contains("<script>alert"), "no raw markup from recorded text");
    }

    #[test]
    fn recorded_text_cannot_inject_markup() {
        let (t, _) = fixture();
        let g = t.path().join("q1_20261127_120000/gen_0001");
        std::fs::write(g.join("response.txt"), "<script>alert(1)</script>").unwrap();
        let m = crate::record::report_model::read(&t.path().join("q1_20261127_120000")).unwrap();
        let html = String::from_utf8(exporter(Format::Html).render(&m).unwrap()).unwrap();
        assert!(!html.contains("<script>alert(1)"));
        assert!(html.contains("\\u003cscript>alert(1)\\u003c/script>"), "kept, as JSON text the page sets as text");
    }
}
