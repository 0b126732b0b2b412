//! PostgreSQL's binary result values into qt's value model ([`Cell`]), exactly: NUMERIC is
//! decoded from its base-10000 wire form into a scaled integer (no float, no 28-digit
//! limit of rust_decimal for the values TPC-DS produces; a value beyond i128 or a NaN /
//! infinity keeps its exact text), `char(n)` loses its blank padding (PostgreSQL pads,
//! `c::text` does not: the same answer must compare equal), dates and timestamps move
//! from PostgreSQL's 2000-01-01 epoch to 1970's.
//!
//! It only converts; comparing is `validate/equivalence`'s job.

use postgres::types::{FromSql, Kind, Type};
use postgres_protocol::types as wire;

use crate::db::value::{Cell, TypeClass};

/// Days from 1970-01-01 to PostgreSQL's epoch 2000-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;
const PG_EPOCH_US: i128 = PG_EPOCH_DAYS as i128 * 86_400 * 1_000_000;

type BoxErr = Box<dyn std::error::Error + Sync + Send>;

/// A cell read from a row: any type is accepted; unknown ones keep a hex rendering.
pub struct PgCell(pub Cell);

impl<'a> FromSql<'a> for PgCell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxErr> {
        cell(ty, raw).map(PgCell)
    }
    fn from_sql_null(_: &Type) -> Result<Self, BoxErr> {
        Ok(PgCell(Cell::Null))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

fn cell(ty: &Type, raw: &[u8]) -> Result<Cell, BoxErr> {
    Ok(match *ty {
        Type::BOOL => Cell::Bool(wire::bool_from_sql(raw)?),
        Type::INT2 => Cell::Int(i16::from_sql(ty, raw)?.into()),
        Type::INT4 => Cell::Int(i32::from_sql(ty, raw)?.into()),
        Type::INT8 => Cell::Int(i64::from_sql(ty, raw)?.into()),
        Type::OID => Cell::Int(wire::oid_from_sql(raw)?.into()),
        Type::FLOAT4 => Cell::Float(f32::from_sql(ty, raw)?.into()),
        Type::FLOAT8 => Cell::Float(f64::from_sql(ty, raw)?),
        Type::NUMERIC => numeric(raw)?,
        Type::BPCHAR => Cell::Text(wire::text_from_sql(raw)?.trim_end_matches(' ').to_string()),
        Type::TEXT | Type::VARCHAR | Type::NAME | Type::UNKNOWN => {
            Cell::Text(wire::text_from_sql(raw)?.to_string())
        }
        Type::BYTEA => Cell::Blob(wire::bytea_from_sql(raw).to_vec()),
        Type::DATE => Cell::Date(date(wire::date_from_sql(raw)?)),
        Type::TIME => Cell::Time(wire::time_from_sql(raw)?),
        Type::TIMESTAMP | Type::TIMESTAMPTZ => {
            Cell::Timestamp((i128::from(wire::timestamp_from_sql(raw)?) + PG_EPOCH_US) * 1000)
        }
        Type::INTERVAL => interval(raw)?,
        Type::UUID => Cell::Other(uuid(wire::uuid_from_sql(raw)?)),
        Type::JSON => Cell::Other(wire::text_from_sql(raw)?.to_string()),
        // jsonb: a version byte, then the text.
        Type::JSONB => Cell::Other(String::from_utf8_lossy(raw.get(1..).unwrap_or_default()).into_owned()),
        _ => match ty.kind() {
            Kind::Enum(_) => Cell::Text(wire::text_from_sql(raw)?.to_string()),
            Kind::Domain(inner) => cell(inner, raw)?,
            _ => Cell::Other(format!("{}:\\x{}", ty.name(), hex::encode(raw))),
        },
    })
}

/// Days since 2000-01-01 (infinity is i32::MAX/MIN) to days since 1970-01-01.
fn date(d: i32) -> i32 {
    match d {
        i32::MAX | i32::MIN => d,
        d => (i64::from(d) + PG_EPOCH_DAYS).clamp(i32::MIN as i64 + 1, i32::MAX as i64 - 1) as i32,
    }
}

fn interval(raw: &[u8]) -> Result<Cell, BoxErr> {
    if raw.len() != 16 {
        return Err("invalid interval".into());
    }
    let us = i64::from_be_bytes(raw[0..8].try_into()?);
    let days = i32::from_be_bytes(raw[8..12].try_into()?);
    let months = i32::from_be_bytes(raw[12..16].try_into()?);
    Ok(Cell::Interval { months, days, nanos: us.saturating_mul(1000) })
}

fn uuid(b: [u8; 16]) -> String {
    let h = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// NUMERIC's binary form: ndigits, weight, sign, dscale (u16 each), then `ndigits`
/// base-10000 digits; the value is sum(digit[i] * 10000^(weight - i)), shown with
/// `dscale` decimals.
pub fn numeric(raw: &[u8]) -> Result<Cell, BoxErr> {
    let word = |i: usize| -> Result<u16, BoxErr> {
        raw.get(i * 2..i * 2 + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "truncated numeric".into())
    };
    let (ndigits, weight, sign, dscale) = (word(0)? as usize, word(1)? as i16, word(2)?, word(3)?);
    match sign {
        0xC000 => return Ok(Cell::Other("NaN".into())),
        0xD000 => return Ok(Cell::Other("Infinity".into())),
        0xF000 => return Ok(Cell::Other("-Infinity".into())),
        0x0000 | 0x4000 => {}
        _ => return Err("invalid numeric sign".into()),
    }
    let digits: Vec<u16> = (0..ndigits).map(|i| word(4 + i)).collect::<Result<_, _>>()?;
    match scaled(&digits, weight, dscale) {
        Some(v) if dscale <= 38 => {
            let value = if sign == 0x4000 { -v } else { v };
            Ok(Cell::Decimal { value, scale: dscale as u8 })
        }
        _ => Ok(Cell::Other(numeric_text(&digits, weight, sign == 0x4000, dscale))),
    }
}

/// The unsigned value times 10^dscale, when it fits in an i128.
fn scaled(digits: &[u16], weight: i16, dscale: u16) -> Option<i128> {
    let mut v: i128 = 0;
    // Digit i stands for 10000^(weight - i); after multiplying by 10^dscale each base-10000
    // digit contributes at decimal exponent 4*(weight-i) + dscale.
    for (i, &d) in digits.iter().enumerate() {
        let exp = 4 * (i32::from(weight) - i as i32) + i32::from(dscale);
        if exp < 0 {
            // Digits below the display scale: PostgreSQL never sends them (dscale covers
            // every transmitted digit), but drop them rather than fail.
            let div = 10i128.checked_pow((-exp) as u32)?;
            v = v.checked_add(i128::from(d) / div)?;
        } else {
            v = v.checked_add(i128::from(d).checked_mul(10i128.checked_pow(exp as u32)?)?)?;
        }
    }
    Some(v)
}

fn numeric_text(digits: &[u16], weight: i16, negative: bool, dscale: u16) -> String {
    let mut int = String::new();
    let mut frac = String::new();
    for (i, &d) in digits.iter().enumerate() {
        let pos = i32::from(weight) - i as i32;
        if pos >= 0 {
            int.push_str(&format!("{d:04}"));
        } else {
            frac.push_str(&format!("{d:04}"));
        }
    }
    // Missing groups between the last digit and the decimal point.
    let last_pos = i32::from(weight) - digits.len() as i32 + 1;
    for _ in 0..last_pos.max(0) {
        int.push_str("0000");
    }
    let lead_zero_groups = (-1 - i32::from(weight)).max(0);
    let frac = format!("{}{frac}", "0000".repeat(lead_zero_groups as usize));
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let mut frac: String = frac.chars().chain(std::iter::repeat('0')).take(dscale as usize).collect();
    if dscale == 0 {
        frac.clear();
    }
    let sign = if negative { "-" } else { "" };
    if frac.is_empty() { format!("{sign}{int}") } else { format!("{sign}{int}.{frac}") }
}

/// Display name and family of a column type (`NUMERIC(7,2)`, `CHARACTER(16)`, ...).
pub fn describe(ty: &Type, modifier: i32) -> (String, TypeClass) {
    let class = match *ty {
        Type::BOOL => TypeClass::Bool,
        Type::INT2 | Type::INT4 | Type::INT8 | Type::OID => TypeClass::Integer,
        Type::FLOAT4 | Type::FLOAT8 => TypeClass::Float,
        Type::NUMERIC => TypeClass::Decimal,
        Type::BPCHAR | Type::TEXT | Type::VARCHAR | Type::NAME | Type::UNKNOWN => TypeClass::Text,
        Type::BYTEA => TypeClass::Blob,
        Type::DATE => TypeClass::Date,
        Type::TIME => TypeClass::Time,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => TypeClass::Timestamp,
        Type::INTERVAL => TypeClass::Interval,
        _ => match ty.kind() {
            Kind::Enum(_) => TypeClass::Text,
            Kind::Domain(inner) => return describe(inner, modifier),
            _ => TypeClass::Other,
        },
    };
    let base = ty.name().to_uppercase();
    let name = match *ty {
        Type::NUMERIC if modifier >= 4 => {
            let m = modifier - 4;
            format!("NUMERIC({},{})", (m >> 16) & 0xffff, m & 0xffff)
        }
        Type::BPCHAR if modifier >= 4 => format!("CHAR({})", modifier - 4),
        Type::VARCHAR if modifier >= 4 => format!("VARCHAR({})", modifier - 4),
        Type::INT2 => "SMALLINT".into(),
        Type::INT4 => "INTEGER".into(),
        Type::INT8 => "BIGINT".into(),
        Type::FLOAT4 => "REAL".into(),
        Type::FLOAT8 => "DOUBLE PRECISION".into(),
        Type::BPCHAR => "CHAR".into(),
        _ => base,
    };
    (name, class)
}
