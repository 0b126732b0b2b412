//! When a run has failed as a whole, and which exit code says so.
//!
//! - A generation that cannot be recorded (disk full, EIO) stops the run (`query.rs`).
//! - "No generation could be judged because of infrastructure": every LLM call failed,
//!   or the original cannot run on the sample DB. Exit 1 with the reason, so CI can tell
//!   a dead endpoint from a good run.
//! - `--fail-on none-valid|any-error`: stricter gates chosen by the user.
//!
//! Test hook: `QT_TEST_FAIL_RECORD_AFTER=N` makes recording fail with ENOSPC once N
//! generations are recorded (used by the tests when no small tmpfs can be mounted).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use super::query::{QueryResult, QueryShared};
use super::FailOn;
use crate::error::{EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK};
use crate::record::summary::GenStat;

/// The injected recording failure (test hook, see the module doc).
pub fn injected_failure(recorded: usize) -> std::io::Result<()> {
    static AFTER: OnceLock<Option<usize>> = OnceLock::new();
    let after = AFTER.get_or_init(|| std::env::var("QT_TEST_FAIL_RECORD_AFTER").ok().and_then(|v| v.parse().ok()));
    match after {
        Some(n) if recorded >= *n => Err(std::io::Error::from_raw_os_error(libc::ENOSPC)),
        _ => Ok(()),
    }
}

/// Why none of a query's generations could be judged, if that is the case.
pub fn infrastructure_failure(
    q: &QueryShared,
    records: &BTreeMap<u32, GenStat>,
    first_llm_error: Option<String>,
) -> Option<String> {
    if !q.no_validate {
        if let Some(Err(v)) = q.reference.get() {
            if matches!(v.reason(), Some("execution_error" | "timeout")) {
                return Some(format!(
                    "the original query cannot run on the sample DB ({}: {})",
                    v.reason().unwrap_or("error"),
                    v.message().unwrap_or_default()
                ));
            }
        }
    }
    let all_llm = !records.is_empty() && records.values().all(|g| g.reason.as_deref() == Some("llm_error"));
    all_llm.then(|| {
        format!(
            "every LLM call failed ({} generations), e.g.: {}",
            records.len(),
            first_llm_error.unwrap_or_else(|| "see the gen folders' validation.json".into())
        )
    })
}

/// The exit code of `qt run` and, when it is a failure, why (printed on stderr).
pub fn exit_code(results: &[QueryResult], interrupted: bool, fail_on: Option<FailOn>) -> (i32, Option<String>) {
    if let Some(f) = results.iter().find_map(|r| r.fatal.clone()) {
        return (EXIT_FAILURE, Some(format!("the run was stopped: {f}")));
    }
    if interrupted {
        return (EXIT_INTERRUPTED, None);
    }
    let infra: Vec<String> = results.iter().filter_map(|r| r.infra.clone()).collect();
    if !results.is_empty() && infra.len() == results.len() {
        return (EXIT_FAILURE, Some(format!("no generation could be judged: {}", infra.join("; "))));
    }
    let count = |r: &QueryResult, status: &str| r.summary["by_status"][status].as_u64().unwrap_or(0);
    match fail_on {
        Some(FailOn::NoneValid) if results.iter().all(|r| count(r, "pass") == 0) => {
            (EXIT_FAILURE, Some("--fail-on none-valid: no generation passed validation".into()))
        }
        Some(FailOn::AnyError) => {
            let errors: u64 = results.iter().map(|r| count(r, "error")).sum();
            if errors > 0 {
                (EXIT_FAILURE, Some(format!("--fail-on any-error: {errors} generations ended in status error")))
            } else {
                (EXIT_OK, None)
            }
        }
        _ => (EXIT_OK, None),
    }
}
