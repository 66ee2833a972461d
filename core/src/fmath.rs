//! `trunc`, `floor`, `round` and `abs` for `f64` without `std`.
//!
//! Each is exact: truncation goes through `i64` only where the value can
//! still have a fraction (|x| < 2^52); larger values are whole already.

const TWO_52: f64 = 4_503_599_627_370_496.0;

pub(crate) fn abs(x: f64) -> f64 {
    f64::from_bits(x.to_bits() & !SIGN)
}

const SIGN: u64 = 1 << 63;

pub(crate) fn trunc(x: f64) -> f64 {
    if abs(x) < TWO_52 {
        // Keep the sign of zero results (`trunc(-0.5)` is `-0.0`).
        f64::from_bits(((x as i64) as f64).to_bits() | (x.to_bits() & SIGN))
    } else {
        x
    }
}

pub(crate) fn floor(x: f64) -> f64 {
    let t = trunc(x);
    if x < t { t - 1.0 } else { t }
}

/// Half away from zero, like `f64::round`.
pub(crate) fn round(x: f64) -> f64 {
    let t = trunc(x);
    let d = x - t;
    if d >= 0.5 {
        t + 1.0
    } else if d <= -0.5 {
        t - 1.0
    } else {
        t
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    #[test]
    fn matches_std() {
        for x in [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.4999999,
            -2.5000001,
            1e300,
            -1e300,
            4503599627370495.5,
            0.49999999999999994,
            -1.25,
            1705312800.9999996,
        ] {
            assert_eq!(trunc(x).to_bits(), x.trunc().to_bits(), "trunc {x}");
            assert_eq!(floor(x), x.floor(), "floor {x}");
            assert_eq!(round(x), x.round(), "round {x}");
            assert_eq!(abs(x), x.abs(), "abs {x}");
        }
    }
}
