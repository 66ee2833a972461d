//! The exported functions, run in a wasm engine by wasm-bindgen-test
//! in Node (`cargo test --target wasm32-unknown-unknown` with
//! wasm-bindgen-test-runner as the runner, see scripts/test.sh).

#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

const GOOD: &str = r#"{"action":"submit","study":"adrc","project_label":"ingest-form","center_label":"alpha","gear_name":"identifier-lookup","datatype":"form","timestamp":"2025-03-18T20:22:50Z","visit_date":"2025-03-03","pipeline_adcid":42,"ptid":"899485","module":"UDS","packet":"I"}"#;

fn get(v: &JsValue, k: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(k)).unwrap()
}

#[wasm_bindgen_test]
fn validate_returns_a_report_object() {
    let r = eventlog_wasm_validate(GOOD, None);
    assert_eq!(get(&r, "valid"), JsValue::TRUE);
    assert_eq!(
        get(&get(&r, "event"), "ptid").as_string().unwrap(),
        "899485"
    );
    assert_eq!(Array::from(&get(&r, "errors")).length(), 0);
    assert!(get(&r, "path").is_undefined());
}

fn eventlog_wasm_validate(text: &str, name: Option<&str>) -> JsValue {
    eventlog_wasm_validate_any(JsValue::from_str(text), name)
}

fn eventlog_wasm_validate_any(input: JsValue, name: Option<&str>) -> JsValue {
    let json = eventlog_wasm::report_json(&input_bytes(&input), name);
    js_sys::JSON::parse(&json).unwrap()
}

fn input_bytes(v: &JsValue) -> Vec<u8> {
    v.as_string()
        .map(String::into_bytes)
        .unwrap_or_else(|| Uint8Array::new(v).to_vec())
}

#[wasm_bindgen_test]
fn json_is_the_cli_json() {
    let key = "prod/log-submit-20250318-202250-42-ingest-form-899485-2025-03-03.json";
    let json = validate_json_export(GOOD, Some(key));
    assert!(
        json.starts_with(&format!(
            "{{\"path\":\"{key}\",\"valid\":true,\"event\":{{\"action\":\"submit\""
        )),
        "{json}"
    );
    assert!(
        json.ends_with(",\"errors\":[],\"name_findings\":[]}"),
        "{json}"
    );
}

fn validate_json_export(text: &str, name: Option<&str>) -> String {
    eventlog_wasm::report_json(text.as_bytes(), name)
}

#[wasm_bindgen_test]
fn bytes_are_judged_like_the_pipeline() {
    // A UTF-8 BOM is fine as bytes.
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(GOOD.as_bytes());
    let r = eventlog_wasm_validate_any(Uint8Array::from(&bom[..]).into(), None);
    assert_eq!(get(&r, "valid"), JsValue::TRUE);
    let bad = eventlog_wasm_validate(r#"{"action":"submit"}"#, None);
    assert_eq!(get(&bad, "valid"), JsValue::FALSE);
    let fields: Vec<String> = Array::from(&get(&bad, "errors"))
        .iter()
        .map(|e| get(&e, "field").as_string().unwrap())
        .collect();
    assert!(
        fields.contains(&"pipeline_adcid".to_string()) && fields.contains(&"timestamp".to_string()),
        "{fields:?}"
    );
}

#[wasm_bindgen_test]
fn the_real_exports() {
    // Through the wasm-bindgen ABI exactly as JavaScript calls them.
    let r = eventlog_wasm_exports::validate(JsValue::from_str(GOOD), None).unwrap();
    assert_eq!(get(&r, "valid"), JsValue::TRUE);
    let inputs = Array::of2(
        &JsValue::from_str(GOOD),
        &Uint8Array::from(&b"[]"[..]).into(),
    );
    let names = Array::of2(&JsValue::from_str("a.json"), &JsValue::NULL);
    let lines = eventlog_wasm_exports::validate_batch(inputs, Some(names)).unwrap();
    let lines: Vec<&str> = lines.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("{\"path\":\"a.json\",\"valid\":true"));
    assert!(lines[1].starts_with(
        "{\"valid\":false,\"errors\":[{\"field\":\"__root__\",\"code\":\"model_type\""
    ));
    assert_eq!(eventlog_wasm_exports::version(), env!("CARGO_PKG_VERSION"));
    assert!(eventlog_wasm_exports::validate(JsValue::from_f64(1.0), None).is_err());
}

#[wasm_bindgen_test]
fn xapi_check_exports() {
    let video = r#"{"id":"v-1","timestamp":"2024-09-02T18:37:41.000Z","verb":{"id":"https://w3id.org/xapi/video/verbs/played"},"object":{"definition":{"type":"https://w3id.org/xapi/video/activity-type/video"}}}"#;
    let doc = format!("{video}\n\n{{broken\n");
    let json =
        eventlog_wasm_exports::check_xapi_json(JsValue::from_str(&doc), Some("s.jsonl".into()))
            .unwrap();
    assert_eq!(
        json,
        eventlog_wasm::xapi_report_jsonl(doc.as_bytes(), Some("s.jsonl"))
    );
    let lines = Array::from(
        &eventlog_wasm_exports::check_xapi(Uint8Array::from(doc.as_bytes()).into(), None).unwrap(),
    );
    assert_eq!(lines.length(), 2, "{json}");
    let first = lines.get(0);
    assert_eq!(get(&first, "verdict").as_string().unwrap(), "loadable");
    assert_eq!(get(&first, "table").as_string().unwrap(), "video_events");
    assert_eq!(get(&first, "event_id").as_string().unwrap(), "v-1");
    assert!(get(&first, "file").is_undefined());
    let second = lines.get(1);
    assert_eq!(get(&second, "line").as_f64(), Some(3.0));
    assert_eq!(get(&second, "verdict").as_string().unwrap(), "invalid");
    assert!(eventlog_wasm_exports::check_xapi(JsValue::from_f64(1.0), None).is_err());
}

mod eventlog_wasm_exports {
    pub use eventlog_wasm::exports::*;
}
