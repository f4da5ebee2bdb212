//! Rate units: `W r` from every incoming projection, then the Euler step
//! `v <- (1 - dt/tau) v + dt/tau (I + b)`, noise and the activation (nn4n's CTRNN).

use super::*;
use crate::model::{ModelKind, fast_tanh};
use crate::population::{Population, PopulationState, RateState};
use crate::projection::Projection;
use crate::rng::Stream;
use rayon::prelude::*;

/// Updates rate population `p`: `W r` of every projection onto it (its own
/// previous output for a recurrent one), then the Euler step, noise and
/// activation, over fixed chunks of [`NEURON_CHUNK`] units.
pub fn update_rate(populations: &mut [Population], projections: &[Projection], p: usize, dt: f64) {
    let mut state = match std::mem::replace(&mut populations[p].state, PopulationState::Poisson) {
        PopulationState::Rate(s) => s,
        other => {
            populations[p].state = other;
            return;
        }
    };
    let b = state.batch;
    state.acc.copy_from_slice(&state.input);
    for proj in projections.iter().filter(|q| q.post == p) {
        let pre_r: &[f32] = if proj.pre == p {
            &state.r
        } else {
            match &populations[proj.pre].state {
                PopulationState::Rate(s) if s.batch == b => &s.r,
                _ => continue,
            }
        };
        match &proj.dense {
            Some(w) => dense_rate_input(w, pre_r, b, &mut state.acc),
            None => rate_input(&proj.store, pre_r, b, &mut state.acc),
        }
    }
    let pop = &mut populations[p];
    let ModelKind::Rate { activation } = pop.model else {
        return;
    };
    let tau = &pop.params[0];
    let bias = &pop.params[1];
    let dt = dt as f32;
    let (pre_noise, post_noise) = (pop.pre_noise as f32, pop.post_noise as f32);
    let per_chunk = NEURON_CHUNK * b;
    let rngs = &mut pop.rngs;
    let RateState { v, r, acc, .. } = &mut state;
    let body = |c: usize, v: &mut [f32], r: &mut [f32], acc: &[f32], rng: &mut Stream| {
        // v <- (1 - a) v + a (I + b), neuron by neuron over the contiguous batch
        if b == 1 {
            // one trial: a flat loop the compiler vectorises (same operations as below)
            let off = c * NEURON_CHUNK;
            let (tau, bias) = (&tau[off..off + v.len()], &bias[off..off + v.len()]);
            for (((v, &a), &t), &bi) in v.iter_mut().zip(acc).zip(tau).zip(bias) {
                let alpha = dt / t as f32;
                let (keep, drive) = (1.0 - alpha, alpha * bi as f32);
                *v = keep * *v + alpha * a + drive;
            }
        } else {
            for (k, (v, acc)) in v.chunks_mut(b).zip(acc.chunks(b)).enumerate() {
                let i = c * NEURON_CHUNK + k;
                let alpha = dt / tau[i] as f32;
                let (keep, drive) = (1.0 - alpha, alpha * bias[i] as f32);
                for (v, &a) in v.iter_mut().zip(acc) {
                    *v = keep * *v + alpha * a + drive;
                }
            }
        }
        if pre_noise > 0.0 {
            for v in v.iter_mut() {
                *v += pre_noise * crate::rng::standard_normal(rng) as f32;
            }
        }
        apply_activation(activation, v, r);
        if post_noise > 0.0 {
            for r in r.iter_mut() {
                *r += post_noise * crate::rng::standard_normal(rng) as f32;
            }
        }
    };
    if v.len() >= PARALLEL_MIN {
        v.par_chunks_mut(per_chunk)
            .zip(r.par_chunks_mut(per_chunk))
            .zip(acc.par_chunks(per_chunk))
            .zip(rngs.par_iter_mut())
            .with_min_len(PARALLEL_MIN / per_chunk.max(1) + 1)
            .enumerate()
            .for_each(|(c, (((v, r), acc), rng))| body(c, v, r, acc, rng));
    } else {
        // small populations (an agent's brain) on this thread: same chunks, same streams
        v.chunks_mut(per_chunk)
            .zip(r.chunks_mut(per_chunk))
            .zip(acc.chunks(per_chunk))
            .zip(rngs.iter_mut())
            .enumerate()
            .for_each(|(c, (((v, r), acc), rng))| body(c, v, r, acc, rng));
    }
    pop.state = PopulationState::Rate(state);
}

/// `r = f(v)` elementwise, with the activation chosen once per slice so the loop vectorises.
fn apply_activation(activation: crate::model::Activation, v: &[f32], r: &mut [f32]) {
    use crate::model::Activation::*;
    fn map(v: &[f32], r: &mut [f32], f: impl Fn(f32) -> f32) {
        for (r, &v) in r.iter_mut().zip(v) {
            *r = f(v);
        }
    }
    match activation {
        Relu => map(v, r, |x| x.max(0.0)),
        Tanh => map(v, r, fast_tanh),
        Retanh => map(v, r, |x| fast_tanh(x).max(0.0)),
        Identity => r.copy_from_slice(v),
        other => map(v, r, |x| other.apply(x)),
    }
}
