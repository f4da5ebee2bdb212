//! Edits made through entities, queued by component hooks in O(1) each and folded into the engine by the Stimulate and Compile stages (`systems/stimulate.rs`, `systems/compile.rs`).

use super::*;
use crate::projection::SynapseSlot;
use bevy_ecs::lifecycle::HookContext;
use bevy_ecs::prelude::*;
use bevy_ecs::world::DeferredWorld;

pub(crate) fn queue_input(mut world: DeferredWorld, ctx: HookContext) {
    if let Some(mut q) = world.get_resource_mut::<EditQueue>() {
        q.inputs.push(ctx.entity);
    }
}

pub(crate) fn queue_row(mut world: DeferredWorld, ctx: HookContext) {
    if let Some(mut q) = world.get_resource_mut::<EditQueue>()
        && !q.suppress
    {
        q.rows.push(ctx.entity);
    }
}

pub(crate) fn queue_creation(mut world: DeferredWorld, ctx: HookContext) {
    if world.get::<SynapseRow>(ctx.entity).is_some() {
        return;
    }
    if let Some(mut q) = world.get_resource_mut::<EditQueue>()
        && !q.suppress
    {
        q.created.push(ctx.entity);
    }
}

pub(crate) fn queue_removal(mut world: DeferredWorld, ctx: HookContext) {
    let Some(syn) = world.get::<Synapse>(ctx.entity).copied() else {
        return;
    };
    let Some(slot) = world.get::<SynapseRow>(ctx.entity).map(|s| s.slot) else {
        return;
    };
    if let Some(mut q) = world.get_resource_mut::<EditQueue>()
        && !q.suppress
    {
        q.removals.push((syn.projection, slot, ctx.entity));
    }
}

pub(crate) fn queue_weight(mut world: DeferredWorld, ctx: HookContext) {
    if let Some(mut q) = world.get_resource_mut::<EditQueue>()
        && !q.suppress
    {
        q.weights.push(ctx.entity);
    }
}

/// Edits queued by component hooks, folded in by Stimulate and Compile.
#[derive(Resource, Debug, Default)]
pub struct EditQueue {
    /// Synapse entities whose [`Weight`] was inserted.
    pub weights: Vec<Entity>,
    /// Removed synapses: (projection entity, the slot its row named, the entity).
    pub removals: Vec<(Entity, SynapseSlot, Entity)>,
    /// Synapse entities spawned by a host (no [`SynapseRow`] yet): new synapses.
    pub created: Vec<Entity>,
    /// Synapse entities whose [`SynapseRow`] was inserted (delay or plasticity edits).
    pub rows: Vec<Entity>,
    /// Neuron entities whose [`NeuronInput`] was inserted.
    pub inputs: Vec<Entity>,
    /// While true (during Writeback and despawns of whole networks) hooks queue nothing.
    pub suppress: bool,
}
