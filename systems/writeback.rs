//! Writeback stage: engine state copied to observed neuron mirrors every tick, and to all at segment ends.

use super::*;
use crate::ecs::*;
use crate::network::Network;
use bevy_ecs::prelude::*;
use std::time::Instant;

/// The mirror state of neuron `i` of population `p`.
pub fn neuron_state(net: &Network, p: usize, i: usize) -> NeuronState {
    let pop = &net.populations[p];
    NeuronState {
        v: pop.potential(i),
        output: pop.output(i, net.step),
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

/// Writeback stage, at segment ends: refreshes every neuron mirror of
/// networks that asked for it (O(neurons), once per run segment). Synapse
/// mirrors need no such pass: every store change is logged by the
/// projection's commit path and synced after this pass ([`sync_mirrors`]), O(changes).
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
        },
    );
    if ran {
        charge(world, t0, |t| &mut t.writeback);
    }
}
