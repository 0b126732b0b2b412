//! Paths inside an experiment's output tree:
//! `<root>/<name>/q<ID>_<YYYYmmdd_HHMMSS>/{config.json, gen_NN/, ...}`.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::atomic;

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

    /// The latest run folder of `query_id` under `output_dir`, if any.
    pub fn latest(output_dir: &Path, query_id: &str) -> Option<RunDir> {
        let prefix = format!("q{query_id}_");
        let mut found: Vec<PathBuf> = fs::read_dir(output_dir)
            .ok()?
            .filter_map(|e| e.ok())
            .filter(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.starts_with(&prefix)
                    && n[prefix.len()..].starts_with(|c: char| c.is_ascii_digit())
                    && e.path().join(CONFIG).exists()
            })
            .map(|e| e.path())
            .collect();
        found.sort();
        found.pop().map(|path| RunDir { path })
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    pub fn gen_name(number: u32) -> String {
        format!("gen_{number:02}")
    }

    pub fn gen_dir(&self, number: u32) -> PathBuf {
        self.path.join(Self::gen_name(number))
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
            let Some(n) = name.strip_prefix("gen_").and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
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
                let n = name.strip_prefix("gen_")?.parse::<u32>().ok()?;
                Some((n, e.path()))
            })
            .collect();
        out.sort();
        out
    }

    /// Append one line to results.jsonl (after the generation's folder exists).
    pub fn append_result(&self, record: &serde_json::Value) -> io::Result<()> {
        let mut f = fs::OpenOptions::new().create(true).append(true).open(self.file(RESULTS))?;
        let mut line = serde_json::to_string(record).map_err(io::Error::other)?;
        line.push('\n');
        f.write_all(line.as_bytes())?;
        f.sync_data()
    }

    /// Rewrite results.jsonl from the recorded generations (used on resume, so a line lost
    /// to a kill between folder rename and append is restored, and none is duplicated).
    pub fn rewrite_results(&self, records: &BTreeMap<u32, serde_json::Value>) -> io::Result<()> {
        let mut text = String::new();
        for r in records.values() {
            text.push_str(&serde_json::to_string(r).map_err(io::Error::other)?);
            text.push('\n');
        }
        self.write(RESULTS, text)
    }
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
    /// Write a generation folder whole (temp folder + rename).
    pub fn write_gen(&self, number: u32, files: &GenFiles<'_>) -> io::Result<PathBuf> {
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
        let json = serde_json::to_vec_pretty(files.validation).map_err(io::Error::other)?;
        list.push((VALIDATION.into(), json));
        let dir = self.gen_dir(number);
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
        run.write_gen(2, &GenFiles { attempts: &attempts, optimized_sql: Some("select 1"), validation: &v })
            .unwrap();
        let g = run.gen_dir(2);
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
    fn latest_ignores_folders_without_config() {
        let t = tempfile::tempdir().unwrap();
        let a = RunDir::create(t.path(), "1", "20261126_090000").unwrap();
        a.write(CONFIG, "{}").unwrap();
        RunDir::create(t.path(), "1", "20261126_100000").unwrap();
        RunDir::create(t.path(), "12", "20261126_110000").unwrap().write(CONFIG, "{}").unwrap();
        assert_eq!(RunDir::latest(t.path(), "1").unwrap().path, a.path);
    }
}
