//! DuckDB result batches (Arrow arrays) -> [`Cell`]s, for every type a SELECT can return.
//!
//! qt converts the batches itself instead of going through the duckdb crate's `Row::get`:
//! that path panics (`unreachable!`) on an Arrow `Null` column (`SELECT NULL AS x`, or a
//! list/struct/map/union holding NULL-typed values) and on a few other carriers. Here every
//! Arrow type has an answer: scalars map to their cell, nested and exotic values are
//! rendered as text by Arrow's own formatter ([`Cell::Other`], compared as text), and a type
//! nothing here knows becomes `Cell::Other` with its type name. Nothing in this file panics.

use duckdb::arrow::array::{Array, ArrayRef, AsArray};
use duckdb::arrow::buffer::NullBuffer;
use duckdb::arrow::datatypes::*;
use duckdb::arrow::util::display::{ArrayFormatter, FormatOptions};
use duckdb::core::LogicalTypeId;

use crate::db::value::Cell;

/// One column of one batch, ready to give cells by row.
pub struct ColumnCells<'a> {
    array: &'a ArrayRef,
    /// DuckDB's type of the column: tells HUGEINT, UHUGEINT and DECIMAL(38,0) apart (Arrow
    /// carries all three as Decimal128(38, 0)).
    logical: Option<LogicalTypeId>,
    nulls: Option<NullBuffer>,
    text: Option<ArrayFormatter<'a>>,
    /// ENUM columns: each row's index into the dictionary's values (computed once).
    dict: Option<(Vec<usize>, &'a ArrayRef)>,
}

impl<'a> ColumnCells<'a> {
    pub fn new(array: &'a ArrayRef, logical: Option<LogicalTypeId>) -> Self {
        let nulls = array.logical_nulls();
        let options = FormatOptions::new().with_null("NULL");
        let text = if renders_as_text(array.data_type()) { ArrayFormatter::try_new(array.as_ref(), &options).ok() } else { None };
        let dict = array.as_any_dictionary_opt().map(|d| (d.normalized_keys(), d.values()));
        ColumnCells { array, logical, nulls, text, dict }
    }

    pub fn len(&self) -> usize {
        self.array.len()
    }

    /// Bytes the cell at `row` will take (text and blobs by length): measured before the
    /// value is copied, so a byte cap stops before a huge value is converted.
    pub fn bytes(&self, row: usize) -> usize {
        let a = self.array.as_ref();
        let len = match a.data_type() {
            DataType::Utf8 => a.as_string_opt::<i32>().map(|s| s.value_length(row) as usize),
            DataType::LargeUtf8 => a.as_string_opt::<i64>().map(|s| s.value_length(row) as usize),
            DataType::Binary => a.as_binary_opt::<i32>().map(|s| s.value_length(row) as usize),
            DataType::LargeBinary => a.as_binary_opt::<i64>().map(|s| s.value_length(row) as usize),
            _ => None,
        };
        len.map(|l| l + 24).unwrap_or(32)
    }

    pub fn cell(&self, row: usize) -> Cell {
        if row >= self.array.len() || self.nulls.as_ref().is_some_and(|n| n.is_null(row)) {
            return Cell::Null;
        }
        if let Some(f) = &self.text {
            return Cell::Other(f.value(row).to_string());
        }
        if let Some((keys, values)) = &self.dict {
            return match keys.get(row) {
                Some(&k) if k < values.len() && !values.is_null(k) => {
                    scalar(values.as_ref(), k, None).unwrap_or_else(|| Cell::Other(format!("<{}>", values.data_type())))
                }
                _ => Cell::Null,
            };
        }
        scalar(self.array.as_ref(), row, self.logical).unwrap_or_else(|| Cell::Other(format!("<{}>", self.array.data_type())))
    }
}

/// Nested and exotic types, shown as text.
fn renders_as_text(t: &DataType) -> bool {
    matches!(
        t,
        DataType::List(_)
            | DataType::LargeList(_)
            | DataType::ListView(_)
            | DataType::LargeListView(_)
            | DataType::FixedSizeList(..)
            | DataType::Struct(_)
            | DataType::Map(..)
            | DataType::Union(..)
            | DataType::RunEndEncoded(..)
            | DataType::Decimal256(..)
    )
}

fn int<T: ArrowPrimitiveType>(a: &dyn Array, row: usize) -> Option<Cell>
where
    T::Native: Into<i128>,
{
    Some(Cell::Int(a.as_primitive_opt::<T>()?.value(row).into()))
}

fn nanos_of<T: ArrowPrimitiveType>(a: &dyn Array, row: usize, per_unit: i128) -> Option<i128>
where
    T::Native: Into<i128>,
{
    Some(a.as_primitive_opt::<T>()?.value(row).into() * per_unit)
}

fn unit_nanos(u: &TimeUnit) -> i128 {
    match u {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

/// A non-null scalar; `None` for a type this does not know (the caller renders it).
fn scalar(a: &dyn Array, row: usize, logical: Option<LogicalTypeId>) -> Option<Cell> {
    Some(match a.data_type() {
        DataType::Null => Cell::Null,
        DataType::Boolean => Cell::Bool(a.as_boolean_opt()?.value(row)),
        DataType::Int8 => return int::<Int8Type>(a, row),
        DataType::Int16 => return int::<Int16Type>(a, row),
        DataType::Int32 => return int::<Int32Type>(a, row),
        DataType::Int64 => return int::<Int64Type>(a, row),
        DataType::UInt8 => return int::<UInt8Type>(a, row),
        DataType::UInt16 => return int::<UInt16Type>(a, row),
        DataType::UInt32 => return int::<UInt32Type>(a, row),
        DataType::UInt64 => return int::<UInt64Type>(a, row),
        DataType::Float16 => Cell::Float(a.as_primitive_opt::<Float16Type>()?.value(row).to_f64()),
        DataType::Float32 => Cell::Float(f64::from(a.as_primitive_opt::<Float32Type>()?.value(row))),
        DataType::Float64 => Cell::Float(a.as_primitive_opt::<Float64Type>()?.value(row)),
        DataType::Decimal32(_, s) => decimal(i128::from(a.as_primitive_opt::<Decimal32Type>()?.value(row)), *s)?,
        DataType::Decimal64(_, s) => decimal(i128::from(a.as_primitive_opt::<Decimal64Type>()?.value(row)), *s)?,
        DataType::Decimal128(_, s) => {
            let v = a.as_primitive_opt::<Decimal128Type>()?.value(row);
            match logical {
                Some(LogicalTypeId::Hugeint) => Cell::Int(v),
                // UHUGEINT travels as the bits of a u128.
                Some(LogicalTypeId::UHugeint) => {
                    let u = v as u128;
                    i128::try_from(u).map(Cell::Int).unwrap_or_else(|_| Cell::Other(u.to_string()))
                }
                _ => decimal(v, *s)?,
            }
        }
        DataType::Utf8 => Cell::Text(a.as_string_opt::<i32>()?.value(row).to_string()),
        DataType::LargeUtf8 => Cell::Text(a.as_string_opt::<i64>()?.value(row).to_string()),
        DataType::Utf8View => Cell::Text(a.as_string_view_opt()?.value(row).to_string()),
        DataType::Binary => Cell::Blob(a.as_binary_opt::<i32>()?.value(row).to_vec()),
        DataType::LargeBinary => Cell::Blob(a.as_binary_opt::<i64>()?.value(row).to_vec()),
        DataType::BinaryView => Cell::Blob(a.as_binary_view_opt()?.value(row).to_vec()),
        DataType::FixedSizeBinary(_) => Cell::Blob(a.as_fixed_size_binary_opt()?.value(row).to_vec()),
        DataType::Date32 => Cell::Date(a.as_primitive_opt::<Date32Type>()?.value(row)),
        DataType::Date64 => Cell::Date(a.as_primitive_opt::<Date64Type>()?.value(row).div_euclid(86_400_000) as i32),
        DataType::Time32(u) => Cell::Time(time_micros(match u {
            TimeUnit::Second => nanos_of::<Time32SecondType>(a, row, 1_000_000_000)?,
            _ => nanos_of::<Time32MillisecondType>(a, row, 1_000_000)?,
        })),
        DataType::Time64(u) => Cell::Time(time_micros(match u {
            TimeUnit::Nanosecond => nanos_of::<Time64NanosecondType>(a, row, 1)?,
            _ => nanos_of::<Time64MicrosecondType>(a, row, 1_000)?,
        })),
        DataType::Timestamp(u, _) => Cell::Timestamp(match u {
            TimeUnit::Second => nanos_of::<TimestampSecondType>(a, row, unit_nanos(u))?,
            TimeUnit::Millisecond => nanos_of::<TimestampMillisecondType>(a, row, unit_nanos(u))?,
            TimeUnit::Microsecond => nanos_of::<TimestampMicrosecondType>(a, row, unit_nanos(u))?,
            TimeUnit::Nanosecond => nanos_of::<TimestampNanosecondType>(a, row, unit_nanos(u))?,
        }),
        DataType::Duration(u) => {
            let n = match u {
                TimeUnit::Second => nanos_of::<DurationSecondType>(a, row, unit_nanos(u))?,
                TimeUnit::Millisecond => nanos_of::<DurationMillisecondType>(a, row, unit_nanos(u))?,
                TimeUnit::Microsecond => nanos_of::<DurationMicrosecondType>(a, row, unit_nanos(u))?,
                TimeUnit::Nanosecond => nanos_of::<DurationNanosecondType>(a, row, unit_nanos(u))?,
            };
            Cell::Interval { months: 0, days: 0, nanos: i64::try_from(n).ok()? }
        }
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            let v = a.as_primitive_opt::<IntervalMonthDayNanoType>()?.value(row);
            Cell::Interval { months: v.months, days: v.days, nanos: v.nanoseconds }
        }
        DataType::Interval(IntervalUnit::DayTime) => {
            let v = a.as_primitive_opt::<IntervalDayTimeType>()?.value(row);
            Cell::Interval { months: 0, days: v.days, nanos: i64::from(v.milliseconds) * 1_000_000 }
        }
        DataType::Interval(IntervalUnit::YearMonth) => {
            Cell::Interval { months: a.as_primitive_opt::<IntervalYearMonthType>()?.value(row), days: 0, nanos: 0 }
        }
        _ => return None,
    })
}

fn time_micros(nanos: i128) -> i64 {
    i64::try_from(nanos / 1_000).unwrap_or(i64::MAX)
}

fn decimal(value: i128, scale: i8) -> Option<Cell> {
    Some(Cell::Decimal { value, scale: u8::try_from(scale).ok()? })
}
