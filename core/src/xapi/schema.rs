//! The Torus statement schema (v0.1.0) as rules: nine statement kinds, each
//! an object shape with required members, fixed values and closed or open
//! member sets. A statement is valid when it matches one kind; problems are
//! reported against the kind whose verb and object type it claims.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::json::{Int, Value};
use crate::report::{Code, Issue};

/// A schema node.
#[derive(Debug)]
pub enum Node<'a> {
    /// Any JSON value.
    Any,
    Str,
    Num,
    Int,
    StrOrNull,
    IntOrNull,
    StrOrInt,
    ConstStr(&'static str),
    ConstTrue,
    Obj(&'a Obj<'a>),
    /// Objects matching every listed shape (an `allOf`).
    AllOf(&'a [&'a Obj<'a>]),
    /// An array of `node`, with at least `min` items.
    ArrayOf(&'a Node<'a>, usize),
}

#[derive(Debug)]
pub struct Obj<'a> {
    pub props: &'a [(&'static str, Node<'a>)],
    pub required: &'static [&'static str],
    /// Whether members other than `props` are allowed.
    pub open: bool,
}

const LANG: Obj<'static> = Obj {
    props: &[("en-US", Node::Str)],
    required: &["en-US"],
    open: false,
};
const ACCOUNT: Obj<'static> = Obj {
    props: &[("homePage", Node::Str), ("name", Node::StrOrInt)],
    required: &["homePage", "name"],
    open: false,
};
const ACTOR: Obj<'static> = Obj {
    props: &[
        ("account", Node::Obj(&ACCOUNT)),
        ("objectType", Node::ConstStr("Agent")),
    ],
    required: &["account", "objectType"],
    open: false,
};
const SCORE: Obj<'static> = Obj {
    props: &[
        ("scaled", Node::Num),
        ("raw", Node::Num),
        ("min", Node::Num),
        ("max", Node::Num),
    ],
    required: &["scaled", "raw", "min", "max"],
    open: false,
};

macro_rules! ext {
    ($k:literal) => {
        concat!("http://oli.cmu.edu/extensions/", $k)
    };
}
macro_rules! vext {
    ($k:literal) => {
        concat!("https://w3id.org/xapi/video/extensions/", $k)
    };
}

const ATTEMPT_EXT: Obj<'static> = Obj {
    props: &[
        (ext!("section_id"), Node::Int),
        (ext!("project_id"), Node::Int),
        (ext!("publication_id"), Node::Int),
        (ext!("page_id"), Node::Int),
        (ext!("page_attempt_guid"), Node::Str),
        (ext!("page_attempt_number"), Node::Int),
    ],
    required: &[
        ext!("section_id"),
        ext!("project_id"),
        ext!("publication_id"),
        ext!("page_id"),
    ],
    open: true,
};
const ACTIVITY_EXT: Obj<'static> = Obj {
    props: &[
        (ext!("activity_attempt_number"), Node::Int),
        (ext!("activity_attempt_guid"), Node::Str),
        (ext!("activity_id"), Node::Int),
        (ext!("activity_revision_id"), Node::Int),
    ],
    required: &[
        ext!("activity_attempt_number"),
        ext!("activity_attempt_guid"),
        ext!("activity_id"),
        ext!("activity_revision_id"),
    ],
    open: true,
};
const PART_EXT: Obj<'static> = Obj {
    props: &[
        (ext!("hints_requested"), Node::Any),
        (ext!("part_attempt_number"), Node::Int),
        (ext!("activity_attempt_number"), Node::Int),
        (ext!("part_attempt_guid"), Node::Str),
        (ext!("activity_attempt_guid"), Node::Str),
        (ext!("activity_id"), Node::Int),
        (ext!("activity_revision_id"), Node::Int),
        (ext!("part_id"), Node::Str),
        (ext!("attached_objectives"), Node::ArrayOf(&Node::Any, 0)),
        (ext!("session_id"), Node::Str),
    ],
    required: &[
        ext!("hints_requested"),
        ext!("part_attempt_number"),
        ext!("activity_attempt_number"),
        ext!("part_attempt_guid"),
        ext!("activity_attempt_guid"),
        ext!("activity_id"),
        ext!("activity_revision_id"),
        ext!("part_id"),
        ext!("attached_objectives"),
        ext!("session_id"),
    ],
    open: true,
};
const VIDEO_EXT: Obj<'static> = Obj {
    props: &[
        (ext!("page_attempt_number"), Node::IntOrNull),
        (ext!("page_attempt_guid"), Node::StrOrNull),
        (ext!("section_id"), Node::Int),
        (ext!("project_id"), Node::Int),
        (ext!("publication_id"), Node::Int),
        (ext!("resource_id"), Node::Int),
        (ext!("content_element_id"), Node::Str),
    ],
    required: &[
        ext!("page_attempt_number"),
        ext!("page_attempt_guid"),
        ext!("section_id"),
        ext!("project_id"),
        ext!("publication_id"),
        ext!("resource_id"),
        ext!("content_element_id"),
    ],
    open: true,
};
const VIDEO_LENGTH_EXT: Obj<'static> = Obj {
    props: &[(vext!("length"), Node::Num)],
    required: &[vext!("length")],
    open: true,
};
const VIDEO_COMPLETED_EXT: Obj<'static> = Obj {
    props: &[
        (vext!("completion-threshold"), Node::ConstStr("1.0")),
        (vext!("length"), Node::Num),
    ],
    required: &[vext!("completion-threshold"), vext!("length")],
    open: true,
};
const VIDEO_CATEGORY: Obj<'static> = Obj {
    props: &[("id", Node::ConstStr("https://w3id.org/xapi/video"))],
    required: &["id"],
    open: false,
};
const VIDEO_ACTIVITIES: Obj<'static> = Obj {
    props: &[("category", Node::ArrayOf(&Node::Obj(&VIDEO_CATEGORY), 1))],
    required: &["category"],
    open: false,
};

const ATTEMPT_CONTEXT: Obj<'static> = Obj {
    props: &[("extensions", Node::Obj(&ATTEMPT_EXT))],
    required: &["extensions"],
    open: false,
};
const ACTIVITY_CONTEXT: Obj<'static> = Obj {
    props: &[("extensions", Node::AllOf(&[&ATTEMPT_EXT, &ACTIVITY_EXT]))],
    required: &["extensions"],
    open: false,
};
const PART_CONTEXT: Obj<'static> = Obj {
    props: &[("extensions", Node::AllOf(&[&ATTEMPT_EXT, &PART_EXT]))],
    required: &["extensions"],
    open: false,
};
const VIDEO_CONTEXT: Obj<'static> = Obj {
    props: &[
        ("contextActivities", Node::Obj(&VIDEO_ACTIVITIES)),
        ("extensions", Node::Obj(&VIDEO_EXT)),
    ],
    required: &["contextActivities", "extensions"],
    open: false,
};
const VIDEO_LENGTH_CONTEXT: Obj<'static> = Obj {
    props: &[
        ("contextActivities", Node::Obj(&VIDEO_ACTIVITIES)),
        ("extensions", Node::AllOf(&[&VIDEO_EXT, &VIDEO_LENGTH_EXT])),
    ],
    required: &["contextActivities", "extensions"],
    open: false,
};
const VIDEO_COMPLETED_CONTEXT: Obj<'static> = Obj {
    props: &[
        ("contextActivities", Node::Obj(&VIDEO_ACTIVITIES)),
        (
            "extensions",
            Node::AllOf(&[&VIDEO_EXT, &VIDEO_COMPLETED_EXT]),
        ),
    ],
    required: &["contextActivities", "extensions"],
    open: false,
};
const SCORED_RESULT: Obj<'static> = Obj {
    props: &[
        ("score", Node::Obj(&SCORE)),
        ("completion", Node::ConstTrue),
        ("success", Node::ConstTrue),
    ],
    required: &["score", "completion", "success"],
    open: false,
};
const FEEDBACK: Obj<'static> = Obj {
    props: &[(ext!("feedback"), Node::Any)],
    required: &[ext!("feedback")],
    open: false,
};
const PART_RESULT: Obj<'static> = Obj {
    props: &[
        ("score", Node::Obj(&SCORE)),
        ("response", Node::Any),
        ("completion", Node::ConstTrue),
        ("success", Node::ConstTrue),
        ("extensions", Node::Obj(&FEEDBACK)),
    ],
    required: &["score", "response", "completion", "success", "extensions"],
    open: false,
};
const VIEWED_RESULT: Obj<'static> = Obj {
    props: &[
        ("completion", Node::ConstTrue),
        ("success", Node::ConstTrue),
    ],
    required: &["completion", "success"],
    open: false,
};
const TUTOR_RESULT: Obj<'static> = Obj {
    props: &[("message", Node::Any)],
    required: &["message"],
    open: false,
};

const PLAYED_REXT: Obj<'static> = Obj {
    props: &[(vext!("time"), Node::Num)],
    required: &[vext!("time")],
    open: false,
};
const PROGRESS_REXT: Obj<'static> = Obj {
    props: &[
        (vext!("played-segments"), Node::Str),
        (vext!("progress"), Node::Num),
        (vext!("time"), Node::Num),
    ],
    required: &[vext!("played-segments"), vext!("progress"), vext!("time")],
    open: false,
};
const SEEKED_REXT: Obj<'static> = Obj {
    props: &[
        (vext!("time-to"), Node::Num),
        (vext!("time-from"), Node::Num),
    ],
    required: &[vext!("time-to"), vext!("time-from")],
    open: false,
};
const PLAYED_RESULT: Obj<'static> = Obj {
    props: &[("extensions", Node::Obj(&PLAYED_REXT))],
    required: &["extensions"],
    open: false,
};
const PROGRESS_RESULT: Obj<'static> = Obj {
    props: &[("extensions", Node::Obj(&PROGRESS_REXT))],
    required: &["extensions"],
    open: false,
};
const SEEKED_RESULT: Obj<'static> = Obj {
    props: &[("extensions", Node::Obj(&SEEKED_REXT))],
    required: &["extensions"],
    open: false,
};

/// A statement kind of the schema.
#[derive(Debug)]
pub struct Kind {
    pub name: &'static str,
    pub verb: &'static str,
    pub object_type: &'static str,
    /// `object.objectType`.
    pub object_kind: &'static str,
    pub sub_type: bool,
    pub result: &'static Obj<'static>,
    pub context: &'static Obj<'static>,
    pub registration: bool,
}

pub const KINDS: [Kind; 9] = [
    Kind {
        name: "activityAttemptEvaluated",
        verb: super::VERB_COMPLETED,
        object_type: super::TYPE_ACTIVITY_ATTEMPT,
        object_kind: "Activity",
        sub_type: false,
        result: &SCORED_RESULT,
        context: &ACTIVITY_CONTEXT,
        registration: false,
    },
    Kind {
        name: "pageAttemptEvaluated",
        verb: super::VERB_COMPLETED,
        object_type: super::TYPE_PAGE_ATTEMPT,
        object_kind: "Activity",
        sub_type: false,
        result: &SCORED_RESULT,
        context: &ATTEMPT_CONTEXT,
        registration: false,
    },
    Kind {
        name: "partAttemptEvaluated",
        verb: super::VERB_COMPLETED,
        object_type: super::TYPE_QUESTION,
        object_kind: "Activity",
        sub_type: false,
        result: &PART_RESULT,
        context: &PART_CONTEXT,
        registration: false,
    },
    Kind {
        name: "pageViewed",
        verb: super::VERB_VIEWED,
        object_type: super::TYPE_PAGE,
        object_kind: "Page",
        sub_type: true,
        result: &VIEWED_RESULT,
        context: &ATTEMPT_CONTEXT,
        registration: false,
    },
    Kind {
        name: "tutorMessage",
        verb: "http://activitystrea.ms/schema/1.0/create",
        object_type: "http://oli.cmu.edu/extensions/tutor_message",
        object_kind: "Tutor",
        sub_type: false,
        result: &TUTOR_RESULT,
        context: &ACTIVITY_CONTEXT,
        registration: false,
    },
    Kind {
        name: "videoPlayed",
        verb: "https://w3id.org/xapi/video/verbs/played",
        object_type: "https://w3id.org/xapi/video/activity-type/video",
        object_kind: "Activity",
        sub_type: false,
        result: &PLAYED_RESULT,
        context: &VIDEO_LENGTH_CONTEXT,
        registration: true,
    },
    Kind {
        name: "videoPaused",
        verb: "https://w3id.org/xapi/video/verbs/paused",
        object_type: "https://w3id.org/xapi/video/activity-type/video",
        object_kind: "Activity",
        sub_type: false,
        result: &PROGRESS_RESULT,
        context: &VIDEO_LENGTH_CONTEXT,
        registration: true,
    },
    Kind {
        name: "videoSeeked",
        verb: "https://w3id.org/xapi/video/verbs/seeked",
        object_type: "https://w3id.org/xapi/video/activity-type/video",
        object_kind: "Activity",
        sub_type: false,
        result: &SEEKED_RESULT,
        context: &VIDEO_CONTEXT,
        registration: true,
    },
    Kind {
        name: "videoCompleted",
        verb: "https://w3id.org/xapi/video/verbs/completed",
        object_type: "https://w3id.org/xapi/video/activity-type/video",
        object_kind: "Activity",
        sub_type: false,
        result: &PROGRESS_RESULT,
        context: &VIDEO_COMPLETED_CONTEXT,
        registration: true,
    },
];

/// The outcome of checking one statement against the schema.
#[derive(Debug, Clone)]
pub struct SchemaReport {
    /// The kind it matches (or claims, when it has problems).
    pub kind: Option<&'static str>,
    pub issues: Vec<Issue>,
}

impl SchemaReport {
    pub fn is_valid(&self) -> bool {
        self.issues.is_empty() && self.kind.is_some()
    }
}

/// Check a decoded statement.
pub fn validate(statement: &Value) -> SchemaReport {
    let verb = super::string_at(statement, &["verb", "id"]);
    let object_type = super::string_at(statement, &["object", "definition", "type"]);
    let Some(kind) = KINDS
        .iter()
        .find(|k| k.verb == verb && k.object_type == object_type)
    else {
        let issue = Issue::new(
            "__root__",
            Code::SchemaNoMatch,
            format!("no statement kind has verb {verb:?} with object type {object_type:?}"),
        );
        return SchemaReport {
            kind: None,
            issues: alloc::vec![issue],
        };
    };
    let mut issues = Vec::new();
    check_statement(kind, statement, &mut issues);
    SchemaReport {
        kind: Some(kind.name),
        issues,
    }
}

fn check_statement(kind: &Kind, v: &Value, out: &mut Vec<Issue>) {
    let Value::Object(root) = v else {
        out.push(Issue::new(
            "__root__",
            Code::SchemaType,
            "a statement must be an object",
        ));
        return;
    };
    // The statement shape, built per kind.
    let verb_obj = [
        ("id", Node::ConstStr(kind.verb)),
        ("display", Node::Obj(&LANG)),
    ];
    let def_props_plain = [
        ("name", Node::Obj(&LANG)),
        ("type", Node::ConstStr(kind.object_type)),
    ];
    let def_props_sub = [
        ("name", Node::Obj(&LANG)),
        ("type", Node::ConstStr(kind.object_type)),
        ("subType", Node::Str),
    ];
    let verb = Obj {
        props: &verb_obj,
        required: &["id", "display"],
        open: false,
    };
    let definition = if kind.sub_type {
        Obj {
            props: &def_props_sub,
            required: &["name", "type", "subType"],
            open: false,
        }
    } else {
        Obj {
            props: &def_props_plain,
            required: &["name", "type"],
            open: false,
        }
    };
    let object_props = [
        ("id", Node::Str),
        ("definition", Node::Obj(&definition)),
        ("objectType", Node::ConstStr(kind.object_kind)),
    ];
    let object = Obj {
        props: &object_props,
        required: &["id", "definition", "objectType"],
        open: false,
    };
    let mut props = alloc::vec![
        ("actor", Node::Obj(&ACTOR)),
        ("verb", Node::Obj(&verb)),
        ("object", Node::Obj(&object)),
        ("result", Node::Obj(kind.result)),
        ("context", Node::Obj(kind.context)),
        ("timestamp", Node::Str),
    ];
    let mut required = alloc::vec!["actor", "verb", "object", "result", "context", "timestamp"];
    if kind.registration {
        props.push(("registration", Node::Str));
        required.push("registration");
    }
    check_obj_parts(&props, &required, false, root, Path::ROOT, out);
}

/// Where a member is, spelled out only when an issue names it: building
/// the text for every member checked was a tenth of the in-process load's
/// time per statement.
#[derive(Clone, Copy)]
struct Path<'p> {
    up: Option<(&'p Path<'p>, Step<'p>)>,
}

#[derive(Clone, Copy)]
enum Step<'p> {
    Key(&'p str),
    Index(usize),
}

impl<'p> Path<'p> {
    const ROOT: Path<'static> = Path { up: None };

    fn key(&'p self, key: &'p str) -> Path<'p> {
        Path {
            up: Some((self, Step::Key(key))),
        }
    }

    fn index(&'p self, i: usize) -> Path<'p> {
        Path {
            up: Some((self, Step::Index(i))),
        }
    }

    /// `a.b`, `a["http://…"]`, `a[0]`; empty at the root.
    fn text(&self) -> String {
        match self.up {
            None => String::new(),
            Some((parent, Step::Key(k))) => child(&parent.text(), k),
            Some((parent, Step::Index(i))) => format!("{}[{i}]", parent.at()),
        }
    }

    /// The path, or `__root__` at the root.
    fn at(&self) -> String {
        at(&self.text())
    }
}

fn child(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    match (path.is_empty(), plain) {
        (true, true) => String::from(key),
        (false, true) => format!("{path}.{key}"),
        (_, false) => format!("{path}[{key:?}]"),
    }
}

fn at(path: &str) -> String {
    if path.is_empty() {
        String::from("__root__")
    } else {
        String::from(path)
    }
}

fn type_name(v: &Value) -> &'static str {
    v.kind()
}

fn check_obj_parts(
    props: &[(&'static str, Node<'_>)],
    required: &[&str],
    open: bool,
    o: &crate::json::Object,
    path: Path<'_>,
    out: &mut Vec<Issue>,
) {
    for r in required {
        if o.get_first(r).is_none() {
            out.push(Issue::new(
                path.key(r).text(),
                Code::SchemaRequired,
                format!("`{r}` is required"),
            ));
        }
    }
    for (k, v) in o.entries() {
        match props.iter().find(|(name, _)| *name == k.text) {
            Some((_, node)) => check(node, v, path.key(k.as_str()), out),
            None if open => {}
            None => out.push(Issue::new(
                path.key(k.as_str()).text(),
                Code::SchemaAdditional,
                format!("unexpected member `{}`", k.text),
            )),
        }
    }
}

fn check(node: &Node<'_>, v: &Value, path: Path<'_>, out: &mut Vec<Issue>) {
    let bad = |want: &str, out: &mut Vec<Issue>| {
        out.push(Issue::new(
            path.at(),
            Code::SchemaType,
            format!("must be {want}, not {}", type_name(v)),
        ));
    };
    if let Some(want) = type_wanted(node, v) {
        bad(want, out);
        return;
    }
    match node {
        Node::Any
        | Node::Str
        | Node::Num
        | Node::Int
        | Node::StrOrNull
        | Node::IntOrNull
        | Node::StrOrInt => {}
        Node::ConstStr(want) => {
            if !matches!(v, Value::Str(s) if s.text == *want) {
                out.push(Issue::new(
                    path.at(),
                    Code::SchemaConst,
                    format!("must be {want:?}"),
                ));
            }
        }
        Node::ConstTrue => {
            if !matches!(v, Value::Bool(true)) {
                out.push(Issue::new(
                    path.at(),
                    Code::SchemaConst,
                    String::from("must be true"),
                ));
            }
        }
        Node::Obj(shape) => match v {
            Value::Object(o) => {
                check_obj_parts(shape.props, shape.required, shape.open, o, path, out)
            }
            _ => bad("an object", out),
        },
        Node::AllOf(shapes) => match v {
            Value::Object(o) => {
                for shape in *shapes {
                    check_obj_parts(shape.props, shape.required, shape.open, o, path, out);
                }
            }
            _ => bad("an object", out),
        },
        Node::ArrayOf(item, min) => match v {
            Value::Array(items) => {
                if items.len() < *min {
                    out.push(Issue::new(
                        path.at(),
                        Code::SchemaType,
                        format!("must have at least {min} item(s)"),
                    ));
                }
                for (i, it) in items.iter().enumerate() {
                    check(item, it, path.index(i), out);
                }
            }
            _ => bad("an array", out),
        },
    }
}

/// For a node that only constrains the JSON type: the type it wants, when
/// `v` is not of it.
fn type_wanted(node: &Node<'_>, v: &Value) -> Option<&'static str> {
    let (ok, want) = match node {
        Node::Str => (matches!(v, Value::Str(_)), "a string"),
        Node::Num => (matches!(v, Value::Int(_) | Value::Float(_)), "a number"),
        Node::Int => (is_int(v), "an integer"),
        Node::StrOrNull => (matches!(v, Value::Str(_) | Value::Null), "a string or null"),
        Node::IntOrNull => (is_int(v) || matches!(v, Value::Null), "an integer or null"),
        Node::StrOrInt => (
            is_int(v) || matches!(v, Value::Str(_)),
            "a string or an integer",
        ),
        _ => return None,
    };
    (!ok).then_some(want)
}

/// JSON Schema's `integer`: a number with no fraction (`1.0` counts).
fn is_int(v: &Value) -> bool {
    match v {
        Value::Int(Int::Small(_) | Int::Big { .. }) => true,
        Value::Float(f) => f.is_finite() && *f % 1.0 == 0.0,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str) -> Vec<String> {
        let v = crate::json::decode(line.as_bytes()).unwrap();
        validate(&v).issues.into_iter().map(|i| i.field).collect()
    }

    /// Issues name the member as people read it: dotted plain keys,
    /// quoted other keys, indexes after `[`, `__root__` for the statement.
    #[test]
    fn issue_paths_are_spelled_out() {
        let video = include_str!("../../../testdata/xapi/examples.jsonl")
            .lines()
            .find(|l| l.contains("video/verbs/paused"))
            .unwrap();
        assert_eq!(fields(video), Vec::<String>::new());
        let bad = video
            .replace(
                r#"[{"id":"https://w3id.org/xapi/video"}]"#,
                r#"[{"id":"https://w3id.org/xapi/video"},{"id":"x"}]"#,
            )
            .replace(r#""display":{"#, r#""a b":1,"display":{"#)
            .replace(r#""en-US":"paused""#, r#""en-US":7"#)
            .replace(r#","registration":"2161-81181-3210567890""#, "");
        let mut got = fields(&bad);
        got.sort();
        assert_eq!(
            got,
            [
                "context.contextActivities.category[1].id",
                "registration",
                "verb.display.en-US",
                "verb[\"a b\"]",
            ]
        );
    }
}
