//! One time step of a whole network, in order: every population (a rate
//! update with its incoming products, or a spiking update), then spike
//! delivery into the post populations' delay rings.

use super::*;
use crate::population::Population;
use crate::projection::Projection;

/// Advances `populations` (in order) and delivers their spikes along
/// `projections`: time step number `step`, of `dt` ms.
pub fn step(populations: &mut [Population], projections: &[Projection], step: u64, dt: f64) {
    for p in 0..populations.len() {
        if populations[p].model.is_rate() {
            update_rate(populations, projections, p, dt);
        } else {
            update_spiking(&mut populations[p], step, dt);
        }
    }
    // spike delivery: each projection scatters its pre population's spikes
    for proj in projections {
        let (pre, post) = (proj.pre, proj.post);
        if populations[post].model.is_rate() || populations[pre].spikes.is_empty() {
            continue;
        }
        if pre == post {
            let pop = &mut populations[pre];
            let spikes = std::mem::take(&mut pop.spikes);
            scatter(&proj.store, &spikes, pop, step);
            pop.spikes = spikes;
        } else {
            let (a, b) = two_mut(populations, pre, post);
            scatter(&proj.store, &a.spikes, b, step);
        }
    }
}
