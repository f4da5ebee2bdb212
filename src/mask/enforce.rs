//! Applying the masks to the synapses that changed: [`enforce`], [`Scope`], [`balance`].

use super::Masks;
use crate::store::{EXCITATORY, INHIBITORY, REMOVED, SynapseIndex, SynapseStore, constrain_sign};

/// Which synapses changed and need the constraints applied.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    /// Every synapse (after construction, a mask change or a bulk edit).
    All,
    /// These store slots.
    Slots(&'a [SynapseIndex]),
}

/// What [`enforce`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Enforced {
    /// Synapses removed because a mask forbids them.
    pub removed: u64,
    /// Weights set to zero because their sign was wrong (Dale's law).
    pub zeroed: u64,
    /// Synapses whose sign the E/I mask changed (or, without Dale's law and
    /// without an E/I mask, their weight's sign).
    pub resigned: u64,
    /// Post neurons whose inhibitory inputs were rescaled (E/I balance).
    pub balanced: u64,
}

/// Applies every mask and constraint to the synapses in `scope`: removes
/// what the sparsity mask or the self-connection rule forbids, gives each
/// synapse the sign of the E/I mask (without Dale's law and without one,
/// the sign of its nonzero weight), zeroes weights of the wrong sign when
/// the store keeps Dale's law, sets plasticity factors from the plasticity
/// mask, and rebalances the post neurons touched when balance is on.
/// `recurrent`: pre and post are the same population.
pub fn enforce(store: &mut SynapseStore, masks: &Masks, recurrent: bool, scope: Scope<'_>) -> Enforced {
    enforce_logged(store, masks, recurrent, scope, None)
}

/// [`enforce`], also returning the slots it touched: removed, re-signed,
/// zeroed, given another plasticity factor or rescaled by the balance, each
/// once, in ascending order (what a change log needs to sync mirrors).
pub fn enforce_touched(
    store: &mut SynapseStore,
    masks: &Masks,
    recurrent: bool,
    scope: Scope<'_>,
) -> (Enforced, Vec<SynapseIndex>) {
    let mut touched = Vec::new();
    let done = enforce_logged(store, masks, recurrent, scope, Some(&mut touched));
    touched.sort_unstable();
    touched.dedup();
    (done, touched)
}

fn enforce_logged(
    store: &mut SynapseStore,
    masks: &Masks,
    recurrent: bool,
    scope: Scope<'_>,
    mut log: Option<&mut Vec<SynapseIndex>>,
) -> Enforced {
    let mut done = Enforced::default();
    let mut touched_posts: Vec<u32> = Vec::new();
    let one = |store: &mut SynapseStore, k: usize, pre: u32, post: u32, done: &mut Enforced| -> bool {
        if store.sign[k] == REMOVED {
            return false;
        }
        if !masks.allows(pre, post, recurrent) {
            store.remove(k);
            done.removed += 1;
            return true;
        }
        let mut changed = false;
        if let Some(sm) = &masks.signs {
            let s = sm.sign(pre, post);
            if store.sign[k] != s {
                store.set_sign(k, s);
                done.resigned += 1;
                changed = true;
            }
        }
        if !store.dale && masks.signs.is_none() {
            // without Dale's law a synapse's sign follows its weight (a bulk write may have flipped it)
            let w = store.weight[k];
            let s = if w < 0.0 { INHIBITORY } else { EXCITATORY };
            if w != 0.0 && store.sign[k] != s {
                store.set_sign(k, s);
                done.resigned += 1;
                changed = true;
            }
        }
        if store.dale {
            let w = constrain_sign(store.weight[k], store.sign[k]);
            if w != store.weight[k] {
                store.weight[k] = w;
                done.zeroed += 1;
                changed = true;
            }
        }
        if let Some(pm) = &masks.plasticity {
            let len = store.len();
            let f = pm.get(post, pre);
            changed |= store.plasticity.get(k) != f;
            store.plasticity.set(k, f, len);
        }
        changed
    };
    match scope {
        Scope::All => {
            for r in 0..store.rows() {
                for k in store.row(r) {
                    let (pre, post) = store.pair(k);
                    if one(store, k, pre, post, &mut done)
                        && let Some(log) = log.as_deref_mut()
                    {
                        log.push(k);
                    }
                }
            }
        }
        Scope::Slots(slots) => {
            for &k in slots {
                if k < store.len() {
                    let (pre, post) = store.pair(k);
                    if one(store, k, pre, post, &mut done)
                        && let Some(log) = log.as_deref_mut()
                    {
                        log.push(k);
                    }
                    if masks.balance {
                        touched_posts.push(post);
                    }
                }
            }
        }
    }
    if masks.balance {
        done.balanced = match scope {
            Scope::All => balance_logged(store, None, log),
            Scope::Slots(_) => {
                touched_posts.sort_unstable();
                touched_posts.dedup();
                balance_logged(store, Some(&touched_posts), log)
            }
        };
    }
    done
}

/// E/I balance: on each post neuron (all, or those listed), scales the
/// inhibitory weights by `E / I` (E: sum of excitatory weights, I: sum of
/// inhibitory magnitudes) so that its inputs sum to zero. Post neurons with
/// no excitatory or no inhibitory input are left as they are. Returns the
/// number of post neurons rescaled.
pub fn balance(store: &mut SynapseStore, posts: Option<&[u32]>) -> u64 {
    balance_logged(store, posts, None)
}

/// [`balance`], pushing every slot whose weight it changed to `log`.
fn balance_logged(store: &mut SynapseStore, posts: Option<&[u32]>, mut log: Option<&mut Vec<SynapseIndex>>) -> u64 {
    let n_post = store.n_post as usize;
    let mut exc = vec![0.0f64; n_post];
    let mut inh = vec![0.0f64; n_post];
    let wanted = posts.map(|p| {
        let mut w = vec![false; n_post];
        for &j in p {
            w[j as usize] = true;
        }
        w
    });
    let keep = |j: u32| wanted.as_ref().is_none_or(|w| w[j as usize]);
    for r in 0..store.rows() {
        for k in store.row(r) {
            let (_, post) = store.pair(k);
            if !keep(post) {
                continue;
            }
            let w = f64::from(store.weight[k]);
            match store.sign[k] {
                EXCITATORY => exc[post as usize] += w.max(0.0),
                INHIBITORY => inh[post as usize] -= w.min(0.0),
                _ => {}
            }
        }
    }
    let factor: Vec<Option<f64>> = (0..n_post)
        .map(|j| (exc[j] > 0.0 && inh[j] > 0.0).then(|| exc[j] / inh[j]))
        .collect();
    for r in 0..store.rows() {
        for k in store.row(r) {
            if store.sign[k] != INHIBITORY {
                continue;
            }
            let (_, post) = store.pair(k);
            if !keep(post) {
                continue;
            }
            if let Some(f) = factor[post as usize] {
                let w = (f64::from(store.weight[k]) * f) as f32;
                if w != store.weight[k]
                    && let Some(log) = log.as_deref_mut()
                {
                    log.push(k);
                }
                store.weight[k] = w;
            }
        }
    }
    factor.iter().filter(|f| f.is_some()).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Column;
    use ndarray::array;

    fn full(n: u32) -> SynapseStore {
        // all-to-all n x n incl. diagonal, pre-major; weights +-(1 + k/10)
        let mut row_ptr = vec![0u64];
        let (mut post, mut w, mut s) = (vec![], vec![], vec![]);
        for i in 0..n {
            for j in 0..n {
                post.push(j);
                let sign = if i % 2 == 0 { 1 } else { -1 };
                w.push(f32::from(sign) * (1.0 + (i * n + j) as f32 / 10.0));
                s.push(sign);
            }
            row_ptr.push(post.len() as u64);
        }
        SynapseStore::from_pre_rows(n, n, row_ptr, post, w, s, Column::Uniform(1)).unwrap()
    }

    #[test]
    fn sparsity_and_self_connections_remove_forbidden_synapses() {
        let mut st = full(3);
        let mut m = Masks::default();
        let a = array![[1.0f32, 0.0, 1.0], [1.0, 1.0, 1.0], [0.0, 1.0, 1.0]];
        m.sparsity = Some(Masks::sparsity_from("p", a.view(), 3, 3).unwrap());
        m.self_connections = false;
        let done = enforce(&mut st, &m, true, Scope::All);
        // forbidden: [0,1], [2,0] by sparsity, diagonal 3 by self-connections
        assert_eq!(done.removed, 5);
        let d = st.to_dense();
        for post in 0..3 {
            for pre in 0..3 {
                let allowed = a[[post, pre]] == 1.0 && pre != post;
                assert_eq!(d[[post, pre]] != 0.0, allowed, "[{post},{pre}]");
            }
        }
    }

    #[test]
    fn ei_mask_resigns_and_dale_zeroes_wrong_signs() {
        let mut st = full(2);
        st.dale = true;
        let m = Masks {
            signs: Some(Masks::signs_per_pre("p", &[-1.0, -1.0], 2).unwrap()),
            ..Masks::default()
        };
        let done = enforce(&mut st, &m, false, Scope::All);
        // pre 0 was excitatory: its two synapses become inhibitory and their positive weights 0
        assert_eq!(done.resigned, 2);
        assert_eq!(done.zeroed, 2);
        assert!(st.signs().all(|s| s == INHIBITORY));
        assert!(st.weight.iter().all(|&w| w <= 0.0));
    }

    #[test]
    fn balance_makes_every_post_sum_zero() {
        let mut st = full(4);
        let m = Masks {
            balance: true,
            ..Masks::default()
        };
        let done = enforce(&mut st, &m, false, Scope::All);
        assert_eq!(done.balanced, 4);
        let d = st.to_dense();
        for post in 0..4 {
            let sum: f32 = d.row(post).sum();
            assert!(sum.abs() < 1e-5, "post {post} sums to {sum}");
        }
        // excitatory weights untouched
        assert_eq!(d[[1, 0]], 1.1);
    }

    #[test]
    fn slot_scope_touches_only_those_slots() {
        let mut st = full(3);
        let before = st.clone();
        let m = Masks {
            self_connections: false,
            ..Masks::default()
        };
        let k = st.find_live(1, 1).unwrap().unwrap();
        let done = enforce(&mut st, &m, true, Scope::Slots(&[k]));
        assert_eq!(done.removed, 1);
        for j in 0..st.len() {
            if j != k {
                assert_eq!(st.weight[j], before.weight[j]);
            }
        }
        assert_eq!(
            st.find_live(0, 0).unwrap(),
            Some(0),
            "other diagonal entries wait for their scope"
        );
    }

    #[test]
    fn enforce_touched_lists_changed_slots_and_agrees_with_enforce() {
        let m = Masks {
            self_connections: false,
            signs: Some(Masks::signs_per_pre("p", &[1.0, 1.0, 1.0], 3).unwrap()),
            ..Masks::default()
        };
        let mut a = full(3);
        let mut b = full(3);
        let done = enforce(&mut a, &m, true, Scope::All);
        let (done_t, touched) = enforce_touched(&mut b, &m, true, Scope::All);
        assert_eq!(done, done_t);
        assert_eq!(a, b);
        // diagonal removed (slots 0, 4, 8) and pre 1's synapses re-signed (slots 3, 5)
        assert_eq!(touched, vec![0, 3, 4, 5, 8]);
        let (again, none) = enforce_touched(&mut b, &m, true, Scope::All);
        assert_eq!(again, Enforced::default());
        assert!(none.is_empty());
    }
}
