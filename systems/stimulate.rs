//! Stimulate stage: queued neuron inputs applied to the engine (O(writes)).
//! (Noisy currents are the network's own, drawn as each step starts.)

use crate::ecs::*;
use bevy_ecs::prelude::*;

/// Stimulate stage: applies queued [`NeuronInput`] values (O(writes)).
pub fn apply_inputs(
    mut queue: ResMut<EditQueue>,
    neurons: Query<(&Neuron, &NeuronInput)>,
    populations: Query<&PopulationOf>,
    mut engines: Query<&mut NetworkEngine>,
    mut timers: ResMut<StageTimers>,
) {
    if queue.inputs.is_empty() {
        return;
    }
    let t0 = std::time::Instant::now();
    for e in std::mem::take(&mut queue.inputs) {
        let Ok((neuron, input)) = neurons.get(e) else { continue };
        let Ok(pop) = populations.get(neuron.population) else {
            continue;
        };
        let Ok(mut eng) = engines.get_mut(pop.network) else {
            continue;
        };
        if let Some(p) = eng.net.populations.get_mut(pop.index) {
            p.set_input(neuron.index as usize, input.0);
        }
    }
    timers.stimulate += t0.elapsed().as_secs_f64();
}
