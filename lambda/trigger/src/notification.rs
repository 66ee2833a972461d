//! S3 event notifications, as either function receives them: direct, in
//! SQS message bodies (a batch, judged message by message), in SNS
//! envelopes, or as EventBridge "Object Created" events.

use serde_json::Value;

use crate::TriggerError;

/// One S3 object a notification names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub bucket: String,
    pub key: String,
    /// The object's ETag when the notification carries it.
    pub etag: Option<String>,
}

impl ObjectRef {
    /// `s3://bucket/key`.
    pub fn uri(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
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
    /// The body as delivered, for a copy to a dead-letter queue.
    pub body: Option<String>,
    /// The objects its body names, or why it cannot be used.
    pub refs: Result<Referenced, TriggerError>,
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
                let body = m.body.clone();
                let refs = match m.body.as_deref().map(serde_json::from_str::<Value>) {
                    None => Err(TriggerError::new("body", "the message has no body")),
                    Some(Err(e)) => Err(TriggerError::new(
                        "body",
                        format!("the message body is not JSON: {e}"),
                    )),
                    Some(Ok(body)) => {
                        let r = referenced(&body);
                        if r.files.is_empty() && r.test_events == 0 {
                            Err(TriggerError::new("body", "the message names no S3 object"))
                        } else {
                            Ok(r)
                        }
                    }
                };
                QueuedMessage {
                    message_id,
                    body,
                    refs,
                }
            })
            .collect(),
    )
}
