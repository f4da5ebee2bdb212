//! A built projection and its one edit protocol.
//!
//! Every change of a projection's store (weight, sign, delay, plasticity,
//! creation, removal, compaction, reapply, mask change, balance) ends in
//! [`Projection::commit`]: it enforces the masks on what changed, patches or
//! rebuilds the dense kernel, and records the changed slots (and the slots
//! the masks changed in turn) in the projection's [`StoreChanges`], from
//! which the ECS mirrors are synced once per tick. The store, the masks and
//! the kernel are readable from outside (`store()`, `masks()`, `dense()`) but
//! writable only through this path, so no caller can forget a step.

use super::*;
use crate::connect::Strategy;
use crate::mask::{self, Enforced, Masks, Scope};

/// A built projection.
#[derive(Clone, Debug)]
pub struct Projection {
    /// Name.
    pub name: String,
    /// Index of the pre population.
    pub pre: usize,
    /// Index of the post population.
    pub post: usize,
    /// Strategy it was built with.
    pub strategy: Strategy,
    /// The synapses (read with [`Projection::store`]).
    pub(crate) store: SynapseStore,
    /// True when no mirror entities are kept.
    pub compact: bool,
    /// The spec it was built from.
    pub spec: ProjectionSpec,
    /// Rate projections dense enough for a matrix product: the weights as a
    /// dense post x pre kernel, derived from the store and patched or
    /// rebuilt by every commit (an edit made here directly lasts until the
    /// next commit rebuilds it).
    pub dense: Option<ndarray::Array2<f32>>,
    /// Masks and constraint flags, enforced after every change.
    pub(crate) masks: Masks,
    /// Pre and post are the same population (the diagonal is `i -> i`).
    pub recurrent: bool,
    /// Set by [`Projection::weights_mut`]: the next Constrain stage (or
    /// `network::Network::enforce_constraints`) enforces the masks
    /// on the whole projection.
    pub(crate) constrain_pending: bool,
    /// What changed in the store since the mirror entities were last synced.
    pub(crate) changes: StoreChanges,
    /// Times the strategy was reapplied (keys the streams of each rebuild).
    pub rebuilds: u64,
    /// Parameters of `spec` (`"weight"`, `"strategy"`, ...) that were Rust
    /// closures when the projection was saved: a checkpoint cannot hold a
    /// closure, so the loaded spec has placeholders there and reapplying the
    /// strategy is refused ([`Projection::check_rebuild`]). Empty unless loaded.
    pub lost_closures: Vec<String>,
    /// The state of the learning rules (`None`: a static projection).
    pub(crate) plastic: Option<crate::plasticity::Plastic>,
}

/// Rate projections at least this dense run as a dense matrix product.
pub const DENSE_MIN_DENSITY: f64 = 0.25;

/// What a commit covers.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Touched<'a> {
    /// These slots changed (weights, signs, existence, delays, plasticity).
    Slots(&'a [usize]),
    /// Any slot may have changed.
    All,
}

impl Projection {
    /// A projection over `store` (built by a strategy, or loaded) with its
    /// masks enforced on every synapse, tombstones dropped and the kernel built.
    pub(crate) fn new(spec: ProjectionSpec, pre: usize, post: usize, store: SynapseStore, masks: Masks) -> Projection {
        let mut proj = Projection {
            name: spec.name.clone(),
            pre,
            post,
            strategy: spec.strategy.clone(),
            store,
            compact: spec.compact,
            spec,
            dense: None,
            masks,
            recurrent: pre == post,
            constrain_pending: false,
            changes: StoreChanges::default(),
            rebuilds: 0,
            lost_closures: Vec::new(),
            plastic: None,
        };
        if proj.masks.is_empty() {
            proj.refresh_kernel();
        } else {
            proj.constrain_all();
            proj.store.compact();
            proj.changes = StoreChanges::default();
            proj.refresh_kernel();
        }
        proj
    }

    /// The synapses (read only: every change goes through the projection).
    pub fn store(&self) -> &SynapseStore {
        &self.store
    }

    /// The masks and constraint flags.
    pub fn masks(&self) -> &Masks {
        &self.masks
    }

    /// What changed since the mirrors were last synced.
    pub fn changes(&self) -> &StoreChanges {
        &self.changes
    }

    /// True when raw weight writes wait for the next Constrain stage.
    pub fn constrain_pending(&self) -> bool {
        self.constrain_pending
    }

    /// The store's weights for a bulk write in place (a learning rule, a
    /// host's own update): every slot is marked changed, and the masks and
    /// the dense kernel are brought up to date by the next Constrain stage,
    /// `Network::enforce_constraints`, or at the latest the next step.
    pub fn weights_mut(&mut self) -> &mut [f32] {
        self.constrain_pending = true;
        self.log(Touched::All);
        &mut self.store.weight
    }

    /// Takes the change log (the mirror sync, once per tick).
    pub(crate) fn take_changes(&mut self) -> StoreChanges {
        std::mem::take(&mut self.changes)
    }

    /// The one epilogue of every store change: enforces the masks on
    /// `touched`, records `touched` and every slot the masks changed besides
    /// (balance rescales whole post rows), and patches or rebuilds the
    /// kernel. `patch`: the change kept the layout and touched few slots, so
    /// the dense kernel is patched entry by entry instead of rebuilt.
    pub(crate) fn commit(&mut self, touched: Touched<'_>, patch: bool) -> Enforced {
        let (done, also) = match touched {
            Touched::Slots(_) if self.masks.is_empty() && self.store.dale => {
                // store.set_weight / remove already kept Dale's sign; nothing else to enforce
                (Enforced::default(), Vec::new())
            }
            Touched::Slots(slots) => {
                mask::enforce_touched(&mut self.store, &self.masks, self.recurrent, Scope::Slots(slots))
            }
            Touched::All => {
                self.constrain_pending = false;
                // signs may have changed everywhere: the post index sees them again
                if let Some(p) = &mut self.plastic {
                    p.index = None;
                }
                (
                    mask::enforce(&mut self.store, &self.masks, self.recurrent, Scope::All),
                    Vec::new(),
                )
            }
        };
        self.log(touched);
        self.log(Touched::Slots(&also));
        match touched {
            Touched::Slots(slots) if patch && also.len() <= slots.len() => {
                for &k in slots.iter().chain(&also) {
                    self.patch_kernel(k);
                }
            }
            _ => self.refresh_kernel(),
        }
        done
    }

    /// Records changed slots for the mirrors (compact projections keep no log).
    pub(crate) fn log(&mut self, touched: Touched<'_>) {
        if self.compact {
            return;
        }
        match touched {
            Touched::Slots(slots) => self.changes.slots(slots),
            Touched::All => self.changes.everything(),
        }
    }

    /// Marks slots for the mirrors to resync without changing them (a
    /// refused entity edit: the sync restores the entity from the store).
    pub(crate) fn resync(&mut self, slots: &[usize]) {
        self.log(Touched::Slots(slots));
    }

    /// Records a layout change (old slot -> new slot) for the mirrors.
    pub(crate) fn relayout(&mut self, map: Vec<usize>) {
        if let Some(p) = &mut self.plastic {
            p.relayout(&map, self.store.len());
        }
        if !self.compact {
            self.changes.relayout(map);
        }
    }

    /// Sets the weight of store slot `k`, enforces the masks on it (Dale's
    /// rule, balance of its post neuron), patches the kernel and logs it.
    pub fn set_weight(&mut self, k: usize, w: f32) -> Enforced {
        self.store.set_weight(k, w);
        self.commit(Touched::Slots(&[k]), true)
    }

    /// Removes store slot `k` (a lesion), rebalances if asked, patches the kernel, logs it.
    pub fn remove(&mut self, k: usize) -> Enforced {
        self.remove_slots(&[k])
    }

    /// Removes store slots (a lesion), rebalances if asked, patches the kernel, logs them.
    pub(crate) fn remove_slots(&mut self, slots: &[usize]) -> Enforced {
        for &k in slots {
            self.store.remove(k);
        }
        self.commit(Touched::Slots(slots), slots.len() <= 16)
    }

    /// Enforces the masks on every synapse and rebuilds the kernel (after
    /// construction, a mask change, a bulk edit).
    pub(crate) fn constrain_all(&mut self) -> Enforced {
        self.commit(Touched::All, false)
    }

    /// Drops tombstones from the store (O(n)) and records the new layout for the mirrors.
    pub fn compact_store(&mut self) {
        if self.store.removed == 0 {
            return;
        }
        let map = self.store.compact();
        self.relayout(map);
    }

    fn patch_kernel(&mut self, k: usize) {
        if let Some(d) = &mut self.dense
            && k < self.store.len()
        {
            let (pre, post) = self.store.pair(k);
            let range = self.store.find(pre, post).unwrap_or(k..k + 1);
            d[[post as usize, pre as usize]] = range.map(|s| self.store.weight[s]).sum();
        }
    }

    /// Rebuilds the kernel from the store.
    pub(crate) fn refresh_kernel(&mut self) {
        let s = &self.store;
        let density = s.live() as f64 / (f64::from(s.n_pre) * f64::from(s.n_post)).max(1.0);
        // a learning projection changes its store every step: no dense copy to keep up
        self.dense =
            (s.major == Major::Post && density >= DENSE_MIN_DENSITY && self.plastic.is_none()).then(|| s.to_dense());
    }

    /// The state of the learning rules (`None`: static).
    pub fn plastic(&self) -> Option<&crate::plasticity::Plastic> {
        self.plastic.as_ref()
    }

    /// The learning state, to write a modulator or an error.
    pub fn plastic_mut(&mut self) -> Option<&mut crate::plasticity::Plastic> {
        self.plastic.as_mut()
    }

    /// Gives the projection its learning state (at build or load) and drops the dense kernel.
    pub(crate) fn set_plastic(&mut self, plastic: Option<crate::plasticity::Plastic>) {
        self.plastic = plastic;
        self.refresh_kernel();
    }

    /// Logs the slots the learning rules changed in the last step (for the
    /// mirrors; past a quarter of the store, everything is resynced).
    pub(crate) fn log_learned(&mut self) {
        let Some(p) = &mut self.plastic else { return };
        if p.changed.is_empty() {
            return;
        }
        let mut changed = std::mem::take(&mut p.changed);
        if !self.compact {
            if self.changes.slots.len() + changed.len() > self.store.len() / 4 {
                self.changes.everything();
            } else {
                self.changes.slots(&changed);
            }
        }
        changed.clear();
        if let Some(p) = &mut self.plastic {
            p.changed = changed;
        }
    }
}
