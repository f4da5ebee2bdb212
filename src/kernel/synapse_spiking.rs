//! Spike delivery: each spike of a pre neuron scatters its row's weights into the post population's delay ring.

use crate::population::Population;
use crate::store::{Column, SynapseStore};

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
            for &i in spikes {
                let range = store.row(i as usize);
                let posts = &store.minor[range.clone()];
                let ws = &store.weight[range];
                if delta {
                    for (&j, &w) in posts.iter().zip(ws) {
                        exc[j as usize] += f64::from(w);
                    }
                } else {
                    for (&j, &w) in posts.iter().zip(ws) {
                        if w >= 0.0 {
                            exc[j as usize] += f64::from(w);
                        } else {
                            inh[j as usize] -= f64::from(w);
                        }
                    }
                }
            }
        }
        Column::PerSynapse(delays) => {
            let slots = post.ring.slots();
            let ring = post.ring.buf_mut();
            for &i in spikes {
                for k in store.row(i as usize) {
                    let slot = (step as usize + delays[k] as usize) % slots;
                    let j = store.minor[k] as usize;
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
