//! The checkpoint Lambda (`checkpoint-bootstrap`, packaged as `bootstrap` for the
//! `provided.al2023` runtime).
//!
//! One S3 client for the life of the execution environment; per invocation:
//! resolve the configuration (400 if it is bad), run the pipeline within
//! the time left (minus a margin for merging and committing), log the
//! summary and CloudWatch EMF metrics, and return the response. A run that
//! could commit nothing, or could not list or read its state, fails the
//! invocation so the Lambda's Errors metric and alarms fire.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use eventlog::InvocationError;
use eventlog::budget::Budget;
use eventlog::checkpoint_front::{
    BadConfig, Invocation, Named, bad_config_response, batch_response, finish,
};
use eventlog::env::env_var as env;
use eventlog_checkpoint::commit::GroupStatus;
use eventlog_checkpoint::progress::Silent;
use eventlog_checkpoint::summary::RunSummary;
use eventlog_checkpoint::{RunInput, RunOptions, new_run_id, run};
use eventlog_store::deadline::Bounded;
use eventlog_store::s3::{S3Config, S3Store, client};
use eventlog_trigger::checkpoint::{Request, request};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use tracing::Instrument;

/// Stop reading new files when this much time is left: at least 30 s, or a
/// fifth of the invocation's budget, for merging and committing, unless
/// `TIME_BUDGET_MARGIN_MS` says otherwise.
fn margin(total: Duration, configured_ms: Option<u64>) -> Duration {
    configured_ms
        .map(Duration::from_millis)
        .unwrap_or_else(|| (total / 5).max(Duration::from_secs(30)))
}

async fn handle(
    s3: &aws_sdk_s3::Client,
    event: LambdaEvent<Value>,
) -> Result<Value, InvocationError> {
    let (payload, ctx) = event.into_parts();
    let inv = match Invocation::resolve(&payload, &env) {
        Ok(i) => i,
        Err(BadConfig(msg)) => {
            tracing::warn!(error = %msg, "bad configuration");
            return Ok(bad_config_response(&BadConfig(msg)));
        }
    };
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let left = Duration::from_millis(ctx.deadline.saturating_sub(now_ms));
    // Reading stops with the margin left; no request waits past the
    // invocation's end, so the run always answers.
    let budget = Budget::new(left, Some(margin(left, inv.time_margin_ms)));
    let bounded = |bucket: &str| Bounded::new(S3Store::new(s3.clone(), bucket), Some(budget.hard));
    let source = bounded(&inv.source_bucket);
    let sink = bounded(&inv.checkpoint_bucket);
    let (named, batch) = match request(&payload) {
        Request::Sweep => (None, false),
        Request::Queue(messages) => (Some(Named::from_messages(&inv, messages)), true),
        Request::Objects(r) => (Some(Named::from_objects(&inv, r.files)), false),
    };
    let opts = RunOptions {
        settings: inv.settings.clone(),
        // A retried invocation has the same request id: each attempt
        // still gets its own run id (and errors file).
        run_id: new_run_id(Some(&ctx.request_id)),
        deadline: Some(budget.stop_reading_std()),
        input: named.as_ref().map_or(RunInput::Sweep, Named::input),
    };
    tracing::info!(source = %format!("s3://{}/{}", inv.source_bucket, inv.prefix), checkpoint_path = %inv.checkpoint_path(), "run starting");
    let summary = match run(
        &source,
        &inv.prefix,
        &sink,
        "",
        &inv.exclusions(),
        &opts,
        &Silent,
    )
    .await
    {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, kind = e.kind(), retryable = e.is_retryable(), "run failed before committing anything");
            return Err(InvocationError {
                kind: e.kind(),
                retryable: e.is_retryable(),
                message: e.to_string(),
            });
        }
    };
    write_report(&inv, &sink, &summary).await;
    match &named {
        Some(named) if batch => batch_response(named, &summary, now_ms as i64),
        // A direct notification fails the invocation when any object it
        // names is not recorded, so S3's retries bring it back.
        Some(_) if !summary.unrecorded.is_empty() => {
            let _ = finish(&inv, &summary, now_ms as i64);
            Err(eventlog::InvocationError {
                kind: "NotAllRecorded",
                retryable: true,
                message: format!("not recorded: {}", summary.unrecorded.join(", ")),
            })
        }
        _ => finish(&inv, &summary, now_ms as i64),
    }
}

/// With `REPORT_PREFIX`, the monthly report after a run that committed a
/// group, so it is as fresh as the checkpoints. A report that cannot be
/// written is logged; the run's answer does not change for it.
async fn write_report(inv: &Invocation, sink: &Bounded<S3Store>, summary: &RunSummary) {
    let Some(dest) = &inv.report_prefix else {
        return;
    };
    let changed = summary
        .groups
        .iter()
        .any(|g| matches!(g.status, GroupStatus::Committed));
    if !changed {
        return;
    }
    let Some(source) = inv.report_source() else {
        tracing::warn!(template = %inv.template, "no report: the template is not <folder>/{{study}}/{{datatype}}/events.parquet");
        return;
    };
    match eventlog_report::publish(sink, &source, dest, &eventlog_report::Filter::default()).await {
        Ok(keys) => tracing::info!(files = keys.len(), prefix = %dest, "report written"),
        Err(e) => tracing::warn!(error = %e, "report not written"),
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    eventlog::logging::init_lambda("checkpoint_bootstrap");
    let s3 = client(&S3Config::from_env()).await;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let span = tracing::info_span!("invocation", request_id = %event.context.request_id);
        let s3 = &s3;
        async move { handle(s3, event).await }.instrument(span)
    }))
    .await
}
