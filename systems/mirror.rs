//! Keeping synapse entities in step with the stores when the stores change
//! through the API (weight writes, lesions, adjusters, masks, reapply), and
//! folding synapse entities a host spawns into the stores.
//!
//! A mirrored projection logs what changed ([`crate::network::MirrorLog`]);
//! [`sync_mirrors`] replays the log on the entities: a layout change moves
//! entities to their new slots (and the pending removal queue with them),
//! removed synapses lose their entity, new synapses get one, changed weights
//! are written back. Cost: O(logged slots), or O(n) after a bulk change.

use super::with_taken_engines;
use crate::components::*;
use bevy_ecs::prelude::*;

/// Build and Compile stages: replays every mirrored projection's change log
/// on its synapse entities.
pub fn sync_mirrors(world: &mut World) {
    let wants = |eng: &NetworkEngine| {
        eng.net.projections.iter().enumerate().any(|(k, p)| {
            k < eng.mirrored_projections
                && !p.compact
                && (p.mirror_log.all || p.mirror_log.remap.is_some() || !p.mirror_log.slots.is_empty())
        })
    };
    with_taken_engines(world, wants, |world, _, eng| {
        for k in 0..eng.mirrored_projections.min(eng.net.projections.len()) {
            sync_projection(world, eng, k, &[]);
        }
    });
}

/// Replays projection `k`'s change log on its entities; `adopted` entities
/// (spawned by the host for new synapses) take their slots instead of fresh mirrors.
fn sync_projection(world: &mut World, eng: &mut NetworkEngine, k: usize, adopted: &[(usize, Entity)]) {
    let proj = &mut eng.net.projections[k];
    if proj.compact {
        return;
    }
    let log = std::mem::take(&mut proj.mirror_log);
    let je = eng.projection_entities[k];
    if let Some(remap) = &log.remap {
        let old = std::mem::take(&mut eng.synapse_entities[k]);
        let mut new = vec![Entity::PLACEHOLDER; proj.store.len()];
        for (slot, e) in old.into_iter().enumerate() {
            if e == Entity::PLACEHOLDER {
                continue;
            }
            match remap.get(slot).copied() {
                Some(m) if m != usize::MAX => {
                    new[m] = e;
                    if let Some(&row) = world.get::<SynapseRow>(e) {
                        world.entity_mut(e).insert(SynapseRow { slot: m, ..row });
                    }
                }
                _ => {
                    if let Ok(em) = world.get_entity_mut(e) {
                        em.despawn();
                    }
                }
            }
        }
        eng.synapse_entities[k] = new;
        // removals queued against the old layout follow their synapse
        if let Some(mut q) = world.get_resource_mut::<EditQueue>() {
            for (pe, slot) in q.removals.iter_mut() {
                if *pe == je {
                    *slot = remap.get(*slot).copied().unwrap_or(usize::MAX);
                }
            }
            q.removals.retain(|&(_, s)| s != usize::MAX);
        }
    }
    for &(slot, e) in adopted {
        if slot < eng.synapse_entities[k].len() {
            eng.synapse_entities[k][slot] = e;
        }
    }
    let slots: Box<dyn Iterator<Item = usize>> = if log.all || log.remap.is_some() {
        Box::new(0..proj.store.len())
    } else {
        let mut s = log.slots;
        s.sort_unstable();
        s.dedup();
        Box::new(s.into_iter())
    };
    let (pre_n, post_n) = (&eng.neuron_entities[proj.pre], &eng.neuron_entities[proj.post]);
    let ents = &mut eng.synapse_entities[k];
    let store = &proj.store;
    let mut spawn = Vec::new();
    for slot in slots {
        if slot >= store.len() {
            continue;
        }
        let e = ents[slot];
        let live = store.sign[slot] != crate::store::REMOVED;
        let alive = e != Entity::PLACEHOLDER && world.get_entity(e).is_ok();
        match (live, alive) {
            (true, false) => spawn.push(slot),
            (false, true) => {
                world.entity_mut(e).despawn();
                ents[slot] = Entity::PLACEHOLDER;
            }
            (false, false) => ents[slot] = Entity::PLACEHOLDER,
            (true, true) => {
                let w = store.weight[slot];
                if world.get::<Weight>(e).is_some_and(|old| old.0 != w) {
                    world.entity_mut(e).insert(Weight(w));
                }
                let row = super::row_of(store, slot);
                if world.get::<SynapseRow>(e).is_some_and(|old| *old != row) {
                    world.entity_mut(e).insert(row);
                }
            }
        }
    }
    for slot in spawn {
        let (pre, post) = store.pair(slot);
        ents[slot] = world
            .spawn((
                Synapse {
                    projection: je,
                    pre: pre_n[pre as usize],
                    post: post_n[post as usize],
                },
                Weight(store.weight[slot]),
                super::row_of(store, slot),
            ))
            .id();
    }
}

/// A synapse entity a host spawned: (entity, projection index, pre, post, weight, delay steps).
type NewSynapse = (Entity, usize, u32, u32, f32, Option<u16>);

/// Compile stage: synapse entities a host spawned (a [`Synapse`] and a
/// [`Weight`], no [`SynapseRow`]) become new synapses of their projection
/// (with its default delay), with the masks enforced. An entity whose
/// synapse the masks or the projection refuse is despawned and the reason
/// kept in [`NetworkEngine::edit_errors`].
pub fn create_synapses(world: &mut World) {
    let created = match world.get_resource_mut::<EditQueue>() {
        Some(mut q) if !q.created.is_empty() => std::mem::take(&mut q.created),
        _ => return,
    };
    let mut by_network: Vec<(Entity, Vec<NewSynapse>)> = Vec::new();
    let mut refused = Vec::new();
    for e in created {
        let Some(syn) = world.get::<Synapse>(e).copied() else {
            continue;
        };
        if world.get::<SynapseRow>(e).is_some() {
            continue;
        }
        let w = world.get::<Weight>(e).map_or(0.0, |w| w.0);
        let d = None;
        let Some(proj) = world.get::<ProjectionOf>(syn.projection).cloned() else {
            refused.push(e);
            continue;
        };
        let (Some(a), Some(b)) = (
            world.get::<Neuron>(syn.pre).copied(),
            world.get::<Neuron>(syn.post).copied(),
        ) else {
            refused.push(e);
            continue;
        };
        match by_network.iter_mut().find(|(n, _)| *n == proj.network) {
            Some((_, v)) => v.push((e, proj.index, a.index, b.index, w, d)),
            None => by_network.push((proj.network, vec![(e, proj.index, a.index, b.index, w, d)])),
        }
    }
    for e in refused {
        world.entity_mut(e).despawn();
    }
    for (network, items) in by_network {
        let Some(mut eng) = world.entity_mut(network).take::<NetworkEngine>() else {
            continue;
        };
        world.get_resource_or_insert_with(EditQueue::default).suppress = true;
        let mut projections: Vec<usize> = items.iter().map(|it| it.1).collect();
        projections.sort_unstable();
        projections.dedup();
        for k in projections {
            // one pass over the store for all of this projection's new synapses
            let mine: Vec<_> = items.iter().filter(|it| it.1 == k).collect();
            let batch: Vec<(u32, u32, f32, Option<u16>)> = mine.iter().map(|it| (it.2, it.3, it.4, it.5)).collect();
            let results = eng.net.create_synapses(k, &batch);
            let adopted: Vec<(usize, Entity)> = mine
                .iter()
                .zip(&results)
                .filter_map(|(it, r)| r.as_ref().ok().map(|&slot| (slot, it.0)))
                .collect();
            // the host's entities must look alive to the sync: give them their slot first
            for &(slot, e) in &adopted {
                world
                    .entity_mut(e)
                    .insert(super::row_of(&eng.net.projections[k].store, slot));
            }
            sync_projection(world, &mut eng, k, &adopted);
            for (it, result) in mine.iter().zip(results) {
                let e = it.0;
                match result {
                    Ok(slot) => {
                        let s = &eng.net.projections[k].store;
                        world
                            .entity_mut(e)
                            .insert((Weight(s.weight[slot]), super::row_of(s, slot)));
                    }
                    Err(err) => {
                        eng.edit_errors.push(err.to_string());
                        world.entity_mut(e).despawn();
                    }
                }
            }
        }
        world.resource_mut::<EditQueue>().suppress = false;
        world.entity_mut(network).insert(eng);
    }
}

/// Constrain stage: enforces the masks on projections whose store was
/// changed directly (flagged `constrain_pending`).
pub fn constrain_networks(mut engines: Query<&mut NetworkEngine>) {
    for mut eng in &mut engines {
        if eng.net.projections.iter().any(|p| p.constrain_pending) {
            eng.net.enforce_constraints();
        }
    }
}
