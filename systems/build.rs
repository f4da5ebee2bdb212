//! Build stage: pending strategies run, mirror entities spawn for new populations and projections.

use super::*;
use crate::ecs::*;
use bevy_ecs::prelude::*;
use std::time::Instant;

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
    if ran {
        charge(world, t0, |t| &mut t.build);
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
            let live: Option<Vec<usize>> = (s.removed > 0).then(|| {
                (0..s.len())
                    .filter(|&k| s.sign[k] != crate::projection::REMOVED)
                    .collect()
            });
            let slots: Box<dyn Iterator<Item = usize>> = match &live {
                Some(l) => Box::new(l.iter().copied()),
                None => Box::new(0..s.len()),
            };
            let spawned: Vec<Entity> = world
                .spawn_batch(slots.map(|k| mirror_bundle(je, pre_n[pre[k] as usize], post_n[post[k] as usize], s, k)))
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
