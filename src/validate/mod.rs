//! (placeholder: filled in by the validate work)
