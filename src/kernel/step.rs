//! One time step of a whole network, in order: the pre spikes of learning
//! projections that arrive now (PSP and pre-side update), every population
//! (a rate update with its incoming products, or a spiking update), then
//! spike delivery into the post populations' delay rings for static
//! projections, and the post-side and rate learning updates.

use super::*;
use crate::plasticity::{self, Rates};
use crate::population::{Population, PopulationState};
use crate::projection::Projection;

/// Advances `populations` (in order) and delivers their spikes along
/// `projections`: time step number `step`, of `dt` ms. Learning rules
/// change the weights of their projections' stores in place.
pub fn step(populations: &mut [Population], projections: &mut [Projection], step: u64, dt: f64) {
    // spikes of learning projections arrive with the weight they have now
    for proj in projections.iter_mut() {
        let log = !proj.compact;
        let Some(plastic) = proj.plastic.as_mut().filter(|p| !p.in_flight.is_empty()) else {
            continue;
        };
        plasticity::decay(plastic, dt);
        let post = &mut populations[proj.post];
        let n = post.size;
        let delta = post.model.synapse() == Some(crate::model::SynapseKind::Delta);
        let (exc, inh) = post.ring.slot_mut(step, n);
        plasticity::arrive(plastic, &mut proj.store, step, exc, inh, delta, log);
    }
    for p in 0..populations.len() {
        if populations[p].model.is_rate() {
            update_rate(populations, projections, p, dt);
        } else {
            update_spiking(&mut populations[p], step, dt);
        }
    }
    for proj in projections.iter_mut() {
        let (pre, post) = (proj.pre, proj.post);
        if let Some(plastic) = proj.plastic.as_mut() {
            let log = !proj.compact;
            if populations[post].model.is_rate() {
                if let (Some((r_pre, _)), Some((r_post, batch))) =
                    (rates_of(&populations[pre]), rates_of(&populations[post]))
                {
                    let error = plastic
                        .error_population
                        .and_then(|e| rates_of(&populations[e]))
                        .map(|(r, _)| r);
                    let rates = Rates {
                        pre: r_pre,
                        post: r_post,
                        batch,
                        error,
                    };
                    plasticity::learn_rates(plastic, &mut proj.store, rates, dt, log);
                }
            } else {
                let (a, b) = (&populations[pre].spikes, &populations[post].spikes);
                plasticity::depart(plastic, &mut proj.store, step, a, b, dt, log);
            }
            proj.log_learned();
            continue;
        }
        // static spike delivery: each projection scatters its pre population's spikes
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

/// The rates of a rate population and its batch.
fn rates_of(p: &Population) -> Option<(&[f32], usize)> {
    match &p.state {
        PopulationState::Rate(s) => Some((s.r.as_slice(), s.batch)),
        _ => None,
    }
}
