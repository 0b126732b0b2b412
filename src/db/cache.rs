//! Where generated sample databases live, and building them safely: once, atomically,
//! and by one process at a time.
//!
//! A finished database only ever appears by `rename` of a fully written, checkpointed and
//! closed temp file in the same folder, so "the file exists" means "the file is complete".
//! Concurrent builders, on one host or several sharing the cache folder (`QT_CACHE_DIR` on
//! NFS or a cluster volume), serialize on `<name>.lock`, a lease (`lease.rs`): the others
//! poll until the database appears. A lock left by a killed builder is taken over (at once
//! on the same host, after a minute without heartbeat from another host).
//! Temp files (`<name>.tmp-<host>-<pid>`) left by a killed build are removed by the next
//! builder (it holds the lock, so nobody else is writing them).
//!
//! This file does not generate rows (see `generate.rs`) nor open databases for queries.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use super::DbError;
use super::lease::{self, LeaseOptions};
use super::generate::{BuildStats, build_tpcds};
use super::sample::GenSpec;

/// The cache root: `$QT_CACHE_DIR`, else `$XDG_CACHE_HOME/qt`, else `~/.cache/qt`
/// (falling back to `./.qt-cache` when no home folder is known).
pub fn cache_dir() -> PathBuf {
    let non_empty = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = non_empty("QT_CACHE_DIR") {
        return dir;
    }
    if let Some(dir) = non_empty("XDG_CACHE_HOME") {
        return dir.join("qt");
    }
    match non_empty("HOME") {
        Some(home) => home.join(".cache").join("qt"),
        None => PathBuf::from(".qt-cache"),
    }
}

/// The cache path of a generated database, keyed by benchmark, scale and qt version:
/// `<cache>/db/tpcds_sf0.01_qt0.1.0.duckdb`.
pub fn generated_path(benchmark: &str, scale: f64) -> PathBuf {
    generated_path_for(&GenSpec {
        benchmark: benchmark.into(),
        ..GenSpec::full(scale)
    })
}

/// The cache path of any generated database; sampled ones also carry sample and instance:
/// `<cache>/db/tpcds_sf100_s0.01_i1_qt0.1.0.duckdb`.
pub fn generated_path_for(spec: &GenSpec) -> PathBuf {
    generated_path_in(&cache_dir(), spec)
}

fn generated_path_in(cache_root: &Path, spec: &GenSpec) -> PathBuf {
    cache_root.join("db").join(format!(
        "{}_{}_qt{}.duckdb",
        spec.benchmark.to_ascii_lowercase(),
        spec.key(),
        env!("CARGO_PKG_VERSION")
    ))
}

/// A generated database: where it is, and the build statistics when this call built it
/// (None: an existing file was reused).
#[derive(Debug, Clone)]
pub struct Generated {
    pub path: PathBuf,
    pub built: Option<BuildStats>,
}

/// Returns the cached sample database, building it first if absent (printing
/// "building sample DB ... (one time)" to stderr). Safe against concurrent qt processes
/// (the second waits for the first, then reuses its file) and against crashes.
pub fn ensure_generated(benchmark: &str, scale: f64, progress: bool) -> Result<PathBuf, DbError> {
    let spec = GenSpec {
        benchmark: benchmark.into(),
        ..GenSpec::full(scale)
    };
    ensure(&cache_dir(), &spec, progress, true).map(|g| g.path)
}

/// [`ensure_generated`] for any [`GenSpec`] (sampled or not).
pub fn ensure_generated_spec(spec: &GenSpec, progress: bool) -> Result<PathBuf, DbError> {
    ensure(&cache_dir(), spec, progress, true).map(|g| g.path)
}

/// [`ensure_generated`] with an explicit cache root instead of [`cache_dir`].
pub fn ensure_generated_in(
    cache_root: &Path,
    benchmark: &str,
    scale: f64,
    progress: bool,
) -> Result<Generated, DbError> {
    let spec = GenSpec {
        benchmark: benchmark.into(),
        ..GenSpec::full(scale)
    };
    ensure(cache_root, &spec, progress, true)
}

/// [`ensure_generated_spec`] with an explicit cache root.
pub fn ensure_spec_in(
    cache_root: &Path,
    spec: &GenSpec,
    progress: bool,
) -> Result<Generated, DbError> {
    ensure(cache_root, spec, progress, true)
}

/// `announce` = false drops the stderr line (for `--quiet`).
pub fn ensure(
    cache_root: &Path,
    spec: &GenSpec,
    progress: bool,
    announce: bool,
) -> Result<Generated, DbError> {
    spec.check()?;
    let path = generated_path_in(cache_root, spec);
    if path.is_file() {
        return Ok(Generated { path, built: None });
    }
    let built = build_atomically(&path, spec, progress, |p| {
        if announce {
            crate::errln!(
                "building sample DB {} (one time) -> {}",
                spec.label(),
                p.display()
            );
        }
    })?;
    Ok(Generated { path, built })
}

/// Builds `dest` unless it exists, under its lock, via a temp file renamed into place.
/// Returns None when another process finished it while we waited for the lock.
/// `announce` runs once, just before building starts.
pub(crate) fn build_atomically(
    dest: &Path,
    spec: &GenSpec,
    progress: bool,
    announce: impl FnOnce(&Path),
) -> Result<Option<BuildStats>, DbError> {
    let dir = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|source| DbError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let name = file_name(dest);
    let lock_path = dir.join(format!("{name}.lock"));
    // Another process (maybe on another host) builds the same DB: wait for it, saying so.
    let lock = lease::acquire(&lock_path, LeaseOptions::default(), || dest.is_file(), |m| {
        crate::errln!("{m} (it builds this sample DB)")
    })?;
    let Some(lock) = lock else {
        return Ok(None); // built by the process we waited for
    };
    if dest.is_file() {
        return Ok(None);
    }
    remove_stale_temps(dir, &name);
    announce(dest);
    let tmp = dir.join(format!(
        "{name}.tmp-{}-{}",
        lease::host_name().replace(['/', '\\'], "_"),
        std::process::id()
    ));
    let result = build_tpcds(&tmp, spec, progress).and_then(|stats| {
        fs::rename(&tmp, dest)
            .map(|()| stats)
            .map_err(|source| DbError::Io {
                path: dest.to_path_buf(),
                source,
            })
    });
    remove_db_files(&tmp); // on error the partial file; on success a stray WAL, if any
    let stats = result?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all(); // make the rename durable
    }
    drop(lock); // removes the lock file: whoever takes it next finds `dest` and returns
    Ok(Some(stats))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "db".into())
}

/// Deletes `<name>.tmp-*` files (half-built databases, their `.wal`) and folders (CSV
/// scratch space) left by builds that died.
fn remove_stale_temps(dir: &Path, name: &str) {
    let prefix = format!("{name}.tmp-");
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let path = entry.path();
            let _ = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
        }
    }
}

fn remove_db_files(path: &Path) {
    let _ = fs::remove_file(path);
    let mut wal = path.as_os_str().to_owned();
    wal.push(".wal");
    let _ = fs::remove_file(PathBuf::from(wal));
}
