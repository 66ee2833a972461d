//! The test proxy as a process, for benchmarks: forwards to UPSTREAM and
//! delays each request by BASE_MS plus a pseudo-random 0..=SPREAD_MS, and
//! every SLOW_EVERY-th request by SLOW_MS more (a stand-in for the round
//! trip to a remote S3 and its slow tail). Prints its URL, then runs until
//! killed.
//!
//!     latency_proxy UPSTREAM SPREAD_MS [BASE_MS [SLOW_EVERY SLOW_MS]]

use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ms = |i: usize| -> u64 {
        args.get(i)
            .map_or(0, |a| a.parse().expect("a whole number of milliseconds"))
    };
    let Some(upstream) = args.first().filter(|_| (2..=5).contains(&args.len())) else {
        eprintln!("usage: latency_proxy UPSTREAM SPREAD_MS [BASE_MS [SLOW_EVERY SLOW_MS]]");
        std::process::exit(2);
    };
    let options = eventlog_tests::infra::faulty_proxy::Options {
        max_delay: Duration::from_millis(ms(1)),
        base_delay: Duration::from_millis(ms(2)),
        slow_every: ms(3),
        slow_delay: Duration::from_millis(ms(4)),
        ..Default::default()
    };
    let proxy = eventlog_tests::infra::faulty_proxy::start_with(upstream, options);
    println!("{}", proxy.url());
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
