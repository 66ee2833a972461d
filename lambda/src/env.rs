//! Reading the environment.

/// An environment variable, `None` when unset or empty: Lambda consoles and
/// Terraform maps set variables to "" rather than removing them.
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}
