//! The checkpoint Lambda: configuration from the environment and the
//! invocation event, the response, and what counts as a failed invocation.
//!
//! Environment (seed names first, then the reference's):
//! `SOURCE_BUCKET` or `BUCKET`, `PREFIX`, `CHECKPOINT_BUCKET` (defaults to
//! the source bucket), `CHECKPOINT_KEY_TEMPLATE` or `CHECKPOINT_KEY`,
//! `LOG_LEVEL`, `TIME_BUDGET_MARGIN_MS`, `REPORT_PREFIX`, and the limits
//! the settings table gives the Lambda
//! ([`eventlog_checkpoint::settings::SETTINGS`]). A
//! sweep's event may override `source_bucket`, `prefix`,
//! `checkpoint_bucket`, `checkpoint_key`; S3 notifications (an SQS batch,
//! or direct) name the objects to process instead.

use std::collections::HashSet;

use eventlog_checkpoint::config::{RunSettings, Template};
use eventlog_checkpoint::settings::{LAMBDA_MAX_FILES, Lambda, SETTINGS, Settings};
use eventlog_checkpoint::summary::{RunStatus, RunSummary};
use eventlog_checkpoint::{KeyRef, RunInput};
use eventlog_store::Version;
use eventlog_trigger::checkpoint::Overrides;
use eventlog_trigger::notification::{ObjectRef, QueuedMessage};
use serde_json::{Value, json};

use crate::InvocationError;

/// The run settings: the Lambda's defaults, then the variables the
/// settings table gives the Lambda.
fn settings_from_env(
    env: &dyn Fn(&str) -> Option<String>,
    template: &str,
    problems: &mut Vec<String>,
) -> RunSettings {
    let mut settings = Settings {
        run: RunSettings {
            template: template.to_string(),
            // A first backfill of millions of files goes in several
            // invocations.
            max_files: Some(LAMBDA_MAX_FILES),
            ..RunSettings::default()
        },
        ..Settings::default()
    };
    for s in SETTINGS.iter().filter(|s| s.lambda != Lambda::No) {
        let Some((name, v)) = s.env.and_then(|name| Some((name, env(name)?))) else {
            continue;
        };
        if s.key == "max_files" && v.trim() == "0" {
            settings.run.max_files = None;
        } else if settings.set(s.key, &v).is_err() {
            problems.push(format!("{name}={v:?} is not a number"));
        }
    }
    if let Err(e) = settings.run.check() {
        problems.push(e.message);
    }
    settings.run
}

/// Read `name` from the environment into `into`, or say why not.
fn number<T: std::str::FromStr>(
    env: &dyn Fn(&str) -> Option<String>,
    name: &str,
    into: &mut T,
    problems: &mut Vec<String>,
) {
    if let Some(v) = env(name) {
        match v.trim().parse() {
            Ok(n) => *into = n,
            Err(_) => problems.push(format!("{name}={v:?} is not a number")),
        }
    }
}

/// Resolved configuration of one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub source_bucket: String,
    pub prefix: String,
    pub checkpoint_bucket: String,
    pub template: String,
    pub settings: RunSettings,
    /// `REPORT_PREFIX`: where, in the checkpoint bucket, the monthly report
    /// is written after a run that committed something. Off when unset.
    pub report_prefix: Option<String>,
    /// `TIME_BUDGET_MARGIN_MS`: time kept back from the invocation's budget
    /// for merging and committing; unset: the default rule.
    pub time_margin_ms: Option<u64>,
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
        .unwrap_or_else(|| eventlog_checkpoint::config::Template::DEFAULT_IN_BUCKET.to_string());
        let template = template_from_key(&key);
        let settings = settings_from_env(env, &template, &mut problems);
        let mut margin = None;
        if env("TIME_BUDGET_MARGIN_MS").is_some() {
            let mut ms = 0u64;
            number(env, "TIME_BUDGET_MARGIN_MS", &mut ms, &mut problems);
            margin = Some(ms);
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
            report_prefix: env("REPORT_PREFIX")
                .map(|p| p.trim_matches('/').to_string())
                .filter(|p| !p.is_empty()),
            time_margin_ms: margin,
        })
    }

    /// Where the report reads the checkpoints: the template's folder, when
    /// the template is `<folder>/{study}/{datatype}/events.parquet`.
    pub fn report_source(&self) -> Option<String> {
        let root = self
            .template
            .strip_suffix("{study}/{datatype}/events.parquet")?;
        Some(root.trim_end_matches('/').to_string())
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
    log_run(s, now_ms);
    response(inv, s).ok_or_else(|| nothing_committed(s))
}

fn nothing_committed(s: &RunSummary) -> InvocationError {
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
        // The ledger's commit failing is a store fault; a group's error
        // says for itself.
        retryable: s.ledger.error.is_some()
            || s.groups.iter().any(|g| g.error.is_some() && g.retryable),
        message: format!("nothing could be committed: {}", failed.join("; ")),
    }
}

/// The run's metrics and its log line.
pub fn log_run(s: &RunSummary, now_ms: i64) {
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
}

/// The objects S3 notifications named, as keys of the source bucket, and
/// which message named which.
#[derive(Debug, Default)]
pub struct Named {
    pub keys: Vec<KeyRef>,
    /// Message id → the keys it named.
    pub messages: Vec<(String, Vec<String>)>,
    /// Messages that name nothing usable: reported failed, so they end in
    /// the dead-letter queue instead of vanishing.
    pub poisoned: Vec<(String, String)>,
    /// Objects of other buckets: ignored.
    pub other_buckets: usize,
}

impl Named {
    pub fn from_messages(inv: &Invocation, messages: Vec<QueuedMessage>) -> Named {
        let mut named = Named::default();
        for m in messages {
            match m.refs {
                Ok(r) => {
                    let keys = named.take(inv, r.files);
                    named.messages.push((m.message_id, keys));
                }
                Err(e) => named.poisoned.push((m.message_id, e.to_string())),
            }
        }
        named
    }

    pub fn from_objects(inv: &Invocation, files: Vec<ObjectRef>) -> Named {
        let mut named = Named::default();
        let keys = named.take(inv, files);
        named.messages.push((String::new(), keys));
        named
    }

    fn take(&mut self, inv: &Invocation, files: Vec<ObjectRef>) -> Vec<String> {
        let mut keys = Vec::new();
        for f in files {
            if f.bucket != inv.source_bucket {
                self.other_buckets += 1;
                continue;
            }
            keys.push(f.key.clone());
            self.keys.push(KeyRef {
                key: f.key,
                version: f.etag.map(Version),
            });
        }
        keys
    }

    pub fn input(&self) -> RunInput {
        RunInput::Keys(self.keys.clone())
    }

    /// The messages to hand back to the queue: poisoned ones, and those
    /// naming a key the run did not record.
    pub fn failures(&self, s: &RunSummary) -> Vec<String> {
        let unrecorded: HashSet<&str> = s.unrecorded.iter().map(String::as_str).collect();
        self.poisoned
            .iter()
            .map(|(id, _)| id.clone())
            .chain(
                self.messages
                    .iter()
                    .filter(|(_, keys)| keys.iter().any(|k| unrecorded.contains(k.as_str())))
                    .map(|(id, _)| id.clone()),
            )
            .collect()
    }
}

/// The answer to an SQS batch: exactly `{"batchItemFailures": [...]}`. A
/// run that committed nothing fails the invocation instead (the whole
/// batch comes back, and the `Errors` alarm sees it).
pub fn batch_response(
    named: &Named,
    s: &RunSummary,
    now_ms: i64,
) -> Result<Value, InvocationError> {
    log_run(s, now_ms);
    for (id, why) in &named.poisoned {
        tracing::error!(message_id = %id, error = %why, "message names no usable object");
    }
    if s.status == RunStatus::Failure {
        return Err(nothing_committed(s));
    }
    let failures: Vec<Value> = named
        .failures(s)
        .into_iter()
        .map(|id| json!({"itemIdentifier": id}))
        .collect();
    Ok(json!({ "batchItemFailures": failures }))
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
    fn a_bad_time_margin_is_a_configuration_error_naming_the_variable() {
        let bad = env_of(&[
            ("SOURCE_BUCKET", "bucket-b"),
            ("TIME_BUDGET_MARGIN_MS", "30s"),
        ]);
        let err = Invocation::resolve(&json!({}), &bad).unwrap_err();
        assert!(err.0.contains("TIME_BUDGET_MARGIN_MS"), "{err}");
        let good = env_of(&[
            ("SOURCE_BUCKET", "bucket-b"),
            ("TIME_BUDGET_MARGIN_MS", "45000"),
        ]);
        let inv = Invocation::resolve(&json!({}), &good).unwrap();
        assert_eq!(inv.time_margin_ms, Some(45_000));
        let unset = env_of(&[("SOURCE_BUCKET", "bucket-b")]);
        assert_eq!(
            Invocation::resolve(&json!({}), &unset)
                .unwrap()
                .time_margin_ms,
            None
        );
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
    fn limits_from_the_environment() {
        let env = env_of(&[("SOURCE_BUCKET", "src-b"), ("EVENTLOG_MAX_FILES", "0")]);
        let inv = Invocation::resolve(&json!({}), &env).unwrap();
        assert_eq!(inv.settings.max_files, None, "0: no cap");
        let env = env_of(&[("SOURCE_BUCKET", "src-b")]);
        let inv = Invocation::resolve(&json!({}), &env).unwrap();
        assert_eq!(inv.settings.max_files, Some(LAMBDA_MAX_FILES));
        let env = env_of(&[
            ("SOURCE_BUCKET", "src-b"),
            ("EVENTLOG_LIST_CONCURRENCY", "many"),
        ]);
        let e = Invocation::resolve(&json!({}), &env).unwrap_err();
        assert!(e.0.contains("EVENTLOG_LIST_CONCURRENCY"), "{e}");
    }

    #[test]
    fn batch_failures_are_poisoned_messages_and_unrecorded_keys() {
        use eventlog_trigger::notification::sqs_messages;
        let env = env_of(&[("SOURCE_BUCKET", "src-b")]);
        let inv = Invocation::resolve(&json!({}), &env).unwrap();
        let note = |bucket: &str, key: &str| {
            json!({"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]}).to_string()
        };
        let batch = json!({"Records": [
            {"messageId": "ok", "eventSource": "aws:sqs", "body": note("src-b", "prod/a.json")},
            {"messageId": "retry", "eventSource": "aws:sqs", "body": note("src-b", "prod/b.json")},
            {"messageId": "other", "eventSource": "aws:sqs", "body": note("other-b", "prod/c.json")},
            {"messageId": "poison", "eventSource": "aws:sqs", "body": "[]"},
        ]});
        let named = Named::from_messages(&inv, sqs_messages(&batch).unwrap());
        assert_eq!(named.keys.len(), 2);
        assert_eq!(named.other_buckets, 1);
        let summary = RunSummary {
            unrecorded: vec!["prod/b.json".into()],
            ..RunSummary::default()
        };
        assert_eq!(named.failures(&summary), ["poison", "retry"]);
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
