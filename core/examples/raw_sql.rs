//! The raw-events SQL and the rows `derive` gives for a local JSONL file,
//! for trying the server-side rendering against an engine by hand
//! (scripts/dev/raw_sql_check.py runs it against chdb).
//!
//!     cargo run -p eventlog-core --example raw_sql -- FILE.jsonl DATABASE 'file(…)' PATH
use eventlog_core::xapi::extract::write_json_each_row;
use eventlog_core::xapi::raw::{self, Limits, Provenance, attribution};
use eventlog_core::xapi::sql::Target;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, file, db, source, path] = &args[..] else {
        panic!("usage: raw_sql FILE DATABASE SOURCE PATH");
    };
    let bytes = std::fs::read(file).expect("read");
    let t = Target {
        database: db,
        cluster: None,
    };
    let mut rows = Vec::new();
    let mut attrs = Vec::new();
    let mut problems = Vec::new();
    let prov = Provenance {
        file: &format!("s3://{path}"),
        etag: None,
    };
    let mut n = 0u32;
    for (physical, line) in raw::lines(&bytes) {
        if line.is_empty() {
            continue;
        }
        n += 1;
        match raw::derive(line, &prov, n, &Limits::default()).map(|mut d| {
            // Non-finite floats as ClickHouse's JSON output spells them
            // with output_format_json_quote_denormals.
            for c in d.raw.iter_mut().chain(d.attributions.iter_mut().flatten()) {
                if let eventlog_core::xapi::extract::Cell::Float(f) = c
                    && !f.is_finite()
                {
                    *c = eventlog_core::xapi::extract::Cell::Text(format!("{f}").to_lowercase());
                }
            }
            d
        }) {
            Ok(d) => {
                let mut s = String::new();
                write_json_each_row(&mut s, raw::RAW, &d.raw);
                rows.push(s);
                for a in &d.attributions {
                    let mut s = String::new();
                    write_json_each_row(&mut s, attribution::COLUMNS, a);
                    attrs.push(s);
                }
            }
            Err(p) => problems.push(serde_json::json!({"physical": physical, "line": n, "code": p.code, "problem": p.to_string()})),
        }
    }
    let out = serde_json::json!({
        "ddl": raw::sql::ddl(&t),
        "stage": raw::sql::stage_create(&t, "stage", source, 100),
        "summary": raw::sql::stage_summary(&t, "stage"),
        "attr_stage": raw::sql::attribution_stage_create(&t, "stage"),
        "insert_raw": raw::sql::insert_raw(&t, "stage", path, (1, u32::MAX), None),
        "insert_attributions": raw::sql::insert_attributions(&t, "stage", path, (1, u32::MAX), None),
        "rows": rows,
        "attributions": attrs,
        "problems": problems,
    });
    println!("{out}");
}
