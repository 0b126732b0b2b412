//! The measured concurrency check (not a timed test): run with
//! `cargo test --release --test llm_bench -- --ignored --nocapture`.

use qt::llm::bench::concurrency_bench;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement: prints figures, asserts nothing about time"]
async fn concurrency_200_calls_at_20() {
    let f = concurrency_bench(200, 20, Duration::from_millis(200)).await;
    println!("{f}");
    assert_eq!(f.failures, 0);
    assert!(f.max_in_flight <= 20, "limiter let {} through", f.max_in_flight);
}
