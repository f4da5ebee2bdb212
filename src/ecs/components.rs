//! The user's model as ECS components: networks, populations, neurons,
//! projections and synapses are entities.
//!
//! A network entity owns the engine ([`NetworkEngine`]); population and
//! projection entities point into it; neuron and synapse entities mirror one
//! neuron or one synapse row (the bevy_rapier pattern: the engine is the
//! truth, components are how users see and edit it).

use super::*;
use crate::network::Network;
use crate::projection::{Sign, SynapseSlot};
use bevy_ecs::lifecycle::HookContext;
use bevy_ecs::prelude::*;
use bevy_ecs::world::DeferredWorld;

/// The engine of one network (populations' state, synapse stores, clock).
///
/// Despawning the network entity despawns the population, projection,
/// neuron and synapse entities of the network with it (host components on
/// them go too), without queueing any edit; the engine is dropped and no
/// system refers to it again. Removing only this component (instead of
/// despawning the entity) leaves those entities behind, inert.
#[derive(Component, Debug)]
#[component(on_despawn = despawn_network)]
pub struct NetworkEngine {
    /// The network.
    pub net: Network,
    /// Integration steps one schedule run advances.
    pub steps_per_tick: u64,
    /// Populations whose mirror entities exist (a prefix of `net.populations`).
    pub mirrored_populations: usize,
    /// Projections whose mirror entities exist (a prefix of `net.projections`).
    pub mirrored_projections: usize,
    /// Population entity of each population.
    pub population_entities: Vec<Entity>,
    /// Projection entity of each projection.
    pub projection_entities: Vec<Entity>,
    /// Neuron entities of each population (empty until mirrored).
    pub neuron_entities: Vec<Vec<Entity>>,
    /// Synapse entity of each store slot of each projection (empty for compact projections).
    pub synapse_entities: Vec<Vec<Entity>>,
    /// The last error of the Build stage, if any (nothing is half-built).
    pub build_error: Option<String>,
    /// When true, the next Writeback refreshes every mirror, not only observed ones.
    pub writeback_all: bool,
    /// Edits made through entities that could not be applied (e.g. a spawned
    /// synapse the masks forbid), oldest first; the host may read and clear it.
    pub edit_errors: Vec<String>,
}

impl NetworkEngine {
    /// Wraps a network; `steps_per_tick` defaults to 1.
    pub fn new(net: Network) -> NetworkEngine {
        NetworkEngine {
            net,
            steps_per_tick: 1,
            mirrored_populations: 0,
            mirrored_projections: 0,
            population_entities: Vec::new(),
            projection_entities: Vec::new(),
            neuron_entities: Vec::new(),
            synapse_entities: Vec::new(),
            build_error: None,
            writeback_all: false,
            edit_errors: Vec::new(),
        }
    }
}

/// Despawns a despawned network's mirror entities (a command, so it runs
/// after the hook), with the edit hooks suppressed: a whole network going
/// away is no lesion.
fn despawn_network(mut world: DeferredWorld, ctx: HookContext) {
    let Some(eng) = world.get::<NetworkEngine>(ctx.entity) else {
        return;
    };
    let doomed: Vec<Entity> = eng
        .synapse_entities
        .iter()
        .flatten()
        .chain(eng.neuron_entities.iter().flatten())
        .chain(&eng.projection_entities)
        .chain(&eng.population_entities)
        .copied()
        .filter(|&e| e != Entity::PLACEHOLDER)
        .collect();
    if doomed.is_empty() {
        return;
    }
    world.commands().queue(move |world: &mut World| {
        let was = world.get_resource::<EditQueue>().map(|q| q.suppress);
        if let Some(mut q) = world.get_resource_mut::<EditQueue>() {
            q.suppress = true;
        }
        for e in doomed {
            if let Ok(em) = world.get_entity_mut(e) {
                em.despawn();
            }
        }
        if let (Some(was), Some(mut q)) = (was, world.get_resource_mut::<EditQueue>()) {
            q.suppress = was;
        }
    });
}

/// A population entity: which network and which population in it.
#[derive(Component, Debug, Clone, PartialEq)]
pub struct PopulationOf {
    /// The network entity.
    pub network: Entity,
    /// Index in the network's populations.
    pub index: usize,
    /// The population's name.
    pub name: String,
}

/// A projection entity: which network and which projection in it.
#[derive(Component, Debug, Clone, PartialEq)]
pub struct ProjectionOf {
    /// The network entity.
    pub network: Entity,
    /// Index in the network's projections.
    pub index: usize,
    /// The projection's name.
    pub name: String,
}

/// A neuron entity: its population entity and index.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Neuron {
    /// The population entity.
    pub population: Entity,
    /// Index in the population.
    pub index: u32,
}

/// Position of a neuron (µm).
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct Position(pub [f64; 3]);

/// Mirror of a neuron's state, refreshed in Writeback for [`Observed`]
/// neurons every tick and for all at the end of a run segment.
#[derive(Component, Debug, Clone, Copy, PartialEq, Default)]
pub struct NeuronState {
    /// Membrane potential (mV) or rate unit pre-activation.
    pub v: f64,
    /// Rate units: f(v) (trial 0); spiking: 1 if the neuron spiked in the last step, else 0.
    pub output: f64,
}

/// Marks neurons whose [`NeuronState`] is refreshed every tick (sensors and
/// motor neurons of an agent); cost per tick is proportional to their number.
#[derive(Component, Debug, Clone, Copy, Default)]
pub struct Observed;

/// External input of a neuron: current (pA) for spiking models, input added
/// to the pre-activation for rate units (all trials). Insert a new value to
/// change it; the Stimulate stage applies it.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
#[component(immutable, on_insert = queue_input)]
pub struct NeuronInput(pub f64);

/// A synapse entity: its projection and its pre and post neuron entities.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
#[component(on_insert = queue_creation, on_remove = queue_removal)]
pub struct Synapse {
    /// The projection entity.
    pub projection: Entity,
    /// Pre neuron entity.
    pub pre: Entity,
    /// Post neuron entity.
    pub post: Entity,
}

/// What a synapse entity mirrors besides its weight, in one component (each
/// component costs its data plus 8 B of change ticks per entity): the store
/// slot it mirrors ("has a row" means compiled), its plasticity factor, delay
/// and sign. Immutable: insert a new one with another `delay` or
/// `plasticity` to edit them (Compile folds the edit in, O(1)); `slot` and
/// `sign` are the engine's: a row naming another entity's slot is refused
/// (reported in [`NetworkEngine::edit_errors`]) and restored.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
#[component(immutable, on_insert = queue_row)]
pub struct SynapseRow {
    /// Slot in the projection's synapse store (the engine's handle: copy
    /// it from the entity's own row, never from another's).
    pub slot: SynapseSlot,
    /// Learning-rate factor in [0, 1] (0 = fixed).
    pub plasticity: f32,
    /// Delay in whole time steps (>= 1).
    pub delay: u16,
    /// +1 excitatory, -1 inhibitory.
    pub sign: Sign,
}

/// Weight of a synapse (signed; nS, pA or mV by the post model). Immutable:
/// insert a new `Weight` to edit; Compile applies it with Dale's rule (a
/// weight of the wrong sign becomes 0).
#[derive(Component, Debug, Clone, Copy, PartialEq)]
#[component(immutable, on_insert = queue_weight)]
pub struct Weight(pub f32);
