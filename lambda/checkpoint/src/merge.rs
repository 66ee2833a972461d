//! Stage 6, merge: new events into a checkpoint, streaming the existing file.
//!
//! The existing checkpoint is read batch by batch and merge-sorted with the
//! new events (sorted in memory), writing the result batch by batch: memory
//! grows with the number of new events, not with the history. An existing
//! row whose identity matches a new event is dropped in favour of the new
//! version (a re-delivery leaves the content unchanged, a correction
//! replaces the row). A file that is not in the reference's order
//! (timestamp, ptid, action), such as one written by reference v1.1, is
//! sorted in memory once; after that it is in order.

use std::collections::HashMap;
use std::fs::File;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

use arrow_array::{ArrayRef, RecordBatch, UInt32Array};
use eventlog_core::visit::{Valid, VisitEvent};
use eventlog_formats::checkpoint::{
    self, CheckpointError, Rows, SortKey, events_to_batch, normalize_batch,
};

/// Rows read from the existing file per batch.
const READ_BATCH: usize = 8192;

/// What a merge did to one checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MergeStats {
    pub rows_before: u64,
    pub rows_after: u64,
    /// New identities.
    pub added: u64,
    /// Existing rows replaced by a different version of the same identity.
    pub replaced: u64,
    /// New events identical to a row already there.
    pub unchanged: u64,
    /// Whether the existing file had to be sorted in memory first.
    pub sorted_existing: bool,
}

impl MergeStats {
    /// Whether the merged file differs from the existing one.
    pub fn changed(&self) -> bool {
        self.added > 0 || self.replaced > 0 || self.rows_after != self.rows_before
    }
}

fn identity_hash(k: &SortKey<'_>) -> u64 {
    // DefaultHasher::new() has fixed keys: the same value hashes the same
    // on both sides of the merge.
    let mut h = DefaultHasher::new();
    k.hash(&mut h);
    h.finish()
}

/// Merge `new` (deduplicated by identity; any order) with the checkpoint at
/// `existing` (if any), writing the result to `out`. Only validated events
/// can reach a checkpoint.
pub fn merge_to_file(
    existing: Option<&Path>,
    new: &[Valid<VisitEvent>],
    out: &Path,
    location: &str,
) -> Result<MergeStats, CheckpointError> {
    let mut sorted: Vec<&VisitEvent> = new.iter().map(|e| &**e).collect();
    sorted.sort_by(|a, b| a.output_cmp(b));
    let new_batch = events_to_batch(&sorted, location)?;
    match merge_streaming(existing, &new_batch, out, location, false)? {
        Some(stats) => Ok(stats),
        None => {
            // Out of order: sort the existing rows in memory, then merge.
            let Some(path) = existing else {
                return Err(read_err(
                    location,
                    "rows out of order without an existing file",
                ));
            };
            let all = read_all_sorted(path, location)?;
            let tmp = tempfile::Builder::new()
                .prefix(".eventlog-sorted-")
                .suffix(".parquet")
                .tempfile_in(out.parent().unwrap_or(Path::new(".")))
                .map_err(|e| write_err(location, e))?;
            write_batches(tmp.path(), &[all], location)?;
            merge_streaming(Some(tmp.path()), &new_batch, out, location, true)?.ok_or_else(|| {
                CheckpointError::Unreadable {
                    location: location.into(),
                    message: "rows still out of order after sorting".into(),
                }
            })
        }
    }
}

fn write_err(location: &str, e: impl std::fmt::Display) -> CheckpointError {
    CheckpointError::Write {
        location: location.to_string(),
        message: e.to_string(),
    }
}

fn read_err(location: &str, e: impl std::fmt::Display) -> CheckpointError {
    CheckpointError::Unreadable {
        location: location.to_string(),
        message: e.to_string(),
    }
}

fn open_reader(
    path: &Path,
    location: &str,
) -> Result<parquet::arrow::arrow_reader::ParquetRecordBatchReader, CheckpointError> {
    let file = File::open(path).map_err(|e| read_err(location, e))?;
    eventlog_formats::checked_builder(file, None)
        .map_err(|e| read_err(location, e))?
        .with_batch_size(READ_BATCH)
        .build()
        .map_err(|e| read_err(location, e))
}

fn read_all_sorted(path: &Path, location: &str) -> Result<RecordBatch, CheckpointError> {
    let mut batches = Vec::new();
    for b in open_reader(path, location)? {
        batches.push(normalize_batch(
            &b.map_err(|e| read_err(location, e))?,
            location,
        )?);
    }
    let all = arrow_select::concat::concat_batches(&checkpoint::schema(), &batches)
        .map_err(|e| read_err(location, e))?;
    let by = [
        "timestamp",
        "ptid",
        "action",
        "visit_date",
        "datatype",
        "module",
        "pipeline_adcid",
    ];
    let columns: Vec<arrow_ord::sort::SortColumn> = by
        .iter()
        .map(|name| arrow_ord::sort::SortColumn {
            values: all.column_by_name(name).expect("canonical").clone(),
            options: Some(arrow_schema::SortOptions {
                descending: false,
                nulls_first: true,
            }),
        })
        .collect();
    let indices =
        arrow_ord::sort::lexsort_to_indices(&columns, None).map_err(|e| read_err(location, e))?;
    arrow_select::take::take_record_batch(&all, &indices).map_err(|e| read_err(location, e))
}

fn write_batches(
    path: &Path,
    batches: &[RecordBatch],
    location: &str,
) -> Result<(), CheckpointError> {
    let file = File::create(path).map_err(|e| write_err(location, e))?;
    let mut w = checkpoint::writer(file, location)?;
    for b in batches {
        w.write(b).map_err(|e| write_err(location, e))?;
    }
    w.close().map_err(|e| write_err(location, e))?;
    Ok(())
}

/// `Ok(None)` when the existing rows turn out not to be in order.
fn merge_streaming(
    existing: Option<&Path>,
    new_batch: &RecordBatch,
    out: &Path,
    location: &str,
    sorted_existing: bool,
) -> Result<Option<MergeStats>, CheckpointError> {
    let new_rows = Rows::new(new_batch);
    let mut index: HashMap<u64, Vec<usize>> = HashMap::with_capacity(new_rows.len());
    for j in 0..new_rows.len() {
        index
            .entry(identity_hash(&new_rows.sort_key(j)))
            .or_default()
            .push(j);
    }
    let mut matched = vec![false; new_rows.len()];
    let mut stats = MergeStats {
        sorted_existing,
        ..MergeStats::default()
    };

    let file = File::create(out).map_err(|e| write_err(location, e))?;
    let mut writer = checkpoint::writer(file, location)?;
    let mut next_new = 0usize;
    let mut last_prefix: Option<(Option<i64>, Option<String>, Option<String>)> = None;

    if let Some(path) = existing {
        for batch in open_reader(path, location)? {
            let batch = normalize_batch(&batch.map_err(|e| read_err(location, e))?, location)?;
            let old = Rows::new(&batch);
            stats.rows_before += old.len() as u64;
            // (source, row): 0 = new_batch, 1 = this batch.
            let mut picks: Vec<(usize, usize)> = Vec::with_capacity(old.len() + 16);
            for i in 0..old.len() {
                let key = old.sort_key(i);
                let prefix = key.prefix();
                if let Some(last) = &last_prefix
                    && (prefix.0, prefix.1, prefix.2)
                        < (last.0, last.1.as_deref(), last.2.as_deref())
                {
                    return Ok(None);
                }
                last_prefix = Some((
                    prefix.0,
                    prefix.1.map(str::to_string),
                    prefix.2.map(str::to_string),
                ));
                while next_new < new_rows.len() && new_rows.sort_key(next_new) < key {
                    picks.push((0, next_new));
                    next_new += 1;
                }
                let same = index
                    .get(&identity_hash(&key))
                    .and_then(|cands| cands.iter().copied().find(|&j| new_rows.sort_key(j) == key));
                match same {
                    Some(j) => {
                        if !matched[j] && old.same_content(i, &new_rows, j) {
                            stats.unchanged += 1;
                        } else {
                            stats.replaced += 1;
                        }
                        matched[j] = true;
                    }
                    None => picks.push((1, i)),
                }
            }
            flush(&mut writer, new_batch, &batch, &picks, location)?;
        }
    }
    let rest: Vec<(usize, usize)> = (next_new..new_rows.len()).map(|j| (0, j)).collect();
    flush(&mut writer, new_batch, new_batch, &rest, location)?;
    writer.close().map_err(|e| write_err(location, e))?;

    let new_count = new_rows.len() as u64;
    stats.added = matched.iter().filter(|m| !**m).count() as u64;
    // Rows kept from the file, plus every new event.
    stats.rows_after = stats.rows_before - stats.unchanged - stats.replaced + new_count;
    // A new event identical to an existing row does not count as replacing it.
    Ok(Some(stats))
}

fn flush(
    writer: &mut parquet::arrow::ArrowWriter<File>,
    new_batch: &RecordBatch,
    old_batch: &RecordBatch,
    picks: &[(usize, usize)],
    location: &str,
) -> Result<(), CheckpointError> {
    if picks.is_empty() {
        return Ok(());
    }
    let sources = [new_batch, old_batch];
    let out = if picks.iter().all(|(s, _)| *s == 1) {
        let idx = UInt32Array::from_iter_values(picks.iter().map(|(_, r)| *r as u32));
        arrow_select::take::take_record_batch(old_batch, &idx)
            .map_err(|e| write_err(location, e))?
    } else {
        let columns: Result<Vec<ArrayRef>, _> = (0..new_batch.num_columns())
            .map(|c| {
                let arrays: Vec<&dyn arrow_array::Array> =
                    sources.iter().map(|b| b.column(c).as_ref()).collect();
                arrow_select::interleave::interleave(&arrays, picks)
            })
            .collect();
        RecordBatch::try_new(
            checkpoint::schema(),
            columns.map_err(|e| write_err(location, e))?,
        )
        .map_err(|e| write_err(location, e))?
    };
    writer.write(&out).map_err(|e| write_err(location, e))
}

/// Read every row of a checkpoint as events (tests, tools). Rows that do
/// not form a valid event are skipped.
pub fn read_events(path: &Path) -> Result<Vec<RecordBatch>, CheckpointError> {
    let location = path.display().to_string();
    let mut out = Vec::new();
    for b in open_reader(path, &location)? {
        out.push(normalize_batch(
            &b.map_err(|e| read_err(&location, e))?,
            &location,
        )?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use eventlog_core::visit::validate;

    fn event(ptid: &str, ts: &str, packet: &str) -> Valid<VisitEvent> {
        let body = format!(
            r#"{{"action":"submit","project_label":"ingest-form","center_label":"a","gear_name":"g","datatype":"form","module":"UDS","packet":"{packet}","timestamp":"{ts}","visit_date":"2024-01-01","pipeline_adcid":1,"ptid":"{ptid}"}}"#
        );
        validate(body.as_bytes()).event.unwrap()
    }

    fn rows_of(path: &Path) -> Vec<(String, i64, String)> {
        let mut v = Vec::new();
        for b in read_events(path).unwrap() {
            let r = Rows::new(&b);
            for i in 0..r.len() {
                v.push((
                    r.str(checkpoint::Col::Ptid, i).unwrap().to_string(),
                    r.ts(i).unwrap(),
                    r.str(checkpoint::Col::Packet, i).unwrap().to_string(),
                ));
            }
        }
        v
    }

    #[test]
    fn merge_adds_replaces_and_keeps_order() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("a.parquet");
        let s1 = merge_to_file(
            None,
            &[
                event("2", "2024-01-02T00:00:00Z", "I"),
                event("1", "2024-01-01T00:00:00Z", "I"),
            ],
            &first,
            "a",
        )
        .unwrap();
        assert_eq!((s1.rows_before, s1.rows_after, s1.added), (0, 2, 2));
        let second = dir.path().join("b.parquet");
        let new = [
            event("1", "2024-01-01T00:00:00Z", "I"), // re-delivery
            event("2", "2024-01-02T00:00:00Z", "F"), // correction
            event("0", "2023-12-31T00:00:00Z", "I"), // backfill, sorts first
        ];
        let s2 = merge_to_file(Some(&first), &new, &second, "b").unwrap();
        assert_eq!(
            (
                s2.rows_before,
                s2.rows_after,
                s2.added,
                s2.replaced,
                s2.unchanged
            ),
            (2, 3, 1, 1, 1)
        );
        let rows = rows_of(&second);
        assert_eq!(
            rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
            ["0", "1", "2"]
        );
        assert_eq!(rows[2].2, "F");
        let third = dir.path().join("c.parquet");
        let s3 = merge_to_file(
            Some(&second),
            &[event("1", "2024-01-01T00:00:00Z", "I")],
            &third,
            "c",
        )
        .unwrap();
        assert!(!s3.changed());
    }

    #[test]
    fn unsorted_existing_files_are_sorted_once() {
        let dir = tempfile::tempdir().unwrap();
        let unsorted = dir.path().join("u.parquet");
        let (a, b) = (
            event("9", "2024-01-09T00:00:00Z", "I"),
            event("1", "2024-01-01T00:00:00Z", "I"),
        );
        write_batches(
            &unsorted,
            &[events_to_batch(&[&*a, &*b], "u").unwrap()],
            "u",
        )
        .unwrap();
        let out = dir.path().join("o.parquet");
        let s = merge_to_file(
            Some(&unsorted),
            &[event("5", "2024-01-05T00:00:00Z", "I")],
            &out,
            "o",
        )
        .unwrap();
        assert!(s.sorted_existing);
        assert_eq!(
            rows_of(&out)
                .iter()
                .map(|r| r.0.as_str())
                .collect::<Vec<_>>(),
            ["1", "5", "9"]
        );
    }
}
