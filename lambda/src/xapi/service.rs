//! The xAPI loader as a service: configuration from the environment and
//! the router that both the Lambda and `eventlog xapi` use.
//!
//! Environment: ClickHouse (`CLICKHOUSE_URL` or `CLICKHOUSE_HOST`/`PORT`,
//! `CLICKHOUSE_USER`, `CLICKHOUSE_PASSWORD`, `CLICKHOUSE_DATABASE`,
//! `CLICKHOUSE_CLUSTER`), the server-side path (`CLICKHOUSE_S3_AUTH`:
//! `named:<collection>` | `server` | `nosign` | `keys`; `CLICKHOUSE_S3_ENDPOINT`,
//! the S3 endpoint as ClickHouse reaches it), `XAPI_SERVER_SIDE_THRESHOLD`
//! (default 10), `XAPI_BATCH_ROWS` (5000), `XAPI_SERVER_SIDE_FILES_PER_QUERY`
//! (100), `XAPI_S3_RETRY_ATTEMPTS` (5) and
//! `XAPI_SERVER_SIDE_TIMEOUT_SECS` (300) bounding the server's S3 reads,
//! `S3_XAPI_BUCKET_NAME` (default bucket for bulk and health).

use serde_json::{Value, json};

use super::modes::{self, BulkRequest};
use super::{LoadPath, Loader, ServerS3Auth, XapiFile, XapiSettings};
use crate::clickhouse::ClickHouseConfig;

#[derive(Debug, Clone)]
pub struct XapiConfig {
    pub clickhouse: ClickHouseConfig,
    pub settings: XapiSettings,
    pub default_bucket: Option<String>,
}

impl XapiConfig {
    pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, String> {
        let clickhouse = ClickHouseConfig::from_env(get)?;
        let num = |name: &str, default: usize| -> Result<usize, String> {
            get(name).map_or(Ok(default), |v| {
                v.parse()
                    .map_err(|_| format!("{name}={v:?} is not a number"))
            })
        };
        let server_auth = ServerS3Auth::from_env(get)?;
        let endpoint = get("CLICKHOUSE_S3_ENDPOINT")
            .or_else(|| get("AWS_REGION").map(|r| format!("https://s3.{r}.amazonaws.com")));
        let settings = XapiSettings {
            threshold: num("XAPI_SERVER_SIDE_THRESHOLD", 10)?,
            batch_rows: num("XAPI_BATCH_ROWS", 5000)?.max(1),
            files_per_query: num("XAPI_SERVER_SIDE_FILES_PER_QUERY", 100)?.max(1),
            s3_endpoint_for_clickhouse: endpoint,
            server_auth,
            cluster: get("CLICKHOUSE_CLUSTER"),
            force: None,
            s3_retry_attempts: num("XAPI_S3_RETRY_ATTEMPTS", 5)? as u32,
            server_side_timeout_secs: num("XAPI_SERVER_SIDE_TIMEOUT_SECS", 300)? as u64,
            ..XapiSettings::default()
        };
        Ok(XapiConfig {
            clickhouse,
            settings,
            default_bucket: get("S3_XAPI_BUCKET_NAME"),
        })
    }
}

/// Keys that make an event a bulk request (the reference's callers send
/// `section_id`/`section_ids`, `s3_bucket`, `s3_prefix`, dates, `dry_run`,
/// `force_reprocess`, `batch_size`).
const BULK_KEYS: [&str; 9] = [
    "section_id",
    "section_ids",
    "start_date",
    "end_date",
    "s3_prefix",
    "dry_run",
    "force_reprocess",
    "date_source",
    "batch_size",
];

/// Route one invocation event. `Ok` is the response: seed-style
/// (`statusCode`, `body`), or for an SQS batch exactly
/// `{"batchItemFailures": [...]}` naming the messages whose files failed.
/// `Err` means the invocation failed (a direct notification with a file
/// that could not be loaded, or nothing loadable at all), so the trigger
/// retries it.
pub async fn handle(
    loader: &Loader<'_>,
    default_bucket: Option<&str>,
    event: &Value,
) -> Result<Value, String> {
    if event.get("health_check").is_some_and(truthy) {
        let h = modes::health(loader, default_bucket).await;
        let status = if h["healthy"].as_bool() == Some(true) {
            200
        } else {
            500
        };
        return Ok(modes::response(status, &h));
    }
    if let Some(messages) = modes::sqs_messages(event) {
        return Ok(queued(loader, messages).await);
    }
    let refs = modes::referenced(event);
    let bulk = event.get("mode").and_then(Value::as_str) == Some("bulk")
        || (refs.files.is_empty() && BULK_KEYS.iter().any(|k| event.get(*k).is_some()));
    if bulk {
        return bulk_request(loader, default_bucket, event).await;
    }
    if refs.files.is_empty() {
        if refs.test_events > 0 {
            return Ok(modes::response(
                200,
                &json!({"message": "S3 test event acknowledged", "processing_mode": "notification"}),
            ));
        }
        return Ok(modes::response(
            400,
            &json!({"error": "Invalid S3 event format: no S3 object in the event", "processing_mode": "notification"}),
        ));
    }
    let (jsonl, skipped): (Vec<_>, Vec<_>) = refs
        .files
        .into_iter()
        .partition(|r| r.key.ends_with(".jsonl"));
    let files: Vec<XapiFile> = jsonl.iter().map(modes::ObjectRef::file).collect();
    let report = loader.load(files).await;
    if !report.failed_files.is_empty() {
        // S3 and EventBridge retry a failed invocation; an answer would be
        // taken as done and the failed file's rows never loaded.
        return Err(format!(
            "{} of {} file(s) could not be loaded: {}",
            report.failed_files.len(),
            jsonl.len(),
            report
                .failed_files
                .iter()
                .map(|f| format!("{}: {}", f.file, f.reason))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    let mut body = serde_json::to_value(&report).unwrap_or_default();
    body["processing_mode"] = json!("notification");
    body["skipped_non_jsonl"] = json!(
        skipped
            .iter()
            .map(|r| format!("s3://{}/{}", r.bucket, r.key))
            .collect::<Vec<_>>()
    );
    body["success"] = json!(report.succeeded());
    Ok(modes::response(modes::status_of(&report), &body))
}

/// An SQS batch: every message's files load together; the answer names
/// exactly the messages with a file that failed or a body that names none.
async fn queued(loader: &Loader<'_>, messages: Vec<modes::QueuedMessage>) -> Value {
    let files: Vec<XapiFile> = messages
        .iter()
        .filter_map(|m| m.refs.as_ref().ok())
        .flat_map(|r| r.files.iter())
        .filter(|r| r.key.ends_with(".jsonl"))
        .map(modes::ObjectRef::file)
        .collect();
    let report = loader.load(files).await;
    let failed: std::collections::BTreeSet<&str> = report
        .failed_files
        .iter()
        .map(|f| f.file.as_str())
        .collect();
    let mut response = aws_lambda_events::event::sqs::SqsBatchResponse::default();
    for m in &messages {
        let problem = match &m.refs {
            Err(e) => Some(e.clone()),
            Ok(r) => r
                .files
                .iter()
                .map(|f| f.file().name())
                .find(|name| failed.contains(name.as_str()))
                .map(|name| format!("{name} could not be loaded")),
        };
        if let Some(why) = problem {
            tracing::warn!(message_id = %m.message_id, reason = %why, "message failed; SQS will deliver it again");
            response.add_failure(m.message_id.clone());
        }
    }
    tracing::info!(
        messages = messages.len(),
        failed_messages = response.batch_item_failures.len(),
        rows = report.total_rows,
        invalid_lines = report.invalid_lines,
        "batch loaded"
    );
    serde_json::to_value(response).unwrap_or_else(|_| json!({"batchItemFailures": []}))
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Null => false,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty() && s != "false" && s != "0",
        _ => true,
    }
}

async fn bulk_request(
    loader: &Loader<'_>,
    default_bucket: Option<&str>,
    event: &Value,
) -> Result<Value, String> {
    let bad = |msg: String| {
        Ok(modes::response(
            400,
            &json!({"error": msg, "processing_mode": "bulk"}),
        ))
    };
    // The reference's callers send `s3_bucket` and `s3_prefix`; ours may
    // send `bucket` and `prefix`.
    let text = |keys: [&str; 2]| {
        keys.iter()
            .find_map(|k| event.get(*k).and_then(Value::as_str))
    };
    let Some(bucket) = text(["s3_bucket", "bucket"]).or(default_bucket) else {
        return bad(String::from(
            "no bucket: set s3_bucket (or bucket) in the event, or S3_XAPI_BUCKET_NAME",
        ));
    };
    let mut sections: Vec<String> = event
        .get("section_ids")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(value_text).collect())
        .unwrap_or_default();
    if let Some(s) = event.get("section_id").filter(|v| !v.is_null()) {
        sections.push(value_text(s));
    }
    let date = |k: &str| -> Result<Option<chrono::NaiveDate>, String> {
        match event.get(k).and_then(Value::as_str) {
            None => Ok(None),
            Some(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| format!("{k} must be YYYY-MM-DD, got {s:?}")),
        }
    };
    let (start_date, end_date) = match (date("start_date"), date("end_date")) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => return bad(e),
    };
    let date_source = match event.get("date_source").and_then(Value::as_str) {
        None | Some("key") => modes::DateSource::Key,
        Some("modified") => modes::DateSource::Modified,
        Some(other) => {
            return bad(format!(
                "date_source must be key or modified, got {other:?}"
            ));
        }
    };
    let req = BulkRequest {
        bucket: bucket.to_string(),
        prefix: text(["s3_prefix", "prefix"])
            .unwrap_or("section/")
            .to_string(),
        section_ids: sections,
        start_date,
        end_date,
        date_source,
        dry_run: event.get("dry_run").is_some_and(truthy),
        force_reprocess: event.get("force_reprocess").is_some_and(truthy),
    };
    run_bulk(loader, &req).await
}

fn value_text(v: &Value) -> String {
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}

pub async fn run_bulk(loader: &Loader<'_>, req: &BulkRequest) -> Result<Value, String> {
    let s3 = loader.s3.ok_or("no S3 client")?;
    let files = modes::list_bulk(s3, req).await?;
    if req.dry_run {
        let names: Vec<String> = files.iter().take(10).map(XapiFile::name).collect();
        return Ok(modes::response(
            200,
            &json!({"dry_run": true, "files_found": files.len(), "files": names, "request": req, "processing_mode": "bulk"}),
        ));
    }
    let n = files.len();
    let salted;
    let forced;
    let loader = if req.force_reprocess {
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce)
            .map_err(|e| format!("force_reprocess needs a random nonce: {e}"))?;
        salted = XapiSettings {
            token_salt: Some(hex::encode(nonce)),
            ..loader.settings.clone()
        };
        forced = Loader {
            ch: loader.ch,
            s3: loader.s3,
            settings: &salted,
        };
        &forced
    } else {
        loader
    };
    let report = loader.load(files).await;
    if n > 0 && report.failed_files.len() >= n {
        return Err(format!("no file could be loaded ({} files)", n));
    }
    let mut body = serde_json::to_value(&report).unwrap_or_default();
    body["processing_mode"] = json!("bulk");
    body["files_found"] = json!(n);
    body["request"] = serde_json::to_value(req).unwrap_or_default();
    body["success"] = json!(report.succeeded());
    Ok(modes::response(modes::status_of(&report), &body))
}

/// Parse `--path` values.
pub fn parse_path(s: &str) -> Result<Option<LoadPath>, String> {
    match s {
        "auto" => Ok(None),
        "in-process" => Ok(Some(LoadPath::InProcess)),
        "server-side" => Ok(Some(LoadPath::ServerSide)),
        other => Err(format!(
            "--path must be auto, in-process or server-side, not {other:?}"
        )),
    }
}
