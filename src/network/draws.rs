//! Run-time random operations keyed by their target: [`DrawCounts`].
//!
//! Build-time draws are keyed by `(seed, population or projection name,
//! purpose, chunk)` (see [`crate::rng`]). Run-time draws (a `set` with a
//! distribution, `adjust` with `Randomize`, `Perturb`, `RandomizeSymmetric`
//! or `Prune(Fraction)`, `lesion_selection(Fraction)`; growth keeps its own
//! per-projection event count, `network/rewire.rs`) are keyed in
//! the same way with the purpose `"<what>#<n>"`, where `n` counts the random
//! operations *of that target only*. So inserting a random edit on one
//! projection never changes the draws of the edits on another, and the
//! counts travel in checkpoints (format 3), so a loaded network continues
//! with the draws it would have made.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many random run-time operations each population and projection has had.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawCounts {
    /// Per population name.
    #[serde(deserialize_with = "de_counts")]
    pub populations: BTreeMap<String, u64>,
    /// Per projection name.
    #[serde(deserialize_with = "de_counts")]
    pub projections: BTreeMap<String, u64>,
}

/// A name read through [`crate::io::de_string`], which checks its length
/// against the bytes left before allocating.
#[derive(Deserialize)]
struct Name(#[serde(deserialize_with = "crate::io::de_string")] String);

/// Reads a count map whose names are [`Name`]s: a corrupt checkpoint
/// claiming a 4.6e18-byte name is a decode error, not an abort (found by
/// the checkpoint fuzz target, `fuzz/regressions/checkpoint/`).
fn de_counts<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<String, u64>, D::Error> {
    let pairs: Vec<(Name, u64)> = Deserialize::deserialize(d)?;
    Ok(pairs.into_iter().map(|(n, c)| (n.0, c)).collect())
}

impl DrawCounts {
    /// Random operations done on population `name` so far.
    pub fn population(&self, name: &str) -> u64 {
        self.populations.get(name).copied().unwrap_or(0)
    }

    /// Random operations done on projection `name` so far.
    pub fn projection(&self, name: &str) -> u64 {
        self.projections.get(name).copied().unwrap_or(0)
    }

    /// Counts one more operation on population `name`; returns its number (from 1).
    pub(crate) fn next_population(&mut self, name: &str) -> u64 {
        bump(&mut self.populations, name)
    }

    /// Counts one more operation on projection `name`; returns its number (from 1).
    pub(crate) fn next_projection(&mut self, name: &str) -> u64 {
        bump(&mut self.projections, name)
    }

    /// The largest count (for the checkpoint's plausibility check).
    pub fn max(&self) -> u64 {
        self.populations
            .values()
            .chain(self.projections.values())
            .copied()
            .max()
            .unwrap_or(0)
    }
}

fn bump(map: &mut BTreeMap<String, u64>, name: &str) -> u64 {
    let n = map.entry(name.to_string()).or_insert(0);
    *n += 1;
    *n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_per_target() {
        let mut d = DrawCounts::default();
        assert_eq!(d.next_projection("a"), 1);
        assert_eq!(d.next_projection("a"), 2);
        assert_eq!(d.next_projection("b"), 1);
        assert_eq!(d.next_population("a"), 1);
        assert_eq!((d.projection("a"), d.projection("b"), d.population("a")), (2, 1, 1));
        assert_eq!(d.projection("c"), 0);
        assert_eq!(d.max(), 2);
    }
}
