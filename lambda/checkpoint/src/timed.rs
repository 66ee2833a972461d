//! Stage durations on their spans.

use std::time::Instant;

/// Records `duration_ms` (wall time, waiting included) on the current span
/// when dropped, at the end of the stage: the span's close line in the logs
/// then says how long the stage took, beside its counts.
pub(crate) struct Timed {
    span: tracing::Span,
    started: Instant,
}

impl Timed {
    pub(crate) fn start() -> Self {
        Timed {
            span: tracing::Span::current(),
            started: Instant::now(),
        }
    }
}

impl Drop for Timed {
    fn drop(&mut self) {
        self.span
            .record("duration_ms", self.started.elapsed().as_millis() as u64);
    }
}
