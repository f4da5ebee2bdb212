//! Scene files (placeholder until the scene runner lands).
use crate::error::{CortecsError, Result};
use std::path::Path;
/// Runs a scene file and returns a summary.
pub fn run_file(path: &Path, _out: Option<&Path>) -> Result<String> {
    Err(CortecsError::file(path, "scene files are not supported yet"))
}
