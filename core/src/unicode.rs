//! Python's Unicode `\d` and `\w`, from generated tables.
//!
//! Hand-written (tables generated from Python by
//! `scripts/gen_unicode_tables.py`) for parity: the reference's file-name
//! pattern and its visit-date pattern use Python's Unicode classes, which
//! no regex crate's classes match exactly at the same Unicode version.

use crate::unicode_tables::{DIGIT, WORD};

fn in_table(table: &[(u32, u32)], c: char) -> bool {
    let cp = c as u32;
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                core::cmp::Ordering::Less
            } else if lo > cp {
                core::cmp::Ordering::Greater
            } else {
                core::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Python `re`'s `\d`: any Unicode decimal digit.
pub(crate) fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || (!c.is_ascii() && in_table(DIGIT, c))
}

/// Python `re`'s `\w`: letters, digits, underscore, in any script.
pub(crate) fn is_word(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    in_table(WORD, c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert!(is_digit('7') && is_digit('٣') && is_digit('７'));
        assert!(!is_digit('a') && !is_digit('½'));
        assert!(is_word('Ä') && is_word('_') && is_word('٣'));
        assert!(!is_word('-') && !is_word('.') && !is_word(' '));
    }
}
