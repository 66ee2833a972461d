//! A value that passed validation, and can only come from it.

use core::ops::Deref;

/// A `T` that passed every rule. Only this crate's validation makes one
/// (the constructor is private), so a stage that takes `Valid<VisitEvent>`
/// (the checkpoint merge, say) can only ever be handed checked events,
/// whatever a caller builds by hand.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Valid<T>(T);

impl<T> Valid<T> {
    pub(crate) fn new(value: T) -> Self {
        Valid(value)
    }

    /// The checked value itself (it is no longer vouched for).
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Valid<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> AsRef<T> for Valid<T> {
    fn as_ref(&self) -> &T {
        &self.0
    }
}
