//! Run configuration: the checkpoint key template and the limits, checked
//! with garde so every problem is reported at once. Where the values come
//! from (flags, environment, a file, an invocation event) is the fronts'
//! business.

use garde::Validate;

/// Run settings that cannot be used, all problems listed. (The xAPI
/// loader's `ConfigError` is about environment variables; this is about
/// `RunSettings`, wherever they came from.)
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {message}")]
pub struct SettingsError {
    /// The first setting at fault (`template`, `concurrency`, …).
    pub setting: String,
    pub message: String,
}

/// A checkpoint key template such as `{study}/{datatype}/events.parquet`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(String);

impl Template {
    /// In a checkpoints folder of its own (the CLI's `--checkpoints`).
    pub const DEFAULT: &'static str = "{study}/{datatype}/events.parquet";
    /// In a bucket shared with other data (the Lambda): the reference's
    /// key, `DEFAULT` under `checkpoints/`.
    pub const DEFAULT_IN_BUCKET: &'static str = "checkpoints/{study}/{datatype}/events.parquet";

    pub fn parse(s: &str) -> Result<Self, SettingsError> {
        check_template(s).map_err(|e| SettingsError {
            setting: "template".into(),
            message: format!("template {s:?}: {e}"),
        })?;
        Ok(Template(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key of one group. One pass over the template: a study that
    /// reads `{datatype}` stays that text.
    pub fn render(&self, study: &str, datatype: &str) -> String {
        let mut out = String::with_capacity(self.0.len() + study.len() + datatype.len());
        let mut rest = self.0.as_str();
        while let Some(i) = rest.find('{') {
            out.push_str(&rest[..i]);
            let tail = &rest[i..];
            if let Some(after) = tail.strip_prefix("{study}") {
                out.push_str(study);
                rest = after;
            } else if let Some(after) = tail.strip_prefix("{datatype}") {
                out.push_str(datatype);
                rest = after;
            } else {
                out.push('{');
                rest = &tail[1..];
            }
        }
        out.push_str(rest);
        out
    }

    /// The fixed text before the first placeholder, where the ledger and
    /// the errors files live (`_eventlog/` under it).
    pub fn static_prefix(&self) -> &str {
        let cut = self.0.find('{').unwrap_or(self.0.len());
        let head = &self.0[..cut];
        match head.rfind('/') {
            Some(i) => &head[..=i],
            None => "",
        }
    }
}

fn check_template(s: &str) -> Result<(), String> {
    let mut problems = Vec::new();
    if s.trim().is_empty() {
        problems.push("is empty".to_string());
    }
    for p in ["{study}", "{datatype}"] {
        match s.matches(p).count() {
            0 => problems.push(format!("must contain {p}")),
            1 => {}
            _ => problems.push(format!("contains {p} more than once")),
        }
    }
    let rest = s.replace("{study}", "").replace("{datatype}", "");
    if rest.contains(['{', '}']) {
        problems.push(
            "may contain no placeholders other than {study} and {datatype} (and no braces)"
                .to_string(),
        );
    }
    if s.starts_with('/') || s.ends_with('/') {
        problems.push("must be a relative key naming a file".to_string());
    }
    // The checkpoints must stay under their root, whatever the store.
    if s.split('/')
        .any(|part| part == ".." || part == "." || part.is_empty())
    {
        problems.push(
            "may not leave the checkpoints root or name an empty folder (no `..`, `.` or `//`)"
                .to_string(),
        );
    }
    if s.contains(['\\', '\0']) {
        problems.push("may not contain a backslash or a NUL".to_string());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn valid_template(value: &str, _: &()) -> garde::Result {
    check_template(value).map_err(garde::Error::new)
}

/// Settings of a checkpoint run that do not depend on where data lives.
#[derive(Debug, Clone, PartialEq, Eq, Validate, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunSettings {
    /// Checkpoint key template under the checkpoint root.
    #[garde(custom(valid_template))]
    pub template: String,
    /// Objects read at once.
    #[garde(range(min = 1, max = 1024))]
    pub concurrency: usize,
    /// Objects larger than this are reported, not read.
    #[garde(range(min = 1))]
    pub max_object_bytes: u64,
    /// Groups merged and committed at once. Each commit is a few round
    /// trips (read the checkpoint, write it conditionally), so at S3's
    /// latency a run with many groups waits on them one batch at a time;
    /// each merge streams its checkpoint in bounded memory (tens of MB for
    /// a million rows), so 8 at once fits a 1 GB Lambda.
    #[garde(range(min = 1, max = 64))]
    pub group_parallelism: usize,
    /// Commit attempts per group when another run commits first.
    #[garde(range(min = 1, max = 100))]
    pub max_commit_attempts: u32,
    /// Files (and other new names) a run takes at most, the first in key
    /// order; the rest are deferred to later runs. `None`: no cap.
    #[garde(inner(range(min = 1)))]
    pub max_files: Option<usize>,
    /// Key ranges listed at once (S3).
    #[garde(range(min = 1, max = 256))]
    pub list_concurrency: usize,
    /// Pages a sweep lists with one paginator before it divides the rest
    /// into ranges (S3): listings this short are fastest as they are.
    #[garde(range(min = 1, max = 10_000))]
    pub list_first_pages: usize,
    /// Ledger segments after which a run compacts them into a snapshot.
    #[garde(range(min = 1, max = 100_000))]
    pub compact_segments: u64,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            template: Template::DEFAULT.to_string(),
            concurrency: 256,
            max_object_bytes: 1 << 20,
            group_parallelism: 8,
            max_commit_attempts: 8,
            max_files: None,
            list_concurrency: 16,
            list_first_pages: 8,
            compact_segments: crate::ledger::Compaction::default().segments,
        }
    }
}

impl RunSettings {
    pub fn check(&self) -> Result<Template, SettingsError> {
        self.validate().map_err(|report| SettingsError {
            setting: report
                .iter()
                .next()
                .map(|(path, _)| path.to_string())
                .unwrap_or_default(),
            message: report.to_string(),
        })?;
        Template::parse(&self.template)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert_eq!(
            Template::DEFAULT_IN_BUCKET,
            format!("checkpoints/{}", Template::DEFAULT)
        );
        let t = Template::parse(Template::DEFAULT).unwrap();
        assert_eq!(t.render("adrc", "form"), "adrc/form/events.parquet");
        assert_eq!(
            t.render("{datatype}", "form"),
            "{datatype}/form/events.parquet",
            "a study is inserted as text, never filled in again"
        );
        assert_eq!(t.static_prefix(), "");
        let t = Template::parse("prod/checkpoints/{study}/{datatype}/events.parquet").unwrap();
        assert_eq!(t.static_prefix(), "prod/checkpoints/");
        for bad in [
            "",
            "{study}/events.parquet",
            "{{study}}/{datatype}/x",
            "{study}/{datatype}/{env}.parquet",
            "/{study}/{datatype}/x",
            "../{study}/{datatype}/events.parquet",
            "a/../../{study}/{datatype}/x",
            "./{study}/{datatype}/x",
            "a//{study}/{datatype}/x",
            "a\\{study}/{datatype}/x",
        ] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn settings_report_every_problem() {
        let s = RunSettings {
            template: "x".into(),
            concurrency: 0,
            ..RunSettings::default()
        };
        let e = s.check().unwrap_err();
        assert!(
            e.message.contains("concurrency") && e.message.contains("template"),
            "{e}"
        );
        assert!(
            ["concurrency", "template"].contains(&e.setting.as_str()),
            "the first setting at fault is named: {}",
            e.setting
        );
    }
}
