//! What every candidate of one statement is judged against: the original on every data
//! instance, how much evidence its results carry, and the re-binding used when the
//! original is empty or thin as written.
//!
//! Rules (VALIDATION.md, issue 22):
//! - **Any instance can judge.** The original may be empty on the primary: its empty
//!   result is a reference like any other (empty = empty agrees, empty vs rows does not).
//!   Timing stays on the primary, where the timing note says when the original finds no
//!   rows there (the figure then measures an empty scan).
//! - **Thin evidence is not a pass.** Evidence = rows of the original's results, summed
//!   over the instances, holding a non-NULL value in a non-constant column
//!   (`evidence.rs`). A candidate that agrees everywhere but with evidence below
//!   `validation.min_rows` is `inconclusive/thin_evidence` (`empty_result` at zero).
//!   Failures stay failures: a difference is evidence.
//! - **Re-binding.** When the written original is thin, up to `validation.rebind_tries`
//!   bindings of its literals are tried (`rebind/`); the first that gives enough evidence
//!   becomes the reference, and every candidate is re-bound the same way before it runs.
//!
//! Blocks; callers in async code use `spawn_blocking`.

use serde_json::{Value, json};
use crate::db::Target;
use std::sync::Arc;

use super::evidence::{constant_columns, evidence_rows};
use super::instances::{self, Checked, Extras, Instance, InstanceReport};
use super::rebind::{self, Rebound};
use super::{Baseline, Equivalent, Reason, ResultSet, TimingLane, ValidatorConfig, Verdict};

/// The longest a re-binding probe or try may run, whatever the original's own limit.
const REBIND_DEADLINE_S: f64 = 60.0;

/// The original of one statement, ready to judge candidates.
#[derive(Debug, Clone)]
pub struct Reference {
    /// The original as written.
    pub written_sql: String,
    /// The primary's baseline of the original actually compared (re-bound when
    /// `rebound` is set); its result may be empty.
    pub base: Arc<Baseline>,
    pub extras: Arc<Extras>,
    /// Evidence rows per instance, primary first.
    pub evidence: Vec<usize>,
    pub min_rows: usize,
    /// The binding in force, if the written original was thin and one was found.
    pub rebound: Option<Rebound>,
    /// Evidence per instance of the original as written (before re-binding).
    pub written_evidence: Vec<usize>,
    /// What re-binding tried and why it did not help, when it did not.
    pub rebind_failure: Option<String>,
}

impl Reference {
    /// Run the original on the primary (timed) and on every extra instance; re-bind it
    /// when its evidence is below `cfg.min_rows`. `Err` is the verdict for every
    /// candidate (the original fails or disagrees with itself).
    pub fn prepare(
        primary: &Instance,
        instances: &[Instance],
        written_sql: &str,
        cfg: &ValidatorConfig,
        lane: &TimingLane,
    ) -> Result<Reference, Verdict> {
        let (base, extras) = on_every_instance(primary, instances, written_sql, cfg, lane)?;
        let written_evidence = evidence_of(written_sql, &base, &extras);
        let mut r = Reference {
            written_sql: written_sql.to_string(),
            base: Arc::new(base),
            extras: Arc::new(extras),
            evidence: written_evidence.clone(),
            min_rows: cfg.min_rows.max(1),
            rebound: None,
            written_evidence,
            rebind_failure: None,
        };
        if r.total() >= r.min_rows || cfg.rebind_tries == 0 {
            return Ok(r);
        }
        let mut targets = vec![primary.target.clone()];
        targets.extend(instances.iter().map(|i| i.target.clone()));
        let deadline = cfg.original_timeout.min(std::time::Duration::from_secs_f64(REBIND_DEADLINE_S));
        let run_all = |sql: &str| -> Vec<Result<ResultSet, String>> {
            targets
                .iter()
                .map(|p| {
                    let sb = super::baseline::open(p, cfg)?;
                    sb.run_capped(sql, deadline, super::TIE_ROWS_CAP).map(|x| x.result).map_err(|e| e.to_string())
                })
                .collect()
        };
        let score = |results: &[Result<ResultSet, String>]| -> usize {
            results
                .iter()
                .flatten()
                .map(|x| evidence_rows(x, &constant_columns(written_sql, x.columns.len())))
                .sum()
        };
        match rebind::search(written_sql, cfg.rebind_tries, r.min_rows, &run_all, &score) {
            Ok(found) => {
                let (base, extras) = on_every_instance(primary, instances, &found.sql, cfg, lane)?;
                r.evidence = evidence_of(written_sql, &base, &extras);
                r.base = Arc::new(base);
                r.extras = Arc::new(extras);
                r.rebound = Some(Rebound { results: Vec::new(), ..found });
            }
            Err(nf) => r.rebind_failure = Some(nf.why),
        }
        Ok(r)
    }

    /// Total evidence over the instances.
    pub fn total(&self) -> usize {
        self.evidence.iter().sum()
    }

    /// True when the original finds no rows on the primary (the timed instance).
    pub fn primary_empty(&self) -> bool {
        self.base.result.is_vacuous()
    }

    /// validation.json `rebinding`: the binding in force (or what was tried), `None` when
    /// the written original had enough evidence.
    pub fn rebinding_json(&self) -> Option<Value> {
        let written: usize = self.written_evidence.iter().sum();
        match (&self.rebound, &self.rebind_failure) {
            (Some(r), _) => Some(json!({
                "applied": true,
                "description": rebind::describe(&r.changes),
                "changes": r.changes,
                "tries": r.tries,
                "evidence_written": written,
                "evidence": self.total(),
                "original_sql": r.sql,
            })),
            (None, Some(why)) => Some(json!({
                "applied": false,
                "evidence_written": written,
                "why": why,
            })),
            (None, None) => None,
        }
    }

    /// The candidate as it must run: re-bound like the original when a binding is in
    /// force. `Err` is the verdict when it cannot be re-bound.
    pub fn candidate_sql(&self, candidate: &str) -> Result<String, Verdict> {
        let Some(r) = &self.rebound else { return Ok(candidate.to_string()) };
        rebind::apply(candidate, &r.binding).map(|(sql, _)| sql).map_err(|e| Verdict::Inconclusive {
            reason: if self.written_evidence.iter().sum::<usize>() == 0 { Reason::EmptyResult } else { Reason::ThinEvidence },
            rows: None,
            message: format!(
                "the original is judged re-bound ({}), but the candidate cannot be re-bound the same way: sqlparser cannot read it ({e})",
                rebind::describe(&r.changes)
            ),
        })
    }

    /// The correctness half for one candidate: re-bind it, check it on every instance,
    /// then refuse a pass on thin evidence. `Ok` waits for its timing on the primary.
    pub fn check_correctness(
        &self,
        primary: &Target,
        candidate: &str,
        cfg: &ValidatorConfig,
    ) -> Result<(Equivalent, Vec<InstanceReport>), Checked> {
        let with_binding = |mut c: Checked| {
            c.rebinding = self.rebinding_json();
            c
        };
        let sql = self.candidate_sql(candidate).map_err(|v| with_binding(v.into()))?;
        let (mut eq, reports) =
            instances::check_correctness(primary, &self.base, &self.extras, &sql, cfg).map_err(with_binding)?;
        if self.total() < self.min_rows {
            let verdict = Verdict::Inconclusive {
                reason: if self.total() == 0 { Reason::EmptyResult } else { Reason::ThinEvidence },
                rows: Some(eq.rows),
                message: self.thin_message(),
            };
            return Err(with_binding(Checked { verdict, instances: reports, rebinding: None }));
        }
        eq.notes.extend(super::risk::notes(&self.written_sql, candidate));
        if let Some(r) = &self.rebound {
            eq.notes.push(format!(
                "re-bound: {} (the written original had {} row(s) of evidence; {} tr{} of at most {})",
                rebind::describe(&r.changes),
                self.written_evidence.iter().sum::<usize>(),
                r.tries,
                if r.tries == 1 { "y" } else { "ies" },
                cfg.rebind_tries
            ));
        }
        if self.primary_empty() {
            eq.notes.push(
                "the original returns no rows on the primary, where it is timed: the other instances judged it, and the speedup measures a query that finds nothing there".into(),
            );
        }
        Ok((eq, reports))
    }

    /// "the original's results carry 1 row of evidence over 4 instances (1/0/0/0), fewer
    /// than min_rows = 2; re-binding: ..."
    fn thin_message(&self) -> String {
        let per: Vec<String> = self.evidence.iter().map(|n| n.to_string()).collect();
        let rebind = match (&self.rebound, &self.rebind_failure) {
            (Some(r), _) => format!("; even re-bound ({})", rebind::describe(&r.changes)),
            (None, Some(why)) => format!("; re-binding did not help: {why}"),
            (None, None) => "; re-binding is off (validation.rebind_tries = 0)".into(),
        };
        format!(
            "the original's results carry {} row(s) a wrong candidate could get wrong over {} instance(s) ({}), fewer than min_rows = {}{rebind}: a match would prove little",
            self.total(),
            self.evidence.len(),
            per.join("/"),
            self.min_rows
        )
    }

    /// Check one candidate and time it on the primary (the blocking path of `qt validate`).
    pub fn judge(&self, primary: &Target, candidate: &str, cfg: &ValidatorConfig, lane: &TimingLane) -> Checked {
        match self.check_correctness(primary, candidate, cfg) {
            Err(done) => done,
            Ok((eq, instances)) => Checked {
                verdict: super::time_checked(primary, &self.base, cfg, lane, eq),
                instances,
                rebinding: self.rebinding_json(),
            },
        }
    }
}

/// The original on the primary (timed; an empty result kept) and on every extra instance.
fn on_every_instance(
    primary: &Instance,
    instances: &[Instance],
    sql: &str,
    cfg: &ValidatorConfig,
    lane: &TimingLane,
) -> Result<(Baseline, Extras), Verdict> {
    let base = match super::prepare_baseline(&primary.target, sql, cfg, lane) {
        Ok(b) => b,
        Err(Verdict::Inconclusive { reason: Reason::EmptyResult, rows, .. }) => {
            instances::instance_baseline(&primary.target, sql, cfg, lane).map_err(|message| Verdict::Inconclusive {
                reason: Reason::ExecutionError,
                rows,
                message,
            })?
        }
        Err(v) => return Err(v),
    };
    let extras = Extras::prepare(primary, instances, sql, cfg);
    Ok((base, extras))
}

fn evidence_of(written_sql: &str, base: &Baseline, extras: &Extras) -> Vec<usize> {
    let count = |r: &ResultSet| evidence_rows(r, &constant_columns(written_sql, r.columns.len()));
    let mut out = vec![count(&base.result)];
    out.extend(extras.instances.iter().map(|e| e.base.as_ref().map(|b| count(&b.result)).unwrap_or(0)));
    out
}
