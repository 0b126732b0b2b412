//! Equivalence rules on hand-built result sets (no DB): float tolerance, -0.0, NaN,
//! DECIMAL scales, float bags whose sorted orders disagree, tie groups at a LIMIT cut.

use qt::validate::equivalence::{Outcome, compare};
use qt::validate::vocab::float_eq;
use qt::validate::equivalence::order::OrderSpec;
use qt::validate::resultset::{Cell, ColumnInfo, ResultSet, TypeClass};

fn col(name: &str, type_name: &str, class: TypeClass) -> ColumnInfo {
    ColumnInfo {
        name: name.into(),
        type_name: type_name.into(),
        class,
    }
}

fn floats(rows: &[&[f64]]) -> ResultSet {
    let width = rows.first().map_or(0, |r| r.len());
    ResultSet {
        columns: (0..width)
            .map(|j| col(&format!("f{j}"), "DOUBLE", TypeClass::Float))
            .collect(),
        rows: rows
            .iter()
            .map(|r| r.iter().map(|x| Cell::Float(*x)).collect())
            .collect(),
    }
}

fn same(o: &ResultSet, c: &ResultSet) -> bool {
    matches!(
        compare(o, c, &OrderSpec::default(), None),
        Outcome::Same { .. }
    )
}

#[test]
fn float_tolerance_is_relative_1e9_or_absolute_1e6() {
    assert!(float_eq(1e12, 1e12 * (1.0 + 5e-10)));
    assert!(!float_eq(1e12, 1e12 * (1.0 + 5e-9)));
    assert!(float_eq(0.1, 0.1 + 5e-7));
    assert!(!float_eq(0.1, 0.1 + 5e-6));
    assert!(float_eq(-0.0, 0.0));
    assert!(float_eq(f64::NAN, f64::NAN));
    assert!(!float_eq(f64::NAN, 0.0));
    assert!(float_eq(f64::INFINITY, f64::INFINITY));
    assert!(!float_eq(f64::INFINITY, f64::NEG_INFINITY));
}

#[test]
fn float_bags_match_even_when_their_sorted_orders_disagree() {
    // Column 0 differs by less than the tolerance but flips the sort order of the rows.
    let o = floats(&[&[1.0, 2.0], &[1.0 + 1e-12, 1.0], &[-0.0, 5.0]]);
    let c = floats(&[&[0.0, 5.0], &[1.0 + 1e-12, 2.0], &[1.0, 1.0]]);
    assert!(same(&o, &c));
    let wrong = floats(&[&[0.0, 5.0], &[1.0, 2.0], &[1.0, 1.1]]);
    assert!(!same(&o, &wrong));
}

#[test]
fn decimals_compare_by_value_at_their_scale() {
    let dec = |v: i128, s: u8| Cell::Decimal { value: v, scale: s };
    let rs = |cells: Vec<Cell>, t: &str| ResultSet {
        columns: vec![col("x", t, TypeClass::Decimal)],
        rows: cells.into_iter().map(|c| vec![c]).collect(),
    };
    let o = rs(vec![dec(150, 2), dec(-1, 2)], "DECIMAL(15,2)");
    assert!(same(
        &o,
        &rs(vec![dec(15000, 4), dec(-100, 4)], "DECIMAL(18,4)")
    ));
    assert!(!same(
        &o,
        &rs(vec![dec(15001, 4), dec(-100, 4)], "DECIMAL(18,4)")
    ));
    // Integer vs DECIMAL is exact too.
    let ints = ResultSet {
        columns: vec![col("x", "BIGINT", TypeClass::Integer)],
        rows: vec![vec![Cell::Int(2)]],
    };
    assert!(same(&ints, &rs(vec![dec(200, 2)], "DECIMAL(15,2)")));
    assert!(!same(&ints, &rs(vec![dec(201, 2)], "DECIMAL(15,2)")));
}

#[test]
fn dates_equal_midnight_timestamps_with_a_note() {
    let o = ResultSet {
        columns: vec![col("d", "DATE", TypeClass::Date)],
        rows: vec![vec![Cell::Date(10)]],
    };
    let c = ResultSet {
        columns: vec![col("d", "TIMESTAMP", TypeClass::Timestamp)],
        rows: vec![vec![Cell::Timestamp(10 * 86_400 * 1_000_000_000)]],
    };
    match compare(&o, &c, &OrderSpec::default(), None) {
        Outcome::Same { notes } => {
            assert!(notes.iter().any(|n| n.contains("TIMESTAMP")), "{notes:?}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn limit_cut_without_the_tie_group_is_inconclusive_not_a_guess() {
    let rows = |v: &[(i128, &str)]| -> Vec<Vec<Cell>> {
        v.iter()
            .map(|(k, s)| vec![Cell::Int(*k), Cell::Text(s.to_string())])
            .collect()
    };
    let cols = vec![
        col("k", "INTEGER", TypeClass::Integer),
        col("s", "VARCHAR", TypeClass::Text),
    ];
    let o = ResultSet {
        columns: cols.clone(),
        rows: rows(&[(1, "a"), (2, "b")]),
    };
    let c = ResultSet {
        columns: cols,
        rows: rows(&[(1, "a"), (2, "c")]),
    };
    let spec = OrderSpec {
        ordered: true,
        key_cols: vec![0],
        limit: Some(2),
        ..OrderSpec::default()
    };
    assert!(matches!(
        compare(&o, &c, &spec, None),
        Outcome::Unsure { .. }
    ));
    let ties = rows(&[(1, "a"), (2, "b"), (2, "c"), (3, "d")]);
    assert!(matches!(
        compare(&o, &c, &spec, Some(&ties)),
        Outcome::Same { .. }
    ));
    let ties_without_c = rows(&[(1, "a"), (2, "b"), (2, "x"), (3, "d")]);
    assert!(matches!(
        compare(&o, &c, &spec, Some(&ties_without_c)),
        Outcome::Different { .. }
    ));
    // A run in the middle (not cut by the window) must match exactly.
    let spec_no_limit = OrderSpec {
        ordered: true,
        key_cols: vec![0],
        ..OrderSpec::default()
    };
    assert!(matches!(
        compare(&o, &c, &spec_no_limit, Some(&ties)),
        Outcome::Different { .. }
    ));
}

#[test]
fn nulls_match_nulls_only() {
    let rs = |c: Cell| ResultSet {
        columns: vec![col("x", "DOUBLE", TypeClass::Float)],
        rows: vec![vec![c]],
    };
    assert!(same(&rs(Cell::Null), &rs(Cell::Null)));
    assert!(!same(&rs(Cell::Null), &rs(Cell::Float(0.0))));
}
