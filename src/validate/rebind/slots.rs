//! Where a query's re-bindable literals are: literals compared with a column (`col = 2000`,
//! `col IN ('Books', 'Home')`, `col BETWEEN 1200 AND 1200 + 11`, `d_date BETWEEN
//! cast('2000-02-01' AS date) AND cast('2000-02-01' AS date) + INTERVAL 30 DAY`), read from
//! sqlparser's AST with the source position of each literal token, so a binding edits the
//! text in place (layout, comments and every other token stay as written).
//!
//! Two views of one query: [`blocks`] lists, per SELECT block, the WHERE conjuncts that
//! compare a column with literals (what the search relaxes and probes), and [`occurrences`]
//! lists every literal of the whole statement with the column it is compared with, if any
//! (what a binding rewrites, in the original and in the candidate alike).
//!
//! A third view, [`thresholds`], lists the HAVING lower bounds on a count (`HAVING
//! count(*) >= 10`): a 1% sample rarely has ten rows per group, and lowering the bound (in
//! the original and the candidate alike) is a re-binding like any other. A count is keyed
//! by its printed call (`count(*)`), and a select-list alias of a count (`count(*) AS cnt`,
//! compared later as `cnt >= 10` in an outer block) stands for the same key.
//!
//! It runs no SQL and decides no binding.

use sqlparser::ast::{
    BinaryOperator, DataType, DateTimeField, Expr, GroupByExpr, InTarget, Select, SelectItem, Statement,
    UnaryOperator, Value, ValueWithSpan, Visit, Visitor,
};
use std::collections::BTreeMap;
use sqlparser::dialect::{DuckDbDialect, GenericDialect};
use sqlparser::parser::Parser;
use std::ops::ControlFlow;

/// A literal's value, typed the way re-binding treats it.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    /// A number as written; `decimals` digits after the point are kept when shifting.
    Num { value: f64, decimals: usize },
    Str(String),
    /// Days since 1970-01-01 (a `'YYYY-MM-DD'` string, `DATE '..'` or a cast to DATE).
    Date(i32),
}

/// One literal token: its value and where it is in the text (byte offsets).
#[derive(Debug, Clone, PartialEq)]
pub struct LitRef {
    pub lit: Lit,
    pub start: usize,
    pub end: usize,
    /// The token is the operand of a unary minus (`-5`): `lit` holds the signed value.
    pub negated: bool,
}

/// A literal and the column it is compared with (lowercase, last name part), if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Occurrence {
    pub column: Option<String>,
    /// The count it is compared with (`count(*) >= 10`, or an alias of that count) and how,
    /// if any.
    pub count: Option<(String, CountOp)>,
    pub lit: LitRef,
}

/// A WHERE conjunct comparing a column with literals.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    /// Lowercase column name (last part): the binding's key.
    pub column: String,
    /// The column expression as printed (`d1.d_year`): what a probe groups by.
    pub column_sql: String,
    pub kind: SlotKind,
    pub lits: Vec<LitRef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotKind {
    Eq,
    /// `BETWEEN`, `<`, `<=`, `>`, `>=`, `<>`.
    Range,
    In,
}

/// One SELECT block with re-bindable conjuncts.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// The FROM clause as printed.
    pub from: String,
    /// Conjuncts without literal slots, printed (they stay in a probe).
    pub other_conjuncts: Vec<String>,
    pub slots: Vec<Slot>,
    /// Days added by `+ INTERVAL n DAY` to a date literal in this block (the range width).
    pub interval_days: i64,
}

/// A HAVING (or outer WHERE) lower bound on a count: `count(*) >= 10`, `cnt > 10`.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// The count's key (`count(*)`, `count(distinct c_customer_sk)`).
    pub key: String,
    /// The bound as written.
    pub value: i64,
    /// `>` (true) or `>=` (false).
    pub strict: bool,
    /// SQL listing that count per group of the SELECT whose HAVING holds the bound (its
    /// FROM, WHERE and GROUP BY), so a lowered bound can be a count the data holds: a group
    /// of exactly that count tells `>=` from `>`. `None` for a bound on an alias in an
    /// outer block, or a block that cannot be probed (GROUP BY ALL or by position).
    pub probe: Option<String>,
}

/// Parse `sql` as exactly one statement (DuckDB dialect, then generic).
pub fn parse_one(sql: &str) -> Result<Statement, String> {
    let stmts = Parser::parse_sql(&DuckDbDialect {}, sql)
        .or_else(|e| Parser::parse_sql(&GenericDialect {}, sql).map_err(|_| e.to_string()))?;
    match <[Statement; 1]>::try_from(stmts) {
        Ok([s]) => Ok(s),
        Err(v) => Err(format!("expected one statement, found {}", v.len())),
    }
}

/// The statement's top-level `WITH ...` clause as printed (empty when none or recursive):
/// a probe of a block inside the statement starts with it so CTE names resolve.
pub fn with_clause(stmt: &Statement) -> String {
    match stmt {
        Statement::Query(q) => match &q.with {
            Some(w) if !w.recursive => format!("{w} "),
            _ => String::new(),
        },
        _ => String::new(),
    }
}

/// Every SELECT block of `stmt` that has at least one literal slot in its WHERE.
pub fn blocks(stmt: &Statement, text: &str) -> Vec<Block> {
    struct V<'t> {
        text: &'t str,
        out: Vec<Block>,
    }
    impl Visitor for V<'_> {
        type Break = ();
        fn pre_visit_select(&mut self, s: &Select) -> ControlFlow<()> {
            if let Some(b) = block_of(s, self.text) {
                self.out.push(b);
            }
            ControlFlow::Continue(())
        }
    }
    let mut v = V { text, out: Vec::new() };
    let _ = stmt.visit(&mut v);
    v.out
}

fn block_of(s: &Select, text: &str) -> Option<Block> {
    let selection = s.selection.as_ref()?;
    if s.from.is_empty() {
        return None;
    }
    let mut conjuncts = Vec::new();
    flatten_and(selection, &mut conjuncts);
    let (mut slots, mut others, mut interval_days) = (Vec::new(), Vec::new(), 0);
    for c in conjuncts {
        match slot_of(c, text) {
            Some(slot) => {
                interval_days = interval_days.max(interval_in(c));
                slots.push(slot)
            }
            None => others.push(c.to_string()),
        }
    }
    if slots.is_empty() {
        return None;
    }
    let from = s.from.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ");
    Some(Block {
        from,
        other_conjuncts: others,
        slots,
        interval_days,
    })
}

fn flatten_and<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            flatten_and(left, out);
            flatten_and(right, out);
        }
        Expr::Nested(inner) if matches!(**inner, Expr::BinaryOp { op: BinaryOperator::And, .. }) => {
            flatten_and(inner, out)
        }
        other => out.push(other),
    }
}

/// The comparison shapes re-binding understands: (column, kind, literal operand(s)).
fn comparison(e: &Expr) -> Option<(&Expr, SlotKind, Vec<&Expr>)> {
    use BinaryOperator::*;
    match e {
        Expr::BinaryOp { left, op, right } => {
            let kind = match op {
                Eq => SlotKind::Eq,
                NotEq | Lt | LtEq | Gt | GtEq => SlotKind::Range,
                _ => return None,
            };
            if column(left).is_some() {
                Some((left, kind, vec![right]))
            } else if column(right).is_some() {
                Some((right, kind, vec![left]))
            } else {
                None
            }
        }
        Expr::Between { expr, low, high, .. } => {
            column(expr)?;
            Some((expr, SlotKind::Range, vec![low, high]))
        }
        Expr::In {
            expr,
            target: InTarget::List(list),
            ..
        } => {
            column(expr)?;
            Some((expr, SlotKind::In, list.iter().collect()))
        }
        _ => None,
    }
}

fn slot_of(e: &Expr, text: &str) -> Option<Slot> {
    let (col, kind, operands) = comparison(e)?;
    let mut lits = Vec::new();
    for o in operands {
        lits.extend(bases(o, text)?);
    }
    if lits.is_empty() {
        return None;
    }
    Some(Slot {
        column: column(col)?,
        column_sql: col.to_string(),
        kind,
        lits,
    })
}

/// `col`, `t.col`, `(col)`: the lowercase last name part.
fn column(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(i) => Some(i.value.to_lowercase()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.to_lowercase()),
        Expr::Nested(inner) => column(inner),
        _ => None,
    }
}

/// The re-bindable literals of an operand built only from literals: the operand itself, or
/// the leftmost literal of `lit + k`, `lit - k`, `date + INTERVAL n DAY` (the rest is an
/// offset or width and stays). `None` when the operand reads a column, calls a function or
/// holds a subquery.
fn bases(e: &Expr, text: &str) -> Option<Vec<LitRef>> {
    match e {
        Expr::Value(v) => Some(lit_ref(v, text, false, false).into_iter().collect()),
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => match &**expr {
            Expr::Value(v) => Some(lit_ref(v, text, true, false).into_iter().collect()),
            _ => None,
        },
        Expr::Cast {
            expr, data_type, ..
        } => match (&**expr, data_type) {
            (Expr::Value(v), DataType::Date) => Some(lit_ref(v, text, false, true).into_iter().collect()),
            (inner, _) => bases(inner, text),
        },
        Expr::TypedString(ts) if ts.data_type == DataType::Date => {
            Some(lit_ref(&ts.value, text, false, true).into_iter().collect())
        }
        Expr::Nested(inner) => bases(inner, text),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Plus | BinaryOperator::Minus,
            right,
        } if is_constant(right) => bases(left, text),
        Expr::Interval(_) => Some(Vec::new()),
        _ => None,
    }
}

fn is_constant(e: &Expr) -> bool {
    match e {
        Expr::Value(_) | Expr::Interval(_) | Expr::TypedString(_) => true,
        Expr::Nested(inner) | Expr::UnaryOp { expr: inner, .. } | Expr::Cast { expr: inner, .. } => {
            is_constant(inner)
        }
        Expr::BinaryOp { left, right, .. } => is_constant(left) && is_constant(right),
        _ => false,
    }
}

/// `+ INTERVAL n DAY` inside a conjunct: its day count (0 when none).
fn interval_in(e: &Expr) -> i64 {
    struct V(i64);
    impl Visitor for V {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            if let Expr::Interval(i) = e
                && matches!(i.leading_field, Some(DateTimeField::Day | DateTimeField::Days) | None)
                && let Expr::Value(v) = &*i.value
            {
                let n = match &v.value {
                    Value::Number(n, _) => n.parse::<i64>().ok(),
                    Value::SingleQuotedString(s) => s.split_whitespace().next().and_then(|n| n.parse().ok()),
                    _ => None,
                };
                self.0 = self.0.max(n.unwrap_or(0));
            }
            ControlFlow::Continue(())
        }
    }
    let mut v = V(0);
    let _ = e.visit(&mut v);
    v.0
}

/// A literal token as a [`LitRef`] (`None` for NULL, booleans and other kinds).
fn lit_ref(v: &ValueWithSpan, text: &str, negated: bool, date_cast: bool) -> Option<LitRef> {
    let (start, end) = byte_range(text, v)?;
    let lit = match &v.value {
        Value::Number(n, _) => {
            let value: f64 = n.parse().ok()?;
            let decimals = n.split_once('.').map(|(_, d)| d.len()).unwrap_or(0);
            Lit::Num {
                value: if negated { -value } else { value },
                decimals,
            }
        }
        Value::SingleQuotedString(s) => match parse_date(s) {
            Some(d) => Lit::Date(d),
            None if date_cast => return None,
            None => Lit::Str(s.clone()),
        },
        _ => return None,
    };
    Some(LitRef {
        lit,
        start,
        end,
        negated,
    })
}

/// The byte range of a value's token in `text`, checked against the token's shape (a
/// number's digits, a string's quotes); `None` when the span does not fit.
fn byte_range(text: &str, v: &ValueWithSpan) -> Option<(usize, usize)> {
    let (s, e) = (v.span.start, v.span.end);
    if s.line == 0 || e.line == 0 {
        return None;
    }
    let start = offset(text, s.line, s.column)?;
    let end = offset(text, e.line, e.column)?;
    let tok = text.get(start..end)?;
    let ok = match &v.value {
        Value::Number(n, _) => tok == n,
        Value::SingleQuotedString(_) => tok.len() >= 2 && tok.starts_with('\'') && tok.ends_with('\''),
        _ => false,
    };
    ok.then_some((start, end))
}

/// Byte offset of 1-based (line, column in characters).
fn offset(text: &str, line: u64, column: u64) -> Option<usize> {
    let mut line_start = 0;
    for _ in 1..line {
        line_start += text[line_start..].find('\n')? + 1;
    }
    let rest = &text[line_start..];
    let col = (column as usize).checked_sub(1)?;
    match rest.char_indices().nth(col) {
        Some((b, _)) => Some(line_start + b),
        None if rest.chars().count() == col => Some(text.len()),
        None => None,
    }
}

/// `YYYY-MM-DD` (month and day may have one digit, as in `'2002-4-01'`) -> days since
/// 1970-01-01.
pub fn parse_date(s: &str) -> Option<i32> {
    let mut parts = s.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |p: &str, lo: usize, hi: usize| (lo..=hi).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
    if parts.next().is_some() || !digits(y, 4, 4) || !digits(m, 1, 2) || !digits(d, 1, 2) {
        return None;
    }
    let d = chrono::NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
    i32::try_from((d - epoch).num_days()).ok()
}

/// Days since 1970-01-01 -> `YYYY-MM-DD`.
pub fn format_date(days: i32) -> String {
    chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|e| e.checked_add_signed(chrono::TimeDelta::days(i64::from(days))))
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// Every literal of `stmt` with the column it is compared with (anywhere: WHERE, ON,
/// HAVING, CASE, select list), then the remaining string and date literals without one.
pub fn occurrences(stmt: &Statement, text: &str) -> Vec<Occurrence> {
    struct V<'t> {
        text: &'t str,
        aliases: BTreeMap<String, String>,
        out: Vec<Occurrence>,
    }
    impl Visitor for V<'_> {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            if let Some((side, op, lit)) = count_comparison(e, &self.aliases, self.text)
                && !self.out.iter().any(|x| x.lit.start == lit.start)
            {
                let count = count_key(side, &self.aliases).map(|k| (k, op));
                self.out.push(Occurrence { column: column(side), count, lit });
            }
            if let Some((col, _, operands)) = comparison(e) {
                for o in operands {
                    for lit in bases(o, self.text).unwrap_or_default() {
                        if !self.out.iter().any(|x| x.lit.start == lit.start) {
                            self.out.push(Occurrence {
                                column: column(col),
                                count: None,
                                lit,
                            });
                        }
                    }
                }
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_value(&mut self, v: &ValueWithSpan) -> ControlFlow<()> {
            if let Value::SingleQuotedString(_) = v.value
                && let Some(lit) = lit_ref(v, self.text, false, false)
                && !self.out.iter().any(|x| x.lit.start == lit.start)
            {
                self.out.push(Occurrence { column: None, count: None, lit });
            }
            ControlFlow::Continue(())
        }
    }
    let mut v = V { text, aliases: count_aliases(stmt), out: Vec::new() };
    let _ = stmt.visit(&mut v);
    v.out
}

/// Every lower bound on a count (`count(*) >= 10`, `10 < count(*)`, `cnt > 10` where `cnt`
/// aliases a count), deduplicated: what lowering a threshold can change.
pub fn thresholds(stmt: &Statement, text: &str) -> Vec<Threshold> {
    let mut out: Vec<Threshold> = Vec::new();
    for o in occurrences(stmt, text) {
        if let (Some((key, op)), Lit::Num { value, decimals: 0 }) = (&o.count, &o.lit.lit)
            && *op != CountOp::Other
            && !o.lit.negated
            && *value >= 0.0
            && *value < 1e9
        {
            let t = Threshold { key: key.clone(), value: *value as i64, strict: *op == CountOp::Above, probe: None };
            if !out.contains(&t) {
                out.push(t);
            }
        }
    }
    // The probe of each bound written in a HAVING on a count call.
    struct V<'a> {
        text: &'a str,
        with: String,
        aliases: BTreeMap<String, String>,
        out: &'a mut Vec<Threshold>,
    }
    impl Visitor for V<'_> {
        type Break = ();
        fn pre_visit_select(&mut self, s: &Select) -> ControlFlow<()> {
            let (Some(having), Some(group)) = (&s.having, group_probe(s)) else { return ControlFlow::Continue(()) };
            let mut conjuncts = Vec::new();
            flatten_and(having, &mut conjuncts);
            for c in conjuncts {
                let Some((side @ Expr::Function(_), _, lit)) = count_comparison(c, &self.aliases, self.text) else { continue };
                let Lit::Num { value, .. } = lit.lit else { continue };
                let key = count_key(side, &self.aliases);
                let filter = s.selection.as_ref().map(|w| format!(" WHERE {w}")).unwrap_or_default();
                let from = s.from.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ");
                for t in self.out.iter_mut().filter(|t| Some(&t.key) == key.as_ref() && t.value as f64 == value && t.probe.is_none()) {
                    t.probe = Some(format!("{}SELECT {side} AS qt_c FROM {from}{filter} GROUP BY {group} ORDER BY 1 DESC LIMIT 5000", self.with));
                }
            }
            ControlFlow::Continue(())
        }
    }
    if !out.is_empty() {
        let mut v = V { text, with: with_clause(stmt), aliases: count_aliases(stmt), out: &mut out };
        let _ = stmt.visit(&mut v);
    }
    out
}

/// A SELECT's GROUP BY list as printed, when a probe with another select list groups the
/// same way (not GROUP BY ALL, not by position, not empty).
fn group_probe(s: &Select) -> Option<String> {
    match &s.group_by {
        GroupByExpr::Expressions(exprs, modifiers) if !exprs.is_empty() && modifiers.is_empty() => {
            (!exprs.iter().any(|e| matches!(e, Expr::Value(_)))).then(|| exprs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(", "))
        }
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountOp {
    /// `count > n`
    Above,
    /// `count >= n`
    AtLeast,
    /// Any other comparison: the literal is still mapped, never lowered on its own.
    Other,
}

/// `count(..) <op> n` or `n <op> count(..)` (either side may be an alias of a count): the
/// count's side, the comparison read as a bound on the count, and the number's token.
fn count_comparison<'e>(
    e: &'e Expr,
    aliases: &BTreeMap<String, String>,
    text: &str,
) -> Option<(&'e Expr, CountOp, LitRef)> {
    use BinaryOperator::*;
    let Expr::BinaryOp { left, op, right } = e else { return None };
    let number = |x: &Expr| match x {
        Expr::Value(v) if matches!(v.value, Value::Number(..)) => lit_ref(v, text, false, false),
        _ => None,
    };
    let (side, lit, count_on_left) = if count_key(left, aliases).is_some() {
        (&**left, number(right)?, true)
    } else if count_key(right, aliases).is_some() {
        (&**right, number(left)?, false)
    } else {
        return None;
    };
    let bound = match (op, count_on_left) {
        (Gt, true) | (Lt, false) => CountOp::Above,
        (GtEq, true) | (LtEq, false) => CountOp::AtLeast,
        (Eq | NotEq | Lt | LtEq | Gt | GtEq, _) => CountOp::Other,
        _ => return None,
    };
    Some((side, bound, lit))
}

/// A count call's key (`count(*)`, lowercase, spaces removed), or the key of the count a
/// column name aliases.
fn count_key(e: &Expr, aliases: &BTreeMap<String, String>) -> Option<String> {
    match e {
        Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("count") && f.over.is_none() => {
            Some(e.to_string().to_lowercase().split_whitespace().collect::<Vec<_>>().join(""))
        }
        Expr::Nested(inner) => count_key(inner, aliases),
        _ => aliases.get(&column(e)?).cloned(),
    }
}

/// Select-list aliases of counts (`count(*) AS cnt`); a name aliasing two different counts
/// is left out.
fn count_aliases(stmt: &Statement) -> BTreeMap<String, String> {
    struct V {
        seen: BTreeMap<String, Option<String>>,
    }
    impl Visitor for V {
        type Break = ();
        fn pre_visit_select(&mut self, s: &Select) -> ControlFlow<()> {
            for item in &s.projection {
                if let SelectItem::ExprWithAlias { expr, alias } = item
                    && let Some(key) = count_key(expr, &BTreeMap::new())
                {
                    let e = self.seen.entry(alias.value.to_lowercase()).or_insert_with(|| Some(key.clone()));
                    if e.as_deref() != Some(key.as_str()) {
                        *e = None;
                    }
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut v = V { seen: BTreeMap::new() };
    let _ = stmt.visit(&mut v);
    v.seen.into_iter().filter_map(|(k, v)| Some((k, v?))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks_of(sql: &str) -> Vec<Block> {
        blocks(&parse_one(sql).unwrap(), sql)
    }

    #[test]
    fn finds_equalities_ranges_lists_and_dates_with_their_tokens() {
        let sql = "select * from date_dim d, item\nwhere d.d_year = 2000 and i_category in ('Books', 'Home')\n  and d_month_seq between 1200 and 1200 + 11 and d_date between cast('2000-02-01' as date) and (cast('2000-02-01' as date) + interval 30 day) and i_item_sk = d_date_sk";
        let b = blocks_of(sql);
        assert_eq!(b.len(), 1);
        let s = &b[0].slots;
        assert_eq!(s.len(), 4);
        assert_eq!((s[0].column.as_str(), s[0].kind), ("d_year", SlotKind::Eq));
        assert_eq!(&sql[s[0].lits[0].start..s[0].lits[0].end], "2000");
        assert_eq!(s[1].lits.len(), 2);
        assert_eq!(&sql[s[1].lits[1].start..s[1].lits[1].end], "'Home'");
        assert_eq!(s[2].lits.len(), 2, "1200 and the base of 1200 + 11");
        assert!(matches!(s[3].lits[0].lit, Lit::Date(_)));
        assert_eq!(b[0].interval_days, 30);
        assert_eq!(b[0].other_conjuncts, vec!["i_item_sk = d_date_sk".to_string()]);
    }

    #[test]
    fn skips_columns_functions_and_subqueries() {
        assert!(blocks_of("select 1 from t where a = b and f(x) = 3 and y in (select 1)").is_empty());
        assert!(blocks_of("select 1 from t where (a = 1 or b = 2)").is_empty());
    }

    #[test]
    fn occurrences_cover_case_and_bare_strings() {
        let sql = "select case when d_year = 2001 then 'x' end from t where s = 'Books'";
        let o = occurrences(&parse_one(sql).unwrap(), sql);
        assert!(o.iter().any(|x| x.column.as_deref() == Some("d_year")));
        assert!(o.iter().any(|x| x.column.is_none() && x.lit.lit == Lit::Str("x".into())));
        assert!(o.iter().any(|x| x.column.as_deref() == Some("s")));
    }

    #[test]
    fn dates_round_trip_and_multibyte_text_keeps_offsets() {
        assert_eq!(format_date(parse_date("2000-02-29").unwrap()), "2000-02-29");
        assert_eq!(format_date(parse_date("2002-4-01").unwrap()), "2002-04-01");
        assert!(parse_date("2002-13-01").is_none() && parse_date("Books").is_none());
        let sql = "select 'é' from t where a = 5";
        let o = occurrences(&parse_one(sql).unwrap(), sql);
        let five = o.iter().find(|x| x.column.is_some()).unwrap();
        assert_eq!(&sql[five.lit.start..five.lit.end], "5");
    }
}
