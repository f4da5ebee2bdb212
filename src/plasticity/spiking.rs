//! The spike-timing kernels: trace decay, pre spikes arriving (the PSP and
//! the pre-side update), post spikes (the post-side update), the modulated
//! weight step of reward STDP, and synaptic scaling of spiking neurons.
//!
//! Time convention (Brian2's for W5, stated in the README): the pre pathway
//! carries the projection's delay `D`. A spike a pre neuron emits in step
//! `m` (stamped `t_{m+1}`) arrives in step `m + D`: its PSP is added with the
//! weight the synapse has then (NEST order: the neuron update of that step
//! sees it), the pre trace counts it, and the pre-side update runs. A post
//! spike emitted in step `n` (stamped `t_{n+1}`) runs the post-side update in
//! the same step, with no delay, after that step's arrivals: a pre spike
//! arriving in the step the post neuron fires is a pre-before-post pair at
//! lag 0. Traces hold their value at the end of the step (`t_{n+1}`) and
//! decay by `exp(-dt / tau)` per step, which is exact on the time grid.

use super::*;
use crate::store::{Column, Indices, REMOVED, Sign, SynapseStore, Target};
use crate::with_indices;

/// The bounds of one rule on one projection (see [`Learning`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bounds {
    lo: f64,
    hi: f64,
    dale: bool,
}

impl Bounds {
    pub(crate) fn of(l: &Learning, dale: bool) -> Bounds {
        Bounds {
            lo: l.w_min,
            hi: l.upper(),
            dale,
        }
    }

    /// The weight a rule changes: the magnitude under Dale's law, else the signed weight.
    #[inline(always)]
    pub(crate) fn get(&self, w: f32, s: Sign) -> f64 {
        if self.dale && s < 0 {
            -f64::from(w)
        } else {
            f64::from(w)
        }
    }

    /// Writes `e` (bounded) back as the synapse's weight.
    #[inline(always)]
    pub(crate) fn put(&self, w: &mut f32, s: &mut Sign, e: f64) {
        let e = e.clamp(self.lo, self.hi);
        if self.dale {
            *w = if *s < 0 { -e } else { e } as f32;
        } else {
            *w = e as f32;
            if *w != 0.0 {
                *s = if *w < 0.0 { -1 } else { 1 };
            }
        }
    }

    /// Potentiation and depression factors of the weight dependence at `e`.
    #[inline(always)]
    fn soft(&self, dep: Dependence, e: f64) -> (f64, f64) {
        match dep {
            Dependence::Additive => (1.0, 1.0),
            Dependence::Multiplicative => {
                let range = self.hi - self.lo;
                ((self.hi - e) / range, (e - self.lo) / range)
            }
        }
    }
}

/// Decays every trace over one step of `dt` ms (and the eligibility scale).
pub fn decay(plastic: &mut Plastic, dt: f64) {
    for l in &mut plastic.learners {
        let (pre_tau, post_tau) = l.taus();
        for (t, tau) in l.pre.iter_mut().zip(pre_tau) {
            let f = (-dt / tau).exp();
            t.iter_mut().for_each(|x| *x *= f);
        }
        for (t, tau) in l.post.iter_mut().zip(post_tau) {
            let f = (-dt / tau).exp();
            t.iter_mut().for_each(|x| *x *= f);
        }
        match &l.learning.rule {
            Rule::RewardStdp(r) => {
                l.eligibility_scale *= (-dt / r.tau_c).exp();
                if l.eligibility_scale < 1e-20 {
                    let g = l.eligibility_scale;
                    l.eligibility.iter_mut().for_each(|c| *c = (f64::from(*c) * g) as f32);
                    l.eligibility_scale = 1.0;
                }
            }
            Rule::Scaling(s) => {
                let f = (-dt / s.tau_rate).exp();
                l.post[0].iter_mut().for_each(|x| *x *= f);
            }
            _ => {}
        }
    }
}

/// The pre spikes arriving in step `step`: adds each one's PSP (with the
/// weight at arrival) to `exc` / `inh` (the post ring's slot of this step;
/// `delta`: voltage-jump synapses, everything into `exc`), then runs each
/// rule's pre-side update and counts the spike in the pre traces.
#[allow(clippy::too_many_arguments)]
pub fn arrive(
    plastic: &mut Plastic,
    store: &mut SynapseStore,
    step: u64,
    exc: &mut [f64],
    inh: &mut [f64],
    delta: bool,
    log: bool,
) {
    let d = plastic.in_flight.len();
    if d == 0 {
        return;
    }
    let arrived = std::mem::take(&mut plastic.in_flight[(step % d as u64) as usize]);
    // young synapses are silent for spikes emitted before they grew
    let silenced = match &mut plastic.rewiring {
        Some(r) if !r.young.is_empty() => {
            let emitted = step.saturating_sub(d as u64);
            r.young.retain(|&(_, from)| from > emitted);
            let saved: Vec<(usize, f32, Sign)> = r
                .young
                .iter()
                .map(|&(k, _)| (k, store.weight[k], store.sign[k]))
                .collect();
            for &(k, ..) in &saved {
                store.weight[k] = 0.0;
                store.set_sign(k, REMOVED);
            }
            saved
        }
        _ => Vec::new(),
    };
    let dale = store.dale;
    // one pair-STDP rule with uniform signs and factor: PSP and pre-side update in one pass
    let fused = match (&plastic.learners[..], &plastic.index) {
        ([l], Some(index)) => match l.learning.rule {
            Rule::Stdp(s) => uniform(index, &Synapses::of(store), dale).map(|u| (s, u)),
            _ => None,
        },
        _ => None,
    };
    if let Some((s, (sign, f))) = fused {
        let l = &mut plastic.learners[0];
        let b = Bounds::of(&l.learning, dale);
        let rule = FusedStdp {
            b,
            s,
            neg: sign < 0,
            f,
            delta,
        };
        let parts = split_parts(arrived.iter().map(|&i| store.row(i as usize).len()));
        let n_post = store.n_post;
        let SynapseStore {
            row_ptr, minor, weight, ..
        } = &mut *store;
        let mut log = log.then_some(&mut plastic.changed);
        with_indices!(*minor, |minor| {
            let rows = Rows { row_ptr, minor, n_post };
            rule.rows_split(
                &rows,
                &arrived,
                Disjoint::new(weight),
                &l.post[0],
                exc,
                inh,
                0,
                parts,
                &mut log,
            )
        });
        for &i in &arrived {
            count(&mut l.pre[0][i as usize], s.pairing);
        }
        for (k, w, s) in silenced {
            store.weight[k] = w;
            store.set_sign(k, s);
        }
        plastic.in_flight[(step % d as u64) as usize] = arrived;
        return;
    }
    for &i in &arrived {
        let row = store.row(i as usize);
        with_indices!(store.minor, |minor| psp(
            &minor[row.clone()],
            &store.weight[row.clone()],
            exc,
            inh,
            delta
        ));
        for l in &mut plastic.learners {
            pre_side(
                l,
                store,
                row.clone(),
                i as usize,
                dale,
                log.then_some(&mut plastic.changed),
            );
        }
    }
    for (k, w, s) in silenced {
        store.weight[k] = w;
        store.set_sign(k, s);
    }
    plastic.in_flight[(step % d as u64) as usize] = arrived;
}

/// One arriving row's PSPs (the weights `ws` onto the post neurons `posts`)
/// into `exc` / `inh`.
#[inline(always)]
fn psp<T: Target>(posts: &[T], ws: &[f32], exc: &mut [f64], inh: &mut [f64], delta: bool) {
    if delta {
        for (&j, &w) in posts.iter().zip(ws) {
            exc[j.at()] += f64::from(w);
        }
    } else {
        for (&j, &w) in posts.iter().zip(ws) {
            if w >= 0.0 {
                exc[j.at()] += f64::from(w);
            } else {
                inh[j.at()] -= f64::from(w);
            }
        }
    }
}

/// Pair STDP with uniform signs and factor on the pre side, fused with the
/// PSP: what an arriving spike does to each synapse of its row.
#[derive(Clone, Copy)]
struct FusedStdp {
    b: Bounds,
    s: Stdp,
    /// Every synapse is inhibitory (the rule changes magnitudes).
    neg: bool,
    /// The learning factor of every synapse.
    f: f64,
    /// Voltage-jump synapses: every PSP into `exc`.
    delta: bool,
}

impl FusedStdp {
    /// The synapses `posts` / `ws` of one row whose post neurons are
    /// `lo..lo + exc.len()`: each one's PSP (the weight at arrival) into
    /// `exc` / `inh`, then its depression by the post trace `y`. `start`:
    /// the store slot of `ws[0]`, for the change log.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn row<T: Target>(
        &self,
        posts: &[T],
        ws: &mut [f32],
        lo: u32,
        y: &[f64],
        exc: &mut [f64],
        inh: &mut [f64],
        log: &mut Option<&mut Vec<usize>>,
        start: usize,
    ) {
        let (b, neg, f) = (&self.b, self.neg, self.f);
        for (o, (&j, w)) in posts.iter().zip(ws.iter_mut()).enumerate() {
            let wk = *w;
            let at = j.at() - lo as usize;
            if self.delta || wk >= 0.0 {
                exc[at] += f64::from(wk);
            } else {
                inh[at] -= f64::from(wk);
            }
            if f == 0.0 {
                continue;
            }
            let e = if neg { -f64::from(wk) } else { f64::from(wk) };
            let dw = -f * self.s.a_minus * y[j.at()] * b.soft(self.s.dependence, e).1;
            let e = (e + dw).clamp(b.lo, b.hi);
            *w = if neg { -e } else { e } as f32;
            push(log, start + o);
        }
    }

    /// The rows of `arrived` for the post neurons `lo..lo + exc.len()`,
    /// split into `parts` disjoint post ranges run in parallel. A synapse
    /// has one post neuron, so each weight is written by one part, and each
    /// post neuron receives its PSPs in spike order: bit-identical at any
    /// split.
    #[allow(clippy::too_many_arguments)]
    fn rows_split<T: Target>(
        &self,
        rows: &Rows<'_, T>,
        arrived: &[u32],
        weights: Disjoint<'_>,
        y: &[f64],
        exc: &mut [f64],
        inh: &mut [f64],
        lo: usize,
        parts: usize,
        log: &mut Option<&mut Vec<usize>>,
    ) {
        if parts <= 1 {
            let (lo32, hi) = (lo as u32, (lo + exc.len()) as u32);
            for &i in arrived {
                let (range, posts) = rows.within(i as usize, lo32, hi);
                let start = range.start;
                // SAFETY: the slots of `range` have post neurons in this
                // part's range: no other part touches them (`Disjoint`)
                let ws = unsafe { weights.slice(range) };
                self.row(posts, ws, lo32, y, exc, inh, log, start);
            }
            return;
        }
        let left = parts / 2;
        let mid = exc.len() * left / parts;
        let (e1, e2) = exc.split_at_mut(mid);
        let (i1, i2) = inh.split_at_mut(mid);
        let mut right = log.as_ref().map(|_| Vec::new());
        rayon::join(
            || self.rows_split(rows, arrived, weights, y, e1, i1, lo, left, log),
            || {
                self.rows_split(
                    rows,
                    arrived,
                    weights,
                    y,
                    e2,
                    i2,
                    lo + mid,
                    parts - left,
                    &mut right.as_mut(),
                )
            },
        );
        append(log, right);
    }
}

/// The slots a split part changed, after the first part's (a set: the
/// mirrors resync them in any order).
fn append(log: &mut Option<&mut Vec<usize>>, part: Option<Vec<usize>>) {
    if let (Some(log), Some(part)) = (log.as_deref_mut(), part) {
        log.extend_from_slice(&part);
    }
}

/// The rows of a pre-major store, read-only (post indices of width `T`).
struct Rows<'a, T> {
    row_ptr: &'a [u64],
    minor: &'a [T],
    n_post: u32,
}

impl<T: Target> Rows<'_, T> {
    /// The slots of row `i` whose post neuron lies in `lo..hi` (rows are
    /// sorted by post), and those post neurons.
    #[inline]
    fn within(&self, i: usize, lo: u32, hi: u32) -> (std::ops::Range<usize>, &[T]) {
        let (a, b) = (self.row_ptr[i] as usize, self.row_ptr[i + 1] as usize);
        let posts = &self.minor[a..b];
        if lo == 0 && hi == self.n_post {
            return (a..b, posts);
        }
        let x = posts.partition_point(|&j| j.get() < lo);
        let y = x + posts[x..].partition_point(|&j| j.get() < hi);
        (a + x..a + y, &posts[x..y])
    }
}

/// A store's weights shared by threads that write disjoint slots (the
/// synapses of different post neurons): the borrow checker cannot see that
/// two post ranges of one row, or two post neurons' columns, never meet.
#[derive(Clone, Copy)]
struct Disjoint<'a> {
    ptr: *mut f32,
    len: usize,
    _store: std::marker::PhantomData<&'a mut [f32]>,
}

// SAFETY: a `Disjoint` is only handed to parts that write disjoint slots
// (see `slice` and `at`); f32 is Send.
unsafe impl Send for Disjoint<'_> {}
// SAFETY: as Send
unsafe impl Sync for Disjoint<'_> {}

impl<'a> Disjoint<'a> {
    fn new(w: &'a mut [f32]) -> Disjoint<'a> {
        Disjoint {
            ptr: w.as_mut_ptr(),
            len: w.len(),
            _store: std::marker::PhantomData,
        }
    }

    /// The weights of `range`.
    ///
    /// # Safety
    /// No other live reference (on any thread) covers a slot of `range`.
    #[inline]
    unsafe fn slice(&self, range: std::ops::Range<usize>) -> &'a mut [f32] {
        assert!(range.start <= range.end && range.end <= self.len);
        // SAFETY: in bounds (asserted); exclusive by the caller's contract
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(range.start), range.len()) }
    }

    /// The weight of slot `k`.
    ///
    /// # Safety
    /// No other live reference (on any thread) covers slot `k`.
    #[inline(always)]
    unsafe fn at(&self, k: usize) -> &'a mut f32 {
        assert!(k < self.len);
        // SAFETY: in bounds (asserted); exclusive by the caller's contract
        unsafe { &mut *self.ptr.add(k) }
    }

    /// Asks the cache for slot `k` (nothing when out of range).
    #[inline(always)]
    fn fetch(&self, k: usize) {
        #[cfg(target_arch = "x86_64")]
        if k < self.len {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            // SAFETY: prefetching is a hint; the address lies inside the store
            unsafe { _mm_prefetch::<_MM_HINT_T0>(self.ptr.add(k).cast()) };
        }
    }
}

/// Synapse updates in one step below which one thread does them all: the
/// threshold of the kernel's split delivery (`kernel::SCATTER_PARALLEL_MIN`,
/// whose tests check that the two agree), written here so that plasticity,
/// which the kernel calls, does not depend on the kernel.
pub(crate) const PLASTIC_PARALLEL_MIN: usize = 16_384;

/// Into how many parts to split updates of `sizes` synapses (a row or a
/// column each): one per pool thread when there are enough, else one.
fn split_parts(sizes: impl Iterator<Item = usize>) -> usize {
    let threads = rayon::current_num_threads();
    if threads < 2 || sizes.sum::<usize>() < PLASTIC_PARALLEL_MIN {
        1
    } else {
        threads
    }
}

/// The parts of a store a rule writes, borrowed apart.
pub(crate) struct Synapses<'a> {
    pub(crate) row_ptr: &'a [u64],
    pub(crate) minor: &'a Indices,
    pub(crate) weight: &'a mut [f32],
    pub(crate) sign: &'a mut Column<Sign>,
    pub(crate) plasticity: &'a crate::store::Column<f32>,
    pub(crate) removed: u64,
}

impl<'a> Synapses<'a> {
    pub(crate) fn of(store: &'a mut SynapseStore) -> Synapses<'a> {
        let SynapseStore {
            row_ptr,
            minor,
            weight,
            sign,
            plasticity,
            removed,
            ..
        } = store;
        Synapses {
            row_ptr,
            minor,
            weight,
            sign,
            plasticity,
            removed: *removed,
        }
    }

    /// The learning factor of slot `k`, 0 when it is fixed or removed.
    #[inline(always)]
    pub(crate) fn factor(&self, k: usize) -> f64 {
        if self.sign[k] == REMOVED {
            0.0
        } else {
            f64::from(self.plasticity.get(k))
        }
    }

    /// Changes the rule's weight of slot `k` by `f(e)` (bounded).
    #[inline(always)]
    pub(crate) fn nudge(&mut self, b: &Bounds, k: usize, f: impl FnOnce(f64) -> f64) {
        let was = self.sign[k];
        let e = b.get(self.weight[k], was);
        let mut s = was;
        b.put(&mut self.weight[k], &mut s, e + f(e));
        if s != was {
            let len = self.weight.len();
            self.sign.set(k, s, len);
        }
    }
}

/// How many synapses ahead a column walk prefetches.
const AHEAD: usize = 64;

/// Asks the cache for the weight and sign of slot `k` (a post spike walks
/// its column in random slot order: the loads miss without this).
#[inline(always)]
fn prefetch(syn: &Synapses<'_>, k: usize) {
    fetch(syn.weight, k);
    if let Column::PerSynapse(sign) = &*syn.sign {
        fetch(sign, k);
    }
}

/// Asks the cache for element `k` of `v` (nothing when out of range).
#[inline(always)]
fn fetch<T>(v: &[T], k: usize) {
    #[cfg(target_arch = "x86_64")]
    if k < v.len() {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: prefetching is a hint; the address lies inside the slice
        unsafe { _mm_prefetch::<_MM_HINT_T0>(v.as_ptr().add(k).cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (v, k);
}

/// Prefetches the first [`AHEAD`] slots of a column.
#[inline(always)]
fn warm(syn: &Synapses<'_>, column: &[u32]) {
    for &k in column.iter().take(AHEAD) {
        prefetch(syn, k as usize);
    }
}

/// Slot `i` of `column` as an index, after prefetching slot `i + AHEAD`.
#[inline(always)]
fn slot_ahead(syn: &Synapses<'_>, column: &[u32], i: usize) -> usize {
    if let Some(&n) = column.get(i + AHEAD) {
        prefetch(syn, n as usize);
    }
    column[i] as usize
}

fn push(log: &mut Option<&mut Vec<usize>>, k: usize) {
    if let Some(log) = log.as_deref_mut() {
        log.push(k);
    }
}

fn count(trace: &mut f64, pairing: Pairing) {
    match pairing {
        Pairing::AllToAll => *trace += 1.0,
        Pairing::Nearest => *trace = 1.0,
    }
}

fn pre_side(
    l: &mut Learner,
    store: &mut SynapseStore,
    row: std::ops::Range<usize>,
    i: usize,
    dale: bool,
    mut log: Option<&mut Vec<usize>>,
) {
    let b = Bounds::of(&l.learning, dale);
    let mut syn = Synapses::of(store);
    match l.learning.rule {
        Rule::Stdp(s) => {
            let y = &l.post[0];
            for k in row {
                let f = syn.factor(k);
                if f == 0.0 {
                    continue;
                }
                let yj = y[syn.minor.get(k) as usize];
                syn.nudge(&b, k, |e| -f * s.a_minus * yj * b.soft(s.dependence, e).1);
                push(&mut log, k);
            }
            count(&mut l.pre[0][i], s.pairing);
        }
        Rule::Triplet(t) => {
            let r2 = l.pre[1][i];
            let o1 = &l.post[0];
            for k in row {
                let f = syn.factor(k);
                if f == 0.0 {
                    continue;
                }
                let o = o1[syn.minor.get(k) as usize];
                syn.nudge(&b, k, |_| -f * o * (t.a2_minus + t.a3_minus * r2));
                push(&mut log, k);
            }
            l.pre[0][i] += 1.0;
            l.pre[1][i] += 1.0;
        }
        Rule::RewardStdp(r) => {
            let y = &l.post[0];
            let g = l.eligibility_scale;
            for k in row {
                if syn.factor(k) == 0.0 {
                    continue;
                }
                let c = &mut l.eligibility[k];
                *c = (f64::from(*c) - r.a_minus * y[syn.minor.get(k) as usize] / g) as f32;
            }
            l.pre[0][i] += 1.0;
        }
        _ => {}
    }
}

/// After the step's neuron updates: the post-side update of every post
/// spike, then the pre spikes of this step go in flight (they arrive in
/// step `step + delay`), the modulated weight step of reward STDP, and the
/// scaling of spiking post neurons every `every` ms.
#[allow(clippy::too_many_arguments)]
pub fn depart(
    plastic: &mut Plastic,
    store: &mut SynapseStore,
    step: u64,
    pre_spikes: &[u32],
    post_spikes: &[u32],
    dt: f64,
    log: bool,
) {
    let index = plastic.index.take().unwrap_or_else(|| PostIndex::of(store));
    let dale = store.dale;
    let Plastic {
        learners,
        in_flight,
        changed,
        ..
    } = plastic;
    for l in learners.iter_mut() {
        let mut log = log.then_some(&mut *changed);
        post_side(l, store, &index, post_spikes, dale, &mut log);
        modulate(l, store, dt, dale, &mut log);
        scale_spiking(l, store, &index, post_spikes, dt, dale, &mut log);
    }
    let d = in_flight.len();
    if d > 0 {
        let slot = &mut in_flight[(step % d as u64) as usize];
        slot.clear();
        slot.extend_from_slice(pre_spikes);
    }
    plastic.index = Some(index);
}

/// When every synapse of the store has the sign the index saw (Dale's
/// law, none removed since) and one learning factor: that sign and factor.
#[inline]
fn uniform(index: &PostIndex, syn: &Synapses<'_>, dale: bool) -> Option<(Sign, f64)> {
    match (index.uniform_sign, syn.plasticity) {
        (Some(s), crate::store::Column::Uniform(f)) if dale && syn.removed == 0 => Some((s, f64::from(*f))),
        _ => None,
    }
}

/// The post-side pair-STDP update when signs and factor are uniform: no
/// sign is read, only weights (prefetched).
#[derive(Clone, Copy)]
struct ColumnStdp<'a> {
    b: Bounds,
    s: Stdp,
    neg: bool,
    f: f64,
    index: &'a PostIndex,
    row_ptr: &'a [u64],
    /// The pre traces.
    x: &'a [f64],
}

impl ColumnStdp<'_> {
    /// Potentiates the column of post neuron `j`.
    #[inline]
    fn column(&self, w: Disjoint<'_>, j: usize, log: &mut Option<&mut Vec<usize>>) {
        let column = self.index.column(j);
        let (b, neg) = (&self.b, self.neg);
        for &k in column.iter().take(AHEAD) {
            w.fetch(k as usize);
        }
        let gain = self.f * self.s.a_plus;
        for (i, &k) in column.iter().enumerate() {
            if let Some(&n) = column.get(i + AHEAD) {
                w.fetch(n as usize);
            }
            let k = k as usize;
            let xi = self.x[self.index.row_of(self.row_ptr, k)];
            // SAFETY: slot k belongs to post neuron j's column alone, and
            // each post neuron spikes at most once a step (`columns_split`)
            let wk = unsafe { w.at(k) };
            let e = if neg { -f64::from(*wk) } else { f64::from(*wk) };
            let e = (e + gain * xi * b.soft(self.s.dependence, e).0).clamp(b.lo, b.hi);
            *wk = if neg { -e } else { e } as f32;
            push(log, k);
        }
    }

    /// The columns of `post_spikes`, in `parts` parts run in parallel. The
    /// columns of distinct post neurons share no slot, so each weight is
    /// written by one part, the same way at any split.
    fn columns_split(&self, w: Disjoint<'_>, post_spikes: &[u32], parts: usize, log: &mut Option<&mut Vec<usize>>) {
        if parts <= 1 {
            for &j in post_spikes {
                self.column(w, j as usize, log);
            }
            return;
        }
        let left = parts / 2;
        let (a, b) = post_spikes.split_at(post_spikes.len() * left / parts);
        let mut right = log.as_ref().map(|_| Vec::new());
        rayon::join(
            || self.columns_split(w, a, left, log),
            || self.columns_split(w, b, parts - left, &mut right.as_mut()),
        );
        append(log, right);
    }
}

fn post_side(
    l: &mut Learner,
    store: &mut SynapseStore,
    index: &PostIndex,
    post_spikes: &[u32],
    dale: bool,
    log: &mut Option<&mut Vec<usize>>,
) {
    let b = Bounds::of(&l.learning, dale);
    let mut syn = Synapses::of(store);
    match l.learning.rule {
        Rule::Stdp(s) => {
            let x = &l.pre[0];
            if let Some((sign, f)) = uniform(index, &syn, dale) {
                if f != 0.0 {
                    let rule = ColumnStdp {
                        b,
                        s,
                        neg: sign < 0,
                        f,
                        index,
                        row_ptr: syn.row_ptr,
                        x,
                    };
                    let sizes = post_spikes.iter().map(|&j| index.column(j as usize).len());
                    rule.columns_split(Disjoint::new(syn.weight), post_spikes, split_parts(sizes), log);
                }
                for &j in post_spikes {
                    count(&mut l.post[0][j as usize], s.pairing);
                }
                return;
            }
            for &j in post_spikes {
                let column = index.column(j as usize);
                warm(&syn, column);
                for i in 0..column.len() {
                    let k = slot_ahead(&syn, column, i);
                    let f = syn.factor(k);
                    if f == 0.0 {
                        continue;
                    }
                    let xi = x[index.row_of(syn.row_ptr, k)];
                    syn.nudge(&b, k, |e| f * s.a_plus * xi * b.soft(s.dependence, e).0);
                    push(log, k);
                }
                count(&mut l.post[0][j as usize], s.pairing);
            }
        }
        Rule::Triplet(t) => {
            for &j in post_spikes {
                let o2 = l.post[1][j as usize];
                let r1 = &l.pre[0];
                let column = index.column(j as usize);
                warm(&syn, column);
                for i in 0..column.len() {
                    let k = slot_ahead(&syn, column, i);
                    let f = syn.factor(k);
                    if f == 0.0 {
                        continue;
                    }
                    let r = r1[index.row_of(syn.row_ptr, k)];
                    syn.nudge(&b, k, |_| f * r * (t.a2_plus + t.a3_plus * o2));
                    push(log, k);
                }
                l.post[0][j as usize] += 1.0;
                l.post[1][j as usize] += 1.0;
            }
        }
        Rule::RewardStdp(r) => {
            let g = l.eligibility_scale;
            for &j in post_spikes {
                let x = &l.pre[0];
                let column = index.column(j as usize);
                warm(&syn, column);
                for i in 0..column.len() {
                    let k = slot_ahead(&syn, column, i);
                    if syn.factor(k) == 0.0 {
                        continue;
                    }
                    let c = &mut l.eligibility[k];
                    *c = (f64::from(*c) + r.a_plus * x[index.row_of(syn.row_ptr, k)] / g) as f32;
                }
                l.post[0][j as usize] += 1.0;
            }
        }
        _ => {}
    }
}

/// Reward STDP: every learning synapse moves by `eta * M * c * dt` (nothing
/// to do while the modulator is 0).
fn modulate(l: &mut Learner, store: &mut SynapseStore, dt: f64, dale: bool, log: &mut Option<&mut Vec<usize>>) {
    let Rule::RewardStdp(r) = l.learning.rule else {
        return;
    };
    if l.modulator == 0.0 {
        return;
    }
    let b = Bounds::of(&l.learning, dale);
    let rate = r.eta * l.modulator * dt * l.eligibility_scale;
    let mut syn = Synapses::of(store);
    for k in 0..syn.weight.len() {
        let f = syn.factor(k);
        let c = f64::from(l.eligibility[k]);
        if f == 0.0 || c == 0.0 {
            continue;
        }
        syn.nudge(&b, k, |_| f * rate * c);
        push(log, k);
    }
}

/// The scaling factor of post neuron `j` with activity `nu`.
#[inline]
pub(crate) fn scaling_factor(s: &Scaling, nu: f64) -> f64 {
    1.0 + s.eta * s.every * (1.0 - nu / s.target)
}

/// Synaptic scaling of spiking post neurons: the activity trace counts
/// `1000 / tau_rate` per spike (so it reads in Hz); every `every` ms each
/// post neuron's incoming weights are scaled.
#[allow(clippy::too_many_arguments)]
fn scale_spiking(
    l: &mut Learner,
    store: &mut SynapseStore,
    index: &PostIndex,
    post_spikes: &[u32],
    dt: f64,
    dale: bool,
    log: &mut Option<&mut Vec<usize>>,
) {
    let Rule::Scaling(s) = l.learning.rule else {
        return;
    };
    for &j in post_spikes {
        l.post[0][j as usize] += 1000.0 / s.tau_rate;
    }
    l.since += 1;
    if (l.since as f64 * dt) < s.every * (1.0 - 1e-9) {
        return;
    }
    l.since = 0;
    let b = Bounds::of(&l.learning, dale);
    let mut syn = Synapses::of(store);
    for (j, &nu) in l.post[0].iter().enumerate() {
        let g = scaling_factor(&s, nu);
        for &k in index.column(j) {
            let k = k as usize;
            let f = syn.factor(k);
            if f == 0.0 {
                continue;
            }
            syn.nudge(&b, k, |e| f * (g - 1.0) * e);
            push(log, k);
        }
    }
}
