//! Touching any synapse (the Nengo question): reading and writing a
//! projection's whole weight matrix, editing or lesioning single synapses or
//! selections, masks, adjusters, statistics, and a network summary.
//!
//! Everything here works on the synapse store, so it works the same on a
//! mirrored and on a compact projection; the masks are enforced after every
//! change, and the ECS mirrors follow through the projection's
//! change log ([`crate::projection::StoreChanges`]) at the next schedule run.
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
//! let k = net.projection("hh")?.store().find_live(3, 7)?.is_some();
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

use super::Network;
use crate::error::{CortecsError, Result};
use crate::mask::{Enforced, Masks};
use crate::projection::*;
use crate::rng::Stream;
use ndarray::{Array2, ArrayView2};

impl Network {
    fn proj_mut(&mut self, name: &str) -> Result<&mut Projection> {
        let k = self.projection_index(name)?;
        Ok(&mut self.projections[k])
    }

    /// The weight matrix of a projection, dense, post x pre (`W` in `y = W r`;
    /// multapses summed).
    pub fn weights_dense(&self, projection: &str) -> Result<Array2<f32>> {
        self.projection(projection)?.store.try_to_dense(projection)
    }

    /// The live synapses of a projection as coordinate lists, in store order.
    pub fn weights_coo(&self, projection: &str) -> Result<Coo> {
        let (pre, post, weight) = self.projection(projection)?.store.to_coo();
        Ok(Coo { pre, post, weight })
    }

    /// The weights as a post x pre CSR matrix (rows sorted by pre; multapses
    /// kept as separate entries).
    pub fn weights_csr(&self, projection: &str) -> Result<Csr> {
        Ok(Csr::of_store(&self.projection(projection)?.store))
    }

    /// The weight of the synapse from `pre` to `post` (summed over
    /// multapses), or `None` when there is none.
    pub fn weight(&self, projection: &str, pre: u32, post: u32) -> Result<Option<f32>> {
        let p = self.projection(projection)?;
        let live = p.live_slots(pre, post)?;
        Ok((!live.is_empty()).then(|| live.iter().map(|&k| p.store.weight[k]).sum()))
    }

    /// Sets the weight of the synapse from `pre` to `post` (the first of its
    /// multapses), with the masks enforced; the next step uses it. O(log row).
    pub fn set_weight(&mut self, projection: &str, pre: u32, post: u32, w: f32) -> Result<()> {
        check_finite(projection, w)?;
        let p = self.proj_mut(projection)?;
        let Some(k) = p.store.find_live(pre, post)? else {
            return Err(no_synapse(projection, pre, post).into());
        };
        p.set_weight(k, w);
        Ok(())
    }

    /// Removes ("lesions") the synapses from `pre` to `post`. O(log row).
    pub fn lesion(&mut self, projection: &str, pre: u32, post: u32) -> Result<()> {
        let p = self.proj_mut(projection)?;
        let slots = p.live_slots(pre, post)?;
        if slots.is_empty() {
            return Err(no_synapse(projection, pre, post).into());
        }
        p.remove_slots(&slots);
        Ok(())
    }

    /// Removes the synapses a selection covers among those `filter` covers;
    /// returns how many.
    /// A random fraction is drawn from the stream keyed by the projection and
    /// its own count of random operations ([`Network::draws`]).
    pub fn lesion_selection(&mut self, projection: &str, selection: &Selection, filter: SignFilter) -> Result<u64> {
        self.projection_index(projection)?;
        let draw = self.next_projection_draw(projection, matches!(selection, Selection::Fraction(_)));
        let seed = self.seed;
        let p = self.proj_mut(projection)?;
        let mut rng = Stream::keyed(seed, projection, &format!("lesion#{draw}"), 0);
        Ok(p.lesion_selection(selection, filter, &mut rng)?)
    }

    /// The number that keys the next run-time draw on `projection`: its own
    /// count, advanced when the operation is `random` (a deterministic edit
    /// leaves the count, and so every later draw, unchanged).
    pub(crate) fn next_projection_draw(&mut self, projection: &str, random: bool) -> u64 {
        if random {
            self.set_count += 1;
            self.draws.next_projection(projection)
        } else {
            self.draws.projection(projection)
        }
    }

    /// Writes a whole post x pre weight matrix: every synapse takes its
    /// entry (the first of a pair's multapses takes it, the others 0), and a
    /// nonzero entry where no synapse exists creates one (sign from the E/I
    /// mask, else the pre neuron's polarity, else the weight's sign; delay
    /// the projection's). The masks are enforced afterwards: entries they
    /// forbid are refused and counted.
    pub fn set_weights_dense(&mut self, projection: &str, w: ArrayView2<f32>) -> Result<Written> {
        let entries = dense_entries(&self.projection(projection)?.store, projection, w)?;
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
            return Err(ProjectionError::WrongShape {
                projection: projection.to_string(),
                what: "CSR matrix",
                n_post: s.n_post as usize,
                n_pre: s.n_pre as usize,
                rows: csr.n_post,
                cols: csr.n_pre,
            }
            .into());
        }
        self.set_weights_coo(projection, &csr.to_coo()?)
    }

    fn write_entries(&mut self, projection: &str, entries: &[(u32, u32, f32)], dense: bool) -> Result<Written> {
        let k = self.projection_index(projection)?;
        let default_delay = self.default_delay(k)?;
        let (pre, post) = (self.projections[k].pre, self.projections[k].post);
        let pre_polarity = &self.populations[pre].polarity;
        let done = self.projections[k].write_entries(entries, dense, pre_polarity, default_delay)?;
        if done.created > 0 && !self.populations[post].model.is_rate() {
            self.resize_ring(post);
        }
        Ok(done)
    }

    /// The delay (steps) new synapses of projection `k` get: the projection's
    /// uniform delay, or its declared constant delay, or one step.
    fn default_delay(&self, k: usize) -> Result<u16> {
        let p = &self.projections[k];
        if let Column::Uniform(d) = p.store.delay
            && d >= 1
        {
            return Ok(d);
        }
        match p.spec.delay.as_ref().and_then(|d| d.as_const()) {
            Some(d) => self.delay_steps(&p.name, d),
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
        let seed = self.seed;
        let draw = self.next_projection_draw(projection, adjuster.is_random());
        let purpose = format!("adjust#{draw}");
        match adjuster {
            Adjuster::Prune(sel) => {
                let mut rng = Stream::keyed(seed, projection, &purpose, 0);
                Ok(Adjusted {
                    removed: self.projections[k].lesion_selection(sel, filter, &mut rng)?,
                    ..Adjusted::default()
                })
            }
            Adjuster::Reapply => self.reapply(k, filter),
            Adjuster::SpectralRadius(target) => {
                if filter != SignFilter::Both {
                    return Err(ProjectionError::parameter(
                        format!("{projection}.spectral_radius"),
                        "scaling to a spectral radius multiplies every synapse: use the filter Both",
                    )
                    .into());
                }
                Ok(self.projections[k]
                    .scale_to_spectral_radius(*target, EigenMethod::Auto)?
                    .0)
            }
            Adjuster::RandomizeSymmetric(d) => {
                let mut rng = Stream::keyed(seed, projection, &purpose, 0);
                Ok(self.projections[k].randomize_symmetric(d, filter, policy, &mut rng)?)
            }
            _ => Ok(self.projections[k].apply_adjuster(adjuster, filter, policy, |c| {
                Stream::keyed(seed, projection, &purpose, c)
            })?),
        }
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
        let conn = crate::connect::connect(&spec.strategy, &input)?;
        let fresh = self.store_for(&spec, conn, pre, post, self.projections[k].masks.signs.as_ref())?;
        let done = self.projections[k].replace_synapses(fresh, filter)?;
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
        let (pre, post) = (p.pre, p.post);
        let default_delay = self.default_delay(k);
        let pre_polarity = &self.populations[pre].polarity;
        let default_delay = default_delay.map_err(|e| e.to_string());
        let results: Vec<Result<usize>> = self.projections[k]
            .create_synapses(items, pre_polarity, &default_delay)
            .into_iter()
            .map(|r| r.map_err(CortecsError::from))
            .collect();
        if results.iter().any(|r| r.is_ok()) && !self.populations[post].model.is_rate() {
            self.resize_ring(post);
        }
        results
    }

    /// Sets the delay (steps, >= 1) and plasticity factor (in [0, 1]) of
    /// store slot `slot` of projection `k` (a `ecs::SynapseRow`
    /// edit), growing the post population's delay ring if needed. O(1).
    pub fn set_synapse_row(&mut self, k: usize, slot: usize, delay: u16, plasticity: f32) -> Result<()> {
        let p = self
            .projections
            .get_mut(k)
            .ok_or_else(|| CortecsError::InvalidRequest(format!("no projection {k}")))?;
        p.set_row(slot, delay, plasticity)?;
        let post = p.post;
        // the ring holds max delay + 1 slots: grow it (rarely, O(n)) only when this delay does not fit
        let pop = &self.populations[post];
        if !pop.model.is_rate() && usize::from(delay) + 1 > pop.ring.slots() {
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
        Ok(self.projection(projection)?.store.weight_histogram(filter, edges)?)
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
        Ok(p.set_masks(masks))
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
}
