//! PostgreSQL behind the engine seam: a server's database named by a URL (`target.rs`),
//! the sandboxed session (`session.rs`: SELECT-only role, READ ONLY transaction rolled
//! back, statement_timeout and a client-side cancel), PostgreSQL's binary values into
//! qt's value model (`values.rs`), the catalog (`catalog.rs`: schema, fingerprint, version,
//! the role check), plans (`explain.rs`) and `qt db load` (`load.rs`).
//!
//! The client is the `postgres` crate (synchronous: validation blocks on its own threads).

pub mod catalog;
pub mod explain;
pub mod load;
pub mod session;
pub mod target;
pub mod values;

pub use session::PgSession;
pub use target::{PgTarget, is_pg_url};
