//! Every hot loop and nothing else; kernels never see `Entity`, `Query` or
//! `World`. They read contiguous arrays (the model's parameters and state in
//! `crate::model`, the synapse stores) and never allocate in a step.
//!
//! Files: the spiking neuron step [`step_spiking`] (`neuron_spiking.rs`),
//! rate-unit arithmetic [`fast_tanh`] (`neuron_rate.rs`).

mod neuron_rate;
mod neuron_spiking;

pub use neuron_rate::*;
pub use neuron_spiking::*;
