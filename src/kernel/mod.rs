//! Every hot loop of the engine, and nothing else (Nengo's
//! `builder/operator.py`, GeNN's generated neuron and synapse updates).
//!
//! A step ([`step()`]) runs, in order: every population in declaration
//! order — rate units ([`update_rate`]: `W r` from each incoming projection,
//! dense kernel or post-major store, then Euler step, noise, activation) or
//! spiking neurons and sources ([`update_spiking`]: drives, ring input, the
//! neuron model's step) — then spike delivery ([`scatter`]) into each post
//! population's delay ring ([`crate::population::DelayRing`]).
//!
//! Files: `step.rs` (the order), `neuron_rate.rs` (rate units, activations,
//! `fast_tanh`), `neuron_spiking.rs` (sources, drives and the spiking
//! models' equations), `synapse_rate.rs` (`W r`), `synapse_spiking.rs`
//! (scatter).
//!
//! Kernels read contiguous arrays of `population/` and `projection/`; they
//! never see `Entity`, `Query` or `World`, never allocate in a step, and
//! split work into fixed chunks of [`NEURON_CHUNK`] neurons (each with its
//! own random stream), so results are the same at any thread count. Spike
//! delivery splits a step's deliveries by post range, one per pool thread
//! ([`SCATTER_PARALLEL_MIN`]): each post neuron still sums its inputs in
//! spike order.

#[cfg(test)]
mod membrane_reference;
mod neuron_rate;
mod neuron_spiking;
mod step;
mod synapse_rate;
mod synapse_spiking;

pub use neuron_rate::*;
pub use neuron_spiking::*;
pub use step::step;
pub use synapse_rate::*;
pub use synapse_spiking::*;

/// Neurons per parallel work unit and per noise stream (fixed, never tied to threads).
pub const NEURON_CHUNK: usize = 1024;
/// Populations smaller than this are updated on the calling thread: waking
/// the pool costs more than the work (W1's 4000 neurons take ~10 µs a step).
pub const PARALLEL_MIN: usize = 16 * NEURON_CHUNK;
/// Spiking populations from this size are updated chunk by chunk on the
/// pool when it has more than one thread (W2's 10,000 excitatory neurons
/// with their Poisson drive take ~50 µs a step; W1's 3,200 stay on one).
pub const SPIKING_PARALLEL_MIN: usize = 4 * NEURON_CHUNK;
