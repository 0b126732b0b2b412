//! What an answer cost, in US dollars: the price of an arm's model (`[llm] price`, else
//! the built-in table of `price_table.rs`, else unknown) applied to the usage the provider
//! reported: prompt tokens served from the provider's prompt cache at the cached-input
//! price, the other prompt tokens at the input price, completion tokens (reasoning
//! included) at the output price. An unknown price or unreported usage gives no cost,
//! never a guess. Replayed answers are free (no provider was called).

use super::LlmResponse;
use crate::spec::{LlmCfg, ProviderKind};
use serde::Serialize;

/// Dollars per million tokens, and where the figures come from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    pub cached_input: f64,
    /// `spec` (`[llm] price`), `built-in (checked DATE)`, or `replay (free)`.
    pub source: String,
}

impl Price {
    /// The price an arm's answers are charged at, if known.
    pub fn resolve(cfg: &LlmCfg) -> Option<Price> {
        if cfg.provider == ProviderKind::Replay {
            return Some(Price { input: 0.0, output: 0.0, cached_input: 0.0, source: "replay (free)".into() });
        }
        if let Some(p) = cfg.price {
            return Some(Price {
                input: p.input,
                output: p.output,
                cached_input: p.cached_input.unwrap_or(p.input),
                source: "spec".into(),
            });
        }
        builtin(&cfg.model)
    }

    /// The dollars of one answer; None when the provider reported no usage.
    pub fn cost(&self, r: &LlmResponse) -> Option<f64> {
        if !r.usage_reported {
            return None;
        }
        let hit = r.prompt_cache_hit_tokens.min(r.prompt_tokens) as f64;
        let miss = r.prompt_tokens as f64 - hit;
        Some((miss * self.input + hit * self.cached_input + r.completion_tokens as f64 * self.output) / 1e6)
    }

    /// `$0.28 / $0.42 per M tokens (cached input $0.028), built-in (checked 2026-12-06)`.
    pub fn describe(&self) -> String {
        format!(
            "${} in / ${} out per M tokens (cached input ${}), {}",
            self.input, self.output, self.cached_input, self.source
        )
    }
}

/// The built-in price of `model` (exact name, case-insensitive).
pub fn builtin(model: &str) -> Option<Price> {
    let m = model.trim();
    super::price_table::TABLE.iter().find(|(name, ..)| name.eq_ignore_ascii_case(m)).map(|&(_, input, cached_input, output)| {
        Price { input, output, cached_input, source: format!("built-in (checked {})", super::price_table::CHECKED) }
    })
}

/// The sentence shown when an arm has no price: what to write to get one.
pub fn unknown_price_hint(model: &str) -> String {
    format!(
        "no price known for model `{model}`: its cost is recorded as null. Set it in the spec's [llm] section, \
         e.g. price = {{ input = 0.28, output = 0.42, cached_input = 0.028 }} (dollars per million tokens), \
         or for this run: --set 'llm.price={{input = 0.28, output = 0.42}}'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::PriceCfg;

    fn answer(prompt: u64, hit: u64, completion: u64) -> LlmResponse {
        LlmResponse {
            content: "x".into(),
            finish_reason: Some("stop".into()),
            model: "m".into(),
            prompt_tokens: prompt,
            completion_tokens: completion,
            prompt_cache_hit_tokens: hit,
            usage_reported: true,
            latency_s: 0.0,
            cached: false,
            attempts: Vec::new(),
            source: None,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn cost_splits_cached_prompt_tokens() {
        let p = Price { input: 0.28, output: 0.42, cached_input: 0.028, source: "t".into() };
        let c = p.cost(&answer(1_000_000, 400_000, 500_000)).unwrap();
        assert!((c - (0.6 * 0.28 + 0.4 * 0.028 + 0.5 * 0.42)).abs() < 1e-12, "{c}");
        let mut none = answer(10, 0, 10);
        none.usage_reported = false;
        assert_eq!(p.cost(&none), None, "no usage, no cost: never a guess");
    }

    #[test]
    fn spec_price_then_builtin_then_unknown() {
        let mut cfg = LlmCfg { model: "DeepSeek-Chat".into(), ..LlmCfg::default() };
        let b = Price::resolve(&cfg).unwrap();
        assert_eq!((b.input, b.output, b.cached_input), (0.28, 0.42, 0.028));
        assert!(b.source.starts_with("built-in (checked 20"), "{}", b.source);
        cfg.price = Some(PriceCfg { input: 1.0, output: 2.0, cached_input: None });
        let s = Price::resolve(&cfg).unwrap();
        assert_eq!((s.input, s.output, s.cached_input, s.source.as_str()), (1.0, 2.0, 1.0, "spec"));
        let unknown = LlmCfg { model: "deepseek-chat-v9".into(), ..LlmCfg::default() };
        assert_eq!(Price::resolve(&unknown), None, "a name close to a known one is still unknown");
        let replay = LlmCfg { provider: ProviderKind::Replay, model: "whatever".into(), ..LlmCfg::default() };
        assert_eq!(Price::resolve(&replay).map(|p| p.input), Some(0.0));
    }

    #[test]
    fn every_table_row_is_a_sane_price() {
        for (name, input, cached, output) in super::super::price_table::TABLE {
            assert!(*cached <= *input && *input <= *output && *input > 0.0, "{name}");
        }
    }
}
