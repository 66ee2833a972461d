//! The run-wide time budget of a front (`--deadline`, a Lambda's remaining
//! time): when reading stops, and when every request must be over.

use std::time::Duration;

use tokio::time::Instant;

/// The two moments a budget sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// No new file is read after this: what was read can still be
    /// merged, committed and recorded.
    pub stop_reading: Instant,
    /// Every request ends by this; the run then reports and exits.
    pub hard: Instant,
}

/// Time kept after the hard deadline to report and exit: a tenth of the
/// budget, at most a second.
fn grace(total: Duration) -> Duration {
    (total / 10).min(Duration::from_secs(1))
}

impl Budget {
    /// A budget of `total` from now, keeping `reserve` (`None`: a fifth, at
    /// most 60 s) for what follows reading.
    pub fn new(total: Duration, reserve: Option<Duration>) -> Budget {
        let now = Instant::now();
        let hard = now + total.saturating_sub(grace(total));
        let reserve = reserve.unwrap_or_else(|| (total / 5).min(Duration::from_secs(60)));
        Budget {
            stop_reading: (now + total.saturating_sub(reserve)).min(hard),
            hard,
        }
    }

    /// `--deadline SECONDS`: a positive, finite number of seconds.
    pub fn from_seconds(seconds: f64, flag: &str) -> Result<Budget, String> {
        if !seconds.is_finite() || seconds <= 0.0 || seconds > 1e7 {
            return Err(format!(
                "{flag} must be a positive number of seconds, got {seconds}"
            ));
        }
        Ok(Budget::new(Duration::from_secs_f64(seconds), None))
    }

    /// The same moments as `std` instants (for code that uses them).
    pub fn stop_reading_std(&self) -> std::time::Instant {
        self.stop_reading.into_std()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_stops_before_the_hard_deadline() {
        let b = Budget::new(Duration::from_secs(10), None);
        assert!(b.stop_reading < b.hard);
        let left = b.hard - Instant::now();
        assert!(left <= Duration::from_secs(9) && left > Duration::from_secs(8));
        let r = b.hard - b.stop_reading;
        assert!(
            r > Duration::from_millis(900) && r <= Duration::from_secs(1),
            "{r:?}"
        );
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Budget::from_seconds(bad, "--deadline").is_err(), "{bad}");
        }
    }
}
