//! `eventlog checkpoint`: merge new event files into parquet checkpoints.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use eventlog::CliError;
use eventlog::budget::Budget;
use eventlog_checkpoint::progress::{Progress, Silent};
use eventlog_checkpoint::settings::{SETTINGS, Settings};
use eventlog_checkpoint::summary::RunStatus;
use eventlog_checkpoint::{KeyRef, RunInput, RunOptions, new_run_id, run};
use eventlog_store::deadline::Bounded;
use eventlog_store::location::{AnyStore, Location, overlap_exclusions};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The settings of the table in `eventlog_checkpoint::settings`.
    #[command(flatten)]
    settings: SettingArgs,
    /// Process exactly the keys in FILE (one per line, `-` for stdin; keys
    /// of the source bucket, or paths under the source directory) instead
    /// of listing the source.
    #[arg(long, value_name = "FILE")]
    keys: Option<PathBuf>,
    /// A TOML file with any of the settings' file keys (see the README).
    /// Flags and environment variables take precedence.
    #[arg(long, env = "EVENTLOG_CONFIG")]
    config: Option<PathBuf>,
    /// Print the run summary as JSON.
    #[arg(long, conflicts_with = "quiet")]
    json: bool,
    /// Print nothing but errors; the exit code tells the outcome.
    #[arg(long, short)]
    quiet: bool,
}

/// The flags of [`SETTINGS`], made from the table: each value as given
/// (flag or environment), checked by the parse its setting will use.
#[derive(Debug, Default)]
struct SettingArgs(Vec<(&'static str, String)>);

impl clap::FromArgMatches for SettingArgs {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Ok(SettingArgs(
            SETTINGS
                .iter()
                .filter(|s| s.flag.is_some())
                .filter_map(|s| m.get_one::<String>(s.key).map(|v| (s.key, v.clone())))
                .collect(),
        ))
    }
    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl clap::Args for SettingArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        SETTINGS.iter().fold(cmd, |cmd, s| {
            let Some(flag) = s.flag else {
                return cmd;
            };
            let key = s.key;
            let arg = clap::Arg::new(key)
                .long(flag)
                .value_name(s.value_name)
                .help(s.doc)
                .value_parser(move |v: &str| {
                    Settings::default()
                        .set(key, v)
                        .map(|()| v.to_string())
                        .map_err(|e| e.message)
                });
            cmd.arg(match s.env {
                Some(env) => arg.env(env),
                None => arg,
            })
        })
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

/// The defaults of the settings, for `--help` (clap cannot see them: they
/// sit below the file in precedence).
pub fn defaults() -> Vec<(&'static str, String)> {
    SETTINGS
        .iter()
        .filter(|s| s.default != Some("required"))
        .map(|s| (s.key, s.default_text()))
        .chain([(
            "threshold",
            eventlog_xapi::XapiSettings::default().threshold.to_string(),
        )])
        .collect()
}

pub fn run_cmd(args: Args) -> ExitCode {
    let input = match read_keys(args.keys.as_deref()) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("eventlog checkpoint: {e}");
            return ExitCode::from(2);
        }
    };
    match prepare(&args) {
        Ok((source, checkpoints, settings)) => execute(&args, source, checkpoints, settings, input),
        Err(msg) => {
            eprintln!("eventlog checkpoint: {msg}");
            ExitCode::from(2)
        }
    }
}

/// The keys to process, from a file or stdin: one per line, blank lines
/// and `#` comments ignored. No file: a sweep.
fn read_keys(path: Option<&std::path::Path>) -> Result<RunInput, CliError> {
    let Some(path) = path else {
        return Ok(RunInput::Sweep);
    };
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(|source| CliError::Io {
            path: "stdin".into(),
            source,
        })?
    } else {
        std::fs::read_to_string(path).map_err(|source| CliError::Io {
            path: path.display().to_string(),
            source,
        })?
    };
    let keys = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| KeyRef {
            key: l.trim_start_matches('/').to_string(),
            version: None,
        })
        .collect();
    Ok(RunInput::Keys(keys))
}

fn prepare(args: &Args) -> Result<(Location, Location, Settings), CliError> {
    let mut settings: Settings = match &args.config {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|source| CliError::Io {
                path: p.display().to_string(),
                source,
            })?;
            toml::from_str(&text).map_err(|e| CliError::Usage(format!("{}: {e}", p.display())))?
        }
        None => Settings::default(),
    };
    for (key, value) in &args.settings.0 {
        settings
            .set(key, value)
            .map_err(|e| CliError::Usage(e.message))?;
    }
    let mut problems = Vec::new();
    if let Err(e) = settings.run.check() {
        problems.push(e.message);
    }
    let source = settings
        .source
        .clone()
        .ok_or("--source (or EVENTLOG_SOURCE, or `source` in the config file) is required");
    let checkpoints = settings.checkpoints.clone().ok_or(
        "--checkpoints (or EVENTLOG_CHECKPOINTS, or `checkpoints` in the config file) is required",
    );
    let source = source
        .map_err(String::from)
        .and_then(|s| Location::parse(&s).map_err(|e| format!("source {e}")));
    let checkpoints = checkpoints
        .map_err(String::from)
        .and_then(|s| Location::parse(&s).map_err(|e| format!("checkpoints {e}")));
    if let Err(e) = &source {
        problems.push(e.clone());
    }
    if let Err(e) = &checkpoints {
        problems.push(e.clone());
    }
    if let Ok(Location::Local(p)) = &source
        && !p.is_dir()
    {
        problems.push(format!("source {} is not a directory", p.display()));
    }
    match (source, checkpoints) {
        (Ok(source), Ok(checkpoints)) if problems.is_empty() => Ok((source, checkpoints, settings)),
        _ => Err(CliError::Usage(problems.join("; "))),
    }
}

struct Bar(indicatif::ProgressBar, std::sync::Mutex<String>);

impl Progress for Bar {
    fn stage(&self, name: &str, total: Option<u64>) {
        self.0.reset();
        match total {
            Some(t) => {
                self.0.set_length(t);
                self.0.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{msg:>9} [{bar:40}] {pos}/{len} {per_sec} eta {eta}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
            }
            None => {
                self.0.unset_length();
                self.0
                    .set_style(indicatif::ProgressStyle::default_spinner());
                self.0.enable_steady_tick(Duration::from_millis(120));
            }
        }
        self.0.set_message(name.to_string());
        *self.1.lock().unwrap_or_else(|e| e.into_inner()) = name.to_string();
    }
    fn advance(&self, n: u64) {
        self.0.inc(n);
        // A spinner has no count of its own: files read while listing show
        // in its message.
        if self.0.length().is_none() {
            let name = self.1.lock().unwrap_or_else(|e| e.into_inner());
            self.0
                .set_message(format!("{name} ({} read)", self.0.position()));
        }
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

fn execute(
    args: &Args,
    source: Location,
    checkpoints: Location,
    settings: Settings,
    input: RunInput,
) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("eventlog checkpoint: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let budget = match settings
        .deadline
        .map(|d| Budget::from_seconds(d, "--deadline"))
        .transpose()
    {
        Ok(b) => b,
        Err(e) => {
            eprintln!("eventlog checkpoint: {e}");
            return ExitCode::from(2);
        }
    };
    let exclude = overlap_exclusions(&source, &checkpoints);
    let show_bar = !args.quiet && !args.json && std::io::stderr().is_terminal();
    let progress: Box<dyn Progress> = if show_bar {
        Box::new(Bar(
            indicatif::ProgressBar::new_spinner(),
            Default::default(),
        ))
    } else {
        Box::new(Silent)
    };
    let result = runtime.block_on(async {
        let needs_s3 =
            matches!(source, Location::S3 { .. }) || matches!(checkpoints, Location::S3 { .. });
        let s3 = if needs_s3 {
            Some(eventlog_store::s3::client(&eventlog_store::s3::S3Config::from_env()).await)
        } else {
            None
        };
        let (src, src_prefix) = AnyStore::open(&source, s3.as_ref())?;
        let (dst, dst_prefix) = AnyStore::open(&checkpoints, s3.as_ref())?;
        let hard = budget.map(|b| b.hard);
        let (src, dst) = (Bounded::new(src, hard), Bounded::new(dst, hard));
        let opts = RunOptions {
            settings: settings.run,
            run_id: new_run_id(None),
            deadline: budget.map(|b| b.stop_reading_std()),
            input,
        };
        Ok::<_, CliError>(
            run(
                &src,
                &src_prefix,
                &dst,
                &dst_prefix,
                &exclude,
                &opts,
                progress.as_ref(),
            )
            .await?,
        )
    });
    progress.finish();
    finish(args, result)
}

/// Print the summary (or the error); the exit code says how the run went.
fn finish(
    args: &Args,
    result: Result<eventlog_checkpoint::summary::RunSummary, CliError>,
) -> ExitCode {
    match result {
        Ok(summary) => {
            if args.json {
                println!("{}", serde_json::to_string(&summary).unwrap_or_default());
            } else if !args.quiet {
                print!("{}", summary.to_text());
            }
            match summary.status {
                RunStatus::Success => ExitCode::SUCCESS,
                RunStatus::Partial => ExitCode::from(1),
                RunStatus::Failure => ExitCode::from(2),
            }
        }
        Err(e) => {
            eprintln!("eventlog checkpoint: {e}");
            ExitCode::from(2)
        }
    }
}
