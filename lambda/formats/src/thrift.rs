//! Thrift's compact protocol, read the way the parquet crate reads it, to
//! check what the crate would trust before it reads it.
//!
//! The crate reads a known field by the type the format declares for it,
//! whatever type the field's header states, and skips an unknown field by
//! the stated type, counting a list's booleans as no bytes at all. So a
//! 7-byte unknown field declaring a list of two billion booleans costs it
//! seconds of an empty loop, and a few KB of them in a footer or a page
//! header, hours (found by fuzzing `ledger_decode`). Here every known
//! field must state its declared type (a sound file's always does), which
//! keeps this reading byte for byte in step with the crate's, and no
//! collection may declare more elements than bytes remain (a sound file's
//! elements take a byte each at least), which bounds every loop by the
//! input's length.

use std::io::Read;

/// A field's declared type.
pub(crate) enum Ty {
    Bool,
    Byte,
    I32,
    I64,
    I16,
    Double,
    Binary,
    List(&'static Ty),
    Struct(&'static [(i16, Ty)]),
}

impl Ty {
    /// Whether a field header's type code states this type (a set is
    /// read as a list).
    fn stated_by(&self, code: u8) -> bool {
        let code = if code == 10 { 9 } else { code };
        element(code).is_ok_and(|c| c == self.element_code())
    }

    /// A list element's type code (booleans as 1).
    fn element_code(&self) -> u8 {
        match self {
            Ty::Bool => 1,
            Ty::Byte => 3,
            Ty::I16 => 4,
            Ty::I32 => 5,
            Ty::I64 => 6,
            Ty::Double => 7,
            Ty::Binary => 8,
            Ty::List(_) => 9,
            Ty::Struct(_) => 12,
        }
    }
}

/// The crate's own bound on nesting when it skips a value; declared
/// structures nest far less.
const MAX_DEPTH: u32 = 64;

/// The reader, never past `limit` bytes; `read` counts what it took.
struct Compact<R> {
    input: R,
    read: u64,
    limit: u64,
}

impl<R: Read> Compact<R> {
    fn new(input: R, limit: u64) -> Self {
        Compact {
            input,
            read: 0,
            limit,
        }
    }

    fn left(&self) -> u64 {
        self.limit - self.read
    }

    fn byte(&mut self) -> Result<u8, String> {
        let mut one = [0u8];
        self.take(1)?;
        self.input.read_exact(&mut one).map_err(|e| e.to_string())?;
        Ok(one[0])
    }

    /// Counts `n` bytes against the limit before they are read.
    fn take(&mut self, n: u64) -> Result<(), String> {
        if n > self.left() {
            return Err("it runs past its end".into());
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

    /// A collection's element count, refused when the elements could not
    /// take a byte each of what is left.
    fn count(&mut self, n: u64) -> Result<u64, String> {
        if n > self.left() {
            return Err(format!(
                "a collection declares {n} elements in {} bytes",
                self.left()
            ));
        }
        Ok(n)
    }

    /// A list header as the crate reads one: `(element code, count)`; a
    /// zero byte is an empty list, as some writers put it.
    fn list_header(&mut self) -> Result<(u8, u64), String> {
        let b = self.byte()?;
        if b == 0 {
            return Ok((3, 0));
        }
        let element = element(b & 0x0f)?;
        let n = match b >> 4 {
            15 => u64::try_from(i32::try_from(self.varint()?).map_err(|_| "a list too long")?)
                .map_err(|_| "a list of negative length")?,
            n => u64::from(n),
        };
        Ok((element, self.count(n)?))
    }

    /// A struct of declared `fields`; `on_i32` sees every declared i32 read
    /// with its path of field ids.
    fn structure(
        &mut self,
        fields: &[(i16, Ty)],
        depth: u32,
        path: &mut Vec<i16>,
        on_i32: &mut dyn FnMut(&[i16], i32),
    ) -> Result<(), String> {
        if depth >= MAX_DEPTH {
            return Err("nested too deep".into());
        }
        let mut last: i16 = 0;
        loop {
            let b = self.byte()?;
            let (delta, code) = (b >> 4, b & 0x0f);
            if code == 0 {
                return Ok(());
            }
            let id = if delta == 0 {
                self.signed()? as i16
            } else {
                last.checked_add(i16::from(delta))
                    .ok_or("a field id out of range")?
            };
            match fields.iter().find(|(f, _)| *f == id) {
                Some((_, ty)) if !ty.stated_by(code) => {
                    return Err(format!("field {id} is not of its declared type"));
                }
                Some((_, Ty::Bool)) => {}
                Some((_, ty)) => {
                    path.push(id);
                    let r = self.value(ty, depth + 1, path, on_i32);
                    path.pop();
                    r?;
                }
                None => self.skip_value(code, depth + 1)?,
            }
            last = id;
        }
    }

    fn value(
        &mut self,
        ty: &Ty,
        depth: u32,
        path: &mut Vec<i16>,
        on_i32: &mut dyn FnMut(&[i16], i32),
    ) -> Result<(), String> {
        match ty {
            Ty::I32 => {
                let v = self.signed()? as i32;
                on_i32(path, v);
                Ok(())
            }
            Ty::Struct(fields) => self.structure(fields, depth, path, on_i32),
            Ty::List(element) => {
                let (code, n) = self.list_header()?;
                if n > 0 && code != element.element_code() {
                    return Err("a list of another element type than declared".into());
                }
                for _ in 0..n {
                    match element {
                        // In a list a boolean takes a byte.
                        Ty::Bool => self.skip(1)?,
                        _ => self.value(element, depth + 1, path, on_i32)?,
                    }
                }
                Ok(())
            }
            other => self.skip_value(other.element_code(), depth),
        }
    }

    /// Skips a value of stated type `code` as the crate skips one
    /// (booleans take no byte, in a list too), every collection's count
    /// bounded by the bytes left.
    fn skip_value(&mut self, code: u8, depth: u32) -> Result<(), String> {
        if depth >= MAX_DEPTH {
            return Err("nested too deep".into());
        }
        match code {
            1 | 2 => Ok(()),
            3 => self.skip(1),
            4..=6 => self.varint().map(drop),
            7 => self.skip(8),
            8 => {
                let n = self.varint()?;
                self.skip(n)
            }
            9 | 10 => {
                let (element, n) = self.list_header()?;
                self.skip_elements(n, &[element], depth)
            }
            11 => {
                let n = u64::try_from(i32::try_from(self.varint()?).map_err(|_| "a map too long")?)
                    .unwrap_or(0);
                if n == 0 {
                    return Ok(());
                }
                let b = self.byte()?;
                let n = self.count(n)?;
                self.skip_elements(n, &[element(b >> 4)?, element(b & 0x0f)?], depth)
            }
            12 => self.structure(&[], depth, &mut Vec::new(), &mut |_, _| {}),
            13 => self.skip(16),
            other => Err(format!("an unknown value type {other}")),
        }
    }

    fn skip_elements(&mut self, n: u64, codes: &[u8], depth: u32) -> Result<(), String> {
        // The count is bounded by the bytes left; booleans take none here
        // (as in the crate's skip), so a list of them is passed over whole.
        if codes.iter().all(|&k| k == 1) {
            return Ok(());
        }
        for _ in 0..n {
            for &code in codes {
                self.skip_value(code, depth + 1)?;
            }
        }
        Ok(())
    }
}

/// A list element's type code, booleans as 1 whichever of the two codes
/// the writer used.
fn element(code: u8) -> Result<u8, String> {
    match code {
        1 | 2 => Ok(1),
        3..=13 => Ok(code),
        other => Err(format!("an unknown element type {other}")),
    }
}

/// Every declared i32 read, with its path of field ids.
pub(crate) type I32s = Vec<(Vec<i16>, i32)>;

/// Reads the structure `fields` from `input` (at most `limit` bytes):
/// its length, and its i32s.
pub(crate) fn read<R: Read>(
    input: R,
    limit: u64,
    fields: &[(i16, Ty)],
) -> Result<(u64, I32s), String> {
    let mut c = Compact::new(input, limit);
    let mut seen = Vec::new();
    c.structure(fields, 0, &mut Vec::new(), &mut |path, v| {
        seen.push((path.to_vec(), v));
    })?;
    Ok((c.read, seen))
}

// The format's structures the crate reads (parquet.thrift), by field id.

const STATISTICS: Ty = Ty::Struct(&[
    (1, Ty::Binary),
    (2, Ty::Binary),
    (3, Ty::I64),
    (4, Ty::I64),
    (5, Ty::Binary),
    (6, Ty::Binary),
    (7, Ty::Bool),
    (8, Ty::Bool),
    (9, Ty::I64),
]);

const EMPTY: Ty = Ty::Struct(&[]);

/// `PageHeader` and the headers it holds.
pub(crate) const PAGE_HEADER: &[(i16, Ty)] = &[
    (1, Ty::I32),
    (2, Ty::I32),
    (3, Ty::I32),
    (4, Ty::I32),
    (
        5,
        Ty::Struct(&[
            (1, Ty::I32),
            (2, Ty::I32),
            (3, Ty::I32),
            (4, Ty::I32),
            (5, STATISTICS),
        ]),
    ),
    (6, EMPTY),
    (7, Ty::Struct(&[(1, Ty::I32), (2, Ty::I32), (3, Ty::Bool)])),
    (
        8,
        Ty::Struct(&[
            (1, Ty::I32),
            (2, Ty::I32),
            (3, Ty::I32),
            (4, Ty::I32),
            (5, Ty::I32),
            (6, Ty::I32),
            (7, Ty::Bool),
            (8, STATISTICS),
        ]),
    ),
];

const TIME_UNIT: Ty = Ty::Struct(&[(1, EMPTY), (2, EMPTY), (3, EMPTY)]);

const LOGICAL_TYPE: Ty = Ty::Struct(&[
    (1, EMPTY),
    (2, EMPTY),
    (3, EMPTY),
    (4, EMPTY),
    (5, Ty::Struct(&[(1, Ty::I32), (2, Ty::I32)])),
    (6, EMPTY),
    (7, Ty::Struct(&[(1, Ty::Bool), (2, TIME_UNIT)])),
    (8, Ty::Struct(&[(1, Ty::Bool), (2, TIME_UNIT)])),
    (10, Ty::Struct(&[(1, Ty::Byte), (2, Ty::Bool)])),
    (11, EMPTY),
    (12, EMPTY),
    (13, EMPTY),
    (14, EMPTY),
    (15, EMPTY),
    (16, Ty::Struct(&[(1, Ty::Byte)])),
    (17, Ty::Struct(&[(1, Ty::Binary)])),
    (18, Ty::Struct(&[(1, Ty::Binary), (2, Ty::I32)])),
    (19, EMPTY),
]);

const SCHEMA_ELEMENT: Ty = Ty::Struct(&[
    (1, Ty::I32),
    (2, Ty::I32),
    (3, Ty::I32),
    (4, Ty::Binary),
    (5, Ty::I32),
    (6, Ty::I32),
    (7, Ty::I32),
    (8, Ty::I32),
    (9, Ty::I32),
    (10, LOGICAL_TYPE),
]);

const KEY_VALUE: Ty = Ty::Struct(&[(1, Ty::Binary), (2, Ty::Binary)]);

const COLUMN_META_DATA: Ty = Ty::Struct(&[
    (1, Ty::I32),
    (2, Ty::List(&Ty::I32)),
    (3, Ty::List(&Ty::Binary)),
    (4, Ty::I32),
    (5, Ty::I64),
    (6, Ty::I64),
    (7, Ty::I64),
    (8, Ty::List(&KEY_VALUE)),
    (9, Ty::I64),
    (10, Ty::I64),
    (11, Ty::I64),
    (12, STATISTICS),
    (
        13,
        Ty::List(&Ty::Struct(&[(1, Ty::I32), (2, Ty::I32), (3, Ty::I32)])),
    ),
    (14, Ty::I64),
    (15, Ty::I32),
    (
        16,
        Ty::Struct(&[
            (1, Ty::I64),
            (2, Ty::List(&Ty::I64)),
            (3, Ty::List(&Ty::I64)),
        ]),
    ),
    (
        17,
        Ty::Struct(&[
            (
                1,
                Ty::Struct(&[
                    (1, Ty::Double),
                    (2, Ty::Double),
                    (3, Ty::Double),
                    (4, Ty::Double),
                    (5, Ty::Double),
                    (6, Ty::Double),
                    (7, Ty::Double),
                    (8, Ty::Double),
                ]),
            ),
            (2, Ty::List(&Ty::I32)),
        ]),
    ),
]);

const COLUMN_CHUNK: Ty = Ty::Struct(&[
    (1, Ty::Binary),
    (2, Ty::I64),
    (3, COLUMN_META_DATA),
    (4, Ty::I64),
    (5, Ty::I32),
    (6, Ty::I64),
    (7, Ty::I32),
    (
        8,
        Ty::Struct(&[
            (1, EMPTY),
            (
                2,
                Ty::Struct(&[(1, Ty::List(&Ty::Binary)), (2, Ty::Binary)]),
            ),
        ]),
    ),
    (9, Ty::Binary),
]);

const ROW_GROUP: Ty = Ty::Struct(&[
    (1, Ty::List(&COLUMN_CHUNK)),
    (2, Ty::I64),
    (3, Ty::I64),
    (
        4,
        Ty::List(&Ty::Struct(&[(1, Ty::I32), (2, Ty::Bool), (3, Ty::Bool)])),
    ),
    (5, Ty::I64),
    (6, Ty::I64),
    (7, Ty::I16),
]);

const AES: Ty = Ty::Struct(&[(1, Ty::Binary), (2, Ty::Binary), (3, Ty::Bool)]);

/// `FileMetaData`, a file's footer.
pub(crate) const FILE_META_DATA: &[(i16, Ty)] = &[
    (1, Ty::I32),
    (2, Ty::List(&SCHEMA_ELEMENT)),
    (3, Ty::I64),
    (4, Ty::List(&ROW_GROUP)),
    (5, Ty::List(&KEY_VALUE)),
    (6, Ty::Binary),
    (
        7,
        Ty::List(&Ty::Struct(&[(1, EMPTY), (2, EMPTY), (3, EMPTY)])),
    ),
    (8, Ty::Struct(&[(1, AES), (2, AES)])),
    (9, Ty::Binary),
];

/// A footer (the metadata bytes before a file's last 8) the crate can
/// read without an unbounded loop; see the module's documentation.
pub(crate) fn check_footer(metadata: &[u8]) -> Result<(), String> {
    Compact::new(metadata, metadata.len() as u64)
        .structure(FILE_META_DATA, 0, &mut Vec::new(), &mut |_, _| {})
        .map_err(|e| format!("the footer: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small parquet file as the crate writes one.
    fn written() -> Vec<u8> {
        use arrow_array::{ArrayRef, RecordBatch, StringArray};
        let column: ArrayRef = std::sync::Arc::new(StringArray::from(vec!["a", "b", "a"]));
        let batch = RecordBatch::try_from_iter([("study", column)]).unwrap();
        let mut out = Vec::new();
        let mut writer =
            parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        out
    }

    #[test]
    fn a_written_footer_passes() {
        let file = written();
        let n = file.len();
        let footer = crate::ledger::footer_len(&file[n - 8..]).unwrap() as usize;
        check_footer(&file[n - 8 - footer..n - 8]).unwrap();
        crate::checked_builder(bytes::Bytes::from(file), None).unwrap();
    }

    /// A checkpoint whose footer starts with twenty unknown fields (ids
    /// 100 to 119), each a list of 2^31 - 1 booleans in 7 bytes: the
    /// crate's skip loops over every boolean, about 70 s for this file,
    /// and hours for a few KB of them (kept for the fuzz harness and the
    /// report test too).
    #[test]
    fn a_footer_of_impossible_lists_is_refused_before_the_crate_reads_it() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fuzz/regressions/checkpoint_decode/slow-footer-of-boolean-lists.parquet"
        );
        let file = std::fs::read(path).unwrap();
        // Without the check this takes minutes, and ends in the crate's
        // own message.
        let e = crate::checked_builder(bytes::Bytes::from(file), None).unwrap_err();
        assert!(
            e.contains("the footer: a collection declares 2147483647 elements"),
            "{e}"
        );
    }

    #[test]
    fn a_known_field_of_another_type_is_refused() {
        // FileMetaData's version (1, an i32) stated as a string.
        let e = check_footer(&[0x18, 0x01, 0x41, 0x00]).unwrap_err();
        assert!(e.contains("field 1 is not of its declared type"), "{e}");
        // An empty list written as a zero byte, as some writers do, passes.
        check_footer(&[0x29, 0x00, 0x00]).unwrap();
    }
}
