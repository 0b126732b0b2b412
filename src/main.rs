//! `qt` entry point: parse arguments, call one function per subcommand, map errors to
//! exit codes (0 done, 1 failure, 2 bad input, 130 interrupted).

use clap::Parser;
use qt::cli::{Cli, Command, DbCommand};
use qt::error::{BadInput, EXIT_BAD_INPUT, EXIT_FAILURE};

fn main() {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Run(a) => qt::run::run_cmd(a),
        Command::Plan(a) => qt::run::plan_cmd::plan_cmd(a),
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
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(if is_bad_input(&e) { EXIT_BAD_INPUT } else { EXIT_FAILURE });
        }
    }
}

fn is_bad_input(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<BadInput>() || c.is::<qt::spec::SpecError>())
}
