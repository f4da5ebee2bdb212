//! Backpropagation through time over a [`Tape`]: from the gradient of the
//! loss with respect to every population's rates to the gradients of the
//! weights, biases, time constants and learned initial states.

use super::tape::{cols, cols_mut, derivative, derivative_into, lag};
use super::{InitState, RateGraph, Real, Tape};
use crate::linalg::mat_mul_into;
use ndarray::{Array1, Array2, Array3, Axis};

/// Gradients of a loss, shaped like the graph's parameters (`None`: not trained).
#[derive(Clone, Debug)]
pub struct Grads<F: Real> {
    /// dL/dW per projection (post x pre).
    pub w: Vec<Option<Array2<F>>>,
    /// dL/db per population.
    pub bias: Vec<Option<Array1<F>>>,
    /// dL/dalpha per population.
    pub alpha: Vec<Option<Array1<F>>>,
    /// dL/dv0 per population (learned initial state).
    pub v0: Vec<Option<Array1<F>>>,
}

impl<F: Real> Grads<F> {
    /// Zero gradients for every trained parameter of `g`.
    pub fn zeros(g: &RateGraph<F>) -> Self {
        let trainable_pop = |p: &super::TrainPop<F>| !p.input;
        Grads {
            w: g.projs
                .iter()
                .map(|q| q.trainable.then(|| Array2::zeros(q.w.dim())))
                .collect(),
            bias: g
                .pops
                .iter()
                .map(|p| (trainable_pop(p) && p.train_bias).then(|| Array1::zeros(p.size)))
                .collect(),
            alpha: g
                .pops
                .iter()
                .map(|p| (trainable_pop(p) && p.train_alpha).then(|| Array1::zeros(p.size)))
                .collect(),
            v0: g
                .pops
                .iter()
                .map(|p| (trainable_pop(p) && p.init == InitState::Learn).then(|| Array1::zeros(p.size)))
                .collect(),
        }
    }

    /// Every gradient array as a flat slice, in a fixed order (projections, then biases, alphas, initial states).
    pub fn slices(&self) -> Vec<&[F]> {
        let mut out: Vec<&[F]> = Vec::new();
        out.extend(self.w.iter().flatten().map(|a| a.as_slice().expect("standard layout")));
        for v in [&self.bias, &self.alpha, &self.v0] {
            out.extend(v.iter().flatten().map(|a| a.as_slice().expect("standard layout")));
        }
        out
    }

    /// Mutable version of [`Grads::slices`].
    pub fn slices_mut(&mut self) -> Vec<&mut [F]> {
        let mut out: Vec<&mut [F]> = Vec::new();
        out.extend(
            self.w
                .iter_mut()
                .flatten()
                .map(|a| a.as_slice_mut().expect("standard layout")),
        );
        for v in [&mut self.bias, &mut self.alpha, &mut self.v0] {
            out.extend(
                v.iter_mut()
                    .flatten()
                    .map(|a| a.as_slice_mut().expect("standard layout")),
            );
        }
        out
    }
}

/// BPTT: `gr[p]` is dL/dr of population `p` (units, steps + 1, batch) coming
/// from the loss and the rate regularizers directly (`None`: zero); returns
/// the gradients of every trained parameter.
pub fn backward<F: Real>(g: &RateGraph<F>, tape: &Tape<F>, gr: &[Option<Array3<F>>]) -> Grads<F> {
    let (steps, batch) = (tape.steps, tape.batch);
    let t1 = steps + 1;
    let np = g.pops.len();
    let mut grads = Grads::zeros(g);
    // dL/da (a = W r + b) per population and step, for one weight product per projection at the end
    let mut ga: Vec<Array3<F>> = g
        .pops
        .iter()
        .map(|p| {
            if p.input {
                Array3::zeros((0, t1, batch))
            } else {
                Array3::zeros((p.size, t1, batch))
            }
        })
        .collect();
    let zeros = |p: &super::TrainPop<F>| Array2::<F>::zeros((p.size, batch));
    let mut gr_cur: Vec<Array2<F>> = g.pops.iter().map(zeros).collect();
    let mut gr_prev: Vec<Array2<F>> = g.pops.iter().map(zeros).collect();
    let mut carry: Vec<Array2<F>> = g.pops.iter().map(zeros).collect();
    // which projections need dL/dr of their pre population
    let back: Vec<bool> = g.projs.iter().map(|q| !g.pops[q.pre].input).collect();
    // f'(v) of one neuron's trials
    let mut slope = vec![F::zero(); batch];
    let add_ext = |gr_cur: &mut [Array2<F>], t: usize| {
        for (p, e) in gr.iter().enumerate() {
            if let Some(e) = e {
                gr_cur[p] += &e.slice(ndarray::s![.., t, ..]);
            }
        }
    };
    add_ext(&mut gr_cur, steps);
    for t in (1..=steps).rev() {
        for p in (0..np).rev() {
            let pop = &g.pops[p];
            if pop.input {
                continue;
            }
            // gv = dL/dr * f'(v) + (1 - alpha) gv(t + 1); ga = alpha gv
            let (v, fv) = (&tape.v[p], &tape.fv[p]);
            let ga_t = ga[p].as_slice_mut().expect("standard layout");
            let (vs, fs) = (v.as_slice().expect("layout"), fv.as_slice().expect("layout"));
            let grs = gr_cur[p].as_slice().expect("layout");
            let cs = carry[p].as_slice_mut().expect("layout");
            let act = pop.activation;
            for i in 0..pop.size {
                let al = pop.alpha[i];
                let keep = F::one() - al;
                let k0 = (i * t1 + t) * batch;
                let (vv, ff) = (&vs[k0..k0 + batch], &fs[k0..k0 + batch]);
                let (gr_i, c_i) = (&grs[i * batch..(i + 1) * batch], &mut cs[i * batch..(i + 1) * batch]);
                let ga_i = &mut ga_t[k0..k0 + batch];
                derivative_into(act, vv, ff, &mut slope);
                for b in 0..batch {
                    let x = gr_i[b] * slope[b] + c_i[b];
                    ga_i[b] = al * x;
                    c_i[b] = keep * x;
                }
                if let Some(galpha) = grads.alpha[p].as_mut() {
                    // dv_t/dalpha = (v_t - v_{t-1}) / alpha; x = ga / alpha
                    let vprev = &vs[k0 - batch..k0];
                    let mut s = F::zero();
                    for b in 0..batch {
                        s += ga_i[b] / al * (vv[b] - vprev[b]) / al;
                    }
                    galpha[i] += s;
                }
            }
            // dL/dr of pre populations: W^T ga into this step (earlier population) or the previous one
            for (qi, q) in g.projs.iter().enumerate() {
                if q.post != p || !back[qi] {
                    continue;
                }
                let ga_view = ga[p].slice(ndarray::s![.., t, ..]);
                let target = if lag(q.pre, p) == 0 {
                    &mut gr_cur[q.pre]
                } else {
                    &mut gr_prev[q.pre]
                };
                mat_mul_into(&q.w.t(), &ga_view, &mut target.view_mut(), true);
            }
        }
        std::mem::swap(&mut gr_cur, &mut gr_prev);
        for x in &mut gr_prev {
            x.fill(F::zero());
        }
        add_ext(&mut gr_cur, t - 1);
    }
    // the initial state: gr_cur now holds dL/dr_0, carry holds (1 - alpha) gv_1
    for (p, pop) in g.pops.iter().enumerate() {
        if let Some(g0) = grads.v0[p].as_mut() {
            for i in 0..pop.size {
                let mut s = F::zero();
                for b in 0..batch {
                    let (vv, ff) = (tape.v[p][[i, 0, b]], tape.fv[p][[i, 0, b]]);
                    s = s + gr_cur[p][[i, b]] * derivative(pop.activation, vv, ff) + carry[p][[i, b]];
                }
                g0[i] = s;
            }
        }
    }
    // weights and biases: one product over all steps and trials
    for (qi, q) in g.projs.iter().enumerate() {
        if let Some(gw) = grads.w[qi].as_mut() {
            let a = cols(&ga[q.post], 1, steps);
            let r = cols(tape.r(q.pre), 1 - lag(q.pre, q.post), steps);
            mat_mul_into(&a, &r.t(), &mut gw.view_mut(), false);
        }
    }
    for (p, gb) in grads.bias.iter_mut().enumerate() {
        if let Some(gb) = gb.as_mut() {
            let a = cols_mut(&mut ga[p], 1, steps);
            gb.assign(&a.sum_axis(Axis(1)));
        }
    }
    grads
}
