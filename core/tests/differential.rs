//! Differential test against the reference consumer's recorded verdicts.
//!
//! Corpora: the published sample (`testdata/visit-events/sample-corpus.jsonl`),
//! a generated one whose verdicts come from the real pydantic model
//! (`scripts/oracle/`), and any file named by `EVENTLOG_CORPUS`
//! (colon-separated paths), e.g. the larger acceptance corpus.
//!
//! Agreement means: same verdict; for valid cases the same normalised event;
//! for invalid ones our error fields cover the reference's. A case may
//! disagree only as `docs/differences.md` allows.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use eventlog_core::Code;
use eventlog_core::json::{self, Value};
use eventlog_core::visit::check_file;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The codes column of docs/differences.md.
fn difference_codes() -> BTreeSet<String> {
    let doc =
        std::fs::read_to_string(repo().join("docs/differences.md")).expect("docs/differences.md");
    let mut codes = BTreeSet::new();
    for line in doc.lines().filter(|l| l.starts_with("| D")) {
        let cells: Vec<&str> = line.split('|').collect();
        for part in cells[2].split('`').skip(1).step_by(2) {
            codes.insert(part.to_string());
        }
    }
    codes
}

fn get<'a, 'd>(obj: &'a Value<'d>, key: &str) -> Option<&'a Value<'d>> {
    match obj {
        Value::Object(o) => o.get(key),
        _ => None,
    }
}

fn str_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| match i {
                Value::Str(s) => Some(s.as_str().to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[derive(Default, Debug)]
struct Tally {
    cases: usize,
    agree: usize,
    allowed: usize,
    failures: Vec<String>,
}

fn run_corpus(path: &Path, allowed_codes: &BTreeSet<String>, tally: &mut Tally) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for (lineno, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let case = json::decode(line.as_bytes())
            .unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), lineno + 1));
        let id = match get(&case, "id") {
            Some(Value::Str(s)) => s.as_str().to_string(),
            _ => format!("line {}", lineno + 1),
        };
        let Some(Value::Str(input)) = get(&case, "input_text") else {
            panic!("{id}: no input_text")
        };
        let ref_valid = matches!(get(&case, "valid"), Some(Value::Bool(true)));
        let outcome = match get(&case, "outcome") {
            Some(Value::Str(s)) => s.as_str().to_string(),
            _ => String::new(),
        };
        tally.cases += 1;
        let report = check_file(None, input.text.as_bytes());
        let ours_fields: BTreeSet<String> = report.errors.iter().map(|e| e.field.clone()).collect();
        let only_differences = !report.errors.is_empty()
            && report
                .errors
                .iter()
                .all(|e| allowed_codes.contains(e.code.as_str()));
        let verdict = match (ref_valid, report.valid) {
            (true, true) => {
                let ours_text = report.event.as_ref().unwrap().to_json();
                let ours = json::decode(ours_text.as_bytes()).unwrap();
                let theirs = get(&case, "normalized").cloned().unwrap_or(Value::Null);
                if same_object(&ours, &theirs) {
                    Ok(true)
                } else {
                    Err(format!(
                        "normalized differs: ours {}",
                        report.event.as_ref().unwrap().to_json()
                    ))
                }
            }
            (true, false) if only_differences => Ok(false),
            (true, false) => Err(format!(
                "reference valid, ours invalid: {:?}",
                codes(&report.errors)
            )),
            (false, true) => Err(String::from("reference invalid, ours valid")),
            (false, false) => {
                let want: BTreeSet<String> =
                    str_list(get(&case, "error_fields")).into_iter().collect();
                if outcome.starts_with("uncaught_exception") {
                    // D1: the reference crashed; any reported error will do.
                    Ok(false)
                } else if want.is_subset(&ours_fields) {
                    Ok(true)
                } else {
                    Err(format!(
                        "error fields {want:?} not covered by ours {:?}",
                        codes(&report.errors)
                    ))
                }
            }
        };
        match verdict {
            Ok(true) => tally.agree += 1,
            Ok(false) => tally.allowed += 1,
            Err(why) => tally.failures.push(format!(
                "{}: {id}: {why}\n    input: {:.300}",
                path.display(),
                input.text
            )),
        }
    }
}

fn codes(issues: &[eventlog_core::Issue]) -> Vec<String> {
    issues
        .iter()
        .map(|i| format!("{}:{}", i.field, i.code))
        .collect()
}

/// Objects equal key by key (the normalised form has no duplicates).
fn same_object(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let xk: BTreeSet<&str> = x.keys().iter().map(|k| k.as_str()).collect();
            let yk: BTreeSet<&str> = y.keys().iter().map(|k| k.as_str()).collect();
            xk == yk && xk.iter().all(|k| x.get(k) == y.get(k))
        }
        _ => false,
    }
}

#[test]
fn differences_doc_matches_the_code() {
    let documented = difference_codes();
    let implemented: BTreeSet<String> = Code::ALL
        .iter()
        .filter(|c| c.is_deliberate_difference())
        .map(|c| c.as_str().to_string())
        .collect();
    assert_eq!(
        documented, implemented,
        "docs/differences.md and Code::is_deliberate_difference disagree"
    );
    assert!(
        documented.len() <= 10,
        "the list of differences must stay short"
    );
}

#[test]
fn agrees_with_the_reference_on_every_corpus() {
    let allowed = difference_codes();
    let mut corpora = vec![
        repo().join("testdata/visit-events/sample-corpus.jsonl"),
        repo().join("testdata/visit-events/generated-corpus.jsonl"),
    ];
    if let Ok(extra) = std::env::var("EVENTLOG_CORPUS") {
        corpora.extend(
            extra
                .split(':')
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
        );
    }
    let mut tally = Tally::default();
    for c in &corpora {
        run_corpus(c, &allowed, &mut tally);
    }
    eprintln!(
        "differential: {} cases, {} agree, {} differ as documented, {} failures",
        tally.cases,
        tally.agree,
        tally.allowed,
        tally.failures.len()
    );
    assert!(
        tally.cases >= 5040,
        "corpora went missing: only {} cases",
        tally.cases
    );
    assert!(
        tally.failures.is_empty(),
        "{} disagreements:\n{}",
        tally.failures.len(),
        tally.failures.join("\n")
    );
}
