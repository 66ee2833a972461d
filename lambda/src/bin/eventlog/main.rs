//! `eventlog`: validate event files by hand, build checkpoints, load xAPI.
// The checkpoint run's future nests every store wrapper's futures.
#![recursion_limit = "256"]

mod checkpoint;
mod report;
mod validate;
mod xapi;
mod xapi_check;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "eventlog",
    version,
    about = "Event logs in files to analytics-ready tables"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check visit-event files with the consumer's rules (exit 0 all valid,
    /// 1 some invalid, 2 usage or I/O error).
    Validate(validate::Args),
    /// Merge new event files into parquet checkpoints, exactly once per file
    /// version (exit 0 success, 1 partial, 2 failure or bad configuration).
    Checkpoint(checkpoint::Args),
    /// The monthly report over the checkpoints: index.html (charts and
    /// tables, self-contained) and the same tables as CSV files.
    Report(report::Args),
    /// Load xAPI statements (JSONL) into ClickHouse.
    #[command(subcommand)]
    Xapi(xapi::Command),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // --help and --version are not errors.
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Checkpoint(args) => {
            eventlog::logging::init_cli();
            checkpoint::run_cmd(args)
        }
        Command::Report(args) => report::run(args),
        Command::Xapi(cmd) => {
            eventlog::logging::init_cli();
            xapi::run(cmd)
        }
    }
}
