//! Progress reporting, so the CLI can draw a bar and the Lambda can stay
//! silent.

pub trait Progress: Send + Sync {
    /// A new stage begins; `total` when the amount of work is known.
    fn stage(&self, name: &str, total: Option<u64>);
    fn advance(&self, n: u64);
    fn finish(&self);
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {
    fn stage(&self, _: &str, _: Option<u64>) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}
