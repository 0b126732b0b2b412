//! (placeholder: filled in by the run work)
