//! File names an attacker (or an unlucky gear) could produce, shared by the
//! pipeline scenarios, the `validate` CLI test, the wasm hosts and the
//! browser checker: each must be reported, none may stop the others.

/// A panic is injected for keys containing this (test builds only; see
/// the `fault-injection` features).
pub const PANIC_MARKER: &str = "EVENTLOG-TEST-PANIC";

/// Hostile base names: multi-byte characters anywhere (near the end above
/// all, where a byte slice once landed inside one), very long names, names
/// of only dashes, names that are nearly the event form.
pub fn names() -> Vec<String> {
    vec![
        "log-submit-20240115-100000-42-p-1€€€€.json".into(),
        "log-submit-20240115-100000-42-€€€€€€€€€€€€.json".into(),
        "log-submit-20240115-100000-42-p-😀-2024-01-1😀.json".into(),
        "log-submit-20240115-100000-42-ingest-form-ÄBC-２０２４-01-15.json".into(),
        "log-ŝubmit-20240115-100000-42-p-1-2024-01-15.json".into(),
        format!("log-{}.json", "é".repeat(110)),
        format!("log-submit-20240115-100000-42-p-{}.json", "x".repeat(200)),
        "log-----------------------.json".into(),
        "log-.json".into(),
        "log-submit-20240115-100000--.json".into(),
        "log-submit-20240115-100000-42-p- -2024-01-15.json".into(),
    ]
}

/// A valid event whose ptid is `ptid` (so each hostile file's row can be
/// found in the checkpoint).
pub fn event(ptid: &str) -> String {
    format!(
        r#"{{"action":"submit","study":"adrc","project_label":"ingest-form","center_label":"alpha","gear_name":"identifier-lookup","datatype":"form","timestamp":"2024-03-01T10:00:00Z","visit_date":"2024-03-01","pipeline_adcid":42,"ptid":"{ptid}","module":"UDS","packet":"I"}}"#
    )
}
