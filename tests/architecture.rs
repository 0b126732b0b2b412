//! The layering ARCHITECTURE.md promises, checked on the source itself: every file under
//! `src/` is read, its references to other modules (`crate::x`, `super::..`, `$crate::x`)
//! are resolved to module paths, and each must point down the layer table below (or stay
//! inside its own module). Also: only `src/commands/` and `main.rs` know clap, and the
//! sub-rooms of `validate/` (sandbox, equivalence, timing) do not import each other or
//! the orchestration above them.
//!
//! When this fails, the message names the file, the line and the rule. Moving a module
//! to another layer means changing both this table and ARCHITECTURE.md.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Top-level modules and their layer: a module may use only modules of a lower layer.
const LAYERS: &[(&str, u32)] = &[
    ("error", 0),
    ("files", 1),
    ("sqltext", 1),
    ("stdio", 1),
    ("db", 2),
    ("query", 2),
    ("spec", 3),
    ("dag", 4),
    ("llm", 4),
    ("prompt", 5),
    ("validate", 5),
    ("record", 6),
    ("compare", 7),
    ("report", 8),
    ("run", 9),
    ("bench", 10),
    ("merge", 10),
    ("commands", 11),
];

/// What each sub-room of `validate/` may use inside `validate/` (besides itself).
const VALIDATE_ROOMS: &[(&str, &[&str])] = &[
    ("sandbox", &["vocab", "resultset"]),
    ("equivalence", &["vocab", "resultset"]),
    ("timing", &["vocab", "resultset", "sandbox"]),
];

struct Source {
    file: PathBuf,
    /// Module path of the file, e.g. ["validate", "sandbox", "pool"] (empty for lib.rs).
    module: Vec<String>,
    text: String,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(&root).unwrap();
                let mut module: Vec<String> = rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
                let last = module.pop().unwrap();
                let stem = last.trim_end_matches(".rs");
                if !matches!(stem, "mod" | "lib" | "main") {
                    module.push(stem.to_string());
                }
                out.push(Source { text: std::fs::read_to_string(&p).unwrap(), file: rel.to_path_buf(), module });
            }
        }
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    out
}

/// Code without `//` comments (doc comments may name any module), up to the file's
/// `#[cfg(test)]` unit tests (an inline `mod tests` has its own `super::`).
fn code_lines(text: &str) -> impl Iterator<Item = (usize, String)> + '_ {
    text.lines().take_while(|l| l.trim() != "#[cfg(test)]").enumerate().map(|(i, l)| {
        let code = match l.find("//") {
            Some(at) => &l[..at],
            None => l,
        };
        (i + 1, code.to_string())
    })
}

/// The module paths a line refers to, absolute (e.g. ["validate", "timing", "stats"]).
/// `module_of_self` is the module whose items `self::`/`super::` start from: the file's
/// own module (a `mod.rs` or a leaf file both name their own module).
fn references(line: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = line.as_bytes();
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    while i < bytes.len() {
        // Only path starts: `crate::`, `$crate::`, `super::` not preceded by an identifier char.
        if !line.is_char_boundary(i) {
            i += 1;
            continue;
        }
        let starts_here = i == 0 || !(is_ident(bytes[i - 1]) || bytes[i - 1] == b':');
        let rest = &line[i..];
        if starts_here && (rest.starts_with("crate::") || rest.starts_with("super::")) {
            let mut base: Vec<String> = Vec::new();
            let mut j = i;
            if rest.starts_with("crate::") {
                j += "crate::".len();
            } else {
                base = module.to_vec();
                while line[j..].starts_with("super::") {
                    base.pop();
                    j += "super::".len();
                }
            }
            let (paths, end) = path_from(line, j, base);
            out.extend(paths);
            j = end;
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// The path(s) starting at byte `j` of `line` after the prefix that gave `base`: one
/// path, or one per item of a `{a, b::{c, d}}` group, nested groups included.
fn path_from(line: &str, mut j: usize, mut segs: Vec<String>) -> (Vec<Vec<String>>, usize) {
    let bytes = line.as_bytes();
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    loop {
        if bytes.get(j) == Some(&b'{') {
            let mut out = Vec::new();
            j += 1;
            loop {
                while j < bytes.len() && matches!(bytes[j], b' ' | b',') {
                    j += 1;
                }
                if j >= bytes.len() || bytes[j] == b'}' {
                    return (out, j + 1);
                }
                let (inner, end) = path_from(line, j, segs.clone());
                out.extend(inner);
                j = end.max(j + 1);
                // Skip the rest of this item (`as x`, nested groups) up to `,` or `}`.
                let mut depth = 0;
                while j < bytes.len() && !(depth == 0 && matches!(bytes[j], b',' | b'}')) {
                    match bytes[j] {
                        b'{' => depth += 1,
                        b'}' => depth -= 1,
                        _ => {}
                    }
                    j += 1;
                }
            }
        }
        let s = j;
        while j < bytes.len() && is_ident(bytes[j]) {
            j += 1;
        }
        if s == j {
            return (vec![segs], j);
        }
        segs.push(line[s..j].to_string());
        if line[j..].starts_with("::") && line[j + 2..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '{') {
            j += 2;
        } else {
            return (vec![segs], j);
        }
    }
}

fn layer_of(name: &str) -> Option<u32> {
    LAYERS.iter().find(|(n, _)| *n == name).map(|(_, l)| *l)
}

#[test]
fn every_top_level_module_has_a_layer() {
    let mut missing = Vec::new();
    for s in sources() {
        if let Some(top) = s.module.first() {
            if layer_of(top).is_none() && !missing.contains(top) {
                missing.push(top.clone());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "modules without a layer: {missing:?}; place them in LAYERS (tests/architecture.rs) and in ARCHITECTURE.md"
    );
}

#[test]
fn lower_layers_never_import_higher_ones() {
    let mut bad = Vec::new();
    for s in sources() {
        let Some(top) = s.module.first() else { continue };
        let Some(own) = layer_of(top) else { continue };
        for (n, line) in code_lines(&s.text) {
            for r in references(&line, &s.module) {
                let Some(target) = r.first() else { continue };
                if target == top {
                    continue;
                }
                // Items of the crate root itself (macros are at the root) have no layer.
                let Some(theirs) = layer_of(target) else { continue };
                if theirs >= own {
                    bad.push(format!(
                        "src/{}:{n}: `{top}` (layer {own}) uses `{}` (layer {theirs}): a module may use only lower layers",
                        s.file.display(),
                        r.join("::")
                    ));
                }
            }
        }
    }
    assert!(bad.is_empty(), "layering broken (see ARCHITECTURE.md):\n{}", bad.join("\n"));
}

#[test]
fn only_commands_know_the_command_line() {
    let mut bad = Vec::new();
    for s in sources() {
        let top = s.module.first().map(String::as_str);
        if top == Some("commands") || s.file == Path::new("main.rs") {
            continue;
        }
        for (n, line) in code_lines(&s.text) {
            let t = line.trim_start();
            if t.contains("clap::") || t.starts_with("use clap") {
                bad.push(format!("src/{}:{n}: clap outside src/commands/", s.file.display()));
            }
            if line.contains("crate::commands") || line.contains("crate::cli") {
                bad.push(format!("src/{}:{n}: `commands` used below the commands layer", s.file.display()));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn only_db_knows_the_engines() {
    // The engine seam: above `db/`, databases are `db::Target`s and `db::Sandbox`es;
    // no module names an engine's client library.
    let mut bad = Vec::new();
    for s in sources() {
        if s.module.first().map(String::as_str) == Some("db") {
            continue;
        }
        for (n, line) in code_lines(&s.text) {
            let t = line.trim_start();
            for lib in ["duckdb", "postgres", "tokio_postgres"] {
                if t.contains(&format!("{lib}::")) && !t.contains(&format!("crate::{lib}::"))
                    || t.starts_with(&format!("use {lib}"))
                {
                    bad.push(format!("src/{}:{n}: `{lib}` used above the engine seam (db/)", s.file.display()));
                }
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn validate_sub_rooms_stay_apart() {
    let rooms: BTreeMap<&str, &[&str]> = VALIDATE_ROOMS.iter().copied().collect();
    let mut bad = Vec::new();
    let mut seen = 0;
    for s in sources() {
        if s.module.len() < 2 || s.module[0] != "validate" {
            continue;
        }
        let room = s.module[1].as_str();
        let Some(allowed) = rooms.get(room) else { continue };
        seen += 1;
        for (n, line) in code_lines(&s.text) {
            for r in references(&line, &s.module) {
                if r.first().map(String::as_str) != Some("validate") {
                    continue;
                }
                let ok = match r.get(1) {
                    Some(x) => x == room || allowed.contains(&x.as_str()),
                    // `validate` itself (its mod.rs items): the orchestration above the rooms.
                    None => false,
                };
                if !ok {
                    bad.push(format!(
                        "src/{}:{n}: validate/{room}/ uses `{}`; it may use only {:?} besides itself",
                        s.file.display(),
                        r.join("::"),
                        allowed
                    ));
                }
            }
        }
    }
    assert!(seen >= 3, "the validate/ sub-rooms were not found ({seen} files)");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// The names of the output tree's files (OUTPUT.md), spelled only in record/ (as
/// `record::layout` constants): every other module asks record/ for them.
const TREE_FILES: &[&str] = &[
    "config.json",
    "summary.json",
    "summary.txt",
    "results.jsonl",
    "validation.json",
    "optimized.sql",
    "prompt.txt",
    "response.txt",
    "base_prompt.txt",
    "original.sql",
];

#[test]
fn only_record_spells_the_output_tree() {
    let mut bad = Vec::new();
    for s in sources() {
        if s.module.first().map(String::as_str) == Some("record") {
            continue;
        }
        for (n, line) in code_lines(&s.text) {
            for f in TREE_FILES {
                if line.contains(&format!("\"{f}\"")) {
                    bad.push(format!("src/{}:{n}: \"{f}\" outside record/: use the record::layout constant", s.file.display()));
                }
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_checker_resolves_paths() {
    let m = |s: &str| s.split('/').map(String::from).collect::<Vec<_>>();
    assert_eq!(references("use crate::db::gate::{self};", &m("dag/textual")), vec![m("db/gate/self")]);
    assert_eq!(references("use super::sandbox::pool::Idle;", &m("validate/timing")), vec![m("validate/sandbox/pool/Idle")]);
    assert_eq!(references("use super::{OpenError, Sandbox};", &m("validate/sandbox/pool")), vec![m("validate/sandbox/OpenError"), m("validate/sandbox/Sandbox")]);
    assert_eq!(references("use crate::{db::gate, spec::{A, B}};", &m("dag")), vec![m("db/gate"), m("spec/A"), m("spec/B")]);
    assert_eq!(references("use super::super::verdict;", &m("validate/timing/stats")), vec![m("validate/verdict")]);
    assert_eq!(references("$crate::stdio::write_line(x)", &m("stdio")), vec![m("stdio/write_line")]);
    assert!(references("let supercrate::x = 1; my_crate::y", &m("db")).is_empty());
}
