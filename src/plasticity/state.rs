//! What a learning projection keeps besides its store: traces per neuron,
//! eligibility per synapse, the modulator and error a host writes, the pre
//! spikes still in flight, and the post-major index of the synapses.

use super::{Learning, Rule};
use crate::store::SynapseStore;
use serde::{Deserialize, Serialize};

/// The state of one rule on one projection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Learner {
    /// The rule and its bounds.
    pub learning: Learning,
    /// Traces per pre neuron (pair STDP: `x`; triplet: `r1`, `r2`), each of
    /// length n_pre, valued at the end of the current step.
    pub pre: Vec<Vec<f64>>,
    /// Traces per post neuron (pair STDP: `y`; triplet: `o1`, `o2`; BCM:
    /// `theta`; scaling: the activity estimate), each of length n_post.
    pub post: Vec<Vec<f64>>,
    /// Eligibility per synapse in row order (reward-modulated STDP), stored
    /// divided by `eligibility_scale`, so that its decay costs O(1) a step.
    pub eligibility: Vec<f32>,
    /// The common factor of every eligibility.
    pub eligibility_scale: f64,
    /// The global modulator (reward-modulated STDP), set by a host or a scene.
    pub modulator: f64,
    /// The error per post neuron and trial (PES with a host error), `post * batch + b`.
    pub error: Vec<f32>,
    /// Steps since the last scaling.
    pub since: u64,
}

impl Learner {
    /// A fresh learner (traces at 0) for a projection of `n_pre` x `n_post`
    /// neurons with `synapses` slots, post batch `batch`.
    pub fn new(learning: Learning, n_pre: usize, n_post: usize, synapses: usize, batch: usize) -> Learner {
        let (pre, post): (usize, usize) = match &learning.rule {
            Rule::Stdp(_) | Rule::RewardStdp(_) => (1, 1),
            Rule::Triplet(_) => (2, 2),
            Rule::Bcm(_) | Rule::Scaling(_) => (0, 1),
            Rule::Hebbian(_) | Rule::Oja(_) | Rule::Pes(_) => (0, 0),
        };
        let mut post = vec![vec![0.0; n_post]; post];
        if let Rule::Bcm(b) = &learning.rule {
            post[0].fill(b.theta_init);
        }
        let eligibility = match learning.rule {
            Rule::RewardStdp(_) => vec![0.0; synapses],
            _ => Vec::new(),
        };
        let error = match learning.rule {
            Rule::Pes(_) => vec![0.0; n_post * batch.max(1)],
            _ => Vec::new(),
        };
        Learner {
            learning,
            pre: vec![vec![0.0; n_pre]; pre],
            post,
            eligibility,
            eligibility_scale: 1.0,
            modulator: 0.0,
            error,
            since: 0,
        }
    }

    /// Time constants of the pre and post traces (ms).
    pub(crate) fn taus(&self) -> (Vec<f64>, Vec<f64>) {
        match &self.learning.rule {
            Rule::Stdp(s) => (vec![s.tau_plus], vec![s.tau_minus]),
            Rule::RewardStdp(s) => (vec![s.tau_plus], vec![s.tau_minus]),
            Rule::Triplet(t) => (vec![t.tau_plus, t.tau_x], vec![t.tau_minus, t.tau_y]),
            _ => (Vec::new(), Vec::new()),
        }
    }

    /// The eligibility of slot `k` (reward-modulated STDP; 0 otherwise).
    pub fn eligibility(&self, k: usize) -> f64 {
        self.eligibility
            .get(k)
            .map_or(0.0, |&c| f64::from(c) * self.eligibility_scale)
    }

    /// Bytes held per neuron and per synapse.
    pub fn bytes(&self) -> usize {
        let traces: usize = self.pre.iter().chain(&self.post).map(|t| t.capacity() * 8).sum();
        traces + self.eligibility.capacity() * 4 + self.error.capacity() * 4
    }
}

/// Slots per entry of [`PostIndex`]'s row lookup table.
const BLOCK: usize = 256;

/// The synapses of a pre-major store by post neuron (what a post spike must
/// update): 4 bytes a synapse, plus a row table of one entry per 256 slots
/// that finds a slot's pre neuron in O(1) expected.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PostIndex {
    /// Column start offsets into `slots`, length n_post + 1.
    pub col_ptr: Vec<u64>,
    /// Store slots, by post neuron, ascending within each.
    pub slots: Vec<u32>,
    /// Row (pre neuron) of slot `b * 256`, for each block `b`.
    block_row: Vec<u32>,
    /// The sign every slot had when the index was built, if all had one
    /// and none was removed (lets a post spike skip reading signs).
    pub uniform_sign: Option<crate::store::Sign>,
}

impl PostIndex {
    /// The index of a pre-major store (O(n)).
    pub fn of(store: &SynapseStore) -> PostIndex {
        let n_post = store.n_post as usize;
        let mut col_ptr = vec![0u64; n_post + 1];
        for j in store.minor.iter() {
            col_ptr[j as usize + 1] += 1;
        }
        for j in 0..n_post {
            col_ptr[j + 1] += col_ptr[j];
        }
        let mut next: Vec<u64> = col_ptr[..n_post].to_vec();
        let mut slots = vec![0u32; store.len()];
        let mut block_row = Vec::with_capacity(store.len() / BLOCK + 1);
        for r in 0..store.rows() {
            for k in store.row(r) {
                if k % BLOCK == 0 {
                    block_row.push(r as u32);
                }
                let j = store.minor.get(k) as usize;
                slots[next[j] as usize] = k as u32;
                next[j] += 1;
            }
        }
        let mut signs = store.signs();
        let uniform_sign = match signs.next() {
            Some(s0) if store.removed == 0 && s0 != crate::store::REMOVED && signs.all(|s| s == s0) => Some(s0),
            _ => None,
        };
        PostIndex {
            col_ptr,
            slots,
            block_row,
            uniform_sign,
        }
    }

    /// Slots of the synapses onto post neuron `j`.
    #[inline]
    pub fn column(&self, j: usize) -> &[u32] {
        &self.slots[self.col_ptr[j] as usize..self.col_ptr[j + 1] as usize]
    }

    /// The row (pre neuron) of slot `k` of `row_ptr`'s store.
    #[inline]
    pub fn row_of(&self, row_ptr: &[u64], k: usize) -> usize {
        let mut r = self.block_row[k / BLOCK] as usize;
        while row_ptr[r + 1] <= k as u64 {
            r += 1;
        }
        r
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.col_ptr.capacity() * 8 + self.slots.capacity() * 4 + self.block_row.capacity() * 4
    }
}

/// Everything a learning projection keeps besides its store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plastic {
    /// One learner per rule, applied in order.
    pub learners: Vec<Learner>,
    /// Spiking projections: the pre spikes of each of the last `delay`
    /// steps (step `n` at `n % delay`), delivered when they arrive.
    pub in_flight: Vec<Vec<u32>>,
    /// Index of the population whose rates are the error (PES), if any.
    pub error_population: Option<usize>,
    /// Growth and pruning state (`None`: the structure is fixed).
    pub rewiring: Option<super::Rewiring>,
    /// The post-major index (rebuilt after a layout change; not saved).
    #[serde(skip)]
    pub(crate) index: Option<PostIndex>,
    /// Slots changed in the last step (for mirrors; mirrored projections only).
    #[serde(skip)]
    pub(crate) changed: Vec<usize>,
}

impl Plastic {
    /// A fresh state for `rules` on a projection of `n_pre` x `n_post`
    /// neurons with `synapses` slots; `delay`: the spiking delay in steps
    /// (0 for rate projections); `batch`: the post population's batch.
    pub fn new(rules: &[Learning], n_pre: usize, n_post: usize, synapses: usize, delay: u16, batch: usize) -> Plastic {
        Plastic {
            learners: rules
                .iter()
                .map(|l| Learner::new(l.clone(), n_pre, n_post, synapses, batch))
                .collect(),
            in_flight: vec![Vec::new(); usize::from(delay)],
            error_population: None,
            rewiring: None,
            index: None,
            changed: Vec::new(),
        }
    }

    /// Follows a layout change of the store (`map[old] = new`, `usize::MAX`:
    /// removed; new slots start with eligibility 0); the index is rebuilt.
    pub(crate) fn relayout(&mut self, map: &[usize], new_len: usize) {
        self.index = None;
        if let Some(r) = &mut self.rewiring {
            r.relayout(map, new_len);
        }
        for l in &mut self.learners {
            if l.eligibility.is_empty() && !matches!(l.learning.rule, Rule::RewardStdp(_)) {
                continue;
            }
            let mut fresh = vec![0.0f32; new_len];
            for (old, &new) in map.iter().enumerate() {
                if new != usize::MAX
                    && let (Some(slot), Some(&c)) = (fresh.get_mut(new), l.eligibility.get(old))
                {
                    *slot = c;
                }
            }
            l.eligibility = fresh;
        }
    }

    /// Slots that hold new synapses (created, grown, or a removed slot
    /// taken again by a new synapse of its pair): they start with
    /// eligibility 0 and have been small at no pruning check.
    pub(crate) fn fresh_slots(&mut self, slots: &[usize]) {
        for l in &mut self.learners {
            for &k in slots {
                if let Some(c) = l.eligibility.get_mut(k) {
                    *c = 0.0;
                }
            }
        }
        if let Some(r) = &mut self.rewiring {
            for &k in slots {
                if let Some(c) = r.small.get_mut(k) {
                    *c = 0;
                }
            }
        }
    }

    /// Bytes held (traces, eligibility, spikes in flight, index, pruning counters).
    pub fn bytes(&self) -> usize {
        self.learners.iter().map(Learner::bytes).sum::<usize>()
            + self
                .rewiring
                .as_ref()
                .map_or(0, |r| r.small.capacity() * 2 + r.young.capacity() * 16)
            + self.in_flight.iter().map(|v| v.capacity() * 4).sum::<usize>()
            + self.index.as_ref().map_or(0, PostIndex::bytes)
    }

    /// Checks the state fits a projection of `n_pre` x `n_post` neurons with
    /// `synapses` slots, uniform delay `delay` (steps; 0 for rate
    /// projections), post batch `batch`, in a network of `populations`
    /// populations (a loaded checkpoint is checked with this).
    pub fn check(
        &self,
        n_pre: usize,
        n_post: usize,
        synapses: usize,
        delay: usize,
        batch: usize,
        populations: usize,
    ) -> Result<(), String> {
        let len = |what: &str, got: usize, want: usize| {
            if got == want {
                Ok(())
            } else {
                Err(format!("learning state: {what} has length {got}, expected {want}"))
            }
        };
        for (k, l) in self.learners.iter().enumerate() {
            let fresh = Learner::new(l.learning.clone(), n_pre, n_post, synapses, batch);
            len("pre traces", l.pre.len(), fresh.pre.len())?;
            len("post traces", l.post.len(), fresh.post.len())?;
            for t in &l.pre {
                len("a pre trace", t.len(), n_pre)?;
            }
            for t in &l.post {
                len("a post trace", t.len(), n_post)?;
            }
            len("eligibility", l.eligibility.len(), fresh.eligibility.len())?;
            len("error", l.error.len(), fresh.error.len())?;
            let finite = l.pre.iter().chain(&l.post).flatten().all(|x| x.is_finite())
                && l.eligibility.iter().all(|c| c.is_finite())
                && l.error.iter().all(|c| c.is_finite())
                && l.modulator.is_finite()
                && l.eligibility_scale.is_finite()
                && l.eligibility_scale > 0.0;
            if !finite {
                return Err(format!("learning state of rule {k} holds a non-finite value"));
            }
        }
        len("spikes in flight", self.in_flight.len(), delay)?;
        if self.in_flight.iter().flatten().any(|&i| i as usize >= n_pre) {
            return Err("learning state: a spike in flight names a neuron beyond the pre population".into());
        }
        if let Some(r) = &self.rewiring {
            if r.counting {
                len("small-weight counters", r.small.len(), synapses)?;
            }
            if r.young.iter().any(|&(k, _)| k >= synapses) {
                return Err("learning state: a young synapse is beyond the store".into());
            }
        }
        if self.error_population.is_some_and(|e| e >= populations) {
            return Err("learning state: the error population index is out of range".into());
        }
        Ok(())
    }

    /// True when a rule needs spiking populations.
    pub fn is_spiking(&self) -> bool {
        self.learners
            .iter()
            .any(|l| l.learning.rule.needs() == super::Needs::Spiking)
    }
}
