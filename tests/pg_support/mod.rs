//! A private, throwaway PostgreSQL cluster for tests: `initdb` as an unprivileged OS user
//! (root runs it through `runuser -u nobody`) in a temp dir that user owns, the unix socket
//! in that dir, TCP on 127.0.0.1 at a free port (password auth there, trust on the socket),
//! never a system service. One cluster per test binary (`cluster()`), stopped at process
//! exit (atexit) and, if the test binary is killed, by a watcher process that outlives it.
//! Without PostgreSQL installed, `cluster()` is None and tests print a "skipped" line.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub struct Cluster {
    pub dir: PathBuf,
    pub port: u16,
    bin: PathBuf,
}

impl Cluster {
    /// Superuser URL over the unix socket (trust auth).
    pub fn admin_url(&self, db: &str) -> String {
        format!("postgresql://postgres@/{db}?host={}&port={}", self.dir.display(), self.port)
    }
    /// URL for `user` on the socket.
    pub fn url(&self, user: &str, db: &str) -> String {
        format!("postgresql://{user}@/{db}?host={}&port={}", self.dir.display(), self.port)
    }
    /// URL for `user` over TCP on 127.0.0.1 (password required).
    pub fn tcp_url(&self, user: &str, db: &str) -> String {
        format!("postgresql://{user}@127.0.0.1:{}/{db}", self.port)
    }
    /// The DuckDB-like checksum of every table of `db`: each table's rows (as text,
    /// sorted) hashed, one line per table. Equal before and after = nothing changed.
    pub fn checksum(&self, db: &str) -> String {
        let tables = self.psql(db, "SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'");
        let mut out = String::new();
        for t in tables.split_whitespace() {
            let sum = self.psql(db, &format!("SELECT count(*) || ' ' || coalesce(md5(string_agg(x::text, ',' ORDER BY x::text)), '') FROM \"{t}\" x"));
            out.push_str(&format!("{t} {}", sum));
        }
        let roles = self.psql(db, "SELECT string_agg(rolname || ':' || rolsuper, ' ' ORDER BY rolname) FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%'");
        out.push_str(&format!("roles {roles}"));
        out
    }

    /// Run SQL as the superuser through psql (setup only); panics with psql's stderr.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&self.dir)
            .args(["-p", &self.port.to_string(), "-U", "postgres", "-d", db, "-c", sql])
            .output()
            .expect("psql");
        assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    fn stop(&self) {
        let _ = as_owner(&self.bin.join("pg_ctl"), &self.dir)
            .args(["-D"])
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The server binaries (Debian: /usr/lib/postgresql/<ver>/bin), newest version first.
pub fn pg_bin() -> Option<PathBuf> {
    if let Ok(b) = std::env::var("QT_PG_BIN") {
        return Some(PathBuf::from(b));
    }
    let mut vers: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, b): &(u32, PathBuf)| b.join("initdb").is_file())
        .collect();
    vers.sort();
    vers.pop().map(|(_, b)| b)
}

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

/// A command run as the cluster's owner (`nobody` when we are root).
fn as_owner(prog: &Path, _dir: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "nobody", "--"]).arg(prog);
        c
    } else {
        Command::new(prog)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

static CLUSTER: OnceLock<Option<Cluster>> = OnceLock::new();

extern "C" fn stop_at_exit() {
    if let Some(Some(c)) = CLUSTER.get() {
        c.stop();
    }
}

/// This test binary's cluster, started on first use; None (with a "skipped" line printed
/// by the caller) when PostgreSQL is not installed.
pub fn cluster() -> Option<&'static Cluster> {
    CLUSTER.get_or_init(start).as_ref()
}

/// Prints the skip line a test without PostgreSQL shows.
pub fn skipped(test: &str) {
    eprintln!("skipped: {test}: PostgreSQL is not installed (apt-get install postgresql)");
}

fn start() -> Option<Cluster> {
    let bin = pg_bin()?;
    // Under /tmp when root: the cluster's owner (nobody) must reach it, and TMPDIR may
    // sit in root's home.
    let base = if is_root() { PathBuf::from("/tmp") } else { std::env::temp_dir() };
    let dir = tempfile::Builder::new().prefix("qt-pg-").tempdir_in(&base).expect("temp dir").keep();
    if is_root() {
        let st = Command::new("chown").args(["nobody:nogroup"]).arg(&dir).status().expect("chown");
        assert!(st.success(), "chown {}", dir.display());
    }
    let data = dir.join("data");
    let out = as_owner(&bin.join("initdb"), &dir)
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "-E", "UTF8", "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256", "-N"])
        .output()
        .expect("initdb");
    assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
    for attempt in 0..5 {
        let port = free_port();
        let opts = format!(
            "-k {} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=128MB -c max_connections=60",
            dir.display()
        );
        let out = as_owner(&bin.join("pg_ctl"), &dir)
            .arg("-D")
            .arg(&data)
            .args(["-o", &opts, "-l"])
            .arg(dir.join("log"))
            .args(["-w", "-t", "60", "start"])
            .output()
            .expect("pg_ctl");
        if out.status.success() {
            let c = Cluster { dir: dir.clone(), port, bin: bin.clone() };
            watch(&c);
            unsafe { libc::atexit(stop_at_exit) };
            return Some(c);
        }
        if attempt == 4 {
            let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
            panic!("pg_ctl start failed: {}\n{log}", String::from_utf8_lossy(&out.stderr));
        }
    }
    None
}

/// A watcher that stops the cluster when this test process dies without running atexit
/// (killed by a signal, or the harness aborting).
fn watch(c: &Cluster) {
    let me = std::process::id();
    let script = format!(
        "while kill -0 {me} 2>/dev/null; do sleep 1; done; {} {} -D {} -m immediate stop >/dev/null 2>&1; rm -rf {}",
        if is_root() { "runuser -u nobody --" } else { "" },
        c.bin.join("pg_ctl").display(),
        c.dir.join("data").display(),
        c.dir.display()
    );
    let _ = Command::new("sh")
        .args(["-c", &script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}
