//! Reading a store whole: dense and COO copies, weight statistics and histograms by sign, in- and out-degrees,
//! per-neuron weight sums, excitatory and inhibitory input per post neuron, the fraction of weights at bounds.

use super::error::{StoreError, StoreResult as Result};
use super::*;
use serde::{Deserialize, Serialize};

/// Which synapses a statistic or adjustment covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SignFilter {
    /// Excitatory synapses only.
    Excitatory,
    /// Inhibitory synapses only.
    Inhibitory,
    /// Every live synapse.
    #[default]
    Both,
}

impl SignFilter {
    /// True when a synapse of sign `s` is covered (removed synapses never are).
    #[inline]
    pub fn covers(self, s: Sign) -> bool {
        match self {
            SignFilter::Excitatory => s == EXCITATORY,
            SignFilter::Inhibitory => s == INHIBITORY,
            SignFilter::Both => s != REMOVED,
        }
    }
}

/// Statistics of the weights of a set of synapses.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeightStats {
    /// Number of synapses.
    pub count: u64,
    /// Mean weight (0 when empty).
    pub mean: f64,
    /// Standard deviation (population, 0 when empty).
    pub std: f64,
    /// Smallest weight (NaN when empty).
    pub min: f64,
    /// Largest weight (NaN when empty).
    pub max: f64,
}

/// Excitatory and inhibitory input per post neuron: the sums of the
/// excitatory weights and of the inhibitory weights' magnitudes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EiInput {
    /// Sum of excitatory weights onto each post neuron.
    pub excitatory: Vec<f64>,
    /// Sum of |inhibitory weights| onto each post neuron.
    pub inhibitory: Vec<f64>,
}

impl EiInput {
    /// No input onto `n` post neurons.
    pub fn zeros(n: usize) -> EiInput {
        EiInput {
            excitatory: vec![0.0; n],
            inhibitory: vec![0.0; n],
        }
    }

    /// Adds another's input (another projection onto the same neurons).
    pub fn add(&mut self, other: &EiInput) {
        for (a, b) in self.excitatory.iter_mut().zip(&other.excitatory) {
            *a += b;
        }
        for (a, b) in self.inhibitory.iter_mut().zip(&other.inhibitory) {
            *a += b;
        }
    }

    /// E/I ratio of each post neuron, excitatory / |inhibitory| (`None`
    /// where it has no inhibitory input).
    pub fn ratio(&self) -> Vec<Option<f64>> {
        self.excitatory
            .iter()
            .zip(&self.inhibitory)
            .map(|(&e, &i)| (i > 0.0).then(|| e / i))
            .collect()
    }
}

/// How many weights sit at the bounds of `[min, max]` (magnitudes, as the
/// learning rules bound them).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AtBounds {
    /// Synapses counted.
    pub count: u64,
    /// Fraction with `|w| <= min + tol`.
    pub at_min: f64,
    /// Fraction with `|w| >= max - tol`.
    pub at_max: f64,
}

impl SynapseStore {
    /// (pre, post) of store slot `k` from its row `r`.
    #[inline]
    fn pair_in_row(&self, r: usize, k: usize) -> (usize, usize) {
        match self.major {
            Major::Pre => (r, self.minor.get(k) as usize),
            Major::Post => (self.minor.get(k) as usize, r),
        }
    }

    /// Sum of the (signed) weights `filter` covers into each post neuron.
    pub fn in_weight_sums(&self, filter: SignFilter) -> Vec<f64> {
        self.weight_sums(filter, false)
    }

    /// Sum of the (signed) weights `filter` covers out of each pre neuron.
    pub fn out_weight_sums(&self, filter: SignFilter) -> Vec<f64> {
        self.weight_sums(filter, true)
    }

    fn weight_sums(&self, filter: SignFilter, by_pre: bool) -> Vec<f64> {
        let mut out = vec![0.0; if by_pre { self.n_pre } else { self.n_post } as usize];
        for r in 0..self.rows() {
            for k in self.row(r) {
                if filter.covers(self.sign[k]) {
                    let (pre, post) = self.pair_in_row(r, k);
                    out[if by_pre { pre } else { post }] += f64::from(self.weight[k]);
                }
            }
        }
        out
    }

    /// Excitatory and inhibitory input onto each post neuron (by the synapses' signs).
    pub fn ei_input(&self) -> EiInput {
        let inh = self.in_weight_sums(SignFilter::Inhibitory);
        EiInput {
            excitatory: self.in_weight_sums(SignFilter::Excitatory),
            inhibitory: inh.into_iter().map(f64::abs).collect(),
        }
    }

    /// The fractions of the synapses `filter` covers whose weight magnitude
    /// is within `tol` of `min` or of `max` (`0 <= min <= max`, `tol >= 0`;
    /// fractions 0 when none is covered).
    pub fn at_bounds(&self, filter: SignFilter, min: f64, max: f64, tol: f64) -> Result<AtBounds> {
        if !(min.is_finite() && max.is_finite() && tol.is_finite() && 0.0 <= min && min <= max && tol >= 0.0) {
            return Err(StoreError::Bounds { min, max, tol });
        }
        let (mut n, mut lo, mut hi) = (0u64, 0u64, 0u64);
        for k in 0..self.len() {
            if filter.covers(self.sign[k]) {
                let w = f64::from(self.weight[k]).abs();
                n += 1;
                lo += u64::from(w <= min + tol);
                hi += u64::from(w >= max - tol);
            }
        }
        let frac = |c: u64| if n == 0 { 0.0 } else { c as f64 / n as f64 };
        Ok(AtBounds {
            count: n,
            at_min: frac(lo),
            at_max: frac(hi),
        })
    }

    /// The weights as a dense matrix, post x pre (like `W` in `y = W r`);
    /// multapses are summed, absent and removed synapses are 0.
    pub fn to_dense(&self) -> ndarray::Array2<f32> {
        let mut d = ndarray::Array2::<f32>::zeros((self.n_post as usize, self.n_pre as usize));
        self.add_into(&mut d);
        d
    }

    /// [`SynapseStore::to_dense`] for a matrix the user asked for: an error
    /// naming `owner` (a projection) when it does not fit in memory.
    pub fn try_to_dense(&self, owner: &str) -> crate::Result<ndarray::Array2<f32>> {
        let (rows, cols) = (self.n_post as usize, self.n_pre as usize);
        let data = crate::io::try_filled(rows * cols, 0.0f32, || {
            let sep = if owner.is_empty() { "" } else { ": " };
            format!("{owner}{sep}a dense {rows} x {cols} weight matrix (post x pre, float32)")
        })?;
        let mut d = ndarray::Array2::from_shape_vec((rows, cols), data).expect("rows x cols values");
        self.add_into(&mut d);
        Ok(d)
    }

    /// The dense post x pre matrix of [`SynapseStore::try_to_dense`] (the
    /// same sums, in the same order), handed to `emit` in blocks of whole
    /// post rows of at most `max_values` values (at least one row), in C
    /// order: memory for one block, whatever the matrix's size.
    pub fn dense_row_blocks<E>(
        &self,
        max_values: usize,
        mut emit: impl FnMut(&[f32]) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let (rows, cols) = (self.n_post as usize, self.n_pre as usize);
        let per_block = (max_values / cols.max(1)).clamp(1, rows.max(1));
        let mut buf = Vec::new();
        for lo in (0..rows).step_by(per_block) {
            let hi = (lo + per_block).min(rows);
            buf.clear();
            buf.resize((hi - lo) * cols, 0.0f32);
            match self.major {
                Major::Post => {
                    for post in lo..hi {
                        let out = &mut buf[(post - lo) * cols..(post - lo + 1) * cols];
                        for k in self.row(post) {
                            out[self.minor.get(k) as usize] += self.weight[k];
                        }
                    }
                }
                Major::Pre => {
                    for pre in 0..self.rows() {
                        let k = self.row(pre);
                        // rows sorted by post: the synapses onto posts lo..hi
                        let (a, b) = (
                            self.minor.partition_below(k.clone(), lo as u32),
                            self.minor.partition_below(k.clone(), hi as u32),
                        );
                        for s in k.start + a..k.start + b {
                            buf[(self.minor.get(s) as usize - lo) * cols + pre] += self.weight[s];
                        }
                    }
                }
            }
            emit(&buf)?;
        }
        Ok(())
    }

    fn add_into(&self, d: &mut ndarray::Array2<f32>) {
        for r in 0..self.rows() {
            for k in self.row(r) {
                let (pre, post) = match self.major {
                    Major::Pre => (r, self.minor.get(k) as usize),
                    Major::Post => (self.minor.get(k) as usize, r),
                };
                d[[post, pre]] += self.weight[k];
            }
        }
    }

    /// The live synapses as coordinate lists (pre, post, weight), in store order.
    pub fn to_coo(&self) -> (Vec<u32>, Vec<u32>, Vec<f32>) {
        let (pre, post) = self.pairs();
        let live = |k: &usize| self.sign[*k] != REMOVED;
        let keep: Vec<usize> = (0..self.len()).filter(live).collect();
        (
            keep.iter().map(|&k| pre[k]).collect(),
            keep.iter().map(|&k| post[k]).collect(),
            keep.iter().map(|&k| self.weight[k]).collect(),
        )
    }

    /// Count, mean, std, min and max of the weights of the synapses `filter` covers.
    pub fn weight_stats(&self, filter: SignFilter) -> WeightStats {
        let (mut count, mut sum, mut sum2) = (0u64, 0.0f64, 0.0f64);
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for (&w, s) in self.weight.iter().zip(self.signs()) {
            if filter.covers(s) {
                let w = f64::from(w);
                count += 1;
                sum += w;
                sum2 += w * w;
                min = min.min(w);
                max = max.max(w);
            }
        }
        if count == 0 {
            return WeightStats {
                count,
                mean: 0.0,
                std: 0.0,
                min: f64::NAN,
                max: f64::NAN,
            };
        }
        let mean = sum / count as f64;
        let var = (sum2 / count as f64 - mean * mean).max(0.0);
        WeightStats {
            count,
            mean,
            std: var.sqrt(),
            min,
            max,
        }
    }

    /// Histogram of the weights `filter` covers over bins given by their
    /// `edges` (ascending; bin i is `[edges[i], edges[i+1])`, the last bin closed).
    pub fn weight_histogram(&self, filter: SignFilter, edges: &[f64]) -> Result<Vec<u64>> {
        if edges.len() < 2
            || edges
                .windows(2)
                .any(|e| e[0].partial_cmp(&e[1]) != Some(std::cmp::Ordering::Less))
        {
            return Err(StoreError::BadEdges(format!("{edges:?}")));
        }
        let mut counts = vec![0u64; edges.len() - 1];
        let last = edges[edges.len() - 1];
        for (&w, s) in self.weight.iter().zip(self.signs()) {
            let w = f64::from(w);
            if !filter.covers(s) || w < edges[0] || w > last {
                continue;
            }
            let bin = (edges.partition_point(|&e| e <= w) - 1).min(counts.len() - 1);
            counts[bin] += 1;
        }
        Ok(counts)
    }

    /// Number of live synapses into each post neuron.
    pub fn in_degree(&self) -> Vec<u32> {
        self.degree(Major::Post, self.n_post)
    }

    /// Number of live synapses out of each pre neuron.
    pub fn out_degree(&self) -> Vec<u32> {
        self.degree(Major::Pre, self.n_pre)
    }

    fn degree(&self, of: Major, n: u32) -> Vec<u32> {
        let mut d = vec![0u32; n as usize];
        for r in 0..self.rows() {
            for k in self.row(r) {
                if self.sign[k] != REMOVED {
                    let i = if self.major == of {
                        r
                    } else {
                        self.minor.get(k) as usize
                    };
                    d[i] += 1;
                }
            }
        }
        d
    }
}
