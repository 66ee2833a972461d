//! One table of columns per category: name, ClickHouse type, where the
//! value comes from (JSON paths, first usable one wins) and how it is
//! converted. Absent or unusable values are NULL.
//!
//! Column lists follow the reference's per-type tables (spec §3.3–3.7) with
//! the reference master's semantics (NULL for absent, objects as JSON text,
//! list length for hints, real booleans, UTC timestamps), microsecond
//! timestamps, the identity keys Torus writes on video statements
//! (`resource_id`, `page_attempt_guid`, `page_attempt_number`), plus
//! `verb_id` (which says played from paused) and `source_file`.

use super::Category;
use super::containers::{At, Containers, at_each};

/// A path of object keys from the statement root.
pub type Path = &'static [&'static str];

/// How a column's value is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The statement `id`, or the SHA-256 of the line when it has none.
    EventId,
    /// A string as is; any other JSON value as its canonical JSON text.
    Text(&'static [Path]),
    /// A non-negative JSON integer up to 2^64-1.
    UInt64(&'static [Path]),
    /// A non-negative JSON integer up to 2^32-1.
    UInt32(&'static [Path]),
    /// A finite JSON number.
    Float(&'static [Path]),
    /// `true` or `false`.
    Bool(Path),
    /// An array's length, or a non-negative integer up to 2^32-1.
    Count(Path),
    /// `result.response`: an object's string `input` member, else as `Text`.
    Response,
    /// The statement timestamp, UTC, microseconds (see [`super::time`]).
    Timestamp,
    /// `verb.id`, `''` when absent.
    Verb,
    /// `s3://bucket/key` of the object the line came from.
    SourceFile,
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub ch_type: &'static str,
    pub rule: Rule,
    /// `ch_type` as RowBinary writes it.
    pub wire: super::extract::WireType,
    /// The rule's paths (up to three) with their containers.
    pub at: [At; 3],
}

const fn col(name: &'static str, ch_type: &'static str, rule: Rule) -> Column {
    Column {
        name,
        ch_type,
        rule,
        wire: super::extract::wire_type(ch_type),
        at: match rule {
            Rule::Text(ps) | Rule::UInt64(ps) | Rule::UInt32(ps) | Rule::Float(ps) => {
                at_each(&CONTAINERS.paths, ps)
            }
            Rule::Bool(p) | Rule::Count(p) => at_each(&CONTAINERS.paths, &[p]),
            _ => [At::NONE; 3],
        },
    }
}

/// Members the columns read into: each must be an object when present
/// (`null` counts as absent). A statement whose `verb` is a string, say,
/// is an invalid line with its reason, never a row of NULLs.
pub const CONTAINERS: Containers<10> = Containers::new([
    &["actor"],
    &["actor", "account"],
    &["verb"],
    &["object"],
    &["object", "definition"],
    &["result"],
    &["result", "score"],
    &["result", "extensions"],
    &["context"],
    &["context", "extensions"],
]);

/// A column of any type, for encoder tests.
#[cfg(test)]
pub(crate) const fn col_for_tests(name: &'static str, ch_type: &'static str) -> Column {
    col(name, ch_type, Rule::Verb)
}

macro_rules! ext {
    ($k:literal) => {
        &[
            "context",
            "extensions",
            concat!("http://oli.cmu.edu/extensions/", $k),
        ]
    };
}
macro_rules! video_rext {
    ($k:literal) => {
        &[
            "result",
            "extensions",
            concat!("https://w3id.org/xapi/video/extensions/", $k),
        ]
    };
}

const S: &str = "Nullable(String)";
const U64: &str = "Nullable(UInt64)";
const U32: &str = "Nullable(UInt32)";
const F64: &str = "Nullable(Float64)";
const B: &str = "Nullable(Bool)";
const TS: &str = "DateTime64(6, 'UTC')";

const EVENT_ID: Column = col("event_id", "String", Rule::EventId);
const USER_ID: Column = col(
    "user_id",
    S,
    Rule::Text(&[&["actor", "account", "name"], &["actor", "mbox"]]),
);
const HOST_NAME: Column = col(
    "host_name",
    S,
    Rule::Text(&[ext!("host_name"), &["actor", "account", "homePage"]]),
);
const SECTION_ID: Column = col("section_id", U64, Rule::UInt64(&[ext!("section_id")]));
const PROJECT_ID: Column = col("project_id", U64, Rule::UInt64(&[ext!("project_id")]));
const PUBLICATION_ID: Column = col(
    "publication_id",
    U64,
    Rule::UInt64(&[ext!("publication_id")]),
);
const TIMESTAMP: Column = col("timestamp", TS, Rule::Timestamp);
const PAGE_ATTEMPT_GUID: Column = col(
    "page_attempt_guid",
    S,
    Rule::Text(&[ext!("page_attempt_guid")]),
);
const PAGE_ATTEMPT_NUMBER: Column = col(
    "page_attempt_number",
    U32,
    Rule::UInt32(&[ext!("page_attempt_number")]),
);
const PAGE_ID: Column = col("page_id", U64, Rule::UInt64(&[ext!("page_id")]));
const ACTIVITY_ATTEMPT_GUID: Column = col(
    "activity_attempt_guid",
    S,
    Rule::Text(&[ext!("activity_attempt_guid")]),
);
const ACTIVITY_ATTEMPT_NUMBER: Column = col(
    "activity_attempt_number",
    U32,
    Rule::UInt32(&[ext!("activity_attempt_number")]),
);
const ACTIVITY_ID: Column = col("activity_id", U64, Rule::UInt64(&[ext!("activity_id")]));
const ACTIVITY_REVISION_ID: Column = col(
    "activity_revision_id",
    U64,
    Rule::UInt64(&[ext!("activity_revision_id")]),
);
const SCORE: Column = col("score", F64, Rule::Float(&[&["result", "score", "raw"]]));
const OUT_OF: Column = col("out_of", F64, Rule::Float(&[&["result", "score", "max"]]));
const SCALED_SCORE: Column = col(
    "scaled_score",
    F64,
    Rule::Float(&[&["result", "score", "scaled"]]),
);
const SUCCESS: Column = col("success", B, Rule::Bool(&["result", "success"]));
const COMPLETION: Column = col("completion", B, Rule::Bool(&["result", "completion"]));
const VERB_ID: Column = col("verb_id", "LowCardinality(String)", Rule::Verb);
const SOURCE_FILE: Column = col("source_file", S, Rule::SourceFile);

pub const VIDEO: &[Column] = &[
    EVENT_ID,
    USER_ID,
    HOST_NAME,
    SECTION_ID,
    PROJECT_ID,
    PUBLICATION_ID,
    // Torus writes the page attempt keys and `resource_id` (the page) on videos.
    col(
        "attempt_guid",
        S,
        Rule::Text(&[ext!("attempt_guid"), ext!("page_attempt_guid")]),
    ),
    col(
        "attempt_number",
        U32,
        Rule::UInt32(&[ext!("attempt_number"), ext!("page_attempt_number")]),
    ),
    col(
        "page_id",
        U64,
        Rule::UInt64(&[ext!("page_id"), ext!("resource_id")]),
    ),
    col(
        "content_element_id",
        S,
        Rule::Text(&[
            &["result", "extensions", "content_element_id"],
            ext!("content_element_id"),
        ]),
    ),
    TIMESTAMP,
    col("video_url", S, Rule::Text(&[&["object", "id"]])),
    col(
        "video_title",
        S,
        Rule::Text(&[&["object", "definition", "name", "en-US"]]),
    ),
    col("video_time", F64, Rule::Float(&[video_rext!("time")])),
    col(
        "video_length",
        F64,
        Rule::Float(&[
            video_rext!("length"),
            &[
                "context",
                "extensions",
                "https://w3id.org/xapi/video/extensions/length",
            ],
            &[
                "object",
                "definition",
                "extensions",
                "https://w3id.org/xapi/video/extensions/length",
            ],
        ]),
    ),
    col(
        "video_progress",
        F64,
        Rule::Float(&[video_rext!("progress")]),
    ),
    col(
        "video_played_segments",
        S,
        Rule::Text(&[video_rext!("played-segments")]),
    ),
    col(
        "video_play_time",
        F64,
        Rule::Float(&[&["result", "extensions", "video_play_time"]]),
    ),
    col(
        "video_seek_from",
        F64,
        Rule::Float(&[video_rext!("time-from")]),
    ),
    col("video_seek_to", F64, Rule::Float(&[video_rext!("time-to")])),
    VERB_ID,
    SOURCE_FILE,
];

pub const ACTIVITY_ATTEMPT: &[Column] = &[
    EVENT_ID,
    USER_ID,
    HOST_NAME,
    SECTION_ID,
    PROJECT_ID,
    PUBLICATION_ID,
    ACTIVITY_ATTEMPT_GUID,
    ACTIVITY_ATTEMPT_NUMBER,
    PAGE_ATTEMPT_GUID,
    PAGE_ATTEMPT_NUMBER,
    PAGE_ID,
    ACTIVITY_ID,
    ACTIVITY_REVISION_ID,
    TIMESTAMP,
    SCORE,
    OUT_OF,
    SCALED_SCORE,
    SUCCESS,
    COMPLETION,
    VERB_ID,
    SOURCE_FILE,
];

pub const PAGE_ATTEMPT: &[Column] = &[
    EVENT_ID,
    USER_ID,
    HOST_NAME,
    SECTION_ID,
    PROJECT_ID,
    PUBLICATION_ID,
    PAGE_ATTEMPT_GUID,
    PAGE_ATTEMPT_NUMBER,
    PAGE_ID,
    TIMESTAMP,
    SCORE,
    OUT_OF,
    SCALED_SCORE,
    SUCCESS,
    COMPLETION,
    VERB_ID,
    SOURCE_FILE,
];

pub const PAGE_VIEWED: &[Column] = &[
    EVENT_ID,
    USER_ID,
    HOST_NAME,
    SECTION_ID,
    PROJECT_ID,
    PUBLICATION_ID,
    PAGE_ATTEMPT_GUID,
    PAGE_ATTEMPT_NUMBER,
    PAGE_ID,
    col(
        "page_sub_type",
        S,
        Rule::Text(&[&["object", "definition", "subType"]]),
    ),
    TIMESTAMP,
    SUCCESS,
    COMPLETION,
    VERB_ID,
    SOURCE_FILE,
];

pub const PART_ATTEMPT: &[Column] = &[
    EVENT_ID,
    USER_ID,
    HOST_NAME,
    SECTION_ID,
    PROJECT_ID,
    PUBLICATION_ID,
    col(
        "part_attempt_guid",
        S,
        Rule::Text(&[ext!("part_attempt_guid")]),
    ),
    col(
        "part_attempt_number",
        U32,
        Rule::UInt32(&[ext!("part_attempt_number")]),
    ),
    ACTIVITY_ATTEMPT_GUID,
    ACTIVITY_ATTEMPT_NUMBER,
    PAGE_ATTEMPT_GUID,
    PAGE_ATTEMPT_NUMBER,
    PAGE_ID,
    ACTIVITY_ID,
    ACTIVITY_REVISION_ID,
    col("part_id", S, Rule::Text(&[ext!("part_id")])),
    TIMESTAMP,
    SCORE,
    OUT_OF,
    SCALED_SCORE,
    SUCCESS,
    COMPLETION,
    col("response", S, Rule::Response),
    col(
        "feedback",
        S,
        Rule::Text(&[&[
            "result",
            "extensions",
            "http://oli.cmu.edu/extensions/feedback",
        ]]),
    ),
    col("hints_requested", U32, Rule::Count(ext!("hints_requested"))),
    col(
        "attached_objectives",
        S,
        Rule::Text(&[ext!("attached_objectives")]),
    ),
    col("session_id", S, Rule::Text(&[ext!("session_id")])),
    VERB_ID,
    SOURCE_FILE,
];

/// The columns of a category's table (empty for `Unknown`).
pub fn columns(c: Category) -> &'static [Column] {
    match c {
        Category::Video => VIDEO,
        Category::ActivityAttempt => ACTIVITY_ATTEMPT,
        Category::PageAttempt => PAGE_ATTEMPT,
        Category::PageViewed => PAGE_VIEWED,
        Category::PartAttempt => PART_ATTEMPT,
        Category::Unknown => &[],
    }
}
