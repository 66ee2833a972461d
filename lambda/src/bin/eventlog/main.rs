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

/// The command line as clap describes it, with every default shown and
/// environment variables named without their current values.
fn command() -> clap::Command {
    use clap::CommandFactory;
    annotate(Cli::command(), &checkpoint::defaults())
}

/// `[default: …]` after each help text `defaults` names (settings whose
/// defaults come from the settings type, so clap cannot see them), and
/// `[env: NAME]` without the value, on this command and its subcommands.
fn annotate(cmd: clap::Command, defaults: &[(&str, String)]) -> clap::Command {
    let cmd = cmd.mut_args(|a| {
        let a = a.hide_env_values(true);
        match defaults.iter().find(|(id, _)| *id == a.get_id().as_str()) {
            Some((_, default)) if a.get_default_values().is_empty() => {
                let help = a.get_help().map(ToString::to_string).unwrap_or_default();
                a.help(format!("{help} [default: {default}]"))
            }
            _ => a,
        }
    });
    cmd.mut_subcommands(|sub| annotate(sub, defaults))
}

fn main() -> ExitCode {
    use clap::FromArgMatches;
    let parsed = command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
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
