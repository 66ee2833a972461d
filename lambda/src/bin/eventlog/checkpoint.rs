//! `eventlog checkpoint`: merge new event files into parquet checkpoints.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use eventlog::CliError;
use eventlog::budget::Budget;
use eventlog_checkpoint::config::{RunSettings, Template};
use eventlog_checkpoint::progress::{Progress, Silent};
use eventlog_checkpoint::summary::RunStatus;
use eventlog_checkpoint::{KeyRef, RunInput, RunOptions, new_run_id, run};
use eventlog_store::deadline::Bounded;
use eventlog_store::location::{AnyStore, Location, overlap_exclusions};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where the event files are: a directory (the embedded default) or
    /// s3://bucket/prefix (credentials and region from the standard AWS
    /// chain; EVENTLOG_S3_ENDPOINT for an S3-compatible server).
    #[arg(long, env = "EVENTLOG_SOURCE")]
    source: Option<String>,
    /// Where the checkpoints, the ledger and the errors files go: a directory or s3://bucket/prefix.
    #[arg(long, env = "EVENTLOG_CHECKPOINTS")]
    checkpoints: Option<String>,
    /// Checkpoint key under the checkpoint root; must contain {study} and {datatype}.
    #[arg(long, env = "EVENTLOG_TEMPLATE")]
    template: Option<String>,
    /// Objects read at once.
    #[arg(long, env = "EVENTLOG_CONCURRENCY")]
    concurrency: Option<usize>,
    /// Objects larger than this many bytes are reported and not read.
    #[arg(long, env = "EVENTLOG_MAX_OBJECT_BYTES")]
    max_object_bytes: Option<u64>,
    /// Take at most this many new files (and other new names) this run, the
    /// first in key order; the rest are reported as deferred and taken by
    /// the next runs.
    #[arg(long, env = "EVENTLOG_MAX_FILES")]
    max_files: Option<usize>,
    /// Process exactly the keys in FILE (one per line, `-` for stdin; keys
    /// of the source bucket, or paths under the source directory) instead
    /// of listing the source.
    #[arg(long, value_name = "FILE")]
    keys: Option<PathBuf>,
    /// Key ranges listed at once on S3.
    #[arg(long, env = "EVENTLOG_LIST_CONCURRENCY")]
    list_concurrency: Option<usize>,
    /// Pages listed by one paginator before a sweep divides the rest (S3).
    #[arg(long, env = "EVENTLOG_LIST_FIRST_PAGES")]
    list_first_pages: Option<usize>,
    /// Compact the ledger's segments into a snapshot after this many.
    #[arg(long, env = "EVENTLOG_LEDGER_COMPACT_SEGMENTS")]
    compact_segments: Option<u64>,
    /// A TOML file with any of: source, checkpoints, template, concurrency,
    /// max_object_bytes, group_parallelism, max_commit_attempts, max_files,
    /// list_concurrency, list_first_pages, compact_segments. Flags and environment variables
    /// take precedence.
    #[arg(long, env = "EVENTLOG_CONFIG")]
    config: Option<PathBuf>,
    /// Finish within this many seconds: reading stops early enough to
    /// commit what was read, no request waits past the end, and a run cut
    /// short exits non-zero, saying what it left for the next run.
    #[arg(long, env = "EVENTLOG_DEADLINE_SECONDS", value_name = "SECONDS")]
    deadline: Option<f64>,
    /// Print the run summary as JSON.
    #[arg(long, conflicts_with = "quiet")]
    json: bool,
    /// Print nothing but errors; the exit code tells the outcome.
    #[arg(long, short)]
    quiet: bool,
}

/// The defaults of the options above (they live in [`RunSettings`], below
/// the file and the environment in precedence), for `--help`.
pub fn defaults() -> Vec<(&'static str, String)> {
    let d = RunSettings::default();
    vec![
        ("template", d.template.clone()),
        ("concurrency", d.concurrency.to_string()),
        ("max_object_bytes", d.max_object_bytes.to_string()),
        ("max_files", String::from("no limit")),
        ("list_concurrency", d.list_concurrency.to_string()),
        ("list_first_pages", d.list_first_pages.to_string()),
        ("compact_segments", d.compact_segments.to_string()),
        ("deadline", String::from("none")),
        (
            "threshold",
            eventlog_xapi::XapiSettings::default().threshold.to_string(),
        ),
    ]
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    source: Option<String>,
    checkpoints: Option<String>,
    template: Option<String>,
    concurrency: Option<usize>,
    max_object_bytes: Option<u64>,
    group_parallelism: Option<usize>,
    max_commit_attempts: Option<u32>,
    max_files: Option<usize>,
    list_concurrency: Option<usize>,
    list_first_pages: Option<usize>,
    compact_segments: Option<u64>,
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

fn prepare(args: &Args) -> Result<(Location, Location, RunSettings), CliError> {
    let file: FileConfig = match &args.config {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|source| CliError::Io {
                path: p.display().to_string(),
                source,
            })?;
            toml::from_str(&text).map_err(|e| CliError::Usage(format!("{}: {e}", p.display())))?
        }
        None => FileConfig::default(),
    };
    let defaults = RunSettings::default();
    let settings = RunSettings {
        template: args
            .template
            .clone()
            .or(file.template)
            .unwrap_or_else(|| Template::DEFAULT.to_string()),
        concurrency: args
            .concurrency
            .or(file.concurrency)
            .unwrap_or(defaults.concurrency),
        max_object_bytes: args
            .max_object_bytes
            .or(file.max_object_bytes)
            .unwrap_or(defaults.max_object_bytes),
        group_parallelism: file.group_parallelism.unwrap_or(defaults.group_parallelism),
        max_commit_attempts: file
            .max_commit_attempts
            .unwrap_or(defaults.max_commit_attempts),
        max_files: args.max_files.or(file.max_files),
        list_concurrency: args
            .list_concurrency
            .or(file.list_concurrency)
            .unwrap_or(defaults.list_concurrency),
        list_first_pages: args
            .list_first_pages
            .or(file.list_first_pages)
            .unwrap_or(defaults.list_first_pages),
        compact_segments: args
            .compact_segments
            .or(file.compact_segments)
            .unwrap_or(defaults.compact_segments),
    };
    let mut problems = Vec::new();
    if let Err(e) = settings.check() {
        problems.push(e.message);
    }
    let source = args
        .source
        .clone()
        .or(file.source)
        .ok_or("--source (or EVENTLOG_SOURCE, or `source` in the config file) is required");
    let checkpoints = args.checkpoints.clone().or(file.checkpoints).ok_or(
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
    settings: RunSettings,
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
    let budget = match args
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
            settings,
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
