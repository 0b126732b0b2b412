//! Experiment specs: TOML types, loading with error spans, env expansion, matrix expansion.
pub mod types;
pub use types::*;
