//! (placeholder: filled in by the llm work)
