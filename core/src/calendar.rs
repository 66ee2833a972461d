//! Gregorian calendar facts shared by the visit and xAPI timestamp parsers.

/// Days in `month` (1–12) of `year`; `None` for a month out of range.
pub(crate) fn days_in_month(year: u32, month: u32) -> Option<u32> {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => Some(31),
        4 | 6 | 9 | 11 => Some(30),
        2 if leap => Some(29),
        2 => Some(28),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::days_in_month;

    #[test]
    fn february_and_the_century_rule() {
        assert_eq!(days_in_month(2024, 2), Some(29));
        assert_eq!(days_in_month(1900, 2), Some(28));
        assert_eq!(days_in_month(2000, 2), Some(29));
        assert_eq!(days_in_month(2025, 4), Some(30));
        assert_eq!(days_in_month(2025, 13), None);
        assert_eq!(days_in_month(2025, 0), None);
    }
}
