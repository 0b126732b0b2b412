//! The replay provider: answers from files, no network — for offline demos and for
//! re-validating the answers of an earlier run.
//!
//! `llm.responses` is a folder or a glob. For (query Q, worker NN = two-digit worker,
//! attempt A) a folder is searched in this order:
//! 1. an earlier run's tree: `q{Q}_<timestamp>/gen_{NN}/` (latest timestamp) or
//!    `q{Q}/gen_{NN}/`, file `response.{A+1}.txt` (an earlier attempt, as the recorder
//!    names them) else `response.txt`;
//! 2. `q{Q}/w{NN}.txt`; 3. `q{Q}/{NN}.txt`; 4. `q{Q}_w{NN}.txt`.
//!
//! If none exists but the query has some files, worker k gets `files[(k-1) % n]` of its
//! sorted files, and `source` says so. Folders matched by a glob are searched the same
//! way; files matched by a glob are placed by their names (same layouts). Not here: any
//! check of the content beyond "not empty" (done by the client).

use super::{ChatRequest, LlmError, LlmResponse};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Where earlier runs recorded their answers. record/ owns that layout and implements
/// this (`record::answers`); the caller hands it in through `ClientOptions`, so llm/ never
/// imports record/. Without it, only replay's own file layouts are searched.
pub trait RecordedRuns: Send + Sync {
    /// Answer files of (query, worker, 0-based attempt) in the earlier runs under `root`,
    /// in lookup order; they need not exist.
    fn answer_paths(&self, root: &Path, query: &str, worker: u32, attempt: u32) -> Vec<PathBuf>;
    /// Every answer recorded for `query` under `root` (the files workers cycle through
    /// when there are fewer answers than workers), sorted; empty if none.
    fn all_answers(&self, root: &Path, query: &str) -> Vec<PathBuf>;
    /// (query, worker) of a glob-matched file that is a recorded answer
    /// (`q{Q}_<stamp>/gen_NN/response.txt`), None for any other file.
    fn place(&self, path: &Path) -> Option<(String, u32)>;
}

pub(crate) struct Replay {
    spec: String,
    roots: Vec<PathBuf>,
    files: Vec<PathBuf>,
    recorded: Option<Arc<dyn RecordedRuns>>,
}

/// A found file and how it was chosen.
struct Found {
    path: PathBuf,
    note: Option<String>,
}

impl Replay {
    pub(crate) fn new(spec: &str, recorded: Option<Arc<dyn RecordedRuns>>) -> Result<Self, LlmError> {
        let bad = |m: String| Err(LlmError::BadConfig(m));
        if Path::new(spec).is_dir() {
            return Ok(Self { spec: spec.into(), roots: vec![spec.into()], files: vec![], recorded });
        }
        if !spec.contains(['*', '?', '[']) {
            return bad(format!(
                "llm.responses {spec:?} is not a folder; give a folder of response files, an \
                 earlier run's output folder, or a glob like \"answers/q*/*.txt\""
            ));
        }
        let entries = match glob::glob(spec) {
            Ok(paths) => paths.filter_map(Result::ok).collect::<Vec<_>>(),
            Err(e) => return bad(format!("llm.responses {spec:?} is not a valid glob: {e}")),
        };
        let (roots, mut files): (Vec<_>, Vec<_>) = entries.into_iter().partition(|p| p.is_dir());
        files.sort();
        if roots.is_empty() && files.is_empty() {
            return bad(format!("llm.responses glob {spec:?} matches nothing; check the pattern"));
        }
        Ok(Self { spec: spec.into(), roots, files, recorded })
    }

    pub(crate) fn describe(&self) -> &str {
        &self.spec
    }

    pub(crate) async fn answer(&self, req: &ChatRequest) -> Result<LlmResponse, LlmError> {
        let started = Instant::now();
        let q = normalize_query(&req.query_id);
        let (roots, files, recorded) = (self.roots.clone(), self.files.clone(), self.recorded.clone());
        let (worker, attempt, spec) = (req.worker, req.attempt, self.spec.clone());
        let found = tokio::task::spawn_blocking(move || {
            find(recorded.as_deref(), &roots, &files, &q, worker, attempt).map_err(|tried| {
                LlmError::Replay(format!(
                    "replay: no response for query {q}, worker {worker} in {spec}; tried {}. \
                     Put the answer in one of these files, or point llm.responses at an \
                     earlier run's output folder",
                    tried.join(", ")
                ))
            })
        })
        .await
        .map_err(|e| LlmError::Replay(format!("replay lookup failed: {e}")))??;
        let content = tokio::fs::read_to_string(&found.path).await.map_err(|e| {
            LlmError::Replay(format!(
                "replay: cannot read {} ({e}); check the file's permissions and encoding (UTF-8)",
                found.path.display()
            ))
        })?;
        let source = match found.note {
            Some(note) => format!("{} ({note})", found.path.display()),
            None => found.path.display().to_string(),
        };
        Ok(LlmResponse {
            content,
            finish_reason: Some("stop".into()),
            model: "replay".into(),
            prompt_tokens: 0,
            completion_tokens: 0,
            prompt_cache_hit_tokens: 0,
            usage_reported: true,
            latency_s: started.elapsed().as_secs_f64(),
            cached: false,
            attempts: Vec::new(),
            source: Some(source),
            warnings: Vec::new(),
        })
    }
}

/// "q7" and "7" name the same query.
fn normalize_query(id: &str) -> String {
    let id = id.trim();
    match id.strip_prefix(['q', 'Q']) {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest.to_string(),
        _ => id.to_string(),
    }
}

/// Exact file, else the query's files cycled; Err lists the paths tried.
fn find(
    recorded: Option<&dyn RecordedRuns>,
    roots: &[PathBuf],
    files: &[PathBuf],
    q: &str,
    worker: u32,
    attempt: u32,
) -> Result<Found, Vec<String>> {
    let mut tried = Vec::new();
    for root in roots {
        for path in exact_candidates(recorded, root, q, worker, attempt) {
            if path.is_file() {
                return Ok(Found { path, note: None });
            }
            tried.push(path.display().to_string());
        }
    }
    let globbed: Vec<&PathBuf> = files.iter().filter(|f| place(recorded, f).0.as_deref() == Some(q)).collect();
    // By number, so `gen_007` (a run of more than 99 generations) matches worker 7.
    if let Some(f) = globbed.iter().find(|f| place(recorded, f).1.and_then(|n| n.parse::<u32>().ok()) == Some(worker)) {
        return Ok(Found { path: f.to_path_buf(), note: None });
    }
    let mut pool: Vec<PathBuf> = globbed.into_iter().cloned().collect();
    if pool.is_empty() {
        pool = roots.iter().map(|r| query_files(recorded, r, q)).find(|v| !v.is_empty()).unwrap_or_default();
    }
    if pool.is_empty() {
        if !files.is_empty() {
            tried.push(format!("{} glob-matched files (none for query {q})", files.len()));
        }
        return Err(tried);
    }
    let i = (worker.saturating_sub(1) as usize) % pool.len();
    let note = format!("cycled: worker {worker} -> file {} of {} for query {q}", i + 1, pool.len());
    Ok(Found { path: pool[i].clone(), note: Some(note) })
}

/// The layouts, in lookup order: an earlier run's tree (as record/ lays it out), then
/// replay's own file layouts.
fn exact_candidates(recorded: Option<&dyn RecordedRuns>, root: &Path, q: &str, worker: u32, attempt: u32) -> Vec<PathBuf> {
    let mut out = recorded.map(|r| r.answer_paths(root, q, worker, attempt)).unwrap_or_default();
    let nn = format!("{worker:02}");
    let qdir = root.join(format!("q{q}"));
    out.push(qdir.join(format!("w{nn}.txt")));
    out.push(qdir.join(format!("{nn}.txt")));
    out.push(root.join(format!("q{q}_w{nn}.txt")));
    out
}

/// All of a query's answer files under a folder, sorted (for cycling): an earlier run's
/// recorded answers, else the `.txt` files of `q{Q}/`, else `q{Q}_*.txt`.
fn query_files(recorded: Option<&dyn RecordedRuns>, root: &Path, q: &str) -> Vec<PathBuf> {
    let sorted_txt = |dir: &Path| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "txt"))
            .collect();
        v.sort();
        v
    };
    let answers = recorded.map(|r| r.all_answers(root, q)).unwrap_or_default();
    if !answers.is_empty() {
        return answers;
    }
    let txt = sorted_txt(&root.join(format!("q{q}")));
    if !txt.is_empty() {
        return txt;
    }
    // `q{Q}_w{NN}.txt` exactly: `q1_2_w01.txt` is query 1_2's, not query 1's.
    sorted_txt(root)
        .into_iter()
        .filter(|p| flat_place(&p.file_stem().unwrap_or_default().to_string_lossy()).is_some_and(|(fq, _)| fq == q))
        .collect()
}

/// `q{Q}_w{NN}` -> (Q, NN).
fn flat_place(stem: &str) -> Option<(&str, &str)> {
    let (q, nn) = stem.strip_prefix('q')?.rsplit_once("_w")?;
    (!q.is_empty() && !nn.is_empty() && nn.bytes().all(|b| b.is_ascii_digit())).then_some((q, nn))
}

/// (query, worker NN) a glob-matched file stands for, from its name and parents: a
/// recorded answer (as `recorded` places it), `q{Q}_w{NN}.txt`, or `q{Q}/w{NN}.txt`.
fn place(recorded: Option<&dyn RecordedRuns>, path: &Path) -> (Option<String>, Option<String>) {
    if let Some((q, worker)) = recorded.and_then(|r| r.place(path)) {
        return (Some(q), Some(worker.to_string()));
    }
    let name = |p: Option<&Path>| p.and_then(Path::file_name).map(|n| n.to_string_lossy().into_owned());
    let file = name(Some(path)).unwrap_or_default();
    let parent = name(path.parent());
    // `q{Q}/`: the whole folder name after `q` is the id (run folders with a stamp are
    // placed by `recorded`, which knows their names exactly).
    let query_of_dir = |d: &str| -> Option<String> { d.strip_prefix('q').filter(|q| !q.is_empty()).map(str::to_string) };
    let stem = file.strip_suffix(".txt").unwrap_or(&file);
    if let Some((q, nn)) = flat_place(stem) {
        return (Some(q.to_string()), Some(nn.to_string()));
    }
    if let Some(q) = parent.as_deref().and_then(query_of_dir) {
        let nn = stem.strip_prefix('w').unwrap_or(stem);
        let nn = nn.chars().all(|c| c.is_ascii_digit()).then(|| nn.to_string());
        return (Some(q), nn);
    }
    (None, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_glob_files() {
        let p = |s: &str| place(None, Path::new(s));
        assert_eq!(p("r/q23a/w02.txt"), (Some("23a".into()), Some("02".into())));
        assert_eq!(p("r/q5/07.txt"), (Some("5".into()), Some("07".into())));
        assert_eq!(p("r/q5_w04.txt"), (Some("5".into()), Some("04".into())));
        assert_eq!(p("r/q5/answer.txt"), (Some("5".into()), None));
        assert_eq!(p("r/other.txt"), (None, None));
        // Ids that prefix each other stay apart.
        assert_eq!(p("r/q1_2/w02.txt"), (Some("1_2".into()), Some("02".into())));
        assert_eq!(p("r/q1_2_w04.txt"), (Some("1_2".into()), Some("04".into())));
    }

    #[test]
    fn flat_answers_are_found_by_their_exact_id() {
        let t = tempfile::tempdir().unwrap();
        for f in ["q1_w01.txt", "q1_2_w01.txt", "q12_w01.txt"] {
            std::fs::write(t.path().join(f), f).unwrap();
        }
        assert_eq!(query_files(None, t.path(), "1"), vec![t.path().join("q1_w01.txt")]);
        assert_eq!(query_files(None, t.path(), "1_2"), vec![t.path().join("q1_2_w01.txt")]);
    }

    #[test]
    fn query_ids() {
        assert_eq!(normalize_query("q7"), "7");
        assert_eq!(normalize_query("23a"), "23a");
        assert_eq!(normalize_query("query"), "query");
    }
}
