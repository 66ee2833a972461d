//! The line's one typed extraction, and how a column expression reads a
//! JSON value.
//!
//! Each JSON function ClickHouse runs on a line parses the whole line
//! again, and the columns' exact rules (a number written as text is a
//! number, `-0.0` stays `-0.0`, an object is its JSON text) take two or
//! three functions per column: some forty parses of every line. The stage
//! instead runs one `JSONExtract(json, 'Tuple(…)')` per line whose tree
//! holds every value a column reads ([`Doc`]), and the inserts read its
//! leaves.
//!
//! * A text column's leaf is `Nullable(String)`: ClickHouse gives a
//!   string's value, any other value's JSON text and NULL for null or
//!   missing, which is the text rule itself.
//! * Every other leaf is `Dynamic`, which keeps the JSON type
//!   (`dynamicType`). Two things about a `Dynamic` leaf are not the line's
//!   own: within one block an integer that comes after a float in the
//!   same place may be stored as a float, and a string may be taken for a
//!   date if the server infers dates (the stage turns that off, see
//!   [`EXTRACT_SETTINGS`]). So a leaf of any type but the plain ones, or a
//!   float of 2^53 or more, is read again from the line with the JSON
//!   functions ([`At::Line`]): the rules see exactly what the line holds.
//! * A tuple read from a JSON array is filled by position, so the tree
//!   only goes through the members the loadability check requires to be
//!   objects ([`crate::xapi::check::CONTAINERS`]), and only lines that
//!   start with `{` are loaded. Columns that read deeper stay on the JSON
//!   functions.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{args, ident, literal};
use crate::xapi::Category;
use crate::xapi::check::CONTAINERS;
use crate::xapi::columns::{Path, Rule, columns};
use crate::xapi::extract::MAX_EXACT_FLOAT;

/// Settings of the query that extracts: strings stay strings, a member
/// holding only nulls does not stop the read, and servers older than
/// 25.3 (where `Dynamic` was experimental) accept the type.
pub const EXTRACT_SETTINGS: &str = "allow_experimental_dynamic_type = 1, input_format_try_infer_dates = 0, input_format_try_infer_datetimes = 0, input_format_json_try_infer_numbers_from_strings = 0, input_format_json_infer_incomplete_types_as_strings = 1";

/// A JSON value's type, as the rules test it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    String,
    Int64,
    UInt64,
    Double,
    Bool,
    Array,
    Object,
}

impl Kind {
    pub(super) const NUMBERS: [Kind; 3] = [Kind::Int64, Kind::UInt64, Kind::Double];

    /// `JSONType`'s name.
    fn json_type(self) -> &'static str {
        match self {
            Kind::String => "String",
            Kind::Int64 => "Int64",
            Kind::UInt64 => "UInt64",
            Kind::Double => "Double",
            Kind::Bool => "Bool",
            Kind::Array => "Array",
            Kind::Object => "Object",
        }
    }

    /// `dynamicType`'s name, for the kinds a plain leaf holds.
    fn dynamic_type(self) -> Option<&'static str> {
        match self {
            Kind::String => Some("String"),
            Kind::Int64 => Some("Int64"),
            Kind::UInt64 => Some("UInt64"),
            Kind::Double => Some("Float64"),
            Kind::Bool => Some("Bool"),
            Kind::Array | Kind::Object => None,
        }
    }
}

fn one_of(subject: &str, names: &[&str]) -> String {
    match names {
        [] => String::from("false"),
        [one] => format!("{subject} = '{one}'"),
        many => {
            let quoted: Vec<String> = many.iter().map(|n| format!("'{n}'")).collect();
            format!("{subject} IN ({})", quoted.join(", "))
        }
    }
}

/// Where a column expression reads one JSON value. Every accessor has the
/// type and the default (for a value of another kind) of the
/// `JSONExtract…` function it stands for.
#[derive(Debug, Clone)]
pub(super) enum At {
    /// JSON functions over the line (`json, 'k1', 'k2'`).
    Line(String),
    /// A plain `Dynamic` leaf of the line's extraction (see [`odd`]).
    Leaf(String),
}

impl At {
    pub(super) fn line(path: Path) -> At {
        At::Line(args(path))
    }

    /// True where the value is of one of `kinds`.
    pub(super) fn is(&self, kinds: &[Kind]) -> String {
        match self {
            At::Line(a) => {
                let names: Vec<&str> = kinds.iter().map(|k| k.json_type()).collect();
                one_of(&format!("JSONType({a})"), &names)
            }
            At::Leaf(d) => {
                let names: Vec<&str> = kinds.iter().filter_map(|k| k.dynamic_type()).collect();
                one_of(&format!("dynamicType({d})"), &names)
            }
        }
    }

    pub(super) fn string(&self) -> String {
        match self {
            At::Line(a) => format!("JSONExtractString({a})"),
            At::Leaf(d) => format!("ifNull(dynamicElement({d}, 'String'), '')"),
        }
    }

    /// Any number, as a float.
    pub(super) fn float(&self) -> String {
        match self {
            At::Line(a) => format!("JSONExtractFloat({a})"),
            At::Leaf(d) => format!(
                "multiIf(dynamicType({d}) = 'Float64', ifNull(dynamicElement({d}, 'Float64'), 0), dynamicType({d}) = 'Int64', toFloat64(ifNull(dynamicElement({d}, 'Int64'), 0)), dynamicType({d}) = 'UInt64', toFloat64(ifNull(dynamicElement({d}, 'UInt64'), 0)), 0)"
            ),
        }
    }

    pub(super) fn int(&self) -> String {
        match self {
            At::Line(a) => format!("JSONExtractInt({a})"),
            At::Leaf(d) => format!("ifNull(dynamicElement({d}, 'Int64'), 0)"),
        }
    }

    pub(super) fn uint(&self) -> String {
        match self {
            At::Line(a) => format!("JSONExtractUInt({a})"),
            At::Leaf(d) => format!("ifNull(dynamicElement({d}, 'UInt64'), 0)"),
        }
    }

    pub(super) fn bool(&self) -> String {
        match self {
            At::Line(a) => format!("JSONExtractBool({a})"),
            At::Leaf(d) => format!("toUInt8(ifNull(dynamicElement({d}, 'Bool'), false))"),
        }
    }
}

/// True where the leaf `d` holds something the line must be asked about
/// again: a type other than the plain ones, or a float an integer may
/// have been widened into.
pub(super) fn odd(d: &str) -> String {
    format!(
        "(dynamicType({d}) NOT IN ('None', 'String', 'Int64', 'UInt64', 'Bool', 'Float64') OR (dynamicType({d}) = 'Float64' AND abs(ifNull(dynamicElement({d}, 'Float64'), 0)) >= {MAX_EXACT_FLOAT}))"
    )
}

/// What a leaf of the extraction holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Leaf {
    /// `Nullable(String)`: the text rule's value.
    Text,
    /// `Dynamic`: the value with its type.
    Any,
}

#[derive(Debug)]
struct Node {
    key: &'static str,
    leaf: Option<Leaf>,
    children: Vec<Node>,
}

/// The tree of the line's one extraction: every value the stage and the
/// columns of the five tables read, where it can be read by name.
#[derive(Debug, Default)]
pub struct Doc {
    root: Vec<Node>,
}

/// The members a column's rule reads from the extraction, and as what;
/// none for the rules that stay on the line (a count, the response, the
/// file's name).
pub(super) fn members(rule: &'static Rule) -> (&'static [Path], Leaf) {
    match rule {
        Rule::Text(paths) => (paths, Leaf::Text),
        Rule::UInt64(paths) | Rule::UInt32(paths) | Rule::Float(paths) => (paths, Leaf::Any),
        Rule::Bool(path) => (core::slice::from_ref(path), Leaf::Any),
        Rule::EventId => (&[&["id"]], Leaf::Any),
        Rule::Timestamp => (&[&["timestamp"]], Leaf::Any),
        Rule::Verb => (&[&["verb", "id"]], Leaf::Any),
        Rule::Count(_) | Rule::Response | Rule::SourceFile => (&[], Leaf::Any),
    }
}

/// Values the stage reads besides the columns': the classification's.
const STAGE_PATHS: [&[&str]; 2] = [&["verb", "id"], &["object", "definition", "type"]];

impl Doc {
    /// The extraction of the five tables' columns.
    pub fn new() -> Doc {
        let mut doc = Doc::default();
        for path in STAGE_PATHS {
            doc.add(path, Leaf::Any);
        }
        for c in Category::LOADED {
            for col in columns(c) {
                let (paths, leaf) = members(&col.rule);
                for p in paths {
                    doc.add(p, leaf);
                }
            }
        }
        doc
    }

    /// Adds a leaf; false where the tree cannot hold it (a member not
    /// under objects only, or one read both ways).
    fn add(&mut self, path: Path, leaf: Leaf) -> bool {
        let Some((last, parents)) = path.split_last() else {
            return false;
        };
        if CONTAINERS.contains(&path)
            || !(1..=parents.len()).all(|n| CONTAINERS.contains(&&path[..n]))
        {
            return false;
        }
        let mut level = &mut self.root;
        for key in parents {
            let at = match level.iter().position(|n| n.key == *key) {
                Some(i) => i,
                None => {
                    level.push(Node {
                        key,
                        leaf: None,
                        children: Vec::new(),
                    });
                    level.len() - 1
                }
            };
            level = &mut level[at].children;
        }
        match level.iter().find(|n| n.key == *last) {
            Some(n) => n.leaf == Some(leaf),
            None => {
                level.push(Node {
                    key: last,
                    leaf: Some(leaf),
                    children: Vec::new(),
                });
                true
            }
        }
    }

    /// The expression reading the leaf at `path` of `doc`, if the tree
    /// holds it as `leaf`.
    pub(super) fn leaf(&self, path: Path, leaf: Leaf) -> Option<String> {
        let mut level = &self.root;
        let mut expr = String::from("doc");
        for (i, key) in path.iter().enumerate() {
            let node = level.iter().find(|n| n.key == *key)?;
            expr = format!("tupleElement({expr}, {})", literal(key));
            if i + 1 == path.len() {
                return (node.leaf == Some(leaf)).then_some(expr);
            }
            level = &node.children;
        }
        None
    }

    /// Every path's leaf, if the tree holds them all as `leaf`.
    pub(super) fn leaves(&self, paths: &[Path], leaf: Leaf) -> Option<Vec<String>> {
        paths.iter().map(|p| self.leaf(p, leaf)).collect()
    }

    /// The tuple type `JSONExtract` reads the line into.
    pub fn type_name(&self) -> String {
        fn level(nodes: &[Node]) -> String {
            let members: Vec<String> = nodes
                .iter()
                .map(|n| {
                    let ty = match n.leaf {
                        Some(Leaf::Text) => String::from("Nullable(String)"),
                        Some(Leaf::Any) => String::from("Dynamic"),
                        None => level(&n.children),
                    };
                    format!("{} {ty}", ident(n.key))
                })
                .collect();
            format!("Tuple({})", members.join(", "))
        }
        level(&self.root)
    }

    /// `JSONExtract` of the line into the tree.
    pub fn extract(&self) -> String {
        format!("JSONExtract(json, {})", literal(&self.type_name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tree_goes_through_objects_only() {
        let doc = Doc::new();
        let section: Path = &[
            "context",
            "extensions",
            "http://oli.cmu.edu/extensions/section_id",
        ];
        assert_eq!(
            doc.leaf(section, Leaf::Any).as_deref(),
            Some(
                "tupleElement(tupleElement(tupleElement(doc, 'context'), 'extensions'), 'http://oli.cmu.edu/extensions/section_id')"
            )
        );
        assert!(doc.leaf(section, Leaf::Text).is_none());
        // `name` is not required to be an object: a tuple read from an
        // array there would be filled by position.
        assert!(
            doc.leaf(&["object", "definition", "name", "en-US"], Leaf::Text)
                .is_none()
        );
        assert!(
            doc.leaf(&["actor", "account", "name"], Leaf::Text)
                .is_some()
        );
        let ty = doc.type_name();
        assert!(ty.starts_with("Tuple(`verb` Tuple(`id` Dynamic)"), "{ty}");
        assert!(!ty.contains("`name` Tuple"), "{ty}");
    }

    #[test]
    fn a_member_read_two_ways_is_refused() {
        let mut doc = Doc::default();
        assert!(doc.add(&["result", "x"], Leaf::Any));
        assert!(doc.add(&["result", "x"], Leaf::Any));
        assert!(!doc.add(&["result", "x"], Leaf::Text));
        assert!(!doc.add(&["result"], Leaf::Any));
        assert!(!doc.add(&["result", "x", "y"], Leaf::Any));
        assert!(!doc.add(&[], Leaf::Any));
    }
}
