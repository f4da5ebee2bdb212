//! The rate kernels: Hebbian, Oja, BCM, PES and synaptic scaling of rate
//! units, on a post-major store (row `j` = the inputs of post neuron `j`).
//!
//! They run after the step's neuron updates, with the rates of that step;
//! the next step's `W r` reads the new weights. With a batch of trials the
//! weight change is the mean over trials (as a gradient over a batch is).
//! Every change is `dt` (ms) times the rule's `dw/dt`, scaled by the
//! synapse's learning factor and bounded (see [`Learning`]).

use super::spiking::{Bounds, Synapses, scaling_factor};
use super::*;
use crate::store::SynapseStore;

/// The rates a rate rule reads: `r[i * batch + b]`.
#[derive(Clone, Copy, Debug)]
pub struct Rates<'a> {
    /// Pre rates.
    pub pre: &'a [f32],
    /// Post rates.
    pub post: &'a [f32],
    /// Trials per step.
    pub batch: usize,
    /// The error population's rates (PES with `ErrorSource::Population`).
    pub error: Option<&'a [f32]>,
}

fn mean(batch: usize, f: impl Fn(usize) -> f64) -> f64 {
    if batch == 1 {
        return f(0);
    }
    (0..batch).map(f).sum::<f64>() / batch as f64
}

/// One step of every rate rule of `plastic` (`dt` ms).
pub fn learn_rates(plastic: &mut Plastic, store: &mut SynapseStore, rates: Rates<'_>, dt: f64, log: bool) {
    let dale = store.dale;
    let Plastic { learners, changed, .. } = plastic;
    for l in learners.iter_mut() {
        let mut log = log.then_some(&mut *changed);
        learn(l, store, rates, dt, dale, &mut log);
    }
}

/// Changes every learning synapse of row `j` by its factor times `dw(pre, e)`.
#[inline]
fn each_in_row(
    syn: &mut Synapses<'_>,
    b: &Bounds,
    j: usize,
    log: &mut Option<&mut Vec<usize>>,
    mut dw: impl FnMut(usize, f64) -> f64,
) {
    for k in syn.row_ptr[j] as usize..syn.row_ptr[j + 1] as usize {
        let f = syn.factor(k);
        if f == 0.0 {
            continue;
        }
        let i = syn.minor.get(k) as usize;
        syn.nudge(b, k, |e| f * dw(i, e));
        if let Some(log) = log.as_deref_mut() {
            log.push(k);
        }
    }
}

fn learn(
    l: &mut Learner,
    store: &mut SynapseStore,
    r: Rates<'_>,
    dt: f64,
    dale: bool,
    log: &mut Option<&mut Vec<usize>>,
) {
    let b = Bounds::of(&l.learning, dale);
    let n_post = store.n_post as usize;
    let bt = r.batch.max(1);
    let pre = |i: usize, t: usize| f64::from(r.pre[i * bt + t]);
    let post = |j: usize, t: usize| f64::from(r.post[j * bt + t]);
    let mut syn = Synapses::of(store);
    match &l.learning.rule {
        Rule::Hebbian(h) => {
            for j in 0..n_post {
                each_in_row(&mut syn, &b, j, log, |i, e| {
                    dt * (h.eta * mean(bt, |t| post(j, t) * pre(i, t)) - h.decay * e)
                });
            }
        }
        Rule::Oja(o) => {
            for j in 0..n_post {
                each_in_row(&mut syn, &b, j, log, |i, e| {
                    dt * o.eta * mean(bt, |t| post(j, t) * (pre(i, t) - post(j, t) * e))
                });
            }
        }
        Rule::Bcm(c) => {
            let theta = &mut l.post[0];
            for (j, &th) in theta.iter().enumerate() {
                each_in_row(&mut syn, &b, j, log, |i, _| {
                    dt * c.eta * mean(bt, |t| pre(i, t) * post(j, t) * (post(j, t) - th))
                });
            }
            let k = dt / c.tau_theta;
            for (j, th) in theta.iter_mut().enumerate() {
                *th += k * (mean(bt, |t| post(j, t) * post(j, t)) - *th);
            }
        }
        Rule::Pes(p) => {
            let host = &l.error;
            let err = |j: usize, t: usize| match r.error {
                Some(e) => f64::from(e[j * bt + t]),
                None => f64::from(host[j * bt + t]),
            };
            for j in 0..n_post {
                each_in_row(&mut syn, &b, j, log, |i, _| {
                    -dt * p.eta * mean(bt, |t| err(j, t) * pre(i, t))
                });
            }
        }
        Rule::Scaling(s) => {
            let nu = &mut l.post[0];
            let k = dt / s.tau_rate;
            for (j, x) in nu.iter_mut().enumerate() {
                *x += k * (mean(bt, |t| post(j, t)) - *x);
            }
            l.since += 1;
            if (l.since as f64 * dt) < s.every * (1.0 - 1e-9) {
                return;
            }
            l.since = 0;
            for (j, &x) in nu.iter().enumerate() {
                let g = scaling_factor(s, x);
                each_in_row(&mut syn, &b, j, log, |_, e| (g - 1.0) * e);
            }
        }
        Rule::Stdp(_) | Rule::Triplet(_) | Rule::RewardStdp(_) => {}
    }
}
