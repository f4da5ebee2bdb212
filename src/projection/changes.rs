//! What changed in a store since its mirror entities were last synced
//! (rapier's `ModifiedObjects`): written only by the projection's commit
//! path, read and emptied once per tick by the mirror sync.

/// What changed in a store since its mirror entities were last synced
/// (kept for mirrored projections only; the ECS sync empties it).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoreChanges {
    /// Slots whose weight, sign, delay, plasticity or existence changed.
    pub slots: Vec<usize>,
    /// Everything may have changed (bulk edit): resync every slot.
    pub all: bool,
    /// The layout changed: `remap[old slot] = new slot` (`usize::MAX`: gone).
    pub remap: Option<Vec<usize>>,
}

impl StoreChanges {
    /// Nothing to sync.
    pub fn is_empty(&self) -> bool {
        !self.all && self.remap.is_none() && self.slots.is_empty()
    }

    /// Records changed slots (nothing to add once everything is marked).
    pub fn slots(&mut self, slots: &[usize]) {
        if !self.all {
            self.slots.extend_from_slice(slots);
        }
    }

    /// Records a layout change given by `map` (old slot -> new slot).
    pub fn relayout(&mut self, map: Vec<usize>) {
        self.remap = Some(match self.remap.take() {
            None => map,
            Some(prev) => prev
                .into_iter()
                .map(|k| if k == usize::MAX { k } else { map[k] })
                .collect(),
        });
        self.all = true;
        self.slots.clear();
    }

    /// Marks every slot changed.
    pub fn everything(&mut self) {
        self.all = true;
        self.slots.clear();
    }
}
