//! Spiking populations and sources: Poisson and spike-time sources, drives, then the neuron model's step in parallel chunks.

use super::*;
use crate::model::Derived;
use crate::model::Params;
use crate::model::SpikingState;
use crate::model::{self, ModelKind, StateChunk, StepInput};
use crate::population::PoissonDrive;
use crate::population::{Population, PopulationState};
use crate::rng;
use crate::rng::Stream;
use rayon::prelude::*;

/// Advances spiking population or source `pop` by step `step` of `dt` ms.
pub fn update_spiking(pop: &mut Population, step: u64, dt: f64) {
    pop.spikes.clear();
    let n = pop.size;
    let Population {
        model,
        params,
        derived,
        state,
        current,
        drives,
        drive_tables,
        rngs,
        ring,
        spike_scratch,
        ..
    } = pop;
    match state {
        PopulationState::Poisson => {
            let rate = &params[0];
            spike_scratch
                .par_iter_mut()
                .zip(rngs.par_iter_mut())
                .enumerate()
                .for_each(|(c, (out, rng))| {
                    out.clear();
                    let start = c * NEURON_CHUNK;
                    let end = (start + NEURON_CHUNK).min(n);
                    for (i, &r) in rate[start..end].iter().enumerate() {
                        let k = rng::poisson(rng, r * dt * 1e-3);
                        out.extend(std::iter::repeat_n((start + i) as u32, k as usize));
                    }
                });
        }
        PopulationState::SpikeTimes { steps, next } => {
            spike_scratch[0].clear();
            for i in 0..n {
                while next[i] < steps[i].len() && steps[i][next[i]] <= step {
                    if steps[i][next[i]] == step {
                        spike_scratch[0].push(i as u32);
                    }
                    next[i] += 1;
                }
            }
        }
        PopulationState::Spiking(s) => {
            let (exc, inh) = ring.slot_mut(step, n);
            let derived: &Derived = derived;
            let drives: &[PoissonDrive] = drives;
            let drive_tables: &[rng::PoissonTable] = drive_tables;
            let model: &ModelKind = model;
            let params: &Params = params;
            let current: &[f64] = current;
            let delta = model.synapse() == Some(crate::model::SynapseKind::Delta);
            let body =
                |c: usize, st: StateChunk<'_>, e: &mut [f64], i: &mut [f64], out: &mut Vec<u32>, rng: &mut Stream| {
                    out.clear();
                    let len = st.v.len();
                    let offset = c * NEURON_CHUNK;
                    for (d, table) in drives.iter().zip(drive_tables) {
                        let (target, w) = if delta || d.weight >= 0.0 {
                            (&mut *e, d.weight)
                        } else {
                            (&mut *i, -d.weight)
                        };
                        for x in target.iter_mut() {
                            let k = table.sample(rng);
                            if k > 0 {
                                *x += k as f64 * w;
                            }
                        }
                    }
                    model::step_spiking(
                        model,
                        params,
                        derived,
                        offset,
                        st,
                        StepInput {
                            exc: e,
                            inh: i,
                            current: &current[offset..offset + len],
                        },
                        out,
                    );
                    e.fill(0.0);
                    i.fill(0.0);
                    for k in out.iter_mut() {
                        *k += offset as u32;
                    }
                };
            let SpikingState {
                v,
                w,
                g_e,
                g_i,
                x_e,
                x_i,
                refractory,
            } = s;
            const C: usize = NEURON_CHUNK;
            // The same chunk walk, on the pool for large populations and on
            // this thread for small ones (chunks, streams and results are identical).
            macro_rules! walk_chunks {
                ($chunks:ident, $iter:ident) => {
                    v.$chunks(C)
                        .zip(w.$chunks(C))
                        .zip(g_e.$chunks(C))
                        .zip(g_i.$chunks(C))
                        .zip(x_e.$chunks(C))
                        .zip(x_i.$chunks(C))
                        .zip(refractory.$chunks(C))
                        .zip(exc.$chunks(C))
                        .zip(inh.$chunks(C))
                        .zip(spike_scratch.$iter())
                        .zip(rngs.$iter())
                        .enumerate()
                        .for_each(
                            |(c, ((((((((((v, w), g_e), g_i), x_e), x_i), refractory), e), i), out), rng))| {
                                body(
                                    c,
                                    StateChunk {
                                        v,
                                        w,
                                        g_e,
                                        g_i,
                                        x_e,
                                        x_i,
                                        refractory,
                                    },
                                    e,
                                    i,
                                    out,
                                    rng,
                                )
                            },
                        )
                };
            }
            if n >= PARALLEL_MIN {
                walk_chunks!(par_chunks_mut, par_iter_mut);
            } else {
                walk_chunks!(chunks_mut, iter_mut);
            }
        }
        PopulationState::Rate(_) => {}
    }
    for out in spike_scratch.iter() {
        pop.spikes.extend_from_slice(out);
    }
    pop.spike_count += pop.spikes.len() as u64;
    for &i in &pop.spikes {
        pop.last_spike[i as usize] = step;
    }
    if let Some(rec) = &mut pop.spike_record {
        rec.extend(pop.spikes.iter().map(|&i| (step, i)));
    }
}
