//! The health check: ClickHouse reachable, the target's tables present
//! (the five, or `raw_events` and `experiment_attributions`), S3
//! reachable.

use serde_json::{Value, json};

use crate::Loader;

/// The health check: ClickHouse reachable, the tables present, S3 reachable.
pub async fn health(loader: &Loader<'_>, bucket: Option<&str>) -> Value {
    let ch = loader.ch.ping().await;
    let db = &loader.ch.config().database;
    let tables: Vec<&str> = loader.settings.target.tables();
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
        "target": loader.settings.target.name(),
        "modes": ["notification", "bulk", "health"],
    })
}
