//! The checkpoint Lambda: configuration from the environment and the
//! invocation event, the response, and what counts as a failed invocation.
//!
//! Environment (seed names first, then the reference's):
//! `SOURCE_BUCKET` or `BUCKET`, `PREFIX`, `CHECKPOINT_BUCKET` (defaults to
//! the source bucket), `CHECKPOINT_KEY_TEMPLATE` or `CHECKPOINT_KEY`,
//! `LOG_LEVEL`. The event may override `source_bucket`, `prefix`,
//! `checkpoint_bucket`, `checkpoint_key`; anything else in it is ignored (a
//! schedule's event, an S3 notification).

use eventlog_checkpoint::config::{RunSettings, Template};
use eventlog_checkpoint::report::{RunStatus, RunSummary};
use eventlog_trigger::checkpoint::Overrides;
use serde_json::{Value, json};

use crate::InvocationError;

pub const DEFAULT_TEMPLATE: &str = "checkpoints/{study}/{datatype}/events.parquet";

/// Resolved configuration of one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub source_bucket: String,
    pub prefix: String,
    pub checkpoint_bucket: String,
    pub template: String,
    pub settings: RunSettings,
}

/// A configuration problem: answered with status 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadConfig(pub String);

/// A single-file checkpoint key (the seed's `checkpoints/events.parquet`)
/// becomes a per-group template in the same folder.
fn template_from_key(key: &str) -> String {
    if key.contains('{') {
        return key.to_string();
    }
    match key.rsplit_once('/') {
        Some((dir, file)) => format!("{dir}/{{study}}/{{datatype}}/{file}"),
        None => format!("{{study}}/{{datatype}}/{key}"),
    }
}

impl Invocation {
    pub fn resolve(
        event: &Value,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Invocation, BadConfig> {
        let mut problems = Vec::new();
        let o = Overrides::from_event(event).map_err(|e| BadConfig(e.message))?;
        let pick = |given: Option<String>, vars: &[&str]| {
            given.or_else(|| vars.iter().find_map(|v| env(v)))
        };
        let source_bucket = pick(o.source_bucket, &["SOURCE_BUCKET", "BUCKET"]).unwrap_or_default();
        if source_bucket.trim().is_empty() {
            problems.push(
                "no source bucket: set SOURCE_BUCKET (or BUCKET), or `source_bucket` in the event"
                    .to_string(),
            );
        }
        let prefix = pick(o.prefix, &["PREFIX"]).unwrap_or_default();
        let checkpoint_bucket = pick(o.checkpoint_bucket, &["CHECKPOINT_BUCKET"])
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| source_bucket.clone());
        let key = pick(
            o.checkpoint_key,
            &["CHECKPOINT_KEY_TEMPLATE", "CHECKPOINT_KEY"],
        )
        .unwrap_or_else(|| DEFAULT_TEMPLATE.to_string());
        let template = template_from_key(&key);
        let mut settings = RunSettings {
            template: template.clone(),
            concurrency: 64,
            ..RunSettings::default()
        };
        if let Some(c) = env("EVENTLOG_CONCURRENCY") {
            match c.parse() {
                Ok(n) => settings.concurrency = n,
                Err(_) => problems.push(format!("EVENTLOG_CONCURRENCY={c:?} is not a number")),
            }
        }
        if let Some(m) = env("EVENTLOG_MAX_OBJECT_BYTES") {
            match m.parse() {
                Ok(n) => settings.max_object_bytes = n,
                Err(_) => problems.push(format!("EVENTLOG_MAX_OBJECT_BYTES={m:?} is not a number")),
            }
        }
        if let Err(e) = settings.check() {
            problems.push(e.0);
        }
        for (name, b) in [
            ("source", &source_bucket),
            ("checkpoint", &checkpoint_bucket),
        ] {
            if !b.is_empty() && !valid_bucket_name(b) {
                problems.push(format!("{name} bucket {b:?} is not a valid bucket name"));
            }
        }
        if !problems.is_empty() {
            return Err(BadConfig(problems.join("; ")));
        }
        Ok(Invocation {
            source_bucket,
            prefix: prefix.trim_matches('/').to_string(),
            checkpoint_bucket,
            template,
            settings,
        })
    }

    pub fn checkpoint_path(&self) -> String {
        format!("s3://{}/{}", self.checkpoint_bucket, self.template)
    }

    /// Keys of the source to ignore: the checkpoint area, when it is in the
    /// same bucket.
    pub fn exclusions(&self) -> Vec<String> {
        if self.source_bucket != self.checkpoint_bucket {
            return Vec::new();
        }
        match Template::parse(&self.template) {
            Ok(t) if !t.static_prefix().is_empty() => vec![t.static_prefix().to_string()],
            _ => Vec::new(),
        }
    }
}

fn valid_bucket_name(b: &str) -> bool {
    (3..=63).contains(&b.len())
        && b.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
        && b.as_bytes()[0].is_ascii_alphanumeric()
        && b.as_bytes()[b.len() - 1].is_ascii_alphanumeric()
}

/// The 400 response for a bad configuration (the reference's shape).
pub fn bad_config_response(e: &BadConfig) -> Value {
    json!({"statusCode": 400, "error": "ValidationError", "message": format!("Configuration validation error: {}", e.0)})
}

/// Everything after a run: its CloudWatch metrics (EMF lines on stdout), a
/// log line of its counts, and the answer. A run that committed nothing
/// fails the invocation, so the function's `Errors` alarm fires.
pub fn finish(inv: &Invocation, s: &RunSummary, now_ms: i64) -> Result<Value, InvocationError> {
    let service = crate::env::env_var("POWERTOOLS_SERVICE_NAME")
        .or_else(|| crate::env::env_var("AWS_LAMBDA_FUNCTION_NAME"))
        .unwrap_or_else(|| "event-log-checkpoint".into());
    for line in crate::metrics::emf_lines(s, &service, now_ms) {
        println!("{line}");
    }
    tracing::info!(
        status = ?s.status,
        listed = s.listed,
        new_objects = s.new_objects,
        valid_events = s.valid_events,
        invalid = s.invalid,
        unreadable = s.unreadable,
        filtered = s.filtered,
        deferred = s.deferred,
        events_added = s.events_added,
        groups = s.groups.len(),
        duration_ms = s.duration_ms,
        "run finished"
    );
    response(inv, s).ok_or_else(|| {
        let failed: Vec<String> = s
            .groups
            .iter()
            .filter_map(|g| {
                g.error
                    .as_ref()
                    .map(|e| format!("{}/{}: {e}", g.study, g.datatype))
            })
            .chain(s.ledger.error.clone())
            .collect();
        InvocationError {
            kind: "NothingCommitted",
            message: format!("nothing could be committed: {}", failed.join("; ")),
        }
    })
}

/// The response for a finished run: the seed's fields plus the detail.
/// `None` when nothing could be committed: the invocation must fail, so the
/// Lambda `Errors` metric and its alarm see it.
pub fn response(inv: &Invocation, s: &RunSummary) -> Option<Value> {
    let status = match s.status {
        RunStatus::Success => 200,
        RunStatus::Partial => 207,
        RunStatus::Failure => return None,
    };
    Some(json!({
        "statusCode": status,
        "checkpoint_path": inv.checkpoint_path(),
        "new_events_processed": s.valid_events,
        "total_events": s.total_rows,
        "events_failed": s.invalid + s.too_large + s.unreadable + s.internal_errors,
        "events_filtered": s.filtered,
        "events_added": s.events_added,
        "events_replaced": s.events_replaced,
        "last_processed_timestamp": s.last_event_timestamp,
        "execution_time_ms": s.duration_ms,
        "groups": s.groups,
        "summary": s,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn seed_and_reference_variables() {
        let seed = env_of(&[
            ("SOURCE_BUCKET", "submission-events"),
            ("CHECKPOINT_KEY", "checkpoints/events.parquet"),
        ]);
        let inv = Invocation::resolve(&json!({}), &seed).unwrap();
        assert_eq!(inv.checkpoint_bucket, "submission-events");
        assert_eq!(
            inv.template,
            "checkpoints/{study}/{datatype}/events.parquet"
        );
        assert_eq!(inv.exclusions(), ["checkpoints/"]);
        let reference = env_of(&[
            ("BUCKET", "src-b"),
            ("PREFIX", "prod/"),
            ("CHECKPOINT_BUCKET", "ck-b"),
            (
                "CHECKPOINT_KEY_TEMPLATE",
                "prod/checkpoints/{study}/{datatype}/events.parquet",
            ),
        ]);
        let inv = Invocation::resolve(&json!({"prefix": "dev/"}), &reference).unwrap();
        assert_eq!(
            (
                inv.source_bucket.as_str(),
                inv.prefix.as_str(),
                inv.checkpoint_bucket.as_str()
            ),
            ("src-b", "dev", "ck-b")
        );
        assert!(inv.exclusions().is_empty());
    }

    #[test]
    fn bad_configuration_is_400() {
        let none = env_of(&[]);
        let e = Invocation::resolve(&json!({"checkpoint_key": "x/{study}.parquet"}), &none)
            .unwrap_err();
        assert!(
            e.0.contains("source bucket") && e.0.contains("{datatype}"),
            "{e}"
        );
        assert_eq!(bad_config_response(&e)["statusCode"], 400);
        assert!(Invocation::resolve(&json!({"source_bucket": 7}), &none).is_err());
        assert!(Invocation::resolve(&json!({"source_bucket": "Bad_Bucket"}), &none).is_err());
    }
}
