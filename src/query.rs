//! Finding and loading query files (placeholder).
