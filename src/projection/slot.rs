//! The engine-owned handle of a synapse entity's store slot.

/// The store slot a synapse entity mirrors: a handle only the engine makes
/// (there is no public constructor), so a user cannot author one. A handle
/// copied onto another entity, or kept past a layout change, is refused by
/// the Compile stage with a reported error; it never edits another synapse.
/// (`rapier`'s handles, `#[repr(transparent)]`.)
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SynapseSlot(u32);

impl SynapseSlot {
    /// The handle of store slot `k` (mirrored stores hold at most `u32::MAX`
    /// slots: each mirror entity costs over 100 B, so the memory budget
    /// refuses such a store long before; a larger `k` saturates and is then
    /// refused as stale).
    pub(crate) fn new(k: usize) -> SynapseSlot {
        SynapseSlot(u32::try_from(k).unwrap_or(u32::MAX))
    }

    /// The slot's index in the projection's store.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}
