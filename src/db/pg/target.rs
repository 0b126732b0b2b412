//! A PostgreSQL server and database to validate on, named by a URL
//! (`postgresql://qt_reader@/tpcds?host=/run/postgresql`, libpq's URL form; a schema other
//! than the role's default through `options=-csearch_path%3Dsample2`).
//!
//! The password never comes from a spec file: it comes from the environment (`PGPASSWORD`,
//! read at the command line's edge) or a key file, or from a URL typed on the command
//! line; it is held apart from the URL (which keeps only the user), never printed (`Debug`
//! hides it) and scrubbed from every server message here. Above `db/`, error strings go
//! through the one redaction function (`redact.rs`, where the password is registered) before
//! they are printed.

use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PgTarget {
    /// The URL without its password.
    url: String,
    password: Option<String>,
    /// What every session on it sets (`[validation]` work_mem, ...): part of its identity,
    /// so pooled sessions with other settings are never handed out for it.
    settings: crate::db::EngineSettings,
}

impl fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgTarget").field("url", &self.label()).finish_non_exhaustive()
    }
}

/// True for `postgres://` and `postgresql://` URLs.
pub fn is_pg_url(s: &str) -> bool {
    let s = s.trim_start().to_ascii_lowercase();
    s.starts_with("postgresql://") || s.starts_with("postgres://")
}

impl PgTarget {
    /// Parses `url`; a password inside it is moved out of the URL. `password` (from the
    /// environment or a key file) is used when the URL has none.
    pub fn new(url: &str, password: Option<String>) -> Result<Self, String> {
        let cfg: postgres::Config = url.trim().parse().map_err(|e| {
            format!("{} is not a PostgreSQL URL ({e}); write postgresql://USER@HOST:PORT/DB or postgresql://USER@/DB?host=/socket/dir", strip_password(url.trim()))
        })?;
        let in_url = cfg.get_password().map(|p| String::from_utf8_lossy(p).into_owned());
        let bare = strip_password(url.trim());
        // From now on no printed or recorded text holds it (`redact.rs`).
        for p in in_url.iter().chain(password.iter()) {
            crate::redact::register_secret(p);
        }
        Ok(Self {
            url: bare,
            password: in_url.or(password).filter(|p| !p.is_empty()),
            settings: Default::default(),
        })
    }

    /// The same database, its sessions opened with `settings`.
    pub fn with_settings(&self, settings: &crate::db::EngineSettings) -> Self {
        Self { settings: settings.clone(), ..self.clone() }
    }

    pub fn settings(&self) -> &crate::db::EngineSettings {
        &self.settings
    }

    /// True when the URL as written carried a password (refused in spec files).
    pub fn url_has_password(url: &str) -> bool {
        url.trim()
            .parse::<postgres::Config>()
            .is_ok_and(|c| c.get_password().is_some())
    }

    pub fn config(&self) -> Result<postgres::Config, String> {
        let mut cfg: postgres::Config = self.url.parse().map_err(|e| format!("{e}"))?;
        if let Some(p) = &self.password {
            cfg.password(p.as_bytes());
        }
        Ok(cfg)
    }

    /// The URL for messages and records: the password is never in it.
    pub fn label(&self) -> String {
        self.redact(&self.url)
    }

    /// The URL without the password (for re-connecting as another database or user).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    fn secrets(&self) -> Vec<String> {
        self.password.iter().cloned().collect()
    }

    /// `text` with the password scrubbed.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in self.secrets().iter().filter(|s| s.len() >= 4) {
            out = out.replace(s.as_str(), "REDACTED");
        }
        out
    }

    /// A short name for reports: `tpcds (postgres)`, `tpcds/sample2 (postgres)` when the
    /// URL sets a search_path (a schema as an instance), or the URL when it names no
    /// database.
    pub fn short_label(&self) -> String {
        match (self.parts(), self.search_path()) {
            ((Some(db), _), Some(path)) => format!("{db}/{path} (postgres)"),
            ((Some(db), _), None) => format!("{db} (postgres)"),
            _ => self.label(),
        }
    }

    /// The `search_path` the URL's `options` set (`options=-csearch_path%3Dsample2`).
    pub fn search_path(&self) -> Option<String> {
        let cfg = self.config().ok()?;
        let opts = cfg.get_options()?;
        let at = opts.find("search_path=")? + "search_path=".len();
        let value: String = opts[at..].chars().take_while(|c| !c.is_whitespace()).collect();
        Some(value.trim_matches(['\'', '"']).to_string()).filter(|v| !v.is_empty())
    }

    /// The database name and the user as PostgreSQL will see them.
    pub fn parts(&self) -> (Option<String>, Option<String>) {
        match self.config() {
            Ok(c) => (c.get_dbname().map(str::to_string), c.get_user().map(str::to_string)),
            Err(_) => (None, None),
        }
    }
}

/// `url` with the `:password` of its userinfo (and a `password=` parameter) removed.
fn strip_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else { return url.to_string() };
    let (head, rest) = url.split_at(scheme_end + 3);
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => {
            let (userinfo, host) = authority.split_at(at);
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{user}{host}")
        }
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let kept: Vec<&str> = query.split('&').filter(|kv| !kv.to_ascii_lowercase().starts_with("password=")).collect();
            if kept.is_empty() { path.to_string() } else { format!("{path}?{}", kept.join("&")) }
        }
        None => tail.to_string(),
    };
    format!("{head}{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_leave_the_url() {
        assert_eq!(strip_password("postgresql://u:secret@h:5/db?sslmode=disable"), "postgresql://u@h:5/db?sslmode=disable");
        assert_eq!(strip_password("postgresql://u@/db?host=/x&password=pw"), "postgresql://u@/db?host=/x");
        let t = PgTarget::new("postgresql://u:hunter22@localhost/db", None).unwrap();
        assert_eq!(t.password(), Some("hunter22"));
        assert!(!t.label().contains("hunter22"));
        assert!(!format!("{t:?}").contains("hunter22"));
        assert_eq!(t.redact("auth failed for hunter22"), "auth failed for REDACTED");
    }

    #[test]
    fn a_schema_in_the_url_names_the_instance() {
        let t = PgTarget::new("postgresql://r@/tpcds?host=/tmp&options=-csearch_path%3Dsample2", None).unwrap();
        assert_eq!(t.search_path().as_deref(), Some("sample2"));
        assert_eq!(t.short_label(), "tpcds/sample2 (postgres)");
        let t = PgTarget::new("postgresql://r@/tpcds?host=/tmp&options=-c%20search_path%3Ds2", None).unwrap();
        assert_eq!(t.short_label(), "tpcds/s2 (postgres)");
        assert_eq!(PgTarget::new("postgresql://r@/tpcds?host=/tmp", None).unwrap().short_label(), "tpcds (postgres)");
    }
}
