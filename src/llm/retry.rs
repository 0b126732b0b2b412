//! The one retry policy: which failures are retried, how long to wait, and the loop that
//! records every attempt.
//!
//! Retried: 429 (unless it says the quota is gone), 408, 5xx, timeouts, connection and
//! body-read errors. Not retried: quota, 400/401/403/404 and other 4xx, malformed bodies.
//! Waits grow exponentially from `base` up to `max` with jitter; a `Retry-After` header
//! (seconds) is honoured up to `max`. This file knows nothing about HTTP clients.

use super::{Attempt, Limiter, LlmResponse};
use rand::Rng;
use std::future::Future;
use std::time::Duration;

/// Backoff and attempt cap. `max_attempts: None` takes `llm.max_attempts` from the spec.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// First backoff (doubled after every failed attempt). Default 1 s.
    pub base: Duration,
    /// Upper bound of any single wait, `Retry-After` included. Default 60 s.
    pub max: Duration,
    /// Total attempts (first try included); None: `llm.max_attempts`.
    pub max_attempts: Option<u32>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { base: Duration::from_secs(1), max: Duration::from_secs(60), max_attempts: None }
    }
}

impl RetryPolicy {
    /// A policy with the given base and cap (tests use milliseconds).
    pub fn new(base: Duration, max: Duration) -> Self {
        Self { base, max, max_attempts: None }
    }

    /// The wait after failed attempt `n` (1-based); `jitter` is in [0, 1).
    pub fn delay(&self, n: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        let jitter = jitter.clamp(0.0, 1.0);
        if let Some(ra) = retry_after {
            // The server said when; spread the herd by at most a tenth of `base`.
            return ra.min(self.max) + self.base.mul_f64(0.1 * jitter);
        }
        let factor = 2f64.powi(n.saturating_sub(1).min(30) as i32);
        let exp = self.base.mul_f64(factor).min(self.max);
        // "Equal jitter": half fixed, half random, so waits never collapse to zero.
        exp.mul_f64(0.5 + 0.5 * jitter)
    }
}

/// How a failed attempt is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureKind {
    /// 429, 408, 5xx, timeout, connection or body error.
    Retryable,
    /// 429/402 with "quota"/"balance" in the body.
    Quota,
    /// Any other 4xx.
    Refused,
    /// 2xx that is not a chat completion.
    Malformed,
    /// Not sent: the caller's gate said no when the request's turn came.
    NotSent,
}

/// One failed attempt; `message` is already redacted.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub kind: FailureKind,
    pub status: Option<u16>,
    pub message: String,
    pub body: String,
    pub retry_after: Option<Duration>,
    pub latency: Duration,
}

/// Classifies a non-2xx status by its code and body.
pub(crate) fn classify_status(status: u16, body: &str) -> FailureKind {
    let lower = body.to_ascii_lowercase();
    let says_quota = ["insufficient_quota", "quota", "balance"].iter().any(|w| lower.contains(w));
    match status {
        429 | 402 if says_quota => FailureKind::Quota,
        429 | 408 | 500..=599 => FailureKind::Retryable,
        _ => FailureKind::Refused,
    }
}

/// Parses `Retry-After` given in seconds (fractions accepted); HTTP dates are ignored.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// Runs `send` until it succeeds, fails for good or the attempt cap is reached. A permit
/// of `limiter` is held during each request only; once it is taken, `gate` decides whether
/// the request is still sent (a run that stopped issuing calls: queued requests stop here,
/// requests in flight finish). Returns the response with its attempts, or the last
/// failure with all attempts.
pub(crate) async fn run<F, Fut>(
    policy: &RetryPolicy,
    limiter: &Limiter,
    gate: &(dyn Fn() -> bool + Sync),
    mut send: F,
) -> Result<LlmResponse, (Failure, Vec<Attempt>)>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(LlmResponse, u16), Failure>>,
{
    let max_attempts = policy.max_attempts.unwrap_or(1).max(1);
    let mut attempts = Vec::new();
    for n in 1..=max_attempts {
        let outcome = {
            // The semaphore is never closed, so `ok()` only guards against the impossible.
            let _permit = limiter.acquire().await.ok();
            if !gate() {
                let failure = Failure {
                    kind: FailureKind::NotSent,
                    status: None,
                    message: "not sent: the run stopped issuing LLM requests".into(),
                    body: String::new(),
                    retry_after: None,
                    latency: Duration::ZERO,
                };
                return Err((failure, attempts));
            }
            send().await
        };
        match outcome {
            Ok((mut resp, status)) => {
                attempts.push(Attempt {
                    n,
                    status: Some(status),
                    error: None,
                    latency_s: resp.latency_s,
                    wait_s: 0.0,
                });
                resp.attempts = attempts;
                return Ok(resp);
            }
            Err(failure) => {
                let last = n == max_attempts || failure.kind != FailureKind::Retryable;
                let wait = if last {
                    Duration::ZERO
                } else {
                    policy.delay(n, failure.retry_after, rand::rng().random::<f64>())
                };
                attempts.push(Attempt {
                    n,
                    status: failure.status,
                    error: Some(failure.message.clone()),
                    latency_s: failure.latency.as_secs_f64(),
                    wait_s: wait.as_secs_f64(),
                });
                if last {
                    return Err((failure, attempts));
                }
                tokio::time::sleep(wait).await;
            }
        }
    }
    unreachable!("the loop returns on its last attempt")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_with_cap() {
        let p = RetryPolicy::new(Duration::from_millis(100), Duration::from_millis(500));
        assert_eq!(p.delay(1, None, 0.0), Duration::from_millis(50));
        assert_eq!(p.delay(1, None, 1.0), Duration::from_millis(100));
        assert_eq!(p.delay(3, None, 1.0), Duration::from_millis(400));
        assert_eq!(p.delay(10, None, 1.0), Duration::from_millis(500));
        assert_eq!(p.delay(u32::MAX, None, 1.0), Duration::from_millis(500));
    }

    #[test]
    fn retry_after_is_honoured_up_to_max() {
        let p = RetryPolicy::new(Duration::from_millis(100), Duration::from_secs(5));
        assert_eq!(p.delay(1, Some(Duration::from_secs(2)), 0.0), Duration::from_secs(2));
        assert_eq!(p.delay(1, Some(Duration::from_secs(600)), 0.0), Duration::from_secs(5));
        assert!(p.delay(1, Some(Duration::from_secs(2)), 0.99) <= Duration::from_millis(2010));
    }

    #[test]
    fn classification() {
        assert_eq!(classify_status(429, "slow down"), FailureKind::Retryable);
        assert_eq!(classify_status(429, r#"{"error":{"code":"insufficient_quota"}}"#), FailureKind::Quota);
        assert_eq!(classify_status(402, "Insufficient Balance"), FailureKind::Quota);
        assert_eq!(classify_status(503, "quota service down"), FailureKind::Retryable);
        assert_eq!(classify_status(401, ""), FailureKind::Refused);
        assert_eq!(classify_status(404, ""), FailureKind::Refused);
        assert_eq!(classify_status(408, ""), FailureKind::Retryable);
    }

    #[test]
    fn retry_after_parsing() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0.25 "), Some(Duration::from_millis(250)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }
}
