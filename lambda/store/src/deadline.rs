//! A run-wide time budget: a store whose every request ends by a deadline,
//! and a reader whose every read does.
//!
//! A server that accepts connections and never answers would otherwise
//! hold one request for the client's whole retry cycle (minutes), past a
//! Lambda's life. Bounded by the deadline, the request fails with
//! [`StoreError::Deadline`] and the run reports what it did and what it
//! left, in time.

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncBufRead, AsyncRead, ReadBuf};
use tokio::time::{Instant, Sleep};

use crate::{
    Body, Condition, ListRequest, Object, ObjectMeta, ObjectStore, Page, StoreError, Version,
};

/// Run `fut` until `deadline` (none: to its end); `None` when the deadline
/// came first.
pub async fn within<T>(deadline: Option<Instant>, fut: impl Future<Output = T>) -> Option<T> {
    match deadline {
        None => Some(fut.await),
        Some(d) => tokio::time::timeout_at(d, fut).await.ok(),
    }
}

/// `store`, each request of which ends by `deadline`.
#[derive(Debug, Clone)]
pub struct Bounded<S> {
    inner: S,
    deadline: Option<Instant>,
}

impl<S: ObjectStore> Bounded<S> {
    pub fn new(inner: S, deadline: Option<Instant>) -> Self {
        Bounded { inner, deadline }
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    async fn bound<T>(
        &self,
        key: &str,
        what: &str,
        fut: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        within(self.deadline, fut).await.unwrap_or_else(|| {
            Err(StoreError::Deadline {
                location: self.inner.locate(key),
                what: what.to_string(),
            })
        })
    }
}

impl<S: ObjectStore> ObjectStore for Bounded<S> {
    fn locate(&self, key: &str) -> String {
        self.inner.locate(key)
    }
    async fn list_page(&self, req: &ListRequest) -> Result<Page, StoreError> {
        self.bound(&req.prefix, "listing", self.inner.list_page(req))
            .await
    }
    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        self.bound(key, "looking it up", self.inner.head(key)).await
    }
    async fn get_range(&self, key: &str, start: u64, len: u64) -> Result<Vec<u8>, StoreError> {
        self.bound(key, "reading", self.inner.get_range(key, start, len))
            .await
    }
    async fn get(&self, key: &str, limit: u64) -> Result<Option<Object>, StoreError> {
        self.bound(key, "reading", self.inner.get(key, limit)).await
    }
    async fn get_to_file(&self, key: &str, dest: &Path) -> Result<Option<Version>, StoreError> {
        self.bound(key, "reading", self.inner.get_to_file(key, dest))
            .await
    }
    async fn put(
        &self,
        key: &str,
        body: Body,
        condition: Condition,
    ) -> Result<Version, StoreError> {
        self.bound(key, "writing", self.inner.put(key, body, condition))
            .await
    }
    fn scratch_dir(&self) -> PathBuf {
        self.inner.scratch_dir()
    }
    fn key_problem(&self, key: &str) -> Option<String> {
        self.inner.key_problem(key)
    }
    fn staging_root(&self, prefix: &str) -> Option<PathBuf> {
        self.inner.staging_root(prefix)
    }
    fn lists_in_parallel(&self) -> bool {
        self.inner.lists_in_parallel()
    }
    fn deadline(&self) -> Option<Instant> {
        self.deadline
    }
}

/// A reader whose reads fail with `TimedOut` once `deadline` has passed,
/// even while the other side sends nothing.
pub struct BoundedRead<R> {
    inner: R,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl<R> BoundedRead<R> {
    pub fn new(inner: R, deadline: Option<Instant>) -> Self {
        BoundedRead {
            inner,
            sleep: deadline.map(|d| Box::pin(tokio::time::sleep_until(d))),
        }
    }

    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        self.sleep
            .as_mut()
            .is_some_and(|s| s.as_mut().poll(cx).is_ready())
    }
}

fn timed_out() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "the run's deadline was reached while reading",
    )
}

impl<R: AsyncRead + Unpin> AsyncRead for BoundedRead<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.expired(cx) {
            return Poll::Ready(Err(timed_out()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<R: AsyncBufRead + Unpin> AsyncBufRead for BoundedRead<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let me = self.get_mut();
        if me.expired(cx) {
            return Poll::Ready(Err(timed_out()));
        }
        Pin::new(&mut me.inner).poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        Pin::new(&mut self.get_mut().inner).consume(amt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncBufReadExt;

    #[tokio::test(start_paused = true)]
    async fn a_silent_reader_fails_at_the_deadline() {
        let (_tx, rx) = tokio::io::duplex(64);
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        let mut r = BoundedRead::new(tokio::io::BufReader::new(rx), Some(deadline));
        let err = r.fill_buf().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(Instant::now() >= deadline);
    }

    #[tokio::test(start_paused = true)]
    async fn within_gives_up_at_the_deadline_only() {
        let d = Instant::now() + std::time::Duration::from_secs(1);
        assert_eq!(within(Some(d), async { 7 }).await, Some(7));
        assert_eq!(within(Some(d), std::future::pending::<u8>()).await, None);
        assert_eq!(within(None, async { 8 }).await, Some(8));
    }
}
