//! One generation: render the prompt, ask the LLM, assemble the candidate, validate it,
//! and re-ask with the failure reason (history) up to `retries_on_failure` times.
//! It returns a [`GenOutcome`]; it never writes files or prints (record/ and report/ do).

use serde_json::{Value, json};
use std::sync::Arc;

use crate::report::events::{Event, GenOutcome};
use super::query::QueryShared;
use crate::llm::{ChatRequest, LlmError, LlmResponse, Message};
use crate::record::skipped;
use crate::prompt::HistoryEntry;
use crate::spec::Job;
use crate::validate::instances::Checked;

/// How an attempt ended, before deciding whether to re-ask.
enum AttemptEnd {
    LlmError(String),
    /// The answer could not become one query: (reason, message), reason from the assembler
    /// (`parse_error`, or `not_select` when a node is a statement other than a query).
    ParseError(&'static str, String),
    /// The verdict (with the instances it was checked on), and the generation it was
    /// validated on when this candidate was an identical copy of an earlier one.
    Validated(Checked, Option<u32>),
    NotValidated,
}

/// Statuses worth re-asking about: the model can fix its own mistake.
fn retryable(end: &AttemptEnd) -> bool {
    match end {
        AttemptEnd::ParseError(..) => true,
        AttemptEnd::Validated(v, _) => matches!(v.status(), "validation_failed" | "error"),
        _ => false,
    }
}

fn end_fields(end: &AttemptEnd) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    let mut put = |status: &str, reason: &str, error: &str| {
        m.insert("status".into(), json!(status));
        m.insert("reason".into(), json!(reason));
        m.insert("error".into(), json!(error));
        m.insert("speedup".into(), Value::Null);
    };
    match end {
        AttemptEnd::LlmError(e) => put("error", "llm_error", e),
        AttemptEnd::ParseError(reason, e) => put("error", reason, e),
        AttemptEnd::NotValidated => put("inconclusive", "not_validated", "validation skipped (--no-validate)"),
        AttemptEnd::Validated(v, _) => m = v.to_json_fields(),
    }
    m
}

fn history_entry(attempt: u32, response: &str, end: &AttemptEnd) -> HistoryEntry {
    let f = end_fields(end);
    let text = |k: &str| f.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let mut error = text("error");
    if let Some(d) = f.get("diff").filter(|d| !d.is_null()) {
        for (side, key) in [("original", "original"), ("your rewrite", "optimized")] {
            let rows: Vec<&str> = d[key].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            if !rows.is_empty() {
                error.push_str(&format!("\nFirst differing rows, {side}:\n  {}", rows.join("\n  ")));
            }
        }
    }
    HistoryEntry::new(attempt + 1, response, &text("reason"), &error)
}

/// How a job ended.
pub enum GenEnd {
    Done(Box<GenOutcome>),
    /// Not started: its first LLM request was not sent (`record::skipped` reasons).
    Skipped(&'static str),
    /// Cancelled before it finished (left for `--resume`).
    Cancelled,
}

/// Why the run stops issuing requests for this job now, if it does.
fn stop_reason(q: &QueryShared, arm: usize) -> Option<&'static str> {
    if q.stop.is_met(arm) {
        Some(skipped::STOP_WHEN)
    } else if !q.budget.allows_calls() {
        Some(skipped::BUDGET)
    } else {
        None
    }
}

/// Run one job to completion.
pub async fn run_generation(q: Arc<QueryShared>, job: Job) -> GenEnd {
    match generation(q, job).await {
        Ok(o) => GenEnd::Done(Box::new(o)),
        Err(Some(reason)) => GenEnd::Skipped(reason),
        Err(None) => GenEnd::Cancelled,
    }
}

/// The generation, or `Err(Some(reason))` when skipped, `Err(None)` when cancelled.
async fn generation(q: Arc<QueryShared>, job: Job) -> Result<GenOutcome, Option<&'static str>> {
    if q.stop.is_met(job.arm) {
        return Err(Some(skipped::STOP_WHEN));
    }
    let arm = &q.arms[job.arm];
    let examples = arm.examples_for(&q.inputs, job.worker);
    let example_ids: Vec<String> = examples.iter().map(|e| e.id.clone()).collect();
    let retries = arm.arm.generation.retries_on_failure;
    let mut history: Vec<HistoryEntry> = Vec::new();
    let mut attempts: Vec<(String, Option<String>)> = Vec::new();
    let mut responses: Vec<LlmResponse> = Vec::new();
    // Truncated or empty answers: not usable, but billed by the provider.
    let mut billed: Vec<LlmResponse> = Vec::new();
    let mut llm_attempts: Vec<Value> = Vec::new();
    let mut first_error: Option<Value> = None;
    let mut optimized: Option<String> = None;
    let mut end = AttemptEnd::LlmError("no attempt was made".into());
    let mut validation_s = 0.0;
    // The candidate of the attempt a retry would replace, and why a retry was not sent.
    let mut last_optimized: Option<String> = None;
    let mut retry_not_sent: Option<&'static str> = None;
    let gate = || q.budget.allows_calls() && !q.stop.is_met(job.arm);

    for attempt in 0..=retries {
        if q.cancel.is_cancelled() {
            return Err(None);
        }
        let prompt = match arm.render(&q.inputs, Some(job.worker), &examples, &history) {
            Ok(p) => p,
            Err(e) => {
                end = AttemptEnd::LlmError(format!("prompt rendering failed: {e:#}"));
                break;
            }
        };
        let req = ChatRequest {
            messages: vec![Message { role: "user".into(), content: prompt.clone() }],
            temperature: arm.arm.llm.temperature,
            max_tokens: arm.arm.llm.max_tokens,
            sample_index: job.r#gen,
            query_id: q.inputs.query.id.clone(),
            worker: job.r#gen,
            attempt,
        };
        let _ = q.events.send(Event::LlmStarted { number: job.r#gen }).await;
        let result = tokio::select! {
            r = q.clients[job.arm].complete_gated(req, &gate) => r,
            _ = q.cancel.cancelled() => return Err(None),
        };
        let _ = q.events.send(Event::LlmFinished { number: job.r#gen }).await;
        let price = q.prices[job.arm].as_ref();
        let response = match result {
            Ok(r) => r,
            Err(LlmError::NotSent { .. }) => {
                let reason = stop_reason(&q, job.arm).unwrap_or(skipped::BUDGET);
                if attempt == 0 {
                    return Err(Some(reason));
                }
                // The retry was not sent: the previous attempt's verdict stands.
                retry_not_sent = Some(reason);
                optimized = last_optimized.take();
                if attempts.len() <= 1 {
                    first_error = None;
                }
                break;
            }
            Err(e) => {
                for a in e.attempts() {
                    llm_attempts.push(serde_json::to_value(a).unwrap_or(Value::Null));
                }
                attempts.push((prompt, e.partial_content().map(str::to_string)));
                if let Some(r) = e.response().filter(|r| !r.cached) {
                    q.budget.add(price.and_then(|p| p.cost(r)));
                }
                billed.extend(e.response().cloned());
                end = AttemptEnd::LlmError(e.to_string());
                break;
            }
        };
        if !response.cached {
            q.budget.add(price.and_then(|p| p.cost(&response)));
        }
        for a in &response.attempts {
            llm_attempts.push(serde_json::to_value(a).unwrap_or(Value::Null));
        }
        attempts.push((prompt, Some(response.content.clone())));
        let content = response.content.clone();
        responses.push(response);

        end = match assemble_answer(&q.inputs.dag, &content, arm.arm.generation.response_format) {
            Err((reason, e)) => AttemptEnd::ParseError(reason, e),
            Ok(sql) => {
                optimized = Some(sql.clone());
                if q.no_validate {
                    AttemptEnd::NotValidated
                } else {
                    let t = std::time::Instant::now();
                    let v = q.validate(job.r#gen, job.arm, sql).await;
                    validation_s += t.elapsed().as_secs_f64();
                    match v {
                        Some((v, same_as)) => AttemptEnd::Validated(v, same_as),
                        None => return Err(None),
                    }
                }
            }
        };
        if attempt < retries && retryable(&end) {
            let h = history_entry(attempt, &content, &end);
            if first_error.is_none() {
                first_error = Some(json!({"reason": h.reason, "error": h.error}));
            }
            history.push(h);
            last_optimized = optimized.take();
            continue;
        }
        break;
    }

    let mut record = build_record(&q, &job, &example_ids, &end, &responses, llm_attempts, first_error, attempts.len());
    add_cost(&mut record, q.prices[job.arm].as_ref(), &responses, &billed);
    record["validation_s"] = json!((validation_s * 1000.0).round() / 1000.0);
    if let Some(reason) = retry_not_sent {
        record["retry_not_sent"] = json!(reason);
    }
    Ok(GenOutcome { number: job.r#gen, arm: job.arm, worker: job.worker, attempts, optimized_sql: optimized, record })
}

#[allow(clippy::too_many_arguments)]
fn build_record(
    q: &QueryShared,
    job: &Job,
    example_ids: &[String],
    end: &AttemptEnd,
    responses: &[LlmResponse],
    llm_attempts: Vec<Value>,
    first_error: Option<Value>,
    n_attempts: usize,
) -> Value {
    let arm = &q.arms[job.arm].arm;
    let tokens_p: u64 = responses.iter().map(|r| r.prompt_tokens).sum();
    let tokens_c: u64 = responses.iter().map(|r| r.completion_tokens).sum();
    let from_cache: Vec<&LlmResponse> = responses.iter().filter(|r| r.cached).collect();
    let cached_p: u64 = from_cache.iter().map(|r| r.prompt_tokens).sum();
    let cached_c: u64 = from_cache.iter().map(|r| r.completion_tokens).sum();
    let latency: f64 = responses.iter().map(|r| r.latency_s).sum();
    let mut rec = json!({
        "worker_id": job.r#gen,
        "gen": job.r#gen,
        "arm_worker": job.worker,
        "query_id": q.inputs.query.id,
        "run_id": q.run_id,
        "transforms": transforms(responses.last().map(|r| r.content.as_str())),
        "retried": n_attempts > 1,
        "first_error": first_error,
        "arm": arm.params,
        "arm_name": arm.name,
        "examples": example_ids,
        // prompt/completion: every answer's tokens; cached_*: those of answers re-read
        // from the response cache (not spent by this run).
        "tokens": {"prompt": tokens_p, "completion": tokens_c, "cached_prompt": cached_p, "cached_completion": cached_c},
        "llm_answers": responses.len(),
        "cached_answers": from_cache.len(),
        "latency_s": (latency * 1000.0).round() / 1000.0,
        "cached": responses.last().map(|r| r.cached).unwrap_or(false),
        "model": responses.last().map(|r| r.model.clone()),
        "response_source": responses.last().and_then(|r| r.source.clone()),
        "attempts": n_attempts,
        "llm_attempts": llm_attempts,
        "llm_warnings": responses.iter().flat_map(|r| r.warnings.iter().cloned()).collect::<Vec<_>>(),
    });
    if let Some(obj) = rec.as_object_mut() {
        for (k, v) in end_fields(end) {
            obj.insert(k, v);
        }
        if let AttemptEnd::Validated(_, Some(n)) = end {
            // Named like the folder it points at (the width of the spec's numbering).
            let largest: usize = q.arms.iter().map(|a| a.arm.generation.workers as usize).sum();
            obj.insert("same_as".into(), json!(crate::record::layout::gen_name(*n, largest)));
        }
        for k in ["status", "speedup", "error", "original_time", "optimized_time", "reason", "rows", "timing"] {
            obj.entry(k).or_insert(Value::Null);
        }
    }
    rec
}

/// `cost_usd` (answers this run paid for), `cost_usd_cached` (answers from the response
/// cache, at their price) and `tokens.prompt_cache_hit`; truncated or empty answers count
/// too (the provider bills them). Null when the price or an answer's usage is unknown.
fn add_cost(rec: &mut Value, price: Option<&crate::llm::price::Price>, ok: &[LlmResponse], billed: &[LlmResponse]) {
    let all: Vec<&LlmResponse> = ok.iter().chain(billed).collect();
    let dollars = |cached: bool| -> Option<f64> {
        let mine: Vec<&&LlmResponse> = all.iter().filter(|r| r.cached == cached).collect();
        if mine.is_empty() {
            return Some(0.0);
        }
        let p = price?;
        mine.iter().map(|r| p.cost(r)).sum::<Option<f64>>().map(crate::record::cost::usd)
    };
    rec["cost_usd"] = json!(dollars(false));
    rec["cost_usd_cached"] = json!(dollars(true));
    rec["tokens"]["prompt_cache_hit"] = json!(all.iter().map(|r| r.prompt_cache_hit_tokens).sum::<u64>());
    if !billed.is_empty() {
        let (p, c) = (billed.iter().map(|r| r.prompt_tokens).sum::<u64>(), billed.iter().map(|r| r.completion_tokens).sum::<u64>());
        rec["tokens"]["unusable_prompt"] = json!(p);
        rec["tokens"]["unusable_completion"] = json!(c);
    }
}

/// The rewrite's declared transform(s) (`"transform": "decorrelate, early_filter"` in a
/// dag_json answer), split on commas and `+`; empty when none was declared.
fn transforms(content: Option<&str>) -> Vec<String> {
    let Some(set) = content.and_then(|c| crate::dag::extract_rewrite_set(c).ok()) else { return Vec::new() };
    let mut out: Vec<String> = Vec::new();
    let mut push = |t: &str| {
        let t = t.trim().to_lowercase();
        if !t.is_empty() && !out.contains(&t) {
            out.push(t);
        }
    };
    match set.raw.get("transform") {
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(|v| v.as_str()).for_each(&mut push),
        _ => set.transform.as_deref().unwrap_or_default().split([',', '+']).for_each(&mut push),
    }
    out
}

/// Response text -> candidate SQL, or the parse_error reason. Never the original SQL.
fn assemble_answer(
    dag: &Result<crate::dag::Dag, String>,
    content: &str,
    format: crate::spec::ResponseFormat,
) -> Result<String, (&'static str, String)> {
    match dag {
        Ok(d) => crate::dag::assemble(d, content, format).map_err(|e| (e.reason(), e.to_string())),
        Err(e) => Err(("parse_error", format!("the original query has no DAG ({e}), so the answer cannot be assembled"))),
    }
}
