//! (placeholder: filled in by the prompt work)
