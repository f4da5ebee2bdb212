//! Spiking populations: Poisson and spike-time sources, drives and ring
//! input, and the neuron models' step (LIF, AdEx, Izhikevich) for a chunk of neurons.

use super::*;
use crate::model::{Derived, ModelKind, Params, SpikingState, StateChunk, StepInput, SynapseKind};
use crate::population::PoissonDrive;
use crate::population::{Population, PopulationState};
use crate::rng;
use crate::rng::Stream;
use rayon::prelude::*;

/// A per-neuron constant: an array, or one value for all neurons.
trait Per<T: Copy>: Copy {
    fn at(self, k: usize) -> T;
}
impl<T: Copy> Per<T> for &[T] {
    #[inline(always)]
    fn at(self, k: usize) -> T {
        self[k]
    }
}
/// One value for every neuron (the common homogeneous population: the kernel
/// then streams only the state arrays, as Brian2's generated code does).
#[derive(Clone, Copy)]
struct Same<T>(T);
impl<T: Copy> Per<T> for Same<T> {
    #[inline(always)]
    fn at(self, _: usize) -> T {
        self.0
    }
}

/// The constants the Euler membrane kernel reads.
#[derive(Clone, Copy)]
struct MemConsts<P, Q> {
    e_e: P,
    e_i: P,
    i_off: P,
    k_e: P,
    k_i: P,
    dt_c: P,
    v_reset: P,
    v_rest: P,
    v_th: P,
    g_l: P,
    d_t: P,
    v_spike: P,
    a: P,
    b: P,
    k_w: P,
    iz_d: P,
    v_peak: P,
    ref_steps: Q,
}

/// Where the membrane kernel's parameters lie in a model's parameter
/// list, looked up by name once per model (not once per chunk and step).
#[derive(Clone, Copy)]
struct Positions([Option<usize>; 12]);

/// The parameters [`Positions`] locates (Izhikevich's reset `c` stands in for `v_reset`).
const POSITION_NAMES: [&str; 12] = [
    "e_rev_e", "e_rev_i", "i_offset", "v_reset", "v_rest", "v_thresh", "delta_t", "v_spike", "a", "b", "d", "v_peak",
];

impl Positions {
    fn of(kind: &ModelKind) -> Positions {
        let izh = matches!(kind, ModelKind::Izhikevich { .. });
        Positions(POSITION_NAMES.map(|name| match name {
            "v_reset" if izh => kind.param_position("c"),
            _ => kind.param_position(name),
        }))
    }

    /// The positions for `kind`'s model (LIF, AdEx, Izhikevich), computed once.
    fn get(kind: &ModelKind) -> Positions {
        use std::sync::OnceLock;
        static CACHE: [OnceLock<Positions>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        let slot = match kind {
            ModelKind::AdEx { .. } => 1,
            ModelKind::Izhikevich { .. } => 2,
            _ => 0,
        };
        *CACHE[slot].get_or_init(|| Positions::of(kind))
    }
}

impl<'a> MemConsts<&'a [f64], &'a [u32]> {
    fn slices(kind: &ModelKind, params: &'a Params, d: &'a Derived, r: std::ops::Range<usize>) -> Self {
        let at = |i: Option<usize>| i.map(|i| &params[i][r.clone()]).unwrap_or(&[]);
        let [e_e, e_i, i_off, v_reset, v_rest, v_th, d_t, v_spike, a, b, iz_d, v_peak] = Positions::get(kind).0.map(at);
        let dk = |x: &'a [f64]| if x.is_empty() { x } else { &x[r.clone()] };
        MemConsts {
            e_e,
            e_i,
            i_off,
            k_e: dk(&d.k_e),
            k_i: dk(&d.k_i),
            dt_c: dk(&d.dt_over_cm),
            v_reset,
            v_rest,
            v_th,
            g_l: dk(&d.g_l),
            d_t,
            v_spike,
            a,
            b,
            k_w: dk(&d.k_w),
            iz_d,
            v_peak,
            ref_steps: if d.ref_steps.is_empty() {
                &[]
            } else {
                &d.ref_steps[r.clone()]
            },
        }
    }

    fn same(&self) -> MemConsts<Same<f64>, Same<u32>> {
        let f = |x: &[f64]| Same(x.first().copied().unwrap_or(0.0));
        MemConsts {
            e_e: f(self.e_e),
            e_i: f(self.e_i),
            i_off: f(self.i_off),
            k_e: f(self.k_e),
            k_i: f(self.k_i),
            dt_c: f(self.dt_c),
            v_reset: f(self.v_reset),
            v_rest: f(self.v_rest),
            v_th: f(self.v_th),
            g_l: f(self.g_l),
            d_t: f(self.d_t),
            v_spike: f(self.v_spike),
            a: f(self.a),
            b: f(self.b),
            k_w: f(self.k_w),
            iz_d: f(self.iz_d),
            v_peak: f(self.v_peak),
            ref_steps: Same(self.ref_steps.first().copied().unwrap_or(0)),
        }
    }
}

/// Advances one chunk of a spiking population by one step; pushes the
/// chunk-local indices of the neurons that spiked to `spikes`.
/// `params` and `derived` are the population's arrays, `offset` the chunk's first neuron.
pub fn step_spiking(
    kind: &ModelKind,
    params: &Params,
    derived: &Derived,
    offset: usize,
    s: StateChunk<'_>,
    input: StepInput<'_>,
    spikes: &mut Vec<u32>,
) {
    use SynapseKind::*;
    match kind {
        ModelKind::Lif { synapse: Delta } => lif_delta(kind, params, derived, offset, s, input, spikes),
        ModelKind::Lif { synapse: CurrExp } => {
            membrane::<0, false, false>(kind, params, derived, offset, s, input, spikes)
        }
        ModelKind::Lif { synapse: CurrAlpha } => {
            membrane::<0, false, true>(kind, params, derived, offset, s, input, spikes)
        }
        ModelKind::Lif { synapse: CondExp } => {
            membrane::<0, true, false>(kind, params, derived, offset, s, input, spikes)
        }
        ModelKind::Lif { synapse: CondAlpha } => {
            membrane::<0, true, true>(kind, params, derived, offset, s, input, spikes)
        }
        ModelKind::AdEx {
            synapse: Delta | CurrExp,
        } => membrane::<1, false, false>(kind, params, derived, offset, s, input, spikes),
        ModelKind::AdEx { synapse: CurrAlpha } => {
            membrane::<1, false, true>(kind, params, derived, offset, s, input, spikes)
        }
        ModelKind::AdEx { synapse: CondExp } => {
            membrane::<1, true, false>(kind, params, derived, offset, s, input, spikes)
        }
        ModelKind::AdEx { synapse: CondAlpha } => {
            membrane::<1, true, true>(kind, params, derived, offset, s, input, spikes)
        }
        ModelKind::Izhikevich {
            synapse: Delta | CurrExp,
        } => membrane::<2, false, false>(kind, params, derived, offset, s, input, spikes),
        ModelKind::Izhikevich { synapse: CurrAlpha } => {
            membrane::<2, false, true>(kind, params, derived, offset, s, input, spikes)
        }
        ModelKind::Izhikevich { synapse: CondExp } => {
            membrane::<2, true, false>(kind, params, derived, offset, s, input, spikes)
        }
        ModelKind::Izhikevich { synapse: CondAlpha } => {
            membrane::<2, true, true>(kind, params, derived, offset, s, input, spikes)
        }
        _ => {}
    }
}

/// NEST `iaf_psc_delta`: exact decay, jumps inside the step, input dropped while refractory.
fn lif_delta(
    kind: &ModelKind,
    params: &Params,
    d: &Derived,
    offset: usize,
    s: StateChunk<'_>,
    input: StepInput<'_>,
    spikes: &mut Vec<u32>,
) {
    let n = s.v.len();
    let r = offset..offset + n;
    let pk = |name: &str| kind.param_position(name).map(|i| &params[i][r.clone()]).unwrap_or(&[]);
    let c = DeltaConsts {
        v_rest: pk("v_rest"),
        v_th: pk("v_thresh"),
        v_reset: pk("v_reset"),
        i_off: pk("i_offset"),
        p_mem: &d.p_mem[r.clone()],
        r_mem: &d.r_mem[r.clone()],
        ref_steps: &d.ref_steps[r.clone()],
    };
    if d.uniform {
        let f = |x: &[f64]| Same(x[0]);
        let same = DeltaConsts {
            v_rest: f(c.v_rest),
            v_th: f(c.v_th),
            v_reset: f(c.v_reset),
            i_off: f(c.i_off),
            p_mem: f(c.p_mem),
            r_mem: f(c.r_mem),
            ref_steps: Same(c.ref_steps[0]),
        };
        lif_delta_loop(&same, s, input, spikes);
    } else {
        lif_delta_loop(&c, s, input, spikes);
    }
}

/// The constants of the delta-synapse LIF step.
#[derive(Clone, Copy)]
struct DeltaConsts<P, Q> {
    v_rest: P,
    v_th: P,
    v_reset: P,
    i_off: P,
    p_mem: P,
    r_mem: P,
    ref_steps: Q,
}

/// The delta LIF loop without branches, as [`membrane_loop`].
#[inline(always)]
fn lif_delta_loop<P: Per<f64>, Q: Per<u32>>(
    c: &DeltaConsts<P, Q>,
    s: StateChunk<'_>,
    input: StepInput<'_>,
    spikes: &mut Vec<u32>,
) {
    let n = s.v.len();
    assert!(n <= NEURON_CHUNK, "a chunk holds at most NEURON_CHUNK neurons");
    let mut fired = [0u8; NEURON_CHUNK];
    let fired = &mut fired[..n];
    let (exc, inh, cur) = (&mut input.exc[..n], &mut input.inh[..n], &input.current[..n]);
    let (v, refractory) = (&mut s.v[..n], &mut s.refractory[..n]);
    for k in 0..n {
        let (e, i) = (exc[k], inh[k]);
        (exc[k], inh[k]) = (0.0, 0.0);
        let r = refractory[k];
        let active = r == 0;
        let v_rest = c.v_rest.at(k);
        let v1 = v_rest + (v[k] - v_rest) * c.p_mem.at(k) + c.r_mem.at(k) * (c.i_off.at(k) + cur[k]) + e - i;
        let crossed = v1 >= c.v_th.at(k);
        let spiked = active & crossed;
        v[k] = select(active & !crossed, v1, c.v_reset.at(k));
        refractory[k] = if spiked { c.ref_steps.at(k) } else { r.saturating_sub(1) };
        fired[k] = u8::from(spiked);
    }
    collect_fired(fired, spikes);
}

/// Euler step of LIF (`M = 0`), AdEx (`M = 1`) or Izhikevich (`M = 2`) with
/// current- or conductance-based (`COND`) exponential or alpha (`ALPHA`)
/// synapses; homogeneous populations get a kernel with scalar constants.
fn membrane<const M: u8, const COND: bool, const ALPHA: bool>(
    kind: &ModelKind,
    params: &Params,
    d: &Derived,
    offset: usize,
    s: StateChunk<'_>,
    input: StepInput<'_>,
    spikes: &mut Vec<u32>,
) {
    let n = s.v.len();
    let c = MemConsts::slices(kind, params, d, offset..offset + n);
    match (d.uniform, d.ref_steps.is_empty()) {
        (true, false) => membrane_loop::<M, COND, ALPHA, true, _, _>(&c.same(), d.dt, s, input, spikes),
        (true, true) => membrane_loop::<M, COND, ALPHA, false, _, _>(&c.same(), d.dt, s, input, spikes),
        (false, false) => membrane_loop::<M, COND, ALPHA, true, _, _>(&c, d.dt, s, input, spikes),
        (false, true) => membrane_loop::<M, COND, ALPHA, false, _, _>(&c, d.dt, s, input, spikes),
    }
}

/// The membrane loop without branches (`REF`: the model has a refractory
/// period): every neuron's new state is computed and selected, and whether
/// it spiked is written to a byte per neuron, so the compiler vectorises
/// the loop; a second pass collects the spiking neurons eight bytes at a
/// time. The arithmetic of each neuron is that of the step equations in
/// order, so results do not depend on how the loop is compiled.
#[inline(always)]
fn membrane_loop<const M: u8, const COND: bool, const ALPHA: bool, const REF: bool, P: Per<f64>, Q: Per<u32>>(
    c: &MemConsts<P, Q>,
    dt: f64,
    s: StateChunk<'_>,
    input: StepInput<'_>,
    spikes: &mut Vec<u32>,
) {
    let n = s.v.len();
    assert!(n <= NEURON_CHUNK, "a chunk holds at most NEURON_CHUNK neurons");
    let mut fired = [0u8; NEURON_CHUNK];
    let fired = &mut fired[..n];
    let (exc, inh, cur) = (&mut input.exc[..n], &mut input.inh[..n], &input.current[..n]);
    let (v, g_e, g_i) = (&mut s.v[..n], &mut s.g_e[..n], &mut s.g_i[..n]);
    let (x_e, x_i): (&mut [f64], &mut [f64]) = if ALPHA {
        (&mut s.x_e[..n], &mut s.x_i[..n])
    } else {
        (&mut [], &mut [])
    };
    let w: &mut [f64] = if M != 0 { &mut s.w[..n] } else { &mut [] };
    let refractory: &mut [u32] = if REF { &mut s.refractory[..n] } else { &mut [] };
    for k in 0..n {
        let v0 = v[k];
        let (ge, gi) = (g_e[k], g_i[k]);
        let (e, i) = (exc[k], inh[k]);
        (exc[k], inh[k]) = (0.0, 0.0);
        let i_syn = if COND {
            ge * (c.e_e.at(k) - v0) + gi * (c.e_i.at(k) - v0)
        } else {
            ge - gi
        };
        let (k_e, k_i) = (c.k_e.at(k), c.k_i.at(k));
        if ALPHA {
            let (xe, xi) = (x_e[k], x_i[k]);
            g_e[k] = ge + k_e * (std::f64::consts::E * xe - ge);
            g_i[k] = gi + k_i * (std::f64::consts::E * xi - gi);
            x_e[k] = xe - k_e * xe + e;
            x_i[k] = xi - k_i * xi + i;
        } else {
            g_e[k] = ge - k_e * ge + e;
            g_i[k] = gi - k_i * gi + i;
        }
        let i_ext = c.i_off.at(k) + cur[k];
        let active = !REF || refractory[k] == 0;
        let (v1, crossed) = match M {
            0 => {
                let v1 = v0 + c.dt_c.at(k) * (c.g_l.at(k) * (c.v_rest.at(k) - v0) + i_syn + i_ext);
                (v1, v1 > c.v_th.at(k))
            }
            1 => {
                let (w0, g_l, d_t) = (w[k], c.g_l.at(k), c.d_t.at(k));
                let exp_term = g_l * d_t * ((v0 - c.v_th.at(k)) / d_t).min(50.0).exp();
                let v1 = v0 + c.dt_c.at(k) * (g_l * (c.v_rest.at(k) - v0) + exp_term + i_syn + i_ext - w0);
                (v1, v1 >= c.v_spike.at(k))
            }
            _ => {
                let u = w[k];
                let v1 = v0 + dt * (0.04 * v0 * v0 + 5.0 * v0 + 140.0 - u + i_syn + i_ext);
                (v1, v1 >= c.v_peak.at(k))
            }
        };
        let spiked = active & crossed;
        v[k] = select(active & !crossed, v1, c.v_reset.at(k));
        if M != 0 {
            let w0 = w[k];
            let w1 = match M {
                1 => w0 + c.k_w.at(k) * (c.a.at(k) * (v0 - c.v_rest.at(k)) - w0),
                _ => w0 + dt * c.a.at(k) * (c.b.at(k) * v0 - w0),
            };
            let w1 = if active { w1 } else { w0 };
            let jump = if M == 1 { c.b.at(k) } else { c.iz_d.at(k) };
            w[k] = if spiked { w1 + jump } else { w1 };
        }
        if REF {
            let r = refractory[k];
            refractory[k] = if spiked { c.ref_steps.at(k) } else { r.saturating_sub(1) };
        }
        fired[k] = u8::from(spiked);
    }
    collect_fired(fired, spikes);
}

/// `a` if `keep`, else `b`, by bit masks: a plain load and store whatever
/// the compiler makes of it (a branch-shaped select became masked stores,
/// which cost tens of cycles each on AMD Zen).
#[inline(always)]
fn select(keep: bool, a: f64, b: f64) -> f64 {
    let m = 0u64.wrapping_sub(u64::from(keep));
    f64::from_bits((a.to_bits() & m) | (b.to_bits() & !m))
}

/// Pushes the index of every non-zero byte of `fired` to `spikes`, in order.
#[inline]
fn collect_fired(fired: &[u8], spikes: &mut Vec<u32>) {
    let mut words = fired.chunks_exact(8);
    let mut base = 0u32;
    for word in &mut words {
        let mut bits = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
        while bits != 0 {
            let byte = bits.trailing_zeros() / 8;
            spikes.push(base + byte);
            bits &= !(0xffu64 << (byte * 8));
        }
        base += 8;
    }
    for (k, &f) in words.remainder().iter().enumerate() {
        if f != 0 {
            spikes.push(base + k as u32);
        }
    }
}

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
            let chunk = |(c, (out, rng)): (usize, (&mut Vec<u32>, &mut Stream))| {
                out.clear();
                let start = c * NEURON_CHUNK;
                let end = (start + NEURON_CHUNK).min(n);
                for (i, &r) in rate[start..end].iter().enumerate() {
                    let k = rng::poisson(rng, r * dt * 1e-3);
                    out.extend(std::iter::repeat_n((start + i) as u32, k as usize));
                }
            };
            // the same chunks and streams on the pool or on this thread
            if n >= SPIKING_PARALLEL_MIN && rayon::current_num_threads() > 1 {
                spike_scratch
                    .par_iter_mut()
                    .zip(rngs.par_iter_mut())
                    .enumerate()
                    .for_each(chunk);
            } else {
                spike_scratch
                    .iter_mut()
                    .zip(rngs.iter_mut())
                    .enumerate()
                    .for_each(chunk);
            }
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
                        // x + 0 w = x exactly (w is finite): no branch on the count
                        for x in target.iter_mut() {
                            *x += table.sample(rng) as f64 * w;
                        }
                    }
                    step_spiking(
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
            if n >= SPIKING_PARALLEL_MIN && rayon::current_num_threads() > 1 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{SpikingState, initial_state};

    fn defaults(kind: &ModelKind, n: usize) -> Params {
        kind.params().iter().map(|s| vec![s.default; n]).collect()
    }

    fn run(kind: &ModelKind, params: &Params, steps: usize, current: f64, dt: f64) -> (Vec<usize>, SpikingState) {
        let mut st = initial_state(kind, params, 1);
        let derived = Derived::new(kind, params, dt);
        let mut spikes_at = Vec::new();
        let mut spikes = Vec::new();
        for t in 0..steps {
            spikes.clear();
            let chunk = StateChunk {
                v: &mut st.v,
                w: &mut st.w,
                g_e: &mut st.g_e,
                g_i: &mut st.g_i,
                x_e: &mut st.x_e,
                x_i: &mut st.x_i,
                refractory: &mut st.refractory,
            };
            step_spiking(
                kind,
                params,
                &derived,
                0,
                chunk,
                StepInput {
                    exc: &mut [0.0],
                    inh: &mut [0.0],
                    current: &[current],
                },
                &mut spikes,
            );
            if !spikes.is_empty() {
                spikes_at.push(t);
            }
        }
        (spikes_at, st)
    }

    #[test]
    fn lif_delta_first_spike_matches_analytic_time() {
        // V(t) = E_L + R I (1 - exp(-t/tau)); threshold crossing at t* = -tau ln(1 - (th - E_L)/(R I))
        let kind = ModelKind::Lif {
            synapse: SynapseKind::Delta,
        };
        let mut prm = defaults(&kind, 1);
        let (tau, cm, el, th) = (20.0, 250.0, -65.0, -50.0);
        prm[kind.param_index("v_init").unwrap()][0] = el;
        let i = 500.0; // pA: R I = 40 mV
        let t_star = -tau * (1.0f64 - (th - el) / (tau / cm * i)).ln();
        let dt = 0.1;
        let (spikes, _) = run(&kind, &prm, 400, i, dt);
        // the exact update crosses in the step that contains t*
        assert_eq!(spikes[0], (t_star / dt).ceil() as usize - 1, "t* = {t_star}");
        // with refractoriness 2 ms the period is t* + 20 steps (exact integration from reset)
        assert_eq!(spikes[1] - spikes[0], (t_star / dt).ceil() as usize + 20);
    }

    #[test]
    fn lif_euler_trajectory_by_hand() {
        let kind = ModelKind::Lif {
            synapse: SynapseKind::CurrExp,
        };
        let prm = defaults(&kind, 1);
        let (_, st) = run(&kind, &prm, 1, 100.0, 0.1);
        // v1 = v0 + dt * (g_l (E_L - v0) + I)/C = -65 + 0.1 * 100/250
        assert!((st.v[0] - (-65.0 + 0.1 * 100.0 / 250.0)).abs() < 1e-12);
    }

    #[test]
    fn izhikevich_regular_spiking_adapts() {
        let kind = ModelKind::Izhikevich {
            synapse: SynapseKind::CurrExp,
        };
        let prm = defaults(&kind, 1);
        let (spikes, _) = run(&kind, &prm, 10_000, 10.0, 0.1); // 1 s at I = 10
        assert!(spikes.len() > 5, "{}", spikes.len());
        let isi: Vec<usize> = spikes.windows(2).map(|w| w[1] - w[0]).collect();
        // regular spiking: first interval shorter than the adapted ones
        assert!(isi[0] < *isi.last().unwrap(), "{isi:?}");
    }

    /// AdEx under a constant 1 nA: with spike-triggered adaptation (`b > 0`)
    /// the intervals grow, and `w` jumps by `b` at a spike and decays with
    /// `tau_w` between spikes; with `a = b = 0` every interval is the same
    /// (the neuron restarts from `v_reset` with `w = 0`) and `w` stays 0.
    #[test]
    fn adex_spikes_and_adapts() {
        let kind = ModelKind::AdEx {
            synapse: SynapseKind::CondExp,
        };
        let ix = |name: &str| kind.param_index(name).unwrap();
        let (dt, current) = (0.1, 1000.0);
        let isis = |spikes: &[usize]| spikes.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>();

        // no adaptation: identical intervals, the first from v_init = v_reset
        let mut plain = defaults(&kind, 1);
        plain[ix("a")][0] = 0.0;
        plain[ix("b")][0] = 0.0;
        let (spikes, st) = run(&kind, &plain, 5_000, current, dt);
        assert!(spikes.len() >= 10, "{spikes:?}");
        assert_eq!(st.w[0], 0.0);
        assert!(isis(&spikes).iter().all(|&i| i == spikes[0] + 1), "{spikes:?}");

        // defaults (a = 4 nS, b = 80.5 pA): every interval at least the one before, the last well longer than the first
        let prm = defaults(&kind, 1);
        let (spikes, _) = run(&kind, &prm, 5_000, current, dt);
        let isi = isis(&spikes);
        assert!(isi.len() >= 3, "{isi:?}");
        assert!(isi.windows(2).all(|p| p[1] >= p[0]), "{isi:?}");
        assert!(*isi.last().unwrap() as f64 > 1.5 * isi[0] as f64, "{isi:?}");

        // a = 0, b = 80.5 pA: w = b right after the first spike, then b (1 - dt/tau_w)^m m steps later
        let mut jump = defaults(&kind, 1);
        jump[ix("a")][0] = 0.0;
        let (b, tau_w) = (jump[ix("b")][0], jump[ix("tau_w")][0]);
        let first = spikes_until(&kind, &jump, current, dt);
        let (_, st) = run(&kind, &jump, first + 1, current, dt);
        assert_eq!(st.w[0], b);
        let m = 30;
        let (later, st) = run(&kind, &jump, first + 1 + m, current, dt);
        assert_eq!(later, vec![first], "no second spike within {m} steps");
        let want = b * (1.0 - dt / tau_w).powi(m as i32);
        assert!((st.w[0] - want).abs() < 1e-9 * b, "w {} vs {want}", st.w[0]);
    }

    /// The step of the first spike under a constant `current`.
    /// CondAlpha: an event of weight w enters x (`x' = -x / tau + input`) and
    /// g follows `g' = (e x - g) / tau`, so by Euler m steps after the event
    /// `g_m = m k e w (1 - k)^(m - 1)` with `k = dt / tau` (by hand: g_1 = k e w,
    /// g_2 = (1 - k) g_1 + k e w (1 - k)); near the continuous alpha function
    /// `w (t / tau) e^(1 - t / tau)`, whose peak w comes at t = tau.
    #[test]
    fn cond_alpha_conductance_is_the_discrete_alpha_function() {
        let kind = ModelKind::Lif {
            synapse: crate::model::SynapseKind::CondAlpha,
        };
        let prm = defaults(&kind, 1);
        let tau = prm[kind.param_index("tau_syn_e").unwrap()][0];
        let (dt, w) = (0.1, 2.0);
        let k = dt / tau;
        let mut st = initial_state(&kind, &prm, 1);
        let derived = Derived::new(&kind, &prm, dt);
        let mut spikes = Vec::new();
        let steps = (3.0 * tau / dt) as usize;
        for m in 0..=steps {
            let chunk = StateChunk {
                v: &mut st.v,
                w: &mut st.w,
                g_e: &mut st.g_e,
                g_i: &mut st.g_i,
                x_e: &mut st.x_e,
                x_i: &mut st.x_i,
                refractory: &mut st.refractory,
            };
            let exc = if m == 0 { w } else { 0.0 };
            let input = StepInput {
                exc: &mut [exc],
                inh: &mut [0.0],
                current: &[0.0],
            };
            step_spiking(&kind, &prm, &derived, 0, chunk, input, &mut spikes);
            let n = m as f64; // steps since the event's step
            let want = n * k * std::f64::consts::E * w * (1.0 - k).powf(n - 1.0);
            assert!((st.g_e[0] - want).abs() < 1e-12, "step {m}: g {} vs {want}", st.g_e[0]);
            assert_eq!(st.g_i[0], 0.0);
            let t = n * dt;
            let alpha = w * (t / tau) * (1.0 - t / tau).exp();
            assert!(
                (st.g_e[0] - alpha).abs() < 0.02 * w,
                "step {m}: g {} vs alpha {alpha}",
                st.g_e[0]
            );
        }
        assert!(spikes.is_empty());
    }

    fn spikes_until(kind: &ModelKind, params: &Params, current: f64, dt: f64) -> usize {
        run(kind, params, 5_000, current, dt).0[0]
    }
}
