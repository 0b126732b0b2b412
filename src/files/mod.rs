//! Files on disk, knowing no names: atomic writes (a reader never sees half a file or
//! folder) and advisory locks (one writer per folder, the machine-wide timing lock).
//! Which files exist and what they hold is record/'s business.

pub mod atomic;
pub mod lock;

pub use atomic::{write_atomic, write_dir_atomic};
