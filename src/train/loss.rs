//! Losses on the output (MSE, cross-entropy, each with a mask over steps,
//! trials and outputs) and the regularizers of nn4n and PsychRNN, each with
//! its value and its gradient.

use super::{Grads, RateGraph, Real, Tape};
use crate::error::{CortecsError, Result};
use ndarray::{Array2, Array3};

/// What the output should be.
#[derive(Clone, Debug)]
pub enum Objective<F: Real> {
    /// Mean squared error `sum m (y - target)^2 / sum m` (with no mask: torch's `MSELoss`, the mean).
    Mse {
        /// Target (steps, batch, n_out).
        target: Array3<F>,
        /// Weights (steps, batch, n_out), e.g. 0 in the fixation period; `None`: all 1.
        mask: Option<Array3<F>>,
    },
    /// Cross-entropy of the softmax over the outputs at each step, against a
    /// class per (step, trial): `sum m (-log softmax(y)[label]) / sum m`
    /// (with no mask: torch's `CrossEntropyLoss` over all steps and trials).
    CrossEntropy {
        /// Class index per (step, trial).
        labels: Array2<usize>,
        /// Weights per (step, trial); `None`: all 1.
        mask: Option<Array2<F>>,
    },
}

impl<F: Real> Objective<F> {
    /// The loss of output `y` (steps, batch, n_out) and dL/dy.
    pub fn value_grad(&self, y: &Array3<F>) -> Result<(F, Array3<F>)> {
        let dim = y.dim();
        let shape_err = |what: &str, got: Vec<usize>| {
            CortecsError::InvalidRequest(format!(
                "train: loss {what} has shape {got:?}, the output is (steps, batch, n_out) = {dim:?}"
            ))
        };
        match self {
            Objective::Mse { target, mask } => {
                if target.dim() != dim {
                    return Err(shape_err("target", target.shape().to_vec()));
                }
                if let Some(m) = mask
                    && m.dim() != dim
                {
                    return Err(shape_err("mask", m.shape().to_vec()));
                }
                let total = match mask {
                    Some(m) => m.sum(),
                    None => F::of(y.len() as f64),
                };
                if total <= F::zero() {
                    return Err(CortecsError::InvalidRequest("train: loss mask is all zero".into()));
                }
                let mut grad = Array3::zeros(dim);
                let mut sum = F::zero();
                let two = F::of(2.0);
                ndarray::Zip::indexed(&mut grad).for_each(|ix, g| {
                    let m = mask.as_ref().map_or(F::one(), |m| m[ix]);
                    let d = y[ix] - target[ix];
                    sum += m * d * d;
                    *g = two * m * d / total;
                });
                Ok((sum / total, grad))
            }
            Objective::CrossEntropy { labels, mask } => {
                let (steps, batch, n_out) = dim;
                if labels.dim() != (steps, batch) {
                    return Err(shape_err("labels", labels.shape().to_vec()));
                }
                if let Some(m) = mask
                    && m.dim() != (steps, batch)
                {
                    return Err(shape_err("mask", m.shape().to_vec()));
                }
                if let Some(((t, b), l)) = labels.indexed_iter().find(|(_, l)| **l >= n_out) {
                    return Err(CortecsError::InvalidRequest(format!(
                        "train: label[{t}, {b}] = {l} but the output has {n_out} classes"
                    )));
                }
                let total = match mask {
                    Some(m) => m.sum(),
                    None => F::of((steps * batch) as f64),
                };
                if total <= F::zero() {
                    return Err(CortecsError::InvalidRequest("train: loss mask is all zero".into()));
                }
                let mut grad = Array3::zeros(dim);
                let mut sum = F::zero();
                for t in 0..steps {
                    for b in 0..batch {
                        let m = mask.as_ref().map_or(F::one(), |m| m[[t, b]]);
                        if m == F::zero() {
                            continue;
                        }
                        let mx = (0..n_out).map(|o| y[[t, b, o]]).fold(y[[t, b, 0]], |a, x| a.max(x));
                        let z: F = (0..n_out).map(|o| (y[[t, b, o]] - mx).exp()).sum();
                        let l = labels[[t, b]];
                        sum += m * (z.ln() + mx - y[[t, b, l]]);
                        for o in 0..n_out {
                            let p = (y[[t, b, o]] - mx).exp() / z;
                            let hot = if o == l { F::one() } else { F::zero() };
                            grad[[t, b, o]] = m * (p - hot) / total;
                        }
                    }
                }
                Ok((sum / total, grad))
            }
        }
    }
}

/// A regularizer with its weight `lambda`, naming the projection or population it acts on.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Regularizer {
    /// `lambda sum |W| / numel` (nn4n's normalisation by the number of entries).
    WeightL1 {
        /// Projection name.
        #[serde(deserialize_with = "crate::io::de_string")]
        projection: String,
        /// Weight of the term.
        lambda: f64,
    },
    /// `lambda ||W||_F^2 / numel` (nn4n's `lambda_in/hid/out`).
    WeightL2 {
        /// Projection name.
        #[serde(deserialize_with = "crate::io::de_string")]
        projection: String,
        /// Weight of the term.
        lambda: f64,
    },
    /// `lambda mean(r^2)` over steps, trials and units (nn4n's `lambda_fr`, PsychRNN's rate L2).
    RateL2 {
        /// Population name.
        #[serde(deserialize_with = "crate::io::de_string")]
        population: String,
        /// Weight of the term.
        lambda: f64,
    },
    /// `lambda (mean(r) - target)^2`, the mean over steps, trials and units.
    RateMean {
        /// Population name.
        #[serde(deserialize_with = "crate::io::de_string")]
        population: String,
        /// Target mean rate.
        target: f64,
        /// Weight of the term.
        lambda: f64,
    },
    /// `lambda std_i(m_i)`, the standard deviation (n - 1) over units of each
    /// unit's mean rate `m_i` over steps and trials.
    RateStd {
        /// Population name.
        #[serde(deserialize_with = "crate::io::de_string")]
        population: String,
        /// Weight of the term.
        lambda: f64,
    },
    /// `lambda std_i(m_i) / mean_i(m_i)`, the coefficient of variation of the units' mean rates.
    RateCv {
        /// Population name.
        #[serde(deserialize_with = "crate::io::de_string")]
        population: String,
        /// Weight of the term.
        lambda: f64,
    },
}

/// Adds the regularizers' values to a sum and their gradients to `grads`
/// (weights) and `gr` (dL/dr per population); returns the total value.
pub fn regularize<F: Real>(
    g: &RateGraph<F>,
    tape: &Tape<F>,
    regs: &[Regularizer],
    grads: &mut Grads<F>,
    gr: &mut [Option<Array3<F>>],
) -> Result<f64> {
    let mut total = 0.0;
    for reg in regs {
        match reg {
            Regularizer::WeightL1 { projection, lambda } | Regularizer::WeightL2 { projection, lambda } => {
                let q = g.proj(projection)?;
                let w = &g.projs[q].w;
                let n = F::of(w.len().max(1) as f64);
                let l = F::of(*lambda);
                let l1 = matches!(reg, Regularizer::WeightL1 { .. });
                let value: F = if l1 {
                    w.iter().map(|x| x.abs()).sum()
                } else {
                    w.iter().map(|&x| x * x).sum()
                };
                total += (l * value / n).f64();
                if let Some(gw) = grads.w[q].as_mut() {
                    ndarray::Zip::from(gw).and(w).for_each(|gw, &x| {
                        let d = if l1 {
                            if x > F::zero() {
                                F::one()
                            } else if x < F::zero() {
                                F::zero() - F::one()
                            } else {
                                F::zero()
                            }
                        } else {
                            F::of(2.0) * x
                        };
                        *gw += l * d / n;
                    });
                }
            }
            Regularizer::RateL2 { population, lambda } | Regularizer::RateMean { population, lambda, .. } => {
                let p = g.pop(population)?;
                let r = tape.r(p);
                let (n, t1, b) = r.dim();
                let count = F::of((n * (t1 - 1) * b).max(1) as f64);
                let l = F::of(*lambda);
                let e = gr[p].get_or_insert_with(|| Array3::zeros((n, t1, b)));
                let live = r.slice(ndarray::s![.., 1.., ..]);
                let mut ge = e.slice_mut(ndarray::s![.., 1.., ..]);
                if let Regularizer::RateMean { target, .. } = reg {
                    let mean = live.sum() / count;
                    let d = mean - F::of(*target);
                    total += (l * d * d).f64();
                    let k = F::of(2.0) * l * d / count;
                    ge.mapv_inplace(|x| x + k);
                } else {
                    let value: F = live.iter().map(|&x| x * x).sum();
                    total += (l * value / count).f64();
                    ndarray::Zip::from(&mut ge)
                        .and(&live)
                        .for_each(|e, &x| *e += F::of(2.0) * l * x / count);
                }
            }
            Regularizer::RateStd { population, lambda } | Regularizer::RateCv { population, lambda } => {
                let p = g.pop(population)?;
                let r = tape.r(p);
                let (n, t1, b) = r.dim();
                if n < 2 {
                    return Err(CortecsError::InvalidRequest(format!(
                        "train: regularizer {reg:?} needs a population of at least 2 units, '{population}' has {n}"
                    )));
                }
                let per = F::of(((t1 - 1) * b) as f64);
                let live = r.slice(ndarray::s![.., 1.., ..]);
                let m: Vec<F> = live.outer_iter().map(|u| u.sum() / per).collect();
                let nn = F::of(n as f64);
                let mu = m.iter().copied().sum::<F>() / nn;
                let var = m.iter().map(|&x| (x - mu) * (x - mu)).sum::<F>() / F::of((n - 1) as f64);
                let sd = var.sqrt();
                let l = F::of(*lambda);
                // dsd/dm_i = (m_i - mu) / ((n - 1) sd)
                let dsd: Vec<F> = m.iter().map(|&x| (x - mu) / (F::of((n - 1) as f64) * sd)).collect();
                let dm: Vec<F> = if let Regularizer::RateCv { .. } = reg {
                    if mu == F::zero() {
                        return Err(CortecsError::InvalidRequest(format!(
                            "train: regularizer RateCv: the mean rate of '{population}' is 0"
                        )));
                    }
                    total += (l * sd / mu).f64();
                    // d(sd/mu)/dm_i = dsd_i / mu - sd / (mu^2 n)
                    dsd.iter().map(|&d| l * (d / mu - sd / (mu * mu * nn))).collect()
                } else {
                    total += (l * sd).f64();
                    dsd.iter().map(|&d| l * d).collect()
                };
                let e = gr[p].get_or_insert_with(|| Array3::zeros((n, t1, b)));
                for (i, mut row) in e.outer_iter_mut().enumerate() {
                    let k = dm[i] / per;
                    row.slice_mut(ndarray::s![1.., ..]).mapv_inplace(|x| x + k);
                }
            }
        }
    }
    Ok(total)
}
