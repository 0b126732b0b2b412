//! `qt` entry point: parse arguments, call one function per subcommand, map errors to
//! exit codes (0 done, 1 failure, 2 bad input, 130 interrupted). stdout/stderr failures
//! never panic (see `report::stdout`).

use clap::Parser;
use qt::cli::{Cli, Command, DbCommand};
use qt::report::stdout;

fn main() {
    stdout::guard_std_fds();
    stdout::install_panic_hook();
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Run(a) => qt::run::run_cmd(a),
        Command::Plan(a) => qt::run::plan_cmd::plan_cmd(a),
        Command::Merge(a) => qt::merge::merge_cmd(a),
        Command::Validate(a) => {
            let cfg = qt::validate::ValidatorConfig { timing_rounds: a.rounds, threads: a.threads, ..Default::default() };
            qt::validate::validate_cmd(a, cfg)
        }
        Command::Db(DbCommand::Generate(a)) => qt::db::generate_args_cmd(a).map(|_| 0),
        Command::Db(DbCommand::Survey(a)) => qt::validate::survey::survey_cmd(a),
        Command::Bench(a) => qt::bench::bench_cmd(a),
        Command::Report(a) => qt::report::report_cmd(a),
        Command::Compare(a) => qt::report::compare_cmd(a),
    };
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            qt::errln!("error: {e:#}");
            qt::error::exit_code_of(&e)
        }
    };
    std::process::exit(stdout::finish(code));
}
