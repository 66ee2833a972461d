//! Where data lives: a local directory or an S3 bucket and prefix, and the
//! store behind it.

use std::path::{Path, PathBuf};

use crate::local::LocalStore;
use crate::s3::S3Store;
use crate::{
    Body, Condition, ListRequest, Object, ObjectMeta, ObjectStore, Page, StoreError, Version,
};

/// A parsed `--source` / `--checkpoints` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Local(PathBuf),
    S3 { bucket: String, prefix: String },
}

impl Location {
    /// `s3://bucket/prefix` or a filesystem path.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.trim().is_empty() {
            return Err("is empty".into());
        }
        if let Some(rest) = s.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(format!("{s}: no bucket name"));
            }
            return Ok(Location::S3 {
                bucket: bucket.to_string(),
                prefix: prefix.trim_matches('/').to_string(),
            });
        }
        Ok(Location::Local(PathBuf::from(s)))
    }
}

/// Any store, for callers that choose at run time.
#[derive(Debug, Clone)]
pub enum AnyStore {
    Local(LocalStore),
    S3(S3Store),
}

impl AnyStore {
    /// The store for a location and the key prefix inside it. S3 locations
    /// need the process's one S3 client.
    pub fn open(
        loc: &Location,
        s3: Option<&aws_sdk_s3::Client>,
    ) -> Result<(AnyStore, String), StoreError> {
        match loc {
            Location::Local(path) => Ok((AnyStore::Local(LocalStore::new(path)), String::new())),
            Location::S3 { bucket, prefix } => match s3 {
                Some(c) => Ok((
                    AnyStore::S3(S3Store::new(c.clone(), bucket)),
                    prefix.clone(),
                )),
                None => Err(StoreError::Config {
                    location: format!("s3://{bucket}"),
                    message: "no S3 client configured".into(),
                }),
            },
        }
    }
}

macro_rules! each {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            AnyStore::Local($s) => $e,
            AnyStore::S3($s) => $e,
        }
    };
}

impl ObjectStore for AnyStore {
    fn locate(&self, key: &str) -> String {
        each!(self, s => s.locate(key))
    }
    async fn list_page(&self, req: &ListRequest) -> Result<Page, StoreError> {
        each!(self, s => s.list_page(req).await)
    }
    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        each!(self, s => s.head(key).await)
    }
    async fn get_range(&self, key: &str, start: u64, len: u64) -> Result<Vec<u8>, StoreError> {
        each!(self, s => s.get_range(key, start, len).await)
    }
    async fn get(&self, key: &str, limit: u64) -> Result<Option<Object>, StoreError> {
        each!(self, s => s.get(key, limit).await)
    }
    async fn get_to_file(&self, key: &str, dest: &Path) -> Result<Option<Version>, StoreError> {
        each!(self, s => s.get_to_file(key, dest).await)
    }
    async fn put(
        &self,
        key: &str,
        body: Body,
        condition: Condition,
    ) -> Result<Version, StoreError> {
        each!(self, s => s.put(key, body, condition).await)
    }
    fn scratch_dir(&self) -> PathBuf {
        each!(self, s => s.scratch_dir())
    }
    fn key_problem(&self, key: &str) -> Option<String> {
        each!(self, s => s.key_problem(key))
    }
    fn staging_root(&self, prefix: &str) -> Option<PathBuf> {
        each!(self, s => s.staging_root(prefix))
    }
    fn lists_in_parallel(&self) -> bool {
        each!(self, s => s.lists_in_parallel())
    }
}

/// Key prefixes of the source to ignore because the checkpoints live there.
pub fn overlap_exclusions(source: &Location, checkpoints: &Location) -> Vec<String> {
    match (source, checkpoints) {
        (Location::Local(src), Location::Local(dst)) => {
            let (Ok(src), Ok(dst)) = (std::fs::canonicalize(src), std::fs::canonicalize(dst))
            else {
                return Vec::new();
            };
            match dst.strip_prefix(&src) {
                Ok(rel) if rel.as_os_str().is_empty() => Vec::new(),
                Ok(rel) => vec![format!("{}/", rel.to_string_lossy().replace('\\', "/"))],
                Err(_) => Vec::new(),
            }
        }
        (Location::S3 { bucket: b1, .. }, Location::S3 { bucket: b2, prefix })
            if b1 == b2 && !prefix.is_empty() =>
        {
            vec![format!("{prefix}/")]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_locations() {
        assert_eq!(
            Location::parse("s3://b/prod/events/").unwrap(),
            Location::S3 {
                bucket: "b".into(),
                prefix: "prod/events".into()
            }
        );
        assert_eq!(
            Location::parse("s3://b").unwrap(),
            Location::S3 {
                bucket: "b".into(),
                prefix: String::new()
            }
        );
        assert!(Location::parse("s3:///x").is_err());
        assert_eq!(
            Location::parse("./x").unwrap(),
            Location::Local(PathBuf::from("./x"))
        );
    }
}
