//! qt's value model: a query result fully fetched into memory as typed values, with column
//! names and types, whatever the engine.
//!
//! This is the common currency of the validator: every engine's session produces it
//! (`duck/values.rs`, and each other engine's own conversion), equivalence compares two
//! of them, verdicts render a few rows of it. It deliberately knows nothing about
//! tolerances or ordering (that is `validate/equivalence/`); engines normalise their many
//! physical representations into this handful of comparable cells.

/// One value of a result row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Bool(bool),
    /// Every integer width (TINYINT .. HUGEINT, unsigned up to i128::MAX).
    Int(i128),
    /// FLOAT and DOUBLE.
    Float(f64),
    /// DECIMAL: scaled integer payload and scale (123.45 = 12345, scale 2).
    Decimal {
        value: i128,
        scale: u8,
    },
    /// VARCHAR and ENUM.
    Text(String),
    Blob(Vec<u8>),
    /// Days since 1970-01-01.
    Date(i32),
    /// Microseconds since midnight.
    Time(i64),
    /// Nanoseconds since the epoch (every TIMESTAMP precision).
    Timestamp(i128),
    Interval {
        months: i32,
        days: i32,
        nanos: i64,
    },
    /// Nested and exotic values (lists, structs, maps, UUIDs ...), compared by rendering.
    Other(String),
}

/// Broad type family of a column, used for compatibility checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeClass {
    Null,
    Bool,
    Integer,
    Decimal,
    Float,
    Text,
    Blob,
    Date,
    Time,
    Timestamp,
    Interval,
    Other,
}

impl TypeClass {
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            TypeClass::Integer | TypeClass::Decimal | TypeClass::Float
        )
    }
}

/// Name and type of one output column, as the engine reports them.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnInfo {
    pub name: String,
    /// The engine's type name, e.g. `DECIMAL(15,2)`, `DOUBLE`, `VARCHAR`.
    pub type_name: String,
    pub class: TypeClass,
}

pub type Row = Vec<Cell>;

/// A whole result: columns plus rows, in the order the engine returned them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResultSet {
    pub columns: Vec<ColumnInfo>,
    pub rows: Vec<Row>,
}

impl ResultSet {
    /// True when there are no rows or every value is NULL: such a result proves nothing.
    pub fn is_vacuous(&self) -> bool {
        self.rows
            .iter()
            .all(|r| r.iter().all(|c| matches!(c, Cell::Null)))
    }

    pub fn column_names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }
}

impl Cell {
    /// Numeric value as f64 (for float-tolerant comparison); `None` for non-numbers.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Cell::Int(i) => Some(*i as f64),
            Cell::Float(f) => Some(*f),
            Cell::Decimal { value, scale } => Some(*value as f64 / 10f64.powi(i32::from(*scale))),
            _ => None,
        }
    }

    /// SQL-ish rendering for diffs and messages.
    pub fn render(&self) -> String {
        match self {
            Cell::Null => "NULL".into(),
            Cell::Bool(b) => b.to_string(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => format!("{f:?}"),
            Cell::Decimal { value, scale } => render_decimal(*value, *scale),
            Cell::Text(s) => format!("'{}'", s.replace('\'', "''")),
            Cell::Blob(b) => format!("'\\x{}'", hex::encode(b)),
            Cell::Date(d) => chrono::DateTime::from_timestamp(i64::from(*d) * 86_400, 0)
                .map(|t| t.date_naive().to_string())
                .unwrap_or_else(|| format!("date({d})")),
            Cell::Time(us) => {
                let s = us / 1_000_000;
                format!(
                    "{:02}:{:02}:{:02}.{:06}",
                    s / 3600,
                    (s / 60) % 60,
                    s % 60,
                    us % 1_000_000
                )
            }
            Cell::Timestamp(ns) => {
                let secs = ns.div_euclid(1_000_000_000) as i64;
                let sub = ns.rem_euclid(1_000_000_000) as u32;
                chrono::DateTime::from_timestamp(secs, sub)
                    .map(|t| t.naive_utc().to_string())
                    .unwrap_or_else(|| format!("timestamp({ns}ns)"))
            }
            Cell::Interval {
                months,
                days,
                nanos,
            } => {
                format!("INTERVAL {months} months {days} days {nanos} ns")
            }
            Cell::Other(s) => s.clone(),
        }
    }
}

fn render_decimal(value: i128, scale: u8) -> String {
    let scale = usize::from(scale);
    let digits = value.unsigned_abs().to_string();
    let sign = if value < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

/// Render a row as `(1, 'a', NULL)` for diffs.
pub fn render_row(row: &[Cell]) -> String {
    let cells: Vec<String> = row.iter().map(Cell::render).collect();
    format!("({})", cells.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_render_at_their_scale() {
        assert_eq!(render_decimal(12345, 2), "123.45");
        assert_eq!(render_decimal(-5, 2), "-0.05");
        assert_eq!(render_decimal(7, 0), "7");
    }

    #[test]
    fn dates_and_rows_render() {
        assert_eq!(Cell::Date(0).render(), "1970-01-01");
        let row = vec![Cell::Int(1), Cell::Text("it's".into()), Cell::Null];
        assert_eq!(render_row(&row), "(1, 'it''s', NULL)");
    }

    #[test]
    fn vacuous_results() {
        let mut rs = ResultSet::default();
        assert!(rs.is_vacuous());
        rs.rows.push(vec![Cell::Null, Cell::Null]);
        assert!(rs.is_vacuous());
        rs.rows.push(vec![Cell::Null, Cell::Int(0)]);
        assert!(!rs.is_vacuous());
    }
}
