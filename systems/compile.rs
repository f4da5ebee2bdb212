//! Compile stage: edits made through entities (weights, rows, lesions, new synapses) folded into the stores in O(changes).

use super::*;
use crate::ecs::*;
use crate::projection::SynapseSlot;
use bevy_ecs::prelude::*;
use std::time::Instant;

/// The slot entity `e` of projection `k` mirrors, given the slot its row
/// names: that slot when the engine's column agrees, else (a row copied from
/// another entity, or kept past a layout change) the slot the column holds
/// `e` at, found by a scan (rare), with the refusal reported; `None` when
/// `e` mirrors no synapse of the projection.
fn mirrored_slot(eng: &mut NetworkEngine, k: usize, claimed: SynapseSlot, e: Entity, what: &str) -> Option<usize> {
    let column = eng.synapse_entities.get(k)?;
    if column.get(claimed.index()) == Some(&e) {
        return Some(claimed.index());
    }
    let name = eng.net.projections.get(k).map_or("?", |p| p.name.as_str());
    let truth = column.iter().position(|&x| x == e);
    eng.edit_errors.push(format!(
        "{name}: synapse entity {e:?} names slot {} in its SynapseRow, which is not the synapse it mirrors{}; the {what} is refused",
        claimed.index(),
        truth.map_or(" (it mirrors none)".to_string(), |t| format!(" (slot {t})"))
    ));
    if let Some(t) = truth {
        // the sync restores the entity's row and weight from the store
        eng.net.projections[k].resync(&[t]);
    }
    None
}

/// Compile stage: folds queued weight, row and lesion edits into the stores
/// (O(edits)), each through the projection's commit path, which logs what
/// changed so that the mirror sync after it writes the store's outcome back
/// (Dale's rule, a refused value). An edit whose entity names another
/// synapse's slot is refused and reported in [`NetworkEngine::edit_errors`].
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
        let Some(slot) = mirrored_slot(&mut eng, proj.index, row.slot, e, "row edit") else {
            continue;
        };
        let done = eng.net.set_synapse_row(proj.index, slot, row.delay, row.plasticity);
        if let Err(err) = done {
            // the mirror is resynced from the store: the refused edit is undone
            eng.net.projections[proj.index].resync(&[slot]);
            eng.edit_errors.push(err.to_string());
        }
    }
    for e in std::mem::take(&mut queue.weights) {
        let Ok((syn, row, w)) = synapses.get(e) else { continue };
        let Ok(proj) = projections.get(syn.projection) else {
            continue;
        };
        let Ok(mut eng) = engines.get_mut(proj.network) else {
            continue;
        };
        let Some(slot) = mirrored_slot(&mut eng, proj.index, row.slot, e, "weight edit") else {
            continue;
        };
        let p = &mut eng.net.projections[proj.index];
        if w.0.is_finite() {
            p.set_weight(slot, w.0);
        } else {
            p.resync(&[slot]);
            let msg = format!("{}: weight {} is not finite", p.name, w.0);
            eng.edit_errors.push(msg);
        }
    }
    for (pe, claimed, e) in std::mem::take(&mut queue.removals) {
        let Ok(proj) = projections.get(pe) else { continue };
        let Ok(mut eng) = engines.get_mut(proj.network) else {
            continue;
        };
        // a despawned mirror lesions the synapse it mirrored, whatever its row claimed
        let column = &eng.synapse_entities[proj.index];
        let slot = if column.get(claimed.index()) == Some(&e) {
            claimed.index()
        } else {
            match column.iter().position(|&x| x == e) {
                Some(t) => t,
                None => continue,
            }
        };
        eng.net.projections[proj.index].remove_slots(&[slot]);
        eng.synapse_entities[proj.index][slot] = Entity::PLACEHOLDER;
    }
    timers.compile += t0.elapsed().as_secs_f64();
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
                    .insert(super::row_of(eng.net.projections[k].store(), slot));
            }
            sync_projection(world, &mut eng, k, &adopted);
            for (it, result) in mine.iter().zip(results) {
                let e = it.0;
                match result {
                    Ok(slot) => {
                        let s = eng.net.projections[k].store();
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
