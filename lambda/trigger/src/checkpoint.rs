//! The checkpoint function's invocation event: optional overrides of its
//! configuration. Any other event (a schedule's, a test invocation's) has
//! none; a field of the wrong type is an error naming it.

use serde_json::Value;

use crate::TriggerError;

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
}
