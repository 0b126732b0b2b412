//! `qt db load --engine postgres`: a PostgreSQL database holding the same data as a DuckDB
//! sample (a file, or a generated TPC-DS sample), ready for validation: the tables
//! (TPC-DS: the project's DDL plus the specification's primary keys; any other DuckDB file:
//! its columns with the matching PostgreSQL types), the rows streamed with `COPY ... FROM
//! STDIN` (text format, never the whole table in memory), ANALYZE, and the read-only role
//! `qt_reader` (SELECT on the tables, nothing else; on a TCP URL it gets a random password
//! printed once). It then prints the URL to validate with.
//!
//! What it refuses: a database that already holds one of the tables (`--replace` drops
//! them first), a DuckDB file that cannot be opened.

use std::io::Write as _;

use postgres::{Client, NoTls};

use super::session::message;
use super::target::PgTarget;
use crate::db::{TPCDS_DDL, TPCDS_TABLES};

/// Primary keys of the TPC-DS tables (the specification's; facts by item and ticket/order).
pub const TPCDS_KEYS: [(&str, &str); 24] = [
    ("call_center", "cc_call_center_sk"),
    ("catalog_page", "cp_catalog_page_sk"),
    ("customer_address", "ca_address_sk"),
    ("customer_demographics", "cd_demo_sk"),
    ("customer", "c_customer_sk"),
    ("date_dim", "d_date_sk"),
    ("household_demographics", "hd_demo_sk"),
    ("income_band", "ib_income_band_sk"),
    ("item", "i_item_sk"),
    ("promotion", "p_promo_sk"),
    ("reason", "r_reason_sk"),
    ("ship_mode", "sm_ship_mode_sk"),
    ("store", "s_store_sk"),
    ("time_dim", "t_time_sk"),
    ("warehouse", "w_warehouse_sk"),
    ("web_page", "wp_web_page_sk"),
    ("web_site", "web_site_sk"),
    ("inventory", "inv_date_sk, inv_item_sk, inv_warehouse_sk"),
    ("store_returns", "sr_item_sk, sr_ticket_number"),
    ("store_sales", "ss_item_sk, ss_ticket_number"),
    ("catalog_returns", "cr_item_sk, cr_order_number"),
    ("catalog_sales", "cs_item_sk, cs_order_number"),
    ("web_returns", "wr_item_sk, wr_order_number"),
    ("web_sales", "ws_item_sk, ws_order_number"),
];

/// Escapes one value for COPY's text format.
pub fn copy_escape(s: &str, out: &mut Vec<u8>) {
    for b in s.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

/// PostgreSQL's type for a DuckDB column type (information_schema.data_type spelling).
pub fn pg_type(duck: &str) -> String {
    let t = duck.trim().to_uppercase();
    if let Some(rest) = t.strip_prefix("DECIMAL") {
        return format!("NUMERIC{rest}");
    }
    match t.as_str() {
        "TINYINT" | "UTINYINT" | "SMALLINT" => "SMALLINT",
        "USMALLINT" | "INTEGER" => "INTEGER",
        "UINTEGER" | "BIGINT" => "BIGINT",
        "UBIGINT" | "HUGEINT" | "UHUGEINT" => "NUMERIC(39,0)",
        "FLOAT" | "REAL" => "REAL",
        "DOUBLE" => "DOUBLE PRECISION",
        "BOOLEAN" => "BOOLEAN",
        "DATE" => "DATE",
        "TIME" => "TIME",
        "TIMESTAMP" | "TIMESTAMP_MS" | "TIMESTAMP_NS" | "TIMESTAMP_S" => "TIMESTAMP",
        "TIMESTAMP WITH TIME ZONE" => "TIMESTAMPTZ",
        "INTERVAL" => "INTERVAL",
        "BLOB" => "BYTEA",
        "UUID" => "UUID",
        _ => "TEXT",
    }
    .to_string()
}

/// What `qt db load` was asked to do.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// A role allowed to create tables and roles (a superuser, or the database owner
    /// with CREATEROLE); its password, if any, is in the target.
    pub admin: PgTarget,
    /// The DuckDB file to copy.
    pub from: std::path::PathBuf,
    /// Drop tables of the same names first.
    pub replace: bool,
    /// The read-only role to create (or reuse).
    pub reader: String,
    /// `temp_file_limit` set on the reader role (only a superuser may).
    pub temp_file_limit: String,
    pub quiet: bool,
}

/// What was loaded, and the URL to validate with.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub tables: Vec<(String, u64)>,
    pub reader_url: String,
    /// A password created for the reader on a TCP URL (printed once, never stored).
    pub reader_password: Option<String>,
}

fn err(what: &str) -> impl Fn(postgres::Error) -> String + '_ {
    move |e| format!("{what}: {}", message(&e))
}

/// Connects as the admin, creating the database first when it does not exist.
fn connect_admin(t: &PgTarget) -> Result<Client, String> {
    let cfg = t.config()?;
    match cfg.connect(NoTls) {
        Ok(c) => Ok(c),
        Err(e) if e.code() == Some(&postgres::error::SqlState::INVALID_CATALOG_NAME) => {
            let db = cfg.get_dbname().unwrap_or("postgres").to_string();
            let mut other = cfg.clone();
            other.dbname("postgres");
            let mut c = other.connect(NoTls).map_err(err("connecting to create the database"))?;
            c.batch_execute(&format!("CREATE DATABASE {}", ident(&db))).map_err(err("creating the database"))?;
            cfg.connect(NoTls).map_err(err("connecting"))
        }
        Err(e) => Err(format!("connecting: {}", message(&e))),
    }
}

/// A quoted identifier.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The tables of a DuckDB file with their columns (name, DuckDB type), TPC-DS order first.
fn duck_tables(conn: &duckdb::Connection) -> Result<Vec<(String, Vec<(String, String)>)>, String> {
    let cols = crate::db::schema::all_columns(conn).map_err(|e| e.to_string())?;
    let mut out: Vec<(String, Vec<(String, String)>)> = cols
        .into_values()
        .map(|(name, cs)| (name, cs.into_iter().map(|c| (c.name, c.type_)).collect()))
        .collect();
    let rank = |n: &str| TPCDS_TABLES.iter().position(|t| t.eq_ignore_ascii_case(n)).unwrap_or(usize::MAX);
    out.sort_by_key(|(n, _)| (rank(n), n.clone()));
    Ok(out)
}

/// `qt db load --engine postgres`: see the module doc. Progress goes to stderr.
pub fn load(o: &LoadOptions) -> Result<Loaded, String> {
    let duck = crate::db::open_read_only(&o.from).map_err(|e| e.to_string())?;
    let tables = duck_tables(&duck)?;
    if tables.is_empty() {
        return Err(format!("{} holds no tables", o.from.display()));
    }
    let tpcds = TPCDS_TABLES.iter().all(|t| tables.iter().any(|(n, _)| n.eq_ignore_ascii_case(t)));
    let mut c = connect_admin(&o.admin)?;
    let existing: Vec<String> = c
        .query("SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()", &[])
        .map_err(err("listing tables"))?
        .iter()
        .map(|r| r.get::<_, String>(0).to_lowercase())
        .collect();
    let clash: Vec<&str> = tables.iter().map(|(n, _)| n.as_str()).filter(|n| existing.contains(&n.to_lowercase())).collect();
    if !clash.is_empty() && !o.replace {
        return Err(format!(
            "{} already holds {} ({}); pass --replace to drop and reload them",
            o.admin.label(),
            if clash.len() == 1 { "table" } else { "tables" },
            clash.join(", ")
        ));
    }
    for n in &clash {
        c.batch_execute(&format!("DROP TABLE {} CASCADE", ident(n))).map_err(err("dropping a table"))?;
    }
    if tpcds {
        c.batch_execute(TPCDS_DDL).map_err(err("creating the TPC-DS tables"))?;
    }
    let mut loaded = Vec::new();
    for (name, cols) in &tables {
        if !(tpcds && TPCDS_TABLES.iter().any(|t| t.eq_ignore_ascii_case(name))) {
            let defs: Vec<String> = cols.iter().map(|(c, t)| format!("{} {}", ident(c), pg_type(t))).collect();
            c.batch_execute(&format!("CREATE TABLE {} ({})", ident(name), defs.join(", ")))
                .map_err(err(&format!("creating table {name}")))?;
        }
        let rows = copy_table(&duck, &mut c, name, cols)?;
        if !o.quiet {
            crate::errln!("loaded {name}: {rows} rows");
        }
        loaded.push((name.clone(), rows));
    }
    if tpcds {
        for (t, key) in TPCDS_KEYS {
            c.batch_execute(&format!("ALTER TABLE {t} ADD PRIMARY KEY ({key})"))
                .map_err(err(&format!("adding the primary key of {t}")))?;
        }
    }
    c.batch_execute("ANALYZE").map_err(err("ANALYZE"))?;
    let (reader_url, reader_password) = create_reader(&mut c, o)?;
    Ok(Loaded { tables: loaded, reader_url, reader_password })
}

/// Streams one table with `COPY .. FROM STDIN` (text format), rows cast to text by DuckDB.
fn copy_table(
    duck: &duckdb::Connection,
    c: &mut Client,
    name: &str,
    cols: &[(String, String)],
) -> Result<u64, String> {
    let select: Vec<String> = cols.iter().map(|(col, _)| format!("CAST({} AS VARCHAR)", ident(col))).collect();
    let sql = format!("SELECT {} FROM {}", select.join(", "), ident(name));
    let mut stmt = duck.prepare(&sql).map_err(|e| format!("reading {name}: {e}"))?;
    let mut rows = stmt.query([]).map_err(|e| format!("reading {name}: {e}"))?;
    let col_list: Vec<String> = cols.iter().map(|(col, _)| ident(col)).collect();
    let mut w = c
        .copy_in(&format!("COPY {} ({}) FROM STDIN", ident(name), col_list.join(", ")))
        .map_err(err(&format!("starting COPY into {name}")))?;
    let mut buf = Vec::with_capacity(1 << 20);
    let mut n = 0u64;
    while let Some(row) = rows.next().map_err(|e| format!("reading {name}: {e}"))? {
        for i in 0..cols.len() {
            if i > 0 {
                buf.push(b'\t');
            }
            match row.get::<_, Option<String>>(i).map_err(|e| format!("reading {name}: {e}"))? {
                None => buf.extend_from_slice(b"\\N"),
                Some(v) => copy_escape(&v, &mut buf),
            }
        }
        buf.push(b'\n');
        n += 1;
        if buf.len() >= 1 << 20 {
            w.write_all(&buf).map_err(|e| format!("COPY into {name}: {e}"))?;
            buf.clear();
        }
    }
    w.write_all(&buf).map_err(|e| format!("COPY into {name}: {e}"))?;
    w.finish().map_err(err(&format!("finishing COPY into {name}")))?;
    Ok(n)
}

/// The SELECT-only role: login, no password on a unix socket (a random one, returned,
/// on TCP), SELECT on the loaded tables, and nothing that outlives a transaction or
/// reaches other sessions (advisory locks, signalling backends, NOTIFY).
fn create_reader(c: &mut Client, o: &LoadOptions) -> Result<(String, Option<String>), String> {
    let r = ident(&o.reader);
    let exists = c
        .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&o.reader])
        .map_err(err("looking up the reader role"))?
        .is_some();
    if !exists {
        c.batch_execute(&format!("CREATE ROLE {r} LOGIN")).map_err(err("creating the reader role"))?;
    }
    let cfg = o.admin.config()?;
    let unix = cfg.get_hosts().iter().all(|h| matches!(h, postgres::config::Host::Unix(_)));
    let password = if unix {
        None
    } else {
        let pw: String = {
            use rand::Rng;
            let mut rng = rand::rng();
            (0..24).map(|_| char::from(b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"[rng.random_range(0..56)])).collect()
        };
        c.batch_execute(&format!("ALTER ROLE {r} PASSWORD '{pw}'")).map_err(err("setting the reader's password"))?;
        Some(pw)
    };
    let db = cfg.get_dbname().unwrap_or("postgres").to_string();
    let grants = format!(
        "ALTER ROLE {r} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS; \
         GRANT CONNECT ON DATABASE {d} TO {r}; \
         REVOKE CREATE, TEMPORARY ON DATABASE {d} FROM PUBLIC; \
         REVOKE CREATE ON SCHEMA public FROM PUBLIC; \
         GRANT USAGE ON SCHEMA public TO {r}; \
         GRANT SELECT ON ALL TABLES IN SCHEMA public TO {r}; \
         REVOKE EXECUTE ON FUNCTION pg_terminate_backend(integer, bigint), pg_cancel_backend(integer), \
           pg_advisory_lock(bigint), pg_advisory_lock_shared(bigint), pg_try_advisory_lock(bigint), \
           pg_notify(text, text) FROM PUBLIC",
        d = ident(&db)
    );
    c.batch_execute(&grants).map_err(err("granting the reader SELECT only"))?;
    // Only a superuser may set temp_file_limit; the sandbox reports whatever is in force.
    let _ = c.batch_execute(&format!("ALTER ROLE {r} IN DATABASE {} SET temp_file_limit = '{}'", ident(&db), o.temp_file_limit.replace('\'', "")));
    Ok((reader_url(o.admin.url(), &o.reader), password))
}

/// The admin URL with the reader as its user (and no password).
pub fn reader_url(admin_url: &str, reader: &str) -> String {
    let Some(at) = admin_url.find("://") else { return admin_url.to_string() };
    let (head, rest) = admin_url.split_at(at + 3);
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    format!("{head}{reader}@{host}{tail}")
}
