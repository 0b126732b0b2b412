//! Where an earlier run's answers are, for the replay provider (llm/ asks through its
//! [`RecordedRuns`] trait and never imports record/): the latest `q{Q}_<stamp>/` folder,
//! then `q{Q}/`, each holding `gen_NN/response.txt` (and `response.{A+1}.txt` for earlier
//! attempts, as the recorder names them).

use std::path::{Path, PathBuf};

use super::RunDir;
use crate::llm::RecordedRuns;

/// The output tree's layout, as the replay provider needs it.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecordedLayout;

impl RecordedRuns for RecordedLayout {
    fn answer_paths(&self, root: &Path, q: &str, worker: u32, attempt: u32) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for run in run_dirs(root, q) {
            // Any folder width (gen_07, gen_007 in runs of more than 99 generations).
            let rd = RunDir { path: run.clone() };
            let gen_dir = rd.find_gen(worker).unwrap_or_else(|| run.join(format!("gen_{worker:02}")));
            if attempt > 0 || gen_dir.join("response.1.txt").is_file() {
                out.push(gen_dir.join(format!("response.{}.txt", attempt + 1)));
            }
            out.push(gen_dir.join(super::layout::RESPONSE));
        }
        out
    }

    fn all_answers(&self, root: &Path, q: &str) -> Vec<PathBuf> {
        for run in run_dirs(root, q) {
            let mut gens: Vec<PathBuf> = RunDir { path: run }
                .gen_folder_paths()
                .into_iter()
                .map(|(_, g)| g.join(super::layout::RESPONSE))
                .filter(|p| p.is_file())
                .collect();
            gens.sort();
            if !gens.is_empty() {
                return gens;
            }
        }
        Vec::new()
    }

    fn place(&self, path: &Path) -> Option<(String, u32)> {
        let name = |p: Option<&Path>| p.and_then(Path::file_name).map(|n| n.to_string_lossy().into_owned());
        let file = name(Some(path))?;
        let worker = super::layout::parse_gen_name(&name(path.parent())?)?;
        let run = name(path.parent().and_then(Path::parent))?;
        // `q{Q}_<stamp>` (a run folder) or `q{Q}` (answers laid out the same way by hand).
        let q = match super::layout::run_folder_query(&run) {
            Some(q) => q,
            None => run.strip_prefix('q')?,
        };
        (file.starts_with("response") && !q.is_empty()).then(|| (q.to_string(), worker))
    }
}

/// Run folders for the query: the latest `q{Q}_<timestamp>` first (ids matched exactly,
/// `layout::run_folders_of`), then `q{Q}`.
pub fn run_dirs(root: &Path, q: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = super::layout::run_folders_of(root, q).pop().into_iter().collect();
    let plain = root.join(format!("q{q}"));
    if plain.is_dir() {
        out.push(plain);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_recorded_answers() {
        let p = |s: &str| RecordedLayout.place(Path::new(s));
        assert_eq!(p("r/q1_20250101_120000/gen_03/response.txt"), Some(("1".into(), 3)));
        assert_eq!(p("r/q1_20250101_120000/gen_003/response.2.txt"), Some(("1".into(), 3)));
        assert_eq!(p("r/q1_20250101_120000/gen_03/prompt.txt"), None);
        assert_eq!(p("r/q5/gen_07/response.txt"), Some(("5".into(), 7)));
        assert_eq!(p("r/q23a/w02.txt"), None);
        assert_eq!(p("r/q1_2_20250101_120000/gen_03/response.txt"), Some(("1_2".into(), 3)));
        assert_eq!(p("r/q1_2/gen_03/response.txt"), Some(("1_2".into(), 3)));
    }

    #[test]
    fn an_earlier_run_is_found_by_its_exact_id() {
        let t = tempfile::tempdir().unwrap();
        for name in ["q1_20250101_120000", "q1_2_20250102_120000", "q1_23_20250103_120000"] {
            std::fs::create_dir_all(t.path().join(name).join("gen_01")).unwrap();
            std::fs::write(t.path().join(name).join("gen_01/response.txt"), name).unwrap();
        }
        let paths = RecordedLayout.answer_paths(t.path(), "1", 1, 0);
        assert!(paths[0].starts_with(t.path().join("q1_20250101_120000")), "{paths:?}");
        let all = RecordedLayout.all_answers(t.path(), "1_2");
        assert_eq!(all, vec![t.path().join("q1_2_20250102_120000/gen_01/response.txt")]);
    }
}
