//! Writeback stage: engine state copied to observed neuron mirrors every tick, and to all at segment ends.

use super::*;
use crate::ecs::*;
use crate::network::Network;
use crate::population::PopulationState;
use bevy_ecs::prelude::*;
use std::time::Instant;

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
    if ran {
        charge(world, t0, |t| &mut t.writeback);
    }
}
