//! Scene files: a network, its recordings and a timeline of actions in one
//! RON file, run by `cortecs run scenes/x.ron`.
//!
//! ```ron
//! (
//!     dt: 0.1,                       // ms
//!     seed: 12345,
//!     populations: [
//!         (name: "exc", size: 800, model: Lif(synapse: CondExp), polarity: Excitatory,
//!          structure: Grid2D(nx: 40, ny: 20, dx: 10.0, dy: 10.0, x0: 0.0, y0: 0.0),
//!          params: {"v_init": Normal(mean: -60.0, std: 5.0), "v_thresh": "-50 + 0.001 * x"}),
//!     ],
//!     projections: [
//!         (name: "ee", pre: "exc", post: "exc", strategy: FixedProbability(p: 0.02),
//!          weight: 6.0, delay: Uniform(low: 0.5, high: 2.0)),
//!     ],
//!     drives: [(population: "exc", rate: 2000.0, weight: 2.0)],
//!     record: (spikes: ["exc"], state: [(population: "exc", variable: "v", neurons: [0, 1], every: 10)]),
//!     timeline: [Run(ms: 500.0), Lesion(projection: "ee", pre: 0, post: 3), Run(ms: 500.0)],
//! )
//! ```
//!
//! A parameter value is a number, an expression string, an inline array,
//! a distribution (`Normal(mean: .., std: ..)`, `Uniform(low: .., high: ..)`,
//! ...) or `Npy("file.npy")` (relative to the scene's folder). Every error names
//! the file, line and column: syntax errors where the parser stopped, model
//! errors at the population or projection they concern.
//!
//! # Where the parts live
//!
//! This file holds [`Scene`] and [`parse`]; `defs.rs` the item types
//! (`*Def`, [`Action`]; they mirror [`crate::population::PopulationSpec`] and
//! [`crate::projection::ProjectionSpec`]); `build.rs` [`build`]; `run.rs`
//! [`run_file`], [`run_scene`] and [`Summary`]. Neighbours: recorders are
//! [`crate::record`]'s, `Save` is [`crate::checkpoint`]'s.

mod build;
mod defs;
mod loaded;
mod path;
mod run;
mod validate;

pub use build::*;
pub use defs::*;
use loaded::input_array;
pub use loaded::{checkpoint_scene_text, is_checkpoint};
pub use path::set_path;
pub use run::*;
pub use validate::*;

use crate::error::{CortecsError, Result};
use serde::Deserialize;
use std::path::Path;

/// A whole scene file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scene {
    /// Time step (ms).
    #[serde(default = "default_dt")]
    pub dt: f64,
    /// Global seed.
    #[serde(default)]
    pub seed: u64,
    /// Times and delays that are not whole steps of `dt`: refused (`Exact`,
    /// the default) or rounded to the nearest step (`Nearest`).
    #[serde(default)]
    pub rounding: crate::network::Rounding,
    /// Non-finite state during the run: `Stop` (the default: the run ends
    /// with an error naming population, neuron, variable, step and time) or `Warn`.
    #[serde(default)]
    pub on_non_finite: crate::network::OnNonFinite,
    /// Steps between checks for non-finite state (default 100, and after the
    /// last step of every run segment; 1: every step; 0: never).
    #[serde(default = "default_check_every")]
    pub check_every: u64,
    /// A checkpoint to start from (relative to the scene's folder): its
    /// network, with the populations and projections below added after its
    /// own; `dt` and `seed` default to the checkpoint's.
    #[serde(default)]
    pub load: Option<std::path::PathBuf>,
    /// The network `load` names, read when the scene is loaded ([`load`]).
    #[serde(skip)]
    pub loaded: Option<std::sync::Arc<crate::network::Network>>,
    /// Populations, in update order (after a loaded network's).
    #[serde(default)]
    pub populations: Vec<PopulationDef>,
    /// Projections.
    #[serde(default)]
    pub projections: Vec<ProjectionDef>,
    /// Poisson drives.
    #[serde(default)]
    pub drives: Vec<DriveDef>,
    /// Noisy currents (NEST `noise_generator`); a loaded checkpoint keeps
    /// its own, and one written here for the same population replaces it.
    #[serde(default)]
    pub noise_currents: Vec<NoiseCurrentDef>,
    /// Recordings.
    #[serde(default)]
    pub record: RecordDef,
    /// A closed loop: a world the network senses and moves (default none).
    #[serde(default)]
    pub environment: Option<EnvironmentDef>,
    /// Actions in order; default: run 1000 ms.
    #[serde(default)]
    pub timeline: Vec<Action>,
}

fn default_check_every() -> u64 {
    crate::network::DEFAULT_CHECK_EVERY
}

fn default_dt() -> f64 {
    0.1
}

/// Line and column (1-based) of the first occurrence of `needle` in `text`.
fn locate(text: &str, needle: &str) -> (usize, usize) {
    match text.find(needle) {
        Some(at) => {
            let before = &text[..at];
            let line = before.matches('\n').count() + 1;
            let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            (line, col)
        }
        None => (1, 1),
    }
}

/// Where a scene item is, for error messages.
struct Located<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Located<'_> {
    /// The error placed at the value a scene path names (`["timeline", "3", "projection"]`),
    /// or at its nearest written ancestor.
    fn at_path(&self, path: &[&str], e: CortecsError) -> CortecsError {
        let (line, column) = path::line_col(self.text, path::offset_of(self.text, path));
        CortecsError::Scene {
            path: self.path.to_path_buf(),
            line,
            column,
            message: e.to_string(),
        }
    }

    /// The error placed at the item called `name`, or at the unknown name it complains of.
    fn at(&self, name: &str, e: CortecsError) -> CortecsError {
        let needle = match &e {
            CortecsError::UnknownName { name: unknown, .. } if self.text.contains(&format!("\"{unknown}\"")) => {
                unknown.clone()
            }
            _ => name.to_string(),
        };
        let (line, column) = locate(self.text, &format!("\"{needle}\""));
        CortecsError::Scene {
            path: self.path.to_path_buf(),
            line,
            column,
            message: e.to_string(),
        }
    }
}

/// Parses a scene from text; `path` is used in messages.
pub fn parse(path: &Path, text: &str) -> Result<Scene> {
    let options = ron::Options::default()
        .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
        .with_default_extension(ron::extensions::Extensions::UNWRAP_VARIANT_NEWTYPES);
    options.from_str::<Scene>(text).map_err(|e| {
        let (line, column, message) =
            value_error(text, &e).unwrap_or((e.span.start.line, e.span.start.col, with_suggestion(&e.code)));
        CortecsError::Scene {
            path: path.to_path_buf(),
            line,
            column,
            message,
        }
    })
}

/// For a parameter value none of whose forms matched (serde's "did not
/// match any variant of untagged enum"): the distribution's or `Npy`'s own
/// error, placed inside the value.
fn value_error(text: &str, e: &ron::error::SpannedError) -> Option<(usize, usize, String)> {
    if !e.code.to_string().contains("untagged enum ValueDef") {
        return None;
    }
    let mut at = path::offset(text, e.span.start.line, e.span.start.col);
    if matches!(text.as_bytes().get(at), Some(b')' | b']' | b'}')) {
        at += 1; // RON stops at the value's closing bracket
    }
    let (start, end) = path::value_at(text, at)?;
    let value = &text[start..end];
    let inner = if value.starts_with("Npy") {
        ron::from_str::<NpyFile>(value).err()
    } else {
        ron::from_str::<crate::param::Distribution>(value).err()
    }?;
    let (line, column) = path::line_col(
        text,
        start + path::offset(value, inner.span.start.line, inner.span.start.col),
    );
    let message = format!(
        "not a number, expression string, array, distribution or Npy(\"file\"): {}",
        with_suggestion(&inner.code)
    );
    Some((line, column, message))
}

/// RON's message, with the nearest valid name for an unknown variant or field.
fn with_suggestion(code: &ron::Error) -> String {
    let hint = match code {
        ron::Error::NoSuchEnumVariant { expected, found, .. }
        | ron::Error::NoSuchStructField { expected, found, .. } => {
            crate::error::nearest(found, expected).map(|n| format!(" (did you mean `{n}`?)"))
        }
        _ => None,
    };
    format!("{code}{}", hint.unwrap_or_default())
}

/// Reads, parses and validates a scene file (see [`validate`]); with
/// `sets`, each `(path, value)` edits the text first (see [`set_path`]), so
/// errors point into the edited text. Returns the scene and its final text.
/// A checkpoint file reads as the scene [`checkpoint_scene_text`] writes
/// for it; a scene's `load` is read here (see [`Scene::load`]).
pub fn load(path: &Path, sets: &[(String, String)]) -> Result<(Scene, String)> {
    // a checkpoint run as a scene: read once, for its scene text and as the network it loads
    let mut read = None;
    let mut text = if is_checkpoint(path) {
        let net = crate::checkpoint::load(path)?;
        let text = checkpoint_scene_text(path, &net);
        read = Some(net);
        text
    } else {
        std::fs::read_to_string(path).map_err(|e| CortecsError::file(path, e))?
    };
    parse(path, &text)?;
    for (p, v) in sets {
        text = set_path(&text, p, v)?;
    }
    let mut scene = parse(path, &text)?;
    loaded::resolve(&mut scene, path, &text, read)?;
    validate(&scene, path, &text)?;
    Ok((scene, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_error_names_file_line_and_column() {
        let text = "(\n  populations: [\n    (name: \"a\", size: 10, model: Lif(synapse: CondExp)),,\n  ],\n)";
        let e = parse(Path::new("x.ron"), text).unwrap_err().to_string();
        assert!(e.starts_with("x.ron:3:"), "{e}");
    }
}
