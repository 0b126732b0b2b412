//! clap derive structs (placeholder).
