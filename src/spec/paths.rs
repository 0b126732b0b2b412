//! How a relative path in a spec is found: the same rule whether the key is written or
//! left at its default, so writing a default out (`template = "templates/v5_dag.j2"`,
//! `root = "research/experiments"`) changes nothing.
//!
//! - absolute paths are used as they are;
//! - `./x` and `../x` are relative to the spec file's folder, exactly (SPEC.md's
//!   `root = "../research/experiments"` and the demo's `../templates/...`);
//! - any other relative path is looked up in the spec's folder, then in each parent up to
//!   the project root (the nearest folder holding `Cargo.toml` or `.git`; without one, up
//!   to `/`): the first place where it exists wins. An input that exists nowhere is an
//!   error listing every place tried; `output.root`, which is created on demand, falls
//!   back to the project root (else the spec's folder).

use std::path::{Component, Path, PathBuf};

/// What the path must be for a search to stop at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    File,
    Dir,
    /// A folder that may not exist yet (output.root).
    Output,
}

/// A resolved path, and where it was looked for when it does not exist.
#[derive(Debug, Clone)]
pub(super) struct Found {
    pub path: PathBuf,
    pub exists: bool,
    pub tried: Vec<PathBuf>,
}

impl Found {
    /// " (looked in a, b and c)" for an error message; empty when only one place was tried.
    pub fn tried_text(&self) -> String {
        if self.tried.len() < 2 {
            return String::new();
        }
        let list: Vec<String> = self.tried.iter().map(|p| p.display().to_string()).collect();
        format!(" (looked for it in {})", list.join(", "))
    }
}

/// The nearest ancestor of `spec_dir` (itself included) holding `Cargo.toml` or `.git`.
pub(super) fn project_root(spec_dir: &Path) -> Option<&Path> {
    spec_dir.ancestors().find(|d| d.join("Cargo.toml").exists() || d.join(".git").exists())
}

/// The folders a plain relative path is searched in, nearest first.
pub(super) fn search_bases(spec_dir: &Path) -> Vec<&Path> {
    let stop = project_root(spec_dir);
    let mut out = Vec::new();
    for d in spec_dir.ancestors() {
        out.push(d);
        if Some(d) == stop {
            break;
        }
    }
    out
}

/// `./x`, `../x`, `.` and `..`: explicitly relative to the spec's folder.
pub(super) fn is_spec_relative(value: &str) -> bool {
    matches!(Path::new(value).components().next(), Some(Component::CurDir | Component::ParentDir))
}

fn fits(p: &Path, kind: Kind) -> bool {
    match kind {
        Kind::File => p.is_file(),
        Kind::Dir | Kind::Output => p.is_dir(),
    }
}

/// Resolve `value` (as written, or a default) found from the spec's folder `spec_dir`.
pub(super) fn resolve(spec_dir: &Path, value: &str, kind: Kind) -> Found {
    if Path::new(value).is_absolute() || is_spec_relative(value) {
        let path = join_clean(spec_dir, value);
        return Found { exists: fits(&path, kind), tried: vec![path.clone()], path };
    }
    let mut tried = Vec::new();
    for base in search_bases(spec_dir) {
        let p = join_clean(base, value);
        if fits(&p, kind) {
            return Found { path: p, exists: true, tried };
        }
        tried.push(p);
    }
    let fallback = match kind {
        Kind::Output => project_root(spec_dir).unwrap_or(spec_dir),
        Kind::File | Kind::Dir => spec_dir,
    };
    Found { path: join_clean(fallback, value), exists: false, tried }
}

/// A glob pattern of `queries.files`, made absolute against the first folder (same
/// search as [`resolve`]) where it matches a file. Unmatched patterns are returned as
/// written, so the error names what the user wrote.
pub(super) fn resolve_glob(spec_dir: &Path, pattern: &str) -> String {
    if Path::new(pattern).is_absolute() || is_spec_relative(pattern) {
        return pattern.to_string();
    }
    for base in search_bases(spec_dir) {
        let full = format!("{}/{pattern}", glob::Pattern::escape(&base.to_string_lossy()));
        let matched = glob::glob(&full).ok().is_some_and(|mut it| it.any(|p| p.is_ok_and(|p| p.is_file())));
        if matched {
            return full;
        }
    }
    pattern.to_string()
}

/// `base/rel` without `.`/`..` noise: canonical when it exists, else cleaned lexically
/// (`base` is already canonical, so only `rel`'s own components are folded).
pub(super) fn join_clean(base: &Path, rel: &str) -> PathBuf {
    let joined = base.join(rel);
    if let Ok(canon) = std::fs::canonicalize(&joined) {
        return canon;
    }
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if out.parent().is_some() => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// project/{Cargo.toml, templates/t.j2, research/, experiments/x.toml}
    fn project() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(t.path()).unwrap();
        std::fs::write(root.join("Cargo.toml"), "").unwrap();
        std::fs::create_dir_all(root.join("templates")).unwrap();
        std::fs::write(root.join("templates/t.j2"), "x").unwrap();
        std::fs::create_dir_all(root.join("experiments")).unwrap();
        let spec_dir = root.join("experiments");
        (t, root, spec_dir)
    }

    #[test]
    fn written_and_default_paths_resolve_alike() {
        let (_t, root, spec_dir) = project();
        let f = resolve(&spec_dir, "templates/t.j2", Kind::File);
        assert!(f.exists);
        assert_eq!(f.path, root.join("templates/t.j2"));
        assert_eq!(resolve(&spec_dir, "../templates/t.j2", Kind::File).path, root.join("templates/t.j2"));
        // output.root: not there yet -> the project root, like the default.
        assert_eq!(resolve(&spec_dir, "research/experiments", Kind::Output).path, root.join("research/experiments"));
        assert_eq!(resolve(&spec_dir, "../research/experiments", Kind::Output).path, root.join("research/experiments"));
        assert_eq!(resolve(&spec_dir, "./out", Kind::Output).path, spec_dir.join("out"));
    }

    #[test]
    fn the_spec_folder_wins_and_misses_list_every_place() {
        let (_t, root, spec_dir) = project();
        std::fs::create_dir_all(spec_dir.join("templates")).unwrap();
        std::fs::write(spec_dir.join("templates/t.j2"), "near").unwrap();
        assert_eq!(resolve(&spec_dir, "templates/t.j2", Kind::File).path, spec_dir.join("templates/t.j2"));
        let miss = resolve(&spec_dir, "data/x.duckdb", Kind::File);
        assert!(!miss.exists);
        assert_eq!(miss.path, spec_dir.join("data/x.duckdb"));
        assert_eq!(miss.tried, vec![spec_dir.join("data/x.duckdb"), root.join("data/x.duckdb")]);
        assert!(miss.tried_text().contains(&root.join("data/x.duckdb").display().to_string()));
    }

    #[test]
    fn globs_search_upwards_too() {
        let (_t, root, spec_dir) = project();
        std::fs::create_dir_all(root.join("q")).unwrap();
        std::fs::write(root.join("q/q1.sql"), "select 1").unwrap();
        let g = resolve_glob(&spec_dir, "q/*.sql");
        assert!(g.starts_with(&root.display().to_string()) && g.ends_with("/q/*.sql"), "{g}");
        assert_eq!(resolve_glob(&spec_dir, "nothing/*.sql"), "nothing/*.sql");
        assert_eq!(resolve_glob(&spec_dir, "../q/*.sql"), "../q/*.sql");
    }
}
