//! The xAPI loader Lambda (`bootstrap` of a second function; packaged as
//! `xapi-bootstrap`). Routes each invocation: `{"health_check": true}`, a
//! bulk request, or an S3 notification (direct, through SQS or SNS, or
//! EventBridge). Answers seed-style `{"statusCode", "body"}`; fails the
//! invocation when nothing could be loaded, so the trigger retries.

use eventlog::env::env_var as env;
use eventlog::xapi_front::{Answer, handle};
use eventlog_xapi::clickhouse::ClickHouse;
use eventlog_xapi::{Loader, XapiConfig};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use tracing::Instrument;

/// The invocation's end (the runtime's deadline, milliseconds since the
/// epoch) on the monotonic clock.
fn deadline_of(deadline_ms: u64) -> tokio::time::Instant {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    tokio::time::Instant::now()
        + std::time::Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

/// Kept at the end of an invocation to answer after the last request.
const ANSWER_TIME: std::time::Duration = std::time::Duration::from_secs(1);

/// The settings, with the ClickHouse password from Secrets Manager when
/// `CLICKHOUSE_PASSWORD_SECRET_ARN` names it (read once, here).
async fn configure() -> Result<XapiConfig, String> {
    let password = eventlog::secrets::clickhouse_password(&env)
        .await
        .map_err(|e| format!("configuration: {e}"))?;
    let get = |name: &str| match name {
        "CLICKHOUSE_PASSWORD" => password.clone(),
        _ => env(name),
    };
    XapiConfig::from_env(&get).map_err(|e| format!("configuration: {e}"))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    eventlog::logging::init_lambda("xapi_bootstrap");
    let config = match configure().await {
        Ok(c) => c,
        Err(message) => {
            eventlog::init::report("Runtime.ConfigurationError", &message).await;
            return Err(message.into());
        }
    };
    let ch = ClickHouse::new(config.clickhouse.clone())?;
    let s3 = eventlog_store::s3::client(&eventlog_store::s3::S3Config::from_env()).await;
    let settings = config.settings.clone();
    let bucket = config.default_bucket.clone();
    let dlq = match &settings.raw.failure_dlq_url {
        Some(url) => Some(eventlog::dlq::Dlq::new(url).await),
        None => None,
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let span = tracing::info_span!("invocation", request_id = %event.context.request_id);
        // No request waits past the invocation's end (less a moment to
        // answer), so the loader always reports what it loaded.
        let end = deadline_of(event.context.deadline);
        let left = end.saturating_duration_since(tokio::time::Instant::now());
        let hard = end - left.min(ANSWER_TIME);
        let ch = ch.with_deadline(Some(hard));
        let (s3, settings) = (&s3, &settings);
        let bucket = bucket.clone();
        let dlq = dlq.as_ref();
        async move {
            let loader = Loader {
                ch: &ch,
                s3: Some(s3),
                settings,
                deadline: Some(hard),
            };
            let result = handle(&loader, bucket.as_deref(), dlq, &event.payload).await;
            match &result {
                Ok(Answer::Status { status, .. }) => {
                    tracing::info!(status, "invocation finished")
                }
                Ok(Answer::Batch(b)) => tracing::info!(
                    failed_messages = b.batch_item_failures.len(),
                    "invocation finished"
                ),
                Err(e) => tracing::error!(error = %e, "invocation failed"),
            }
            result.map(|a| a.to_lambda())
        }
        .instrument(span)
    }))
    .await
}
