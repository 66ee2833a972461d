//! Listing a directory tree a page at a time in S3's key order.
//!
//! S3 lists keys in byte order; a directory walk does not (`a-b/…` sorts
//! before `a/…` as keys, after it as a walk). So each directory's entries
//! are ordered by their key text, a directory's with its trailing `/`.
//! Pages resume from a token naming the last key (or the last subtree,
//! wholly visited) instead of holding a walk open between calls, and a
//! directory's entries are kept to a page's worth at a time, so memory
//! stays bounded by the page whatever the directory's size.

use std::collections::BinaryHeap;
use std::ffi::OsString;
use std::fs;
use std::path::Path;

use crate::{ListRequest, ObjectMeta, Page, StoreError};

/// Entries per page: large, because each page reads the directories on the
/// way to where it starts again.
pub const PAGE: usize = 100_000;

/// Where a page resumes: after this key, or after everything under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resume {
    After(String),
    Beyond(String),
}

impl Resume {
    pub(crate) fn token(&self) -> String {
        match self {
            Resume::After(k) => format!("k{k}"),
            Resume::Beyond(k) => format!("p{k}"),
        }
    }

    fn parse(token: &str) -> Option<Resume> {
        let rest = token.get(1..)?.to_string();
        match token.as_bytes().first()? {
            b'k' => Some(Resume::After(rest)),
            b'p' => Some(Resume::Beyond(rest)),
            _ => None,
        }
    }

    /// Whether this point lies within the keys starting with `prefix`.
    fn inside(&self, prefix: &str) -> bool {
        match self {
            Resume::After(k) | Resume::Beyond(k) => k.starts_with(prefix),
        }
    }

    /// Whether `key` (a file's, or a directory's with its `/`) is behind
    /// this point: already listed, or never to be listed by this listing.
    fn passed(&self, key: &str, is_dir: bool) -> bool {
        match self {
            Resume::After(a) if is_dir => key < a.as_str() && !a.starts_with(key),
            Resume::After(a) => key <= a.as_str(),
            Resume::Beyond(b) if is_dir => {
                key.starts_with(b.as_str()) || (key < b.as_str() && !b.starts_with(key))
            }
            Resume::Beyond(b) => key.starts_with(b.as_str()) || key < b.as_str(),
        }
    }
}

/// One directory entry, ordered by its key text.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Item {
    key: String,
    is_dir: bool,
    name: OsString,
}

/// A page's state while walking.
pub(crate) struct Walk<'a> {
    pub req: &'a ListRequest,
    pub budget: usize,
    pub resume: Option<Resume>,
    pub page: Page,
    /// Whether a directory had more entries than were kept: the page ends
    /// after its kept ones, and no directory above counts as wholly visited.
    pub more: bool,
    /// Reads a file's metadata into what a listing says of it.
    pub meta: &'a dyn Fn(&Path, String) -> Result<ObjectMeta, StoreError>,
    pub escape: &'a dyn Fn(&std::ffi::OsStr) -> String,
}

impl Walk<'_> {
    pub(crate) fn start(req: &ListRequest) -> Result<Option<Resume>, StoreError> {
        match (&req.token, &req.start_after) {
            (Some(t), _) => Resume::parse(t)
                .map(Some)
                .ok_or_else(|| StoreError::io("list token", "not a token of this store")),
            (None, Some(a)) => Ok(Some(Resume::After(a.clone()))),
            (None, None) => Ok(None),
        }
    }

    /// Walk `dir` (whose keys start with `at`) until the budget is spent.
    pub(crate) fn visit(&mut self, dir: &Path, at: &str) -> Result<(), StoreError> {
        let (items, cut) = self.entries(dir, at)?;
        for item in items {
            if self.budget == 0 || self.more {
                return Ok(());
            }
            let path = dir.join(&item.name);
            // A group the page starts inside is looked into: it is listed
            // only if keys after the start are in it.
            let group = self
                .group_of(&item.key)
                .filter(|g| !(item.is_dir && self.resume.as_ref().is_some_and(|r| r.inside(g))));
            if let Some(group) = group {
                if self.page.prefixes.last() != Some(&group) {
                    self.page.prefixes.push(group.clone());
                    self.budget -= 1;
                }
                self.resume = Some(Resume::Beyond(group));
            } else if item.is_dir {
                self.visit(&path, &item.key)?;
                if self.budget > 0 && !self.more {
                    self.resume = Some(Resume::Beyond(item.key));
                }
            } else {
                self.page
                    .objects
                    .push((self.meta)(&path, item.key.clone())?);
                self.budget -= 1;
                self.resume = Some(Resume::After(item.key));
            }
        }
        // The entries cut come after everything listed so far: stop here.
        self.more |= cut;
        Ok(())
    }

    /// The delimiter group a key falls in, if any.
    fn group_of(&self, key: &str) -> Option<String> {
        let d = self.req.delimiter?;
        let rest = key.strip_prefix(self.req.prefix.as_str())?;
        let i = rest.find(d)?;
        Some(key[..self.req.prefix.len() + i + d.len_utf8()].to_string())
    }

    /// The entries of `dir` this page may list, in key order, at most a
    /// budget's worth, and whether there were more.
    fn entries(&self, dir: &Path, at: &str) -> Result<(Vec<Item>, bool), StoreError> {
        let read = match fs::read_dir(dir) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), false)),
            Err(e) => return Err(StoreError::io(dir.display(), e)),
        };
        let prefix = self.req.prefix.as_str();
        let (mut kept, mut cut) = (BinaryHeap::new(), false);
        for entry in read {
            let entry = entry.map_err(|e| StoreError::io(dir.display(), e))?;
            let ft = entry
                .file_type()
                .map_err(|e| StoreError::io(entry.path().display(), e))?;
            // Symlinks are listed as files, as a walk without following them would.
            let is_dir = ft.is_dir();
            let name = entry.file_name();
            let mut key = format!("{at}{}", (self.escape)(&name));
            if is_dir {
                key.push('/');
            }
            let wanted = key.starts_with(prefix) || (is_dir && prefix.starts_with(key.as_str()));
            if !wanted || self.resume.as_ref().is_some_and(|r| r.passed(&key, is_dir)) {
                continue;
            }
            kept.push(Item { key, is_dir, name });
            if kept.len() > self.budget {
                kept.pop();
                cut = true;
            }
        }
        Ok((kept.into_sorted_vec(), cut))
    }
}
