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

pub mod checkpoint;
pub mod connect;
pub mod ecs;
pub mod env;
pub mod error;
pub mod expr;
pub mod io;
pub mod kernel;
pub mod linalg;
pub mod mask;
pub mod model;
pub mod network;
pub mod param;
pub mod plasticity;
pub mod population;
pub mod projection;
pub mod record;
pub mod rng;
pub mod scene;
pub mod space;
pub mod store;
#[path = "../systems/mod.rs"]
pub mod systems;
pub mod train;
pub mod workloads;

pub use error::{CortecsError, Result};

/// The README's code blocks, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The names most programs need.
pub mod prelude {
    pub use crate::connect::{Polarity, Strategy};
    pub use crate::ecs::*;
    pub use crate::error::{CortecsError, Result};
    pub use crate::model::{Activation, ModelKind, SynapseKind};
    pub use crate::network::{Network, NoiseCurrent, OnNonFinite, Rounding};
    pub use crate::param::{BiasInit, ClipMode, Distribution, FanMode, Gain, Init, Sequence, Value};
    pub use crate::plasticity::{Growth, GrowthProbability, Learning, Pruning, Rule, Stdp};
    pub use crate::population::{PoissonDrive, PolaritySpec, PopulationSpec, View};
    pub use crate::projection::{Adjuster, Coo, Csr, ProjectionSpec, Selection, SignFilter, SignPolicy, SynapseSlot};
    pub use crate::space::{Space, Structure};
    pub use crate::systems::{CortecsSystems, add_to_schedule};
}
