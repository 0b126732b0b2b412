//! (placeholder: filled in by the db work)
