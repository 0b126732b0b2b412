//! Built-in prices of a few well-known models, in US dollars per million tokens: used when
//! the spec gives no `[llm] price`. Prices change: every run records which price it used
//! and where it came from (config.json `prices`), and `[llm] price` overrides this table.
//!
//! Matched on the exact model name (case-insensitive), never on a prefix or a family:
//! an unknown model has no price (cost `null`), never a guessed one.

/// The day these prices were checked, and against what.
pub const CHECKED: &str = "2026-12-06";
pub const SOURCES: &str = "api-docs.deepseek.com/quick_start/pricing (DeepSeek-V3.2 list, in force since 2025-09-29), \
                           developers.openai.com/api/docs/pricing (standard tier)";

/// (model, input, cached input, output), $ per million tokens.
pub const TABLE: &[(&str, f64, f64, f64)] = &[
    // DeepSeek: one price for both endpoints; cache hits at a tenth.
    ("deepseek-chat", 0.28, 0.028, 0.42),
    ("deepseek-reasoner", 0.28, 0.028, 0.42),
    // OpenAI, standard processing.
    ("gpt-5", 1.25, 0.125, 10.00),
    ("gpt-5-mini", 0.25, 0.025, 2.00),
    ("gpt-5-nano", 0.05, 0.005, 0.40),
    ("gpt-4.1", 2.00, 0.50, 8.00),
    ("gpt-4.1-mini", 0.40, 0.10, 1.60),
    ("gpt-4.1-nano", 0.10, 0.025, 0.40),
    ("gpt-4o", 2.50, 1.25, 10.00),
    ("gpt-4o-mini", 0.15, 0.075, 0.60),
    ("o3", 2.00, 0.50, 8.00),
    ("o4-mini", 1.10, 0.275, 4.40),
];
