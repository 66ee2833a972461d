//! Test infrastructure served from the test process: a fault-injecting
//! HTTP proxy and the Lambda Runtime API. Both listen on 127.0.0.1 only and
//! stop with the test process.

pub mod faulty_proxy;
pub mod runtime_api;

/// A runtime for async test helpers called from sync tests.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    use std::sync::OnceLock;
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime")
    })
}
