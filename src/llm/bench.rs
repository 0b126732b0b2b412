//! A measured concurrency check: N calls through a real [`Client`] to the mock server
//! with a fixed latency, timed end to end. With concurrency C and latency L the ideal
//! is ceil(N / C) * L; the gap is the client's overhead (HTTP, JSON, limiter).
//!
//! This is a measurement, not a test: nothing here asserts on time. `qt bench` or an
//! `#[ignore]` test prints [`BenchFigures`].

use super::mock_server::{self, MockScript};
use super::{ChatRequest, Client, ClientOptions, Message};
use crate::spec::LlmCfg;
use std::time::{Duration, Instant};

/// What one run measured.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BenchFigures {
    pub calls: usize,
    pub concurrency: usize,
    pub latency_s: f64,
    pub elapsed_s: f64,
    /// ceil(calls / concurrency) * latency.
    pub ideal_s: f64,
    /// Peak in-flight requests the server saw (must not exceed `concurrency`).
    pub max_in_flight: usize,
    pub failures: usize,
}

impl std::fmt::Display for BenchFigures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} calls at concurrency {}, {:.0} ms latency: {:.2} s (ideal {:.1} s); peak in flight {}, failures {}",
            self.calls,
            self.concurrency,
            self.latency_s * 1000.0,
            self.elapsed_s,
            self.ideal_s,
            self.max_in_flight,
            self.failures
        )
    }
}

/// Runs `n` distinct calls (no cache) at `concurrency` against a mock with `latency`.
pub async fn concurrency_bench(n: usize, concurrency: usize, latency: Duration) -> BenchFigures {
    let server = mock_server::start(MockScript::default().with_latency(latency)).await;
    let cfg = LlmCfg {
        base_url: format!("{}/v1", server.url),
        model: "bench".into(),
        max_concurrency: concurrency.max(1),
        timeout_s: 60.0,
        ..LlmCfg::default()
    };
    let opts = ClientOptions { no_cache: true, ..ClientOptions::default() };
    let client = match Client::new(&cfg, None, None, opts) {
        Ok(c) => c,
        Err(e) => panic!("bench client for a local mock must build: {e}"),
    };
    let started = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (client, req) = (client.clone(), request(&cfg, i));
            tokio::spawn(async move { client.complete(req).await })
        })
        .collect();
    let mut failures = 0;
    for t in tasks {
        if !matches!(t.await, Ok(Ok(_))) {
            failures += 1;
        }
    }
    let elapsed = started.elapsed();
    let figures = BenchFigures {
        calls: n,
        concurrency,
        latency_s: latency.as_secs_f64(),
        elapsed_s: elapsed.as_secs_f64(),
        ideal_s: n.div_ceil(concurrency.max(1)) as f64 * latency.as_secs_f64(),
        max_in_flight: server.max_in_flight(),
        failures,
    };
    server.shutdown().await;
    figures
}

fn request(cfg: &LlmCfg, i: usize) -> ChatRequest {
    let prompt = format!("rewrite:\n```sql\nSELECT {i}\n```");
    ChatRequest {
        sample_index: i as u32,
        query_id: "bench".into(),
        worker: (i + 1) as u32,
        ..ChatRequest::new(cfg, vec![Message::user(prompt)])
    }
}
