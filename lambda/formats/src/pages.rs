//! The page sizes a parquet file declares, read from its page headers
//! without decompressing a page.
//!
//! The parquet crate trusts two numbers in a page header before it reads
//! the page: the dictionary's value count (it sizes the dictionary from
//! it: a damaged count of two billion in a 3 KB file took 8 GB) and the
//! uncompressed size (it zero-fills a buffer that large before
//! decompressing: up to 2 GB for an i32). Checking the first by
//! decompressing each dictionary page cost a zero-filled buffer of the
//! declared size per page, so a fuzzed file of a few KB took a second of
//! memset for pages the reader itself never reached. Reading the header
//! answers both questions for the cost of its few bytes.
//!
//! The crate keeps its header reader private. So the crate walks the
//! pages (its own reading of each header, which it later trusts), a
//! wrapper around the file notes where each header starts, and the part
//! of Thrift's compact protocol a header needs is read here the way the
//! crate reads it (fields by id, integers truncated, varints unbounded).
//! A header read here to a different length than the crate's walk
//! implies is refused: the two readings must be of the same bytes.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use parquet::basic::{Compression, Type as Physical};
use parquet::column::page::PageReader;
use parquet::file::metadata::ColumnChunkMetaData;
use parquet::file::reader::{ChunkReader, Length};
use parquet::file::serialized_reader::SerializedPageReader;

/// The most bytes one compressed byte can become in a codec the crate
/// reads (zstd's run-length blocks reach about 32 768; snappy and LZ4 far
/// less). A header that declares more is damaged.
const MAX_RATIO: u64 = 1 << 16;

/// The crate's own bound on nesting when it skips a value.
const MAX_DEPTH: u32 = 64;

/// `PageType::DICTIONARY_PAGE` in the Thrift definition.
const DICTIONARY_PAGE: i32 = 2;

/// What the check needs from one page header.
#[derive(Debug, Default, PartialEq)]
struct Header {
    kind: Option<i32>,
    uncompressed: Option<i32>,
    compressed: Option<i32>,
    dictionary_values: Option<i32>,
}

/// A file that notes where the last read began: the crate's page reader
/// opens a read exactly where it takes each page header to start.
struct Noted<R> {
    inner: Arc<R>,
    last: AtomicU64,
}

impl<R: ChunkReader> Length for Noted<R> {
    fn len(&self) -> u64 {
        self.inner.len()
    }
}

impl<R: ChunkReader> ChunkReader for Noted<R> {
    type T = EndIsError<R::T>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        self.last.store(start, Ordering::Relaxed);
        self.inner.get_read(start).map(EndIsError)
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        self.inner.get_bytes(start, length)
    }
}

/// A read that fails at the end of the file, where a plain one returns
/// nothing. The crate skips a header's bytes with `io::copy` and does not
/// look at how many it skipped, so at the end of a damaged file a list of
/// a billion doubles is a billion empty copies (each zero-filling an 8 KB
/// buffer: seconds for a 10 KB file, found by fuzzing `ledger_decode`).
/// No header of a sound file reaches the end, so here that is an error,
/// and the check stops at the first such list, before the reader meets it.
struct EndIsError<T>(T);

impl<T: Read> Read for EndIsError<T> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.0.read(buf)? {
            0 if !buf.is_empty() => Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => Ok(n),
        }
    }
}

/// A page as its header declares it.
struct Declared {
    start: u64,
    header_len: u64,
    kind: i32,
    uncompressed: u64,
    compressed: u64,
    dictionary_values: Option<i32>,
}

/// Every page of one column chunk declares sizes its bytes can hold: no
/// page more uncompressed bytes than [`MAX_RATIO`] times its compressed
/// ones, no dictionary page more values than its uncompressed bytes hold.
pub(crate) fn check_column<R: ChunkReader>(
    reader: &Arc<R>,
    column: &ColumnChunkMetaData,
    rows: usize,
) -> Result<(), String> {
    let at = |what: String| format!("column `{}`: {what}", column.column_path());
    let start = column
        .dictionary_page_offset()
        .unwrap_or_else(|| column.data_page_offset());
    let (Ok(start), Ok(len)) = (
        u64::try_from(start),
        u64::try_from(column.compressed_size()),
    ) else {
        return Err(at("a negative offset or length".into()));
    };
    let end = start.saturating_add(len);
    let noted = Arc::new(Noted {
        inner: reader.clone(),
        last: AtomicU64::new(0),
    });
    let mut pages =
        SerializedPageReader::new(noted.clone(), column, rows, None).map_err(|e| e.to_string())?;
    let mut pending: Option<Declared> = None;
    loop {
        let next = pages.peek_next_page().map_err(|e| e.to_string())?;
        let next_start = next.as_ref().map(|_| noted.last.load(Ordering::Relaxed));
        if let Some(page) = pending.take() {
            let page_end = next_start.unwrap_or(end);
            if page.start + page.header_len + page.compressed != page_end {
                return Err(at(format!(
                    "the page header at byte {} does not span its page",
                    page.start
                )));
            }
        }
        let Some(start) = next_start else {
            return Ok(());
        };
        let page = declared(&**reader, start, end).map_err(at)?;
        check_page(&page, column).map_err(at)?;
        pending = Some(page);
        pages.skip_next_page().map_err(|e| e.to_string())?;
    }
}

/// The header at `start`, read as the crate reads it.
fn declared<R: ChunkReader>(reader: &R, start: u64, end: u64) -> Result<Declared, String> {
    let mut compact = Compact {
        input: reader.get_read(start).map_err(|e| e.to_string())?,
        read: 0,
        limit: end.saturating_sub(start),
    };
    let header = compact
        .header()
        .map_err(|e| format!("the page header at byte {start}: {e}"))?;
    let (Some(kind), Some(Ok(uncompressed)), Some(Ok(compressed))) = (
        header.kind,
        header.uncompressed.map(u64::try_from),
        header.compressed.map(u64::try_from),
    ) else {
        return Err(format!(
            "the page header at byte {start} lacks its type or sizes, or holds a negative size"
        ));
    };
    Ok(Declared {
        start,
        header_len: compact.read,
        kind,
        uncompressed,
        compressed,
        dictionary_values: header.dictionary_values,
    })
}

fn check_page(page: &Declared, column: &ColumnChunkMetaData) -> Result<(), String> {
    let compressed_codec = column.compression() != Compression::UNCOMPRESSED;
    let (uncompressed, compressed) = (page.uncompressed, page.compressed);
    if compressed_codec && uncompressed > compressed.saturating_mul(MAX_RATIO) {
        return Err(format!(
            "a page declares {uncompressed} bytes uncompressed from {compressed}"
        ));
    }
    if page.kind != DICTIONARY_PAGE {
        return Ok(());
    }
    let values = page
        .dictionary_values
        .and_then(|n| u64::try_from(n).ok())
        .ok_or("a dictionary page without its value count")?;
    let bits: u64 = match column.column_type() {
        Physical::BOOLEAN => 1,
        Physical::INT32 | Physical::FLOAT | Physical::BYTE_ARRAY => 32,
        Physical::INT64 | Physical::DOUBLE => 64,
        Physical::INT96 => 96,
        Physical::FIXED_LEN_BYTE_ARRAY => 8,
    };
    // Uncompressed pages are used as stored, whatever the header says.
    let bytes = if compressed_codec {
        uncompressed
    } else {
        compressed
    };
    if values * bits > bytes * 8 {
        return Err(format!(
            "a dictionary page declares {values} values in {bytes} bytes"
        ));
    }
    Ok(())
}

/// Thrift's compact protocol over a reader, never past `limit` bytes.
struct Compact<R> {
    input: R,
    read: u64,
    limit: u64,
}

impl<R: Read> Compact<R> {
    fn byte(&mut self) -> Result<u8, String> {
        let mut one = [0u8];
        self.take(1)?;
        self.input.read_exact(&mut one).map_err(|e| e.to_string())?;
        Ok(one[0])
    }

    /// Counts `n` bytes against the limit before they are read.
    fn take(&mut self, n: u64) -> Result<(), String> {
        if n > self.limit - self.read {
            return Err("it runs past its column chunk".into());
        }
        self.read += n;
        Ok(())
    }

    fn skip(&mut self, n: u64) -> Result<(), String> {
        self.take(n)?;
        let skipped = std::io::copy(&mut (&mut self.input).take(n), &mut std::io::sink())
            .map_err(|e| e.to_string())?;
        if skipped == n {
            Ok(())
        } else {
            Err("it runs past the end of the file".into())
        }
    }

    /// As the crate reads one: any length, bits past 64 wrapping.
    fn varint(&mut self) -> Result<u64, String> {
        let (mut value, mut shift) = (0u64, 0u32);
        loop {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f).wrapping_shl(shift);
            if b & 0x80 == 0 {
                return Ok(value);
            }
            shift = shift.wrapping_add(7);
        }
    }

    fn signed(&mut self) -> Result<i64, String> {
        let v = self.varint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    /// Truncated, as the crate reads an i32.
    fn i32(&mut self) -> Result<i32, String> {
        Ok(self.signed()? as i32)
    }

    /// The fields of a struct, each handed to `field` with its id and
    /// type; `field` returns false for a field it did not read, which is
    /// then skipped by its type.
    fn fields(
        &mut self,
        depth: u32,
        mut field: impl FnMut(&mut Self, i16, u8) -> Result<bool, String>,
    ) -> Result<(), String> {
        if depth >= MAX_DEPTH {
            return Err("nested too deep".into());
        }
        let mut last: i16 = 0;
        loop {
            let b = self.byte()?;
            let (delta, kind) = (b >> 4, b & 0x0f);
            if kind == 0 {
                return Ok(());
            }
            let id = if delta == 0 {
                self.signed()? as i16
            } else {
                last.checked_add(i16::from(delta))
                    .ok_or("a field id out of range")?
            };
            if !field(self, id, kind)? {
                self.skip_value(kind, depth + 1)?;
            }
            last = id;
        }
    }

    /// Skips one value of compact type `kind` as the crate skips it
    /// (booleans take no byte, in a list too).
    fn skip_value(&mut self, kind: u8, depth: u32) -> Result<(), String> {
        if depth >= MAX_DEPTH {
            return Err("nested too deep".into());
        }
        match kind {
            1 | 2 => Ok(()),
            3 => self.skip(1),
            4..=6 => self.varint().map(drop),
            7 => self.skip(8),
            8 => {
                let n = self.varint()?;
                self.skip(n)
            }
            9 | 10 => {
                let b = self.byte()?;
                if b == 0 {
                    return Ok(());
                }
                let element = element(b & 0x0f)?;
                let n = match b >> 4 {
                    15 => i32::try_from(self.varint()?).map_err(|_| "a list too long")?,
                    n => i32::from(n),
                };
                self.skip_elements(n, &[element], depth)
            }
            11 => {
                let n = i32::try_from(self.varint()?).map_err(|_| "a map too long")?;
                if n <= 0 {
                    return Ok(());
                }
                let b = self.byte()?;
                self.skip_elements(n, &[element(b >> 4)?, element(b & 0x0f)?], depth)
            }
            12 => self.fields(depth, |_, _, _| Ok(false)),
            13 => self.skip(16),
            other => Err(format!("an unknown value type {other}")),
        }
    }

    fn skip_elements(&mut self, n: i32, kinds: &[u8], depth: u32) -> Result<(), String> {
        // Booleans take no byte here (as in the crate's skip), so a list of
        // them is skipped whole; every other element takes at least a byte,
        // so a long count fails at the limit.
        if kinds.iter().all(|&k| k == 1) {
            return Ok(());
        }
        for _ in 0..n {
            for &kind in kinds {
                self.skip_value(kind, depth + 1)?;
            }
        }
        Ok(())
    }

    /// A `PageHeader`, field by field as the crate reads one: type (1),
    /// uncompressed (2) and compressed (3) sizes, the CRC (4), the data
    /// page, index page and v2 headers (5, 6, 8: structs, whatever the
    /// field's type says) and the dictionary page header's value count
    /// (7.1); a later field of the same id replaces an earlier one.
    fn header(&mut self) -> Result<Header, String> {
        let mut header = Header::default();
        self.fields(0, |c, id, _| {
            match id {
                1 => header.kind = Some(c.i32()?),
                2 => header.uncompressed = Some(c.i32()?),
                3 => header.compressed = Some(c.i32()?),
                4 => c.i32().map(drop)?,
                5 | 6 | 8 => c.fields(1, |_, _, _| Ok(false))?,
                7 => {
                    let mut values = None;
                    c.fields(1, |c, id, _| {
                        if id != 1 {
                            return Ok(false);
                        }
                        values = Some(c.i32()?);
                        Ok(true)
                    })?;
                    header.dictionary_values = values;
                }
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(header)
    }
}

/// A list element's compact type, with booleans as 1 whichever of the
/// two codes the writer used.
fn element(code: u8) -> Result<u8, String> {
    match code {
        1 | 2 => Ok(1),
        3..=13 => Ok(code),
        other => Err(format!("an unknown element type {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(bytes: &[u8]) -> Result<(Header, u64), String> {
        let mut c = Compact {
            input: bytes,
            read: 0,
            limit: bytes.len() as u64,
        };
        let h = c.header()?;
        Ok((h, c.read))
    }

    #[test]
    fn a_dictionary_page_header_gives_its_sizes_and_count() {
        // type 2, uncompressed 100, compressed 40, a CRC,
        // dictionary header { num_values 7, encoding 0 }, a bool field 9.
        let bytes = [
            0x15, 0x04, 0x15, 0xc8, 0x01, 0x15, 0x50, 0x15, 0x02, 0x3c, 0x15, 0x0e, 0x15, 0x00,
            0x00, 0x21, 0x00,
        ];
        let (h, read) = header(&bytes).unwrap();
        assert_eq!(
            h,
            Header {
                kind: Some(2),
                uncompressed: Some(100),
                compressed: Some(40),
                dictionary_values: Some(7),
            }
        );
        assert_eq!(read, bytes.len() as u64);
    }

    #[test]
    fn a_header_cut_short_or_nested_without_end_is_an_error() {
        assert!(header(&[0x15, 0x04, 0x15]).is_err());
        // A list of 2^32 structs announced in four bytes.
        assert!(header(&[0x19, 0xfc, 0x80, 0x80, 0x80, 0x80, 0x10]).is_err());
        // Structs nested deeper than the crate skips.
        let deep = [0x1c; 200];
        let e = header(&deep).unwrap_err();
        assert!(e.contains("too deep") || e.contains("past"), "{e}");
    }

    /// A zstd file with a dictionary column, as the crate writes one.
    fn written() -> (Bytes, parquet::file::metadata::ParquetMetaData) {
        use arrow_array::{ArrayRef, RecordBatch, StringArray};
        use parquet::arrow::ArrowWriter;
        use parquet::file::properties::WriterProperties;
        let names: Vec<String> = (0..1000).map(|i| format!("study-{}", i % 7)).collect();
        let column: ArrayRef = Arc::new(StringArray::from(names));
        let batch = RecordBatch::try_from_iter([("study", column)]).unwrap();
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(Default::default()))
            .build();
        let mut out = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), Some(props)).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        let bytes = Bytes::from(out);
        let meta = parquet::file::metadata::ParquetMetaDataReader::new()
            .parse_and_finish(&bytes)
            .unwrap();
        (bytes, meta)
    }

    #[test]
    fn a_written_file_passes_and_its_dictionary_header_reads_as_written() {
        let (bytes, meta) = written();
        crate::check_pages(bytes.clone(), &meta, None).unwrap();
        let column = meta.row_group(0).column(0);
        let (start, len) = column.byte_range();
        let page = declared(&bytes, start, start + len).unwrap();
        assert_eq!(page.kind, DICTIONARY_PAGE);
        assert_eq!(page.dictionary_values, Some(7));
        assert!(page.compressed > 0 && page.uncompressed >= 7 * 4);
        check_page(&page, column).unwrap();

        let inflated = Declared {
            uncompressed: page.compressed * MAX_RATIO + 1,
            ..page
        };
        let e = check_page(&inflated, column).unwrap_err();
        assert!(e.contains("bytes uncompressed from"), "{e}");
        let crowded = Declared {
            dictionary_values: Some(i32::MAX),
            ..declared(&bytes, start, start + len).unwrap()
        };
        let e = check_page(&crowded, column).unwrap_err();
        assert!(
            e.contains("a dictionary page declares 2147483647 values"),
            "{e}"
        );
    }
}
