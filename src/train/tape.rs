//! The forward pass of a [`RateGraph`] over a batch of trials, keeping what
//! backpropagation through time needs (the tape): `v`, `f(v)` and `r` of
//! every population at every step.

use super::{InitState, RateGraph, Real};
use crate::error::{CortecsError, Result};
use crate::linalg::mat_mul_into;
use crate::model::Activation;
use crate::rng::{Stream, standard_normal};
use ndarray::{Array2, Array3, ArrayView2, ArrayViewMut2, ShapeBuilder};

/// Whether and how noise is drawn in a forward pass: training draws it from
/// streams keyed by (seed, population, iteration); evaluation has none (nn4n's eval mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Noise {
    /// No noise (evaluation).
    Off,
    /// Noise of the populations' `sigma_pre` / `sigma_post`, from these keys.
    On {
        /// The run's seed.
        seed: u64,
        /// The iteration (the stream's chunk key).
        iteration: u64,
    },
}

/// Everything one forward pass computed, per population as (units, steps + 1,
/// batch) arrays; index 0 of the time axis is the initial state.
#[derive(Clone, Debug)]
pub struct Tape<F: Real> {
    /// Steps `T`.
    pub steps: usize,
    /// Trials `B`.
    pub batch: usize,
    /// `v` per population.
    pub v: Vec<Array3<F>>,
    /// `f(v)` per population.
    pub fv: Vec<Array3<F>>,
    /// `r = f(v) + sigma_post eps` where there is post noise (else `r = f(v)`).
    pub r_noisy: Vec<Option<Array3<F>>>,
}

impl<F: Real> Tape<F> {
    /// The rates of population `p` (units, steps + 1, batch).
    pub fn r(&self, p: usize) -> &Array3<F> {
        self.r_noisy[p].as_ref().unwrap_or(&self.fv[p])
    }
}

/// `f(v)` in the run's float type (tanh is the engine's `fast_tanh` in f32).
#[inline(always)]
pub fn activate<F: Real>(a: Activation, v: F) -> F {
    match a {
        Activation::Relu => v.max(F::zero()),
        Activation::Tanh => v.tanh(),
        Activation::Sigmoid => F::one() / (F::one() + (F::zero() - v).exp()),
        Activation::Retanh => v.tanh().max(F::zero()),
        Activation::Softplus => {
            if v > F::of(20.0) {
                v
            } else {
                (F::one() + v.exp()).ln()
            }
        }
        Activation::Identity => v,
    }
}

/// `f'(v)` from `v` and `fv = f(v)`.
#[inline(always)]
pub fn derivative<F: Real>(a: Activation, v: F, fv: F) -> F {
    match a {
        Activation::Relu => {
            if v > F::zero() {
                F::one()
            } else {
                F::zero()
            }
        }
        Activation::Tanh => F::one() - fv * fv,
        Activation::Sigmoid => fv * (F::one() - fv),
        Activation::Retanh => {
            if v > F::zero() {
                F::one() - fv * fv
            } else {
                F::zero()
            }
        }
        Activation::Softplus => {
            if v > F::of(20.0) {
                F::one()
            } else {
                F::one() / (F::one() + (F::zero() - v).exp())
            }
        }
        Activation::Identity => F::one(),
    }
}

/// Columns `t0 .. t0 + nt` of a (units, steps + 1, batch) tape as a (units, nt * batch) matrix.
/// Runs `$body` once per activation kind with `$act` a constant of that
/// kind, so that each arm's loop is specialised (and vectorises).
macro_rules! per_activation {
    ($a:expr, $act:ident => $body:expr) => {
        match $a {
            Activation::Relu => {
                const $act: Activation = Activation::Relu;
                $body
            }
            Activation::Tanh => {
                const $act: Activation = Activation::Tanh;
                $body
            }
            Activation::Sigmoid => {
                const $act: Activation = Activation::Sigmoid;
                $body
            }
            Activation::Retanh => {
                const $act: Activation = Activation::Retanh;
                $body
            }
            Activation::Softplus => {
                const $act: Activation = Activation::Softplus;
                $body
            }
            Activation::Identity => {
                const $act: Activation = Activation::Identity;
                $body
            }
        }
    };
}

/// `out[i] = f(xs[i])`: one loop per activation, so that each vectorises.
#[inline]
pub fn activate_into<F: Real>(a: Activation, xs: &[F], out: &mut [F]) {
    per_activation!(a, ACT => {
        for (o, &x) in out.iter_mut().zip(xs) {
            *o = activate(ACT, x);
        }
    })
}

/// `out[i] = f'(v[i])` given `fv[i] = f(v[i])`: one loop per activation.
#[inline]
pub fn derivative_into<F: Real>(a: Activation, v: &[F], fv: &[F], out: &mut [F]) {
    per_activation!(a, ACT => {
        for ((o, &x), &f) in out.iter_mut().zip(v).zip(fv) {
            *o = derivative(ACT, x, f);
        }
    })
}

pub(crate) fn cols<F: Real>(a: &Array3<F>, t0: usize, nt: usize) -> ArrayView2<'_, F> {
    let (n, t1, b) = a.dim();
    let data = a.as_slice().expect("tapes are standard layout");
    ArrayView2::from_shape((n, nt * b).strides((t1 * b, 1)), &data[(t0 * b).min(data.len())..])
        .expect("t0 + nt <= steps + 1")
}

/// The mutable version of [`cols`].
pub(crate) fn cols_mut<F: Real>(a: &mut Array3<F>, t0: usize, nt: usize) -> ArrayViewMut2<'_, F> {
    let (n, t1, b) = a.dim();
    let data = a.as_slice_mut().expect("tapes are standard layout");
    let start = (t0 * b).min(data.len());
    ArrayViewMut2::from_shape((n, nt * b).strides((t1 * b, 1)), &mut data[start..]).expect("t0 + nt <= steps + 1")
}

/// The time offset of a projection's pre rates: 0 (same step) when the pre
/// population updates before the post one, else 1 (the previous step).
pub(crate) fn lag(pre: usize, post: usize) -> usize {
    usize::from(pre >= post)
}

/// Runs the graph on input `u` (steps, batch, n_in) and returns the tape.
/// Populations with [`InitState::Keep`] keep their last state per trial.
pub fn forward<F: Real>(g: &mut RateGraph<F>, u: &Array3<F>, noise: Noise) -> Result<Tape<F>> {
    g.validate()?;
    let (steps, batch, n_in) = u.dim();
    if n_in != g.n_in() {
        return Err(CortecsError::WrongLength {
            context: "train: input u (steps, batch, n_in) channels".into(),
            expected: g.n_in(),
            got: n_in,
        });
    }
    if steps == 0 || batch == 0 {
        return Err(CortecsError::InvalidRequest(format!(
            "train: input u has shape {:?}: needs at least one step and one trial",
            u.dim()
        )));
    }
    let t1 = steps + 1;
    let np = g.pops.len();
    let mut v: Vec<Array3<F>> = g.pops.iter().map(|p| Array3::zeros((p.size, t1, batch))).collect();
    let mut fv: Vec<Array3<F>> = v.clone();
    let mut r_noisy: Vec<Option<Array3<F>>> = vec![None; np];
    // initial state and inputs
    let mut col = 0;
    for (p, pop) in g.pops.iter().enumerate() {
        if pop.input {
            for i in 0..pop.size {
                for t in 0..steps {
                    for b in 0..batch {
                        v[p][[i, t + 1, b]] = u[[t, b, col + i]];
                    }
                }
            }
            col += pop.size;
            fv[p].assign(&v[p]);
            continue;
        }
        for i in 0..pop.size {
            for b in 0..batch {
                let v0 = match pop.init {
                    InitState::Zero => F::zero(),
                    InitState::Learn => pop.v0[i],
                    InitState::Keep => match &pop.kept {
                        Some(k) if k.dim() == (pop.size, batch) => k[[i, b]],
                        Some(k) => {
                            return Err(CortecsError::InvalidRequest(format!(
                                "train: population '{}' keeps the state of {} trials, the input has {batch}",
                                pop.name,
                                k.ncols()
                            )));
                        }
                        None => F::zero(),
                    },
                };
                v[p][[i, 0, b]] = v0;
                fv[p][[i, 0, b]] = activate(pop.activation, v0);
            }
        }
        if pop.sigma_post > 0.0 && noise != Noise::Off {
            r_noisy[p] = Some(Array3::zeros((pop.size, t1, batch)));
            if let Some(r) = r_noisy[p].as_mut() {
                r.slice_mut(ndarray::s![.., 0, ..])
                    .assign(&fv[p].slice(ndarray::s![.., 0, ..]));
            }
        }
    }
    // drive from input populations, all steps in one product per projection
    let mut drive: Vec<Option<Array3<F>>> = vec![None; np];
    for q in &g.projs {
        if !g.pops[q.pre].input {
            continue;
        }
        let d = drive[q.post].get_or_insert_with(|| Array3::zeros((g.pops[q.post].size, t1, batch)));
        let off = lag(q.pre, q.post);
        let src = cols(&v[q.pre], 1 - off, steps);
        mat_mul_into(&q.w.view(), &src, &mut cols_mut(d, 1, steps), true);
    }
    let mut streams: Vec<(Stream, Stream)> = g
        .pops
        .iter()
        .map(|p| {
            let it = match noise {
                Noise::On { iteration, .. } => iteration,
                Noise::Off => 0,
            };
            let seed = match noise {
                Noise::On { seed, .. } => seed,
                Noise::Off => 0,
            };
            (
                Stream::keyed(seed, &p.name, "train_noise_pre", it),
                Stream::keyed(seed, &p.name, "train_noise_post", it),
            )
        })
        .collect();
    let mut acc: Vec<Array2<F>> = g.pops.iter().map(|p| Array2::zeros((p.size, batch))).collect();
    for t in 1..=steps {
        for p in 0..np {
            let pop = &g.pops[p];
            if pop.input {
                continue;
            }
            let a = &mut acc[p];
            match &drive[p] {
                Some(d) => a.assign(&d.slice(ndarray::s![.., t, ..])),
                None => a.fill(F::zero()),
            }
            for q in g.projs.iter().filter(|q| q.post == p && !g.pops[q.pre].input) {
                let src_t = t - lag(q.pre, p);
                let rs = r_noisy[q.pre].as_ref().unwrap_or(&fv[q.pre]);
                let src = rs.slice(ndarray::s![.., src_t, ..]);
                mat_mul_into(&q.w.view(), &src, &mut a.view_mut(), true);
            }
            let sig_pre = if noise == Noise::Off { 0.0 } else { pop.sigma_pre };
            let sig_post = if noise == Noise::Off { 0.0 } else { pop.sigma_post };
            let (pre_rng, post_rng) = &mut streams[p];
            let vp = v[p].as_slice_mut().expect("standard layout");
            let fp = fv[p].as_slice_mut().expect("standard layout");
            let mut rp = r_noisy[p].as_mut().map(|r| r.as_slice_mut().expect("standard layout"));
            let a_s = a.as_slice().expect("standard layout");
            for i in 0..pop.size {
                let al = pop.alpha[i];
                let keep = F::one() - al;
                let b_i = pop.bias[i];
                let base = i * t1 * batch;
                let (prev, cur) = vp[base + (t - 1) * batch..base + (t + 1) * batch].split_at_mut(batch);
                let a_i = &a_s[i * batch..(i + 1) * batch];
                for b in 0..batch {
                    cur[b] = keep * prev[b] + al * (a_i[b] + b_i);
                }
                if sig_pre > 0.0 {
                    for x in cur.iter_mut() {
                        *x += al * F::of(sig_pre * standard_normal(pre_rng));
                    }
                }
                let f_i = &mut fp[base + t * batch..base + (t + 1) * batch];
                activate_into(pop.activation, cur, f_i);
                if let Some(r) = rp.as_mut() {
                    let r_i = &mut r[base + t * batch..base + (t + 1) * batch];
                    for (r, &f) in r_i.iter_mut().zip(f_i.iter()) {
                        *r = f + F::of(sig_post * standard_normal(post_rng));
                    }
                }
            }
        }
    }
    for (p, pop) in g.pops.iter_mut().enumerate() {
        if pop.init == InitState::Keep {
            pop.kept = Some(v[p].slice(ndarray::s![.., steps, ..]).to_owned());
        }
    }
    Ok(Tape {
        steps,
        batch,
        v,
        fv,
        r_noisy,
    })
}

/// The output (steps, batch, n_out): the readout populations' rates, concatenated.
pub fn output<F: Real>(g: &RateGraph<F>, tape: &Tape<F>) -> Array3<F> {
    let mut y = Array3::zeros((tape.steps, tape.batch, g.n_out()));
    let mut col = 0;
    for &p in &g.readout {
        let r = tape.r(p);
        for i in 0..g.pops[p].size {
            for t in 0..tape.steps {
                for b in 0..tape.batch {
                    y[[t, b, col + i]] = r[[i, t + 1, b]];
                }
            }
        }
        col += g.pops[p].size;
    }
    y
}
