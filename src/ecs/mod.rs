//! The user's model as ECS components and the glue around them (bevy_rapier's
//! `src/dynamics`, `src/geometry`): networks, populations, neurons,
//! projections and synapses are entities that mirror the engine.
//!
//! - `components.rs`: the network entity's [`NetworkEngine`] and the mirror
//!   components ([`Neuron`], [`Synapse`], [`Weight`], [`SynapseRow`], ...).
//! - `edit_queue.rs`: edits are exact and O(changes): [`Weight`],
//!   [`SynapseRow`] and [`NeuronInput`] are immutable components whose insert
//!   hooks queue the edit, and despawning a synapse entity queues its lesion.
//! - `timers.rs`: [`StageTimers`], seconds per stage;
//! - `timeline.rs`: [`Timeline`], edits scheduled at a step (the Adjust stage);
//! - `recorders.rs`: [`Recorders`], spike and state recorders (the Record stage).
//! - `embed.rs`: [`Sensors`] and [`Motors`] for hosts that put brains into agents.
//! - `environment.rs`: [`Environment`], a closed loop: a vehicle the motors drive and the sensors see.
//! - `simulation.rs`: [`Simulation`], a `World` + `Schedule` holding one network.
//!
//! The stages that fold the queues into the engine and sync the mirrors
//! are in [`crate::systems`]; the engine itself is [`crate::network`].

mod components;
mod edit_queue;
mod embed;
mod environment;
mod recorders;
mod simulation;
mod timeline;
mod timers;

pub use components::*;
pub use edit_queue::*;
pub use embed::*;
pub use environment::*;
pub use recorders::*;
pub use simulation::*;
pub use timeline::*;
pub use timers::*;
