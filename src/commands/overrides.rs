//! `--set`, `--ids`, `--model`, `--base-url`, `--budget-usd` -> the spec overrides the
//! loader applies (`spec::overrides`): the shortcuts are sugar for `--set`.

use super::cli::OverrideArgs;
use crate::spec::overrides::{self, Override};
use crate::spec::SpecError;

pub fn from_args(a: &OverrideArgs) -> Result<Vec<Override>, SpecError> {
    let mut shortcuts = Vec::new();
    if let Some(ids) = &a.ids {
        shortcuts.push(overrides::ids(ids)?);
    }
    if let Some(m) = &a.model {
        shortcuts.push(overrides::shortcut("--model", "llm.model", overrides::toml_string(m), m));
    }
    if let Some(u) = &a.base_url {
        shortcuts.push(overrides::shortcut("--base-url", "llm.base_url", overrides::toml_string(u), u));
    }
    if let Some(b) = a.budget_usd {
        // Debug keeps a decimal point (2.0), so the value is a TOML float.
        shortcuts.push(overrides::shortcut("--budget-usd", "generation.budget_usd", format!("{b:?}"), &b.to_string()));
    }
    overrides::collect(&a.set, shortcuts)
}
