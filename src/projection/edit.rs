//! Edits of a projection beyond one weight: writing many entries, creating
//! synapses, delay and plasticity rows, adjusters, reapplying the strategy,
//! mask changes. Each ends in [`Projection::commit`]; none knows the network
//! (what they need of it, the pre neurons' polarity and the default delay,
//! is passed in by `network/weights.rs`).

use super::error::{ProjectionError, ProjectionResult as Result};
use super::projection::Touched;
use super::*;
use crate::connect::Polarity;
use crate::mask::{Enforced, Masks};
use crate::rng::Stream;

/// A new synapse: (pre, post, weight, sign, delay steps).
type NewSynapse = (u32, u32, f32, Sign, u16);

impl Projection {
    /// The live slots of the pair `pre -> post` (several with multapses).
    pub(crate) fn live_slots(&self, pre: u32, post: u32) -> Result<Vec<usize>> {
        let s = &self.store;
        Ok(s.find(pre, post)?.filter(|&k| s.sign[k] != REMOVED).collect())
    }

    /// Sets `(pre, post, w)` entries; `dense`: one entry per pair, multapses
    /// beyond the first set to 0. A nonzero entry beyond a pair's synapses
    /// creates one (sign by [`new_sign`], delay `default_delay`) where the
    /// masks and Dale's law allow it, else it is counted as refused.
    pub(crate) fn write_entries(
        &mut self,
        entries: &[(u32, u32, f32)],
        dense: bool,
        pre_polarity: &[Polarity],
        default_delay: u16,
    ) -> Result<Written> {
        let mut done = Written::default();
        let mut changed = Vec::new();
        let mut added: Vec<NewSynapse> = Vec::new();
        let mut used: std::collections::HashMap<(u32, u32), usize> = std::collections::HashMap::new();
        for &(pre, post, w) in entries {
            let nth = used.entry((pre, post)).or_insert(0);
            let live = self.live_slots(pre, post)?;
            if let Some(&slot) = live.get(*nth) {
                self.store.set_weight(slot, w);
                changed.push(slot);
                done.set += 1;
                if dense {
                    for &other in &live[1..] {
                        self.store.set_weight(other, 0.0);
                        changed.push(other);
                    }
                }
            } else if w != 0.0 {
                let multapse = !live.is_empty() || *nth > 0;
                match admit(self, pre_polarity, pre, post, w, multapse) {
                    Ok(sign) => {
                        added.push((pre, post, w, sign, default_delay));
                        done.created += 1;
                    }
                    Err(_) => done.refused += 1,
                }
            }
            *nth += 1;
        }
        if !added.is_empty() {
            let (slots, map) = self.store.add(&added)?;
            if let Some(map) = map {
                for c in changed.iter_mut() {
                    *c = map[*c];
                }
                self.relayout(map);
            }
            self.fresh_slots(&slots);
            changed.extend(slots);
        }
        done.enforced = self.commit(Touched::Slots(&changed), false);
        Ok(done)
    }

    /// Creates synapses `(pre, post, weight, delay steps)` in one pass over
    /// the store (O(n + added), however many are added); returns each one's
    /// slot or why it was refused: a mask forbids it, the pair exists (or
    /// repeats in the batch) and the projection has no multapses, Dale's law
    /// would make it weigh 0, or a bad value. `default_delay` is used where
    /// an item gives none.
    pub(crate) fn create_synapses(
        &mut self,
        items: &[(u32, u32, f32, Option<u16>)],
        pre_polarity: &[Polarity],
        default_delay: &std::result::Result<u16, String>,
    ) -> Vec<Result<usize>> {
        let name = self.name.clone();
        let mut accepted: Vec<NewSynapse> = Vec::new();
        let mut results: Vec<Result<usize>> = Vec::with_capacity(items.len());
        let mut pending: std::collections::HashSet<(u32, u32)> = std::collections::HashSet::new();
        for &(pre, post, w, delay) in items {
            let one = (|| -> Result<NewSynapse> {
                check_finite(&name, w)?;
                let delay = match delay {
                    Some(d) => check_delay_steps(&name, d)?,
                    None => default_delay
                        .as_ref()
                        .map_err(|e| ProjectionError::NoDefaultDelay(e.clone()))?
                        .to_owned(),
                };
                let exists = !self.live_slots(pre, post)?.is_empty() || pending.contains(&(pre, post));
                let sign = admit(self, pre_polarity, pre, post, w, exists)?;
                Ok((pre, post, w, sign, delay))
            })();
            match one {
                Ok(entry) => {
                    pending.insert((entry.0, entry.1));
                    accepted.push(entry);
                    results.push(Ok(usize::MAX));
                }
                Err(e) => results.push(Err(e)),
            }
        }
        if accepted.is_empty() {
            return results;
        }
        let (slots, map) = match self.store.add(&accepted) {
            Ok(added) => added,
            Err(e) => {
                return results
                    .into_iter()
                    .map(|r| r.and_then(|_| Err(ProjectionError::Store(e.clone()))))
                    .collect();
            }
        };
        if let Some(map) = map {
            self.relayout(map);
        }
        self.fresh_slots(&slots);
        self.commit(Touched::Slots(&slots), false);
        let mut next = slots.into_iter();
        results
            .into_iter()
            .map(|r| r.map(|_| next.next().unwrap_or(usize::MAX)))
            .collect()
    }

    /// Sets the delay (steps, >= 1) and plasticity factor (in [0, 1]) of
    /// store slot `slot` (a `ecs::SynapseRow` edit). O(1). The
    /// caller grows the post population's delay ring when the delay needs it.
    pub(crate) fn set_row(&mut self, slot: usize, delay: u16, plasticity: f32) -> Result<()> {
        let p = self;
        if slot >= p.store.len() || p.store.sign[slot] == REMOVED {
            return Err(ProjectionError::NoLiveSlot {
                projection: p.name.clone(),
                slot,
            });
        }
        check_delay_steps(&p.name, delay)?;
        if let Some(pl) = &p.plastic
            && !pl.in_flight.is_empty()
            && usize::from(delay) != pl.in_flight.len()
        {
            return Err(ProjectionError::parameter(
                format!("{}.delay", p.name),
                format!(
                    "a learning projection keeps one delay for all synapses ({} steps); got {delay}",
                    pl.in_flight.len()
                ),
            ));
        }
        if !(0.0..=1.0).contains(&plasticity) {
            return Err(ProjectionError::parameter(
                format!("{}.plasticity", p.name),
                format!("must be in [0, 1], got {plasticity}"),
            ));
        }
        let len = p.store.len();
        p.store.delay.set(slot, delay, len);
        p.store.plasticity.set(slot, plasticity, len);
        p.log(Touched::Slots(&[slot]));
        Ok(())
    }

    /// Removes the synapses a selection covers among those `filter` covers;
    /// returns how many.
    pub(crate) fn lesion_selection(
        &mut self,
        selection: &Selection,
        filter: SignFilter,
        rng: &mut Stream,
    ) -> Result<u64> {
        selection.validate(&self.name, self.store.n_pre, self.store.n_post)?;
        let slots = select(&self.store, selection, filter, rng)?;
        self.remove_slots(&slots);
        Ok(slots.len() as u64)
    }

    /// Applies a weight adjuster (not prune or reapply) to the synapses
    /// `filter` covers, with draws from `streams(chunk)`.
    pub(crate) fn apply_adjuster(
        &mut self,
        adjuster: &Adjuster,
        filter: SignFilter,
        policy: SignPolicy,
        streams: impl Fn(u64) -> Stream + Sync,
    ) -> Result<Adjusted> {
        let touched = apply(&mut self.store, adjuster, filter, policy, streams).map_err(|e| match e {
            ProjectionError::Unrepresentable {
                pre, post, value, why, ..
            } => ProjectionError::Unrepresentable {
                projection: self.name.clone(),
                pre,
                post,
                value,
                why,
            },
            e => e,
        })?;
        let mut done = Adjusted {
            changed: touched.len() as u64,
            ..Adjusted::default()
        };
        done.enforced = self.commit(Touched::Slots(&touched), false);
        Ok(done)
    }

    /// Replaces the synapses `filter` covers by those of `fresh` (the
    /// strategy run again) and keeps the others; without multapses a pair
    /// that keeps a synapse takes none of `fresh`'s.
    pub(crate) fn replace_synapses(&mut self, mut fresh: SynapseStore, filter: SignFilter) -> Result<Adjusted> {
        fresh.dale = self.store.dale;
        let mut done = Adjusted::default();
        let old = std::mem::replace(&mut self.store, fresh);
        if filter == SignFilter::Both {
            done.removed = old.live();
            done.created = self.store.live();
            self.relayout(vec![usize::MAX; old.len()]);
        } else {
            // keep the old synapses of the other sign, take the new ones of this sign
            let new = std::mem::replace(&mut self.store, old);
            let covered: Vec<usize> = (0..self.store.len())
                .filter(|&s| filter.covers(self.store.sign[s]))
                .collect();
            for &s in &covered {
                self.store.remove(s);
            }
            done.removed = covered.len() as u64;
            let map = self.store.compact();
            self.relayout(map);
            let mut added = Vec::new();
            for r in 0..new.rows() {
                for s in new.row(r) {
                    let (a, b) = new.pair(s);
                    // a pair that keeps its synapse of the other sign gets no second one (a multapse)
                    let kept = !self.spec.multapses && self.store.find_live(a, b)?.is_some();
                    if filter.covers(new.sign[s]) && !kept {
                        added.push((a, b, new.weight[s], new.sign[s], new.delay.get(s)));
                    }
                }
            }
            done.created = added.len() as u64;
            let map = self.store.insert(&added)?;
            self.relayout(map);
        }
        done.enforced = self.constrain_all();
        self.compact_store();
        Ok(done)
    }

    /// Replaces the masks (an E/I mask turns Dale's law on), enforces them
    /// on every synapse and drops the synapses they removed.
    pub(crate) fn set_masks(&mut self, masks: Masks) -> Enforced {
        if masks.signs.is_some() {
            self.store.dale = true;
        }
        self.masks = masks;
        let done = self.constrain_all();
        self.compact_store();
        done
    }
}

impl Projection {
    /// New synapses in `slots` (a removed slot taken again keeps its place):
    /// the learning state of the synapse that was there is not theirs.
    fn fresh_slots(&mut self, slots: &[usize]) {
        if let Some(p) = &mut self.plastic {
            p.fresh_slots(slots);
        }
    }
}

/// A delay of `d` whole steps for projection `name`: at least one step.
pub(crate) fn check_delay_steps(name: &str, d: u16) -> Result<u16> {
    if d == 0 {
        return Err(ProjectionError::parameter(
            format!("{name}.delay"),
            "a delay must be >= 1 step",
        ));
    }
    Ok(d)
}
