//! # cortecs
//!
//! A neural network simulation engine on `bevy_ecs`: populations with spatial
//! structure, projections built by connection strategies, masks and Dale's
//! law, rate (CTRNN) and spiking (LIF, AdEx, Izhikevich) dynamics on compiled
//! contiguous kernels, usable embedded in a host's `World`, from scene files,
//! or headless from the CLI.
//!
//! Layout: `src/` holds what things are and pure computation (parameter
//! values, spatial structure, connection strategies, synapse stores, neuron
//! models, kernels); [`systems`] holds when things happen (the ECS stages).
#![warn(missing_docs)]

pub mod connect;
pub mod error;
pub mod expr;
pub mod param;
pub mod rng;
pub mod spatial;
pub mod store;

pub use error::{CortecsError, Result};
