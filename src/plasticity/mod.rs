//! Learning while the network runs: local plasticity rules (a rule is data
//! plus a kernel, as a neuron model is), their state, and the kernels that
//! change the weights in the store the synapse kernels read.
//!
//! - `rule.rs`: the rules and their parameters ([`Rule`], [`Learning`]
//!   with the bounds): pair STDP (additive or multiplicative, all-to-all or
//!   nearest), triplet STDP, reward-modulated STDP; Hebbian, Oja, BCM, PES;
//!   synaptic scaling.
//! - `state.rs`: [`Plastic`], what a learning projection keeps: traces per
//!   neuron, eligibility per synapse, modulator and error, the pre spikes in
//!   flight, and the [`PostIndex`] that a post spike walks.
//! - `spiking.rs`: trace decay, arrivals (PSP + pre-side update), departures
//!   (post-side update, the modulated step, scaling); the time convention.
//! - `rate.rs`: the rate rules, after the step's neuron updates.
//! - `structural.rs`: growth and pruning ([`Growth`], [`Pruning`], the
//!   [`Rewiring`] state, growth sampling by geometric skips, pruning counters).
//!
//! Every update is scaled by the synapse's learning factor (the plasticity
//! mask; 0 = fixed: skipped, its weight stays bit-identical), bounded to
//! `[w_min, w_max]`, and under Dale's law a weight stops at 0 (never changes
//! sign). Removed synapses (sparsity zeros, lesions) are skipped. The step
//! order that calls these kernels lives in the kernel floor; projections
//! hold a [`Plastic`] and log the slots it changed for their mirrors.

mod rate;
mod rule;
mod spiking;
mod state;
mod structural;
#[cfg(test)]
mod tests;

pub use rate::*;
pub use rule::*;
#[cfg(test)]
pub(crate) use spiking::PLASTIC_PARALLEL_MIN;
pub use spiking::{arrive, decay, depart};
pub use state::*;
pub use structural::*;
