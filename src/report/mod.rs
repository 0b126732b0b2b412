//! Everything the user reads on the terminal: progress bars, one line per finished
//! generation, the RESULTS block and the sweep table. It renders events and summaries;
//! it never decides or stores anything.

pub mod console;
pub mod stdout;
pub mod sweep;

pub use console::Console;
