//! The xAPI loader's front, shared by `xapi-bootstrap` and `eventlog xapi
//! notify`/`bulk`: an invocation event routed (`eventlog-trigger`), the
//! loader called (`eventlog-xapi`), the answer shaped the way the seed and
//! the reference answered.

use std::collections::BTreeSet;

use aws_lambda_events::event::sqs::SqsBatchResponse;
use eventlog_trigger::xapi::{ObjectRef, QueuedMessage, Referenced, Route, route};
use eventlog_xapi::bulk::{BulkOutcome, BulkRequest, run_bulk};
use eventlog_xapi::{LoadReport, LoadTarget, Loader, XapiFile};
use serde::Serialize;
use serde_json::{Value, json};

use crate::InvocationError;
use crate::dlq::Dlq;

/// What an invocation answers, typed until it leaves: the Lambda sends
/// [`Answer::to_lambda`], `eventlog xapi` prints the body.
#[derive(Debug)]
pub enum Answer {
    /// A seed-style answer: a status and a body (sent as a JSON string).
    Status { status: u16, body: Body },
    /// An SQS batch: exactly the messages that failed.
    Batch(SqsBatchResponse),
}

/// The body of a seed-style answer.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Body {
    Loaded(Box<Loaded>),
    DryRun {
        dry_run: bool,
        files_found: usize,
        /// The first ten.
        files: Vec<String>,
        request: BulkRequest,
        processing_mode: &'static str,
    },
    /// An event that names nothing usable (400).
    Refused {
        error: String,
        field: String,
        processing_mode: &'static str,
    },
    /// S3's test event.
    Acknowledged {
        message: &'static str,
        processing_mode: &'static str,
    },
    Health(Value),
}

/// A load's report with what the invocation adds to it.
#[derive(Debug, Serialize)]
pub struct Loaded {
    #[serde(flatten)]
    pub report: LoadReport,
    pub processing_mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped_non_jsonl: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files_found: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<BulkRequest>,
    pub success: bool,
}

impl Answer {
    /// As the Lambda answers: `statusCode` and `body` as a JSON string, or
    /// the batch response as it is.
    pub fn to_lambda(&self) -> Value {
        match self {
            Answer::Status { status, body } => json!({
                "statusCode": status,
                "body": serde_json::to_string(body).unwrap_or_default(),
            }),
            Answer::Batch(b) => {
                serde_json::to_value(b).unwrap_or_else(|_| json!({"batchItemFailures": []}))
            }
        }
    }
}

fn loaded(report: LoadReport, processing_mode: &'static str) -> Loaded {
    Loaded {
        success: report.succeeded(),
        report,
        processing_mode,
        skipped_non_jsonl: None,
        files_found: None,
        request: None,
    }
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
) -> Result<Answer, InvocationError> {
    let route = match route(event, default_bucket) {
        Ok(r) => r,
        Err(e) => {
            let mode = if e.field == "Records" {
                "notification"
            } else {
                "bulk"
            };
            return Ok(Answer::Status {
                status: 400,
                body: Body::Refused {
                    error: e.to_string(),
                    field: e.field.to_string(),
                    processing_mode: mode,
                },
            });
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
            Ok(Answer::Status {
                status,
                body: Body::Health(h),
            })
        }
        Route::Queue(messages) => Ok(Answer::Batch(match loader.settings.target {
            LoadTarget::FiveTables => queued(loader, messages).await,
            LoadTarget::RawEvents => queued_raw(loader, dlq, messages).await,
        })),
        Route::Bulk(req) => bulk(loader, &req).await,
        Route::Notification(refs) => notification(loader, refs).await,
    }
}

async fn notification(loader: &Loader<'_>, refs: Referenced) -> Result<Answer, InvocationError> {
    if refs.files.is_empty() {
        return Ok(Answer::Status {
            status: 200,
            body: Body::Acknowledged {
                message: "S3 test event acknowledged",
                processing_mode: "notification",
            },
        });
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
    let status = status_of(&report);
    let mut body = loaded(report, "notification");
    body.skipped_non_jsonl = Some(skipped.iter().map(ObjectRef::uri).collect());
    Ok(Answer::Status {
        status,
        body: Body::Loaded(Box::new(body)),
    })
}

/// An SQS batch: every message's files load together; the answer names
/// exactly the messages with a file that failed or a body that names none.
async fn queued(loader: &Loader<'_>, messages: Vec<QueuedMessage>) -> SqsBatchResponse {
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
    answer
}

/// A bulk request: listed, then loaded (or only listed, for a dry run).
pub async fn bulk(loader: &Loader<'_>, req: &BulkRequest) -> Result<Answer, InvocationError> {
    let outcome = run_bulk(loader, req).await.map_err(|e| InvocationError {
        kind: e.kind(),
        retryable: e.is_retryable(),
        message: e.to_string(),
    })?;
    match outcome {
        BulkOutcome::DryRun { files } => Ok(Answer::Status {
            status: 200,
            body: Body::DryRun {
                dry_run: true,
                files_found: files.len(),
                files: files.iter().take(10).map(XapiFile::name).collect(),
                request: req.clone(),
                processing_mode: "bulk",
            },
        }),
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
            let status = status_of(&report);
            let mut body = loaded(*report, "bulk");
            body.files_found = Some(files_found);
            body.request = Some(req.clone());
            Ok(Answer::Status {
                status,
                body: Body::Loaded(Box::new(body)),
            })
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
async fn queued_raw(
    loader: &Loader<'_>,
    dlq: Option<&Dlq>,
    messages: Vec<QueuedMessage>,
) -> SqsBatchResponse {
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
    answer
        .batch_item_failures
        .sort_by(|a, b| a.item_identifier.cmp(&b.item_identifier));
    answer
        .batch_item_failures
        .dedup_by(|a, b| a.item_identifier == b.item_identifier);
    tracing::info!(
        messages = messages.len(),
        loaded,
        failed_messages = answer.batch_item_failures.len(),
        rows,
        "batch loaded"
    );
    answer
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
