//! Atomic writes: a reader (or a resumed run) never sees a half-written file or folder.
//! Files are written to a temporary sibling, synced, then renamed over the target;
//! folders are filled under a temporary name and renamed into place whole.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Prefix of temporary entries; anything starting with it is never trusted.
pub const TMP_PREFIX: &str = ".tmp-";

fn tmp_sibling(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!("{TMP_PREFIX}{name}-{}", std::process::id()))
}

/// Write `bytes` to `path` so that `path` holds either the old or the new content.
/// On failure (disk full) the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = tmp_sibling(path);
    let r = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)
    })();
    if r.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    r
}

/// Create folder `dir` with `files` (name, content) inside, all at once: the folder
/// appears complete or not at all (a failed attempt removes its temporary folder).
/// Fails if `dir` already exists.
pub fn write_dir_atomic(dir: &Path, files: &[(String, Vec<u8>)]) -> io::Result<()> {
    if dir.exists() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} already exists", dir.display()),
        ));
    }
    let tmp = tmp_sibling(dir);
    if tmp.exists() {
        fs::remove_dir_all(&tmp)?;
    }
    let r = (|| {
        fs::create_dir_all(&tmp)?;
        for (name, content) in files {
            let mut f = fs::File::create(tmp.join(name))?;
            f.write_all(content)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, dir)
    })();
    if r.is_err() {
        // Disk full half-way: leave no temporary folder behind.
        let _ = fs::remove_dir_all(&tmp);
    }
    r
}

/// Remove temporary leftovers of a killed run in `dir` (never trusted, never read).
pub fn remove_temp_entries(dir: &Path) -> io::Result<usize> {
    let mut removed = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(TMP_PREFIX) {
            let p = entry.path();
            if p.is_dir() { fs::remove_dir_all(&p)? } else { fs::remove_file(&p)? }
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_appears_whole_and_never_twice() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("gen_01");
        write_dir_atomic(&d, &[("a.txt".into(), b"x".to_vec())]).unwrap();
        assert_eq!(fs::read(d.join("a.txt")).unwrap(), b"x");
        assert!(write_dir_atomic(&d, &[]).is_err());
        let leftovers: Vec<_> = fs::read_dir(t.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
    }

    #[test]
    fn temp_entries_are_removed() {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir(t.path().join(".tmp-gen_02-1")).unwrap();
        fs::write(t.path().join(".tmp-summary.json-1"), "{").unwrap();
        fs::write(t.path().join("summary.json"), "{}").unwrap();
        assert_eq!(remove_temp_entries(t.path()).unwrap(), 2);
        assert!(t.path().join("summary.json").exists());
    }
}
