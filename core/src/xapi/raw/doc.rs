//! A statement with its §2 containers looked up once. The columns read
//! some sixty paths a statement, most of them three members deep under
//! `context.extensions`; walking each from the root compared the same
//! member names over and over (a fifth of [`super::derive`]'s own work).
//! Each path's container is found when the tables compile ([`at`]), so a
//! read is one scan of one object.

use super::{CONTAINERS, Problem, dotted, py};
use crate::json::Value;
use crate::xapi::columns::Path;
use crate::xapi::extract::lookup;

/// A path and the index in [`CONTAINERS`] of its parent, or
/// [`At::ROOT`] when its parent is none of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    pub path: Path,
    pub parent: u8,
}

impl At {
    pub const ROOT: u8 = u8::MAX;
    /// No path (an unused slot of a column's paths).
    pub const NONE: At = At {
        path: &[],
        parent: At::ROOT,
    };
}

const fn same_str(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn same_path(a: &[&str], b: &[&str]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if !same_str(a[i], b[i]) {
            return false;
        }
        i += 1;
    }
    true
}

/// `path` with its parent among [`CONTAINERS`], worked out at compile
/// time.
pub const fn at(path: Path) -> At {
    if let Some((_, parent)) = path.split_last() {
        let mut i = 0;
        while i < CONTAINERS.len() {
            if same_path(CONTAINERS[i], parent) {
                return At {
                    path,
                    parent: i as u8,
                };
            }
            i += 1;
        }
    }
    At {
        path,
        parent: At::ROOT,
    }
}

const fn container_parents() -> [u8; CONTAINERS.len()] {
    let mut out = [At::ROOT; CONTAINERS.len()];
    let mut i = 0;
    while i < CONTAINERS.len() {
        let p = at(CONTAINERS[i]).parent;
        // Doc::new fills the containers in order, so a parent must come
        // before its children.
        assert!(p == At::ROOT || (p as usize) < i);
        out[i] = p;
        i += 1;
    }
    out
}

const PARENTS: [u8; CONTAINERS.len()] = container_parents();

/// A decoded statement whose containers passed the §2 check.
pub struct Doc<'v, 'd> {
    pub root: &'v Value<'d>,
    containers: [Option<&'v Value<'d>>; CONTAINERS.len()],
}

impl<'v, 'd> Doc<'v, 'd> {
    /// Look the containers up, in [`CONTAINERS`] order, failing on the
    /// first of the wrong type (§2), as [`super::structure`] says.
    pub fn new(root: &'v Value<'d>) -> Result<Self, Problem> {
        let mut doc = Doc {
            root,
            containers: [None; CONTAINERS.len()],
        };
        for (i, path) in CONTAINERS.iter().enumerate() {
            let v = doc.get(At {
                path,
                parent: PARENTS[i],
            });
            if let Some(v) = v
                && !matches!(v, Value::Object(_))
                && py::truthy(v)
            {
                return Err(Problem::new(
                    dotted(path),
                    "container_type",
                    alloc::format!("`{}` must be a JSON object, not {}", dotted(path), v.kind()),
                ));
            }
            doc.containers[i] = v;
        }
        Ok(doc)
    }

    /// The value at `at.path`, first occurrences of duplicated members, as
    /// [`lookup`] from the root gives it.
    pub fn get(&self, at: At) -> Option<&'v Value<'d>> {
        match self.containers.get(usize::from(at.parent)) {
            Some(parent) => match (parent, at.path.split_last()) {
                (Some(Value::Object(o)), Some((key, _))) => o.get_first(key),
                _ => None,
            },
            None => lookup(self.root, at.path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xapi::raw::RAW;

    /// Every column's paths read what a walk from the root reads, on
    /// statements with duplicated members, containers of other types,
    /// null containers and missing ones.
    #[test]
    fn every_path_reads_what_the_root_walk_reads() {
        let docs = [
            include_str!("../../../../testdata/xapi/examples.jsonl"),
            include_str!("../../../../testdata/xapi/examples-extra.jsonl"),
            r#"{"context":{"extensions":{"http://oli.cmu.edu/extensions/page_id":1,"http://oli.cmu.edu/extensions/page_id":2}},"context":{"extensions":{"http://oli.cmu.edu/extensions/page_id":3}}}"#,
            r#"{"context":null,"result":{"extensions":null,"score":{"raw":1,"raw":2}},"object":{"definition":{"extensions":{"https://w3id.org/xapi/video/extensions/length":3}}}}"#,
            r#"{"context":{"extensions":[]},"actor":{"account":0,"mbox":"m"},"result":"","verb":{"id":"x","id":"y"}}"#,
            r#"{}"#,
        ];
        let mut read = 0;
        for line in docs.iter().flat_map(|d| d.lines()) {
            let Ok(st) = crate::json::decode_str(line) else {
                continue;
            };
            let doc = Doc::new(&st).expect(line);
            for c in RAW {
                for a in c.at.iter().filter(|a| !a.path.is_empty()) {
                    let want = lookup(&st, a.path);
                    assert_eq!(doc.get(*a), want, "{:?} in {line}", a.path);
                    read += usize::from(want.is_some());
                }
            }
        }
        assert!(read > 100, "only {read} paths found anything");
    }

    /// Paths under the containers start from them; the rest from the root.
    #[test]
    fn parents_are_found_at_compile_time() {
        assert_eq!(at(&["timestamp"]).parent, At::ROOT);
        assert_eq!(at(&["result", "score", "raw"]).parent, At::ROOT);
        let ext = at(&["context", "extensions", "x"]);
        assert_eq!(
            CONTAINERS[usize::from(ext.parent)],
            &["context", "extensions"]
        );
        assert_eq!(PARENTS[1], 0, "context.extensions sits in context");
        assert_eq!(PARENTS[0], At::ROOT);
    }
}
