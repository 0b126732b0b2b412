//! Paths inside an experiment's output tree:
//! `<root>/<name>/q<ID>_<YYYYmmdd_HHMMSS>/{config.json, gen_NN/, ...}`.
//!
//! Generation folders: `gen_01 ... gen_99` (two digits, the seed's layout) while a run
//! folder holds at most 99 generations; with more, every folder of that run uses the width
//! of the largest number (`gen_001 ... gen_120`), so they sort in `ls` and shells. Readers
//! ([`parse_gen_name`], [`RunDir::completed_gens`], [`RunDir::find_gen`]) accept any width.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::files::atomic;

pub const CONFIG: &str = "config.json";
pub const ORIGINAL: &str = "original.sql";
pub const PLAN_JSON: &str = "plan.json";
pub const PLAN_FULL: &str = "plan_full.txt";
pub const PLAN_SUMMARY: &str = "plan_summary.txt";
pub const BASE_PROMPT: &str = "base_prompt.txt";
pub const SUMMARY_JSON: &str = "summary.json";
pub const SUMMARY_TXT: &str = "summary.txt";
pub const RESULTS: &str = "results.jsonl";
pub const VALIDATION: &str = "validation.json";
pub const OPTIMIZED: &str = "optimized.sql";
/// Append-only log of every full-size confirmation of the run folder (`record/confirm.rs`).
pub const CONFIRM_LOG: &str = "confirm.jsonl";
/// The final attempt's prompt and answer in a gen folder (earlier ones: `prompt.1.txt`...).
pub const PROMPT: &str = "prompt.txt";
pub const RESPONSE: &str = "response.txt";

/// Digits of the `gen_` numbers in a run folder of `total` generations: 2 up to 99,
/// else the width of `total` itself.
pub fn gen_width(total: usize) -> usize {
    total.max(1).to_string().len().max(2)
}

/// `gen_07` (total <= 99) or `gen_007` (total 100..=999), ...
pub fn gen_name(number: u32, total: usize) -> String {
    format!("gen_{number:0w$}", w = gen_width(total))
}

/// The number of a `gen_NN` folder name of any width (`gen_07`, `gen_007`); None for
/// anything else (temp folders, `gen_x`).
pub fn parse_gen_name(name: &str) -> Option<u32> {
    let digits = name.strip_prefix("gen_")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A run folder's stamp: `YYYYmmdd_HHMMSS`, then `_N` when a second folder was made in
/// the same second. Returns (stamp, N) with N = 1 for the first.
fn parse_stamp(s: &str) -> Option<(&str, u64)> {
    let digits = |t: &str, n: usize| t.len() == n && t.bytes().all(|b| b.is_ascii_digit());
    let (stamp, n) = match s.get(15..) {
        Some("") => (s, 1),
        Some(rest) => {
            let n = rest.strip_prefix('_')?;
            if n.is_empty() || n.len() > 9 || !n.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (&s[..15], n.parse().ok()?)
        }
        None => return None,
    };
    let (date, time) = stamp.split_once('_')?;
    (digits(date, 8) && digits(time, 6)).then_some((stamp, n))
}

/// The one place that knows run folder names: is `name` a run folder of query `query_id`
/// (`q<ID>_<YYYYmmdd_HHMMSS>` or `..._<N>`)? Returns its sort key (stamp, N): the latest
/// has the largest. Exact: ids that prefix each other (`1`, `1_2`), ids with `_` and ids
/// with digits after `_` never match each other's folders.
pub fn run_folder_of(name: &str, query_id: &str) -> Option<(String, u64)> {
    let rest = name.strip_prefix('q')?.strip_prefix(query_id)?.strip_prefix('_')?;
    parse_stamp(rest).map(|(stamp, n)| (stamp.to_string(), n))
}

/// The query id of a run folder name (`q1_2_20261126_090000` -> `1_2`), if it is one.
pub fn run_folder_query(name: &str) -> Option<&str> {
    let body = name.strip_prefix('q')?;
    // The stamp is the last 15 characters, or 15 + `_N`: try every `_` from the right.
    body.char_indices()
        .filter(|(_, c)| *c == '_')
        .map(|(i, _)| i)
        .filter(|&i| i > 0)
        .find(|&i| parse_stamp(&body[i + 1..]).is_some() && run_folder_of(name, &body[..i]).is_some())
        .map(|i| &body[..i])
}

/// The run folders of `query_id` directly under `dir`, oldest first.
pub fn run_folders_of(dir: &Path, query_id: &str) -> Vec<PathBuf> {
    let mut found: Vec<((String, u64), PathBuf)> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let key = run_folder_of(&e.file_name().to_string_lossy(), query_id)?;
            e.file_type().ok().filter(|t| t.is_dir()).map(|_| (key, e.path()))
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, p)| p).collect()
}

/// One query's run folder.
#[derive(Debug, Clone)]
pub struct RunDir {
    pub path: PathBuf,
}

impl RunDir {
    /// A new folder `q<ID>_<stamp>` under `output_dir` (suffixed `_2`, `_3` if taken).
    pub fn create(output_dir: &Path, query_id: &str, stamp: &str) -> io::Result<RunDir> {
        fs::create_dir_all(output_dir)?;
        let base = format!("q{query_id}_{stamp}");
        for n in 1.. {
            let name = if n == 1 { base.clone() } else { format!("{base}_{n}") };
            let path = output_dir.join(name);
            match fs::create_dir(&path) {
                Ok(()) => return Ok(RunDir { path }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        unreachable!("an unbounded range always yields")
    }

    /// The latest run folder of `query_id` under `output_dir` (one with a config.json), if
    /// any. Ids are matched exactly ([`run_folder_of`]): `q1_2_<stamp>` is never query 1's.
    pub fn latest(output_dir: &Path, query_id: &str) -> Option<RunDir> {
        run_folders_of(output_dir, query_id)
            .into_iter()
            .rev()
            .find(|p| p.join(CONFIG).is_file())
            .map(|path| RunDir { path })
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The folder generation `number` is written to, in a run of `total` generations.
    pub fn gen_dir(&self, number: u32, total: usize) -> PathBuf {
        self.path.join(gen_name(number, total))
    }

    /// The recorded folder of generation `number`, whatever its width (`gen_7`, `gen_07`,
    /// `gen_007`...), if it exists.
    pub fn find_gen(&self, number: u32) -> Option<PathBuf> {
        (2..=10)
            .map(|w| self.path.join(format!("gen_{number:0w$}")))
            .chain(std::iter::once(self.path.join(format!("gen_{number}"))))
            .find(|p| p.is_dir())
    }

    /// Write a file of the run folder atomically.
    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> io::Result<()> {
        atomic::write_atomic(&self.file(name), content.as_ref())
    }

    /// Generations already recorded (complete folders only: they appear by rename),
    /// keyed by number, with their validation.json.
    pub fn completed_gens(&self) -> BTreeMap<u32, serde_json::Value> {
        let mut out = BTreeMap::new();
        let Ok(entries) = fs::read_dir(&self.path) else { return out };
        for e in entries.filter_map(|e| e.ok()) {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(n) = parse_gen_name(&name) else { continue };
            let Ok(text) = fs::read_to_string(e.path().join(VALIDATION)) else { continue };
            if let Ok(v) = serde_json::from_str(&text) {
                out.insert(n, v);
            }
        }
        out
    }

    /// The generation folders (`gen_<number>`, any width), sorted by number. Only
    /// complete folders exist under that name (they appear by rename).
    pub fn gen_folder_paths(&self) -> Vec<(u32, PathBuf)> {
        let mut out: Vec<(u32, PathBuf)> = fs::read_dir(&self.path)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                Some((parse_gen_name(&name)?, e.path()))
            })
            .collect();
        out.sort();
        out
    }

    /// Append one line to results.jsonl (after the generation's folder exists); secrets
    /// are removed from its strings first.
    pub fn append_result(&self, record: &serde_json::Value) -> io::Result<()> {
        let mut f = fs::OpenOptions::new().create(true).append(true).open(self.file(RESULTS))?;
        let mut line = serde_json::to_string(&redacted(record)).map_err(io::Error::other)?;
        line.push('\n');
        f.write_all(line.as_bytes())?;
        f.sync_data()
    }

    /// Rewrite results.jsonl from the recorded generations (used on resume, so a line lost
    /// to a kill between folder rename and append is restored, and none is duplicated).
    /// Lines hold the screening record only: a full-size `confirm` stays in validation.json
    /// and confirm.jsonl.
    pub fn rewrite_results(&self, records: &BTreeMap<u32, serde_json::Value>) -> io::Result<()> {
        let mut text = String::new();
        for r in records.values() {
            let r = super::confirm::screening_only(r);
            text.push_str(&serde_json::to_string(&redacted(&r)).map_err(io::Error::other)?);
            text.push('\n');
        }
        self.write(RESULTS, text)
    }
}

/// A record with every string through `crate::redact` (error texts may quote URLs).
fn redacted(v: &serde_json::Value) -> serde_json::Value {
    let mut v = v.clone();
    crate::redact::redact_json(&mut v, &[]);
    v
}

/// The files of one finished generation. `attempts` holds (prompt, response) per attempt
/// in order; the last one is written as prompt.txt/response.txt, earlier ones as
/// prompt.1.txt/response.1.txt, ...
pub struct GenFiles<'a> {
    pub attempts: &'a [(String, Option<String>)],
    pub optimized_sql: Option<&'a str>,
    pub validation: &'a serde_json::Value,
}

impl RunDir {
    /// Write a generation folder whole (temp folder + rename); `total` is the number of
    /// generations of this run folder (it sets the folder-name width).
    pub fn write_gen(&self, number: u32, total: usize, files: &GenFiles<'_>) -> io::Result<PathBuf> {
        let mut list: Vec<(String, Vec<u8>)> = Vec::new();
        let last = files.attempts.len().saturating_sub(1);
        for (i, (prompt, response)) in files.attempts.iter().enumerate() {
            let suffix = if i == last { String::new() } else { format!(".{}", i + 1) };
            list.push((format!("prompt{suffix}.txt"), prompt.clone().into_bytes()));
            if let Some(r) = response {
                list.push((format!("response{suffix}.txt"), r.clone().into_bytes()));
            }
        }
        if let Some(sql) = files.optimized_sql {
            list.push((OPTIMIZED.into(), sql.as_bytes().to_vec()));
        }
        let json = serde_json::to_vec_pretty(&redacted(files.validation)).map_err(io::Error::other)?;
        list.push((VALIDATION.into(), json));
        let dir = self.gen_dir(number, total);
        atomic::write_dir_atomic(&dir, &list)?;
        Ok(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn gen_folders_and_results_round_trip() {
        let t = tempfile::tempdir().unwrap();
        let run = RunDir::create(t.path(), "1", "20261126_090000").unwrap();
        let v = json!({"worker_id": 2, "status": "pass"});
        let attempts = vec![("p1".to_string(), Some("r1".to_string())), ("p2".into(), None)];
        run.write_gen(2, 20, &GenFiles { attempts: &attempts, optimized_sql: Some("select 1"), validation: &v })
            .unwrap();
        let g = run.gen_dir(2, 20);
        assert!(g.ends_with("gen_02"));
        assert_eq!(run.find_gen(2), Some(g.clone()));
        assert_eq!(fs::read_to_string(g.join("prompt.1.txt")).unwrap(), "p1");
        assert_eq!(fs::read_to_string(g.join("response.1.txt")).unwrap(), "r1");
        assert_eq!(fs::read_to_string(g.join("prompt.txt")).unwrap(), "p2");
        assert!(!g.join("response.txt").exists());
        let done = run.completed_gens();
        assert_eq!(done.keys().copied().collect::<Vec<_>>(), vec![2]);
        run.append_result(&v).unwrap();
        run.rewrite_results(&done).unwrap();
        assert_eq!(fs::read_to_string(run.file(RESULTS)).unwrap().lines().count(), 1);
    }

    #[test]
    fn gen_names_keep_two_digits_up_to_99_then_one_width() {
        assert_eq!(gen_name(7, 20), "gen_07");
        assert_eq!(gen_name(99, 99), "gen_99");
        assert_eq!(gen_name(1, 100), "gen_001");
        assert_eq!(gen_name(120, 120), "gen_120");
        assert_eq!(gen_name(5, 100_000), "gen_000005");
        let mut names: Vec<String> = (1..=120).map(|n| gen_name(n, 120)).collect();
        let ordered = names.clone();
        names.sort();
        assert_eq!(names, ordered, "lexical order is numeric order");
        for (name, n) in [("gen_07", Some(7)), ("gen_007", Some(7)), ("gen_120", Some(120)), ("gen_", None), ("gen_1a", None), (".tmp-gen_01-3", None)] {
            assert_eq!(parse_gen_name(name), n, "{name}");
        }
    }

    #[test]
    fn readers_accept_both_widths() {
        let t = tempfile::tempdir().unwrap();
        let run = RunDir::create(t.path(), "1", "20261126_090000").unwrap();
        let v = json!({"status": "pass"});
        let files = GenFiles { attempts: &[], optimized_sql: None, validation: &v };
        run.write_gen(3, 20, &files).unwrap();
        run.write_gen(101, 120, &files).unwrap();
        assert!(run.path.join("gen_03").is_dir() && run.path.join("gen_101").is_dir());
        assert_eq!(run.completed_gens().keys().copied().collect::<Vec<_>>(), vec![3, 101]);
        assert_eq!(run.find_gen(3), Some(run.path.join("gen_03")));
        assert_eq!(run.find_gen(101), Some(run.path.join("gen_101")));
        assert_eq!(run.find_gen(4), None);
    }

    #[test]
    fn run_folders_match_ids_exactly() {
        let t = tempfile::tempdir().unwrap();
        let mk = |name: &str| {
            let p = t.path().join(name);
            fs::create_dir(&p).unwrap();
            fs::write(p.join(CONFIG), "{}").unwrap();
            p
        };
        let q1 = mk("q1_20261126_090000");
        let q1_later = mk("q1_20261126_090000_2");
        let q1_tenth = mk("q1_20261126_090000_10");
        mk("q1_2_20261127_090000");
        mk("q1_2_3_20261128_090000");
        mk("q12_20261129_090000");
        mk("qa_1_20261130_090000");
        mk("qa_20261101_090000");
        mk("q1_x_20261201_090000");
        mk("q1_20261202");
        // Ids that prefix each other, ids with `_`, ids with digits after `_`.
        assert_eq!(RunDir::latest(t.path(), "1").unwrap().path, q1_tenth);
        assert_eq!(run_folders_of(t.path(), "1"), vec![q1.clone(), q1_later, q1_tenth]);
        assert!(RunDir::latest(t.path(), "1_2").unwrap().path.ends_with("q1_2_20261127_090000"));
        assert!(RunDir::latest(t.path(), "1_2_3").unwrap().path.ends_with("q1_2_3_20261128_090000"));
        assert!(RunDir::latest(t.path(), "a").unwrap().path.ends_with("qa_20261101_090000"));
        assert!(RunDir::latest(t.path(), "a_1").unwrap().path.ends_with("qa_1_20261130_090000"));
        assert!(RunDir::latest(t.path(), "2").is_none());
        for (name, id) in [
            ("q1_20261126_090000", Some("1")),
            ("q1_20261126_090000_2", Some("1")),
            ("q1_2_20261127_090000", Some("1_2")),
            ("q1_2_3_20261128_090000_4", Some("1_2_3")),
            ("q23a_20261126_090000", Some("23a")),
            ("q1_20261202", None),
            ("q_20261126_090000", None),
            ("gen_01", None),
            ("q1_20261126_0900001", None),
        ] {
            assert_eq!(run_folder_query(name), id, "{name}");
        }
    }

    #[test]
    fn latest_ignores_folders_without_config() {
        let t = tempfile::tempdir().unwrap();
        let a = RunDir::create(t.path(), "1", "20261126_090000").unwrap();
        a.write(CONFIG, "{}").unwrap();
        RunDir::create(t.path(), "1", "20261126_100000").unwrap();
        RunDir::create(t.path(), "12", "20261126_110000").unwrap().write(CONFIG, "{}").unwrap();
        assert_eq!(RunDir::latest(t.path(), "1").unwrap().path, a.path);
    }
}
