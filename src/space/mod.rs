//! Space: where neurons sit and how far apart they are (PyNN/NEST style).
//!
//! A [`Structure`] says where the neurons of a population sit: on a line, on
//! a 2-D or 3-D grid, uniformly at random in a box or a ball, or at explicit
//! positions. Positions are `[x, y, z]` in micrometres (µm); the unit is only
//! a convention, nothing here depends on it.
//!
//! A [`Space`] gives the boundary conditions used to measure distances: open
//! space, or periodic (a torus) on some axes, with the minimum-image
//! convention. [`periodic_extent`] gives the natural torus of a line or grid.
//!
//! A [`GridIndex`] answers radius queries over a set of points in time
//! proportional to the number of points near the query (plus the cells
//! visited), so that distance-based connection strategies with a cutoff are
//! built in time linear in the number of synapses rather than in
//! `n_pre * n_post`. Results come in ascending index order, so they are
//! deterministic.
//!
//! Random structures draw from a caller-provided generator through
//! [`rand::Rng::next_u64`] only, with a fixed recipe (see
//! [`Structure::positions`]), so positions for a given seed do not change
//! with the version of `rand`.
//!
//! `structure.rs` holds [`Structure`] and the positions it gives,
//! `distance.rs` holds [`Space`] (periodic distances), `grid_index.rs` holds
//! [`GridIndex`], and `error.rs` holds [`SpaceError`]. Populations
//! (`population/`) take their positions from a structure; per-synapse values
//! (`param/`, `SynapsePairs`) and the distance-dependent connection rules
//! (`connect/`) measure distances in a space, the latter through a grid
//! index.

mod distance;
mod error;
mod grid_index;
mod structure;

pub use distance::Space;
pub use error::SpaceError;
pub use grid_index::GridIndex;
pub use structure::{Structure, periodic_extent};

/// The seeded generator the tests of this folder draw positions from.
#[cfg(test)]
fn rng(seed: u64) -> rand::rngs::Xoshiro256PlusPlus {
    use rand::SeedableRng;
    rand::rngs::Xoshiro256PlusPlus::seed_from_u64(seed)
}
