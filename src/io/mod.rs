//! Leaves for files: formats and helpers that know no engine type (PNG, ...).

mod png;
pub use png::*;
