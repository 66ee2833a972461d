//! `eventlog xapi`: the xAPI loader from the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use eventlog::CliError;
use eventlog::budget::Budget;
use eventlog::env::env_var as env;
use eventlog::xapi_front::{Answer, bulk, handle};
use eventlog_core::xapi::sql::{Target, ddl};
use eventlog_xapi::bulk::{BulkRequest, DateSource};
use eventlog_xapi::clickhouse::ClickHouse;
use eventlog_xapi::{LoadPath, LoadTarget, Loader, XapiConfig, XapiFile};
use serde_json::Value;

/// Which tables: the original five (the default) or Torus's `raw_events`
/// and `experiment_attributions`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TargetChoice {
    FiveTables,
    RawEvents,
}

impl TargetChoice {
    pub fn target(self) -> LoadTarget {
        match self {
            TargetChoice::FiveTables => LoadTarget::FiveTables,
            TargetChoice::RawEvents => LoadTarget::RawEvents,
        }
    }
}

/// The `--target` flag every xAPI subcommand takes.
#[derive(clap::Args, Clone, Copy, Debug)]
pub struct TargetArg {
    /// The tables: five-tables (the original ETL's) or raw-events
    /// (raw_events and experiment_attributions, what Torus reads today).
    #[arg(long, value_enum, env = "XAPI_TARGET", default_value_t = TargetChoice::FiveTables)]
    pub target: TargetChoice,
}

/// The run-wide time budget of `load` and `bulk`.
#[derive(clap::Args, Clone, Copy, Debug)]
pub struct DeadlineArg {
    /// Finish within this many seconds: no request waits past the end,
    /// and files not loaded by then are reported failed (retryable), never
    /// half-claimed.
    #[arg(long, env = "EVENTLOG_DEADLINE_SECONDS", value_name = "SECONDS")]
    pub deadline: Option<f64>,
}

/// Which load path: chosen by file count, or forced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PathChoice {
    Auto,
    InProcess,
    ServerSide,
}

impl PathChoice {
    fn forced(self) -> Option<LoadPath> {
        match self {
            PathChoice::Auto => None,
            PathChoice::InProcess => Some(LoadPath::InProcess),
            PathChoice::ServerSide => Some(LoadPath::ServerSide),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DateFrom {
    /// The upload time in the key.
    Key,
    /// The object's LastModified.
    Modified,
}

#[derive(clap::Args)]
pub struct BulkArgs {
    #[arg(long, env = "S3_XAPI_BUCKET_NAME")]
    bucket: String,
    #[arg(long, default_value = eventlog_trigger::xapi::DEFAULT_PREFIX)]
    prefix: String,
    /// Only these sections (repeatable).
    #[arg(long = "section")]
    sections: Vec<String>,
    /// First day (UTC, YYYY-MM-DD), included.
    #[arg(long)]
    from: Option<chrono::NaiveDate>,
    /// Last day (UTC), included.
    #[arg(long)]
    to: Option<chrono::NaiveDate>,
    /// Date of a file: key (the upload time in its name) or modified (LastModified).
    #[arg(long, value_enum, default_value_t = DateFrom::Key)]
    date_source: DateFrom,
    #[arg(long)]
    dry_run: bool,
    /// Insert again even blocks ClickHouse remembers (after deleting rows).
    #[arg(long)]
    force_reprocess: bool,
    #[arg(long, value_enum, default_value_t = PathChoice::Auto)]
    path: PathChoice,
    #[command(flatten)]
    target: TargetArg,
    #[command(flatten)]
    deadline: DeadlineArg,
}

impl BulkArgs {
    fn request(self) -> BulkRequest {
        BulkRequest {
            bucket: self.bucket,
            prefix: self.prefix,
            section_ids: self.sections,
            start_date: self.from,
            end_date: self.to,
            date_source: match self.date_source {
                DateFrom::Key => DateSource::Key,
                DateFrom::Modified => DateSource::Modified,
            },
            dry_run: self.dry_run,
            force_reprocess: self.force_reprocess,
        }
    }
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Check JSONL files line by line as the loader would (no ClickHouse,
    /// no S3): exit 0 all clean, 1 invalid lines or schema issues, 2 unreadable.
    Check(crate::xapi_check::Args),
    /// Print the DDL of the target's tables (and create them with --create).
    Schema {
        #[command(flatten)]
        target: TargetArg,
        /// A ClickHouse cluster: replicated tables plus Distributed ones.
        #[arg(long, env = "CLICKHOUSE_CLUSTER")]
        cluster: Option<String>,
        #[arg(long, env = "CLICKHOUSE_DATABASE", default_value = "default")]
        database: String,
        /// Run the statements against ClickHouse (CLICKHOUSE_URL, …).
        #[arg(long)]
        create: bool,
    },
    /// Load JSONL files (paths or s3://bucket/key).
    Load {
        #[command(flatten)]
        target: TargetArg,
        #[arg(long, value_enum, default_value_t = PathChoice::Auto)]
        path: PathChoice,
        /// Files above which the server-side path is used.
        #[arg(long, env = "XAPI_SERVER_SIDE_THRESHOLD")]
        threshold: Option<usize>,
        #[command(flatten)]
        deadline: DeadlineArg,
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Load everything under a bucket prefix, optionally within dates.
    Bulk(BulkArgs),
    /// Process an S3 notification (or any event the Lambda takes) from a JSON file, `-` for stdin.
    Notify {
        #[command(flatten)]
        target: TargetArg,
        event: PathBuf,
    },
    /// Check ClickHouse, the tables and S3.
    Health {
        #[command(flatten)]
        target: TargetArg,
        #[arg(long, env = "S3_XAPI_BUCKET_NAME")]
        bucket: Option<String>,
    },
}

pub fn run(cmd: Command) -> ExitCode {
    let cmd = match cmd {
        Command::Check(args) => return crate::xapi_check::run(args),
        other => other,
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("eventlog xapi: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run_async(cmd)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("eventlog xapi: {e}");
            ExitCode::from(2)
        }
    }
}

/// Print an answer's body; its status is the exit code (0, 1 partial, 2).
fn print_response(answer: &Answer) -> ExitCode {
    let (shown, code) = match answer {
        Answer::Batch(b) => (
            serde_json::to_string_pretty(b),
            if b.batch_item_failures.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            },
        ),
        Answer::Status { status, body } => (
            serde_json::to_string_pretty(body),
            match status {
                200 => ExitCode::SUCCESS,
                207 => ExitCode::from(1),
                _ => ExitCode::from(2),
            },
        ),
    };
    println!("{}", shown.unwrap_or_default());
    code
}

async fn run_async(cmd: Command) -> Result<ExitCode, CliError> {
    if let Command::Schema {
        target,
        cluster,
        database,
        create,
    } = &cmd
    {
        return schema(
            target.target.target(),
            cluster.as_deref(),
            database,
            *create,
        )
        .await;
    }
    let deadline = match &cmd {
        Command::Load { deadline, .. } => deadline.deadline,
        Command::Bulk(args) => args.deadline.deadline,
        _ => None,
    };
    let hard = match deadline {
        Some(d) => Some(
            Budget::from_seconds(d, "--deadline")
                .map_err(CliError::Usage)?
                .hard,
        ),
        None => None,
    };
    let mut config = XapiConfig::from_env(&env)?;
    let ch = ClickHouse::new(config.clickhouse.clone())?.with_deadline(hard);
    // Only build an S3 client (and look up credentials) when S3 is involved.
    let needs_s3 = match &cmd {
        Command::Load { files, .. } => files.iter().any(|f| f.starts_with("s3://")),
        Command::Health { bucket, .. } => bucket.is_some(),
        _ => true,
    };
    let s3_client = if needs_s3 {
        Some(eventlog_store::s3::client(&eventlog_store::s3::S3Config::from_env()).await)
    } else {
        None
    };
    let (target, force) = match &cmd {
        Command::Load { target, path, .. } => (*target, path.forced()),
        Command::Bulk(args) => (args.target, args.path.forced()),
        Command::Notify { target, .. } | Command::Health { target, .. } => (*target, None),
        Command::Schema { .. } | Command::Check(_) => unreachable!("handled above"),
    };
    config.settings.target = target.target.target();
    config.settings.force = force;
    if let Command::Load {
        threshold: Some(t), ..
    } = &cmd
    {
        config.settings.threshold = *t;
    }
    let loader = Loader {
        ch: &ch,
        s3: s3_client.as_ref(),
        settings: &config.settings,
        deadline: hard,
    };
    match cmd {
        Command::Load { files, .. } => load(&loader, &files).await,
        Command::Bulk(args) => Ok(print_response(&bulk(&loader, &args.request()).await?)),
        Command::Notify { event, .. } => {
            notify(&loader, config.default_bucket.as_deref(), &event).await
        }
        Command::Health { bucket, .. } => {
            let h = eventlog_xapi::health::health(&loader, bucket.as_deref()).await;
            println!("{}", serde_json::to_string_pretty(&h).unwrap_or_default());
            Ok(if h["healthy"].as_bool() == Some(true) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
        Command::Schema { .. } | Command::Check(_) => unreachable!("handled above"),
    }
}

/// Print the DDL, or run it with `--create`.
async fn schema(
    target: LoadTarget,
    cluster: Option<&str>,
    database: &str,
    create: bool,
) -> Result<ExitCode, CliError> {
    let at = Target { database, cluster };
    let statements = match target {
        LoadTarget::FiveTables => ddl(&at),
        LoadTarget::RawEvents => eventlog_core::xapi::raw::sql::ddl(&at),
    };
    if create {
        let config = XapiConfig::from_env(&env)?;
        let ch = ClickHouse::new(config.clickhouse)?;
        for s in &statements {
            ch.query(s).await?;
        }
        eprintln!(
            "created database {database} and {} tables",
            statements.len() - 1
        );
    } else {
        for s in &statements {
            println!("{s};\n");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Load files; exit 0 all loaded, 1 partial, 2 nothing loaded.
async fn load(loader: &Loader<'_>, files: &[String]) -> Result<ExitCode, CliError> {
    let report = loader
        .load(files.iter().map(|f| XapiFile::parse(f)).collect())
        .await;
    println!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
    Ok(
        if !report.failed_files.is_empty() && report.failed_files.len() >= report.files {
            ExitCode::from(2)
        } else if report.succeeded() && report.invalid_lines == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        },
    )
}

/// Answer an invocation event read from a file (or stdin) as the Lambda would.
async fn notify(
    loader: &Loader<'_>,
    default_bucket: Option<&str>,
    event: &std::path::Path,
) -> Result<ExitCode, CliError> {
    let text = if event.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(event)
    }
    .map_err(|source| CliError::Io {
        path: event.display().to_string(),
        source,
    })?;
    let event: Value = serde_json::from_str(&text)
        .map_err(|e| CliError::Usage(format!("the event is not JSON: {e}")))?;
    let dlq = match &loader.settings.raw.failure_dlq_url {
        Some(url) => Some(eventlog::dlq::Dlq::new(url).await),
        None => None,
    };
    Ok(print_response(
        &handle(loader, default_bucket, dlq.as_ref(), &event).await?,
    ))
}
