//! The three ways a load is asked for: an S3 notification (one or more
//! records), a bulk request (bucket, prefix, optional date range), and a
//! health check.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Value, json};

use super::files::XapiFile;
use super::{LoadReport, Loader};
use crate::store::ObjectStore;
use crate::store::s3::S3Store;

/// One S3 object a notification names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub bucket: String,
    pub key: String,
    /// The object's ETag when the notification carries it.
    pub etag: Option<String>,
}

impl ObjectRef {
    pub fn file(&self) -> XapiFile {
        XapiFile::S3 {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            etag: self.etag.clone(),
        }
    }
}

/// Object keys referenced by a notification.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Referenced {
    pub files: Vec<ObjectRef>,
    /// S3 `s3:TestEvent` messages (acknowledged, nothing to load).
    pub test_events: usize,
}

/// `+` as space, then percent-decoding: how S3 notifications encode keys.
pub fn decode_key(key: &str) -> String {
    let spaced = key.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// Every S3 object referenced by `event`: S3 notifications (all records),
/// the same wrapped in SQS message bodies or SNS envelopes, EventBridge
/// "Object Created" events, or a plain `{"bucket", "key"}`.
pub fn referenced(event: &Value) -> Referenced {
    let mut out = Referenced::default();
    collect(event, &mut out, 0);
    out
}

fn text_at(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(|e| e.trim_matches('"').to_string())
        .filter(|e| !e.is_empty())
}

fn collect(v: &Value, out: &mut Referenced, depth: usize) {
    if depth > 4 {
        return;
    }
    if v.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        out.test_events += 1;
        return;
    }
    if let Some(records) = v.get("Records").and_then(Value::as_array) {
        for r in records {
            if let (Some(b), Some(k)) = (
                r.pointer("/s3/bucket/name").and_then(Value::as_str),
                r.pointer("/s3/object/key").and_then(Value::as_str),
            ) {
                out.files.push(ObjectRef {
                    bucket: b.to_string(),
                    key: decode_key(k),
                    etag: text_at(r, "/s3/object/eTag"),
                });
            } else if let Some(body) = r
                .get("body")
                .and_then(Value::as_str)
                .or_else(|| r.pointer("/Sns/Message").and_then(Value::as_str))
                && let Ok(inner) = serde_json::from_str::<Value>(body)
            {
                collect(&inner, out, depth + 1);
            }
        }
        return;
    }
    if let Some(msg) = v.get("Message").and_then(Value::as_str)
        && let Ok(inner) = serde_json::from_str::<Value>(msg)
    {
        collect(&inner, out, depth + 1);
        return;
    }
    if let (Some(b), Some(k)) = (
        v.pointer("/detail/bucket/name").and_then(Value::as_str),
        v.pointer("/detail/object/key").and_then(Value::as_str),
    ) {
        out.files.push(ObjectRef {
            bucket: b.to_string(),
            key: k.to_string(),
            etag: text_at(v, "/detail/object/etag"),
        });
        return;
    }
    if let (Some(b), Some(k)) = (
        v.get("bucket").and_then(Value::as_str),
        v.get("key").and_then(Value::as_str),
    ) {
        out.files.push(ObjectRef {
            bucket: b.to_string(),
            key: k.to_string(),
            etag: text_at(v, "/etag"),
        });
    }
}

/// One message of an SQS batch and what it references.
#[derive(Debug)]
pub struct QueuedMessage {
    pub message_id: String,
    /// The objects its body names, or why it cannot be used.
    pub refs: Result<Referenced, String>,
}

/// The messages of an SQS event (records whose `eventSource` is
/// `aws:sqs`), each parsed on its own: one bad message is one failure.
pub fn sqs_messages(event: &Value) -> Option<Vec<QueuedMessage>> {
    let records = event.get("Records")?.as_array()?;
    if records.is_empty()
        || !records
            .iter()
            .all(|r| r.get("eventSource").and_then(Value::as_str) == Some("aws:sqs"))
    {
        return None;
    }
    let batch: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_value(event.clone()).ok()?;
    Some(
        batch
            .records
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                let message_id = m.message_id.unwrap_or_else(|| format!("#{i}"));
                let refs = match m.body.as_deref().map(serde_json::from_str::<Value>) {
                    None => Err(String::from("the message has no body")),
                    Some(Err(e)) => Err(format!("the message body is not JSON: {e}")),
                    Some(Ok(body)) => {
                        let r = referenced(&body);
                        if r.files.is_empty() && r.test_events == 0 {
                            Err(String::from("the message names no S3 object"))
                        } else {
                            Ok(r)
                        }
                    }
                };
                QueuedMessage { message_id, refs }
            })
            .collect(),
    )
}

/// Where a bulk date range reads each file's date from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DateSource {
    /// The upload time in the key (`…/<2025-10-07T15-04-05.123456Z>_<bundle>.jsonl`),
    /// the object's LastModified when the key has none.
    Key,
    Modified,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct BulkRequest {
    pub bucket: String,
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// Sections to load (prefix `<prefix>/<section_id>/`); none: the whole prefix.
    #[serde(default)]
    pub section_ids: Vec<String>,
    /// First day included (UTC, `YYYY-MM-DD`).
    pub start_date: Option<NaiveDate>,
    /// Last day included (UTC).
    pub end_date: Option<NaiveDate>,
    #[serde(default = "default_date_source")]
    pub date_source: DateSource,
    #[serde(default)]
    pub dry_run: bool,
    /// Insert again even what ClickHouse remembers loading (after rows
    /// were deleted): the deduplication tokens of this load are new.
    #[serde(default)]
    pub force_reprocess: bool,
}

fn default_prefix() -> String {
    String::from("section/")
}

fn default_date_source() -> DateSource {
    DateSource::Key
}

/// The upload time written in a Torus key.
pub fn key_time(key: &str) -> Option<DateTime<Utc>> {
    let name = key.rsplit('/').next()?;
    let stamp = name.split('_').next()?;
    let (date, time) = stamp.split_once('T')?;
    let time = time.trim_end_matches('Z');
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let hms = hms.replace('-', ":");
    let text = if frac.is_empty() {
        format!("{date}T{hms}")
    } else {
        format!("{date}T{hms}.{frac}")
    };
    NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|n| n.and_utc())
}

/// List the files a bulk request covers, sorted by key.
pub async fn list_bulk(
    s3: &aws_sdk_s3::Client,
    req: &BulkRequest,
) -> Result<Vec<XapiFile>, String> {
    let base = req.prefix.trim_end_matches('/');
    let prefixes: Vec<String> = if req.section_ids.is_empty() {
        vec![if base.is_empty() {
            String::new()
        } else {
            format!("{base}/")
        }]
    } else {
        req.section_ids
            .iter()
            .map(|s| {
                if base.is_empty() {
                    format!("{s}/")
                } else {
                    format!("{base}/{s}/")
                }
            })
            .collect()
    };
    // The checkpoint pipeline's S3 listing: paginated, with ETags and times.
    let store = S3Store::new(s3.clone(), req.bucket.clone());
    let mut out = Vec::new();
    for prefix in prefixes {
        let objects = store
            .list(&prefix)
            .await
            .map_err(|e| format!("listing {e}"))?;
        for o in objects.into_iter().filter(|o| o.key.ends_with(".jsonl")) {
            let modified = o.modified_micros.and_then(DateTime::from_timestamp_micros);
            let when = match req.date_source {
                DateSource::Key => key_time(&o.key).or(modified),
                DateSource::Modified => modified,
            };
            let day = when.map(|t| t.date_naive());
            let after_start = req.start_date.is_none_or(|s| day.is_some_and(|d| d >= s));
            let before_end = req.end_date.is_none_or(|e| day.is_some_and(|d| d <= e));
            if after_start && before_end {
                let etag = o.version.0.trim_matches('"');
                out.push(XapiFile::S3 {
                    bucket: req.bucket.clone(),
                    etag: (!etag.is_empty()).then(|| etag.to_string()),
                    key: o.key,
                });
            }
        }
    }
    out.sort_by_key(|f| f.name());
    Ok(out)
}

/// The health check: ClickHouse reachable, the tables present, S3 reachable.
pub async fn health(loader: &Loader<'_>, bucket: Option<&str>) -> Value {
    let ch = loader.ch.ping().await;
    let db = &loader.ch.config().database;
    let tables: Vec<&str> = eventlog_core::xapi::Category::LOADED
        .iter()
        .map(|c| c.table())
        .collect();
    let present = if ch.is_ok() {
        let list = tables
            .iter()
            .map(|t| eventlog_core::xapi::sql::literal(t))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT name FROM system.tables WHERE database = {} AND name IN ({list}) ORDER BY name FORMAT TabSeparated",
            eventlog_core::xapi::sql::literal(db)
        );
        match loader.ch.query(&sql).await {
            Ok((text, _)) => text.lines().map(str::to_string).collect::<Vec<_>>(),
            Err(_) => Vec::new(),
        }
    } else {
        Vec::new()
    };
    let s3 = match (loader.s3, bucket) {
        (Some(c), Some(b)) => Some(
            c.list_objects_v2()
                .bucket(b)
                .max_keys(1)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_sdk_s3::error::DisplayErrorContext(&e).to_string()),
        ),
        _ => None,
    };
    let tables_ok = tables.iter().all(|t| present.iter().any(|p| p == t));
    let healthy = ch.is_ok() && tables_ok && s3.as_ref().is_none_or(Result::is_ok);
    json!({
        "healthy": healthy,
        "clickhouse_healthy": ch.is_ok(),
        "clickhouse_error": ch.err().map(|e| e.to_string()),
        "database": db,
        "tables": tables.iter().map(|t| (t.to_string(), Value::Bool(present.iter().any(|p| p == t)))).collect::<serde_json::Map<_, _>>(),
        "s3_bucket": bucket,
        "s3_healthy": s3.as_ref().map(Result::is_ok),
        "s3_error": s3.and_then(Result::err),
        "server_side_path": loader.settings.server_auth.is_some() && loader.settings.s3_endpoint_for_clickhouse.is_some(),
        "threshold": loader.settings.threshold,
        "modes": ["notification", "bulk", "health"],
    })
}

/// A seed-style response: `statusCode` and a JSON `body` string.
pub fn response(status: u16, body: &Value) -> Value {
    json!({ "statusCode": status, "body": body.to_string() })
}

/// The status of a finished load: 200 all good, 207 some lines or files
/// failed.
pub fn status_of(report: &LoadReport) -> u16 {
    if report.failed_files.is_empty() && report.invalid_lines == 0 {
        200
    } else {
        207
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_record_and_decoded_keys() {
        let ev = json!({"Records": [
            {"eventSource": "aws:s3", "s3": {"bucket": {"name": "b"}, "object": {"key": "section/1/video/2025-10-07T15-04-05.1Z_AB.jsonl"}}},
            {"eventSource": "aws:s3", "s3": {"bucket": {"name": "b"}, "object": {"key": "section/2/my+file%2Bx.jsonl"}}},
        ]});
        let r = referenced(&ev);
        assert_eq!(r.files.len(), 2);
        assert_eq!(r.files[1].key, "section/2/my file+x.jsonl");
        let sqs = json!({"Records": [{"messageId": "m", "body": ev.to_string()}, {"messageId": "t", "body": "{\"Service\":\"Amazon S3\",\"Event\":\"s3:TestEvent\"}"}]});
        let r = referenced(&sqs);
        assert_eq!((r.files.len(), r.test_events), (2, 1));
        let eb = json!({"source": "aws.s3", "detail": {"bucket": {"name": "b"}, "object": {"key": "k.jsonl"}}});
        assert_eq!(
            referenced(&eb).files,
            [ObjectRef {
                bucket: "b".into(),
                key: "k.jsonl".into(),
                etag: None
            }]
        );
        assert_eq!(
            referenced(&json!({"bucket": "b", "key": "k"})).files.len(),
            1
        );
        assert!(
            referenced(&json!({"invalid": "structure"}))
                .files
                .is_empty()
        );
    }

    #[test]
    fn sqs_messages_are_judged_one_by_one() {
        let s3 = json!({"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "b"}, "object": {"key": "k.jsonl", "eTag": "abc"}}}]});
        let sqs = json!({"Records": [
            {"messageId": "good", "eventSource": "aws:sqs", "body": s3.to_string()},
            {"messageId": "bad", "eventSource": "aws:sqs", "body": "{not json"},
            {"messageId": "empty", "eventSource": "aws:sqs", "body": "{}"},
        ]});
        let m = sqs_messages(&sqs).unwrap();
        assert_eq!(m.len(), 3);
        let good = m[0].refs.as_ref().unwrap();
        assert_eq!(good.files[0].etag.as_deref(), Some("abc"));
        assert!(m[1].refs.as_ref().unwrap_err().contains("not JSON"));
        assert!(m[2].refs.is_err());
        assert!(
            sqs_messages(&s3).is_none(),
            "a direct S3 notification is not a batch"
        );
    }

    #[test]
    fn key_times_parse() {
        let t = key_time("section/2161/attempt_evaluated/2025-05-21T13-41-07.004512Z_5F2C.jsonl")
            .unwrap();
        assert_eq!(t.to_rfc3339(), "2025-05-21T13:41:07.004512+00:00");
        assert!(key_time("section/1/x/nonsense.jsonl").is_none());
    }
}
