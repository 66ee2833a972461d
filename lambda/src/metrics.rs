//! CloudWatch embedded metric format (EMF): metrics as structured log
//! lines. One document for the run, one per group, each with its own
//! dimensions, so per-group values are never filed under another group
//! (the reference's single dimension set put every value under the last
//! group's Study/Datatype).

use serde_json::{Value, json};

use eventlog_checkpoint::commit::GroupStatus;
use eventlog_checkpoint::summary::RunSummary;

pub const NAMESPACE: &str = "EventLogCheckpoint";

fn document(
    timestamp_ms: i64,
    dimensions: &[&str],
    values: &[(&str, &str, Value)],
    fields: &[(&str, &str)],
) -> Value {
    let metrics: Vec<Value> = values
        .iter()
        .map(|(name, unit, _)| json!({"Name": name, "Unit": unit}))
        .collect();
    let mut doc = json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [dimensions], "Metrics": metrics}],
        }
    });
    let obj = doc.as_object_mut().expect("object");
    for (k, v) in fields {
        obj.insert((*k).to_string(), Value::from(*v));
    }
    for (name, _, v) in values {
        obj.insert((*name).to_string(), v.clone());
    }
    doc
}

/// The EMF lines for one run.
pub fn emf_lines(s: &RunSummary, service: &str, timestamp_ms: i64) -> Vec<String> {
    let failed = s.invalid + s.too_large + s.unreadable + s.internal_errors;
    let mut docs = vec![document(
        timestamp_ms,
        &["service"],
        &[
            ("NewEventsProcessed", "Count", json!(s.valid_events)),
            ("TotalEvents", "Count", json!(s.total_rows)),
            ("EventsFailed", "Count", json!(failed)),
            ("EventsFiltered", "Count", json!(s.filtered)),
            ("EventsAdded", "Count", json!(s.events_added)),
            (
                "GroupsFailed",
                "Count",
                json!(
                    s.groups
                        .iter()
                        .filter(|g| g.status == GroupStatus::Failed)
                        .count()
                ),
            ),
            ("ExecutionTime", "Milliseconds", json!(s.duration_ms)),
        ],
        &[("service", service), ("run_id", &s.run_id)],
    )];
    for g in &s.groups {
        docs.push(document(
            timestamp_ms,
            &["service", "Study", "Datatype"],
            &[
                ("NewEventsProcessed", "Count", json!(g.events)),
                ("EventsAdded", "Count", json!(g.stats.added)),
                ("TotalEvents", "Count", json!(g.stats.rows_after)),
                (
                    "CheckpointFileSize",
                    "Bytes",
                    json!(g.size_bytes.unwrap_or(0)),
                ),
                (
                    "CheckpointSaveFailures",
                    "Count",
                    json!(u8::from(g.status == GroupStatus::Failed)),
                ),
            ],
            &[
                ("service", service),
                ("Study", &g.study),
                ("Datatype", &g.datatype),
                ("run_id", &s.run_id),
            ],
        ));
    }
    docs.into_iter().map(|d| d.to_string()).collect()
}
