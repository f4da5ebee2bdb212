//! When things happen: the ECS stages of cortecs and the systems in them
//! (bevy_rapier's `plugin/systems/`: one file per stage).
//!
//! Each schedule run (a host frame, or one run segment of a
//! [`crate::ecs::Simulation`]) goes through the stages of
//! [`CortecsSystems`] in order. [`add_to_schedule`] puts them into any host
//! `Schedule`, [`get_systems`] gives one stage's systems for a host that
//! places stages in schedules of its own; a host orders its own systems
//! between stages with
//! `.after(CortecsSystems::Stimulate).before(CortecsSystems::Integrate)`.
//! Systems are thin glue between queries and the pure engine functions of
//! [`crate::network`] and [`crate::projection`]; the integrator never
//! iterates over entities.
//!
//! `build.rs` (Build), `constrain.rs` (Constrain), `compile.rs` and
//! `mirror.rs` (Compile: entity edits in, then the change log out to the
//! mirrors), `stimulate.rs`, `integrate.rs`, `writeback.rs`, `adjust.rs`
//! (scheduled edits) and `record.rs` (recorders).

mod adjust;
mod build;
mod compile;
mod constrain;
mod integrate;
mod mirror;
mod record;
mod stimulate;
mod writeback;

pub use adjust::*;
pub use build::*;
pub use compile::*;
pub use constrain::*;
pub use integrate::*;
pub use mirror::*;
pub use record::*;
pub use stimulate::*;
pub use writeback::*;

use crate::ecs::*;
use bevy_ecs::prelude::*;
use bevy_ecs::schedule::{ScheduleConfigs, ScheduleLabel};
use bevy_ecs::system::ScheduleSystem;
use std::time::Instant;

/// The stages of one tick, in run order (chained by [`add_to_schedule`]).
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CortecsSystems {
    /// Populations spawn neuron entities; pending projections run their strategy and spawn synapse mirrors.
    Build,
    /// Masks and Dale's law enforced after bulk weight writes.
    Constrain,
    /// Entity edits (weights, rows, lesions, new synapses) folded into the
    /// stores in O(changes); then the mirrors synced from the change logs.
    Compile,
    /// Inputs written by the host or stimuli applied to the engine.
    Stimulate,
    /// Kernels advance `steps_per_tick` steps.
    Integrate,
    /// Engine state copied back to observed entities (all at segment ends);
    /// synapse mirrors synced with what the steps changed (learning, growth, pruning).
    Writeback,
    /// Scheduled adjusters, lesions, growth and pruning ([`Timeline`]), and
    /// the synapse mirrors synced with them.
    Adjust,
    /// Recorders take their samples ([`Recorders`]).
    Record,
}

/// The schedule label [`crate::ecs::Simulation`] uses.
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
pub struct CortecsSchedule;

/// The systems of one stage, in the order they run, for a host that puts
/// stages into schedules of its own (bevy_rapier's `get_systems`). Run the
/// stages in [`CortecsSystems`] order, [`init_resources`] once before.
pub fn get_systems(stage: CortecsSystems) -> ScheduleConfigs<ScheduleSystem> {
    use CortecsSystems::*;
    match stage {
        Build => (build_networks, sync_mirrors).chain().into_configs(),
        Constrain => constrain_networks.into_configs(),
        Compile => (compile_edits, create_synapses, sync_mirrors).chain().into_configs(),
        Stimulate => apply_inputs.into_configs(),
        // inputs a host wrote after Stimulate still count in this tick
        Integrate => (apply_inputs, integrate, move_environments).chain().into_configs(),
        Writeback => (writeback_observed, writeback_all, sync_mirrors).chain().into_configs(),
        Adjust => (run_timelines, sync_mirrors).chain().into_configs(),
        Record => record_networks.into_configs(),
    }
}

/// Adds cortecs' stages (chained, in order) and systems to a host schedule,
/// and makes sure the world has the resources they use.
pub fn add_to_schedule(schedule: &mut Schedule) {
    use CortecsSystems::*;
    let stages = [
        Build, Constrain, Compile, Stimulate, Integrate, Writeback, Adjust, Record,
    ];
    schedule.configure_sets(
        (
            Build, Constrain, Compile, Stimulate, Integrate, Writeback, Adjust, Record,
        )
            .chain(),
    );
    schedule.add_systems(init_resources.before(Build));
    for stage in stages {
        schedule.add_systems(get_systems(stage).in_set(stage));
    }
}

/// Inserts the resources the stages need, once.
pub fn init_resources(mut commands: Commands, queue: Option<Res<EditQueue>>, timers: Option<Res<StageTimers>>) {
    if queue.is_none() {
        commands.insert_resource(EditQueue::default());
    }
    if timers.is_none() {
        commands.insert_resource(StageTimers::default());
    }
}

/// Adds the seconds since `t0` to one stage's timer (when the world has timers).
pub(crate) fn charge(world: &mut World, t0: Instant, stage: impl FnOnce(&mut StageTimers) -> &mut f64) {
    if let Some(mut t) = world.get_resource_mut::<StageTimers>() {
        *stage(&mut t) += t0.elapsed().as_secs_f64();
    }
}

/// Runs `f` on every network engine that `wants` selects, with the engine
/// taken out of its entity (so `f` may spawn and edit entities) and edit hooks
/// suppressed (mirror writes are not user edits). Returns whether any ran.
fn with_taken_engines(
    world: &mut World,
    wants: impl Fn(&NetworkEngine) -> bool,
    mut f: impl FnMut(&mut World, Entity, &mut NetworkEngine),
) -> bool {
    let mut q = world.query::<(Entity, &NetworkEngine)>();
    let todo: Vec<Entity> = q.iter(world).filter(|(_, eng)| wants(eng)).map(|(e, _)| e).collect();
    if todo.is_empty() {
        return false;
    }
    world.get_resource_or_insert_with(EditQueue::default).suppress = true;
    for e in todo {
        let Some(mut eng) = world.entity_mut(e).take::<NetworkEngine>() else {
            continue;
        };
        f(world, e, &mut eng);
        world.entity_mut(e).insert(eng);
    }
    world.resource_mut::<EditQueue>().suppress = false;
    true
}

/// The [`SynapseRow`] mirroring store slot `k`.
pub fn row_of(s: &crate::projection::SynapseStore, k: usize) -> SynapseRow {
    SynapseRow {
        slot: crate::projection::SynapseSlot::new(k),
        plasticity: s.plasticity.get(k),
        delay: s.delay.get(k),
        sign: s.sign[k],
    }
}
