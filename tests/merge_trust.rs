//! `qt merge` trusts nothing it reads (issue 21): a symbolic link anywhere in a shard is
//! refused, naming it (never copied into the merged tree and its report); a run folder
//! whose config.json cannot be read is refused (its spec cannot be checked); the "run
//! this" hints quote the spec path for the shell; temporary folders of killed merges are
//! removed at the next start.

mod common;
use common::*;
use std::path::Path;

fn merge(sweep: &Path) -> (Option<i32>, String) {
    let out = qt().args(["merge"]).arg(sweep).env_remove("JOB_COMPLETION_INDEX").env_remove("SLURM_ARRAY_TASK_ID").output().unwrap();
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn merge_refuses_links_and_unreadable_configs_quotes_hints_and_cleans_dead_temps() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "my spec $(touch pwned).toml", &offline_spec(dir.path(), "trust", &["@REPO@/queries/demo/demo1.sql"]));
    let out = qt()
        .args(["run", spec.to_str().unwrap(), "--shard", "1/2", "--no-validate", "--quiet"])
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let sweep = dir.path().join("out/trust");
    let shard = sweep.join("shards/1-of-2");
    let run = sorted_entries(&shard, |p| p.is_dir()).into_iter().next().expect("a run folder");
    let gen1 = gen_dirs(&run).into_iter().next().expect("a generation");

    // A leftover of a killed merge (a PID that cannot be alive) is removed.
    let dead = sweep.join(".tmp-merged-2147483646");
    std::fs::create_dir_all(dead.join("q1")).unwrap();
    // Shard 2 is missing: exit 1, and the hint quotes the spec path for the shell.
    let (code, text) = merge(&sweep);
    assert_eq!(code, Some(1), "{text}");
    let quoted = format!("qt run '{}' --shard 2/2", spec.display());
    assert!(text.contains(&quoted), "hint quoted: {text}");
    assert!(!dead.exists(), "the dead merge's temp folder is removed: {text}");

    // A file replaced by a link to a file outside: refused, naming the link; nothing copied.
    let prompt = gen1.join("prompt.txt");
    let saved = std::fs::read(&prompt).unwrap();
    std::fs::remove_file(&prompt).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", &prompt).unwrap();
    let (code, text) = merge(&sweep);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("prompt.txt") && text.contains("symbolic link"), "{text}");
    std::fs::remove_file(&prompt).unwrap();
    std::fs::write(&prompt, &saved).unwrap();

    // A gen1 folder that is a link: refused too.
    let elsewhere = dir.path().join("elsewhere");
    std::fs::rename(&gen1, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &gen1).unwrap();
    let (code, text) = merge(&sweep);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains(&gen1.file_name().unwrap().to_string_lossy().to_string()) && text.contains("symbolic link"), "{text}");
    std::fs::remove_file(&gen1).unwrap();
    std::fs::rename(&elsewhere, &gen1).unwrap();

    // A config.json that does not parse: refused (its spec cannot be checked).
    let cfg = run.join("config.json");
    let saved = std::fs::read(&cfg).unwrap();
    std::fs::write(&cfg, b"{ not json").unwrap();
    let (code, text) = merge(&sweep);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("config.json") && text.contains("cannot read"), "{text}");
    std::fs::write(&cfg, &saved).unwrap();

    let (code, text) = merge(&sweep);
    assert_eq!(code, Some(1), "restored: only shard 2 is missing: {text}");
    assert!(!dir.path().join("pwned").exists());
}
