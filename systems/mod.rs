//! When things happen: the ECS stages of cortecs and the systems in them.
//!
//! Each schedule run (a host frame, or one run segment of a
//! [`crate::simulation::Simulation`]) goes through the stages of
//! [`CortecsSystems`] in order. [`add_to_schedule`] puts them into any host
//! `Schedule`; a host orders its own systems between stages with
//! `.after(CortecsSystems::Stimulate).before(CortecsSystems::Integrate)`.
//! Systems are thin glue between queries and the pure engine functions of
//! [`crate::network`] and [`crate::store`]; the integrator never iterates
//! over entities.

pub mod mirror;

use crate::components::*;
use crate::network::{Network, PopulationState};
use bevy_ecs::prelude::*;
use bevy_ecs::schedule::ScheduleLabel;
use std::time::Instant;

/// The stages of one tick, in run order (chained by [`add_to_schedule`]).
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CortecsSystems {
    /// Populations spawn neuron entities; pending projections run their strategy and spawn synapse mirrors.
    Build,
    /// Masks and Dale's law enforced on what changed.
    Constrain,
    /// Entity edits (weights, lesions) folded into the stores in O(changes).
    Compile,
    /// Inputs written by the host or stimuli applied to the engine.
    Stimulate,
    /// Kernels advance `steps_per_tick` steps.
    Integrate,
    /// Engine state copied back to observed entities (all at segment ends).
    Writeback,
    /// Scheduled adjusters, lesions, growth and pruning.
    Adjust,
    /// Recorders take their samples.
    Record,
}

/// The schedule label [`crate::simulation::Simulation`] uses.
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
pub struct CortecsSchedule;

/// Adds cortecs' stages (chained, in order) and systems to a host schedule,
/// and makes sure the world has the resources they use.
pub fn add_to_schedule(schedule: &mut Schedule) {
    use CortecsSystems::*;
    schedule.configure_sets(
        (
            Build, Constrain, Compile, Stimulate, Integrate, Writeback, Adjust, Record,
        )
            .chain(),
    );
    schedule.add_systems((
        init_resources.before(Build),
        (build_networks, mirror::sync_mirrors).chain().in_set(Build),
        mirror::constrain_networks.in_set(Constrain),
        (compile_edits, mirror::create_synapses, mirror::sync_mirrors)
            .chain()
            .in_set(Compile),
        apply_inputs.in_set(Stimulate),
        // inputs a host wrote after Stimulate still count in this tick
        (apply_inputs, integrate).chain().in_set(Integrate),
        (writeback_observed, writeback_all).chain().in_set(Writeback),
    ));
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

/// Build stage: runs pending strategies and spawns mirror entities for new
/// populations and projections. On error the network's `build_error` is set
/// and nothing of the failing projection exists.
pub fn build_networks(world: &mut World) {
    let t0 = Instant::now();
    let wants = |eng: &NetworkEngine| {
        let net = &eng.net;
        !net.pending.is_empty()
            || eng.mirrored_populations < net.populations.len()
            || eng.mirrored_projections < net.projections.len()
    };
    let ran = with_taken_engines(world, wants, |world, e, eng| {
        if let Err(err) = eng.net.build_pending() {
            eng.build_error = Some(err.to_string());
        }
        spawn_mirrors(world, e, eng);
    });
    if ran && let Some(mut t) = world.get_resource_mut::<StageTimers>() {
        t.build += t0.elapsed().as_secs_f64();
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
pub fn row_of(s: &crate::store::SynapseStore, k: usize) -> SynapseRow {
    SynapseRow {
        slot: k,
        plasticity: s.plasticity.get(k),
        delay: s.delay.get(k),
        sign: s.sign[k],
    }
}

fn spawn_mirrors(world: &mut World, network: Entity, eng: &mut NetworkEngine) {
    for p in eng.mirrored_populations..eng.net.populations.len() {
        let pop = &eng.net.populations[p];
        let pe = world
            .spawn(PopulationOf {
                network,
                index: p,
                name: pop.name.clone(),
            })
            .id();
        let v = pop.get("v").ok();
        let neurons: Vec<Entity> = world
            .spawn_batch((0..pop.size).map(|i| {
                (
                    Neuron {
                        population: pe,
                        index: i as u32,
                    },
                    Position(pop.positions.get(i).copied().unwrap_or([0.0; 3])),
                    NeuronState {
                        v: v.as_ref().map_or(0.0, |v| v[i]),
                        output: 0.0,
                    },
                )
            }))
            .collect();
        eng.population_entities.push(pe);
        eng.neuron_entities.push(neurons);
    }
    eng.mirrored_populations = eng.net.populations.len();
    for k in eng.mirrored_projections..eng.net.projections.len() {
        let proj = &eng.net.projections[k];
        let je = world
            .spawn(ProjectionOf {
                network,
                index: k,
                name: proj.name.clone(),
            })
            .id();
        eng.projection_entities.push(je);
        let slots = if proj.compact {
            Vec::new()
        } else {
            let (pre, post) = proj.store.pairs();
            let (pre_n, post_n) = (&eng.neuron_entities[proj.pre], &eng.neuron_entities[proj.post]);
            let s = &proj.store;
            // removed (tombstone) slots get no entity; a store without tombstones needs no index list
            let live: Option<Vec<usize>> =
                (s.removed > 0).then(|| (0..s.len()).filter(|&k| s.sign[k] != crate::store::REMOVED).collect());
            let slots: Box<dyn Iterator<Item = usize>> = match &live {
                Some(l) => Box::new(l.iter().copied()),
                None => Box::new(0..s.len()),
            };
            let spawned: Vec<Entity> = world
                .spawn_batch(slots.map(|k| {
                    (
                        Synapse {
                            projection: je,
                            pre: pre_n[pre[k] as usize],
                            post: post_n[post[k] as usize],
                        },
                        Weight(s.weight[k]),
                        row_of(s, k),
                    )
                }))
                .collect();
            match live {
                None => spawned,
                Some(live) => {
                    let mut column = vec![Entity::PLACEHOLDER; s.len()];
                    for (k, e) in live.into_iter().zip(spawned) {
                        column[k] = e;
                    }
                    column
                }
            }
        };
        eng.synapse_entities.push(slots);
    }
    eng.mirrored_projections = eng.net.projections.len();
}

/// Compile stage: folds queued weight edits and lesions into the stores (O(edits)).
pub fn compile_edits(
    mut queue: ResMut<EditQueue>,
    synapses: Query<(&Synapse, &SynapseRow, &Weight)>,
    projections: Query<&ProjectionOf>,
    mut engines: Query<&mut NetworkEngine>,
    mut timers: ResMut<StageTimers>,
) {
    if queue.weights.is_empty() && queue.removals.is_empty() && queue.rows.is_empty() {
        return;
    }
    let t0 = Instant::now();
    for e in std::mem::take(&mut queue.rows) {
        let Ok((syn, row, _)) = synapses.get(e) else { continue };
        let Ok(proj) = projections.get(syn.projection) else {
            continue;
        };
        let Ok(mut eng) = engines.get_mut(proj.network) else {
            continue;
        };
        let done = eng.net.set_synapse_row(proj.index, row.slot, row.delay, row.plasticity);
        // the mirror is resynced from the store: a refused edit is undone, slot and sign restored
        if let Some(p) = eng.net.projections.get_mut(proj.index) {
            p.log_slots(&[row.slot]);
        }
        if let Err(err) = done {
            eng.edit_errors.push(err.to_string());
        }
    }
    for e in std::mem::take(&mut queue.weights) {
        let Ok((syn, slot, w)) = synapses.get(e) else { continue };
        let Ok(proj) = projections.get(syn.projection) else {
            continue;
        };
        let Ok(mut eng) = engines.get_mut(proj.network) else {
            continue;
        };
        if let Some(p) = eng.net.projections.get_mut(proj.index)
            && slot.slot < p.store.len()
        {
            p.set_weight(slot.slot, w.0);
        }
    }
    for (pe, slot) in std::mem::take(&mut queue.removals) {
        let Ok(proj) = projections.get(pe) else { continue };
        let Ok(mut eng) = engines.get_mut(proj.network) else {
            continue;
        };
        if let Some(p) = eng.net.projections.get_mut(proj.index)
            && slot < p.store.len()
        {
            p.remove(slot);
        }
        if let Some(v) = eng.synapse_entities.get_mut(proj.index)
            && let Some(x) = v.get_mut(slot)
        {
            *x = Entity::PLACEHOLDER;
        }
    }
    timers.compile += t0.elapsed().as_secs_f64();
}

/// Stimulate stage: applies queued [`NeuronInput`] values (O(writes)).
pub fn apply_inputs(
    mut queue: ResMut<EditQueue>,
    neurons: Query<(&Neuron, &NeuronInput)>,
    populations: Query<&PopulationOf>,
    mut engines: Query<&mut NetworkEngine>,
) {
    for e in std::mem::take(&mut queue.inputs) {
        let Ok((neuron, input)) = neurons.get(e) else { continue };
        let Ok(pop) = populations.get(neuron.population) else {
            continue;
        };
        let Ok(mut eng) = engines.get_mut(pop.network) else {
            continue;
        };
        if let Some(p) = eng.net.populations.get_mut(pop.index) {
            set_input(p, neuron.index as usize, input.0);
        }
    }
}

fn set_input(p: &mut crate::network::Population, i: usize, x: f64) {
    if i >= p.size {
        return;
    }
    match &mut p.state {
        PopulationState::Rate(s) => {
            let b = s.batch;
            s.input[i * b..(i + 1) * b].fill(x as f32);
        }
        _ => p.current[i] = x,
    }
}

/// Integrate stage: every network feeds its [`crate::embed::Sensors`],
/// advances its own `steps_per_tick` steps and fills its
/// [`crate::embed::Motors`] (networks in parallel, several per task).
pub fn integrate(
    mut engines: Query<(
        &mut NetworkEngine,
        Option<&crate::embed::Sensors>,
        Option<&mut crate::embed::Motors>,
    )>,
    mut timers: ResMut<StageTimers>,
) {
    let t0 = Instant::now();
    // rayon, not bevy's task pool: a host needs no TaskPoolPlugin, and
    // networks and their kernels share one pool. Networks are independent,
    // so the result does not depend on how they are split over threads.
    let mut all: Vec<_> = engines.iter_mut().collect();
    let run = |(eng, sensors, motors): &mut (
        Mut<NetworkEngine>,
        Option<&crate::embed::Sensors>,
        Option<Mut<crate::embed::Motors>>,
    )| {
        crate::embed::run_engine_frame(eng, *sensors, motors.as_deref_mut());
    };
    if all.len() > 1 {
        use rayon::prelude::*;
        all.par_iter_mut().with_min_len(NETWORKS_PER_TASK).for_each(run);
    } else {
        all.iter_mut().for_each(run);
    }
    timers.integrate += t0.elapsed().as_secs_f64();
}

/// Networks stepped by one rayon task at least (small brains cost a few µs a
/// frame; one task each would spend a noticeable share on scheduling).
pub const NETWORKS_PER_TASK: usize = 8;

/// The mirror state of neuron `i` of population `p`.
pub fn neuron_state(net: &Network, p: usize, i: usize) -> NeuronState {
    let pop = &net.populations[p];
    match &pop.state {
        PopulationState::Rate(s) => NeuronState {
            v: f64::from(s.v[i * s.batch]),
            output: f64::from(s.r[i * s.batch]),
        },
        PopulationState::Spiking(s) => NeuronState {
            v: s.v[i],
            output: f64::from(u8::from(net.step > 0 && pop.last_spike[i] == net.step - 1)),
        },
        _ => NeuronState {
            v: 0.0,
            output: f64::from(u8::from(net.step > 0 && pop.last_spike[i] == net.step - 1)),
        },
    }
}

/// Writeback stage: refreshes [`NeuronState`] of [`Observed`] neurons (O(observed)),
/// without tripping change detection when nothing changed.
pub fn writeback_observed(
    mut neurons: Query<(&Neuron, &mut NeuronState), With<Observed>>,
    populations: Query<&PopulationOf>,
    engines: Query<&NetworkEngine>,
) {
    for (neuron, mut state) in &mut neurons {
        let Ok(pop) = populations.get(neuron.population) else {
            continue;
        };
        let Ok(eng) = engines.get(pop.network) else { continue };
        if pop.index < eng.net.populations.len() {
            state.set_if_neq(neuron_state(&eng.net, pop.index, neuron.index as usize));
        }
    }
}

/// Writeback stage, at segment ends: refreshes every neuron mirror and every
/// synapse weight mirror of networks that asked for it (O(n), rare).
pub fn writeback_all(world: &mut World) {
    let t0 = Instant::now();
    let ran = with_taken_engines(
        world,
        |eng| eng.writeback_all,
        |world, _, eng| {
            eng.writeback_all = false;
            for (p, neurons) in eng.neuron_entities.iter().enumerate() {
                for (i, &ne) in neurons.iter().enumerate() {
                    let new = neuron_state(&eng.net, p, i);
                    if let Some(mut st) = world.get_mut::<NeuronState>(ne) {
                        st.set_if_neq(new);
                    }
                }
            }
            for (k, slots) in eng.synapse_entities.iter().enumerate() {
                let store = &eng.net.projections[k].store;
                for (slot, &se) in slots.iter().enumerate() {
                    if se == Entity::PLACEHOLDER {
                        continue;
                    }
                    let w = store.weight[slot];
                    if world.get::<Weight>(se).is_some_and(|old| old.0 != w) {
                        world.entity_mut(se).insert(Weight(w));
                    }
                }
            }
        },
    );
    if ran && let Some(mut t) = world.get_resource_mut::<StageTimers>() {
        t.writeback += t0.elapsed().as_secs_f64();
    }
}
