//! DuckDB's values and types into qt's value model (`db/value.rs`).

use duckdb::core::LogicalTypeId;
use duckdb::types::{TimeUnit, Value};

use crate::db::value::{Cell, TypeClass};

/// Map DuckDB's logical type to a display name and a family.
pub fn describe_type(id: LogicalTypeId, decimal: Option<(u8, u8)>) -> (String, TypeClass) {
    use LogicalTypeId as T;
    let (name, class) = match id {
        T::Boolean => ("BOOLEAN", TypeClass::Bool),
        T::Tinyint => ("TINYINT", TypeClass::Integer),
        T::Smallint => ("SMALLINT", TypeClass::Integer),
        T::Integer => ("INTEGER", TypeClass::Integer),
        T::Bigint => ("BIGINT", TypeClass::Integer),
        T::Hugeint => ("HUGEINT", TypeClass::Integer),
        T::UTinyint => ("UTINYINT", TypeClass::Integer),
        T::USmallint => ("USMALLINT", TypeClass::Integer),
        T::UInteger => ("UINTEGER", TypeClass::Integer),
        T::UBigint => ("UBIGINT", TypeClass::Integer),
        T::UHugeint => ("UHUGEINT", TypeClass::Integer),
        T::Float => ("FLOAT", TypeClass::Float),
        T::Double => ("DOUBLE", TypeClass::Float),
        T::Decimal => {
            let (w, s) = decimal.unwrap_or((0, 0));
            return (format!("DECIMAL({w},{s})"), TypeClass::Decimal);
        }
        T::Varchar => ("VARCHAR", TypeClass::Text),
        T::Enum => ("ENUM", TypeClass::Text),
        T::Blob => ("BLOB", TypeClass::Blob),
        T::Date => ("DATE", TypeClass::Date),
        T::Time | T::TimeNs => ("TIME", TypeClass::Time),
        T::Timestamp => ("TIMESTAMP", TypeClass::Timestamp),
        T::TimestampS => ("TIMESTAMP_S", TypeClass::Timestamp),
        T::TimestampMs => ("TIMESTAMP_MS", TypeClass::Timestamp),
        T::TimestampNs => ("TIMESTAMP_NS", TypeClass::Timestamp),
        T::TimestampTZ => ("TIMESTAMP WITH TIME ZONE", TypeClass::Timestamp),
        T::Interval => ("INTERVAL", TypeClass::Interval),
        T::SqlNull => ("NULL", TypeClass::Null),
        other => return (format!("{other:?}").to_uppercase(), TypeClass::Other),
    };
    (name.to_string(), class)
}

impl From<Value> for Cell {
    fn from(v: Value) -> Self {
        match v {
            Value::Null => Cell::Null,
            Value::Boolean(b) => Cell::Bool(b),
            Value::TinyInt(i) => Cell::Int(i.into()),
            Value::SmallInt(i) => Cell::Int(i.into()),
            Value::Int(i) => Cell::Int(i.into()),
            Value::BigInt(i) => Cell::Int(i.into()),
            Value::HugeInt(i) => Cell::Int(i),
            Value::UTinyInt(i) => Cell::Int(i.into()),
            Value::USmallInt(i) => Cell::Int(i.into()),
            Value::UInt(i) => Cell::Int(i.into()),
            Value::UBigInt(i) => Cell::Int(i.into()),
            Value::UHugeInt(i) => match i128::try_from(i) {
                Ok(i) => Cell::Int(i),
                Err(_) => Cell::Other(i.to_string()),
            },
            Value::Float(f) => Cell::Float(f.into()),
            Value::Double(f) => Cell::Float(f),
            Value::Decimal(d) => Cell::Decimal {
                value: d.value(),
                scale: d.scale(),
            },
            Value::Text(s) | Value::Enum(s) => Cell::Text(s),
            Value::Blob(b) => Cell::Blob(b),
            Value::Date32(d) => Cell::Date(d),
            Value::Time64(unit, t) => Cell::Time(to_nanos(unit, t.into()) as i64 / 1000),
            Value::Timestamp(unit, t) => Cell::Timestamp(to_nanos(unit, t.into())),
            Value::Interval {
                months,
                days,
                nanos,
            } => Cell::Interval {
                months,
                days,
                nanos,
            },
            other => Cell::Other(format!("{other:?}")),
        }
    }
}

fn to_nanos(unit: TimeUnit, t: i128) -> i128 {
    match unit {
        TimeUnit::Second => t * 1_000_000_000,
        TimeUnit::Millisecond => t * 1_000_000,
        TimeUnit::Microsecond => t * 1_000,
        TimeUnit::Nanosecond => t,
    }
}
