//! The differential cases every host must give byte-identical reports on:
//! the corpora, the golden files with their names, hostile names, and raw
//! bytes only a byte interface sees.

use eventlog_core::json::{self, Value};

use crate::testdata;

/// The cases as a JSONL corpus (`{"hex": bytes, "name": optional}` per
/// line), and the native reports, one line each, in the same order.
pub fn corpus_and_native(cases: &[(Vec<u8>, Option<String>)]) -> (String, String) {
    use std::fmt::Write as _;
    let mut text = String::new();
    let mut native = String::new();
    for (bytes, name) in cases {
        let hex: String = bytes.iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
        let name_json = name
            .as_ref()
            .map_or("null".into(), |n| serde_json::to_string(n).unwrap());
        text.push_str(&format!("{{\"hex\":\"{hex}\",\"name\":{name_json}}}\n"));
        native.push_str(&eventlog_core::visit::check_file(name.as_deref(), bytes).to_json());
        native.push('\n');
    }
    (text, native)
}

/// Every differential case as (bytes, optional name).
pub fn all() -> Vec<(Vec<u8>, Option<String>)> {
    let mut out = Vec::new();
    for corpus in [
        "visit-events/sample-corpus.jsonl",
        "visit-events/generated-corpus.jsonl",
    ] {
        let text = std::fs::read_to_string(testdata(corpus)).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let Ok(Value::Object(o)) = json::decode(line.as_bytes()) else {
                panic!("bad corpus line")
            };
            let Some(Value::Str(s)) = o.get("input_text") else {
                panic!("no input_text")
            };
            out.push((s.as_str().as_bytes().to_vec(), None));
        }
    }
    let golden = testdata("visit-events/golden/files");
    for p in crate::backend::walk(&golden) {
        let key = p
            .strip_prefix(&golden)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        out.push((std::fs::read(&p).unwrap(), Some(key)));
    }
    // Hostile names, each with a valid event: the name checks must give the
    // same findings in every host (and never trap).
    for (i, n) in crate::hostile::names().iter().enumerate() {
        let body = crate::hostile::event(&format!("H{i}"));
        out.push((body.clone().into_bytes(), Some(format!("prod/{n}"))));
        out.push((body.into_bytes(), Some(n.clone())));
    }
    // Raw bytes only a byte interface sees: BOMs, UTF-16, broken UTF-8.
    let good = std::fs::read(testdata(
        "visit-events/files/log-submit-20250318-202250-42-ingest-form-899485-2025-03-03.json",
    ))
    .unwrap();
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend(&good);
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            String::from_utf8(good.clone())
                .unwrap()
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    let mut broken = good.clone();
    broken[20] = 0xFF;
    for b in [
        bom,
        utf16,
        broken,
        vec![],
        vec![0],
        b"\xED\xA0\x80".to_vec(),
    ] {
        out.push((
            b,
            Some("prod/log-submit-20250318-202250-42-ingest-form-899485-2025-03-03.json".into()),
        ));
    }
    out
}
