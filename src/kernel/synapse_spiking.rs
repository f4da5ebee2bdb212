//! Spike delivery: each spike of a pre neuron scatters its row's weights into the post population's delay ring.

use crate::population::Population;
use crate::store::{Column, SynapseStore, Target};
use crate::with_indices;

/// `(&v[a], &mut v[b])` for `a != b`.
pub fn two_mut<T>(v: &mut [T], a: usize, b: usize) -> (&T, &mut T) {
    if a < b {
        let (x, y) = v.split_at_mut(b);
        (&x[a], &mut y[0])
    } else {
        let (x, y) = v.split_at_mut(a);
        (&y[0], &mut x[b])
    }
}

/// Adds the spikes of one step to the post population's ring at `step + delay`.
pub fn scatter(store: &SynapseStore, spikes: &[u32], post: &mut Population, step: u64) {
    let n = post.size;
    let delta = post.model.synapse() == Some(crate::model::SynapseKind::Delta);
    match &store.delay {
        Column::Uniform(d) => {
            let (exc, inh) = post.ring.slot_mut(step + u64::from(*d), n);
            let parts = scatter_parts(store, spikes);
            scatter_split(store, spikes, exc, inh, 0, parts, delta);
        }
        Column::PerSynapse(delays) => {
            let slots = post.ring.slots();
            let ring = post.ring.buf_mut();
            for &i in spikes {
                for k in store.row(i as usize) {
                    let slot = (step as usize + delays[k] as usize) % slots;
                    let j = store.minor.get(k) as usize;
                    let w = f64::from(store.weight[k]);
                    let base = slot * 2 * n;
                    if delta || w >= 0.0 {
                        ring[base + j] += w;
                    } else {
                        ring[base + n + j] -= w;
                    }
                }
            }
        }
    }
}

/// Spike deliveries (synapses) in one step below which one thread scatters
/// them all: splitting costs a binary search per row and a hand-off.
pub const SCATTER_PARALLEL_MIN: u64 = 16_384;

/// Into how many post ranges to split this step's delivery: one per pool
/// thread when there is enough to deliver, else one.
fn scatter_parts(store: &SynapseStore, spikes: &[u32]) -> usize {
    let threads = rayon::current_num_threads();
    if threads < 2 {
        return 1;
    }
    let deliveries: u64 = spikes.iter().map(|&i| store.row(i as usize).len() as u64).sum();
    if deliveries < SCATTER_PARALLEL_MIN { 1 } else { threads }
}

/// Delivers `spikes` into the post neurons `lo..lo + exc.len()` (whose
/// input slots are `exc` and `inh`), split into `parts` disjoint post
/// ranges run in parallel. Every post neuron receives its inputs in spike
/// order whatever the split, so the sums are bit-identical at any thread
/// count.
fn scatter_split(
    store: &SynapseStore,
    spikes: &[u32],
    exc: &mut [f64],
    inh: &mut [f64],
    lo: usize,
    parts: usize,
    delta: bool,
) {
    if parts <= 1 {
        return scatter_range(store, spikes, exc, inh, lo, delta);
    }
    let left = parts / 2;
    let mid = exc.len() * left / parts;
    let (e1, e2) = exc.split_at_mut(mid);
    let (i1, i2) = inh.split_at_mut(mid);
    rayon::join(
        || scatter_split(store, spikes, e1, i1, lo, left, delta),
        || scatter_split(store, spikes, e2, i2, lo + mid, parts - left, delta),
    );
}

/// One thread's share of a delivery: the synapses of each spiking row
/// whose post index lies in `lo..lo + exc.len()` (rows are sorted by post).
fn scatter_range(store: &SynapseStore, spikes: &[u32], exc: &mut [f64], inh: &mut [f64], lo: usize, delta: bool) {
    with_indices!(store.minor, |minor| scatter_rows(
        store, minor, spikes, exc, inh, lo, delta
    ))
}

/// [`scatter_range`] for one width of the post indices `minor`.
#[inline(always)]
fn scatter_rows<T: Target>(
    store: &SynapseStore,
    minor: &[T],
    spikes: &[u32],
    exc: &mut [f64],
    inh: &mut [f64],
    lo: usize,
    delta: bool,
) {
    let (lo32, hi) = (lo as u32, (lo + exc.len()) as u32);
    let whole = lo == 0 && hi == store.n_post;
    for &i in spikes {
        let range = store.row(i as usize);
        let mut posts = &minor[range.clone()];
        let mut ws = &store.weight[range];
        if !whole {
            let a = posts.partition_point(|&j| j.get() < lo32);
            let b = a + posts[a..].partition_point(|&j| j.get() < hi);
            (posts, ws) = (&posts[a..b], &ws[a..b]);
        }
        if delta {
            for (&j, &w) in posts.iter().zip(ws) {
                exc[j.at() - lo] += f64::from(w);
            }
        } else {
            for (&j, &w) in posts.iter().zip(ws) {
                let j = j.at() - lo;
                if w >= 0.0 {
                    exc[j] += f64::from(w);
                } else {
                    inh[j] -= f64::from(w);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// Plasticity splits its synapse updates over threads at the delivery's threshold.
    #[test]
    fn plasticity_splits_at_the_delivery_threshold() {
        assert_eq!(
            crate::plasticity::PLASTIC_PARALLEL_MIN as u64,
            super::SCATTER_PARALLEL_MIN
        );
    }
}
