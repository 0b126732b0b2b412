//! Bounds on what DuckDB computes while it *plans* a query, checked before the engine
//! sees the text (part of the gate, `gate.rs`).
//!
//! DuckDB folds constant arguments while binding (`range(300000000)` becomes a list of
//! 300 M values, about 110 bytes each) before execution starts: neither the deadline's
//! interrupt nor `memory_limit` stops it (measured with DuckDB 1.2.0: `len(range(1e7))`
//! plans in 3 s at 1.1 GB, `3e7` in 10.8 s at 2.3 GB). So the sizes of constant arguments
//! of generating functions (`range`, `generate_series`, `repeat`, `lpad`/`rpad`,
//! `list_resize`/`array_resize`, `printf`/`format` widths, list lambdas over them) are
//! computed here from the text, nested sizes multiplied and simple constant arithmetic
//! folded, and a query asking for more than [`MAX_CONST_ELEMENTS`] in one function, or
//! [`MAX_CONST_TOTAL`] in all, is refused. The total matters because DuckDB folds one
//! function after another without looking at the interrupt: 400 folds of 999,999 elements
//! each (an 8 KB query) kept it planning for two minutes against a 1 s deadline; the
//! total bounds that to about a second.
//!
//! Table functions in FROM (`FROM range(1e9)`) are not refused: they stream at execution,
//! under the deadline. A size this check cannot compute (a column, a subquery) is not
//! constant, so DuckDB does not fold it while planning either.

use crate::sqltext::{Lex, lexemes};

/// Most elements (or bytes) one generating function may produce from constants.
pub const MAX_CONST_ELEMENTS: f64 = 1_000_000.0;
/// Most elements (or bytes) all of a query's generating functions may produce from
/// constants (about 0.3 s of planning per million on the 2-core machine).
pub const MAX_CONST_TOTAL: f64 = 4_000_000.0;
/// Deeper nesting than DuckDB's own expression depth limit is refused outright.
const MAX_DEPTH: usize = 1000;

#[derive(Debug)]
enum Node<'a> {
    Num(f64),
    /// A single-quoted literal's text (without quotes).
    Str(&'a str),
    Word(&'a str),
    Punct(&'a str),
    /// `name(args)`, `(args)` or `[args]`; `table` when it directly follows FROM/JOIN.
    Group {
        name: Option<&'a str>,
        bracket: bool,
        table: bool,
        args: Vec<Vec<Node<'a>>>,
    },
}

struct Frame<'a> {
    name: Option<&'a str>,
    bracket: bool,
    table: bool,
    args: Vec<Vec<Node<'a>>>,
    /// Between FROM and the next clause at this level (`FROM a, range(9) b JOIN ...`).
    in_from: bool,
}

/// Words that end a FROM clause at their level.
const AFTER_FROM: &[&str] = &[
    "where", "group", "having", "qualify", "window", "order", "limit", "offset", "union", "except",
    "intersect", "select", "returning", "values",
];

fn number(text: &str) -> Option<f64> {
    let t = text.replace('_', "");
    if !t.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    t.parse::<f64>().ok()
}

fn parse(sql: &str) -> Result<Vec<Node<'_>>, String> {
    let lx = lexemes(sql);
    let mut stack: Vec<Frame> = vec![Frame { name: None, bracket: false, table: false, args: vec![Vec::new()], in_from: false }];
    let mut i = 0;
    while i < lx.len() {
        let (kind, text) = lx[i];
        let depth = stack.len();
        let cur = stack.last_mut().expect("the root frame stays");
        let arg = cur.args.last_mut().expect("a frame has an argument");
        match (kind, text) {
            (Lex::Punct, "(") | (Lex::Punct, "[") => {
                let bracket = text == "[";
                let name = match arg.last() {
                    Some(Node::Word(w)) if !bracket => {
                        let w = *w;
                        arg.pop();
                        Some(w)
                    }
                    _ => None,
                };
                let table = name.is_some()
                    && match arg.last() {
                        Some(Node::Word(w)) => ["from", "join", "lateral"].iter().any(|k| w.eq_ignore_ascii_case(k)),
                        Some(Node::Punct(",")) => cur.in_from,
                        _ => false,
                    };
                if depth > MAX_DEPTH {
                    return Err(format!("the SQL nests parentheses more than {MAX_DEPTH} levels deep"));
                }
                stack.push(Frame { name, bracket, table, args: vec![Vec::new()], in_from: false });
            }
            (Lex::Punct, ")") | (Lex::Punct, "]") if depth > 1 => {
                let f = stack.pop().expect("more than the root");
                let parent = stack.last_mut().expect("the root frame stays");
                parent.args.last_mut().expect("a frame has an argument").push(Node::Group {
                    name: f.name,
                    bracket: f.bracket,
                    table: f.table,
                    args: f.args,
                });
            }
            (Lex::Punct, ",") if depth > 1 && !cur.in_from => cur.args.push(Vec::new()),
            (Lex::Punct, ",") => arg.push(Node::Punct(",")),
            (Lex::Word, w) => match number(w) {
                Some(mut n) => {
                    // `1.5` and `1.5e9` lex as `1` `.` `5e9`.
                    if let (Some((Lex::Punct, ".")), Some((Lex::Word, frac))) = (lx.get(i + 1), lx.get(i + 2)) {
                        if let Some(v) = frac.starts_with(|c: char| c.is_ascii_digit()).then(|| number(&format!("{w}.{frac}"))).flatten() {
                            n = v;
                            i += 2;
                        }
                    }
                    arg.push(Node::Num(n));
                }
                None => {
                    if w.eq_ignore_ascii_case("from") || w.eq_ignore_ascii_case("join") {
                        cur.in_from = true;
                    } else if AFTER_FROM.iter().any(|k| w.eq_ignore_ascii_case(k)) {
                        cur.in_from = false;
                    }
                    arg.push(Node::Word(w));
                }
            },
            (Lex::Quoted, q) if q.starts_with('\'') && q.len() >= 2 => arg.push(Node::Str(&q[1..q.len() - 1])),
            (Lex::Quoted, q) => arg.push(Node::Word(q)),
            (Lex::Punct, p) => arg.push(Node::Punct(p)),
        }
        i += 1;
    }
    while stack.len() > 1 {
        let f = stack.pop().expect("more than the root");
        stack.last_mut().expect("root").args.last_mut().expect("arg").push(Node::Group {
            name: f.name,
            bracket: f.bracket,
            table: f.table,
            args: f.args,
        });
    }
    Ok(stack.pop().map(|f| f.args.into_iter().flatten().collect()).unwrap_or_default())
}

/// Constant arithmetic over a token run: numbers, + - * / // % ** ^, parentheses, casts.
struct Arith<'s, 'a> {
    it: &'s [Node<'a>],
    i: usize,
}

impl Arith<'_, '_> {
    fn value(items: &[Node]) -> Option<f64> {
        let mut p = Arith { it: items, i: 0 };
        let v = p.expr()?;
        (p.i == items.len()).then_some(v)
    }
    fn punct(&self, k: usize) -> Option<&str> {
        match self.it.get(self.i + k) {
            Some(Node::Punct(p)) => Some(p),
            _ => None,
        }
    }
    fn expr(&mut self) -> Option<f64> {
        let mut v = self.term()?;
        loop {
            match self.punct(0) {
                Some("+") => {
                    self.i += 1;
                    v += self.term()?;
                }
                Some("-") if self.punct(1) != Some(">") => {
                    self.i += 1;
                    v -= self.term()?;
                }
                _ => return Some(v),
            }
        }
    }
    fn term(&mut self) -> Option<f64> {
        let mut v = self.factor()?;
        loop {
            match (self.punct(0), self.punct(1)) {
                (Some("*"), Some("*")) => return Some(v),
                (Some("*"), _) => {
                    self.i += 1;
                    v *= self.factor()?;
                }
                (Some("/"), Some("/")) => {
                    self.i += 2;
                    v = (v / self.factor()?).floor();
                }
                (Some("/"), _) => {
                    self.i += 1;
                    v /= self.factor()?;
                }
                (Some("%"), _) => {
                    self.i += 1;
                    v %= self.factor()?;
                }
                _ => return Some(v),
            }
        }
    }
    fn factor(&mut self) -> Option<f64> {
        match self.punct(0) {
            Some("-") => {
                self.i += 1;
                return Some(-self.factor()?);
            }
            Some("+") => {
                self.i += 1;
                return self.factor();
            }
            _ => {}
        }
        let base = self.primary()?;
        match (self.punct(0), self.punct(1)) {
            (Some("*"), Some("*")) => {
                self.i += 2;
                Some(base.powf(self.factor()?))
            }
            (Some("^"), _) => {
                self.i += 1;
                Some(base.powf(self.factor()?))
            }
            _ => Some(base),
        }
    }
    fn primary(&mut self) -> Option<f64> {
        let v = match self.it.get(self.i)? {
            Node::Num(n) => *n,
            Node::Group { name: None, bracket: false, args, .. } if args.len() == 1 => Arith::value(&args[0])?,
            Node::Group { name: Some(f), bracket: false, args, .. } => {
                let f = f.to_ascii_lowercase();
                match (f.as_str(), args.as_slice()) {
                    ("cast" | "try_cast", [a]) => {
                        let end = a.iter().position(|n| matches!(n, Node::Word(w) if w.eq_ignore_ascii_case("as")))?;
                        Arith::value(&a[..end])?
                    }
                    ("pow" | "power", [a, b]) => Arith::value(a)?.powf(Arith::value(b)?),
                    _ => return None,
                }
            }
            _ => return None,
        };
        self.i += 1;
        // `::BIGINT`, `::DECIMAL(18, 2)`
        while self.punct(0) == Some(":") && self.punct(1) == Some(":") {
            self.i += 2;
            match self.it.get(self.i) {
                Some(Node::Word(_)) | Some(Node::Group { name: Some(_), .. }) => self.i += 1,
                _ => return None,
            }
        }
        Some(v)
    }
}

/// A generating function whose constant size is above the bound.
#[derive(Debug, Clone, PartialEq)]
pub struct Oversized {
    pub function: String,
    pub size: f64,
}

impl std::fmt::Display for Oversized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "refused before planning: {}(...) would build about {} elements from constants while DuckDB plans the query \
             (constant arguments are computed during planning, outside the deadline and the memory limit); \
             qt allows at most {} per generating function. Use a smaller constant, or generate rows with a table \
             function in FROM (FROM range(n)), which runs under the deadline",
            self.function,
            thousands(self.size),
            thousands(MAX_CONST_ELEMENTS)
        )
    }
}

fn thousands(x: f64) -> String {
    if !x.is_finite() || x >= 1e18 {
        return format!("{x:.3e}");
    }
    let s = format!("{}", x.round() as u64);
    let mut out = String::new();
    for (k, c) in s.chars().enumerate() {
        if k > 0 && (s.len() - k) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn sizes(items: &[Node]) -> Result<f64, Oversized> {
    items.iter().try_fold(0.0, |acc, n| Ok(acc + size(n)?))
}

fn size(n: &Node) -> Result<f64, Oversized> {
    match n {
        Node::Str(s) => Ok(s.len() as f64),
        Node::Group { name, table, args, .. } => call(*name, *table, args),
        _ => Ok(0.0),
    }
}

/// Largest number written in a format string (`%1000000d`, `{:>1000000}`).
fn widest(fmt: &str) -> f64 {
    fmt.split(|c: char| !c.is_ascii_digit())
        .filter_map(|d| (!d.is_empty()).then(|| d.parse::<f64>().ok()).flatten())
        .fold(0.0, f64::max)
}

fn call(name: Option<&str>, table: bool, args: &[Vec<Node>]) -> Result<f64, Oversized> {
    let arg_sizes = args.iter().map(|a| sizes(a)).collect::<Result<Vec<f64>, _>>()?;
    let inner: f64 = arg_sizes.iter().sum();
    let Some(name) = name else { return Ok(inner) };
    let f = name.to_ascii_lowercase();
    let num = |k: usize| args.get(k).and_then(|a| Arith::value(a));
    let sz = |k: usize| arg_sizes.get(k).copied().unwrap_or(0.0).max(1.0);
    let made = match f.as_str() {
        "range" | "generate_series" => {
            let inclusive = f == "generate_series";
            let (start, stop, step) = match args.len() {
                1 => (Some(0.0), num(0), Some(1.0)),
                2 => (num(0), num(1), Some(1.0)),
                3 => (num(0), num(1), num(2)),
                _ => (None, None, None),
            };
            match (start, stop, step) {
                (Some(a), Some(b), Some(s)) if s != 0.0 => {
                    let n = ((b - a) / s).floor() + if inclusive { 1.0 } else { 0.0 };
                    Some(if n.is_nan() { f64::INFINITY } else { n.max(0.0) })
                }
                _ => None,
            }
        }
        "repeat" => num(1).map(|k| sz(0) * k.max(0.0)),
        "lpad" | "rpad" => num(1),
        "list_resize" | "array_resize" => num(1).map(|k| k.max(0.0) * sz(2)),
        "printf" | "format" => match args.first().map(Vec::as_slice) {
            Some([Node::Str(s)]) => Some(widest(s)),
            _ => None,
        },
        "list_transform" | "array_transform" | "list_apply" | "array_apply" | "apply" | "list_filter"
        | "array_filter" | "filter" if args.len() == 2 => Some(sz(0) * sz(1)),
        _ => None,
    };
    match made {
        Some(m) if !table && !(m <= MAX_CONST_ELEMENTS) => Err(Oversized { function: name.to_string(), size: m }),
        // A table function in FROM streams at execution, under the deadline.
        Some(_) if table => Ok(inner),
        Some(m) => Ok(m + inner),
        None => Ok(inner),
    }
}

/// Refuses SQL whose constant-folded generating functions exceed [`MAX_CONST_ELEMENTS`]
/// each or [`MAX_CONST_TOTAL`] in all (or that nests deeper than DuckDB would accept).
/// `Err` says why and what to do.
pub fn check(sql: &str) -> Result<(), String> {
    let nodes = parse(sql)?;
    let total = sizes(&nodes).map_err(|o| o.to_string())?;
    if !(total <= MAX_CONST_TOTAL) {
        return Err(format!(
            "refused before planning: the query's generating functions and string constants would build about {} \
             elements in all while DuckDB plans it (it folds them one after another, outside the deadline); qt allows \
             at most {} per query. Use fewer or smaller constants, or generate rows with a table function in FROM \
             (FROM range(n)), which runs under the deadline",
            thousands(total),
            thousands(MAX_CONST_TOTAL)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(sql: &str) -> bool {
        check(sql).is_err()
    }

    #[test]
    fn many_generators_each_under_the_bound_are_refused_in_all() {
        let terms = |n: usize| (0..n).map(|i| format!("len(range({}))", 999_999 - i)).collect::<Vec<_>>().join(" + ");
        assert!(!refused(&format!("SELECT {}", terms(3))));
        let e = check(&format!("SELECT {}", terms(400))).unwrap_err();
        assert!(e.contains("in all") && e.contains("4,000,000 per query"), "{e}");
        // Table functions stream under the deadline: not counted.
        assert!(!refused("SELECT count(*) FROM range(900000) a, range(900000) b, range(900000) c, range(900000) d, range(900000) e"));
    }

    #[test]
    fn large_constant_generators_are_refused() {
        for sql in [
            "SELECT len(range(300000000))",
            "SELECT len(range(1e9))",
            "SELECT len(range(3e8::BIGINT))",
            "SELECT len(range(CAST(1e9 AS BIGINT)))",
            "SELECT len(range(10 ** 9))",
            "SELECT len(range(1000 * 1000 * 10))",
            "SELECT len(range(1_000_000_000))",
            "SELECT len(range(1.5e7))",
            "SELECT len(generate_series(1, 2000000))",
            "SELECT len(range(0, 1e12, 1000))",
            "SELECT length(repeat('x', 2000000))",
            "SELECT length(repeat(repeat('ab', 100000), 100000))",
            "SELECT len(repeat(range(2000), 1000))",
            "SELECT length(lpad('a', 500000000, 'b'))",
            "SELECT length(rpad('a', 2e6::INT, 'b'))",
            "SELECT len(list_resize([1], 5000000))",
            "SELECT length(printf('%1000000000d', 1))",
            "SELECT length(format('{:>100000000}', 1))",
            "SELECT len(list_transform(range(2000), x -> range(2000)))",
            "SELECT * FROM unnest(range(100000000))",
            "SELECT * FROM t, range(10) r WHERE x IN (1, len(range(100000000)))",
            "SELECT * FROM t, (SELECT len(range(100000000))) s",
            "SELECT count(*) FROM t WHERE x IN (SELECT unnest(range(5000000)))",
            "with a as (select 1) select len(RANGE(300000000)) from a",
        ] {
            assert!(refused(sql), "{sql} should be refused");
        }
        let m = check("SELECT len(range(300000000))").unwrap_err();
        assert!(m.contains("range(...)") && m.contains("300,000,000") && m.contains("1,000,000"), "{m}");
    }

    #[test]
    fn ordinary_queries_pass() {
        for sql in [
            "SELECT 1",
            "SELECT len(range(1000))",
            "SELECT count(*) FROM range(1000000000)",
            "SELECT count(*) FROM range(100000000) a, range(100000000) b",
            "SELECT count(*) FROM (SELECT 1) a, LATERAL generate_series(1, 100000000) b",
            "SELECT * FROM t JOIN range(5000000) r ON true, range(5000000) s",
            "SELECT * FROM range(0, 100000000, 1) t(x) JOIN generate_series(1, 100000000) g(y) ON x = y",
            "SELECT repeat('x', 10), lpad(s, 20, '0') FROM t",
            "SELECT range(x) FROM t",
            "SELECT repeat('-', n) FROM t",
            "SELECT ss_item_sk FROM store_sales WHERE ss_quantity BETWEEN 1 AND 20000000",
            "SELECT 'range(1e9)' AS s -- range(1e9)",
            "SELECT substr(s, 1, 100000000) FROM t",
            "SELECT printf('%d items', 5)",
            "SELECT [x * 2 FOR x IN range(10)]",
            "SELECT 1e308 * 10",
        ] {
            assert_eq!(check(sql), Ok(()), "{sql}");
        }
    }

    #[test]
    fn hostile_shapes_never_crash() {
        let deep = format!("SELECT {}1{}", "(".repeat(5000), ")".repeat(5000));
        assert!(check(&deep).is_err());
        for sql in ["SELECT ((((", "SELECT )))", "SELECT range(", "SELECT range(,,)", "SELECT range(1, 'a')", "SELECT range(0/0)"] {
            let _ = check(sql);
        }
        assert!(refused("SELECT len(range(0, 1e9, 0.0000001))"));
    }
}
