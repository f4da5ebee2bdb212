//! nn4n's constraints around an optimizer step: the plasticity mask scales
//! the gradient before it (`apply_plasticity`), and after it sparsity zeros
//! stay zero and Dale's law sets a weight of the wrong sign to 0 (relu /
//! -relu against the E/I mask, `enforce_constraints`).

use super::{Grads, RateGraph, Real};

/// `grad *= plasticity mask`, elementwise, for every trained projection with one.
pub fn apply_plasticity<F: Real>(g: &RateGraph<F>, grads: &mut Grads<F>) {
    for (q, gw) in g.projs.iter().zip(grads.w.iter_mut()) {
        if let (Some(m), Some(gw)) = (&q.plasticity, gw.as_mut()) {
            *gw *= m;
        }
    }
}

/// Sparsity (`w *= mask`) then Dale (`w = max(w, 0)` where the E/I mask is
/// +1, `min(w, 0)` where it is -1) on every projection, as nn4n's order.
pub fn enforce<F: Real>(g: &mut RateGraph<F>) {
    for q in &mut g.projs {
        if let Some(m) = &q.sparsity {
            q.w *= m;
        }
        if let Some(s) = &q.sign {
            ndarray::Zip::from(&mut q.w).and(s).for_each(|w, &s| {
                if s > F::zero() && *w < F::zero() || s < F::zero() && *w > F::zero() {
                    *w = F::zero();
                }
            });
        }
    }
}

/// Whether every projection satisfies its sparsity and E/I masks: the index of the first that does not.
pub fn violation<F: Real>(g: &RateGraph<F>) -> Option<(String, usize, usize)> {
    for q in &g.projs {
        for ((post, pre), &w) in q.w.indexed_iter() {
            let sparse = q
                .sparsity
                .as_ref()
                .is_some_and(|m| m[[post, pre]] == F::zero() && w != F::zero());
            let sign = q.sign.as_ref().is_some_and(|s| {
                let s = s[[post, pre]];
                s > F::zero() && w < F::zero() || s < F::zero() && w > F::zero()
            });
            if sparse || sign {
                return Some((q.name.clone(), post, pre));
            }
        }
    }
    None
}
