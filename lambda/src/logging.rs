//! Logs: JSON lines for the Lambda functions, plain text on stderr for the CLI.

use tracing_subscriber::fmt::format::FmtSpan;

/// JSON logs for a Lambda binary, one object per line with the current
/// span (which carries the request id), at `LOG_LEVEL` (default info) for
/// eventlog's crates and the binary `target`, warnings for everything else.
/// Each pipeline stage is a span; when it closes, a line gives its counts
/// and how long it took (`time.busy`, `time.idle`), so a slow run shows
/// where its time went. CloudWatch stamps each line, so no time is written.
pub fn init_lambda(target: &str) {
    let level = crate::env::env_var("LOG_LEVEL")
        .unwrap_or_else(|| "info".into())
        .to_lowercase();
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::new(format!(
            "warn,eventlog={level},eventlog_checkpoint={level},eventlog_xapi={level},eventlog_store={level},{target}={level}"
        )))
        .with_current_span(true)
        .with_span_events(FmtSpan::CLOSE)
        .with_target(false)
        .without_time()
        .init();
}

/// Warnings and errors on stderr; `EVENTLOG_LOG` (e.g. `info`, `debug`)
/// for more, with each stage's span closing with its counts and durations.
pub fn init_cli() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("EVENTLOG_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::CLOSE)
        .with_writer(std::io::stderr)
        .try_init();
}
