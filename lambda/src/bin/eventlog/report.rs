//! `eventlog report --checkpoints DIR|s3://… --out DIR`

use std::path::PathBuf;
use std::process::ExitCode;

use eventlog_report::Filter;
use eventlog_store::location::{AnyStore, Location};

#[derive(clap::Args)]
pub struct Args {
    /// The checkpoints: a directory or s3://bucket/prefix (the
    /// `{study}/{datatype}/events.parquet` files under it).
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX")]
    checkpoints: String,
    /// Where to write index.html and the CSV files (created).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// First visit month, YYYY-MM (month of visit_date).
    #[arg(long, value_name = "YYYY-MM", value_parser = month)]
    from: Option<String>,
    /// Last visit month, YYYY-MM, included.
    #[arg(long, value_name = "YYYY-MM", value_parser = month)]
    to: Option<String>,
    /// Only this study (repeat for several).
    #[arg(long, value_name = "STUDY")]
    study: Vec<String>,
}

fn month(s: &str) -> Result<String, String> {
    let ok = s.len() == 7
        && s.as_bytes()[4] == b'-'
        && s[..4].bytes().all(|b| b.is_ascii_digit())
        && matches!(s[5..].parse::<u8>(), Ok(1..=12));
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not a month (YYYY-MM)"))
    }
}

pub fn run(args: Args) -> ExitCode {
    let location = match Location::parse(&args.checkpoints) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("eventlog report: --checkpoints {e}");
            return ExitCode::from(2);
        }
    };
    if let Location::Local(dir) = &location
        && !dir.is_dir()
    {
        let why = if dir.exists() {
            "is not a folder"
        } else {
            "does not exist"
        };
        eprintln!("eventlog report: --checkpoints {}: {why}", dir.display());
        return ExitCode::from(2);
    }
    if let (Some(from), Some(to)) = (&args.from, &args.to)
        && from > to
    {
        eprintln!("eventlog report: --from {from} is after --to {to}: nothing could be counted");
        return ExitCode::from(2);
    }
    let filter = Filter {
        from: args.from.clone(),
        to: args.to.clone(),
        studies: args.study.clone(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("eventlog report: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(async {
        let s3 = match &location {
            Location::S3 { .. } => {
                Some(eventlog_store::s3::client(&eventlog_store::s3::S3Config::from_env()).await)
            }
            Location::Local(_) => None,
        };
        let (store, prefix) = match AnyStore::open(&location, s3.as_ref()) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("eventlog report: {e}");
                return ExitCode::from(2);
            }
        };
        match eventlog_report::build(&store, &prefix, &filter, &args.out).await {
            Ok(summary) => {
                use eventlog_checkpoint::summary::plural;
                println!(
                    "report: {}, {} -> {} ({})",
                    plural(summary.checkpoints, "checkpoint file", "checkpoint files"),
                    plural(summary.rows as usize, "event", "events"),
                    args.out.display(),
                    summary.files.join(", ")
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("eventlog report: {e}");
                ExitCode::from(2)
            }
        }
    })
}
