//! Print the report JSON for each `input_text` of a corpus file (one line
//! per case), for comparing with other implementations and the oracle.
//!
//!     cargo run -p eventlog-core --example report -- testdata/visit-events/sample-corpus.jsonl
use eventlog_core::json::{self, Value};
use eventlog_core::visit::check_file;

fn main() {
    let path = std::env::args().nth(1).expect("usage: report CORPUS.jsonl");
    let text = std::fs::read_to_string(&path).expect("read corpus");
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(Value::Object(case)) = json::decode(line.as_bytes()) else {
            continue;
        };
        let Some(Value::Str(input)) = case.get("input_text") else {
            continue;
        };
        println!("{}", check_file(None, input.text.as_bytes()).to_json());
    }
}
