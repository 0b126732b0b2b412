//! The command line, and the only place that knows it: clap types (`cli.rs`) and one file
//! per subcommand that turns its flags into the domain module's own options and calls it.
//! Below this layer nothing imports clap or `crate::commands` (`tests/architecture.rs`).

pub mod bench;
pub mod cli;
pub mod confirm;
pub mod db;
pub mod merge;
pub mod overrides;
pub mod plan;
pub mod report;
pub mod run;
pub mod signals;
pub mod validate;

use cli::{Command, DbCommand};

/// Run one parsed command; returns its exit code (errors are mapped by [`exit_code_of`]).
pub fn dispatch(command: &Command) -> anyhow::Result<i32> {
    signals::install(match command {
        Command::Run(_) | Command::Confirm(_) => "stopping new work, writing a true summary",
        _ => "stopping",
    });
    match command {
        Command::Run(a) => run::run(a),
        Command::Plan(a) => plan::plan(a),
        Command::Merge(a) => merge::merge(a),
        Command::Validate(a) => validate::validate(a),
        Command::Db(DbCommand::Generate(a)) => db::generate(a).map(|_| 0),
        Command::Db(DbCommand::Survey(a)) => db::survey(a),
        Command::Db(DbCommand::Load(a)) => db::load(a),
        Command::Bench(a) => bench::bench(a),
        Command::Report(a) => report::report(a),
        Command::Compare(a) => report::compare(a),
        Command::Confirm(a) => confirm::confirm(a),
    }
}

/// The exit code `main` gives an error: 2 for bad input (spec, flags, files), else 1.
pub fn exit_code_of(e: &anyhow::Error) -> i32 {
    use crate::error::{BadInput, EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_INTERRUPTED, Interrupted};
    if crate::stop::signalled() || e.chain().any(|c| c.is::<Interrupted>()) {
        return EXIT_INTERRUPTED; // whatever failed after Ctrl+C failed because of it
    }
    if e.chain().any(|c| c.is::<BadInput>() || c.is::<crate::spec::SpecError>()) { EXIT_BAD_INPUT } else { EXIT_FAILURE }
}
