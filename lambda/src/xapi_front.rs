//! The xAPI loader's front, shared by `xapi-bootstrap` and `eventlog xapi
//! notify`/`bulk`: an invocation event routed (`eventlog-trigger`), the
//! loader called (`eventlog-xapi`), the answer shaped the way the seed and
//! the reference answered.

use std::collections::BTreeSet;

use aws_lambda_events::event::sqs::SqsBatchResponse;
use eventlog_trigger::xapi::{ObjectRef, QueuedMessage, Referenced, Route, route};
use eventlog_xapi::bulk::{BulkOutcome, BulkRequest, run_bulk};
use eventlog_xapi::{LoadReport, Loader, XapiFile};
use serde_json::{Value, json};

use crate::InvocationError;

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
        Route::Queue(messages) => Ok(queued(loader, messages).await),
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
    if !report.failed_files.is_empty() {
        // S3 and EventBridge retry a failed invocation; an answer would be
        // taken as done and the failed file's rows never loaded.
        let failed: Vec<String> = report
            .failed_files
            .iter()
            .map(|f| format!("{}: {}", f.file, f.reason))
            .collect();
        return Err(InvocationError {
            kind: "FilesNotLoaded",
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
