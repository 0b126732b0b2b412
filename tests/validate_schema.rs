//! The result schema promise (column names, count, order), diff sentences that name the
//! differing column, expression sort keys, and thin results.

mod validate_support;

use qt::validate::Verdict;
use validate_support::*;

const SETUP: &str = "
CREATE TABLE t(grp INTEGER, name VARCHAR, x DOUBLE);
INSERT INTO t VALUES (1,'a',1.0), (1,'b',2.0), (2,'c',3.0), (2,'d',NULL), (2,'e',5.0), (3,'f',6.0);
";

fn notes(v: &Verdict) -> Vec<String> {
    match v {
        Verdict::Pass { notes, .. } | Verdict::Failed { notes, .. } => notes.clone(),
        _ => Vec::new(),
    }
}

#[test]
fn renamed_reordered_or_extra_columns_are_column_mismatch() {
    let db = db_with(SETUP);
    let o = "SELECT grp, name AS label FROM t";
    for c in [
        "SELECT grp, name AS title FROM t",
        "SELECT name AS label, grp FROM t",
        "SELECT grp AS g, name AS label FROM t",
        "SELECT grp, name AS label, x FROM t",
    ] {
        let v = check(&db.path, o, c);
        assert_status(&v, "validation_failed", "column_mismatch");
        assert!(
            v.message().unwrap().contains("column"),
            "{}",
            v.summary_line()
        );
    }
}

#[test]
fn aliasing_a_generated_name_is_a_note() {
    let db = db_with(SETUP);
    let v = check(
        &db.path,
        "SELECT grp, count(*) FROM t GROUP BY grp",
        "SELECT grp, count(*) AS n FROM t GROUP BY grp",
    );
    assert_pass(&v);
    assert!(
        notes(&v)
            .iter()
            .any(|n| n.contains("`n`") && n.contains("generated")),
        "{:?}",
        notes(&v)
    );
}

#[test]
fn a_changed_value_names_its_column_and_how() {
    let db = db_with(SETUP);
    let v = check(
        &db.path,
        "SELECT max(x) AS m FROM t WHERE grp = 2",
        "SELECT NULL::DOUBLE AS m FROM t WHERE grp = 2 LIMIT 1",
    );
    assert_status(&v, "validation_failed", "value_mismatch");
    let m = v.message().unwrap();
    assert!(m.contains("column `m`") && m.contains("NULL"), "{m}");
    let v = check(
        &db.path,
        "SELECT grp, name FROM t ORDER BY grp, name",
        "SELECT grp, upper(name) AS name FROM t ORDER BY grp, name",
    );
    let m = v.message().unwrap();
    assert!(
        m.contains("column `name`") && m.contains("'a'") && m.contains("'A'"),
        "{m}"
    );
    let v = check(
        &db.path,
        "SELECT grp, name FROM t ORDER BY grp, name",
        "SELECT grp, name FROM t ORDER BY grp DESC, name",
    );
    assert_status(&v, "validation_failed", "order_mismatch");
    assert!(
        v.message().unwrap().contains("same rows"),
        "{}",
        v.summary_line()
    );
}

#[test]
fn expression_sort_keys_are_checked_not_unverifiable() {
    let db = db_with(SETUP);
    let o = "SELECT grp, name, grp * 10 AS g10 FROM t ORDER BY CASE WHEN g10 = 20 THEN 0 ELSE 1 END, name DESC";
    assert_pass(&check(
        &db.path,
        o,
        "SELECT grp, name, grp * 10 AS g10 FROM t ORDER BY grp <> 2, name DESC",
    ));
    let v = check(
        &db.path,
        o,
        "SELECT grp, name, grp * 10 AS g10 FROM t ORDER BY name DESC",
    );
    assert_status(&v, "validation_failed", "order_mismatch");
    // A LIMIT cut inside a run of equal expression keys: any rows of that tie group pass.
    let o = "SELECT name FROM t ORDER BY grp % 2 LIMIT 2";
    assert_pass(&check(
        &db.path,
        o,
        "SELECT name FROM t WHERE grp = 2 ORDER BY name DESC LIMIT 2",
    ));
    let v = check(&db.path, o, "SELECT name FROM t WHERE grp = 1 LIMIT 2");
    assert_eq!(v.status(), "validation_failed", "{}", v.summary_line());
}

#[test]
fn thin_results_pass_with_a_note() {
    let db = db_with(SETUP);
    let v = check(
        &db.path,
        "SELECT count(*) AS n FROM t",
        "SELECT count(name) AS n FROM t",
    );
    assert_pass(&v);
    assert!(
        notes(&v).iter().any(|n| n.starts_with("thin_result")),
        "{:?}",
        notes(&v)
    );
}
