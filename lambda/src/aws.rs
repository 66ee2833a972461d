//! The AWS settings the fronts' own clients share (the dead-letter queue,
//! Secrets Manager): the standard chain, `us-east-1` when the chain names
//! no region, and a local server's endpoint when one is set.

use std::time::Duration;

/// The shared configuration for one client: `endpoint_vars` are tried in
/// order (the first set one is the endpoint), `timeout` bounds each
/// operation, retries included.
pub async fn config(endpoint_vars: &[&str], timeout: Option<Duration>) -> aws_config::SdkConfig {
    let region =
        aws_config::meta::region::RegionProviderChain::default_provider().or_else("us-east-1");
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).region(region);
    if let Some(t) = timeout {
        loader = loader.timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(t)
                .build(),
        );
    }
    if let Some(ep) = endpoint_vars.iter().find_map(|v| crate::env::env_var(v)) {
        loader = loader.endpoint_url(ep);
    }
    loader.load().await
}
