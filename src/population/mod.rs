//! Populations (PyNN's `Population`): `size` neurons of one model, with
//! per-neuron parameters, positions from a spatial structure, a polarity for
//! Dale's law, and dynamic state.
//!
//! - `spec.rs`: [`PopulationSpec`] and [`PolaritySpec`], what is declared;
//! - `population.rs`: [`Population`], what is built, with get/set by name;
//! - `state.rs`: [`PopulationState`], the arrays the kernels advance;
//! - `view.rs`: [`View`], which neurons a get/set addresses;
//! - `delay_ring.rs`: [`DelayRing`], input waiting to arrive at a spiking
//!   population (Brian2's `SpikeQueue` as its own type; the scatter that
//!   fills it and the step that drains it are in `kernel/`).
//!
//! Models (what a neuron *is*) are in `model/`, parameter values in
//! `param/`, positions in `space/`; the step that advances a population is in
//! `kernel/`; populations are built by `network/`.

mod delay_ring;
#[allow(clippy::module_inception)]
mod population;
mod spec;
mod state;
mod view;

pub use delay_ring::DelayRing;
pub use population::*;
pub use spec::*;
pub use state::*;
pub use view::*;
