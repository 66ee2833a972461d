//! Stage 8, ledger: which source objects have been processed, at which
//! version, with what outcome. It makes runs exactly-once by files rather
//! than by clocks: an object is processed when the ledger has not seen this
//! version of it, whatever its timestamps say.
//!
//! The ledger is an append-only log, kept the way delta-rs keeps a table
//! log, under `{state}/ledger/`:
//!
//! * `segments/{seq}.parquet`: what one run recorded. A run creates the
//!   next number with `If-None-Match: *`, so two runs can never take the
//!   same one; a run that loses the race reads the winner's segment and
//!   takes the number after it.
//! * `snapshots/{seq}.parquet`: every entry up to segment `seq`, sorted by
//!   key, in row groups a reader can fetch one at a time (their key
//!   statistics say which). Written, also with `If-None-Match: *`, by the
//!   run that finds enough segments since the last one (compaction).
//! * `_last_snapshot.json`: the latest snapshot's number, a hint (a stale
//!   one only means more segments to read).
//!
//! State = the latest snapshot + the segments after it. A run reads the
//! hint, the snapshot's footer, and the segments after it (probing numbers
//! with GETs: no listing); it writes one segment, proportional to what it
//! read. A ledger in the single-file format of earlier versions
//! (`{state}/ledger.parquet`) becomes snapshot 0 on the first run, without
//! reading any event file again.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

pub use eventlog_formats::ledger::{Entry, Outcome};
use eventlog_formats::ledger::{
    LedgerFileError, SnapshotIndex, SnapshotWriter, decode, encode, footer_len, rewrite_as_snapshot,
};
use eventlog_store::{Body, Condition, ObjectStore, StoreError, join_key};

/// Ledger problems. A ledger that exists but cannot be read is never
/// treated as empty: that is how the reference wiped histories.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "{location}: the ledger exists but cannot be read ({message}); refusing to start over from an empty one"
    )]
    Corrupt { location: String, message: String },
}

/// When a run compacts the segments into a new snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compaction {
    /// After this many segments since the last snapshot…
    pub segments: u64,
    /// …or this many entries in them.
    pub entries: usize,
}

impl Default for Compaction {
    fn default() -> Self {
        Compaction {
            segments: 64,
            entries: 200_000,
        }
    }
}

/// The objects of a ledger.
#[derive(Debug, Clone)]
pub struct LedgerKeys {
    state: String,
}

impl LedgerKeys {
    /// The ledger under the state prefix (`…/_eventlog`).
    pub fn new(state: &str) -> Self {
        LedgerKeys {
            state: state.to_string(),
        }
    }
    /// The ledger's folder.
    pub fn root(&self) -> String {
        join_key(&self.state, "ledger/")
    }
    pub fn pointer(&self) -> String {
        join_key(&self.state, "ledger/_last_snapshot.json")
    }
    pub fn snapshot(&self, seq: u64) -> String {
        join_key(&self.state, &format!("ledger/snapshots/{seq:020}.parquet"))
    }
    pub fn segment(&self, seq: u64) -> String {
        join_key(&self.state, &format!("ledger/segments/{seq:020}.parquet"))
    }
    /// The single-file ledger of earlier versions.
    pub fn legacy(&self) -> String {
        join_key(&self.state, "ledger.parquet")
    }
}

/// How much state a run read and wrote, and what it did to the log.
#[derive(Debug, Default, serde::Serialize)]
pub struct LedgerIo {
    pub bytes_read: AtomicU64,
    pub bytes_written: AtomicU64,
}

impl LedgerIo {
    fn read(&self, n: usize) {
        self.bytes_read.fetch_add(n as u64, Ordering::Relaxed);
    }
    fn wrote(&self, n: u64) {
        self.bytes_written.fetch_add(n, Ordering::Relaxed);
    }
}

/// A ledger with the store it lives in: what planning looks keys up in.
pub struct State<'a, C: ObjectStore> {
    pub ledger: &'a Ledger,
    pub store: &'a C,
}

impl<C: ObjectStore> State<'_, C> {
    pub fn cursor(&self) -> Cursor<'_, C> {
        self.ledger.cursor(self.store)
    }
}

/// The ledger as a run sees it: the snapshot's index (its rows are read on
/// demand) and every entry of the segments after it.
#[derive(Debug)]
pub struct Ledger {
    pub keys: LedgerKeys,
    pub snapshot_seq: u64,
    snapshot: Option<SnapshotIndex>,
    /// Entries of the segments after the snapshot, the latest version of each key.
    overlay: BTreeMap<String, Entry>,
    /// The highest segment read (or written).
    pub last_segment: u64,
    /// Whether this run took over a single-file ledger.
    pub took_over: bool,
    pub io: LedgerIo,
    /// Entries per row group of the snapshots this run writes.
    row_group: usize,
    /// The largest segment read or written ([`SEGMENT_MAX_BYTES`]).
    segment_cap: u64,
}

/// One segment to write: its bytes and the entries they hold.
type SegmentPart = (Vec<u8>, BTreeMap<String, Entry>);

/// The largest ledger segment a run reads: a segment is decoded in memory,
/// so an object larger than this under a segment's key (damage, or not
/// ours) stops the run with an error instead of exhausting its memory. A
/// run's own segment is split to stay under it.
pub const SEGMENT_MAX_BYTES: u64 = 256 << 20;

fn file_len(p: &std::path::Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn corrupt(store: &impl ObjectStore, key: &str, message: impl std::fmt::Display) -> LedgerError {
    LedgerError::Corrupt {
        location: store.locate(key),
        message: message.to_string(),
    }
}

/// Bytes read from a snapshot's end, hoping to hold its whole footer.
const FOOTER_GUESS: u64 = 64 * 1024;
/// Segments asked for at once when a run starts: most runs find a few
/// after the snapshot, and every GET in a window is one more chance to
/// wait for a slow answer. Later windows grow to `MAX_WINDOW`.
const FIRST_WINDOW: u64 = 4;
const MAX_WINDOW: u64 = 64;

impl Ledger {
    /// Read the ledger's state: the hint, the snapshot's footer, the
    /// segments after it. A single-file ledger is taken over first.
    pub async fn load(store: &impl ObjectStore, keys: LedgerKeys) -> Result<Ledger, LedgerError> {
        Self::load_capped(store, keys, SEGMENT_MAX_BYTES).await
    }

    /// [`Ledger::load`] with another segment size cap.
    pub async fn load_capped(
        store: &impl ObjectStore,
        keys: LedgerKeys,
        segment_cap: u64,
    ) -> Result<Ledger, LedgerError> {
        let mut ledger = Ledger {
            segment_cap,
            keys,
            snapshot_seq: 0,
            snapshot: None,
            overlay: BTreeMap::new(),
            last_segment: 0,
            took_over: false,
            io: LedgerIo::default(),
            row_group: eventlog_formats::ledger::SNAPSHOT_ROW_GROUP,
        };
        let seq = ledger.read_pointer(store).await?.unwrap_or(0);
        (ledger.snapshot_seq, ledger.last_segment) = (seq, seq);
        // The snapshot's footer, the segments after it and (with no hint)
        // whether a single-file ledger is there are independent reads: at
        // S3's round trips, a run's start waits for one of them, not three.
        let legacy = ledger.keys.legacy();
        let (index, segments, legacy_found) = futures::join!(
            ledger.read_index(store, seq),
            ledger.fetch_segments(store, seq + 1, FIRST_WINDOW),
            async {
                match seq {
                    0 => store.head(&legacy).await.map(|h| h.is_some()),
                    _ => Ok(false),
                }
            }
        );
        ledger.snapshot = index?;
        if ledger.snapshot.is_none() && seq == 0 && legacy_found? {
            ledger.took_over = ledger.take_over(store).await?;
            if ledger.took_over {
                ledger.snapshot = ledger.read_index(store, 0).await?;
            }
        }
        if ledger.snapshot.is_none() && seq > 0 {
            let key = ledger.keys.snapshot(seq);
            return Err(corrupt(
                store,
                &key,
                "the latest snapshot named by _last_snapshot.json is missing",
            ));
        }
        let segments = segments?;
        let full = segments.len() as u64 == FIRST_WINDOW;
        for bytes in segments {
            ledger.apply_segment(store, ledger.last_segment + 1, &bytes)?;
        }
        if full {
            ledger.read_segments(store, FIRST_WINDOW * 4).await?;
        }
        Ok(ledger)
    }

    /// Apply the segments after `last_segment`, up to the first missing
    /// one, in windows that start at `window` GETs and grow.
    async fn read_segments(
        &mut self,
        store: &impl ObjectStore,
        mut window: u64,
    ) -> Result<(), LedgerError> {
        loop {
            let found = self
                .fetch_segments(store, self.last_segment + 1, window)
                .await?;
            let full = found.len() as u64 == window;
            for bytes in found {
                self.apply_segment(store, self.last_segment + 1, &bytes)?;
            }
            if !full {
                return Ok(());
            }
            window = (window * 4).min(MAX_WINDOW);
        }
    }

    /// The segments from `from` on, `window` GETs at once, up to the first
    /// missing one (numbers have no gaps: a run writes `n + 1` only after
    /// reading `n`). More may follow a full window.
    async fn fetch_segments(
        &self,
        store: &impl ObjectStore,
        from: u64,
        window: u64,
    ) -> Result<Vec<Vec<u8>>, LedgerError> {
        let keys = &self.keys;
        let got: Vec<Result<Option<Vec<u8>>, StoreError>> =
            futures::future::join_all((from..from + window).map(|seq| async move {
                let key = keys.segment(seq);
                Ok(store.get(&key, self.segment_cap).await?.map(|o| o.bytes))
            }))
            .await;
        let mut found = Vec::new();
        for bytes in got {
            match bytes? {
                Some(b) => found.push(b),
                None => return Ok(found),
            }
        }
        Ok(found)
    }

    fn apply_segment(
        &mut self,
        store: &impl ObjectStore,
        seq: u64,
        bytes: &[u8],
    ) -> Result<(), LedgerError> {
        self.io.read(bytes.len());
        let key = self.keys.segment(seq);
        let entries = decode(bytes).map_err(|e| corrupt(store, &key, e))?;
        self.overlay.extend(entries);
        self.last_segment = seq;
        Ok(())
    }

    async fn read_pointer(&self, store: &impl ObjectStore) -> Result<Option<u64>, LedgerError> {
        let key = self.keys.pointer();
        let Some(obj) = store.get(&key, 1 << 16).await? else {
            return Ok(None);
        };
        self.io.read(obj.bytes.len());
        let v: serde_json::Value =
            serde_json::from_slice(&obj.bytes).map_err(|e| corrupt(store, &key, e))?;
        v["seq"]
            .as_u64()
            .map(Some)
            .ok_or_else(|| corrupt(store, &key, "no `seq`"))
    }

    /// The footer of snapshot `seq`, or `None` when it does not exist.
    async fn read_index(
        &self,
        store: &impl ObjectStore,
        seq: u64,
    ) -> Result<Option<SnapshotIndex>, LedgerError> {
        let key = self.keys.snapshot(seq);
        let Some(head) = store.head(&key).await? else {
            return Ok(None);
        };
        let len = head.size;
        if len < 12 {
            return Err(corrupt(store, &key, "too short to be parquet"));
        }
        // One range read holds the footer of most snapshots; a longer one
        // takes a second read.
        let guess = len.min(FOOTER_GUESS);
        let tail = store.get_range(&key, len - guess, guess).await?;
        self.io.read(tail.len());
        let at = tail
            .len()
            .checked_sub(8)
            .ok_or_else(|| corrupt(store, &key, "short read"))?;
        let meta_len = footer_len(&tail[at..]).map_err(|e| corrupt(store, &key, e))?;
        if meta_len + 8 > len {
            return Err(corrupt(store, &key, "the footer is longer than the file"));
        }
        let meta = match usize::try_from(meta_len)
            .ok()
            .and_then(|m| at.checked_sub(m))
        {
            Some(start) => tail[start..at].to_vec(),
            None => {
                let meta = store.get_range(&key, len - 8 - meta_len, meta_len).await?;
                self.io.read(meta.len());
                meta
            }
        };
        SnapshotIndex::from_metadata(&meta, len)
            .map(Some)
            .map_err(|e| corrupt(store, &key, e))
    }

    /// Apply segment `seq` to the overlay; `false` when it does not exist.
    async fn read_segment(
        &mut self,
        store: &impl ObjectStore,
        seq: u64,
    ) -> Result<bool, LedgerError> {
        let key = self.keys.segment(seq);
        let Some(obj) = store.get(&key, self.segment_cap).await? else {
            return Ok(false);
        };
        self.apply_segment(store, seq, &obj.bytes)?;
        Ok(true)
    }

    /// A single-file ledger becomes snapshot 0 (no event file is read
    /// again); `false` when there is none. Streamed through local files,
    /// so a ledger of millions of entries is taken over in bounded memory.
    async fn take_over(&self, store: &impl ObjectStore) -> Result<bool, LedgerError> {
        let legacy = self.keys.legacy();
        let dir =
            tempfile::tempdir_in(store.scratch_dir()).map_err(|e| corrupt(store, &legacy, e))?;
        let (from, to) = (
            dir.path().join("legacy.parquet"),
            dir.path().join("snapshot.parquet"),
        );
        if store.get_to_file(&legacy, &from).await?.is_none() {
            return Ok(false);
        }
        self.io.read(file_len(&from) as usize);
        let rows = self.row_group;
        let (from2, to2) = (from.clone(), to.clone());
        let converted = tokio::task::spawn_blocking(move || {
            match rewrite_as_snapshot(&from2, &to2, rows)? {
                Some(n) => Ok(n),
                // Not in key order: sorted in memory, once.
                None => {
                    let io = |path: &std::path::Path| {
                        let path = path.display().to_string();
                        move |e: std::io::Error| LedgerFileError::Io {
                            path,
                            message: e.to_string(),
                        }
                    };
                    let bytes = std::fs::read(&from2).map_err(io(&from2))?;
                    let entries = decode(&bytes)?;
                    std::fs::write(&to2, encode(&entries)?).map_err(io(&to2))?;
                    Ok(entries.len() as u64)
                }
            }
        })
        .await
        .map_err(|e| corrupt(store, &legacy, e))?;
        let entries = converted.map_err(|e: LedgerFileError| corrupt(store, &legacy, e))?;
        self.io.wrote(file_len(&to));
        match store
            .put(&self.keys.snapshot(0), Body::File(to), Condition::IfAbsent)
            .await
        {
            // Another run took it over at the same time: the same entries.
            Ok(_) => {}
            Err(e) if e.is_precondition() => {}
            Err(e) => return Err(e.into()),
        }
        tracing::info!(entries, from = %store.locate(&legacy), "single-file ledger taken over as snapshot 0");
        Ok(true)
    }

    /// Snapshots written with row groups of `rows` entries (tests use tiny ones).
    pub fn with_row_group(mut self, rows: usize) -> Self {
        self.row_group = rows.max(1);
        self
    }

    /// Entries in the segments after the snapshot.
    pub fn overlay_len(&self) -> usize {
        self.overlay.len()
    }

    /// Nothing recorded here yet: no snapshot, no segment, no single-file
    /// ledger taken over (a new deployment's first run).
    pub fn is_new(&self) -> bool {
        self.snapshot.is_none()
            && self.overlay.is_empty()
            && self.last_segment == 0
            && self.snapshot_seq == 0
            && !self.took_over
    }

    /// Lookups in increasing key order, reading one row group at a time.
    pub fn cursor<'a, S: ObjectStore>(&'a self, store: &'a S) -> Cursor<'a, S> {
        Cursor {
            ledger: self,
            store,
            next_group: 0,
            rows: std::collections::VecDeque::new(),
        }
    }

    /// Record `updates` as the next segment. Lost to another run: read its
    /// segment (the overlay stays complete for compaction) and take the
    /// number after. Returns the segment's number and the races lost.
    pub async fn commit(
        &mut self,
        store: &impl ObjectStore,
        updates: &[Entry],
        max_attempts: u32,
    ) -> Result<(u64, u32), LedgerError> {
        let map: BTreeMap<String, Entry> =
            updates.iter().map(|e| (e.key.clone(), e.clone())).collect();
        let parts = self.encode_parts(store, map)?;
        let mut conflicts = 0;
        for (bytes, entries) in parts {
            conflicts += self.append(store, bytes, entries, max_attempts).await?;
        }
        Ok((self.last_segment, conflicts))
    }

    /// The entries as segments no larger than the cap (halved until each
    /// fits): usually one.
    fn encode_parts(
        &self,
        store: &impl ObjectStore,
        map: BTreeMap<String, Entry>,
    ) -> Result<Vec<SegmentPart>, LedgerError> {
        let mut todo = vec![map];
        let mut parts = Vec::new();
        while let Some(mut map) = todo.pop() {
            let key = self.keys.segment(self.last_segment + 1);
            let bytes = encode(&map).map_err(|e| corrupt(store, &key, e))?;
            if bytes.len() as u64 <= self.segment_cap || map.len() < 2 {
                parts.push((bytes, map));
                continue;
            }
            let middle = map.keys().nth(map.len() / 2).cloned().unwrap_or_default();
            let upper = map.split_off(&middle);
            // Popped last-in first-out: the lower half goes first.
            todo.push(upper);
            todo.push(map);
        }
        Ok(parts)
    }

    /// Write one segment at the next free number; the conflicts met.
    async fn append(
        &mut self,
        store: &impl ObjectStore,
        bytes: Vec<u8>,
        entries: BTreeMap<String, Entry>,
        max_attempts: u32,
    ) -> Result<u32, LedgerError> {
        let mut conflicts = 0;
        loop {
            let seq = self.last_segment + 1;
            let key = self.keys.segment(seq);
            match store
                .put(&key, Body::Bytes(bytes.clone()), Condition::IfAbsent)
                .await
            {
                Ok(_) => {
                    self.io.wrote(bytes.len() as u64);
                    self.last_segment = seq;
                    self.overlay.extend(entries);
                    return Ok(conflicts);
                }
                Err(e) if e.is_precondition() && conflicts + 1 < max_attempts.max(2) * 8 => {
                    conflicts += 1;
                    // Someone else's segment: read it (and any after it).
                    self.read_segment(store, seq).await?;
                    self.read_segments(store, FIRST_WINDOW).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Whether this run should compact.
    pub fn compaction_due(&self, policy: Compaction) -> bool {
        self.last_segment > self.snapshot_seq
            && (self.last_segment - self.snapshot_seq >= policy.segments.max(1)
                || self.overlay.len() >= policy.entries)
    }

    /// Write snapshot `last_segment` (the snapshot's rows merged with the
    /// overlay, streamed) and move the hint to it. Safe to race or crash:
    /// the snapshot is created only if absent, identical whoever writes it,
    /// and the hint only moves forward.
    pub async fn compact(&self, store: &impl ObjectStore) -> Result<u64, LedgerError> {
        let seq = self.last_segment;
        let key = self.keys.snapshot(seq);
        let dir = tempfile::tempdir_in(store.scratch_dir()).map_err(|e| corrupt(store, &key, e))?;
        let path = dir.path().join("snapshot.parquet");
        let file = std::fs::File::create(&path).map_err(|e| corrupt(store, &key, e))?;
        let mut w = SnapshotWriter::with_row_group(std::io::BufWriter::new(file), self.row_group)
            .map_err(|e| corrupt(store, &key, e))?;
        let mut overlay = self.overlay.values().peekable();
        let groups = self.snapshot.as_ref().map_or(0, |s| s.row_groups.len());
        for g in 0..groups {
            for row in self.read_group(store, g).await? {
                while let Some(o) = overlay.next_if(|o| o.key < row.key) {
                    w.push(o.clone()).map_err(|e| corrupt(store, &key, e))?;
                }
                let newer = overlay.next_if(|o| o.key == row.key);
                w.push(newer.cloned().unwrap_or(row))
                    .map_err(|e| corrupt(store, &key, e))?;
            }
        }
        for o in overlay {
            w.push(o.clone()).map_err(|e| corrupt(store, &key, e))?;
        }
        w.finish().map_err(|e| corrupt(store, &key, e))?;
        let size = file_len(&path);
        match store.put(&key, Body::File(path), Condition::IfAbsent).await {
            Ok(_) => self.io.wrote(size),
            Err(e) if e.is_precondition() => {}
            Err(e) => return Err(e.into()),
        }
        crate::fault::point("snapshot-written");
        self.advance_pointer(store, seq).await?;
        crate::fault::point("pointer-updated");
        Ok(seq)
    }

    /// Move `_last_snapshot.json` to `seq` unless it is there or beyond.
    async fn advance_pointer(&self, store: &impl ObjectStore, seq: u64) -> Result<(), LedgerError> {
        let key = self.keys.pointer();
        for _ in 0..8 {
            let current = store.get(&key, 1 << 16).await?;
            let (at, condition) = match &current {
                Some(obj) => {
                    let v: serde_json::Value =
                        serde_json::from_slice(&obj.bytes).unwrap_or_default();
                    (
                        v["seq"].as_u64().unwrap_or(0),
                        Condition::IfMatch(obj.version.clone()),
                    )
                }
                None => (0, Condition::IfAbsent),
            };
            if current.is_some() && at >= seq {
                return Ok(());
            }
            let body = serde_json::json!({ "seq": seq }).to_string().into_bytes();
            self.io.wrote(body.len() as u64);
            match store.put(&key, Body::Bytes(body), condition).await {
                Ok(_) => return Ok(()),
                Err(e) if e.is_precondition() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        // Others keep moving it: it is only a hint, and they move it forward.
        Ok(())
    }

    /// Every entry of snapshot row group `g`.
    async fn read_group(
        &self,
        store: &impl ObjectStore,
        g: usize,
    ) -> Result<Vec<Entry>, LedgerError> {
        let Some(index) = &self.snapshot else {
            return Ok(Vec::new());
        };
        let key = self.keys.snapshot(self.snapshot_seq);
        let span = &index.row_groups[g];
        let bytes = store.get_range(&key, span.start, span.len).await?;
        self.io.read(bytes.len());
        index
            .read_row_group(g, bytes.into())
            .map_err(|e| corrupt(store, &key, e))
    }
}

/// Lookups in increasing key order: segments' entries from memory, the
/// snapshot's a row group at a time, skipping row groups by their key
/// statistics without reading them.
pub struct Cursor<'a, S: ObjectStore> {
    ledger: &'a Ledger,
    store: &'a S,
    next_group: usize,
    rows: std::collections::VecDeque<Entry>,
}

impl<S: ObjectStore> Cursor<'_, S> {
    /// The ledger's entry for `key`; keys must be asked in increasing order.
    pub async fn seek(&mut self, key: &str) -> Result<Option<Entry>, LedgerError> {
        if let Some(e) = self.ledger.overlay.get(key) {
            return Ok(Some(e.clone()));
        }
        loop {
            while self.rows.front().is_some_and(|r| r.key.as_str() < key) {
                self.rows.pop_front();
            }
            if let Some(r) = self.rows.front() {
                return Ok((r.key == key).then(|| r.clone()));
            }
            let Some(index) = &self.ledger.snapshot else {
                return Ok(None);
            };
            // Row groups that end before the key are never read.
            while index
                .row_groups
                .get(self.next_group)
                .is_some_and(|g| g.max_key.as_deref().is_some_and(|m| m < key))
            {
                self.next_group += 1;
            }
            let Some(group) = index.row_groups.get(self.next_group) else {
                return Ok(None);
            };
            if group.min_key.as_deref().is_some_and(|m| m > key) {
                return Ok(None);
            }
            self.rows = self
                .ledger
                .read_group(self.store, self.next_group)
                .await?
                .into();
            self.next_group += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eventlog_store::local::LocalStore;

    use crate::test_entry as entry;

    fn keys() -> LedgerKeys {
        LedgerKeys::new("_eventlog")
    }

    /// Every key's entry through a cursor, in order.
    async fn seek_all(l: &Ledger, s: &LocalStore, ks: &[String]) -> Vec<Option<String>> {
        let mut c = l.cursor(s);
        let mut out = Vec::new();
        for k in ks {
            out.push(c.seek(k).await.unwrap().map(|e| e.etag));
        }
        out
    }

    #[test]
    fn segments_stay_under_the_cap_and_a_larger_one_is_an_error() {
        crate::test_runtime().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let s = LocalStore::new(dir.path());
            let ks: Vec<String> = (0..3000).map(|i| format!("events/k{i:04}")).collect();
            let es: Vec<Entry> = ks.iter().map(|k| entry(k, "v1")).collect();
            let whole = encode(&es.iter().map(|e| (e.key.clone(), e.clone())).collect())
                .unwrap()
                .len() as u64;
            let cap = whole / 3;
            let mut l = Ledger::load_capped(&s, keys(), cap).await.unwrap();
            let (last, _) = l.commit(&s, &es, 4).await.unwrap();
            assert!(last >= 3, "split into several segments: {last}");
            for seq in 1..=last {
                let p = dir.path().join(keys().segment(seq));
                let len = std::fs::metadata(&p).unwrap().len();
                assert!(len <= cap, "segment {seq}: {len} of {whole} over {cap}");
            }
            let l = Ledger::load_capped(&s, keys(), cap).await.unwrap();
            let got = seek_all(&l, &s, &ks).await;
            assert!(got.iter().all(|e| e.as_deref() == Some("v1")), "{got:?}");
            // A reader with a smaller cap refuses, naming the segment.
            let err = Ledger::load_capped(&s, keys(), 64).await.unwrap_err();
            assert!(err.to_string().contains("segments/"), "{err}");
        });
    }

    #[test]
    fn racing_runs_take_different_segments_and_lose_nothing() {
        crate::test_runtime().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let s = LocalStore::new(dir.path());
            let mut a = Ledger::load(&s, keys()).await.unwrap();
            let mut b = Ledger::load(&s, keys()).await.unwrap();
            assert!(a.is_new() && b.is_new());
            assert_eq!(a.commit(&s, &[entry("k1", "a")], 4).await.unwrap(), (1, 0));
            // b read the ledger before a's segment: it loses number 1.
            assert_eq!(b.commit(&s, &[entry("k2", "b")], 4).await.unwrap(), (2, 1));
            let l = Ledger::load(&s, keys()).await.unwrap();
            assert!(!l.is_new());
            assert_eq!(l.last_segment, 2);
            let got = seek_all(&l, &s, &["k1".into(), "k2".into(), "k3".into()]).await;
            assert_eq!(got, [Some("a".into()), Some("b".into()), None]);
        });
    }

    #[test]
    fn compaction_keeps_every_entry_and_later_segments_win() {
        crate::test_runtime().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let s = LocalStore::new(dir.path());
            let ks: Vec<String> = (0..50).map(|i| format!("k{i:03}")).collect();
            for chunk in ks.chunks(10) {
                let mut l = Ledger::load(&s, keys()).await.unwrap();
                let es: Vec<Entry> = chunk.iter().map(|k| entry(k, "v1")).collect();
                l.commit(&s, &es, 4).await.unwrap();
            }
            let l = Ledger::load(&s, keys()).await.unwrap().with_row_group(7);
            let policy = Compaction {
                segments: 5,
                entries: usize::MAX,
            };
            assert!(l.compaction_due(policy));
            assert_eq!(l.compact(&s).await.unwrap(), 5);
            let mut l = Ledger::load(&s, keys()).await.unwrap();
            assert_eq!((l.snapshot_seq, l.last_segment, l.overlay_len()), (5, 5, 0));
            assert_eq!(l.snapshot.as_ref().unwrap().row_groups.len(), 8);
            l.commit(&s, &[entry("k010", "v2")], 4).await.unwrap();
            let l = Ledger::load(&s, keys()).await.unwrap();
            let got = seek_all(&l, &s, &ks).await;
            assert!(
                got.iter()
                    .enumerate()
                    .all(|(i, e)| e.as_deref() == Some(if i == 10 { "v2" } else { "v1" })),
                "{got:?}"
            );
            // A lookup of a few keys reads the row groups they are in, not the snapshot.
            let before = l.io.bytes_read.load(Ordering::Relaxed);
            seek_all(&l, &s, &["k049".into()]).await;
            let one_group = l.io.bytes_read.load(Ordering::Relaxed) - before;
            let file = std::fs::metadata(
                dir.path()
                    .join("_eventlog/ledger/snapshots/00000000000000000005.parquet"),
            )
            .unwrap()
            .len();
            assert!(one_group * 4 < file, "{one_group} of {file}");
        });
    }

    #[test]
    fn racing_compactions_agree_and_the_hint_only_moves_forward() {
        crate::test_runtime().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let s = LocalStore::new(dir.path());
            for i in 0..3 {
                let mut l = Ledger::load(&s, keys()).await.unwrap();
                l.commit(&s, &[entry(&format!("k{i}"), "v")], 4)
                    .await
                    .unwrap();
            }
            let a = Ledger::load(&s, keys()).await.unwrap();
            let b = Ledger::load(&s, keys()).await.unwrap();
            let (x, y) = tokio::join!(a.compact(&s), b.compact(&s));
            assert_eq!((x.unwrap(), y.unwrap()), (3, 3));
            // A slower run compacting an older state never moves the hint back.
            let mut old = Ledger::load(&s, keys()).await.unwrap();
            old.last_segment = 2;
            old.advance_pointer(&s, 2).await.unwrap();
            let l = Ledger::load(&s, keys()).await.unwrap();
            assert_eq!(l.snapshot_seq, 3);
            let got = seek_all(&l, &s, &["k0".into(), "k1".into(), "k2".into()]).await;
            assert!(got.iter().all(Option::is_some));
        });
    }

    #[test]
    fn a_single_file_ledger_is_taken_over_unchanged() {
        crate::test_runtime().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let s = LocalStore::new(dir.path());
            let old: BTreeMap<String, Entry> = (0..20)
                .map(|i| (format!("k{i:02}"), entry(&format!("k{i:02}"), "old")))
                .collect();
            let legacy = dir.path().join("_eventlog/ledger.parquet");
            std::fs::create_dir_all(legacy.parent().unwrap()).unwrap();
            std::fs::write(&legacy, encode(&old).unwrap()).unwrap();
            let l = Ledger::load(&s, keys()).await.unwrap();
            assert!(l.took_over);
            assert!(!l.is_new(), "a reference deployment has checkpoints");
            let ks: Vec<String> = old.keys().cloned().collect();
            assert!(
                seek_all(&l, &s, &ks)
                    .await
                    .iter()
                    .all(|e| e.as_deref() == Some("old"))
            );
            assert!(legacy.exists(), "the old file is left as it was");
            let again = Ledger::load(&s, keys()).await.unwrap();
            assert!(!again.took_over, "taken over once");
        });
    }

    #[test]
    fn a_damaged_segment_is_an_error_naming_it() {
        crate::test_runtime().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let s = LocalStore::new(dir.path());
            let mut l = Ledger::load(&s, keys()).await.unwrap();
            l.commit(&s, &[entry("k", "v")], 4).await.unwrap();
            let seg = dir
                .path()
                .join("_eventlog/ledger/segments/00000000000000000001.parquet");
            std::fs::write(&seg, b"PAR1 not really").unwrap();
            let e = Ledger::load(&s, keys()).await.unwrap_err().to_string();
            assert!(
                e.contains("00000000000000000001.parquet") && e.contains("cannot be read"),
                "{e}"
            );
        });
    }
}
