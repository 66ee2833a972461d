//! `eventlog xapi`: the xAPI loader from the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use eventlog::clickhouse::ClickHouse;
use eventlog::config::env_var as env;
use eventlog::xapi::modes::{BulkRequest, DateSource};
use eventlog::xapi::service::{XapiConfig, handle, parse_path, run_bulk};
use eventlog::xapi::{Loader, XapiFile};
use eventlog_core::xapi::sql::{Target, ddl};
use serde_json::Value;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Check JSONL files line by line as the loader would (no ClickHouse,
    /// no S3): exit 0 all clean, 1 invalid lines or schema issues, 2 unreadable.
    Check(crate::xapi_check::Args),
    /// Print the DDL of the five tables (and create them with --create).
    Schema {
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
        /// auto (by file count), in-process or server-side.
        #[arg(long, default_value = "auto")]
        path: String,
        /// Files above which the server-side path is used.
        #[arg(long, env = "XAPI_SERVER_SIDE_THRESHOLD")]
        threshold: Option<usize>,
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Load everything under a bucket prefix, optionally within dates.
    Bulk {
        #[arg(long, env = "S3_XAPI_BUCKET_NAME")]
        bucket: String,
        #[arg(long, default_value = "section/")]
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
        #[arg(long, default_value = "key")]
        date_source: String,
        #[arg(long)]
        dry_run: bool,
        /// Insert again even blocks ClickHouse remembers (after deleting rows).
        #[arg(long)]
        force_reprocess: bool,
        #[arg(long, default_value = "auto")]
        path: String,
    },
    /// Process an S3 notification (or any event the Lambda takes) from a JSON file, `-` for stdin.
    Notify { event: PathBuf },
    /// Check ClickHouse, the tables and S3.
    Health {
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

fn print_response(r: &Value) -> ExitCode {
    if let Some(failures) = r.get("batchItemFailures").and_then(Value::as_array) {
        println!("{}", serde_json::to_string_pretty(r).unwrap_or_default());
        return if failures.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
    }
    let status = r["statusCode"].as_u64().unwrap_or(500);
    let body: Value = r["body"]
        .as_str()
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or_else(|| r.clone());
    println!(
        "{}",
        serde_json::to_string_pretty(&body).unwrap_or_default()
    );
    match status {
        200 => ExitCode::SUCCESS,
        207 => ExitCode::from(1),
        _ => ExitCode::from(2),
    }
}

async fn run_async(cmd: Command) -> Result<ExitCode, String> {
    if let Command::Schema {
        cluster,
        database,
        create,
    } = &cmd
    {
        let target = Target {
            database,
            cluster: cluster.as_deref(),
        };
        let statements = ddl(&target);
        if *create {
            let config = XapiConfig::from_env(&env)?;
            let ch = ClickHouse::new(config.clickhouse).map_err(|e| e.to_string())?;
            for s in &statements {
                ch.query(s).await.map_err(|e| e.to_string())?;
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
        return Ok(ExitCode::SUCCESS);
    }
    let mut config = XapiConfig::from_env(&env)?;
    let ch = ClickHouse::new(config.clickhouse.clone()).map_err(|e| e.to_string())?;
    // Only build an S3 client (and look up credentials) when S3 is involved.
    let needs_s3 = match &cmd {
        Command::Load { files, .. } => files.iter().any(|f| f.starts_with("s3://")),
        Command::Health { bucket } => bucket.is_some(),
        _ => true,
    };
    let s3_client = if needs_s3 {
        Some(eventlog::store::s3::client(&eventlog::store::s3::S3Config::from_env()).await)
    } else {
        None
    };
    let s3 = s3_client.as_ref();
    match cmd {
        Command::Schema { .. } | Command::Check(_) => unreachable!("handled above"),
        Command::Load {
            path,
            threshold,
            files,
        } => {
            config.settings.force = parse_path(&path)?;
            if let Some(t) = threshold {
                config.settings.threshold = t;
            }
            let loader = Loader {
                ch: &ch,
                s3,
                settings: &config.settings,
            };
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
        Command::Bulk {
            bucket,
            prefix,
            sections,
            from,
            to,
            date_source,
            dry_run,
            force_reprocess,
            path,
        } => {
            config.settings.force = parse_path(&path)?;
            let date_source = match date_source.as_str() {
                "key" => DateSource::Key,
                "modified" => DateSource::Modified,
                other => {
                    return Err(format!(
                        "--date-source must be key or modified, not {other:?}"
                    ));
                }
            };
            let loader = Loader {
                ch: &ch,
                s3,
                settings: &config.settings,
            };
            let req = BulkRequest {
                bucket,
                prefix,
                section_ids: sections,
                start_date: from,
                end_date: to,
                date_source,
                dry_run,
                force_reprocess,
            };
            Ok(print_response(&run_bulk(&loader, &req).await?))
        }
        Command::Notify { event } => {
            let text = if event.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin()).map_err(|e| e.to_string())?
            } else {
                std::fs::read_to_string(&event).map_err(|e| format!("{}: {e}", event.display()))?
            };
            let event: Value =
                serde_json::from_str(&text).map_err(|e| format!("the event is not JSON: {e}"))?;
            let loader = Loader {
                ch: &ch,
                s3,
                settings: &config.settings,
            };
            Ok(print_response(
                &handle(&loader, config.default_bucket.as_deref(), &event).await?,
            ))
        }
        Command::Health { bucket } => {
            let loader = Loader {
                ch: &ch,
                s3,
                settings: &config.settings,
            };
            let h = eventlog::xapi::modes::health(&loader, bucket.as_deref()).await;
            println!("{}", serde_json::to_string_pretty(&h).unwrap_or_default());
            Ok(if h["healthy"].as_bool() == Some(true) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
    }
}
