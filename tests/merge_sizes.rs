//! Sizes and duplicates a merge must not trust (issue 21): `--shard 1/4000000000` or a
//! shard.json with `total`/`workers` = 4e9 aborted on a 64 GB allocation (exit 134), and
//! two folders for one generation (`gen_02` beside `gen_002`) were merged from different
//! sources. Now N above 100,000 is refused at parse, shard.json numbers are range-checked
//! naming the file, and duplicate generation folders are refused naming both (exit 2).

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

fn clean(mut c: assert_cmd::Command) -> assert_cmd::Command {
    c.env_remove("JOB_COMPLETION_INDEX").env_remove("SLURM_ARRAY_TASK_ID");
    c
}

fn merge(sweep: &Path) -> (Option<i32>, String) {
    let out = clean(qt()).args(["merge"]).arg(sweep).output().unwrap();
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn shard_counts_are_bounded_at_parse() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "sizes.toml", &offline_spec(dir.path(), "sizes", &["@REPO@/queries/demo/demo1.sql"]));
    for (cmd, flag) in [("run", "1/4000000000"), ("run", "auto/100001"), ("plan", "1/200000")] {
        let out = clean(qt()).args([cmd, spec.to_str().unwrap(), "--shard", flag]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd} --shard {flag}: {err}");
        assert!(err.contains(flag) && err.contains("100000"), "{cmd} --shard {flag} names the value and the bound: {err}");
    }
    assert!(!dir.path().join("out").exists(), "nothing written on bad input");
}

#[test]
fn merge_range_checks_shard_json_and_refuses_duplicate_generation_folders() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "sizes.toml", &offline_spec(dir.path(), "sizes", &["@REPO@/queries/demo/demo1.sql"]));
    let out = clean(qt()).args(["run", spec.to_str().unwrap(), "--shard", "1/2", "--no-validate", "--quiet"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let sweep = dir.path().join("out/sizes");
    let shard = sweep.join("shards/1-of-2");
    let (code, text) = merge(&sweep);
    assert_eq!(code, Some(1), "as written: only shard 2 is missing: {text}");

    let sj = shard.join("shard.json");
    let saved = std::fs::read_to_string(&sj).unwrap();
    let original: Value = serde_json::from_str(&saved).unwrap();
    let edits: Vec<(&str, Box<dyn Fn(&mut Value)>)> = vec![
        ("total", Box::new(|v| v["total"] = 4_000_000_000u64.into())),
        ("shard", Box::new(|v| v["shard"] = 0.into())),
        ("shard", Box::new(|v| v["shard"] = 3.into())),
        ("workers", Box::new(|v| v["matrix"]["arms"][0]["workers"] = 4_000_000_000u64.into())),
        ("workers", Box::new(|v| v["matrix"]["arms"][0]["workers"] = 0.into())),
    ];
    for (what, edit) in edits {
        let mut v = original.clone();
        edit(&mut v);
        std::fs::write(&sj, v.to_string()).unwrap();
        let (code, text) = merge(&sweep);
        assert_eq!(code, Some(2), "{what}: {text}");
        assert!(text.contains(&sj.display().to_string()) && text.contains(what), "{what}: the file and the field are named: {text}");
    }
    std::fs::write(&sj, &saved).unwrap();

    // gen_001 beside gen_01: two folders for one generation.
    let run = sorted_entries(&shard, |p| p.is_dir()).into_iter().next().expect("a run folder");
    let gen1 = gen_dirs(&run).into_iter().next().expect("a generation");
    let name = gen1.file_name().unwrap().to_string_lossy().to_string();
    let twin = run.join(name.replacen("gen_", "gen_0", 1));
    let st = std::process::Command::new("cp").arg("-r").arg(&gen1).arg(&twin).status().unwrap();
    assert!(st.success());
    let (code, text) = merge(&sweep);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains(&gen1.display().to_string()) && text.contains(&twin.display().to_string()), "both folders named: {text}");
    std::fs::remove_dir_all(&twin).unwrap();
    let (code, text) = merge(&sweep);
    assert_eq!(code, Some(1), "restored: {text}");
}
