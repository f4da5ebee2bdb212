//! Keeping synapse entities in step with the stores: each mirrored
//! projection's change log ([`crate::projection::StoreChanges`], written by
//! the projection's one commit path) is replayed on its entities after the
//! entity edits of Compile are folded in, after the steps of Integrate
//! (learning, growth, pruning) and after the scheduled edits of Adjust, so
//! that the synapse entities match the stores when a tick ends.
//!
//! A layout change moves entities to their new slots (and the pending
//! removal queue with them), removed synapses lose their entity, new
//! synapses get one, changed weights and rows are written back where they
//! differ. Cost: O(logged slots), or O(n) after a bulk change.

use super::*;
use crate::ecs::*;
use crate::projection::{REMOVED, SynapseSlot};
use bevy_ecs::prelude::*;

/// Build, Compile, Writeback and Adjust stages: replays every mirrored
/// projection's change log on its synapse entities (nothing to do, O(projections),
/// when no store changed).
pub fn sync_mirrors(world: &mut World) {
    let wants = |eng: &NetworkEngine| {
        eng.net
            .projections
            .iter()
            .take(eng.mirrored_projections)
            .any(|p| !p.compact && !p.changes().is_empty())
    };
    with_taken_engines(world, wants, |world, _, eng| {
        for k in 0..eng.mirrored_projections.min(eng.net.projections.len()) {
            sync_projection(world, eng, k, &[]);
        }
    });
}

/// Replays projection `k`'s change log on its entities; `adopted` entities
/// (spawned by the host for new synapses) take their slots instead of fresh mirrors.
pub(crate) fn sync_projection(world: &mut World, eng: &mut NetworkEngine, k: usize, adopted: &[(usize, Entity)]) {
    let proj = &mut eng.net.projections[k];
    if proj.compact {
        return;
    }
    let log = proj.take_changes();
    let je = eng.projection_entities[k];
    if let Some(remap) = &log.remap {
        let old = std::mem::take(&mut eng.synapse_entities[k]);
        let mut new = vec![Entity::PLACEHOLDER; proj.store().len()];
        for (slot, e) in old.into_iter().enumerate() {
            if e == Entity::PLACEHOLDER {
                continue;
            }
            match remap.get(slot).copied() {
                Some(m) if m != usize::MAX => {
                    new[m] = e;
                    if let Some(&row) = world.get::<SynapseRow>(e) {
                        world.entity_mut(e).insert(SynapseRow {
                            slot: SynapseSlot::new(m),
                            ..row
                        });
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
            for (pe, slot, _) in q.removals.iter_mut() {
                if *pe == je {
                    *slot = SynapseSlot::new(remap.get(slot.index()).copied().unwrap_or(usize::MAX));
                }
            }
            q.removals.retain(|&(_, s, _)| s.index() < u32::MAX as usize);
        }
    }
    for &(slot, e) in adopted {
        if slot < eng.synapse_entities[k].len() {
            eng.synapse_entities[k][slot] = e;
        }
    }
    let store = proj.store();
    let slots: Box<dyn Iterator<Item = usize>> = if log.all || log.remap.is_some() {
        Box::new(0..store.len())
    } else {
        let mut s = log.slots;
        s.sort_unstable();
        s.dedup();
        Box::new(s.into_iter())
    };
    let (pre_n, post_n) = (&eng.neuron_entities[proj.pre], &eng.neuron_entities[proj.post]);
    let ents = &mut eng.synapse_entities[k];
    let mut spawn = Vec::new();
    for slot in slots {
        if slot >= store.len() {
            continue;
        }
        let e = ents[slot];
        let live = store.sign[slot] != REMOVED;
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
                if world.get::<Weight>(e).is_none_or(|old| old.0.to_bits() != w.to_bits()) {
                    world.entity_mut(e).insert(Weight(w));
                }
                let row = row_of(store, slot);
                if world.get::<SynapseRow>(e).is_none_or(|old| *old != row) {
                    world.entity_mut(e).insert(row);
                }
            }
        }
    }
    for slot in spawn {
        let (pre, post) = store.pair(slot);
        ents[slot] = world
            .spawn(mirror_bundle(
                je,
                pre_n[pre as usize],
                post_n[post as usize],
                store,
                slot,
            ))
            .id();
    }
}

/// The components of the mirror entity of store slot `slot` (one spawn
/// bundle for every mirror: built, grown or restored).
pub(crate) fn mirror_bundle(
    projection: Entity,
    pre: Entity,
    post: Entity,
    store: &crate::projection::SynapseStore,
    slot: usize,
) -> (Synapse, Weight, SynapseRow) {
    (
        Synapse { projection, pre, post },
        Weight(store.weight[slot]),
        row_of(store, slot),
    )
}
