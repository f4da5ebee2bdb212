//! Gradient training of rate networks: backpropagation through time over
//! batched trials, nn4n's constraints, losses, regularizers, optimizers and
//! task generators. No autodiff framework: the CTRNN's backward pass is
//! written out (`backward.rs`), and checked against finite differences.
//!
//! One iteration ([`train_step`]): forward with noise (`tape.rs`), loss on
//! the readout and regularizers (`loss.rs`), BPTT (`backward.rs`), the
//! plasticity mask scales the gradient, clipping and the optimizer step
//! (`optim.rs`), then sparsity and Dale's law are enforced (`constrain.rs`),
//! as nn4n 1.1.1's `apply_plasticity` / `enforce_constraints`.
//!
//! Files: [`Real`] (`real.rs`), [`RateGraph`] (`graph.rs`), [`forward`],
//! [`Tape`] (`tape.rs`), [`backward`], [`Grads`] (`backward.rs`),
//! [`Objective`], [`Regularizer`] (`loss.rs`), [`Optimizer`] (`optim.rs`),
//! [`PerceptualDecision`] (`task.rs`), [`Trainer`] (`trainer.rs`), the
//! `cortecs train` scene and run ([`TrainScene`], [`run_training`], `run.rs`),
//! PNG line charts (`plot.rs`).

mod backward;
mod constrain;
mod graph;
mod loss;
mod optim;
mod plot;
mod real;
mod run;
mod tape;
mod task;
mod tasks;
mod trainer;

pub use backward::*;
pub use constrain::*;
pub use graph::*;
pub use loss::*;
pub use optim::*;
pub use plot::*;
pub use real::*;
pub use run::*;
pub use tape::{Noise, Tape, activate, derivative, forward, output};
pub use task::*;
pub use tasks::*;
pub use trainer::*;

use crate::error::Result;
use ndarray::Array3;

/// The loss of one batch, in parts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossParts {
    /// The objective (MSE or cross-entropy) alone.
    pub objective: f64,
    /// The sum of the regularizers.
    pub regularizers: f64,
}

impl LossParts {
    /// Objective plus regularizers.
    pub fn total(&self) -> f64 {
        self.objective + self.regularizers
    }
}

/// Forward pass, loss and BPTT on one batch: the loss, the gradients (before
/// any mask) and the output (steps, batch, n_out).
pub fn loss_and_grad<F: Real>(
    g: &mut RateGraph<F>,
    u: &Array3<F>,
    objective: &Objective<F>,
    regs: &[Regularizer],
    noise: Noise,
) -> Result<(LossParts, Grads<F>, Array3<F>)> {
    let tape = forward(g, u, noise)?;
    let y = output(g, &tape);
    let (value, dy) = objective.value_grad(&y)?;
    let mut gr: Vec<Option<Array3<F>>> = vec![None; g.pops.len()];
    let mut col = 0;
    for &p in &g.readout {
        let n = g.pops[p].size;
        let e = gr[p].get_or_insert_with(|| Array3::zeros((n, tape.steps + 1, tape.batch)));
        for i in 0..n {
            for t in 0..tape.steps {
                for b in 0..tape.batch {
                    e[[i, t + 1, b]] += dy[[t, b, col + i]];
                }
            }
        }
        col += n;
    }
    let mut extra = Grads::zeros(g);
    let reg = regularize(g, &tape, regs, &mut extra, &mut gr)?;
    let mut grads = backward(g, &tape, &gr);
    for (a, b) in grads.slices_mut().into_iter().zip(extra.slices()) {
        for (x, &y) in a.iter_mut().zip(b) {
            *x += y;
        }
    }
    let parts = LossParts {
        objective: value.f64(),
        regularizers: reg,
    };
    Ok((parts, grads, y))
}

/// The trained parameter arrays of `g` as flat slices, in the order of [`Grads::slices`].
pub fn params_mut<F: Real>(g: &mut RateGraph<F>) -> Vec<&mut [F]> {
    let mut out: Vec<&mut [F]> = Vec::new();
    out.extend(
        g.projs
            .iter_mut()
            .filter(|q| q.trainable)
            .map(|q| q.w.as_slice_mut().expect("standard layout")),
    );
    let trained = |p: &TrainPop<F>, what: usize| {
        !p.input
            && match what {
                0 => p.train_bias,
                1 => p.train_alpha,
                _ => p.init == InitState::Learn,
            }
    };
    let mut bias = Vec::new();
    let mut alpha = Vec::new();
    let mut v0 = Vec::new();
    for p in g.pops.iter_mut() {
        let (b, a, v) = (trained(p, 0), trained(p, 1), trained(p, 2));
        if b {
            bias.push(p.bias.as_slice_mut().expect("standard layout"));
        }
        if a {
            alpha.push(p.alpha.as_slice_mut().expect("standard layout"));
        }
        if v {
            v0.push(p.v0.as_slice_mut().expect("standard layout"));
        }
    }
    out.extend(bias);
    out.extend(alpha);
    out.extend(v0);
    out
}

/// One training iteration on a batch: loss and gradients with noise on,
/// plasticity mask, (clipping and) optimizer step, then sparsity and Dale
/// enforced; trained alphas are kept in (0, 1]. Returns the loss before the step.
pub fn train_step<F: Real>(
    g: &mut RateGraph<F>,
    opt: &mut Optimizer,
    u: &Array3<F>,
    objective: &Objective<F>,
    regs: &[Regularizer],
    noise: Noise,
) -> Result<(LossParts, Array3<F>)> {
    let (parts, mut grads, y) = loss_and_grad(g, u, objective, regs, noise)?;
    apply_plasticity(g, &mut grads);
    {
        let mut params = params_mut(g);
        let mut gs = grads.slices_mut();
        opt.step(&mut params, &mut gs)?;
    }
    enforce(g);
    for p in &mut g.pops {
        if p.train_alpha {
            p.alpha.mapv_inplace(|a| a.max(F::of(1e-6)));
            p.alpha.mapv_inplace(|a| if a > F::one() { F::one() } else { a });
        }
    }
    Ok((parts, y))
}
