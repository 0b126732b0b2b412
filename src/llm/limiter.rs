//! The in-flight request limit shared by every worker (and every client of a run).
//!
//! A permit is held only while an HTTP request is in flight, never while backing off
//! between retries, so a worker waiting out a `Retry-After` does not block the others.
//! Cache hits and replay take no permit.

use std::sync::Arc;
use tokio::sync::Semaphore;

/// A shared concurrency limit: clone it into every client with `Client::with_limiter`.
pub type Limiter = Arc<Semaphore>;

/// A limiter allowing `max_in_flight` concurrent requests (at least 1).
pub fn new_limiter(max_in_flight: usize) -> Limiter {
    Arc::new(Semaphore::new(max_in_flight.max(1)))
}
