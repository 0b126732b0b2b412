//! The sandbox every piece of SQL runs in, as the validator sees it: sessions of the
//! engine seam (`db::Sandbox`: one query statement by the engine's own parser, a
//! read-only session, no external access, locked configuration, a deadline per execution,
//! row and byte caps), reused through the pool (`pool.rs`).
//!
//! It does not compare or time anything; it only hands out sessions that run one query
//! and return its rows.

pub mod pool;

pub use crate::db::duck::spill;
pub use crate::db::gate::GateError;
pub use crate::db::session::{
    ExecError, Execution, OpenError, RESULT_BYTES_CAP, Sandbox, WATCHDOG_TICK, check_single_query,
    result_bytes,
};
