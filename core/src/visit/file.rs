//! The per-file report every front prints: verdict, normalised event,
//! errors, and the file-name findings.

use alloc::string::String;
use alloc::vec::Vec;

use super::key;
use super::model::VisitEvent;
use super::rules::validate;
use super::valid::Valid;
use crate::report::{Issue, write_issues, write_json_str};

/// Everything we know about one event file.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub path: Option<String>,
    /// The verdict on the content alone.
    pub valid: bool,
    pub event: Option<Valid<VisitEvent>>,
    pub errors: Vec<Issue>,
    /// Present when a name starting with `log-` was checked.
    pub name_findings: Option<Vec<Issue>>,
    /// With findings about the name: the name the content calls for
    /// ([`crate::plain`] tells people to use it). Not part of the JSON.
    pub suggested_name: Option<String>,
}

/// Validate `bytes`; when `name` (a path or S3 key) is given, also say
/// whether the pipeline will read a file of that name at all, and when it
/// starts with `log-`, check the name against the content.
pub fn check_file(name: Option<&str>, bytes: &[u8]) -> FileReport {
    let validation = validate(bytes);
    let name_findings = name.and_then(|n| {
        let mut found = Vec::new();
        if !key::is_event_candidate(n) {
            found.push(key::not_read_issue(n));
        }
        if key::basename(n).starts_with("log-") {
            found.extend(key::check(n, &validation.seen()));
        }
        (!found.is_empty() || key::basename(n).starts_with("log-")).then_some(found)
    });
    let suggested_name = match (name, &name_findings) {
        (Some(n), Some(f)) if !f.is_empty() => key::suggested_name(n, &validation.seen()),
        _ => None,
    };
    FileReport {
        path: name.map(String::from),
        valid: validation.event.is_some(),
        event: validation.event,
        errors: validation.errors,
        name_findings,
        suggested_name,
    }
}

impl FileReport {
    /// One JSON object, the same bytes on every target:
    /// `{"path","valid","event"?,"errors","name_findings"?}`.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(512);
        self.write_json(&mut out);
        out
    }

    pub fn write_json(&self, out: &mut String) {
        out.push('{');
        if let Some(p) = &self.path {
            out.push_str("\"path\":");
            write_json_str(out, p);
            out.push(',');
        }
        out.push_str("\"valid\":");
        out.push_str(if self.valid { "true" } else { "false" });
        if let Some(e) = &self.event {
            out.push_str(",\"event\":");
            e.write_json(out);
        }
        out.push_str(",\"errors\":");
        write_issues(out, &self.errors);
        if let Some(f) = &self.name_findings {
            out.push_str(",\"name_findings\":");
            write_issues(out, f);
        }
        out.push('}');
    }
}
