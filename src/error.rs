//! Exit codes shared by every subcommand (see OUTPUT.md): 0 done, 1 failure,
//! 2 bad input, 130 interrupted. Modules keep their own `thiserror` types; this file
//! only names the markers; `commands::exit_code_of` maps errors to codes.

/// Marker for errors caused by the user's input (spec, files, flags): exit code 2.
/// Wrap any error with `BadInput` (or return one) to make `main` exit with 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// Marker for an interrupted run (Ctrl+C): exit code 130.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILURE: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;
pub const EXIT_INTERRUPTED: i32 = 130;
