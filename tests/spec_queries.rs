//! Query selection on real folders: every file-name pattern, globs, dedup, errors, and
//! (when present) the real TPC-DS folder.

mod common;

use qt::query::{self, QueryError};
use qt::spec::QueryId;
use std::fs;
use std::path::PathBuf;

fn n(x: u32) -> QueryId {
    QueryId::Number(x)
}
fn t(s: &str) -> QueryId {
    QueryId::Text(s.into())
}

/// One file per naming pattern: ids 1..5 each found through a different pattern.
fn patterns_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (file, sql) in [
        ("query_1.sql", "SELECT 1"),
        ("query02.sql", "SELECT 2"),
        ("query3.sql", "SELECT 3"),
        ("q4.sql", "SELECT 4"),
        ("5.sql", "SELECT 5"),
        ("query_23a.sql", "SELECT 23"),
        ("empty_9.sql", ""),
    ] {
        fs::write(dir.path().join(file), sql).unwrap();
    }
    dir
}

#[test]
fn each_naming_pattern_is_found() {
    let dir = patterns_dir();
    let qs = query::by_ids(dir.path(), &[t("1..5"), t("23a")]).unwrap();
    let got: Vec<(&str, String)> = qs
        .iter()
        .map(|q| {
            (
                q.id.as_str(),
                q.path.file_name().unwrap().to_string_lossy().into_owned(),
            )
        })
        .collect();
    let want = [
        ("1", "query_1.sql"),
        ("2", "query02.sql"),
        ("3", "query3.sql"),
        ("4", "q4.sql"),
        ("5", "5.sql"),
        ("23a", "query_23a.sql"),
    ];
    assert_eq!(got, want.map(|(a, b)| (a, b.to_string())));
    assert_eq!(qs[3].sql, "SELECT 4");
}

#[test]
fn first_pattern_wins_when_several_exist() {
    let dir = patterns_dir();
    fs::write(dir.path().join("q1.sql"), "SELECT 'other'").unwrap();
    let qs = query::by_ids(dir.path(), &[n(1)]).unwrap();
    assert!(qs[0].path.ends_with("query_1.sql"));
}

#[test]
fn missing_id_lists_the_folder() {
    let dir = patterns_dir();
    let err = query::by_ids(dir.path(), &[n(8)]).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, QueryError::NotFound { .. }));
    assert!(
        msg.contains("query 8 not found") && msg.contains("folder has 7 .sql files"),
        "{msg}"
    );
    assert!(msg.contains("ids look like 1..5, 23a, empty_9"), "{msg}");
}

#[test]
fn empty_file_and_missing_folder_are_errors() {
    let dir = patterns_dir();
    let err = query::by_globs(dir.path(), &["empty_*.sql".into()]).unwrap_err();
    assert!(err.to_string().contains("empty_9.sql is empty"), "{err}");
    let err = query::by_ids(&dir.path().join("nope"), &[n(1)]).unwrap_err();
    assert!(matches!(err, QueryError::DirMissing { .. }), "{err}");
}

#[test]
fn globs_are_sorted_and_ids_come_from_stems() {
    let dir = patterns_dir();
    let qs = query::by_globs(dir.path(), &["q*.sql".into()]).unwrap();
    let ids: Vec<&str> = qs.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(ids, ["4", "02", "3", "1", "23a"]);
    let err = query::by_globs(dir.path(), &["nothing*.sql".into()]).unwrap_err();
    assert!(matches!(err, QueryError::NoMatch { .. }), "{err}");
}

#[test]
fn select_dedups_by_file_and_rejects_id_clashes() {
    let dir = patterns_dir();
    let base = dir.path();
    let qs = query::select(Some(base), &[n(1), n(3)], base, &["query_1.sql".into()]).unwrap();
    assert_eq!(
        qs.iter().map(|q| q.id.as_str()).collect::<Vec<_>>(),
        ["1", "3"]
    );
    fs::create_dir(base.join("other")).unwrap();
    fs::write(base.join("other/query_1.sql"), "SELECT 'x'").unwrap();
    let err = query::select(Some(base), &[n(1)], base, &["other/*.sql".into()]).unwrap_err();
    assert!(matches!(err, QueryError::DuplicateId { .. }), "{err}");
    assert!(matches!(
        query::select(None, &[], base, &[]),
        Err(QueryError::Nothing)
    ));
}

fn tpcds_dir() -> Option<PathBuf> {
    common::tpcds_queries()
}

#[test]
fn real_tpcds_folder_resolves_all_ids() {
    let Some(dir) = tpcds_dir() else {
        println!(
            "skipped: TPC-DS queries not found at $QT_TPCDS_QUERIES or ../shared/tpcds/queries"
        );
        return;
    };
    let qs = query::by_ids(&dir, &[t("1..99"), t("23a")]).unwrap();
    assert_eq!(qs.len(), 100);
    assert_eq!(qs[98].id, "99");
    assert_eq!(qs[99].id, "23a");
    assert!(qs.iter().all(|q| !q.sql.trim().is_empty()));
    let msg = query::by_ids(&dir, &[n(100)]).unwrap_err().to_string();
    assert!(msg.contains("ids look like 1..99"), "{msg}");
}

#[test]
fn query_file_names_with_control_characters_are_refused_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("q\u{1b}[31m1.sql"), "SELECT 1").unwrap();
    fs::write(dir.path().join("q2\nx.sql"), "SELECT 2").unwrap();
    for pattern in ["q*1.sql", "q2*.sql"] {
        let err = query::by_globs(dir.path(), &[pattern.into()]).unwrap_err();
        assert!(matches!(err, QueryError::ControlChars { .. }), "{err}");
        let msg = err.to_string();
        assert!(!msg.chars().any(char::is_control), "no raw control character in {msg:?}");
        assert!(msg.contains("\\u{1b}[31m1.sql") || msg.contains("2\\nx.sql"), "{msg}");
    }
}

#[cfg(unix)]
#[test]
fn query_files_linked_outside_their_folder_are_refused_inside_are_fine() {
    use std::os::unix::fs::symlink;
    let root = tempfile::tempdir().unwrap();
    let queries = root.path().join("queries");
    fs::create_dir_all(queries.join("sub")).unwrap();
    fs::write(root.path().join("secret.sql"), "SELECT 'outside'").unwrap();
    fs::write(queries.join("sub/real.sql"), "SELECT 'inside'").unwrap();
    symlink(root.path().join("secret.sql"), queries.join("q1.sql")).unwrap();
    symlink(queries.join("sub/real.sql"), queries.join("q2.sql")).unwrap();
    // By id and by glob: the link out is refused naming link and target.
    for err in [
        query::by_ids(&queries, &[n(1)]).unwrap_err(),
        query::by_globs(root.path(), &["queries/q1.sql".into()]).unwrap_err(),
        query::by_globs(root.path(), &["queries/*.sql".into()]).unwrap_err(),
    ] {
        let msg = err.to_string();
        assert!(matches!(err, QueryError::OutsideFolder { .. }), "{msg}");
        assert!(msg.contains("q1.sql") && msg.contains("secret.sql") && msg.contains("outside"), "{msg}");
    }
    // A link within the folder reads its target.
    let q = query::by_ids(&queries, &[n(2)]).unwrap();
    assert_eq!(q[0].sql, "SELECT 'inside'");
    assert_eq!(query::by_globs(root.path(), &["queries/q2.sql".into()]).unwrap()[0].sql, "SELECT 'inside'");
    // So does a glob over the whole tree, when the link stays inside it.
    let all = query::by_globs(root.path(), &["**/real.sql".into()]).unwrap();
    assert_eq!(all.len(), 1);
}
