//! The test proxy as a process, for benchmarks: forwards to UPSTREAM and
//! delays each request by a pseudo-random 0..=MAX_MS milliseconds (a
//! stand-in for the round trip to a remote S3). Prints its URL, then runs
//! until killed.
//!
//!     latency_proxy UPSTREAM MAX_MS

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, upstream, max_ms] = args.as_slice() else {
        eprintln!("usage: latency_proxy UPSTREAM MAX_MS");
        std::process::exit(2);
    };
    let max = std::time::Duration::from_millis(max_ms.parse().expect("MAX_MS"));
    let proxy = eventlog_tests::infra::faulty_proxy::start(upstream, 0, max);
    println!("{}", proxy.url());
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
