//! A projection's whole weight matrix as dense, COO or CSR, read and written (scipy's layouts, post x pre as `W` in `y = W r`).

use super::error::{ProjectionError, ProjectionResult as Result};
use super::*;
use crate::connect::Polarity;
use crate::mask::Enforced;
use crate::mask::Masks;
use ndarray::ArrayView2;

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
            return Err(ProjectionError::BadCsr(format!(
                "indptr of length {} (want {}) ending at {:?}, {} indices, {} values do not fit together",
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

impl Csr {
    /// The live synapses of a store as a post x pre CSR matrix (rows sorted
    /// by pre; multapses kept as separate entries).
    pub fn of_store(s: &SynapseStore) -> Csr {
        let (n_post, n_pre) = (s.n_post as usize, s.n_pre as usize);
        let post_major = match s.major {
            Major::Post => None,
            Major::Pre => Some(s.transposed().0),
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
                    csr.indices.push(t.minor.get(k));
                    csr.data.push(t.weight[k]);
                }
            }
            csr.indptr.push(csr.data.len() as u64);
        }
        csr
    }
}

/// The entries a dense post x pre write `w` sets on `store`: one per live
/// pair (its first synapse), then one per nonzero entry without a synapse.
pub(crate) fn dense_entries(s: &SynapseStore, projection: &str, w: ArrayView2<f32>) -> Result<Vec<(u32, u32, f32)>> {
    let (n_post, n_pre) = (s.n_post as usize, s.n_pre as usize);
    if w.dim() != (n_post, n_pre) {
        return Err(ProjectionError::WrongShape {
            projection: projection.to_string(),
            what: "weight matrix",
            n_post,
            n_pre,
            rows: w.nrows(),
            cols: w.ncols(),
        });
    }
    if let Some(((r, c), v)) = w.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(ProjectionError::NotFiniteEntry {
            projection: projection.to_string(),
            post: r,
            pre: c,
            value: *v,
        });
    }
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
    Ok(entries)
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

/// Whether a new synapse `pre -> post` of weight `w` may be created in `p`
/// (`exists`: the pair already has a synapse): the masks must allow it, a
/// second synapse needs multapses, and under Dale's law a nonzero weight must
/// have the sign the synapse gets. Returns that sign.
pub(crate) fn admit(
    p: &Projection,
    pre_polarity: &[Polarity],
    pre: u32,
    post: u32,
    w: f32,
    exists: bool,
) -> Result<Sign> {
    let name = &p.name;
    if !p.masks.allows(pre, post, p.recurrent) {
        return Err(ProjectionError::Forbidden {
            projection: name.clone(),
            pre,
            post,
        });
    }
    if exists && !p.spec.multapses {
        return Err(ProjectionError::Multapse {
            projection: name.clone(),
            pre,
            post,
        });
    }
    let sign = new_sign(&p.masks, pre_polarity, pre, post, w);
    if p.store.dale && crate::projection::constrain_sign(w, sign) == 0.0 && w != 0.0 {
        return Err(ProjectionError::WrongSign {
            projection: name.clone(),
            pre,
            weight: w,
        });
    }
    Ok(sign)
}

/// The sign a new synapse gets: the E/I mask's, else the pre neuron's
/// polarity, else the weight's own.
pub(crate) fn new_sign(masks: &Masks, pre_polarity: &[Polarity], pre: u32, post: u32, w: f32) -> Sign {
    match (&masks.signs, pre_polarity.get(pre as usize)) {
        (Some(m), _) => m.sign(pre, post),
        (None, Some(Polarity::Excitatory)) => EXCITATORY,
        (None, Some(Polarity::Inhibitory)) => INHIBITORY,
        _ if w < 0.0 => INHIBITORY,
        _ => EXCITATORY,
    }
}

pub(crate) fn check_finite(projection: &str, w: f32) -> Result<()> {
    if w.is_finite() {
        Ok(())
    } else {
        Err(ProjectionError::NotFinite {
            projection: projection.to_string(),
            weight: w,
        })
    }
}

pub(crate) fn no_synapse(projection: &str, pre: u32, post: u32) -> ProjectionError {
    ProjectionError::NoSynapse {
        projection: projection.to_string(),
        pre,
        post,
    }
}
