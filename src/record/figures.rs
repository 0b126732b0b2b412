//! The named speedup figures of a run, defined once and read by every view (console,
//! summary.txt/json, SWEEP, report.html/md/json, `qt compare`):
//!
//! - *screening*: the first measurement of a candidate (validation.json `speedup`);
//! - *confirmed*: the fresh re-timing of an arm's best on the same sample, in new rounds
//!   (the winner's curse: the best of many noisy measurements is biased upwards);
//! - *win*: a measurement whose lower bounds are above 1.00x (validation.json `timing.win`:
//!   the 99% one-sided bound and the 95% interval; never below the noise floor). A
//!   confirmation *held* when the re-timing is itself a win.
//!
//! Rates (valid rate, valid@k) count generations: each is one draw of the LLM. Speedup
//! figures (median, best, wins, the top list) count each distinct candidate once: a
//! `same_as` copy is the same SQL, validated once, and no more evidence than its original.
//!
//! A new stage (issue 23's *full*, on a full-size DB) is one [`Stage`] variant, its key, and
//! one line in [`GenFacts::from_record`] saying where it is recorded.
//!
//! Pure: it reads the records it is given and prints nothing; the views format with
//! [`fmt_x`] and [`Best::cell`], so a figure reads the same everywhere.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

use super::layout::parse_gen_name;
use crate::validate::timing::stats::median;
use crate::validate::timing::NOISE_FLOOR_S;

/// A measuring stage; its key names the fields (`best_{key}_speedup`, `best_{key}_gen`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Screening,
    Confirmed,
}

impl Stage {
    pub const ALL: [Stage; 2] = [Stage::Screening, Stage::Confirmed];

    pub fn key(self) -> &'static str {
        match self {
            Stage::Screening => "screening",
            Stage::Confirmed => "confirmed",
        }
    }
}

/// One stage's measurement of a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Measure {
    pub speedup: f64,
    pub ci95: Option<[f64; 2]>,
    pub win: bool,
}

/// The largest speedup qt believes (a query a million times faster is a broken record).
pub const MAX_PLAUSIBLE_SPEEDUP: f64 = 1e6;

/// A speedup (or interval bound) qt shows: finite and in (0, [`MAX_PLAUSIBLE_SPEEDUP`]].
pub fn plausible(x: f64) -> bool {
    x.is_finite() && x > 0.0 && x <= MAX_PLAUSIBLE_SPEEDUP
}

impl Measure {
    /// From a timing-like object: `speedup` (or `confirmed_speedup`), `ci95`, `win`. Without
    /// a recorded `win` (records older than this rule), a lower ci95 bound above 1 is the win.
    fn read(speedup: Option<f64>, ci95: &Value, win: &Value) -> Option<Measure> {
        let speedup = speedup.filter(|s| plausible(*s))?;
        let ci95 = match (ci95[0].as_f64(), ci95[1].as_f64()) {
            (Some(lo), Some(hi)) if plausible(lo) && plausible(hi) => Some([lo, hi]),
            _ => None,
        };
        let win = win.as_bool().unwrap_or_else(|| ci95.is_some_and(|[lo, _]| lo > 1.0));
        Some(Measure { speedup, ci95, win })
    }
}

/// What the figures need of one generation (from its validation.json / results line).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GenFacts {
    /// Which run the generation belongs to when several are pooled (numbers repeat
    /// across runs); 0 within one run.
    #[serde(skip)]
    pub scope: u32,
    pub number: u32,
    pub arm: String,
    pub status: String,
    pub screening: Option<Measure>,
    /// The 99% one-sided bound that decides `win` (absent on older records).
    pub win_bound: Option<f64>,
    /// The original ran faster than the noise floor: its speedup is not meaningful.
    pub below_floor: bool,
    /// The generation this one is an identical copy of (validated once, there).
    pub same_as: Option<u32>,
    /// The fresh re-timing of this candidate, when it was one of the re-timed bests.
    pub confirmed: Option<Measure>,
}

impl GenFacts {
    /// From a validation.json object (gen `number`, for records without a `gen` field).
    pub fn from_record(number: u32, v: &Value) -> GenFacts {
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let status = text("status").unwrap_or_default();
        let screening = (status == "pass")
            .then(|| Measure::read(v["speedup"].as_f64(), &v["timing"]["ci95"], &v["timing"]["win"]))
            .flatten();
        GenFacts {
            scope: 0,
            number,
            arm: text("arm_name").unwrap_or_default(),
            status,
            screening,
            win_bound: v["timing"]["win_bound"].as_f64(),
            below_floor: v["original_time"].as_f64().is_some_and(|t| t < NOISE_FLOOR_S),
            same_as: v["same_as"].as_str().and_then(parse_gen_name).or_else(|| v["same_as"].as_u64().map(|n| n as u32)),
            confirmed: None,
        }
    }

    /// The candidate this generation stands for: its own number, or the one it copies.
    pub fn root(&self) -> u32 {
        self.same_as.unwrap_or(self.number)
    }

    pub fn is_pass(&self) -> bool {
        self.status == "pass"
    }

    pub fn measure(&self, stage: Stage) -> Option<Measure> {
        match stage {
            Stage::Screening => self.screening,
            Stage::Confirmed => self.confirmed,
        }
    }

    /// A win at screening (the generation's own `timing.win`).
    pub fn is_win(&self) -> bool {
        self.is_pass() && self.screening.is_some_and(|m| m.win) && !self.below_floor
    }
}

/// One re-timing as summary.json `confirmations[]` records it.
pub fn confirmation_measure(c: &Value) -> Option<(u32, Measure)> {
    let number = u32::try_from(c["gen"].as_u64()?).ok()?;
    let win = if c["win"].is_boolean() { c["win"].clone() } else { c["timing"]["win"].clone() };
    Some((number, Measure::read(c["confirmed_speedup"].as_f64(), &c["ci95"], &win)?))
}

/// The re-timings a summary.json records: its `confirmations`, or (summaries written
/// before those) its single `confirmed`.
pub fn confirmations_of(summary: &Value) -> Vec<Value> {
    match summary["confirmations"].as_array() {
        Some(list) => list.clone(),
        None if summary["confirmed"].is_object() => vec![summary["confirmed"].clone()],
        None => Vec::new(),
    }
}

/// Attach re-timings (summary.json `confirmations` entries) to the generations they
/// measured, and to their copies.
pub fn attach_confirmations(gens: &mut [GenFacts], confirmations: &[Value]) {
    let by_gen: BTreeMap<u32, Measure> = confirmations.iter().filter_map(confirmation_measure).collect();
    for g in gens {
        g.confirmed = by_gen.get(&g.root()).copied();
    }
}

/// The best candidate of a set at one stage.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Best {
    pub number: u32,
    pub speedup: f64,
    pub ci95: Option<[f64; 2]>,
    pub win: bool,
    pub below_floor: bool,
}

impl Best {
    /// The table cell: `1.27x`, `~` when below the noise floor, `!` for a confirmation that
    /// is no win (did not hold). The same text in every view.
    pub fn cell(&self, stage: Stage) -> String {
        let mut s = format!("{:.2}x", self.speedup);
        if stage != Stage::Screening && !self.win {
            s.push('!');
        }
        if self.below_floor {
            s.push('~');
        }
        s
    }
}

/// A distinct passing candidate: its root generation and how many copies it has here.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Candidate {
    pub number: u32,
    pub copies: usize,
    pub screening: Option<f64>,
    pub ci95: Option<[f64; 2]>,
    pub win: bool,
    pub below_floor: bool,
}

/// The figures of one set of generations (an arm of a query, or a whole query).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub completed: usize,
    /// Passing generations (copies included: each is a valid answer of the LLM).
    pub valid: usize,
    /// Distinct passing candidates (copies once).
    pub distinct_valid: usize,
    /// Generations that are copies of another one.
    pub copies: usize,
    pub median_screening: Option<f64>,
    pub best_screening: Option<Best>,
    pub best_confirmed: Option<Best>,
    /// Distinct passes that are wins at screening.
    pub wins: usize,
    /// Distinct passes, best screening speedup first (ties: lower generation first).
    pub top: Vec<Candidate>,
}

impl Figures {
    pub fn best(&self, stage: Stage) -> Option<&Best> {
        match stage {
            Stage::Screening => self.best_screening.as_ref(),
            Stage::Confirmed => self.best_confirmed.as_ref(),
        }
    }

    /// Did the confirmation of the best hold? `None` when nothing was re-timed.
    pub fn held(&self) -> Option<bool> {
        self.best_confirmed.map(|b| b.win)
    }
}

/// Compute the figures of `gens` (any order; copies found through `same_as`).
pub fn figures<'a>(gens: impl IntoIterator<Item = &'a GenFacts>) -> Figures {
    let gens: Vec<&GenFacts> = gens.into_iter().collect();
    // Distinct passing candidates keyed by root; the representative is the root itself
    // when it is in the set, else the lowest-numbered copy.
    let mut distinct: BTreeMap<(u32, u32), (&GenFacts, usize)> = BTreeMap::new();
    for g in gens.iter().filter(|g| g.is_pass()) {
        let e = distinct.entry((g.scope, g.root())).or_insert((g, 0));
        if g.same_as.is_none() || (e.0.same_as.is_some() && g.number < e.0.number) {
            e.0 = g;
        }
        e.1 += 1;
    }
    let reps: Vec<(&GenFacts, usize)> = distinct.values().map(|(g, n)| (*g, n - 1)).collect();
    let best = |stage: Stage| -> Option<Best> {
        reps.iter()
            .filter_map(|(g, _)| g.measure(stage).map(|m| (g, m)))
            .max_by(|a, b| a.1.speedup.total_cmp(&b.1.speedup).then(b.0.number.cmp(&a.0.number)))
            .map(|(g, m)| Best {
                number: g.number,
                speedup: m.speedup,
                ci95: m.ci95,
                win: m.win && !g.below_floor,
                below_floor: g.below_floor,
            })
    };
    let speedups: Vec<f64> = reps.iter().filter_map(|(g, _)| g.screening.map(|m| m.speedup)).collect();
    let mut top: Vec<Candidate> = reps
        .iter()
        .map(|(g, copies)| Candidate {
            number: g.number,
            copies: *copies,
            screening: g.screening.map(|m| m.speedup),
            ci95: g.screening.and_then(|m| m.ci95),
            win: g.is_win(),
            below_floor: g.below_floor,
        })
        .collect();
    top.sort_by(|a, b| {
        b.screening.unwrap_or(f64::NEG_INFINITY).total_cmp(&a.screening.unwrap_or(f64::NEG_INFINITY)).then(a.number.cmp(&b.number))
    });
    Figures {
        completed: gens.len(),
        valid: gens.iter().filter(|g| g.is_pass()).count(),
        distinct_valid: reps.len(),
        copies: gens.iter().filter(|g| g.same_as.is_some()).count(),
        median_screening: median(&speedups),
        best_screening: best(Stage::Screening),
        best_confirmed: best(Stage::Confirmed),
        wins: reps.iter().filter(|(g, _)| g.is_win()).count(),
        top,
    }
}

/// A speedup as `1.27x` (2 decimals everywhere), `-` when absent.
pub fn fmt_x(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.2}x")).unwrap_or_else(|| "-".into())
}

/// The best-cell text of a stage, `-` when there is none.
pub fn cell(f: &Figures, stage: Stage) -> String {
    f.best(stage).map(|b| b.cell(stage)).unwrap_or_else(|| "-".into())
}

/// The figures as summary.json fields (per arm and at the top level), named by stage.
pub fn to_json(f: &Figures) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    for stage in Stage::ALL {
        let b = f.best(stage);
        m.insert(format!("best_{}_speedup", stage.key()), b.map(|b| round4(b.speedup)).into());
        m.insert(format!("best_{}_gen", stage.key()), b.map(|b| b.number).into());
        m.insert(format!("best_{}_ci95", stage.key()), b.and_then(|b| b.ci95).map(|[l, h]| vec![round4(l), round4(h)]).into());
        m.insert(format!("best_{}_win", stage.key()), b.map(|b| b.win).into());
        m.insert(format!("best_{}_below_floor", stage.key()), b.map(|b| b.below_floor).into());
    }
    m.insert("confirmation_held".into(), f.held().into());
    m.insert("median_screening_speedup".into(), f.median_screening.map(round4).into());
    m.insert("wins".into(), f.wins.into());
    m.insert("distinct_candidates".into(), f.distinct_valid.into());
    m.insert("copies".into(), f.copies.into());
    m
}

/// The [`Best`] of a stage as a summary.json object (an arm, a query, a sweep row) holds
/// it; objects written before the named fields are read through their older names
/// (`best_speedup`/`best_worker`/`best_below_floor`, `confirmed_speedup`/`confirmation_held`).
pub fn best_from_json(v: &Value, stage: Stage) -> Option<Best> {
    let k = stage.key();
    let f = |name: &str| &v[format!("best_{k}_{name}")];
    let named = f("speedup").as_f64().map(|speedup| Best {
        number: f("gen").as_u64().unwrap_or(0) as u32,
        speedup,
        ci95: match (f("ci95")[0].as_f64(), f("ci95")[1].as_f64()) {
            (Some(l), Some(h)) => Some([l, h]),
            _ => None,
        },
        win: f("win").as_bool().unwrap_or(false),
        below_floor: f("below_floor").as_bool().unwrap_or(false),
    });
    if named.is_some() {
        return named;
    }
    let (speedup, worker, win, floor) = match stage {
        Stage::Screening => (&v["best_speedup"], &v["best_worker"], Value::Bool(false), &v["best_below_floor"]),
        Stage::Confirmed => (&v["confirmed_speedup"], &Value::Null, v["confirmation_held"].clone(), &Value::Null),
    };
    Some(Best {
        number: worker.as_u64().unwrap_or(0) as u32,
        speedup: speedup.as_f64()?,
        ci95: None,
        win: win.as_bool().unwrap_or(false),
        below_floor: floor.as_bool().unwrap_or(false),
    })
}

/// The best-cell text of a stage from a summary.json object, `-` when there is none.
pub fn cell_json(v: &Value, stage: Stage) -> String {
    best_from_json(v, stage).map(|b| b.cell(stage)).unwrap_or_else(|| "-".into())
}

/// The names of the fields [`to_json`] writes (what a sweep row copies from an arm).
pub fn field_names() -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for stage in Stage::ALL {
        for f in ["speedup", "gen", "ci95", "win", "below_floor"] {
            v.push(format!("best_{}_{f}", stage.key()));
        }
    }
    v.extend(["confirmation_held", "median_screening_speedup", "wins", "distinct_candidates", "copies"].map(String::from));
    v
}

fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}
