//! `qt` entry point: parse arguments, dispatch to `commands/` (one function per
//! subcommand), map errors to exit codes (0 done, 1 failure, 2 bad input, 130
//! interrupted). stdout/stderr failures never panic (see `stdio.rs`).

use clap::Parser;
use qt::commands::{self, cli::Cli};
use qt::stdio;

fn main() {
    stdio::guard_std_fds();
    stdio::install_panic_hook();
    let cli = Cli::parse();
    let code = match commands::dispatch(&cli.command) {
        Ok(code) => code,
        Err(e) => {
            qt::errln!("error: {e:#}");
            commands::exit_code_of(&e)
        }
    };
    // Stopped by Ctrl+C/SIGTERM: 130, whatever the command made of it (commands/signals.rs).
    let code = if qt::stop::signalled() && code != 0 { qt::error::EXIT_INTERRUPTED } else { code };
    // Never exit() while another thread is inside DuckDB (see stop.rs).
    qt::stop::exit(stdio::finish(code));
}
