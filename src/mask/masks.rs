//! The masks of one projection: sparsity, E/I signs, plasticity, growth, and the flags.

use super::MaskError;
type Result<T> = std::result::Result<T, super::MaskError>;
use crate::store::{EXCITATORY, INHIBITORY, Sign};
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
        return Err(MaskError::WrongShape {
            name: name.to_string(),
            what: what.to_string(),
            expected: (n_post, n_pre),
            got: a.dim(),
        });
    }
    Ok(())
}

fn bad_entry(name: &str, what: &str, rule: &'static str, value: f32, (post, pre): (usize, usize)) -> MaskError {
    MaskError::OutOfRange {
        name: name.to_string(),
        what: what.to_string(),
        rule,
        value,
        post,
        pre,
    }
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
            return Err(MaskError::WrongLength {
                name: name.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

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
