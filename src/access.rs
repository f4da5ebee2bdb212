//! Touching any synapse (the Nengo question): reading and writing a
//! projection's whole weight matrix, editing or lesioning single synapses or
//! selections, masks, adjusters, statistics, and a network summary.
//!
//! Everything here works on the synapse store, so it works the same on a
//! mirrored and on a compact projection; the masks are enforced after every
//! change, and the ECS mirrors follow through the projection's
//! [`crate::network::MirrorLog`] at the next schedule run.
//!
//! ```
//! use cortecs::prelude::*;
//! use ndarray::Array2;
//! # fn main() -> cortecs::error::Result<()> {
//! let mut net = Network::new(1.0, 7)?;
//! net.add_population(PopulationSpec::new("h", 100, ModelKind::Rate { activation: Activation::Relu })
//!     .polarity(PolaritySpec::ExcitatoryFraction(0.8)))?;
//! let sparsity = Array2::from_shape_fn((100, 100), |(post, pre)| ((post / 50 == pre / 50) as u8) as f32);
//! net.connect(ProjectionSpec::new("hh", "h", "h", Strategy::FixedProbability { p: 0.5, equalize_efferents: false })
//!     .weight(Distribution::LogNormal { mu: -2.0, sigma: 0.5 })
//!     .self_connections(false)
//!     .sparsity_mask(sparsity)
//!     .balance(true))?;
//! let w = net.weights_dense("hh")?;
//! net.set_weights_dense("hh", (&w * 1.5).view())?;
//! let k = net.projection("hh")?.store.find_live(3, 7)?.is_some();
//! if k { net.lesion("hh", 3, 7)?; }
//! net.lesion_selection("hh", &Selection::Fraction(0.1), SignFilter::Inhibitory)?;
//! net.adjust("hh", &Adjuster::Perturb(Distribution::Normal { mean: 0.0, std: 0.01 }), SignFilter::Excitatory)?;
//! let stats = net.weight_stats("hh", SignFilter::Both)?;
//! assert!(stats.count > 0);
//! println!("{}", net.summary());
//! let file = std::env::temp_dir().join(format!("hh-{}.ckpt", std::process::id()));
//! net.save(&file)?;
//! let again = Network::load(&file)?;
//! assert_eq!(again.weights_dense("hh")?, net.weights_dense("hh")?);
//! # std::fs::remove_file(&file).ok();
//! # Ok(())
//! # }
//! ```

use crate::adjust::{self, Adjuster, Selection, SignPolicy};
use crate::connect::{self, Polarity};
use crate::error::{CortecsError, Result};
use crate::mask::{Enforced, Masks, Scope};
use crate::network::{Network, Projection};
use crate::rng::Stream;
use crate::store::{EXCITATORY, INHIBITORY, REMOVED, Sign, SignFilter, WeightStats};
use ndarray::{Array2, ArrayView2};
use std::fmt;

/// A projection's synapses as coordinate lists (scipy's COO, post x pre).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Coo {
    /// Pre neuron of each synapse.
    pub pre: Vec<u32>,
    /// Post neuron of each synapse.
    pub post: Vec<u32>,
    /// Signed weight of each synapse.
    pub weight: Vec<f32>,
}

/// A projection's weights as a compressed sparse row matrix of shape post x
/// pre (scipy's CSR of `W` in `y = W r`): row `j` holds the synapses onto
/// post neuron `j`, sorted by pre.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Csr {
    /// Number of rows (post neurons).
    pub n_post: usize,
    /// Number of columns (pre neurons).
    pub n_pre: usize,
    /// Row start offsets, length `n_post + 1`.
    pub indptr: Vec<u64>,
    /// Pre neuron of each entry.
    pub indices: Vec<u32>,
    /// Signed weight of each entry.
    pub data: Vec<f32>,
}

impl Csr {
    /// The same entries as coordinate lists.
    pub fn to_coo(&self) -> Result<Coo> {
        if self.indptr.len() != self.n_post + 1
            || self.indices.len() != self.data.len()
            || self.indptr.last().copied() != Some(self.data.len() as u64)
            || self.indptr.windows(2).any(|w| w[0] > w[1])
        {
            return Err(CortecsError::InvalidRequest(format!(
                "CSR matrix: indptr of length {} (want {}) ending at {:?}, {} indices, {} values do not fit together",
                self.indptr.len(),
                self.n_post + 1,
                self.indptr.last(),
                self.indices.len(),
                self.data.len()
            )));
        }
        let mut coo = Coo::default();
        for j in 0..self.n_post {
            for e in self.indptr[j] as usize..self.indptr[j + 1] as usize {
                coo.pre.push(self.indices[e]);
                coo.post.push(j as u32);
                coo.weight.push(self.data[e]);
            }
        }
        Ok(coo)
    }
}

/// What a weight write did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Existing synapses whose weight was set.
    pub set: u64,
    /// New synapses created (nonzero entries where none existed).
    pub created: u64,
    /// Nonzero entries dropped because a mask forbids a synapse there, or
    /// because Dale's law would make a new synapse weigh 0.
    pub refused: u64,
    /// What enforcing the masks afterwards did.
    pub enforced: Enforced,
}

/// What an adjustment did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Adjusted {
    /// Synapses whose weight the adjuster computed anew.
    pub changed: u64,
    /// Synapses removed (prune) or replaced (reapply).
    pub removed: u64,
    /// Synapses created (reapply).
    pub created: u64,
    /// What enforcing the masks afterwards did.
    pub enforced: Enforced,
}

impl Network {
    fn proj_mut(&mut self, name: &str) -> Result<&mut Projection> {
        let k = self.projection_index(name)?;
        Ok(&mut self.projections[k])
    }

    /// The weight matrix of a projection, dense, post x pre (`W` in `y = W r`;
    /// multapses summed).
    pub fn weights_dense(&self, projection: &str) -> Result<Array2<f32>> {
        Ok(self.projection(projection)?.store.to_dense())
    }

    /// The live synapses of a projection as coordinate lists, in store order.
    pub fn weights_coo(&self, projection: &str) -> Result<Coo> {
        let (pre, post, weight) = self.projection(projection)?.store.to_coo();
        Ok(Coo { pre, post, weight })
    }

    /// The weights as a post x pre CSR matrix (rows sorted by pre; multapses
    /// kept as separate entries).
    pub fn weights_csr(&self, projection: &str) -> Result<Csr> {
        let s = &self.projection(projection)?.store;
        let (n_post, n_pre) = (s.n_post as usize, s.n_pre as usize);
        let post_major = match s.major {
            crate::store::Major::Post => None,
            crate::store::Major::Pre => Some(s.transposed().0),
        };
        let t = post_major.as_ref().unwrap_or(s);
        let mut csr = Csr {
            n_post,
            n_pre,
            indptr: vec![0],
            ..Csr::default()
        };
        for j in 0..n_post {
            for k in t.row(j) {
                if t.sign[k] != REMOVED {
                    csr.indices.push(t.minor[k]);
                    csr.data.push(t.weight[k]);
                }
            }
            csr.indptr.push(csr.data.len() as u64);
        }
        Ok(csr)
    }

    /// The weight of the synapse from `pre` to `post` (summed over
    /// multapses), or `None` when there is none.
    pub fn weight(&self, projection: &str, pre: u32, post: u32) -> Result<Option<f32>> {
        let s = &self.projection(projection)?.store;
        let live: Vec<usize> = s.find(pre, post)?.filter(|&k| s.sign[k] != REMOVED).collect();
        Ok((!live.is_empty()).then(|| live.iter().map(|&k| s.weight[k]).sum()))
    }

    /// Sets the weight of the synapse from `pre` to `post` (the first of its
    /// multapses), with the masks enforced; the next step uses it. O(log row).
    pub fn set_weight(&mut self, projection: &str, pre: u32, post: u32, w: f32) -> Result<()> {
        check_finite(projection, w)?;
        let p = self.proj_mut(projection)?;
        let Some(k) = p.store.find_live(pre, post)? else {
            return Err(no_synapse(projection, pre, post));
        };
        p.set_weight(k, w);
        p.log_slots(&[k]);
        Ok(())
    }

    /// Removes ("lesions") the synapses from `pre` to `post`. O(log row).
    pub fn lesion(&mut self, projection: &str, pre: u32, post: u32) -> Result<()> {
        let p = self.proj_mut(projection)?;
        let slots: Vec<usize> = p
            .store
            .find(pre, post)?
            .filter(|&k| p.store.sign[k] != REMOVED)
            .collect();
        if slots.is_empty() {
            return Err(no_synapse(projection, pre, post));
        }
        for &k in &slots {
            p.remove(k);
        }
        p.log_slots(&slots);
        Ok(())
    }

    /// Removes the synapses a selection covers among those `filter` covers;
    /// returns how many.
    pub fn lesion_selection(&mut self, projection: &str, selection: &Selection, filter: SignFilter) -> Result<u64> {
        let (seed, draw) = self.next_draw();
        let p = self.proj_mut(projection)?;
        selection.validate(projection, p.store.n_pre, p.store.n_post)?;
        let mut rng = Stream::keyed(seed, projection, &format!("lesion#{draw}"), 0);
        let slots = adjust::select(&p.store, selection, filter, &mut rng)?;
        for &k in &slots {
            p.store.remove(k);
        }
        p.log_slots(&slots);
        if p.masks.balance {
            p.constrain_slots(&slots);
        }
        p.refresh_kernel();
        Ok(slots.len() as u64)
    }

    fn next_draw(&mut self) -> (u64, u64) {
        self.set_count += 1;
        (self.seed, self.set_count)
    }

    /// Writes a whole post x pre weight matrix: every synapse takes its
    /// entry (the first of a pair's multapses takes it, the others 0), and a
    /// nonzero entry where no synapse exists creates one (sign from the E/I
    /// mask, else the pre neuron's polarity, else the weight's sign; delay
    /// the projection's). The masks are enforced afterwards: entries they
    /// forbid are refused and counted.
    pub fn set_weights_dense(&mut self, projection: &str, w: ArrayView2<f32>) -> Result<Written> {
        let p = self.projection(projection)?;
        let (n_post, n_pre) = (p.store.n_post as usize, p.store.n_pre as usize);
        if w.dim() != (n_post, n_pre) {
            return Err(CortecsError::InvalidRequest(format!(
                "{projection}: the weight matrix must be post x pre = {n_post} x {n_pre}, got {} x {}",
                w.nrows(),
                w.ncols()
            )));
        }
        if let Some(((r, c), v)) = w.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(CortecsError::InvalidRequest(format!(
                "{projection}: weight at [post {r}, pre {c}] is {v}"
            )));
        }
        let s = &p.store;
        let mut seen = vec![false; s.len()];
        let mut entries: Vec<(u32, u32, f32)> = Vec::new();
        for k in 0..s.len() {
            if s.sign[k] == REMOVED || seen[k] {
                continue;
            }
            let (pre, post) = s.pair(k);
            for other in s.find(pre, post)? {
                seen[other] = true;
            }
            entries.push((pre, post, w[[post as usize, pre as usize]]));
        }
        let mut has = vec![false; n_post * n_pre];
        for &(pre, post, _) in &entries {
            has[post as usize * n_pre + pre as usize] = true;
        }
        for ((post, pre), &v) in w.indexed_iter() {
            if v != 0.0 && !has[post * n_pre + pre] {
                entries.push((pre as u32, post as u32, v));
            }
        }
        self.write_entries(projection, &entries, true)
    }

    /// Writes the listed synapses (others unchanged): the i-th entry of a
    /// pair sets that pair's i-th synapse; entries beyond a pair's synapses
    /// create new ones (several only with multapses). Masks enforced afterwards.
    pub fn set_weights_coo(&mut self, projection: &str, coo: &Coo) -> Result<Written> {
        if coo.pre.len() != coo.post.len() || coo.pre.len() != coo.weight.len() {
            return Err(CortecsError::WrongLength {
                context: format!("{projection}: COO weights (pre, post, weight)"),
                expected: coo.pre.len(),
                got: if coo.post.len() != coo.pre.len() {
                    coo.post.len()
                } else {
                    coo.weight.len()
                },
            });
        }
        let entries: Vec<(u32, u32, f32)> = (0..coo.pre.len())
            .map(|i| (coo.pre[i], coo.post[i], coo.weight[i]))
            .collect();
        for &(pre, post, w) in &entries {
            check_finite(projection, w)?;
            self.projection(projection)?.store.find(pre, post)?;
        }
        self.write_entries(projection, &entries, false)
    }

    /// Writes a post x pre CSR matrix like [`Network::set_weights_coo`].
    pub fn set_weights_csr(&mut self, projection: &str, csr: &Csr) -> Result<Written> {
        let s = &self.projection(projection)?.store;
        if (csr.n_post, csr.n_pre) != (s.n_post as usize, s.n_pre as usize) {
            return Err(CortecsError::InvalidRequest(format!(
                "{projection}: the CSR matrix must be post x pre = {} x {}, got {} x {}",
                s.n_post, s.n_pre, csr.n_post, csr.n_pre
            )));
        }
        self.set_weights_coo(projection, &csr.to_coo()?)
    }

    /// Sets `(pre, post, w)` entries; `dense`: one entry per pair, multapses
    /// beyond the first set to 0.
    fn write_entries(&mut self, projection: &str, entries: &[(u32, u32, f32)], dense: bool) -> Result<Written> {
        let k = self.projection_index(projection)?;
        let pre_polarity: Vec<Polarity> = self.populations[self.projections[k].pre].polarity.clone();
        let default_delay = self.default_delay(k)?;
        let p = &mut self.projections[k];
        let mut done = Written::default();
        let mut changed = Vec::new();
        let mut added: Vec<(u32, u32, f32, Sign, u16)> = Vec::new();
        let mut used: std::collections::HashMap<(u32, u32), usize> = std::collections::HashMap::new();
        for &(pre, post, w) in entries {
            let nth = used.entry((pre, post)).or_insert(0);
            let live: Vec<usize> = p
                .store
                .find(pre, post)?
                .filter(|&s| p.store.sign[s] != REMOVED)
                .collect();
            if let Some(&slot) = live.get(*nth) {
                p.store.set_weight(slot, w);
                changed.push(slot);
                done.set += 1;
                if dense {
                    for &other in &live[1..] {
                        p.store.set_weight(other, 0.0);
                        changed.push(other);
                    }
                }
            } else if w != 0.0 {
                let multapse = !live.is_empty() || *nth > 0;
                match admit(p, &pre_polarity, pre, post, w, multapse) {
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
            let (slots, map) = p.store.add(&added)?;
            if let Some(map) = map {
                for c in changed.iter_mut() {
                    *c = map[*c];
                }
                if !p.compact {
                    p.mirror_log.relayout(map);
                }
            }
            changed.extend(slots);
        }
        p.log_slots(&changed);
        done.enforced = crate::mask::enforce(&mut p.store, &p.masks, p.recurrent, Scope::Slots(&changed));
        p.refresh_kernel();
        if done.created > 0 && !self.populations[self.projections[k].post].model.is_rate() {
            self.resize_ring(self.projections[k].post);
        }
        Ok(done)
    }

    /// The delay (steps) new synapses of projection `k` get: the projection's
    /// uniform delay, or its declared constant delay, or one step.
    fn default_delay(&self, k: usize) -> Result<u16> {
        let p = &self.projections[k];
        if let crate::store::Column::Uniform(d) = p.store.delay
            && d >= 1
        {
            return Ok(d);
        }
        match p.spec.delay.as_ref().and_then(|d| d.as_const()) {
            Some(d) => {
                let steps = (d / self.dt).round();
                Ok(steps.clamp(1.0, f64::from(u16::MAX)) as u16)
            }
            None => Ok(1),
        }
    }

    /// Applies an adjuster to the synapses `filter` covers, keeping signs.
    pub fn adjust(&mut self, projection: &str, adjuster: &Adjuster, filter: SignFilter) -> Result<Adjusted> {
        self.adjust_with(projection, adjuster, filter, SignPolicy::Keep)
    }

    /// Applies an adjuster with an explicit sign policy ([`SignPolicy::Free`]
    /// lets signs follow the weights on a projection without Dale's law).
    pub fn adjust_with(
        &mut self,
        projection: &str,
        adjuster: &Adjuster,
        filter: SignFilter,
        policy: SignPolicy,
    ) -> Result<Adjusted> {
        let k = self.projection_index(projection)?;
        {
            let s = &self.projections[k].store;
            adjuster.validate(&format!("{projection}.{}", adjuster.name()), s.n_pre, s.n_post)?;
        }
        if matches!(adjuster, Adjuster::Reapply) {
            // a spec loaded from a checkpoint may hold placeholders for Rust closures
            self.projections[k].check_rebuild()?;
        }
        let (seed, draw) = self.next_draw();
        let purpose = format!("adjust#{draw}");
        let mut done = Adjusted::default();
        match adjuster {
            Adjuster::Prune(sel) => {
                done.removed = self.lesion_selection(projection, sel, filter)?;
                let p = &mut self.projections[k];
                done.enforced = p.constrain_slots(&[]);
            }
            Adjuster::Reapply => return self.reapply(k, filter),
            _ => {
                let p = &mut self.projections[k];
                let touched = adjust::apply(&mut p.store, adjuster, filter, policy, |c| {
                    Stream::keyed(seed, projection, &purpose, c)
                })?;
                done.changed = touched.len() as u64;
                p.mirror_log.all = true;
                done.enforced = crate::mask::enforce(&mut p.store, &p.masks, p.recurrent, Scope::Slots(&touched));
                p.refresh_kernel();
            }
        }
        Ok(done)
    }

    /// Runs projection `k`'s strategy again with fresh draws; keeps the
    /// synapses `filter` does not cover and replaces those it covers.
    fn reapply(&mut self, k: usize, filter: SignFilter) -> Result<Adjusted> {
        let (pre, post) = (self.projections[k].pre, self.projections[k].post);
        self.projections[k].rebuilds += 1;
        let mut spec = self.projections[k].spec.clone();
        let name = spec.name.clone();
        // a new key gives new draws; the name is restored below
        spec.name = format!("{name}#rebuild{}", self.projections[k].rebuilds);
        let input = self.connect_input(&spec, pre, post);
        let conn = connect::connect(&spec.strategy, &input)?;
        let mut fresh = self.store_for(&spec, conn, pre, post, self.projections[k].masks.signs.as_ref())?;
        let p = &mut self.projections[k];
        fresh.dale = p.store.dale;
        let mut done = Adjusted::default();
        let old = std::mem::replace(&mut p.store, fresh);
        if filter == SignFilter::Both {
            done.removed = old.live();
            done.created = p.store.live();
            if !p.compact {
                p.mirror_log.relayout(vec![usize::MAX; old.len()]);
            }
        } else {
            // keep the old synapses of the other sign, take the new ones of this sign
            let new = std::mem::replace(&mut p.store, old);
            let covered: Vec<usize> = (0..p.store.len()).filter(|&s| filter.covers(p.store.sign[s])).collect();
            for &s in &covered {
                p.store.remove(s);
            }
            done.removed = covered.len() as u64;
            let map = p.store.compact();
            if !p.compact {
                p.mirror_log.relayout(map);
            }
            let mut added = Vec::new();
            for r in 0..new.rows() {
                for s in new.row(r) {
                    if filter.covers(new.sign[s]) {
                        let (a, b) = new.pair(s);
                        added.push((a, b, new.weight[s], new.sign[s], new.delay.get(s)));
                    }
                }
            }
            done.created = added.len() as u64;
            let map = p.store.insert(&added)?;
            if !p.compact {
                p.mirror_log.relayout(map);
            }
        }
        done.enforced = p.constrain_all();
        if !p.compact {
            p.mirror_log.all = true;
        }
        p.compact_store();
        if !self.populations[post].model.is_rate() {
            self.resize_ring(post);
        }
        Ok(done)
    }

    /// Creates one synapse `pre -> post` in projection `k` (a synapse entity
    /// spawned by a host) with weight `w` and `delay` steps (default: the
    /// projection's); returns its slot. See [`Network::create_synapses`].
    pub fn create_synapse(&mut self, k: usize, pre: u32, post: u32, w: f32, delay: Option<u16>) -> Result<usize> {
        self.create_synapses(k, &[(pre, post, w, delay)])
            .pop()
            .unwrap_or_else(|| Err(CortecsError::InvalidRequest("nothing was created".into())))
    }

    /// Creates synapses `(pre, post, weight, delay steps)` in projection `k`
    /// in one pass over the store (O(n + added), however many are added);
    /// returns each one's slot or why it was refused: a mask forbids it, the
    /// pair exists (or repeats in the batch) and the projection has no
    /// multapses, Dale's law would make it weigh 0, or a bad value.
    pub fn create_synapses(&mut self, k: usize, items: &[(u32, u32, f32, Option<u16>)]) -> Vec<Result<usize>> {
        let Some(p) = self.projections.get(k) else {
            return items
                .iter()
                .map(|_| Err(CortecsError::InvalidRequest(format!("no projection {k}"))))
                .collect();
        };
        let name = p.name.clone();
        let default_delay = self.default_delay(k);
        let rate = self.populations[p.post].model.is_rate();
        let pre_polarity = self.populations[p.pre].polarity.clone();
        let p = &mut self.projections[k];
        let mut accepted: Vec<(u32, u32, f32, Sign, u16)> = Vec::new();
        let mut results: Vec<Result<usize>> = Vec::with_capacity(items.len());
        let mut pending: std::collections::HashSet<(u32, u32)> = std::collections::HashSet::new();
        for &(pre, post, w, delay) in items {
            let one = (|| -> Result<(u32, u32, f32, Sign, u16)> {
                check_finite(&name, w)?;
                let delay = match delay {
                    Some(0) => {
                        return Err(CortecsError::param(
                            format!("{name}.delay"),
                            "a delay must be >= 1 step",
                        ));
                    }
                    Some(d) => d,
                    None => default_delay
                        .as_ref()
                        .map_err(|e| CortecsError::InvalidRequest(e.to_string()))?
                        .to_owned(),
                };
                let exists =
                    p.store.find(pre, post)?.any(|s| p.store.sign[s] != REMOVED) || pending.contains(&(pre, post));
                let sign = admit(p, &pre_polarity, pre, post, w, exists)?;
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
        let (slots, map) = match p.store.add(&accepted) {
            Ok(added) => added,
            Err(e) => {
                let msg = e.to_string();
                return results
                    .into_iter()
                    .map(|r| r.and_then(|_| Err(CortecsError::InvalidRequest(msg.clone()))))
                    .collect();
            }
        };
        match map {
            Some(map) if !p.compact => p.mirror_log.relayout(map),
            _ => p.log_slots(&slots),
        }
        crate::mask::enforce(&mut p.store, &p.masks, p.recurrent, Scope::Slots(&slots));
        p.refresh_kernel();
        if !rate {
            self.resize_ring(self.projections[k].post);
        }
        let mut next = slots.into_iter();
        results
            .into_iter()
            .map(|r| r.map(|_| next.next().unwrap_or(usize::MAX)))
            .collect()
    }

    /// Sets the delay (steps, >= 1) and plasticity factor (in [0, 1]) of
    /// store slot `slot` of projection `k` (a [`crate::components::SynapseRow`]
    /// edit), growing the post population's delay ring if needed. O(1).
    pub fn set_synapse_row(&mut self, k: usize, slot: usize, delay: u16, plasticity: f32) -> Result<()> {
        let p = self
            .projections
            .get_mut(k)
            .ok_or_else(|| CortecsError::InvalidRequest(format!("no projection {k}")))?;
        if slot >= p.store.len() || p.store.sign[slot] == REMOVED {
            return Err(CortecsError::InvalidRequest(format!(
                "{}: no live synapse in slot {slot}",
                p.name
            )));
        }
        if delay == 0 {
            return Err(CortecsError::param(
                format!("{}.delay", p.name),
                "a delay must be >= 1 step",
            ));
        }
        if !(0.0..=1.0).contains(&plasticity) {
            return Err(CortecsError::param(
                format!("{}.plasticity", p.name),
                format!("must be in [0, 1], got {plasticity}"),
            ));
        }
        let len = p.store.len();
        p.store.delay.set(slot, delay, len);
        p.store.plasticity.set(slot, plasticity, len);
        let post = p.post;
        // the ring holds max delay + 1 slots: grow it (rarely, O(n)) only when this delay does not fit
        if !self.populations[post].model.is_rate() && usize::from(delay) + 1 > self.populations[post].slots {
            self.resize_ring(post);
        }
        Ok(())
    }

    /// Count, mean, std, min and max of a projection's weights over `filter`.
    pub fn weight_stats(&self, projection: &str, filter: SignFilter) -> Result<WeightStats> {
        Ok(self.projection(projection)?.store.weight_stats(filter))
    }

    /// Histogram of a projection's weights over `filter` with bin `edges` (ascending).
    pub fn weight_histogram(&self, projection: &str, filter: SignFilter, edges: &[f64]) -> Result<Vec<u64>> {
        self.projection(projection)?.store.weight_histogram(filter, edges)
    }

    /// Number of live synapses onto each post neuron.
    pub fn in_degree(&self, projection: &str) -> Result<Vec<u32>> {
        Ok(self.projection(projection)?.store.in_degree())
    }

    /// Number of live synapses from each pre neuron.
    pub fn out_degree(&self, projection: &str) -> Result<Vec<u32>> {
        Ok(self.projection(projection)?.store.out_degree())
    }

    /// The masks and constraint flags of a projection.
    pub fn masks(&self, projection: &str) -> Result<&Masks> {
        Ok(&self.projection(projection)?.masks)
    }

    /// Probability that the absent synapse `pre -> post` grows (0 where the
    /// masks forbid a synapse or no growth mask is set).
    pub fn growth_probability(&self, projection: &str, pre: u32, post: u32) -> Result<f32> {
        let p = self.projection(projection)?;
        p.store.find(pre, post)?;
        Ok(p.masks.growth_probability(pre, post, p.recurrent))
    }

    /// Replaces a projection's masks by `edit(masks)` and enforces them on
    /// every synapse.
    fn with_masks(
        &mut self,
        projection: &str,
        edit: impl FnOnce(&mut Masks, u32, u32) -> Result<()>,
    ) -> Result<Enforced> {
        let p = self.proj_mut(projection)?;
        let mut masks = p.masks.clone();
        edit(&mut masks, p.store.n_post, p.store.n_pre)?;
        if masks.signs.is_some() {
            p.store.dale = true;
        }
        p.masks = masks;
        let done = p.constrain_all();
        p.compact_store();
        Ok(done)
    }

    /// Sets the sparsity mask (post x pre, 0/1) and removes the synapses it forbids.
    pub fn set_sparsity_mask(&mut self, projection: &str, mask: ArrayView2<f32>) -> Result<Enforced> {
        self.with_masks(projection, |m, n_post, n_pre| {
            m.sparsity = Some(Masks::sparsity_from(projection, mask, n_post as usize, n_pre as usize)?);
            Ok(())
        })
    }

    /// Sets the E/I mask per synapse (post x pre, +1/-1) and turns Dale's law on.
    pub fn set_ei_mask(&mut self, projection: &str, mask: ArrayView2<f32>) -> Result<Enforced> {
        self.with_masks(projection, |m, n_post, n_pre| {
            m.signs = Some(Masks::signs_from(projection, mask, n_post as usize, n_pre as usize)?);
            Ok(())
        })
    }

    /// Sets the E/I mask per pre neuron (+1/-1) and turns Dale's law on.
    pub fn set_ei_per_pre(&mut self, projection: &str, signs: &[f32]) -> Result<Enforced> {
        self.with_masks(projection, |m, _, n_pre| {
            m.signs = Some(Masks::signs_per_pre(projection, signs, n_pre as usize)?);
            Ok(())
        })
    }

    /// Sets the plasticity mask (post x pre, factors in [0, 1]).
    pub fn set_plasticity_mask(&mut self, projection: &str, mask: ArrayView2<f32>) -> Result<Enforced> {
        self.with_masks(projection, |m, n_post, n_pre| {
            m.plasticity = Some(Masks::factors_from(
                projection,
                "plasticity",
                mask,
                n_post as usize,
                n_pre as usize,
            )?);
            Ok(())
        })
    }

    /// Sets the growth mask (post x pre, probabilities in [0, 1]).
    pub fn set_growth_mask(&mut self, projection: &str, mask: ArrayView2<f32>) -> Result<Enforced> {
        self.with_masks(projection, |m, n_post, n_pre| {
            m.growth = Some(Masks::factors_from(
                projection,
                "growth",
                mask,
                n_post as usize,
                n_pre as usize,
            )?);
            Ok(())
        })
    }

    /// Allows or forbids self-connections (forbidding removes the diagonal).
    pub fn set_self_connections(&mut self, projection: &str, on: bool) -> Result<Enforced> {
        self.with_masks(projection, |m, _, _| {
            m.self_connections = on;
            Ok(())
        })
    }

    /// Turns E/I balance on (rebalancing now) or off.
    pub fn set_balance(&mut self, projection: &str, on: bool) -> Result<Enforced> {
        self.with_masks(projection, |m, _, _| {
            m.balance = on;
            Ok(())
        })
    }

    /// Enforces the masks on projections whose store was changed directly
    /// (flagged `constrain_pending`): what the Constrain stage runs.
    pub fn enforce_constraints(&mut self) -> Enforced {
        let mut total = Enforced::default();
        for p in self.projections.iter_mut().filter(|p| p.constrain_pending) {
            let d = p.constrain_all();
            total.removed += d.removed;
            total.zeroed += d.zeroed;
            total.resigned += d.resigned;
            total.balanced += d.balanced;
        }
        total
    }

    /// A summary of the network (nn4n's `print_layers`): populations,
    /// projections with their weight statistics and masks, memory.
    pub fn summary(&self) -> NetworkSummary {
        let populations = self
            .populations
            .iter()
            .map(|p| PopulationSummary {
                name: p.name.clone(),
                size: p.size,
                model: p.model.name().to_string(),
                params: p.param_summary(),
            })
            .collect();
        let projections = self
            .projections
            .iter()
            .map(|p| {
                let s = &p.store;
                let count = |f| s.weight_stats(f).count;
                ProjectionSummary {
                    name: p.name.clone(),
                    pre: self.populations[p.pre].name.clone(),
                    post: self.populations[p.post].name.clone(),
                    strategy: p.strategy.name().to_string(),
                    synapses: s.live(),
                    excitatory: count(SignFilter::Excitatory),
                    inhibitory: count(SignFilter::Inhibitory),
                    stats: s.weight_stats(SignFilter::Both),
                    dale: s.dale,
                    compact: p.compact,
                    masks: p.masks.status(),
                    bytes: s.bytes() + p.masks.bytes() + p.dense.as_ref().map_or(0, |d| d.len() * 4),
                }
            })
            .collect();
        NetworkSummary {
            dt: self.dt,
            time_ms: self.time(),
            populations,
            projections,
            bytes: crate::memory::synapse_memory(self).store_bytes as usize,
        }
    }
}

/// Whether a new synapse `pre -> post` of weight `w` may be created in `p`
/// (`exists`: the pair already has a synapse): the masks must allow it, a
/// second synapse needs multapses, and under Dale's law a nonzero weight must
/// have the sign the synapse gets. Returns that sign.
fn admit(p: &Projection, pre_polarity: &[Polarity], pre: u32, post: u32, w: f32, exists: bool) -> Result<Sign> {
    let name = &p.name;
    if !p.masks.allows(pre, post, p.recurrent) {
        return Err(CortecsError::InvalidRequest(format!(
            "{name}: the masks forbid a synapse from pre {pre} to post {post}"
        )));
    }
    if exists && !p.spec.multapses {
        return Err(CortecsError::InvalidRequest(format!(
            "{name}: pre {pre} -> post {post} exists and the projection allows no multapses"
        )));
    }
    let sign = new_sign(&p.masks, pre_polarity, pre, post, w);
    if p.store.dale && crate::store::constrain_sign(w, sign) == 0.0 && w != 0.0 {
        return Err(CortecsError::InvalidRequest(format!(
            "{name}: a weight of {w} has the wrong sign for pre {pre} under Dale's law"
        )));
    }
    Ok(sign)
}

/// The sign a new synapse gets: the E/I mask's, else the pre neuron's
/// polarity, else the weight's own.
fn new_sign(masks: &Masks, pre_polarity: &[Polarity], pre: u32, post: u32, w: f32) -> Sign {
    match (&masks.signs, pre_polarity.get(pre as usize)) {
        (Some(m), _) => m.sign(pre, post),
        (None, Some(Polarity::Excitatory)) => EXCITATORY,
        (None, Some(Polarity::Inhibitory)) => INHIBITORY,
        _ if w < 0.0 => INHIBITORY,
        _ => EXCITATORY,
    }
}

fn human_bytes(b: usize) -> String {
    match b {
        0..1_000_000 => format!("{:.1} kB", b as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        _ => format!("{:.2} GB", b as f64 / 1e9),
    }
}

fn check_finite(projection: &str, w: f32) -> Result<()> {
    if w.is_finite() {
        Ok(())
    } else {
        Err(CortecsError::InvalidRequest(format!(
            "{projection}: weight {w} is not finite"
        )))
    }
}

fn no_synapse(projection: &str, pre: u32, post: u32) -> CortecsError {
    CortecsError::InvalidRequest(format!(
        "{projection}: there is no synapse from pre {pre} to post {post}"
    ))
}

/// One population in a [`NetworkSummary`].
#[derive(Clone, Debug, PartialEq)]
pub struct PopulationSummary {
    /// Name.
    pub name: String,
    /// Number of neurons.
    pub size: usize,
    /// Model name.
    pub model: String,
    /// Key parameters: name, mean value, unit.
    pub params: Vec<(String, f64, &'static str)>,
}

/// One projection in a [`NetworkSummary`].
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectionSummary {
    /// Name.
    pub name: String,
    /// Pre population.
    pub pre: String,
    /// Post population.
    pub post: String,
    /// Strategy name.
    pub strategy: String,
    /// Live synapses.
    pub synapses: u64,
    /// Excitatory synapses.
    pub excitatory: u64,
    /// Inhibitory synapses.
    pub inhibitory: u64,
    /// Weight statistics over all synapses.
    pub stats: WeightStats,
    /// Dale's law on.
    pub dale: bool,
    /// No mirror entities.
    pub compact: bool,
    /// Which masks are set.
    pub masks: String,
    /// Bytes of the store, masks and kernel.
    pub bytes: usize,
}

/// A network summary (nn4n's `print_layers`); `Display` prints it as a table.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkSummary {
    /// Time step (ms).
    pub dt: f64,
    /// Simulated time (ms).
    pub time_ms: f64,
    /// Populations.
    pub populations: Vec<PopulationSummary>,
    /// Projections.
    pub projections: Vec<ProjectionSummary>,
    /// Bytes of all stores and kernels.
    pub bytes: usize,
}

impl fmt::Display for NetworkSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "network: dt = {} ms, t = {} ms", self.dt, self.time_ms)?;
        writeln!(f, "populations:")?;
        for p in &self.populations {
            let params: Vec<String> = p
                .params
                .iter()
                .map(|(n, v, u)| {
                    if u.is_empty() || *u == "1" {
                        format!("{n}={v}")
                    } else {
                        format!("{n}={v} {u}")
                    }
                })
                .collect();
            writeln!(
                f,
                "  {:<12} {:>9} {:<14} {}",
                p.name,
                p.size,
                p.model,
                params.join(", ")
            )?;
        }
        writeln!(f, "projections:")?;
        for p in &self.projections {
            writeln!(
                f,
                "  {:<12} {} -> {}  {}  {} synapses ({} E, {} I)  w mean {:.4} std {:.4} [{:.4}, {:.4}]  dale {}  {}  masks: {}  {}",
                p.name,
                p.pre,
                p.post,
                p.strategy,
                p.synapses,
                p.excitatory,
                p.inhibitory,
                p.stats.mean,
                p.stats.std,
                p.stats.min,
                p.stats.max,
                if p.dale { "on" } else { "off" },
                if p.compact { "compact" } else { "mirrored" },
                p.masks,
                human_bytes(p.bytes)
            )?;
        }
        write!(f, "memory: {} in stores and kernels", human_bytes(self.bytes))
    }
}
