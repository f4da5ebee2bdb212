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

pub mod access;
pub mod adjust;
pub mod checkpoint;
pub mod connect;
pub mod constraint;
pub mod embed;
pub mod error;
pub mod expr;
pub mod io;
pub mod masks;
pub mod memory;
pub mod model;
pub mod param;
pub mod rng;
pub mod spatial;
pub mod store;

pub use error::{CortecsError, Result};
pub mod components;
pub mod network;
pub mod record;
pub mod scene;
pub mod simulation;
#[path = "../systems/mod.rs"]
pub mod systems;
pub mod workloads;

/// The names most programs need.
pub mod prelude {
    pub use crate::access::{Coo, Csr};
    pub use crate::adjust::{Adjuster, Selection, SignPolicy};
    pub use crate::components::*;
    pub use crate::connect::{Polarity, Strategy};
    pub use crate::embed::{Motors, Readout, Sensors};
    pub use crate::error::{CortecsError, Result};
    pub use crate::model::{Activation, ModelKind, SynapseKind};
    pub use crate::network::{Network, PoissonDrive, PolaritySpec, PopulationSpec, ProjectionSpec, View};
    pub use crate::param::{ClipMode, Distribution, Sequence, Value};
    pub use crate::simulation::Simulation;
    pub use crate::spatial::{Space, Structure};
    pub use crate::store::SignFilter;
    pub use crate::systems::{CortecsSystems, add_to_schedule};
}
