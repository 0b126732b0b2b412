//! The report model as JSON: every derived number, for scripts and for re-rendering.

use super::{ExportError, Exporter};
use crate::record::report_model::ReportModel;

pub struct Json;

impl Exporter for Json {
    fn render(&self, model: &ReportModel) -> Result<Vec<u8>, ExportError> {
        let mut v = serde_json::to_vec_pretty(model)?;
        v.push(b'\n');
        Ok(v)
    }
}
