//! The shared vocabulary of validation, below every sub-room: why a candidate did not
//! pass ([`Reason`]), row counts, the first differences ([`Diff`]) and the float
//! tolerance every comparison uses. It imports nothing from validate/, so sandbox/,
//! equivalence/ and timing/ can all use it without importing each other.

use serde::Serialize;

/// Relative float tolerance (recorded in validation.json).
pub const FLOAT_REL_TOL: f64 = 1e-9;
/// Absolute float tolerance (recorded in validation.json).
pub const FLOAT_ABS_TOL: f64 = 1e-6;
/// Rows shown from each side of a difference.
pub const DIFF_ROWS: usize = 5;
/// Why a candidate did not pass (or why the check could not decide).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    ParseError,
    LlmError,
    NotSelect,
    ExecutionError,
    Timeout,
    /// Column count, names or order differ from the original's.
    ColumnMismatch,
    ColumnTypeMismatch,
    RowCountMismatch,
    ValueMismatch,
    OrderMismatch,
    EmptyResult,
    NondeterministicOriginal,
    /// Tied rows at a LIMIT cut differ and the original's tie group could not be seen.
    AmbiguousTies,
    /// The original sorts by a non-output expression and the candidate's order differs.
    UnverifiableOrder,
    /// The candidate reads no table: constants reproducing the sample's answer.
    ConstantResult,
    /// The candidate is the original again (after normalizing layout).
    NoChange,
    /// The candidate agrees, but the original's results hold fewer than
    /// `validation.min_rows` rows (over every instance) a wrong candidate could get wrong.
    ThinEvidence,
    /// Equal on every sample instance, different on the full-size confirm DB.
    DiffersAtFullScale,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::ParseError => "parse_error",
            Reason::LlmError => "llm_error",
            Reason::NotSelect => "not_select",
            Reason::ExecutionError => "execution_error",
            Reason::Timeout => "timeout",
            Reason::ColumnMismatch => "column_mismatch",
            Reason::ColumnTypeMismatch => "column_type_mismatch",
            Reason::RowCountMismatch => "row_count_mismatch",
            Reason::ValueMismatch => "value_mismatch",
            Reason::OrderMismatch => "order_mismatch",
            Reason::EmptyResult => "empty_result",
            Reason::NondeterministicOriginal => "nondeterministic_original",
            Reason::AmbiguousTies => "ambiguous_ties",
            Reason::UnverifiableOrder => "unverifiable_order",
            Reason::ConstantResult => "constant_result",
            Reason::NoChange => "no_change",
            Reason::ThinEvidence => "thin_evidence",
            Reason::DiffersAtFullScale => "differs_at_full_scale",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RowCounts {
    pub original: usize,
    /// `None` when the candidate never ran (the original alone was inconclusive).
    pub optimized: Option<usize>,
}

/// The first differences: a sentence plus up to 5 rendered rows from each side.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Diff {
    pub message: String,
    pub original: Vec<String>,
    pub optimized: Vec<String>,
}

/// Floats equal within relative 1e-9 or absolute 1e-6; NaN = NaN; -0.0 = 0.0.
pub fn float_eq(x: f64, y: f64) -> bool {
    if x.is_nan() || y.is_nan() {
        return x.is_nan() && y.is_nan();
    }
    if x == y || x.is_infinite() || y.is_infinite() {
        return x == y;
    }
    let d = (x - y).abs();
    d <= FLOAT_ABS_TOL || d <= FLOAT_REL_TOL * x.abs().max(y.abs())
}
