//! The original's baseline on a large database, cached like plans: on a full-size confirm
//! DB the original runs twice for correctness, once more per exposure or LIMIT window, and
//! `warmup + timing_rounds` times in the lane, minutes on SF10. A resumed confirm stage,
//! `qt confirm` run again, or another run of the same query on the same DB reuses it.
//!
//! Keyed by the DB's content key (fingerprint hash, size, mtime: what keys plans), the SQL
//! and every setting that changes the baseline; stored under `<cache>/baselines/`,
//! written by temp file + rename, never trusted when it does not parse (recomputed).
//! Failures are not cached (a timeout under load may pass later), nor baselines above
//! [`MAX_CACHED_BYTES`]. The ordering promise and the column-name promise are recomputed
//! from the SQL (cheap, and never stale); only what needed the database is stored.
//!
//! Values are stored losslessly: 128-bit integers as strings, floats as their bit
//! patterns (NaN and -0.0 survive), blobs as hex.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

use super::equivalence::sortkeys::SortKeys;
use super::equivalence::{columns, order};
use super::resultset::TypeClass;
use crate::db::Target;
use super::{Baseline, Cell, ColumnInfo, ResultSet, Row, TimingLane, ValidatorConfig, Verdict, prepare_baseline};

/// Largest cached baseline (serialized); bigger ones are recomputed each time.
pub const MAX_CACHED_BYTES: usize = 64 * 1024 * 1024;
const FORMAT: &str = "qt-baseline-v1";

/// Where a baseline came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Cache,
    Computed,
}

/// [`prepare_baseline`] through the cache under `cache_root` (`<cache>/baselines/`).
/// `db_key` identifies the database's content (see `run::setup::DbInfo::key`); with
/// `read` false the cached entry is ignored (recomputed and stored again).
pub fn cached_baseline(
    cache_root: &Path,
    db: &Target,
    db_key: &str,
    sql: &str,
    cfg: &ValidatorConfig,
    lane: &TimingLane,
    read: bool,
) -> (Result<Baseline, Verdict>, Source) {
    let file = cache_file(cache_root, db_key, sql, cfg);
    if let Some(b) = std::fs::read(&file).ok().filter(|_| read).and_then(|bytes| decode(&bytes, sql)) {
        return (Ok(b), Source::Cache);
    }
    let got = prepare_baseline(db, sql, cfg, lane);
    if let Ok(b) = &got {
        // A cache that cannot be written only costs a recomputation next time.
        if let Ok(bytes) = serde_json::to_vec(&encode(b)) {
            if bytes.len() <= MAX_CACHED_BYTES && std::fs::create_dir_all(file.parent().unwrap_or(cache_root)).is_ok() {
                let _ = crate::files::atomic::write_atomic(&file, &bytes);
            }
        }
    }
    (got, Source::Computed)
}

fn cache_file(root: &Path, db_key: &str, sql: &str, cfg: &ValidatorConfig) -> PathBuf {
    let key = format!(
        "{FORMAT}\0{db_key}\0{sql}\0{}\0{}\0{}\0{}\0{}\0{}",
        cfg.threads,
        cfg.memory_limit,
        cfg.timing_rounds,
        cfg.warmup,
        cfg.original_timeout.as_millis(),
        cfg.skip_timing
    );
    // Engine settings change timings; the default keeps the keys of earlier caches.
    let key = if cfg.engine == Default::default() { key } else { format!("{key}\0{:?}", cfg.engine) };
    root.join(format!("{}.json", hex::encode(Sha256::digest(key.as_bytes()))))
}

fn class_name(c: TypeClass) -> &'static str {
    match c {
        TypeClass::Null => "null",
        TypeClass::Bool => "bool",
        TypeClass::Integer => "integer",
        TypeClass::Decimal => "decimal",
        TypeClass::Float => "float",
        TypeClass::Text => "text",
        TypeClass::Blob => "blob",
        TypeClass::Date => "date",
        TypeClass::Time => "time",
        TypeClass::Timestamp => "timestamp",
        TypeClass::Interval => "interval",
        TypeClass::Other => "other",
    }
}

fn class_of(name: &str) -> Option<TypeClass> {
    [
        TypeClass::Null,
        TypeClass::Bool,
        TypeClass::Integer,
        TypeClass::Decimal,
        TypeClass::Float,
        TypeClass::Text,
        TypeClass::Blob,
        TypeClass::Date,
        TypeClass::Time,
        TypeClass::Timestamp,
        TypeClass::Interval,
        TypeClass::Other,
    ]
    .into_iter()
    .find(|c| class_name(*c) == name)
}

fn cell(c: &Cell) -> Value {
    match c {
        Cell::Null => Value::Null,
        Cell::Bool(b) => json!(["b", b]),
        Cell::Int(i) => json!(["i", i.to_string()]),
        Cell::Float(f) => json!(["f", f.to_bits()]),
        Cell::Decimal { value, scale } => json!(["d", value.to_string(), scale]),
        Cell::Text(s) => json!(["t", s]),
        Cell::Blob(b) => json!(["x", hex::encode(b)]),
        Cell::Date(d) => json!(["D", d]),
        Cell::Time(t) => json!(["T", t]),
        Cell::Timestamp(t) => json!(["S", t.to_string()]),
        Cell::Interval { months, days, nanos } => json!(["I", months, days, nanos]),
        Cell::Other(s) => json!(["o", s]),
    }
}

fn uncell(v: &Value) -> Option<Cell> {
    if v.is_null() {
        return Some(Cell::Null);
    }
    let a = v.as_array()?;
    let s = |i: usize| a.get(i).and_then(Value::as_str);
    let n = |i: usize| a.get(i).and_then(Value::as_i64);
    Some(match s(0)? {
        "b" => Cell::Bool(a.get(1)?.as_bool()?),
        "i" => Cell::Int(s(1)?.parse().ok()?),
        "f" => Cell::Float(f64::from_bits(a.get(1)?.as_u64()?)),
        "d" => Cell::Decimal { value: s(1)?.parse().ok()?, scale: u8::try_from(n(2)?).ok()? },
        "t" => Cell::Text(s(1)?.to_string()),
        "x" => Cell::Blob(hex::decode(s(1)?).ok()?),
        "D" => Cell::Date(i32::try_from(n(1)?).ok()?),
        "T" => Cell::Time(n(1)?),
        "S" => Cell::Timestamp(s(1)?.parse().ok()?),
        "I" => Cell::Interval { months: i32::try_from(n(1)?).ok()?, days: i32::try_from(n(2)?).ok()?, nanos: n(3)? },
        "o" => Cell::Other(s(1)?.to_string()),
        _ => return None,
    })
}

fn rows(r: &[Row]) -> Value {
    Value::Array(r.iter().map(|row| Value::Array(row.iter().map(cell).collect())).collect())
}

fn unrows(v: &Value) -> Option<Vec<Row>> {
    v.as_array()?.iter().map(|r| r.as_array()?.iter().map(uncell).collect()).collect()
}

fn opt_rows(v: &Value) -> Option<Option<Vec<Row>>> {
    if v.is_null() { Some(None) } else { unrows(v).map(Some) }
}

fn encode(b: &Baseline) -> Value {
    json!({
        "format": FORMAT,
        "original_sql": b.original_sql,
        "columns": b.result.columns.iter().map(|c| json!([c.name, c.type_name, class_name(c.class)])).collect::<Vec<_>>(),
        "rows": rows(&b.result.rows),
        "original_median_s": b.original_median_s,
        "samples_s": b.samples_s,
        "tie_rows": b.tie_rows.as_deref().map(rows),
        "sort_keys": b.sort_keys.as_ref().map(|k| json!({"keys": rows(&k.keys), "tie_keys": k.tie_keys.as_deref().map(rows)})),
        "notes": b.notes,
    })
}

fn decode(bytes: &[u8], sql: &str) -> Option<Baseline> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    if v["format"] != FORMAT || v["original_sql"] != sql {
        return None;
    }
    let columns = v["columns"]
        .as_array()?
        .iter()
        .map(|c| Some(ColumnInfo { name: c[0].as_str()?.into(), type_name: c[1].as_str()?.into(), class: class_of(c[2].as_str()?)? }))
        .collect::<Option<Vec<_>>>()?;
    let result = ResultSet { columns, rows: unrows(&v["rows"])? };
    let names = result.column_names();
    let sort_keys = match &v["sort_keys"] {
        Value::Null => None,
        k => Some(SortKeys { keys: unrows(&k["keys"])?, tie_keys: opt_rows(&k["tie_keys"])? }),
    };
    Some(Baseline {
        original_sql: sql.to_string(),
        rows: result.rows.len(),
        original_median_s: v["original_median_s"].as_f64()?,
        samples_s: v["samples_s"].as_array()?.iter().map(Value::as_f64).collect::<Option<Vec<_>>>()?,
        order: order::analyze(sql, &names),
        tie_rows: opt_rows(&v["tie_rows"])?,
        sort_keys,
        named: columns::named_columns(sql, &names),
        notes: v["notes"].as_array()?.iter().map(|n| n.as_str().map(str::to_string)).collect::<Option<Vec<_>>>()?,
        result,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cell_survives_the_round_trip() {
        let cells = vec![
            Cell::Null,
            Cell::Bool(true),
            Cell::Int(i128::MIN),
            Cell::Int(170141183460469231731687303715884105727),
            Cell::Float(f64::NAN),
            Cell::Float(-0.0),
            Cell::Float(1.0 / 3.0),
            Cell::Decimal { value: -1234567890123456789012345678, scale: 7 },
            Cell::Text("é \"quoted\" \n".into()),
            Cell::Blob(vec![0, 255, 7]),
            Cell::Date(-719162),
            Cell::Time(86_399_999_999),
            Cell::Timestamp(-9_223_372_036_854_775_808_000),
            Cell::Interval { months: -3, days: 40, nanos: 1 },
            Cell::Other("[1, 2]".into()),
        ];
        for c in &cells {
            let back = uncell(&cell(c)).unwrap();
            match (c, &back) {
                (Cell::Float(a), Cell::Float(b)) => assert_eq!(a.to_bits(), b.to_bits()),
                _ => assert_eq!(c, &back),
            }
        }
        let sql = "SELECT 1 AS a ORDER BY a LIMIT 1";
        let b = Baseline {
            original_sql: sql.into(),
            result: ResultSet { columns: vec![ColumnInfo { name: "a".into(), type_name: "INTEGER".into(), class: TypeClass::Integer }], rows: vec![vec![Cell::Int(1)]] },
            rows: 1,
            original_median_s: 0.25,
            samples_s: vec![0.2, 0.25, 0.3],
            order: order::analyze(sql, &["a".to_string()]),
            tie_rows: Some(vec![vec![Cell::Int(1)]]),
            sort_keys: Some(SortKeys { keys: vec![vec![Cell::Text("k".into())]], tie_keys: None }),
            named: columns::named_columns(sql, &["a".to_string()]),
            notes: vec!["n".into()],
        };
        let bytes = serde_json::to_vec(&encode(&b)).unwrap();
        let back = decode(&bytes, sql).unwrap();
        assert_eq!((back.result, back.rows, back.samples_s, back.tie_rows, back.sort_keys, back.named, back.notes, back.order),
                   (b.result, b.rows, b.samples_s, b.tie_rows, b.sort_keys, b.named, b.notes, b.order));
        assert!(decode(&bytes, "SELECT 2").is_none(), "another SQL never reads this entry");
        assert!(decode(b"{\"format\": \"qt-baseline-v1\"", sql).is_none(), "a torn file is recomputed");
    }
}
