//! The xAPI loader's invocations: S3 notifications (direct, or wrapped in
//! SQS message bodies, SNS envelopes or EventBridge events), SQS batches,
//! bulk requests, health checks.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;

use crate::TriggerError;
pub use crate::notification::{
    ObjectRef, QueuedMessage, Referenced, decode_key, referenced, sqs_messages,
};

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

/// Where Torus writes statement files (`section/{id}/{type}/…`): the
/// prefix of a bulk load unless one is given, on every front.
pub const DEFAULT_PREFIX: &str = "section/";

fn default_prefix() -> String {
    String::from(DEFAULT_PREFIX)
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

/// What an invocation asks for.
#[derive(Debug)]
pub enum Route {
    Health,
    /// An SQS batch: each message judged on its own.
    Queue(Vec<QueuedMessage>),
    Bulk(BulkRequest),
    /// S3 notifications outside a queue (every record).
    Notification(Referenced),
}

/// Route one invocation event. `default_bucket` is the bulk default
/// (`S3_XAPI_BUCKET_NAME`). An event the loader cannot use is an error that
/// names the field at fault.
pub fn route(event: &Value, default_bucket: Option<&str>) -> Result<Route, TriggerError> {
    if event.get("health_check").is_some_and(truthy) {
        return Ok(Route::Health);
    }
    if let Some(messages) = sqs_messages(event) {
        return Ok(Route::Queue(messages));
    }
    let refs = referenced(event);
    let bulk = event.get("mode").and_then(Value::as_str) == Some("bulk")
        || (refs.files.is_empty() && BULK_KEYS.iter().any(|k| event.get(*k).is_some()));
    if bulk {
        return bulk_request(event, default_bucket).map(Route::Bulk);
    }
    if refs.files.is_empty() && refs.test_events == 0 {
        return Err(TriggerError::new(
            "Records",
            "Invalid S3 event format: no S3 object in the event",
        ));
    }
    Ok(Route::Notification(refs))
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

/// A bulk request, in the reference callers' field names or ours.
pub fn bulk_request(
    event: &Value,
    default_bucket: Option<&str>,
) -> Result<BulkRequest, TriggerError> {
    // The reference's callers send `s3_bucket` and `s3_prefix`; ours may
    // send `bucket` and `prefix`.
    // An empty name is no name (found by fuzzing: `"s3_bucket": ""` made a
    // request for bucket "").
    let text = |keys: [&str; 2]| {
        keys.iter()
            .find_map(|k| event.get(*k).and_then(Value::as_str))
            .filter(|s| !s.is_empty())
    };
    let default_bucket = default_bucket.filter(|b| !b.is_empty());
    let Some(bucket) = text(["s3_bucket", "bucket"]).or(default_bucket) else {
        return Err(TriggerError::new(
            "s3_bucket",
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
    let date = |k: &str| -> Result<Option<NaiveDate>, TriggerError> {
        match event.get(k).filter(|v| !v.is_null()) {
            None => Ok(None),
            Some(Value::String(s)) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| TriggerError::new(k, format!("must be YYYY-MM-DD, got {s:?}"))),
            Some(other) => Err(TriggerError::new(
                k,
                format!("must be YYYY-MM-DD, got {other}"),
            )),
        }
    };
    let start_date = date("start_date")?;
    let end_date = date("end_date")?;
    let date_source = match event.get("date_source").and_then(Value::as_str) {
        None | Some("key") => DateSource::Key,
        Some("modified") => DateSource::Modified,
        Some(other) => {
            return Err(TriggerError::new(
                "date_source",
                format!("must be key or modified, got {other:?}"),
            ));
        }
    };
    Ok(BulkRequest {
        bucket: bucket.to_string(),
        prefix: text(["s3_prefix", "prefix"])
            .unwrap_or(DEFAULT_PREFIX)
            .to_string(),
        section_ids: sections,
        start_date,
        end_date,
        date_source,
        dry_run: event.get("dry_run").is_some_and(truthy),
        force_reprocess: event.get("force_reprocess").is_some_and(truthy),
    })
}

fn value_text(v: &Value) -> String {
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn routes() {
        assert!(matches!(
            route(&json!({"health_check": true}), None),
            Ok(Route::Health)
        ));
        let bulk = route(
            &json!({"section_id": 5, "s3_bucket": "b", "start_date": "2025-01-02"}),
            None,
        )
        .unwrap();
        let Route::Bulk(b) = bulk else { panic!("bulk") };
        assert_eq!(
            (b.bucket.as_str(), b.section_ids.as_slice()),
            ("b", &["5".to_string()][..])
        );
        assert_eq!(b.start_date, NaiveDate::from_ymd_opt(2025, 1, 2));
        let e = route(&json!({"mode": "bulk", "end_date": "soon"}), Some("d")).unwrap_err();
        assert_eq!(e.field, "end_date");
        let e = route(&json!({"mode": "bulk"}), None).unwrap_err();
        assert_eq!(e.field, "s3_bucket");
        let e = route(&json!({"mode": "bulk", "s3_bucket": ""}), Some("")).unwrap_err();
        assert_eq!(e.field, "s3_bucket");
        let Ok(Route::Bulk(b)) = route(&json!({"section_ids": ["2"], "s3_bucket": ""}), Some("d"))
        else {
            panic!("bulk")
        };
        assert_eq!(b.bucket, "d");
        assert!(route(&json!({"invalid": "structure"}), None).is_err());
        assert!(matches!(
            route(&json!({"Service": "Amazon S3", "Event": "s3:TestEvent"}), None),
            Ok(Route::Notification(r)) if r.test_events == 1
        ));
    }

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
        assert!(m[1].refs.as_ref().unwrap_err().message.contains("not JSON"));
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
