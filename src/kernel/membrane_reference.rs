//! The vectorised membrane kernels against a plain reference: the step
//! equations of LIF, AdEx and Izhikevich neurons written one neuron at a
//! time with branches, reading parameters by name. Every variant must give
//! bit-identical state and the same spikes, homogeneous or not, with
//! refractory neurons, chunk lengths that are not a multiple of 8, and the
//! arriving input consumed (zero afterwards).

use super::*;
use crate::model::{Derived, ModelKind, Params, SpikingState, StateChunk, StepInput, SynapseKind, initial_state};
use crate::rng::Stream;

/// One step of neuron `k` as the equations say, with branches.
fn reference_step(
    kind: &ModelKind,
    p: &Params,
    d: &Derived,
    s: &mut SpikingState,
    k: usize,
    inp: (f64, f64, f64),
) -> bool {
    let at = |name: &str| kind.param_position(name).map(|i| p[i][k]).unwrap_or(0.0);
    let (exc, inh, cur) = inp;
    let (m, synapse) = match kind {
        ModelKind::Lif { synapse } => (0, *synapse),
        ModelKind::AdEx { synapse } => (1, *synapse),
        ModelKind::Izhikevich { synapse } => (2, *synapse),
        _ => unreachable!("spiking models only"),
    };
    if synapse == SynapseKind::Delta {
        // NEST iaf_psc_delta: exact decay, the jumps added, nothing while refractory
        if s.refractory[k] > 0 {
            s.refractory[k] -= 1;
            s.v[k] = at("v_reset");
            return false;
        }
        let v_rest = at("v_rest");
        let v = v_rest + (s.v[k] - v_rest) * d.p_mem[k] + d.r_mem[k] * (at("i_offset") + cur) + exc - inh;
        let spiked = v >= at("v_thresh");
        s.v[k] = if spiked { at("v_reset") } else { v };
        if spiked {
            s.refractory[k] = d.ref_steps[k];
        }
        return spiked;
    }
    let cond = matches!(synapse, SynapseKind::CondExp | SynapseKind::CondAlpha);
    let alpha = matches!(synapse, SynapseKind::CurrAlpha | SynapseKind::CondAlpha);
    let v0 = s.v[k];
    let (ge, gi) = (s.g_e[k], s.g_i[k]);
    let i_syn = if cond {
        ge * (at("e_rev_e") - v0) + gi * (at("e_rev_i") - v0)
    } else {
        ge - gi
    };
    let (k_e, k_i) = (d.k_e[k], d.k_i[k]);
    if alpha {
        let (xe, xi) = (s.x_e[k], s.x_i[k]);
        s.g_e[k] = ge + k_e * (std::f64::consts::E * xe - ge);
        s.g_i[k] = gi + k_i * (std::f64::consts::E * xi - gi);
        s.x_e[k] = xe - k_e * xe + exc;
        s.x_i[k] = xi - k_i * xi + inh;
    } else {
        s.g_e[k] = ge - k_e * ge + exc;
        s.g_i[k] = gi - k_i * gi + inh;
    }
    let i_ext = at("i_offset") + cur;
    let v_reset = if m == 2 { at("c") } else { at("v_reset") };
    let has_ref = !d.ref_steps.is_empty();
    if has_ref && s.refractory[k] > 0 {
        s.refractory[k] -= 1;
        s.v[k] = v_reset;
        return false;
    }
    let (v, spiked) = match m {
        0 => {
            let v = v0 + d.dt_over_cm[k] * (d.g_l[k] * (at("v_rest") - v0) + i_syn + i_ext);
            (v, v > at("v_thresh"))
        }
        1 => {
            let (w, g_l, d_t) = (s.w[k], d.g_l[k], at("delta_t"));
            let exp_term = g_l * d_t * ((v0 - at("v_thresh")) / d_t).min(50.0).exp();
            let v = v0 + d.dt_over_cm[k] * (g_l * (at("v_rest") - v0) + exp_term + i_syn + i_ext - w);
            s.w[k] = w + d.k_w[k] * (at("a") * (v0 - at("v_rest")) - w);
            (v, v >= at("v_spike"))
        }
        _ => {
            let u = s.w[k];
            let v = v0 + d.dt * (0.04 * v0 * v0 + 5.0 * v0 + 140.0 - u + i_syn + i_ext);
            s.w[k] = u + d.dt * at("a") * (at("b") * v0 - u);
            (v, v >= at("v_peak"))
        }
    };
    if spiked {
        s.v[k] = v_reset;
        match m {
            1 => s.w[k] += at("b"),
            2 => s.w[k] += at("d"),
            _ => {}
        }
        if has_ref {
            s.refractory[k] = d.ref_steps[k];
        }
    } else {
        s.v[k] = v;
    }
    spiked
}

fn chunk(s: &mut SpikingState) -> StateChunk<'_> {
    StateChunk {
        v: &mut s.v,
        w: &mut s.w,
        g_e: &mut s.g_e,
        g_i: &mut s.g_i,
        x_e: &mut s.x_e,
        x_i: &mut s.x_i,
        refractory: &mut s.refractory,
    }
}

/// Runs `kind` for `steps` steps of 0.1 ms in the kernel and in the
/// reference from the same start and inputs, and compares bit for bit.
fn compare(kind: &ModelKind, n: usize, uniform: bool, seed: u64) -> usize {
    let mut rng = Stream::from_seed(seed);
    let izh = matches!(kind, ModelKind::Izhikevich { .. });
    let mut params: Params = kind.params().iter().map(|s| vec![s.default; n]).collect();
    for (spec, values) in kind.params().iter().zip(params.iter_mut()) {
        let name = spec.name;
        if name == "t_ref" {
            values.fill(1.0);
        }
        if !uniform && !name.ends_with("_init") && !matches!(name, "e_rev_e" | "e_rev_i" | "c" | "v_peak") {
            for x in values.iter_mut() {
                *x *= 0.9 + 0.2 * rng.uniform();
            }
        }
    }
    let dt = 0.1;
    let derived = Derived::new(kind, &params, dt);
    assert_eq!(derived.uniform, uniform, "{kind:?}");
    let mut fast = initial_state(kind, &params, n);
    for (k, v) in fast.v.iter_mut().enumerate() {
        *v += 20.0 * rng.uniform();
        fast.refractory[k] = if izh {
            0
        } else {
            (rng.below(4) as u32).saturating_sub(2)
        };
    }
    let mut slow = fast.clone();
    let (scale, drive) = match kind {
        ModelKind::Izhikevich { .. } => (0.5, 20.0),
        ModelKind::AdEx { .. } => (3.0, 2000.0),
        _ => (3.0, 400.0),
    };
    let mut spikes_total = 0;
    let mut spikes = Vec::new();
    for step in 0..300 {
        let exc: Vec<f64> = (0..n).map(|_| scale * rng.uniform()).collect();
        let inh: Vec<f64> = (0..n).map(|_| 0.5 * scale * rng.uniform()).collect();
        let current: Vec<f64> = (0..n).map(|_| drive * rng.uniform()).collect();
        let (mut e, mut i) = (exc.clone(), inh.clone());
        spikes.clear();
        let input = StepInput {
            exc: &mut e,
            inh: &mut i,
            current: &current,
        };
        step_spiking(kind, &params, &derived, 0, chunk(&mut fast), input, &mut spikes);
        assert!(e.iter().chain(&i).all(|&x| x == 0.0), "{kind:?}: input not consumed");
        let expected: Vec<u32> = (0..n)
            .filter(|&k| reference_step(kind, &params, &derived, &mut slow, k, (exc[k], inh[k], current[k])))
            .map(|k| k as u32)
            .collect();
        assert_eq!(spikes, expected, "{kind:?} uniform {uniform}: spikes of step {step}");
        spikes_total += spikes.len();
    }
    let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    for (name, a, b) in [
        ("v", &fast.v, &slow.v),
        ("w", &fast.w, &slow.w),
        ("g_e", &fast.g_e, &slow.g_e),
        ("g_i", &fast.g_i, &slow.g_i),
        ("x_e", &fast.x_e, &slow.x_e),
        ("x_i", &fast.x_i, &slow.x_i),
    ] {
        assert_eq!(bits(a), bits(b), "{kind:?} uniform {uniform}: {name}");
    }
    assert_eq!(
        fast.refractory, slow.refractory,
        "{kind:?} uniform {uniform}: refractory"
    );
    spikes_total
}

#[test]
fn every_membrane_kernel_equals_the_branching_reference_bit_for_bit() {
    use SynapseKind::*;
    let kinds = [CurrExp, CurrAlpha, CondExp, CondAlpha]
        .into_iter()
        .flat_map(|synapse| {
            [
                ModelKind::Lif { synapse },
                ModelKind::AdEx { synapse },
                ModelKind::Izhikevich { synapse },
            ]
        });
    for kind in kinds.chain([ModelKind::Lif { synapse: Delta }]) {
        for (n, uniform) in [(NEURON_CHUNK, true), (997, false), (13, true)] {
            let spikes = compare(&kind, n, uniform, 7 + n as u64);
            assert!(
                spikes > n / 10,
                "{kind:?} n {n}: only {spikes} spikes; the test must make neurons fire"
            );
        }
    }
}

#[test]
fn a_delta_jump_from_rest_past_threshold_fires() {
    let kind = ModelKind::Lif {
        synapse: SynapseKind::Delta,
    };
    let params: Params = kind.params().iter().map(|s| vec![s.default; 5]).collect();
    let derived = Derived::new(&kind, &params, 0.1);
    let mut s = initial_state(&kind, &params, 5);
    let (mut e, mut i) = (vec![20.0; 5], vec![1.0; 5]);
    let mut spikes = Vec::new();
    let input = StepInput {
        exc: &mut e,
        inh: &mut i,
        current: &[0.0; 5],
    };
    step_spiking(&kind, &params, &derived, 0, chunk(&mut s), input, &mut spikes);
    assert_eq!(
        spikes,
        vec![0, 1, 2, 3, 4],
        "a 19 mV jump from rest crosses the 15 mV gap"
    );
    assert!(e.iter().chain(&i).all(|&x| x == 0.0));
}
