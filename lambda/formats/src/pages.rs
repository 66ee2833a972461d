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
//! The crate keeps its header reader private. So each header is read here
//! first, the way the crate reads it ([`crate::thrift`]), and only then
//! does the crate's own walk read it, the one whose reading it later
//! trusts; a wrapper around the file notes where the crate's walk takes
//! each header to start, and a header it takes to start anywhere else
//! than this reading says is refused: the two readings must be of the
//! same bytes.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use parquet::basic::{Compression, Type as Physical};
use parquet::column::page::PageReader;
use parquet::file::metadata::ColumnChunkMetaData;
use parquet::file::reader::{ChunkReader, Length};
use parquet::file::serialized_reader::SerializedPageReader;

use crate::thrift;

/// The most bytes one compressed byte can become in a codec the crate
/// reads (zstd's run-length blocks reach about 32 768; snappy and LZ4 far
/// less). A header that declares more is damaged.
const MAX_RATIO: u64 = 1 << 16;

/// `PageType::DICTIONARY_PAGE` in the Thrift definition.
const DICTIONARY_PAGE: i32 = 2;

/// A file that notes where the last read began: the crate's page reader
/// opens a read exactly where it takes each page header to start.
struct Noted<'a, R> {
    inner: &'a R,
    last: AtomicU64,
}

impl<R: ChunkReader> Length for Noted<'_, R> {
    fn len(&self) -> u64 {
        self.inner.len()
    }
}

impl<R: ChunkReader> ChunkReader for Noted<'_, R> {
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
/// No header of a sound file reaches the end, so here that is an error: a
/// second guard, as each header is read here first and such a list is
/// refused then.
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
    reader: &R,
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
        inner: reader,
        last: AtomicU64::new(0),
    });
    let mut pages =
        SerializedPageReader::new(noted.clone(), column, rows, None).map_err(|e| e.to_string())?;
    let mut offset = start;
    while offset < end {
        let page = declared(reader, offset, end).map_err(at)?;
        check_page(&page, column).map_err(at)?;
        if pages.peek_next_page().map_err(|e| e.to_string())?.is_none()
            || noted.last.load(Ordering::Relaxed) != offset
        {
            return Err(at(format!(
                "the page header at byte {offset} is not where the reader finds one"
            )));
        }
        pages.skip_next_page().map_err(|e| e.to_string())?;
        offset += page.header_len + page.compressed;
    }
    if pages.peek_next_page().map_err(|e| e.to_string())?.is_some() {
        return Err(at(
            "the reader finds a page past the column chunk's end".into()
        ));
    }
    Ok(())
}

/// The header at `start`, read as the crate reads it.
fn declared<R: ChunkReader>(reader: &R, start: u64, end: u64) -> Result<Declared, String> {
    let input = reader.get_read(start).map_err(|e| e.to_string())?;
    let (header_len, values) = thrift::read(input, end - start, thrift::PAGE_HEADER)
        .map_err(|e| format!("the page header at byte {start}: {e}"))?;
    // A later field of the same id replaces an earlier one, as in the crate.
    let last = |path: &[i16]| {
        values
            .iter()
            .rev()
            .find(|(p, _)| p == path)
            .map(|(_, v)| *v)
    };
    let (Some(kind), Some(Ok(uncompressed)), Some(Ok(compressed))) = (
        last(&[1]),
        last(&[2]).map(u64::try_from),
        last(&[3]).map(u64::try_from),
    ) else {
        return Err(format!(
            "the page header at byte {start} lacks its type or sizes, or holds a negative size"
        ));
    };
    // The crate takes a data page's own header for granted (a panic
    // without it), and reads an index page's body as the next header.
    let has = |id: i16| values.iter().any(|(p, _)| p.first() == Some(&id));
    match kind {
        0 if has(5) => {}
        3 if has(8) => {}
        2 => {}
        other => {
            return Err(format!(
                "the page header at byte {start}: a page of type {other} without its own header"
            ));
        }
    }
    if compressed > end - start - header_len {
        return Err(format!(
            "the page at byte {start}: {compressed} bytes run past its column chunk"
        ));
    }
    Ok(Declared {
        header_len,
        kind,
        uncompressed,
        compressed,
        dictionary_values: last(&[7, 1]),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn header(bytes: &[u8]) -> Result<(u64, thrift::I32s), String> {
        thrift::read(bytes, bytes.len() as u64, thrift::PAGE_HEADER)
    }

    #[test]
    fn a_dictionary_page_header_gives_its_sizes_and_count() {
        // type 2, uncompressed 100, compressed 40, a CRC,
        // dictionary header { num_values 7, encoding 0 }, a bool field 9.
        let bytes = [
            0x15, 0x04, 0x15, 0xc8, 0x01, 0x15, 0x50, 0x15, 0x02, 0x3c, 0x15, 0x0e, 0x15, 0x00,
            0x00, 0x21, 0x00,
        ];
        let (read, values) = header(&bytes).unwrap();
        assert_eq!(read, bytes.len() as u64);
        let want: Vec<(Vec<i16>, i32)> = vec![
            (vec![1], 2),
            (vec![2], 100),
            (vec![3], 40),
            (vec![4], 1),
            (vec![7, 1], 7),
            (vec![7, 2], 0),
        ];
        assert_eq!(values, want);
    }

    #[test]
    fn a_header_cut_short_mistyped_or_with_an_impossible_list_is_an_error() {
        assert!(header(&[0x15, 0x04, 0x15]).is_err());
        // Field 2 (a size) stated as a string.
        let e = header(&[0x15, 0x04, 0x18, 0x02, 0x41, 0x41, 0x00]).unwrap_err();
        assert!(e.contains("not of its declared type"), "{e}");
        // An unknown field 9 (id 100, long form): a list of 2^31 - 1
        // booleans in 8 bytes. The crate loops over every one.
        let e = header(&[0x09, 0xc8, 0x01, 0xf1, 0xff, 0xff, 0xff, 0xff, 0x07, 0x00]).unwrap_err();
        assert!(e.contains("declares 2147483647 elements"), "{e}");
        // Structs nested deeper than the crate skips.
        let deep = [0x9c; 200];
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
        crate::check_pages(&bytes, &meta, None).unwrap();
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
