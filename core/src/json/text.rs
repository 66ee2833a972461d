//! Bytes to text, the way Python's `json.loads(bytes)` does it.
//!
//! Python sniffs the encoding from the first four bytes (UTF-8, UTF-8 with a
//! BOM, UTF-16 and UTF-32 in either byte order) and decodes with
//! `surrogatepass`, so unpaired surrogates survive decoding. Rust strings
//! cannot hold them: each one becomes U+FFFD here and its byte offset is
//! recorded, so the parser can tell the validator which strings carried one.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

/// Decoded document text plus the offsets of unpaired surrogates in it.
pub(crate) struct Text<'a> {
    pub(crate) text: Cow<'a, str>,
    /// Byte offsets (into `text`) of U+FFFD placeholders that stand for an
    /// unpaired surrogate, ascending.
    pub(crate) surrogates: Vec<usize>,
}

/// Bytes that Python's decoder would reject (it raises `UnicodeDecodeError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EncodingError {
    pub(crate) encoding: &'static str,
    pub(crate) byte_offset: usize,
    pub(crate) reason: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Utf8Sig,
    Utf16Bom,
    Utf16Be,
    Utf16Le,
    Utf32Bom,
    Utf32Be,
    Utf32Le,
}

impl Encoding {
    fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf8Sig => "utf-8-sig",
            Encoding::Utf16Bom => "utf-16",
            Encoding::Utf16Be => "utf-16-be",
            Encoding::Utf16Le => "utf-16-le",
            Encoding::Utf32Bom => "utf-32",
            Encoding::Utf32Be => "utf-32-be",
            Encoding::Utf32Le => "utf-32-le",
        }
    }
}

/// Python's `json.detect_encoding`, rule for rule.
fn detect(b: &[u8]) -> Encoding {
    if b.starts_with(&[0x00, 0x00, 0xFE, 0xFF]) || b.starts_with(&[0xFF, 0xFE, 0x00, 0x00]) {
        return Encoding::Utf32Bom;
    }
    if b.starts_with(&[0xFE, 0xFF]) || b.starts_with(&[0xFF, 0xFE]) {
        return Encoding::Utf16Bom;
    }
    if b.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Encoding::Utf8Sig;
    }
    if b.len() >= 4 {
        if b[0] == 0 {
            return if b[1] != 0 {
                Encoding::Utf16Be
            } else {
                Encoding::Utf32Be
            };
        }
        if b[1] == 0 {
            return if b[2] != 0 || b[3] != 0 {
                Encoding::Utf16Le
            } else {
                Encoding::Utf32Le
            };
        }
    } else if b.len() == 2 {
        if b[0] == 0 {
            return Encoding::Utf16Be;
        }
        if b[1] == 0 {
            return Encoding::Utf16Le;
        }
    }
    Encoding::Utf8
}

/// [`decode`] of text already known to be UTF-8: the same answer without
/// validating it a second time, when Python would sniff UTF-8 too.
pub(crate) fn decode_str(text: &str) -> Result<Text<'_>, EncodingError> {
    let start = match detect(text.as_bytes()) {
        Encoding::Utf8 => 0,
        // The mark is three bytes of one character: a boundary follows.
        Encoding::Utf8Sig => 3,
        _ => return decode(text.as_bytes()),
    };
    Ok(Text {
        text: Cow::Borrowed(&text[start..]),
        surrogates: Vec::new(),
    })
}

pub(crate) fn decode(bytes: &[u8]) -> Result<Text<'_>, EncodingError> {
    let enc = detect(bytes);
    match enc {
        Encoding::Utf8 => utf8(bytes, 0),
        Encoding::Utf8Sig => utf8(&bytes[3..], 3),
        Encoding::Utf16Bom => {
            let big = bytes[0] == 0xFE;
            utf16(&bytes[2..], big, 2, enc)
        }
        Encoding::Utf16Be => utf16(bytes, true, 0, enc),
        Encoding::Utf16Le => utf16(bytes, false, 0, enc),
        Encoding::Utf32Bom => {
            let big = bytes[0] == 0x00;
            utf32(&bytes[4..], big, 4, enc)
        }
        Encoding::Utf32Be => utf32(bytes, true, 0, enc),
        Encoding::Utf32Le => utf32(bytes, false, 0, enc),
    }
}

const REPLACEMENT: &str = "\u{FFFD}";

fn utf8(bytes: &[u8], base: usize) -> Result<Text<'_>, EncodingError> {
    if let Ok(s) = core::str::from_utf8(bytes) {
        return Ok(Text {
            text: Cow::Borrowed(s),
            surrogates: Vec::new(),
        });
    }
    // Slow path: `surrogatepass` lets an encoded surrogate (ED A0..BF 80..BF)
    // through; every other invalid sequence is a decode error.
    let mut out = String::with_capacity(bytes.len());
    let mut surrogates = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match core::str::from_utf8(&bytes[i..]) {
            Ok(rest) => {
                out.push_str(rest);
                break;
            }
            Err(e) => {
                let good = e.valid_up_to();
                // The prefix was just validated by `from_utf8`.
                if let Ok(prefix) = core::str::from_utf8(&bytes[i..i + good]) {
                    out.push_str(prefix);
                }
                let j = i + good;
                let is_surrogate = bytes.len() >= j + 3
                    && bytes[j] == 0xED
                    && (0xA0..=0xBF).contains(&bytes[j + 1])
                    && (0x80..=0xBF).contains(&bytes[j + 2]);
                if !is_surrogate {
                    return Err(EncodingError {
                        encoding: "utf-8",
                        byte_offset: base + j,
                        reason: "invalid UTF-8 byte sequence",
                    });
                }
                surrogates.push(out.len());
                out.push_str(REPLACEMENT);
                i = j + 3;
            }
        }
    }
    Ok(Text {
        text: Cow::Owned(out),
        surrogates,
    })
}

fn utf16(
    bytes: &[u8],
    big: bool,
    base: usize,
    enc: Encoding,
) -> Result<Text<'static>, EncodingError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(EncodingError {
            encoding: enc.name(),
            byte_offset: base + bytes.len() - 1,
            reason: "truncated data",
        });
    }
    let units = bytes.chunks_exact(2).map(|c| {
        if big {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_le_bytes([c[0], c[1]])
        }
    });
    let mut out = String::with_capacity(bytes.len() / 2);
    let mut surrogates = Vec::new();
    for r in char::decode_utf16(units) {
        match r {
            Ok(c) => out.push(c),
            Err(_) => {
                surrogates.push(out.len());
                out.push_str(REPLACEMENT);
            }
        }
    }
    Ok(Text {
        text: Cow::Owned(out),
        surrogates,
    })
}

fn utf32(
    bytes: &[u8],
    big: bool,
    base: usize,
    enc: Encoding,
) -> Result<Text<'static>, EncodingError> {
    if !bytes.len().is_multiple_of(4) {
        return Err(EncodingError {
            encoding: enc.name(),
            byte_offset: base + bytes.len() - bytes.len() % 4,
            reason: "truncated data",
        });
    }
    let mut out = String::with_capacity(bytes.len() / 4);
    let mut surrogates = Vec::new();
    for (n, c) in bytes.chunks_exact(4).enumerate() {
        let v = if big {
            u32::from_be_bytes([c[0], c[1], c[2], c[3]])
        } else {
            u32::from_le_bytes([c[0], c[1], c[2], c[3]])
        };
        if (0xD800..=0xDFFF).contains(&v) {
            surrogates.push(out.len());
            out.push_str(REPLACEMENT);
            continue;
        }
        match char::from_u32(v) {
            Some(ch) => out.push(ch),
            None => {
                return Err(EncodingError {
                    encoding: enc.name(),
                    byte_offset: base + 4 * n,
                    reason: "code point not in range(0x110000)",
                });
            }
        }
    }
    Ok(Text {
        text: Cow::Owned(out),
        surrogates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_like_python() {
        assert_eq!(detect(b"{}"), Encoding::Utf8);
        assert_eq!(detect(b"\xEF\xBB\xBF{}"), Encoding::Utf8Sig);
        assert_eq!(detect(b"\x00{\x00}"), Encoding::Utf16Be);
        assert_eq!(detect(b"{\x00}\x00"), Encoding::Utf16Le);
        assert_eq!(detect(b"{\x00\x00\x00"), Encoding::Utf32Le);
        assert_eq!(detect(b"\x00\x00\x00{"), Encoding::Utf32Be);
        assert_eq!(detect(b"\xFF\xFE\x00\x00"), Encoding::Utf32Bom);
        assert_eq!(detect(b"\xFF\xFE{\x00"), Encoding::Utf16Bom);
        assert_eq!(detect(b"\x00{"), Encoding::Utf16Be);
    }

    #[test]
    fn utf16_with_bom_decodes() {
        let bytes = [0xFF, 0xFE, b'{', 0, b'}', 0];
        assert_eq!(decode(&bytes).unwrap().text, "{}");
    }

    #[test]
    fn encoded_surrogate_is_kept_as_placeholder() {
        let t = decode(b"\"a\xED\xA0\x80\"").unwrap();
        assert_eq!(t.surrogates, [2]);
        assert_eq!(t.text, "\"a\u{FFFD}\"");
    }

    #[test]
    fn invalid_utf8_is_an_encoding_error() {
        let e = decode(b"{\"a\": \"\xFF\"}").err().unwrap();
        assert_eq!(e.byte_offset, 7);
    }

    #[test]
    fn odd_utf16_is_truncated() {
        // Three bytes are too short to sniff, so Python reads them as UTF-8.
        assert_eq!(decode(b"\x00{\x00").unwrap().text, "\u{0}{\u{0}");
        assert!(decode(b"\x00{\x00}\x00").is_err());
    }
}
