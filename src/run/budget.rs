//! What a `qt run` may spend: each arm's price (`llm/price.rs`) and the run's
//! `generation.budget_usd`.
//!
//! The budget counts dollars of answers the provider was paid for (response-cache hits and
//! replayed answers are free), including what the run folders being resumed had already
//! spent, so `--resume` continues skipped generations only with a larger budget. Once the
//! spent total reaches the budget, no new LLM request is sent (the gate is checked after a
//! request's concurrency permit is taken, so only requests already in flight finish: at
//! most one wave of `max_concurrency`). A budget needs a price for every arm that runs.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::BadInput;
use crate::llm::price::{self, Price};
use crate::spec::Experiment;

/// Each arm's price (index = arm index); a budget with an unpriced arm is bad input.
pub fn resolve_prices(exp: &Experiment, running: &[usize]) -> Result<Vec<Option<Price>>, BadInput> {
    let prices: Vec<Option<Price>> = exp.arms.iter().map(|a| Price::resolve(&a.llm)).collect();
    if let Some(b) = exp.resolved.generation.budget_usd {
        if let Some(a) = running.iter().map(|i| &exp.arms[*i]).find(|a| prices[a.index].is_none()) {
            return Err(BadInput(format!(
                "generation.budget_usd = {b} needs a price for every arm, and {}{} has none: {}",
                if exp.arms.len() > 1 { format!("arm `{}` ", a.name) } else { String::new() },
                format!("(model `{}`)", a.llm.model),
                price::unknown_price_hint(&a.llm.model)
            )));
        }
    }
    Ok(prices)
}

/// One line per model without a price (shown before the run starts).
pub fn unknown_price_notes(exp: &Experiment, prices: &[Option<Price>], running: &[usize]) -> Vec<String> {
    let mut models: Vec<&str> = running.iter().filter(|i| prices[**i].is_none()).map(|i| exp.arms[*i].llm.model.as_str()).collect();
    models.dedup();
    models.into_iter().map(|m| format!("note: {}", price::unknown_price_hint(m))).collect()
}

/// The run's spending against `generation.budget_usd`.
#[derive(Debug, Default)]
pub struct Budget {
    limit: Option<f64>,
    spent: Mutex<f64>,
    closed: AtomicBool,
    /// Why the budget closed, once (taken by the first caller to report it).
    reason: Mutex<Option<String>>,
}

impl Budget {
    /// A budget of `limit` dollars (None: unlimited) of which `already` were spent by the
    /// folders this run continues.
    pub fn new(limit: Option<f64>, already: f64) -> Budget {
        let b = Budget { limit, spent: Mutex::new(already), ..Budget::default() };
        b.check(already);
        b
    }

    pub fn limit(&self) -> Option<f64> {
        self.limit
    }

    /// Dollars spent so far (the continued folders' included).
    pub fn spent(&self) -> f64 {
        *self.spent.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// May a new LLM request be sent?
    pub fn allows_calls(&self) -> bool {
        !self.closed.load(Ordering::SeqCst)
    }

    /// Count the cost of a paid answer; `None` (no usage reported) under a budget closes it:
    /// the run can no longer know what it spends.
    pub fn add(&self, cost: Option<f64>) {
        let Some(limit) = self.limit else { return };
        match cost {
            Some(c) => {
                let total = {
                    let mut s = self.spent.lock().unwrap_or_else(|e| e.into_inner());
                    *s += c;
                    *s
                };
                self.check(total);
            }
            None => self.close(format!(
                "the provider reported no token usage for an answer, so qt cannot keep to budget_usd = {limit}: \
                 no more LLM requests are sent"
            )),
        }
    }

    fn check(&self, total: f64) {
        if let Some(limit) = self.limit.filter(|l| total >= *l) {
            self.close(format!(
                "budget spent: ${total:.4} of ${limit:.4} (generation.budget_usd); no more LLM requests are sent, \
                 requests in flight finish and the remaining generations are skipped \
                 (`--resume --budget-usd N` with a larger N continues them)"
            ));
        }
    }

    fn close(&self, why: String) {
        if !self.closed.swap(true, Ordering::SeqCst) {
            *self.reason.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
        }
    }

    /// Why the budget closed, the first time it is asked (for one console line).
    pub fn take_reason(&self) -> Option<String> {
        self.reason.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closes_once_the_limit_is_reached() {
        let b = Budget::new(Some(0.01), 0.004);
        assert!(b.allows_calls());
        b.add(Some(0.005));
        assert!(b.allows_calls());
        b.add(Some(0.001));
        assert!(!b.allows_calls());
        assert!(b.take_reason().unwrap().starts_with("budget spent: $0.0100 of $0.0100"));
        assert_eq!(b.take_reason(), None, "reported once");
    }

    #[test]
    fn unknown_usage_closes_a_budget_but_not_an_unlimited_run() {
        let b = Budget::new(Some(1.0), 0.0);
        b.add(None);
        assert!(!b.allows_calls());
        let free = Budget::new(None, 0.0);
        free.add(None);
        free.add(Some(100.0));
        assert!(free.allows_calls());
    }

    #[test]
    fn what_resumed_folders_spent_counts() {
        assert!(!Budget::new(Some(2.0), 2.0).allows_calls());
        assert!(Budget::new(Some(3.0), 2.0).allows_calls());
    }
}
