//! Python's conversions as `core::xapi::raw::py` and `isotime` compute
//! them, one JSON value per input line, for comparing with CPython
//! (scripts/dev/py_probe.py).
use eventlog_core::json;
use eventlog_core::xapi::raw::{isotime, py};

fn main() {
    let input = std::io::read_to_string(std::io::stdin()).expect("stdin");
    for line in input.lines() {
        let v = json::decode(line.as_bytes()).expect("a JSON value per line");
        let s = match &v {
            json::Value::Str(s) => Some(s.as_str().to_string()),
            _ => None,
        };
        let whole = match py::int(&v) {
            None => serde_json::Value::Null,
            Some(py::Whole::Value(n)) => serde_json::Value::String(n.to_string()),
            Some(py::Whole::Huge) => serde_json::Value::String("huge".into()),
        };
        let f = py::float(&v).map(py::float_repr);
        let out = serde_json::json!({
            "ts": s.as_deref().map(isotime::parse_ms),
            "int": whole,
            "float": f,
            "bool": py::boolean(&v),
            "text": py::text(&v),
            "json": py::json(&v),
        });
        println!("{out}");
    }
}
