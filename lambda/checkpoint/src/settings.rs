//! Every setting of a checkpoint run, named once: its TOML key, flag,
//! environment variable, default and meaning ([`SETTINGS`]). The
//! command line, the Lambda and the README's option lists are made from
//! this table (a test holds the README to it), and a TOML file
//! deserializes straight into [`Settings`].
//!
//! Precedence, lowest first: the defaults ([`RunSettings::default`]), the
//! file, the environment, the flags.

use std::fmt::Write as _;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::config::{RunSettings, SettingsError};

/// One setting.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// Its key in the TOML file, and the name `--help` and errors use.
    pub key: &'static str,
    /// Its flag on `eventlog checkpoint` (none: the file only).
    pub flag: Option<&'static str>,
    /// The environment variable the command line reads for it.
    pub env: Option<&'static str>,
    /// The Lambda reads [`Setting::env`] too, with this default when it
    /// differs from the command line's.
    pub lambda: Lambda,
    /// What the flag's value is called in `--help`.
    pub value_name: &'static str,
    /// What it does, one sentence or two.
    pub doc: &'static str,
    /// Its default when [`RunSettings`] does not hold it.
    pub default: Option<&'static str>,
}

/// Whether the checkpoint Lambda reads a setting from the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lambda {
    No,
    /// Same variable, same default.
    Yes,
    /// Same variable, another default (and what it means there).
    WithDefault(&'static str),
}

/// The Lambda's cap on files per invocation: enough for 15 minutes,
/// within a 1 GB function's memory; 0 lifts it.
pub const LAMBDA_MAX_FILES: usize = 100_000;

pub const SETTINGS: &[Setting] = &[
    Setting {
        key: "source",
        flag: Some("source"),
        env: Some("EVENTLOG_SOURCE"),
        lambda: Lambda::No,
        value_name: "DIR|s3://BUCKET/PREFIX",
        doc: "Where the event files are: a directory (the embedded default) or s3://bucket/prefix (credentials and region from the standard AWS chain; EVENTLOG_S3_ENDPOINT for an S3-compatible server).",
        default: Some("required"),
    },
    Setting {
        key: "checkpoints",
        flag: Some("checkpoints"),
        env: Some("EVENTLOG_CHECKPOINTS"),
        lambda: Lambda::No,
        value_name: "DIR|s3://BUCKET/PREFIX",
        doc: "Where the checkpoints, the ledger and the errors files go: a directory or s3://bucket/prefix.",
        default: Some("required"),
    },
    Setting {
        key: "template",
        flag: Some("template"),
        env: Some("EVENTLOG_TEMPLATE"),
        lambda: Lambda::No,
        value_name: "TEMPLATE",
        doc: "Checkpoint key under the checkpoints root; must contain {study} and {datatype} and nothing else in braces.",
        default: None,
    },
    Setting {
        key: "concurrency",
        flag: Some("concurrency"),
        env: Some("EVENTLOG_CONCURRENCY"),
        lambda: Lambda::Yes,
        value_name: "N",
        doc: "Objects read at once.",
        default: None,
    },
    Setting {
        key: "max_object_bytes",
        flag: Some("max-object-bytes"),
        env: Some("EVENTLOG_MAX_OBJECT_BYTES"),
        lambda: Lambda::Yes,
        value_name: "N",
        doc: "Event files larger than this many bytes are reported, not read.",
        default: None,
    },
    Setting {
        key: "max_files",
        flag: Some("max-files"),
        env: Some("EVENTLOG_MAX_FILES"),
        lambda: Lambda::WithDefault("100000 (0: no cap)"),
        value_name: "N",
        doc: "Take at most this many new files (and other new names) a run, the first in key order; the rest are reported as deferred and taken by the next runs.",
        default: Some("no cap"),
    },
    Setting {
        key: "list_concurrency",
        flag: Some("list-concurrency"),
        env: Some("EVENTLOG_LIST_CONCURRENCY"),
        lambda: Lambda::Yes,
        value_name: "N",
        doc: "Key ranges a sweep lists at once on S3 (1: one paginator).",
        default: None,
    },
    Setting {
        key: "list_first_pages",
        flag: Some("list-first-pages"),
        env: Some("EVENTLOG_LIST_FIRST_PAGES"),
        lambda: Lambda::Yes,
        value_name: "N",
        doc: "Pages a sweep lists with one paginator before it divides the rest (S3).",
        default: None,
    },
    Setting {
        key: "compact_segments",
        flag: Some("compact-segments"),
        env: Some("EVENTLOG_LEDGER_COMPACT_SEGMENTS"),
        lambda: Lambda::Yes,
        value_name: "N",
        doc: "Ledger segments after which a run compacts them into a snapshot.",
        default: None,
    },
    Setting {
        key: "group_parallelism",
        flag: None,
        env: None,
        lambda: Lambda::No,
        value_name: "N",
        doc: "Groups merged and committed at once.",
        default: None,
    },
    Setting {
        key: "max_commit_attempts",
        flag: None,
        env: None,
        lambda: Lambda::No,
        value_name: "N",
        doc: "Commit attempts per group when another run commits first.",
        default: None,
    },
    Setting {
        key: "deadline",
        flag: Some("deadline"),
        env: Some("EVENTLOG_DEADLINE_SECONDS"),
        lambda: Lambda::No,
        value_name: "SECONDS",
        doc: "Finish within this many seconds: reading stops early enough to commit what was read, no request waits past the end, and a run cut short exits non-zero, saying what it left for the next run.",
        default: Some("none"),
    },
];

/// Everything a checkpoint run is configured with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    pub source: Option<String>,
    pub checkpoints: Option<String>,
    /// Seconds.
    pub deadline: Option<f64>,
    pub run: RunSettings,
}

impl<'de> Deserialize<'de> for Settings {
    /// From a file's table: `source`, `checkpoints` and `deadline` here,
    /// the rest straight into [`RunSettings`] (unknown keys refused).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut table = Map::deserialize(d)?;
        if let Some(unknown) = table.keys().find(|k| SETTINGS.iter().all(|s| s.key != *k)) {
            let known: Vec<String> = SETTINGS.iter().map(|s| format!("`{}`", s.key)).collect();
            return Err(D::Error::custom(format!(
                "unknown setting `{unknown}`; the settings are {}",
                known.join(", ")
            )));
        }
        let mut text = |key: &str| -> Result<Option<String>, D::Error> {
            match table.remove(key) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(other) => Err(D::Error::custom(format!(
                    "`{key}` must be text, not {other}"
                ))),
            }
        };
        let source = text("source")?;
        let checkpoints = text("checkpoints")?;
        let deadline = match table.remove("deadline") {
            None => None,
            Some(v) => Some(v.as_f64().ok_or_else(|| {
                D::Error::custom(format!("`deadline` must be a number of seconds, not {v}"))
            })?),
        };
        let run = RunSettings::deserialize(Value::Object(table)).map_err(D::Error::custom)?;
        Ok(Settings {
            source,
            checkpoints,
            deadline,
            run,
        })
    }
}

impl Settings {
    /// Set `key` from text (a flag's or a variable's value).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), SettingsError> {
        let bad = |message: String| SettingsError {
            setting: key.to_string(),
            message,
        };
        match key {
            "source" => self.source = Some(value.to_string()),
            "checkpoints" => self.checkpoints = Some(value.to_string()),
            "deadline" => {
                self.deadline = Some(
                    value
                        .trim()
                        .parse()
                        .map_err(|_| bad(format!("{key}: {value:?} is not a number of seconds")))?,
                )
            }
            _ => {
                // Through the settings' own serde form, so the table needs
                // no code per field.
                let mut fields = match serde_json::to_value(&self.run) {
                    Ok(Value::Object(m)) => m,
                    _ => return Err(bad(String::from("settings are not a table"))),
                };
                let slot = fields
                    .get_mut(key)
                    .ok_or_else(|| bad(format!("no setting is called {key}")))?;
                *slot = match slot {
                    Value::String(_) => Value::String(value.to_string()),
                    _ => Value::from(
                        value
                            .trim()
                            .parse::<u64>()
                            .map_err(|_| bad(format!("{key}: {value:?} is not a number")))?,
                    ),
                };
                self.run = serde_json::from_value(Value::Object(fields))
                    .map_err(|e| bad(format!("{key}: {e}")))?;
            }
        }
        Ok(())
    }
}

impl Setting {
    /// The default as `--help` and the README show it.
    pub fn default_text(&self) -> String {
        if let Some(d) = self.default {
            return d.to_string();
        }
        match serde_json::to_value(RunSettings::default()) {
            Ok(Value::Object(m)) => match m.get(self.key) {
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
                None => String::new(),
            },
            _ => String::new(),
        }
    }

    /// What the Lambda's table says the default is.
    pub fn lambda_default_text(&self) -> String {
        match self.lambda {
            Lambda::WithDefault(d) => d.to_string(),
            _ => self.default_text(),
        }
    }
}

/// The settings as the README lists them for the command line: flag,
/// environment variable, file key, default, meaning.
pub fn cli_markdown() -> String {
    let mut out = String::from(
        "| flag | environment | file key | default | meaning |\n|---|---|---|---|---|\n",
    );
    for s in SETTINGS {
        let cell = |v: Option<String>| v.unwrap_or_else(|| String::from("(file only)"));
        // A value in code type, a word (`required`) as it is.
        let default = match s.default {
            Some(word) => word.to_string(),
            None => format!("`{}`", s.default_text()),
        };
        let _ = writeln!(
            out,
            "| {} | {} | `{}` | {default} | {} |",
            cell(s.flag.map(|f| format!("`--{f}`"))),
            cell(s.env.map(|e| format!("`{e}`"))),
            s.key,
            s.doc
        );
    }
    out
}

/// The Lambda's rows for the settings it shares with the command line.
pub fn lambda_markdown() -> String {
    let mut out = String::new();
    for s in SETTINGS.iter().filter(|s| s.lambda != Lambda::No) {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} |",
            s.env.unwrap_or_default(),
            s.lambda_default_text(),
            s.doc
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_run_setting_is_in_the_table_once() {
        let Ok(Value::Object(fields)) = serde_json::to_value(RunSettings::default()) else {
            panic!("settings serialize as a table");
        };
        let run: Vec<&str> = SETTINGS
            .iter()
            .filter(|s| !["source", "checkpoints", "deadline"].contains(&s.key))
            .map(|s| s.key)
            .collect();
        let mut sorted = run.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), run.len(), "a key twice: {run:?}");
        let mut names: Vec<&str> = fields.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(sorted, names);
        for s in SETTINGS {
            assert!(!s.default_text().is_empty(), "{} has no default", s.key);
            assert!(s.lambda == Lambda::No || s.env.is_some(), "{}", s.key);
            if let Lambda::WithDefault(d) = s.lambda {
                assert!(d.starts_with(&LAMBDA_MAX_FILES.to_string()) && s.key == "max_files");
            }
        }
    }

    #[test]
    fn a_file_deserializes_into_the_settings_and_text_overrides_it() {
        let mut s: Settings = toml_like(&[
            ("source", Value::from("in")),
            ("concurrency", Value::from(3)),
            ("deadline", Value::from(1.5)),
            ("max_files", Value::from(7)),
        ])
        .unwrap();
        assert_eq!(s.source.as_deref(), Some("in"));
        assert_eq!(s.run.concurrency, 3);
        assert_eq!(s.run.max_files, Some(7));
        assert_eq!(s.deadline, Some(1.5));
        assert_eq!(
            s.run.list_concurrency,
            RunSettings::default().list_concurrency
        );
        s.set("concurrency", "9").unwrap();
        s.set("template", "x/{study}/{datatype}/e.parquet").unwrap();
        s.set("max_files", "2").unwrap();
        s.set("deadline", "4").unwrap();
        assert_eq!(
            (s.run.concurrency, s.run.max_files, s.deadline),
            (9, Some(2), Some(4.0))
        );
        assert_eq!(s.run.template, "x/{study}/{datatype}/e.parquet");
        let e = s.set("list_concurrency", "many").unwrap_err();
        assert_eq!(e.setting, "list_concurrency");
        assert!(e.message.contains("\"many\""), "{e}");
        assert!(s.set("nope", "1").is_err());
        let e = toml_like(&[("concurency", Value::from(3))]).unwrap_err();
        assert!(e.to_string().contains("concurency"), "{e}");
        assert!(toml_like(&[("source", Value::from(3))]).is_err());
    }

    fn toml_like(pairs: &[(&str, Value)]) -> Result<Settings, serde_json::Error> {
        let m: Map<String, Value> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        serde_json::from_value(Value::Object(m))
    }

    /// The README's two option lists are this table's: the command
    /// line's between markers, the Lambda's rows in its table of variables.
    #[test]
    fn the_readme_lists_the_table() {
        let readme: String = include_str!("../../../README.md")
            .lines()
            .map(|l| format!("{}\n", l.trim_start()))
            .collect();
        let open = "<!-- checkpoint-settings -->\n\n";
        let close = "\n<!-- /checkpoint-settings -->";
        let start = readme
            .find(open)
            .expect("README has the checkpoint settings")
            + open.len();
        let end = start + readme[start..].find(close).expect("and their end");
        assert_eq!(
            readme[start..end],
            cli_markdown(),
            "README's checkpoint settings"
        );
        assert!(
            readme.contains(&lambda_markdown()),
            "README's Lambda table lacks these rows, in this order:\n{}",
            lambda_markdown()
        );
    }
}
