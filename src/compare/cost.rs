//! Dollars in `qt compare`: what each side's generations cost (spent + re-read from the
//! response cache, at their price) and what a valid rewrite cost, per arm over the shared
//! queries. A plain ratio, no interval: cost is counted, not sampled. Unknown costs (no
//! price for a model) stay unknown.

use serde::Serialize;

use crate::record::cost::usd;
use crate::record::report_model::{GenReport, ReportModel};

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct CostSide {
    pub generations: usize,
    pub valid: usize,
    /// None when some generation's cost is unknown.
    pub cost_usd: Option<f64>,
    pub cost_per_valid: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ArmCost {
    pub arm: String,
    pub a: CostSide,
    pub b: CostSide,
    /// B's cost per valid rewrite over A's.
    pub per_valid_ratio: Option<f64>,
}

fn side<'m>(gens: impl Iterator<Item = &'m GenReport>) -> CostSide {
    let gens: Vec<&GenReport> = gens.collect();
    let valid = gens.iter().filter(|g| g.is_pass()).count();
    let cost = gens.iter().map(|g| g.cost_usd).sum::<Option<f64>>().map(usd);
    CostSide {
        generations: gens.len(),
        valid,
        cost_usd: cost,
        cost_per_valid: cost.filter(|_| valid > 0).map(|c| usd(c / valid as f64)),
    }
}

/// One row per compared pair of arms (labelled like the verdicts), over `queries`.
pub fn arm_costs(a: &ReportModel, b: &ReportModel, queries: &[String], pairs: &[super::pairing::ArmPair]) -> Vec<ArmCost> {
    let of = |m: &'_ ReportModel, arm: &str| -> CostSide {
        side(m.runs.iter().filter(|r| queries.contains(&r.query_id)).flat_map(|r| r.gens.iter()).filter(|g| g.arm == arm))
    };
    pairs
        .iter()
        .map(|p| {
            let (sa, sb) = (of(a, &p.a), of(b, &p.b));
            let ratio = sa.cost_per_valid.zip(sb.cost_per_valid).filter(|(x, _)| *x > 0.0).map(|(x, y)| y / x);
            ArmCost { arm: p.label(), a: sa, b: sb, per_valid_ratio: ratio }
        })
        .collect()
}
