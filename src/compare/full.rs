//! Sample vs full size in `qt compare`: for each side, per query, the full-size figures
//! (record::predict: Spearman, wins that held, candidates wrong at full size) and the
//! points of the scatter plot; per compared row, each side's best full-size speedup,
//! beside (never instead of) the screening figures.

use serde::Serialize;

use crate::record::predict::{Prediction, predict};
use crate::record::report_model::{GenReport, ReportModel, full_of};

/// One query of one side that has full-size confirmations.
#[derive(Debug, Clone, Serialize)]
pub struct FullSide {
    pub query_id: String,
    /// The confirm DB (the one used last).
    pub db: String,
    pub figures: Prediction,
    /// (sample speedup, full speedup) of every candidate that passed at both sizes.
    pub points: Vec<[f64; 2]>,
}

/// Every query of `m` with confirmations, in the model's order.
pub fn sides(m: &ReportModel) -> Vec<FullSide> {
    m.runs
        .iter()
        .filter_map(|r| {
            let (db, items) = full_of(&r.gens);
            let db = db?;
            let points = items.iter().filter(|c| c.full_pass()).filter_map(|c| c.full.map(|f| [c.sample, f])).filter(|p| p.iter().all(|x| x.is_finite())).collect();
            Some(FullSide { query_id: r.query_id.clone(), db, figures: predict(&items), points })
        })
        .collect()
}

/// The best full-size speedup of some generations (passes at full size) and how many of
/// them differ at full size.
pub fn best_full(gens: &[&GenReport]) -> (Option<f64>, usize) {
    let fulls: Vec<_> = gens.iter().filter_map(|g| g.full.as_ref()).collect();
    let best = fulls.iter().filter(|f| f.is_pass()).filter_map(|f| f.speedup).reduce(f64::max);
    (best, fulls.iter().filter(|f| f.reason.as_deref() == Some("differs_at_full_scale")).count())
}
