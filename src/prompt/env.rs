//! The minijinja environment prompts are rendered with: templates loaded from one
//! folder (so `include`/`extends` resolve next to the main template), strict undefined
//! variables, no auto-escaping, and a few filters (`sql`, `json`/`tojson`, builtin
//! `indent`).
//!
//! It does not build the context (see `context.rs`); errors always name the template
//! file and line so a broken template is fixed in one look.

use super::PromptError;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use std::path::{Path, PathBuf};

pub struct PromptEnv {
    env: Environment<'static>,
    root: PathBuf,
}

impl PromptEnv {
    /// An environment loading templates from `root` (a folder).
    pub fn new(root: &Path) -> Result<Self, PromptError> {
        if !root.is_dir() {
            return Err(PromptError::NoTemplateDir(root.to_path_buf()));
        }
        let mut env = Environment::new();
        env.set_loader(minijinja::path_loader(root));
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        env.add_filter("sql", |s: String| crate::dag::format_sql(&s));
        env.add_filter("json", to_json);
        env.add_filter("tojson", to_json);
        Ok(PromptEnv {
            env,
            root: root.to_path_buf(),
        })
    }

    /// The environment for one template file: its folder is the root.
    pub fn for_template(template: &Path) -> Result<Self, PromptError> {
        let root = template.parent().filter(|p| !p.as_os_str().is_empty());
        Self::new(root.unwrap_or(Path::new(".")))
    }

    /// Render `template_path` (relative to the root, or a path inside it) with `ctx`.
    pub fn render(
        &self,
        template_path: &Path,
        ctx: &serde_json::Value,
    ) -> Result<String, PromptError> {
        let name = self.template_name(template_path)?;
        let template = self
            .env
            .get_template(&name)
            .map_err(|e| self.render_error(&name, e, ctx))?;
        template
            .render(ctx)
            .map_err(|e| self.render_error(&name, e, ctx))
    }

    /// Template name for the loader: the path relative to the root, `/`-separated.
    fn template_name(&self, path: &Path) -> Result<String, PromptError> {
        let relative = match path.strip_prefix(&self.root) {
            Ok(rel) => rel.to_path_buf(),
            Err(_) if path.is_absolute() => {
                return Err(PromptError::OutsideRoot {
                    path: path.into(),
                    root: self.root.clone(),
                });
            }
            Err(_) => path.to_path_buf(),
        };
        let parts: Vec<String> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        Ok(parts.join("/"))
    }

    /// A render error located where the problem is: inside an included partial, its
    /// file:line (the include line is named as "included from"), and for an undefined
    /// value, the name of the missing variable or field.
    fn render_error(&self, requested: &str, e: minijinja::Error, ctx: &serde_json::Value) -> PromptError {
        let outer_loc = self.location(e.name().unwrap_or(requested), e.line());
        // The innermost template error with a line: an include wraps the partial's error.
        let mut inner: &minijinja::Error = &e;
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            if let Some(m) = s.downcast_ref::<minijinja::Error>()
                && m.line().is_some()
                && m.name().is_some()
            {
                inner = m;
            }
            source = s.source();
        }
        let name = inner.name().unwrap_or(requested);
        let location = self.location(name, inner.line());
        let mut message = match inner.detail() {
            Some(detail) => format!("{}: {detail}", inner.kind()),
            None => inner.kind().to_string(),
        };
        let mut source = std::error::Error::source(inner);
        while let Some(s) = source {
            message.push_str(&format!(" ({s})"));
            source = s.source();
        }
        // Quote what the error points at: the expression, then the whole line.
        let mut quote = String::new();
        if let Ok(text) = std::fs::read_to_string(self.root.join(name)) {
            if let Some(expr) = inner.range().and_then(|r| text.get(r)) {
                message.push_str(&format!(" in `{}`", expr.trim()));
            }
            if let Some(line) = inner.line().and_then(|l| text.lines().nth(l.saturating_sub(1))) {
                quote = format!("\n    | {}", line.trim_end());
                if inner.kind() == minijinja::ErrorKind::UndefinedError
                    && let Some(why) = super::undefined::explain(line, &text, ctx)
                {
                    message.push_str(&format!(": {why}"));
                }
            }
        }
        if !std::ptr::eq(inner, &e) {
            message.push_str(&format!(" (included from {outer_loc})"));
        }
        PromptError::Render { location, message, quote }
    }

    fn location(&self, name: &str, line: Option<usize>) -> String {
        let file = self.root.join(name).display().to_string();
        match line {
            Some(line) => format!("{file}:{line}"),
            None => file,
        }
    }
}

/// `value | json` / `value | tojson`: pretty JSON (2 spaces), no HTML escaping — the
/// prompt is plain text and SQL contains `<`, `>` and quotes.
fn to_json(value: minijinja::Value) -> Result<String, minijinja::Error> {
    serde_json::to_string_pretty(&value).map_err(|e| {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            "cannot serialize to JSON",
        )
        .with_source(e)
    })
}
