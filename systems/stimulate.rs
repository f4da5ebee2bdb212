//! Stimulate stage: queued neuron inputs applied to the engine (O(writes)),
//! then noisy currents drawn.

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

/// Stimulate stage: every network's [`NoiseCurrents`] write the currents of
/// the interval the tick starts in (once per interval).
pub fn draw_noise_currents(mut networks: Query<(&mut NetworkEngine, &mut NoiseCurrents)>) {
    for (mut eng, mut noise) in &mut networks {
        let step = eng.net.step;
        for n in noise.0.iter_mut() {
            n.draw(&mut eng.net, step);
        }
    }
}
