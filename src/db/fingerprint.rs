//! A database fingerprint for `config.json`: a stable hash of the schema (table and column
//! names and types) and the row counts, plus the file's size and modification time.
//!
//! The hash deliberately ignores row *contents* (hashing them would mean reading the whole
//! database on every run) and the file's bytes (DuckDB's layout differs between identical
//! loads). Two databases with the same tables, types and counts share a hash.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::schema::{all_columns, count_rows};
use super::{DbError, open_read_only};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DbFingerprint {
    /// sha256 (hex) of the schema and row counts, in a sorted, line-based form.
    pub sha256: String,
    /// Row count per table.
    pub tables: BTreeMap<String, u64>,
    pub file_size: u64,
    /// Last modification time, RFC 3339 in UTC.
    pub mtime: String,
    /// Absolute path (canonicalized when possible).
    pub path: PathBuf,
}

/// Fingerprints the DuckDB file at `path` (opened read-only).
pub fn fingerprint(path: &Path) -> Result<DbFingerprint, DbError> {
    let conn = open_read_only(path)?;
    let columns = all_columns(&conn)?;
    let mut hasher = Sha256::new();
    let mut tables = BTreeMap::new();
    // BTreeMap order is sorted by lowercased table name; columns keep table order
    // (their position is part of the schema).
    for (name, cols) in columns.values() {
        let rows = count_rows(&conn, name)?;
        hasher.update(format!("table {name} rows {rows}\n"));
        for c in cols {
            hasher.update(format!("  {} {}\n", c.name, c.type_));
        }
        tables.insert(name.clone(), rows);
    }
    drop(conn);
    let meta = std::fs::metadata(path).map_err(|source| DbError::Io {
        path: path.into(),
        source,
    })?;
    let mtime = meta
        .modified()
        .map(|t| DateTime::<Utc>::from(t).to_rfc3339())
        .unwrap_or_default();
    Ok(DbFingerprint {
        sha256: hex::encode(hasher.finalize()),
        tables,
        file_size: meta.len(),
        mtime,
        path: std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
    })
}
