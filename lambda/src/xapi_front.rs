//! The xAPI loader's front, shared by `xapi-bootstrap` and `eventlog xapi
//! notify`/`bulk`: an invocation event routed (`eventlog-trigger`), the
//! loader called (`eventlog-xapi`), the answer shaped the way the seed and
//! the reference answered.

use std::collections::BTreeSet;

use aws_lambda_events::event::sqs::SqsBatchResponse;
use eventlog_trigger::xapi::{ObjectRef, QueuedMessage, Referenced, Route, route};
use eventlog_xapi::bulk::{BulkOutcome, BulkRequest, run_bulk};
use eventlog_xapi::{LoadReport, LoadTarget, Loader, XapiFile};
use serde_json::{Value, json};

use crate::InvocationError;
use crate::dlq::Dlq;

/// A seed-style response: `statusCode` and a JSON `body` string.
pub fn response(status: u16, body: &Value) -> Value {
    json!({ "statusCode": status, "body": body.to_string() })
}

/// 200 all good, 207 some lines or files failed.
pub fn status_of(report: &LoadReport) -> u16 {
    if report.failed_files.is_empty() && report.invalid_lines == 0 {
        200
    } else {
        207
    }
}

fn file_of(r: &ObjectRef) -> XapiFile {
    XapiFile::S3 {
        bucket: r.bucket.clone(),
        key: r.key.clone(),
        etag: r.etag.clone(),
    }
}

/// Answer one invocation event. `Ok` is the response: seed-style
/// (`statusCode`, `body`), or for an SQS batch exactly
/// `{"batchItemFailures": [...]}`. `Err` fails the invocation, so the
/// trigger retries it (a direct notification with a file that could not
/// be loaded).
pub async fn handle(
    loader: &Loader<'_>,
    default_bucket: Option<&str>,
    dlq: Option<&Dlq>,
    event: &Value,
) -> Result<Value, InvocationError> {
    let route = match route(event, default_bucket) {
        Ok(r) => r,
        Err(e) => {
            let mode = if e.field == "Records" {
                "notification"
            } else {
                "bulk"
            };
            return Ok(response(
                400,
                &json!({"error": e.to_string(), "field": e.field, "processing_mode": mode}),
            ));
        }
    };
    match route {
        Route::Health => {
            let h = eventlog_xapi::health::health(loader, default_bucket).await;
            let status = if h["healthy"].as_bool() == Some(true) {
                200
            } else {
                500
            };
            Ok(response(status, &h))
        }
        Route::Queue(messages) => Ok(match loader.settings.target {
            LoadTarget::FiveTables => queued(loader, messages).await,
            LoadTarget::RawEvents => queued_raw(loader, dlq, messages).await,
        }),
        Route::Bulk(req) => bulk(loader, &req).await,
        Route::Notification(refs) => notification(loader, refs).await,
    }
}

async fn notification(loader: &Loader<'_>, refs: Referenced) -> Result<Value, InvocationError> {
    if refs.files.is_empty() {
        return Ok(response(
            200,
            &json!({"message": "S3 test event acknowledged", "processing_mode": "notification"}),
        ));
    }
    let (jsonl, skipped): (Vec<_>, Vec<_>) = refs
        .files
        .into_iter()
        .partition(|r| r.key.ends_with(".jsonl"));
    let report = loader.load(jsonl.iter().map(file_of).collect()).await;
    // A file whose content cannot load fails the same way every time:
    // the answer reports it (207), and only a failure another attempt could
    // get past fails the invocation.
    if report.failed_files.iter().any(|f| f.retryable) {
        // S3 and EventBridge retry a failed invocation; an answer would be
        // taken as done and the failed file's rows never loaded.
        let failed: Vec<String> = report
            .failed_files
            .iter()
            .map(|f| format!("{}: {}", f.file, f.reason))
            .collect();
        return Err(InvocationError {
            kind: "FilesNotLoaded",
            retryable: true,
            message: format!(
                "{} of {} file(s) could not be loaded: {}",
                failed.len(),
                jsonl.len(),
                failed.join("; ")
            ),
        });
    }
    let mut body = serde_json::to_value(&report).unwrap_or_default();
    body["processing_mode"] = json!("notification");
    body["skipped_non_jsonl"] = json!(skipped.iter().map(ObjectRef::uri).collect::<Vec<_>>());
    body["success"] = json!(report.succeeded());
    Ok(response(status_of(&report), &body))
}

/// An SQS batch: every message's files load together; the answer names
/// exactly the messages with a file that failed or a body that names none.
async fn queued(loader: &Loader<'_>, messages: Vec<QueuedMessage>) -> Value {
    let files: Vec<XapiFile> = messages
        .iter()
        .filter_map(|m| m.refs.as_ref().ok())
        .flat_map(|r| r.files.iter())
        .filter(|r| r.key.ends_with(".jsonl"))
        .map(file_of)
        .collect();
    let report = loader.load(files).await;
    let failed: BTreeSet<&str> = report
        .failed_files
        .iter()
        .map(|f| f.file.as_str())
        .collect();
    let mut answer = SqsBatchResponse::default();
    for m in &messages {
        let problem = match &m.refs {
            Err(e) => Some(e.to_string()),
            Ok(r) => r
                .files
                .iter()
                .map(ObjectRef::uri)
                .find(|uri| failed.contains(uri.as_str()))
                .map(|uri| format!("{uri} could not be loaded")),
        };
        if let Some(why) = problem {
            tracing::warn!(message_id = %m.message_id, reason = %why, "message failed; SQS will deliver it again");
            answer.add_failure(m.message_id.clone());
        }
    }
    tracing::info!(
        messages = messages.len(),
        failed_messages = answer.batch_item_failures.len(),
        rows = report.total_rows,
        invalid_lines = report.invalid_lines,
        "batch loaded"
    );
    serde_json::to_value(answer).unwrap_or_else(|_| json!({"batchItemFailures": []}))
}

/// A bulk request: listed, then loaded (or only listed, for a dry run).
pub async fn bulk(loader: &Loader<'_>, req: &BulkRequest) -> Result<Value, InvocationError> {
    let outcome = run_bulk(loader, req).await.map_err(|e| InvocationError {
        kind: e.kind(),
        retryable: e.is_retryable(),
        message: e.to_string(),
    })?;
    match outcome {
        BulkOutcome::DryRun { files } => {
            let names: Vec<String> = files.iter().take(10).map(XapiFile::name).collect();
            Ok(response(
                200,
                &json!({"dry_run": true, "files_found": files.len(), "files": names, "request": req, "processing_mode": "bulk"}),
            ))
        }
        BulkOutcome::Loaded {
            files_found,
            report,
        } => {
            if files_found > 0 && report.failed_files.len() >= files_found {
                return Err(InvocationError {
                    kind: "FilesNotLoaded",
                    retryable: report.failed_files.iter().any(|f| f.retryable),
                    message: format!("no file could be loaded ({files_found} files)"),
                });
            }
            let mut body = serde_json::to_value(&report).unwrap_or_default();
            body["processing_mode"] = json!("bulk");
            body["files_found"] = json!(files_found);
            body["request"] = serde_json::to_value(req).unwrap_or_default();
            body["success"] = json!(report.succeeded());
            Ok(response(status_of(&report), &body))
        }
    }
}

/// What became of one message of a raw-events batch.
enum Fate {
    Acknowledged,
    /// Loading it again could succeed (a read, an insert): SQS delivers it
    /// again.
    Retry(String),
    /// Its content cannot load: copied to the dead-letter queue with the
    /// reason (then acknowledged), or left to SQS's own redrive when no
    /// queue is configured.
    Unloadable(String),
}

/// An SQS batch on the raw-events target (spec §7.2): messages in order,
/// each loaded on its own. A message whose objects cannot load goes to
/// `FAILURE_DLQ_URL` with the reason; one whose insert failed is retried
/// and the messages after it are not attempted (they are retried too);
/// so are the messages left when the time left cannot cover an insert or
/// the message cap is reached.
async fn queued_raw(loader: &Loader<'_>, dlq: Option<&Dlq>, messages: Vec<QueuedMessage>) -> Value {
    let raw = &loader.settings.raw;
    let mut answer = SqsBatchResponse::default();
    let mut stopped: Option<String> = None;
    let mut taken = 0usize;
    let (mut loaded, mut rows) = (0usize, 0u64);
    for m in &messages {
        if stopped.is_none()
            && let Err(why) = eventlog_xapi::raw::time_for_insert(loader)
        {
            stopped = Some(why);
        }
        if stopped.is_none() && raw.max_messages.is_some_and(|max| taken >= max) {
            stopped = Some(String::from(
                "MAX_MESSAGES_PER_INVOCATION_TO_PROCESS reached",
            ));
        }
        if let Some(why) = &stopped {
            tracing::warn!(message_id = %m.message_id, reason = %why, "message not attempted; SQS will deliver it again");
            answer.add_failure(m.message_id.clone());
            continue;
        }
        let fate = match &m.refs {
            Err(e) => Fate::Unloadable(e.to_string()),
            Ok(r) if r.files.is_empty() => Fate::Acknowledged,
            Ok(r) => {
                taken += 1;
                let (fate, n, insert_failed) = load_message(loader, r).await;
                rows += n;
                if let Some(why) = insert_failed {
                    stopped = Some(why);
                }
                fate
            }
        };
        match fate {
            Fate::Acknowledged => loaded += 1,
            Fate::Retry(why) => {
                tracing::warn!(message_id = %m.message_id, reason = %why, "message failed; SQS will deliver it again");
                answer.add_failure(m.message_id.clone());
            }
            Fate::Unloadable(why) => {
                if !dead_letter(dlq, m, &why).await {
                    answer.add_failure(m.message_id.clone());
                }
            }
        }
    }
    let mut ids: Vec<String> = answer
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    ids.sort();
    ids.dedup();
    tracing::info!(
        messages = messages.len(),
        loaded,
        failed_messages = ids.len(),
        rows,
        "batch loaded"
    );
    json!({"batchItemFailures": ids.iter().map(|i| json!({"itemIdentifier": i})).collect::<Vec<_>>()})
}

/// Load one message's objects: its fate, the rows loaded, and why the
/// batch stops here if an insert failed.
async fn load_message(loader: &Loader<'_>, r: &Referenced) -> (Fate, u64, Option<String>) {
    let files: Vec<XapiFile> = r
        .files
        .iter()
        .filter(|o| o.key.ends_with(".jsonl"))
        .map(file_of)
        .collect();
    let report = loader.load(files).await;
    let failed = &report.failed_files;
    let insert = failed.iter().find(|f| f.retryable && f.stage == "insert");
    let retry = failed.iter().find(|f| f.retryable);
    let content = failed.iter().find(|f| !f.retryable);
    let fate = match (insert, retry, content) {
        (Some(f), _, _) | (None, Some(f), _) => Fate::Retry(format!("{}: {}", f.file, f.reason)),
        (None, None, Some(f)) => Fate::Unloadable(format!("{}: {}", f.file, f.reason)),
        (None, None, None) => Fate::Acknowledged,
    };
    let stop = insert.map(|f| format!("an insert failed: {}", f.reason));
    (fate, report.total_rows, stop)
}

/// Copy a message that cannot load to the dead-letter queue: true when it
/// is there (so it may be acknowledged), false when SQS must keep it.
async fn dead_letter(dlq: Option<&Dlq>, m: &QueuedMessage, why: &str) -> bool {
    let (Some(q), Some(body)) = (dlq, m.body.as_deref()) else {
        tracing::warn!(message_id = %m.message_id, reason = %why, "message cannot load; left to the queue's redrive policy");
        return false;
    };
    match q.send(&m.message_id, body, why).await {
        Ok(()) => {
            tracing::warn!(message_id = %m.message_id, reason = %why, "message cannot load; copied to the dead-letter queue");
            true
        }
        Err(e) => {
            tracing::error!(message_id = %m.message_id, reason = %why, error = %e, "message cannot load and the dead-letter queue did not take it");
            false
        }
    }
}
