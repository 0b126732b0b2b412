//! DuckDB behind the engine seam: the sandboxed session (`session.rs`), DuckDB values into
//! qt's value model (`values.rs`) and the sandbox's spill folders (`spill.rs`). The rest of
//! DuckDB's side lives beside the seam in `db/` (generation and cache of sample files, the
//! parser gate, plan analysis, schema, fingerprint), reached only through `db::Target`
//! and `db::Sandbox` from the layers above.

pub mod session;
pub mod spill;
pub mod values;
