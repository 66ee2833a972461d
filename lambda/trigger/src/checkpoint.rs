//! The checkpoint function's invocation event: the objects S3
//! notifications name (through SQS, or direct), or else a sweep of the
//! prefix, with optional overrides of the configuration. Any other event (a
//! schedule's, a test invocation's) is a sweep without overrides; a field
//! of the wrong type is an error naming it.

use serde_json::Value;

use crate::TriggerError;
use crate::notification::{QueuedMessage, Referenced, referenced, sqs_messages};

/// What an invocation asks for.
#[derive(Debug)]
pub enum Request {
    /// Everything new under the prefix (a schedule, a manual invocation).
    Sweep,
    /// An SQS batch of S3 notifications: exactly the objects named, and an
    /// answer per message.
    Queue(Vec<QueuedMessage>),
    /// A direct S3 notification or EventBridge event: the objects named.
    Objects(Referenced),
}

pub fn request(event: &Value) -> Request {
    if let Some(messages) = sqs_messages(event) {
        return Request::Queue(messages);
    }
    let named = referenced(event);
    if named.files.is_empty() && named.test_events == 0 {
        Request::Sweep
    } else {
        Request::Objects(named)
    }
}

/// What an event may override; `None` where the environment decides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub source_bucket: Option<String>,
    pub prefix: Option<String>,
    pub checkpoint_bucket: Option<String>,
    pub checkpoint_key: Option<String>,
}

impl Overrides {
    pub const FIELDS: [&'static str; 4] = [
        "source_bucket",
        "prefix",
        "checkpoint_bucket",
        "checkpoint_key",
    ];

    pub fn from_event(event: &Value) -> Result<Overrides, TriggerError> {
        let field = |name: &str| -> Result<Option<String>, TriggerError> {
            match event.get(name) {
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Null) | None => Ok(None),
                Some(other) => Err(TriggerError::new(
                    name,
                    format!("event field `{name}` must be a string, got {other}"),
                )),
            }
        };
        Ok(Overrides {
            source_bucket: field("source_bucket")?,
            prefix: field("prefix")?,
            checkpoint_bucket: field("checkpoint_bucket")?,
            checkpoint_key: field("checkpoint_key")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn overrides_and_other_events() {
        let o = Overrides::from_event(&json!({"prefix": "dev/", "checkpoint_key": null})).unwrap();
        assert_eq!(o.prefix.as_deref(), Some("dev/"));
        assert_eq!(o.checkpoint_key, None);
        let schedule = json!({"source": "aws.events", "detail-type": "Scheduled Event"});
        assert_eq!(
            Overrides::from_event(&schedule).unwrap(),
            Overrides::default()
        );
        let e = Overrides::from_event(&json!({"source_bucket": 7})).unwrap_err();
        assert_eq!(e.field, "source_bucket");
        assert!(Overrides::from_event(&json!([1, 2])).is_ok());
    }

    #[test]
    fn requests() {
        let note = json!({"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "b"}, "object": {"key": "prod/log+a%2Bb.json", "eTag": "e1"}}}]});
        match request(&note) {
            Request::Objects(r) => assert_eq!(r.files[0].key, "prod/log a+b.json"),
            other => panic!("{other:?}"),
        }
        let batch = json!({"Records": [
            {"messageId": "m1", "eventSource": "aws:sqs", "body": note.to_string()},
            {"messageId": "m2", "eventSource": "aws:sqs", "body": "poison"},
        ]});
        match request(&batch) {
            Request::Queue(m) => {
                assert!(m[0].refs.is_ok() && m[1].refs.is_err());
                assert_eq!(m[1].message_id, "m2");
            }
            other => panic!("{other:?}"),
        }
        let schedule =
            json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}});
        assert!(matches!(request(&schedule), Request::Sweep));
        assert!(matches!(
            request(&json!({"prefix": "dev/"})),
            Request::Sweep
        ));
    }
}
