//! What a PostgreSQL database holds, read through the catalog on a sandboxed session:
//! tables of the current schema with their columns (for prompts and the reads-the-data
//! rule), the fingerprint (the same recipe as DuckDB's: schema and exact row counts), the
//! server's version, and the role check every target passes before anything runs on it:
//! a role that could change data or escape the sandbox is refused (bad input, exit 2).

use std::collections::BTreeMap;

use postgres::Client;
use sha2::{Digest, Sha256};

use super::session::message;
use crate::db::{Column, DbError, DbFingerprint, TableSchema};

fn query_err(what: &str) -> impl Fn(postgres::Error) -> DbError + '_ {
    move |e| DbError::Engine { what: what.to_string(), message: message(&e) }
}

/// Every base table of the current schema: lowercased name -> (name, columns in order),
/// with PostgreSQL's type names (`NUMERIC(7,2)`, `CHARACTER(16)`, `INTEGER`).
pub fn all_columns(c: &mut Client) -> Result<BTreeMap<String, (String, Vec<Column>)>, DbError> {
    let rows = c
        .query(
            "SELECT c.relname::text, a.attname::text, upper(format_type(a.atttypid, a.atttypmod)) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_attribute a ON a.attrelid = c.oid \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
               AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY c.relname, a.attnum",
            &[],
        )
        .map_err(query_err("reading the schema"))?;
    let mut map: BTreeMap<String, (String, Vec<Column>)> = BTreeMap::new();
    for r in rows {
        let (table, name, type_): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        map.entry(table.to_lowercase())
            .or_insert_with(|| (table.clone(), Vec::new()))
            .1
            .push(Column { name, type_ });
    }
    Ok(map)
}

pub fn count_rows(c: &mut Client, table: &str) -> Result<u64, DbError> {
    let sql = format!("SELECT count(*) FROM \"{}\"", table.replace('"', "\"\""));
    c.query_one(&sql, &[])
        .map(|r| r.get::<_, i64>(0).max(0) as u64)
        .map_err(query_err(&format!("counting rows of {table}")))
}

/// [`crate::db::schema_for`] on PostgreSQL.
pub fn schema_for(c: &mut Client, tables: &[String]) -> Result<Vec<TableSchema>, DbError> {
    let columns = all_columns(c)?;
    let mut out: Vec<TableSchema> = Vec::new();
    for wanted in tables {
        let Some((name, cols)) = columns.get(&wanted.to_lowercase()) else { continue };
        if out.iter().any(|t| &t.name == name) {
            continue;
        }
        let rows = count_rows(c, name)?;
        out.push(TableSchema { name: name.clone(), columns: cols.clone(), rows });
    }
    Ok(out)
}

/// Schema + row counts hashed like DuckDB's fingerprint; `file_size` is the database's
/// size on the server, `mtime` empty (a server has no file time), `path` the URL.
pub fn fingerprint(c: &mut Client, label: &str) -> Result<DbFingerprint, DbError> {
    let columns = all_columns(c)?;
    let mut hasher = Sha256::new();
    let mut tables = BTreeMap::new();
    for (name, cols) in columns.values() {
        let rows = count_rows(c, name)?;
        hasher.update(format!("table {name} rows {rows}\n"));
        for col in cols {
            hasher.update(format!("  {} {}\n", col.name, col.type_));
        }
        tables.insert(name.clone(), rows);
    }
    let size = c
        .query_one("SELECT pg_database_size(current_database())", &[])
        .map(|r| r.get::<_, i64>(0).max(0) as u64)
        .unwrap_or(0);
    Ok(DbFingerprint {
        sha256: hex::encode(hasher.finalize()),
        tables,
        file_size: size,
        mtime: String::new(),
        path: label.into(),
    })
}

pub fn version(c: &mut Client) -> String {
    c.query_one("SELECT 'PostgreSQL ' || current_setting('server_version')", &[])
        .map(|r| r.get::<_, String>(0))
        .unwrap_or_else(|e| format!("unknown ({})", message(&e)))
}

/// Why this role must not validate: it could change data or leave the sandbox. `None`
/// when it is read-only (no superuser or role/database creation, no write privilege on
/// any table, no CREATE on the database or a schema).
pub fn role_can_write(c: &mut Client) -> Result<Option<String>, DbError> {
    let r = c
        .query_one(
            "SELECT r.rolname::text, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls, r.rolreplication, \
               has_database_privilege(current_database(), 'CREATE'), \
               (SELECT string_agg(n.nspname, ', ') FROM pg_namespace n \
                  WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' \
                    AND has_schema_privilege(n.oid, 'CREATE')), \
               (SELECT string_agg(c.relname, ', ') FROM (SELECT c.relname FROM pg_class c \
                  JOIN pg_namespace n ON n.oid = c.relnamespace \
                  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') \
                    AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' \
                    AND (has_table_privilege(c.oid, 'INSERT') OR has_table_privilege(c.oid, 'UPDATE') \
                      OR has_table_privilege(c.oid, 'DELETE') OR has_table_privilege(c.oid, 'TRUNCATE')) \
                  ORDER BY c.relname LIMIT 5) c) \
             FROM pg_roles r WHERE r.rolname = current_user",
            &[],
        )
        .map_err(query_err("checking the role's privileges"))?;
    let role: String = r.get(0usize);
    let flags: [(usize, &str); 5] = [(1, "superuser"), (2, "CREATEROLE"), (3, "CREATEDB"), (4, "BYPASSRLS"), (5, "REPLICATION")];
    let mut why: Vec<String> = flags
        .iter()
        .filter(|(i, _)| r.get::<_, bool>(*i))
        .map(|(_, f)| format!("it is {f}"))
        .collect();
    if r.get::<_, bool>(6usize) {
        why.push("it may CREATE in the database".into());
    }
    if let Some(s) = r.get::<_, Option<String>>(7usize) {
        why.push(format!("it may CREATE in schema {s}"));
    }
    if let Some(t) = r.get::<_, Option<String>>(8usize) {
        why.push(format!("it may write to tables ({t})"));
    }
    Ok((!why.is_empty()).then(|| format!("role {role} can write: {}", why.join("; "))))
}
