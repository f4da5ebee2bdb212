//! Masks and constraints of a projection (nn4n's rules), as pure functions
//! over a [`SynapseStore`].
//!
//! Every mask is **post x pre**, the orientation of the weight matrix `W` in
//! `y = W r` (and of nn4n's masks): entry `[post, pre]` speaks of the synapse
//! from `pre` to `post`.
//!
//! - the **sparsity mask** (0/1): a zero entry never holds a synapse;
//! - the **E/I mask** (+1/-1, per synapse or per pre neuron): the sign of
//!   every synapse; with Dale's law on, a weight of the wrong sign becomes 0
//!   (nn4n's relu / -relu rule), it is never flipped;
//! - the **plasticity mask** (a factor in [0, 1]): how much a synapse learns;
//! - the **growth mask** (a probability in [0, 1]): how likely an absent
//!   synapse grows; stored, validated and queried here;
//! - **self-connections** off masks out the diagonal of a recurrent projection;
//! - **E/I balance** scales the inhibitory weights onto each post neuron so
//!   that its inputs sum to zero.
//!
//! [`enforce`] applies them to the synapses that changed ([`Scope`]).

use crate::error::{CortecsError, Result};
use crate::projection::{EXCITATORY, INHIBITORY, REMOVED, Sign, SynapseIndex, SynapseStore, constrain_sign};
use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

/// A dense post x pre matrix kept as one row-major vector (serialisable
/// without ndarray's serde feature).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Matrix<T> {
    /// Rows (post neurons).
    pub rows: usize,
    /// Columns (pre neurons).
    pub cols: usize,
    /// Entries, row-major.
    pub data: Vec<T>,
}

impl<T: Copy> Matrix<T> {
    /// Entry `[post, pre]`.
    #[inline]
    pub fn get(&self, post: u32, pre: u32) -> T {
        self.data[post as usize * self.cols + pre as usize]
    }

    /// The matrix as an ndarray.
    pub fn to_array(&self) -> Array2<T> {
        Array2::from_shape_vec((self.rows, self.cols), self.data.clone()).expect("shape matches data by construction")
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.data.capacity() * std::mem::size_of::<T>()
    }
}

/// A post x pre 0/1 matrix, one bit an entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BitMatrix {
    /// Rows (post neurons).
    pub rows: usize,
    /// Columns (pre neurons).
    pub cols: usize,
    /// Bits, row-major, 64 a word.
    pub bits: Vec<u64>,
}

impl BitMatrix {
    /// Entry `[post, pre]`.
    #[inline]
    pub fn get(&self, post: u32, pre: u32) -> bool {
        let i = post as usize * self.cols + pre as usize;
        self.bits[i / 64] >> (i % 64) & 1 == 1
    }

    /// Number of ones.
    pub fn count_ones(&self) -> u64 {
        self.bits.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    /// The mask as a 0/1 `f32` array.
    pub fn to_array(&self) -> Array2<f32> {
        Array2::from_shape_fn((self.rows, self.cols), |(r, c)| {
            f32::from(u8::from(self.get(r as u32, c as u32)))
        })
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bits.capacity() * 8
    }
}

/// The sign every synapse must have.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SignMask {
    /// One sign per pre neuron (Dale's law: a neuron's synapses share its sign).
    PerPre(Vec<Sign>),
    /// One sign per (post, pre) entry.
    PerSynapse(Matrix<Sign>),
}

impl SignMask {
    /// The sign of a synapse from `pre` to `post`.
    #[inline]
    pub fn sign(&self, pre: u32, post: u32) -> Sign {
        match self {
            SignMask::PerPre(s) => s[pre as usize],
            SignMask::PerSynapse(m) => m.get(post, pre),
        }
    }
}

/// The masks and constraint flags of one projection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Masks {
    /// Where synapses may exist (None: everywhere).
    pub sparsity: Option<BitMatrix>,
    /// The sign of every synapse (None: signs as built).
    pub signs: Option<SignMask>,
    /// Learning factor of every synapse in [0, 1] (None: as built).
    pub plasticity: Option<Matrix<f32>>,
    /// Probability that an absent synapse grows, in [0, 1] (None: no growth).
    pub growth: Option<Matrix<f32>>,
    /// Whether a recurrent projection may connect a neuron to itself.
    pub self_connections: bool,
    /// Scale inhibitory weights so each post neuron's inputs sum to zero.
    pub balance: bool,
}

impl Default for Masks {
    fn default() -> Masks {
        Masks {
            sparsity: None,
            signs: None,
            plasticity: None,
            growth: None,
            self_connections: true,
            balance: false,
        }
    }
}

fn check_shape<T>(name: &str, what: &str, a: &ArrayView2<T>, n_post: usize, n_pre: usize) -> Result<()> {
    if a.dim() != (n_post, n_pre) {
        return Err(CortecsError::InvalidRequest(format!(
            "{name}: the {what} mask must be post x pre = {n_post} x {n_pre}, got {} x {}",
            a.nrows(),
            a.ncols()
        )));
    }
    Ok(())
}

fn bad_entry(name: &str, what: &str, rule: &str, v: f32, (post, pre): (usize, usize)) -> CortecsError {
    CortecsError::InvalidRequest(format!(
        "{name}: {what} mask entries must be {rule}, got {v} at [post {post}, pre {pre}]"
    ))
}

impl Masks {
    /// Builds the sparsity mask from a post x pre array of 0/1.
    pub fn sparsity_from(name: &str, a: ArrayView2<f32>, n_post: usize, n_pre: usize) -> Result<BitMatrix> {
        check_shape(name, "sparsity", &a, n_post, n_pre)?;
        let mut bits = vec![0u64; (n_post * n_pre).div_ceil(64)];
        for ((r, c), &v) in a.indexed_iter() {
            if v == 1.0 {
                let i = r * n_pre + c;
                bits[i / 64] |= 1 << (i % 64);
            } else if v != 0.0 {
                return Err(bad_entry(name, "sparsity", "0 or 1", v, (r, c)));
            }
        }
        Ok(BitMatrix {
            rows: n_post,
            cols: n_pre,
            bits,
        })
    }

    /// Builds an E/I mask from a post x pre array of +1/-1.
    pub fn signs_from(name: &str, a: ArrayView2<f32>, n_post: usize, n_pre: usize) -> Result<SignMask> {
        check_shape(name, "E/I", &a, n_post, n_pre)?;
        let mut data = Vec::with_capacity(n_post * n_pre);
        for ((r, c), &v) in a.indexed_iter() {
            data.push(sign_of(name, v, (r, c))?);
        }
        Ok(SignMask::PerSynapse(Matrix {
            rows: n_post,
            cols: n_pre,
            data,
        }))
    }

    /// Builds an E/I mask from one +1/-1 per pre neuron.
    pub fn signs_per_pre(name: &str, signs: &[f32], n_pre: usize) -> Result<SignMask> {
        if signs.len() != n_pre {
            return Err(CortecsError::WrongLength {
                context: format!("{name}: E/I mask per pre neuron"),
                expected: n_pre,
                got: signs.len(),
            });
        }
        let s = signs
            .iter()
            .enumerate()
            .map(|(i, &v)| sign_of(name, v, (0, i)))
            .collect::<Result<Vec<Sign>>>()?;
        Ok(SignMask::PerPre(s))
    }

    /// Builds a plasticity (`what` = "plasticity") or growth mask: entries in [0, 1].
    pub fn factors_from(
        name: &str,
        what: &str,
        a: ArrayView2<f32>,
        n_post: usize,
        n_pre: usize,
    ) -> Result<Matrix<f32>> {
        check_shape(name, what, &a, n_post, n_pre)?;
        let mut data = Vec::with_capacity(n_post * n_pre);
        for ((r, c), &v) in a.indexed_iter() {
            if !(0.0..=1.0).contains(&v) {
                return Err(bad_entry(name, what, "in [0, 1]", v, (r, c)));
            }
            data.push(v);
        }
        Ok(Matrix {
            rows: n_post,
            cols: n_pre,
            data,
        })
    }

    /// Whether a synapse from `pre` to `post` may exist. `recurrent` is true
    /// when pre and post are the same population.
    #[inline]
    pub fn allows(&self, pre: u32, post: u32, recurrent: bool) -> bool {
        if recurrent && !self.self_connections && pre == post {
            return false;
        }
        self.sparsity.as_ref().is_none_or(|m| m.get(post, pre))
    }

    /// Probability that the absent synapse `pre -> post` grows (0 where the
    /// sparsity mask or the self-connection rule forbids it).
    pub fn growth_probability(&self, pre: u32, post: u32, recurrent: bool) -> f32 {
        match &self.growth {
            Some(g) if self.allows(pre, post, recurrent) => g.get(post, pre),
            _ => 0.0,
        }
    }

    /// True when no mask or flag constrains anything.
    pub fn is_empty(&self) -> bool {
        self.sparsity.is_none()
            && self.signs.is_none()
            && self.plasticity.is_none()
            && self.growth.is_none()
            && self.self_connections
            && !self.balance
    }

    /// Bytes held by the masks.
    pub fn bytes(&self) -> usize {
        self.sparsity.as_ref().map_or(0, BitMatrix::bytes)
            + match &self.signs {
                Some(SignMask::PerPre(v)) => v.capacity(),
                Some(SignMask::PerSynapse(m)) => m.bytes(),
                None => 0,
            }
            + self.plasticity.as_ref().map_or(0, Matrix::bytes)
            + self.growth.as_ref().map_or(0, Matrix::bytes)
    }

    /// One line for summaries: which masks are set.
    pub fn status(&self) -> String {
        let mut parts = Vec::new();
        if let Some(m) = &self.sparsity {
            parts.push(format!("sparsity ({} of {} allowed)", m.count_ones(), m.rows * m.cols));
        }
        match &self.signs {
            Some(SignMask::PerPre(_)) => parts.push("E/I per pre neuron".to_string()),
            Some(SignMask::PerSynapse(_)) => parts.push("E/I per synapse".to_string()),
            None => {}
        }
        if self.plasticity.is_some() {
            parts.push("plasticity".into());
        }
        if self.growth.is_some() {
            parts.push("growth".into());
        }
        if !self.self_connections {
            parts.push("no self-connections".into());
        }
        if self.balance {
            parts.push("E/I balance".into());
        }
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        }
    }
}

fn sign_of(name: &str, v: f32, at: (usize, usize)) -> Result<Sign> {
    if v == 1.0 {
        Ok(EXCITATORY)
    } else if v == -1.0 {
        Ok(INHIBITORY)
    } else {
        Err(bad_entry(name, "E/I", "+1 or -1", v, at))
    }
}

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
    /// Synapses whose sign the E/I mask changed.
    pub resigned: u64,
    /// Post neurons whose inhibitory inputs were rescaled (E/I balance).
    pub balanced: u64,
}

/// Applies every mask and constraint to the synapses in `scope`: removes
/// what the sparsity mask or the self-connection rule forbids, gives each
/// synapse the sign of the E/I mask, zeroes weights of the wrong sign when
/// the store keeps Dale's law, sets plasticity factors from the plasticity
/// mask, and rebalances the post neurons touched when balance is on.
/// `recurrent`: pre and post are the same population.
pub fn enforce(store: &mut SynapseStore, masks: &Masks, recurrent: bool, scope: Scope<'_>) -> Enforced {
    let mut done = Enforced::default();
    let mut touched_posts: Vec<u32> = Vec::new();
    let one = |store: &mut SynapseStore, k: usize, pre: u32, post: u32, done: &mut Enforced| {
        if store.sign[k] == REMOVED {
            return;
        }
        if !masks.allows(pre, post, recurrent) {
            store.remove(k);
            done.removed += 1;
            return;
        }
        if let Some(sm) = &masks.signs {
            let s = sm.sign(pre, post);
            if store.sign[k] != s {
                store.sign[k] = s;
                done.resigned += 1;
            }
        }
        if store.dale {
            let w = constrain_sign(store.weight[k], store.sign[k]);
            if w != store.weight[k] {
                store.weight[k] = w;
                done.zeroed += 1;
            }
        }
        if let Some(pm) = &masks.plasticity {
            let len = store.len();
            store.plasticity.set(k, pm.get(post, pre), len);
        }
    };
    match scope {
        Scope::All => {
            for r in 0..store.rows() {
                for k in store.row(r) {
                    let (pre, post) = store.pair(k);
                    one(store, k, pre, post, &mut done);
                }
            }
        }
        Scope::Slots(slots) => {
            for &k in slots {
                if k < store.len() {
                    let (pre, post) = store.pair(k);
                    one(store, k, pre, post, &mut done);
                    if masks.balance {
                        touched_posts.push(post);
                    }
                }
            }
        }
    }
    if masks.balance {
        done.balanced = match scope {
            Scope::All => balance(store, None),
            Scope::Slots(_) => {
                touched_posts.sort_unstable();
                touched_posts.dedup();
                balance(store, Some(&touched_posts))
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
                store.weight[k] = (f64::from(store.weight[k]) * f) as f32;
            }
        }
    }
    factor.iter().filter(|f| f.is_some()).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projection::Column;
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
        assert!(st.sign.iter().all(|&s| s == INHIBITORY));
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
    fn mask_errors_name_shape_and_entry() {
        let a = array![[1.0f32, 0.5]];
        let e = Masks::sparsity_from("ee", a.view(), 1, 2).unwrap_err().to_string();
        assert!(e.contains("0 or 1") && e.contains("0.5") && e.contains("pre 1"), "{e}");
        let e = Masks::sparsity_from("ee", a.view(), 2, 2).unwrap_err().to_string();
        assert!(e.contains("2 x 2") && e.contains("1 x 2"), "{e}");
        let e = Masks::factors_from("ee", "growth", array![[1.5f32]].view(), 1, 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("growth") && e.contains("[0, 1]"), "{e}");
        let e = Masks::signs_per_pre("ee", &[1.0, 0.0], 2).unwrap_err().to_string();
        assert!(e.contains("+1 or -1"), "{e}");
        assert!(Masks::signs_per_pre("ee", &[1.0], 2).is_err());
    }

    #[test]
    fn growth_probability_respects_sparsity() {
        let m = Masks {
            sparsity: Some(Masks::sparsity_from("p", array![[1.0f32, 0.0]].view(), 1, 2).unwrap()),
            growth: Some(Masks::factors_from("p", "growth", array![[0.25f32, 0.5]].view(), 1, 2).unwrap()),
            ..Masks::default()
        };
        assert_eq!(m.growth_probability(0, 0, false), 0.25);
        assert_eq!(m.growth_probability(1, 0, false), 0.0);
    }
}
