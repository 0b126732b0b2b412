//! The value model every result is read into, as the validator names it: the engine seam
//! owns it (`db/value.rs`); this re-export keeps `validate::resultset::*` paths.

pub use crate::db::value::*;
