//! Files on disk, knowing no names: atomic writes (a reader never sees half a file or
//! folder), advisory locks (one writer per folder, the machine-wide timing lock) and the
//! policy of every wait for a lock (`wait.rs`: told, bounded, interruptible).
//! Which files exist and what they hold is record/'s business.

pub mod atomic;
pub mod lock;
pub mod wait;

pub use atomic::{write_atomic, write_dir_atomic};
