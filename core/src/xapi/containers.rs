//! A statement with its containers looked up once. The columns of both
//! targets read dozens of paths a statement, most of them three members
//! deep under `context.extensions`; walking each from the root compared
//! the same member names over and over (a fifth of `raw::derive`'s own
//! work). Each path's container is found when the column tables compile
//! ([`at`]), so a read is one scan of one object.

use super::columns::Path;
use super::extract::lookup;
use crate::json::Value;

/// A path and the index of its parent in a table of containers, or
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

/// Byte equality that the column tables can use while they compile.
pub(crate) const fn same_bytes(a: &[u8], b: &[u8]) -> bool {
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
        if !same_bytes(a[i].as_bytes(), b[i].as_bytes()) {
            return false;
        }
        i += 1;
    }
    true
}

/// `path` with its parent among `containers`, worked out at compile time.
pub const fn at(containers: &[Path], path: Path) -> At {
    if let Some((_, parent)) = path.split_last() {
        let mut i = 0;
        while i < containers.len() {
            if same_path(containers[i], parent) {
                assert!(i < At::ROOT as usize);
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

/// Up to `N` paths of a column rule, with their containers.
pub const fn at_each<const N: usize>(containers: &[Path], paths: &[Path]) -> [At; N] {
    assert!(paths.len() <= N);
    let mut out = [At::NONE; N];
    let mut i = 0;
    while i < paths.len() {
        out[i] = at(containers, paths[i]);
        i += 1;
    }
    out
}

/// A table of containers: their paths, and each one's parent among the
/// earlier ones.
pub struct Containers<const N: usize> {
    pub paths: [Path; N],
    parents: [u8; N],
}

impl<const N: usize> Containers<N> {
    pub const fn new(paths: [Path; N]) -> Self {
        let mut parents = [At::ROOT; N];
        let mut i = 0;
        while i < N {
            let p = at(&paths, paths[i]).parent;
            // Doc::new fills the containers in order, so a parent must
            // come before its children.
            assert!(p == At::ROOT || (p as usize) < i);
            parents[i] = p;
            i += 1;
        }
        Containers { paths, parents }
    }
}

/// A decoded statement with the values at a table's containers.
pub struct Doc<'v, 'd, const N: usize> {
    pub root: &'v Value<'d>,
    found: [Option<&'v Value<'d>>; N],
}

impl<'v, 'd, const N: usize> Doc<'v, 'd, N> {
    /// Look the containers up, in order, each from its parent.
    pub fn new(root: &'v Value<'d>, table: &Containers<N>) -> Self {
        let mut doc = Doc {
            root,
            found: [None; N],
        };
        for i in 0..N {
            doc.found[i] = doc.get(At {
                path: table.paths[i],
                parent: table.parents[i],
            });
        }
        doc
    }

    /// The value at each container, in the table's order.
    pub fn containers(&self) -> &[Option<&'v Value<'d>>; N] {
        &self.found
    }

    /// The value at `at.path`, first occurrences of duplicated members, as
    /// [`lookup`] from the root gives it.
    pub fn get(&self, at: At) -> Option<&'v Value<'d>> {
        match self.found.get(usize::from(at.parent)) {
            Some(parent) => match (parent, at.path.split_last()) {
                (Some(Value::Object(o)), Some((key, _))) => o.get_first(key),
                _ => None,
            },
            None => lookup(self.root, at.path),
        }
    }

    /// [`Doc::get`], with `null` read as absent.
    pub fn present(&self, at: At) -> Option<&'v Value<'d>> {
        self.get(at).filter(|x| !matches!(x, Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xapi::Category;
    use crate::xapi::columns::columns;
    use crate::xapi::raw::{self, RAW};

    /// Every column's paths read what a walk from the root reads, on
    /// statements with duplicated members, containers of other types,
    /// null containers and missing ones.
    #[test]
    fn every_path_reads_what_the_root_walk_reads() {
        let docs = [
            include_str!("../../../testdata/xapi/examples.jsonl"),
            include_str!("../../../testdata/xapi/examples-extra.jsonl"),
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
            let doc = raw::doc(&st);
            raw::structure(&doc).expect(line);
            let five = Doc::new(&st, &crate::xapi::columns::CONTAINERS);
            let raw_paths = RAW.iter().flat_map(|c| c.at).map(|a| (&doc, a));
            let five_paths = Category::LOADED
                .iter()
                .flat_map(|c| columns(*c))
                .flat_map(|c| c.at)
                .map(|a| (&five, a));
            let mut check = |got: Option<&Value>, a: At| {
                let want = lookup(&st, a.path);
                assert_eq!(got, want, "{:?} in {line}", a.path);
                read += usize::from(want.is_some());
            };
            for (d, a) in raw_paths.filter(|(_, a)| !a.path.is_empty()) {
                check(d.get(a), a);
            }
            for (d, a) in five_paths.filter(|(_, a)| !a.path.is_empty()) {
                check(d.get(a), a);
            }
        }
        assert!(read > 200, "only {read} paths found anything");
    }

    /// Paths under the containers start from them; the rest from the root.
    #[test]
    fn parents_are_found_at_compile_time() {
        let t = Containers::new([&["a"], &["a", "b"], &["c"]]);
        assert_eq!(at(&t.paths, &["timestamp"]).parent, At::ROOT);
        assert_eq!(at(&t.paths, &["a", "x", "y"]).parent, At::ROOT);
        assert_eq!(at(&t.paths, &["a", "b", "y"]).parent, 1);
        assert_eq!(at(&t.paths, &["c", "z"]).parent, 2);
        assert_eq!(t.parents, [At::ROOT, 0, At::ROOT]);
        let st = crate::json::decode_str(r#"{"a":{"b":{"y":1,"y":2}},"c":3}"#).unwrap();
        let doc = Doc::new(&st, &t);
        assert_eq!(
            doc.get(at(&t.paths, &["a", "b", "y"])),
            lookup(&st, &["a", "b", "y"])
        );
        assert_eq!(doc.get(at(&t.paths, &["c", "z"])), None);
        assert!(matches!(doc.containers()[2], Some(Value::Int(_))));
    }
}
