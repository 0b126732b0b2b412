//! Re-binding: judging a query whose literals the sample does not hold (a date range the
//! 1% slice misses, a rare category) by changing those literals, the same way in the
//! original and in the candidate, to values the data does hold.
//!
//! `slots.rs` finds the literals compared with a column (sqlparser's AST, with the source
//! position of each token), `binding.rs` applies a binding to any query's text (numbers
//! shift per column, strings map per column and value, dates shift together), and
//! `search.rs` draws bindings from probes of the data (run in the sandbox on every
//! instance) and tries them, a bounded number of times, until the original returns enough
//! rows. A candidate that hard-coded a value the binding changed keeps its old value and
//! fails: it only matched this sample by coincidence.
//!
//! It decides no verdict: `reference.rs` uses it.

mod binding;
mod search;
mod slots;

pub use binding::{Binding, Change, apply, describe};
pub use search::{NotFound, Rebound, RunAll, Score, search};
pub use slots::parse_one;
