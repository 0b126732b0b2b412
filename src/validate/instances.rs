//! Agreement on several data instances. One sample DB lets wrong rewrites through (a `0/0`
//! turned into NULL only differs when a group is empty; an inner join on a nullable key
//! only differs when the key is NULL), so a candidate passes only if its result equals the
//! original's on every instance: the primary (where it is also timed) and the extra ones
//! (another slice of the facts, a tiny database, the user's `extra_paths`).
//!
//! Per query, [`Extras::prepare`] computes the original's baseline on each extra instance
//! once (an empty result is kept: empty = empty agrees, empty vs rows disagrees). Per
//! candidate, [`check`] applies the "reads the data" rule, runs correctness on the primary,
//! then on each extra instance, and only then times it on the primary. The first failing
//! instance decides the verdict; `validation.json` lists every instance checked.

use serde_json::{Map, Value, json};
use crate::db::Target;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::reads::{self, ReadCheck};
use super::{Baseline, Reason, RowCounts, TimingLane, ValidatorConfig, Verdict};
use super::equivalence::order;
use super::{Equivalent, baseline, prepare_baseline, validate_candidate};

/// One extra data instance: a database and how to name it.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// Where it is read (and, for the primary, timed).
    pub target: Target,
    /// How records name it: the file's path.
    pub path: PathBuf,
    /// `tpcds scale 0.01`, or the file name of a user's DB.
    pub label: String,
    /// The DB's fingerprint hash (schema + row counts).
    pub fingerprint: String,
}

impl Instance {
    pub fn new(path: PathBuf, label: String) -> Self {
        Self::of(Target::from(path), label)
    }

    /// An instance on any engine's database.
    pub fn of(target: Target, label: String) -> Self {
        let fingerprint = target.fingerprint().map(|f| f.sha256).unwrap_or_default();
        Instance {
            path: PathBuf::from(target.display()),
            target,
            label,
            fingerprint,
        }
    }
}

/// The original on one extra instance.
#[derive(Debug, Clone)]
pub struct ExtraBaseline {
    pub instance: Instance,
    /// `Err`: the original cannot serve as a reference there (fails, disagrees with
    /// itself); the instance is skipped with a note.
    pub base: Result<Arc<Baseline>, String>,
}

/// Everything per query beyond the primary baseline.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// The primary (label and fingerprint for the report; `path` is where it is timed).
    pub primary: Option<Instance>,
    pub instances: Vec<ExtraBaseline>,
    /// The tables the original reads on the primary (for the reads-the-data rule).
    pub original_tables: Option<Vec<(String, u64)>>,
}

impl Extras {
    /// Baselines of `original_sql` on every extra instance (no timing: only the primary
    /// is timed). `primary` is used to learn which tables the original reads.
    pub fn prepare(
        primary: &Instance,
        instances: &[Instance],
        original_sql: &str,
        cfg: &ValidatorConfig,
    ) -> Extras {
        let untimed = ValidatorConfig {
            skip_timing: true,
            ..cfg.clone()
        };
        let lane = TimingLane::new();
        let instances = instances
            .iter()
            .map(|i| ExtraBaseline {
                instance: i.clone(),
                base: instance_baseline(&i.target, original_sql, &untimed, &lane).map(Arc::new),
            })
            .collect();
        Extras {
            primary: Some(primary.clone()),
            instances,
            original_tables: reads::tables_read(&primary.target, original_sql),
        }
    }

    /// True when the original is empty on every extra instance (and so cannot help).
    pub fn all_empty(&self) -> bool {
        self.instances
            .iter()
            .all(|e| e.base.as_ref().map(|b| b.result.is_vacuous()).unwrap_or(true))
    }
}

/// Like [`prepare_baseline`] without timing, but an empty result is a valid reference.
fn instance_baseline(
    db: &Target,
    sql: &str,
    cfg: &ValidatorConfig,
    lane: &TimingLane,
) -> Result<Baseline, String> {
    match prepare_baseline(db, sql, cfg, lane) {
        Ok(b) => Ok(b),
        Err(Verdict::Inconclusive {
            reason: Reason::EmptyResult,
            ..
        }) => {
            let sb = baseline::open(db, cfg)?;
            let x = sb
                .run(sql, cfg.original_timeout)
                .map_err(|e| format!("the original failed: {e}"))?;
            let order = order::analyze(sql, &x.result.column_names());
            let named = super::equivalence::columns::named_columns(sql, &x.result.column_names());
            Ok(Baseline {
                sort_keys: None,
                named,
                original_sql: sql.to_string(),
                rows: x.result.rows.len(),
                result: x.result,
                original_median_s: x.elapsed.as_secs_f64(),
                samples_s: Vec::new(),
                order,
                tie_rows: None,
                notes: Vec::new(),
            })
        }
        Err(v) => Err(v.message().unwrap_or("the original failed").to_string()),
    }
}

/// One instance's line in validation.json.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceReport {
    pub label: String,
    pub path: PathBuf,
    pub fingerprint: String,
    pub original_rows: Option<usize>,
    pub candidate_rows: Option<usize>,
    /// "agree", "disagree", "error", "undecided" or "skipped".
    pub agreement: &'static str,
    pub note: Option<String>,
}

impl InstanceReport {
    fn json(&self) -> Value {
        json!({
            "label": self.label,
            "path": self.path,
            "db_fingerprint": self.fingerprint,
            "original_rows": self.original_rows,
            "candidate_rows": self.candidate_rows,
            "agreement": self.agreement,
            "note": self.note,
        })
    }
}

/// A verdict plus the instances it was checked on (primary first).
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub verdict: Verdict,
    pub instances: Vec<InstanceReport>,
}

impl std::ops::Deref for Checked {
    type Target = Verdict;
    fn deref(&self) -> &Verdict {
        &self.verdict
    }
}

impl From<Verdict> for Checked {
    fn from(verdict: Verdict) -> Self {
        Checked {
            verdict,
            instances: Vec::new(),
        }
    }
}

impl Checked {
    /// The verdict's validation.json fields plus `instances` (when more than the primary
    /// was involved).
    pub fn to_json_fields(&self) -> Map<String, Value> {
        let mut m = self.verdict.to_json_fields();
        if !self.instances.is_empty() {
            m.insert(
                "instances".into(),
                Value::Array(self.instances.iter().map(InstanceReport::json).collect()),
            );
        }
        m
    }

    pub fn render_human(&self) -> String {
        let mut out = self.verdict.render_human();
        for (k, i) in self.instances.iter().enumerate() {
            let rows = |r: Option<usize>| r.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
            out.push_str(&format!(
                "\n  instance {} ({}): {} (original rows {}, candidate rows {}){}",
                k + 1,
                i.label,
                i.agreement,
                rows(i.original_rows),
                rows(i.candidate_rows),
                i.note.as_ref().map(|n| format!(": {n}")).unwrap_or_default()
            ));
        }
        out
    }
}

fn report(label: &str, path: &Path, fp: &str, v: &Verdict, original: Option<usize>) -> InstanceReport {
    let rows = v.rows();
    let agreement = match v {
        Verdict::Pass { .. } => "agree",
        Verdict::Failed { .. } => "disagree",
        Verdict::Error { .. } => "error",
        Verdict::Inconclusive { .. } => "undecided",
    };
    InstanceReport {
        label: label.to_string(),
        path: path.to_path_buf(),
        fingerprint: fp.to_string(),
        original_rows: rows.map(|r| r.original).or(original),
        candidate_rows: rows.and_then(|r| r.optimized),
        agreement,
        note: v.message().map(str::to_string),
    }
}

/// Prefix a failing verdict's message with the instance it failed on.
fn on_instance(v: Verdict, k: usize, label: &str) -> Verdict {
    let at = format!("on instance {k} ({label}): ");
    match v {
        Verdict::Failed {
            reason,
            rows,
            mut diff,
            notes,
        } => {
            diff.message = format!("{at}{}", diff.message);
            Verdict::Failed {
                reason,
                rows,
                diff,
                notes,
            }
        }
        Verdict::Error { reason, message } => Verdict::Error {
            reason,
            message: format!("{at}{message}"),
        },
        other => other,
    }
}

/// Check one candidate on every instance; time it on the primary only if all agree.
/// With no extra instance this is [`validate_candidate`] plus the reads-the-data rule.
pub fn check(
    primary: impl Into<Target>,
    base: &Baseline,
    extras: &Extras,
    candidate_sql: &str,
    cfg: &ValidatorConfig,
    lane: &TimingLane,
) -> Checked {
    let primary = primary.into();
    match check_correctness(&primary, base, extras, candidate_sql, cfg) {
        Err(done) => done,
        Ok((eq, instances)) => Checked {
            verdict: super::time_checked(&primary, base, cfg, lane, eq),
            instances,
        },
    }
}

/// The correctness half of [`check`]: the candidate agrees with the original on the
/// primary and on every extra instance, and reads the data. `Ok` is a candidate waiting
/// for its timing on the primary (the run times it in the lane's queue); `Err` is final.
pub fn check_correctness(
    primary: impl Into<Target>,
    base: &Baseline,
    extras: &Extras,
    candidate_sql: &str,
    cfg: &ValidatorConfig,
) -> Result<(Equivalent, Vec<InstanceReport>), Checked> {
    let untimed = ValidatorConfig {
        skip_timing: true,
        ..cfg.clone()
    };
    let primary = primary.into();
    // The lane is never used untimed; a local one keeps the signature honest.
    let lane = TimingLane::new();
    let checked = super::check_candidate(&primary, base, candidate_sql, cfg);
    let first = match &checked {
        Ok(eq) => super::time_checked(&primary, base, &untimed, &lane, eq.clone()),
        Err(v) => v.clone(),
    };
    let mut reports = Vec::new();
    if !extras.instances.is_empty() {
        let (label, fp) = extras
            .primary
            .as_ref()
            .map(|p| (p.label.as_str(), p.fingerprint.as_str()))
            .unwrap_or(("primary", ""));
        reports.push(report(label, Path::new(&primary.display()), fp, &first, Some(base.rows)));
    }
    let mut eq = match checked {
        Ok(eq) => eq,
        Err(verdict) => {
            return Err(Checked {
                verdict,
                instances: reports,
            });
        }
    };
    // Only a candidate that ran and matched is asked what it read: a table function the
    // sandbox refuses stays an execution error.
    let mut notes = Vec::new();
    match reads::check(&primary, extras.original_tables.as_deref(), candidate_sql) {
        ReadCheck::Fine => {}
        ReadCheck::NoTable => {
            let verdict = Verdict::Failed {
                reason: Reason::ConstantResult,
                rows: first.rows().unwrap_or(RowCounts {
                    original: base.rows,
                    optimized: None,
                }),
                diff: super::Diff {
                    message: "the candidate reads no table of the sample DB (constants, a VALUES \
                              list or a table function): it reproduces this sample's answer \
                              instead of computing it"
                        .into(),
                    ..Default::default()
                },
                notes: Vec::new(),
            };
            return Err(Checked {
                verdict,
                instances: reports,
            });
        }
        ReadCheck::NoFactTable(facts) => notes.push(format!(
            "the candidate reads none of the original's fact tables ({}); only the other \
             instances can tell whether it is fitted to this sample's data",
            facts.join(", ")
        )),
    }
    for (k, e) in extras.instances.iter().enumerate() {
        let i = &e.instance;
        let b = match &e.base {
            Ok(b) => b,
            Err(why) => {
                reports.push(InstanceReport {
                    label: i.label.clone(),
                    path: i.path.clone(),
                    fingerprint: i.fingerprint.clone(),
                    original_rows: None,
                    candidate_rows: None,
                    agreement: "skipped",
                    note: Some(why.clone()),
                });
                continue;
            }
        };
        let v = validate_candidate(&i.target, b, candidate_sql, &untimed, &lane);
        reports.push(report(&i.label, &i.path, &i.fingerprint, &v, Some(b.rows)));
        match v {
            Verdict::Pass { .. } => {}
            Verdict::Inconclusive { message, .. } => {
                notes.push(format!("instance {} ({}) could not decide: {message}", k + 2, i.label))
            }
            failed => {
                return Err(Checked {
                    verdict: add_notes(on_instance(failed, k + 2, &i.label), notes),
                    instances: reports,
                });
            }
        }
    }
    eq.notes.extend(notes);
    Ok((eq, reports))
}

fn add_notes(v: Verdict, extra: Vec<String>) -> Verdict {
    if extra.is_empty() {
        return v;
    }
    match v {
        Verdict::Pass {
            rows,
            timing,
            mut notes,
        } => {
            notes.extend(extra);
            Verdict::Pass {
                rows,
                timing,
                notes,
            }
        }
        Verdict::Failed {
            reason,
            rows,
            diff,
            mut notes,
        } => {
            notes.extend(extra);
            Verdict::Failed {
                reason,
                rows,
                diff,
                notes,
            }
        }
        other => other,
    }
}
