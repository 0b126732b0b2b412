//! (placeholder: filled in by the dag work)
