//! Neuron models: parameters, state and the per-step update of each model,
//! as pure functions over structure-of-arrays state.
//!
//! Units: time ms, voltage mV, capacitance pF, conductance nS, current pA,
//! rate Hz. Integration schemes:
//!
//! | model | scheme |
//! | --- | --- |
//! | [`ModelKind::Rate`] (CTRNN) | nn4n's Euler step `v <- (1-a) v + a (I + b)`, `a = dt/tau` |
//! | [`ModelKind::Lif`] with [`SynapseKind::Delta`] | exact: `V <- E_L + (V - E_L) P + R I (1 - P) + sum of jumps`, `P = exp(-dt/tau_m)` (NEST `iaf_psc_delta`) |
//! | LIF, AdEx, Izhikevich with exp/alpha synapses | forward Euler on the values at the start of the step (Brian2 `method='euler'`), synaptic variables too |
//!
//! Synaptic input of a step (spikes whose delay ends in this step) is applied
//! as NEST does: delta synapses jump `V` inside the step; exponential and
//! alpha synapses receive the jump after the step's integration, so it first
//! moves `V` in the next step. Refractoriness: after a spike the next
//! `round(t_ref/dt)` steps are refractory (`V` held at `v_reset`, delta input
//! dropped, synaptic conductances keep evolving).

use crate::error::{CortecsError, Result};
use serde::{Deserialize, Serialize};

/// How synaptic input acts on a spiking neuron.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SynapseKind {
    /// Voltage jump of `w` mV.
    Delta,
    /// Current (pA) jumping by `w` and decaying with `tau_syn_e/i`.
    #[default]
    CurrExp,
    /// Alpha-shaped current peaking at `w` pA after `tau_syn`.
    CurrAlpha,
    /// Conductance (nS) jumping by `w` and decaying with `tau_syn_e/i`, driving towards `e_rev_e/i`.
    CondExp,
    /// Alpha-shaped conductance peaking at `w` nS after `tau_syn`.
    CondAlpha,
}

/// Activation function of a rate unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Activation {
    /// max(x, 0)
    Relu,
    /// tanh(x)
    #[default]
    Tanh,
    /// 1 / (1 + exp(-x))
    Sigmoid,
    /// max(tanh(x), 0)
    Retanh,
    /// ln(1 + exp(x))
    Softplus,
    /// x
    Identity,
}

impl Activation {
    /// f(x).
    #[inline(always)]
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::Relu => x.max(0.0),
            Activation::Tanh => fast_tanh(x),
            Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            Activation::Retanh => fast_tanh(x).max(0.0),
            Activation::Softplus => {
                if x > 20.0 {
                    x
                } else {
                    x.exp().ln_1p()
                }
            }
            Activation::Identity => x,
        }
    }
}

/// tanh in f32 by a [13/6] rational approximation (Eigen's `ptanh_float`):
/// within 5e-7 of the exact value (a few f32 ulp), branch-free and vectorisable, about 10x
/// faster than libm's `tanhf` (which dominated the CTRNN step).
#[inline(always)]
#[allow(clippy::excessive_precision)]
pub fn fast_tanh(x: f32) -> f32 {
    const CLAMP: f32 = 7.905_311;
    let x = x.clamp(-CLAMP, CLAMP);
    let x2 = x * x;
    let mut p = x2 * -2.760_768_5e-16 + 2.000_187_9e-13;
    p = p * x2 + -8.604_671_5e-11;
    p = p * x2 + 5.122_297e-8;
    p = p * x2 + 1.485_722_4e-5;
    p = p * x2 + 6.372_619_3e-4;
    p = p * x2 + 4.893_524_6e-3;
    p *= x;
    let mut q = x2 * 1.198_258_4e-6 + 1.185_347_1e-4;
    q = q * x2 + 2.268_434_6e-3;
    q = q * x2 + 4.893_525e-3;
    if x.abs() < 4e-4 { x } else { p / q }
}

/// Which model a population's neurons follow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ModelKind {
    /// Continuous-time rate unit (CTRNN), as nn4n integrates it.
    Rate {
        /// The activation f.
        activation: Activation,
    },
    /// Leaky integrate-and-fire.
    Lif {
        /// Synapse type.
        synapse: SynapseKind,
    },
    /// Adaptive exponential integrate-and-fire (Brette & Gerstner 2005).
    AdEx {
        /// Synapse type.
        synapse: SynapseKind,
    },
    /// Izhikevich (2003) with `v' = 0.04 v^2 + 5 v + 140 - u + I` per ms.
    Izhikevich {
        /// Synapse type (current-based or delta; conductance-based is allowed too).
        synapse: SynapseKind,
    },
    /// Poisson spike source with `rate` Hz (several spikes in one step are possible).
    PoissonSource,
    /// Spike source emitting at given times (ms), one list per neuron.
    SpikeSource,
}

/// One parameter of a model: name, default and unit.
#[derive(Clone, Copy, Debug)]
pub struct ParamSpec {
    /// Name (as in scenes and the API).
    pub name: &'static str,
    /// Default value.
    pub default: f64,
    /// Unit, for documentation and summaries.
    pub unit: &'static str,
    /// What values are allowed.
    pub check: Check,
}

/// Allowed range of a parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Any finite number.
    Finite,
    /// Strictly positive.
    Positive,
    /// Zero or positive.
    NonNegative,
}

const fn p(name: &'static str, default: f64, unit: &'static str, check: Check) -> ParamSpec {
    ParamSpec {
        name,
        default,
        unit,
        check,
    }
}

use Check::{Finite, NonNegative, Positive};

const RATE: &[ParamSpec] = &[
    p("tau", 100.0, "ms", Positive),
    p("bias", 0.0, "1", Finite),
    p("v_init", 0.0, "1", Finite),
];
const LIF: &[ParamSpec] = &[
    p("tau_m", 20.0, "ms", Positive),
    p("cm", 250.0, "pF", Positive),
    p("v_rest", -65.0, "mV", Finite),
    p("v_thresh", -50.0, "mV", Finite),
    p("v_reset", -65.0, "mV", Finite),
    p("t_ref", 2.0, "ms", NonNegative),
    p("i_offset", 0.0, "pA", Finite),
    p("tau_syn_e", 5.0, "ms", Positive),
    p("tau_syn_i", 5.0, "ms", Positive),
    p("e_rev_e", 0.0, "mV", Finite),
    p("e_rev_i", -80.0, "mV", Finite),
    p("v_init", -65.0, "mV", Finite),
    p("g_e_init", 0.0, "nS or pA", Finite),
    p("g_i_init", 0.0, "nS or pA", Finite),
];
const ADEX: &[ParamSpec] = &[
    p("cm", 281.0, "pF", Positive),
    p("g_l", 30.0, "nS", Positive),
    p("v_rest", -70.6, "mV", Finite),
    p("v_thresh", -50.4, "mV", Finite),
    p("delta_t", 2.0, "mV", Positive),
    p("v_spike", 0.0, "mV", Finite),
    p("v_reset", -70.6, "mV", Finite),
    p("tau_w", 144.0, "ms", Positive),
    p("a", 4.0, "nS", Finite),
    p("b", 80.5, "pA", Finite),
    p("t_ref", 0.0, "ms", NonNegative),
    p("i_offset", 0.0, "pA", Finite),
    p("tau_syn_e", 5.0, "ms", Positive),
    p("tau_syn_i", 5.0, "ms", Positive),
    p("e_rev_e", 0.0, "mV", Finite),
    p("e_rev_i", -80.0, "mV", Finite),
    p("v_init", -70.6, "mV", Finite),
    p("w_init", 0.0, "pA", Finite),
];
const IZHIKEVICH: &[ParamSpec] = &[
    p("a", 0.02, "1/ms", Finite),
    p("b", 0.2, "1/ms", Finite),
    p("c", -65.0, "mV", Finite),
    p("d", 8.0, "mV/ms", Finite),
    p("v_peak", 30.0, "mV", Finite),
    p("i_offset", 0.0, "mV/ms", Finite),
    p("tau_syn_e", 5.0, "ms", Positive),
    p("tau_syn_i", 5.0, "ms", Positive),
    p("e_rev_e", 0.0, "mV", Finite),
    p("e_rev_i", -80.0, "mV", Finite),
    p("v_init", -65.0, "mV", Finite),
    p("u_init", -13.0, "mV/ms", Finite),
];
const POISSON: &[ParamSpec] = &[p("rate", 10.0, "Hz", NonNegative)];
const SPIKE_SOURCE: &[ParamSpec] = &[];

impl ModelKind {
    /// The parameters of the model, with defaults and units.
    pub fn params(&self) -> &'static [ParamSpec] {
        match self {
            ModelKind::Rate { .. } => RATE,
            ModelKind::Lif { .. } => LIF,
            ModelKind::AdEx { .. } => ADEX,
            ModelKind::Izhikevich { .. } => IZHIKEVICH,
            ModelKind::PoissonSource => POISSON,
            ModelKind::SpikeSource => SPIKE_SOURCE,
        }
    }

    /// Position of parameter `name` in [`ModelKind::params`] (no allocation).
    pub fn param_position(&self, name: &str) -> Option<usize> {
        self.params().iter().position(|s| s.name == name)
    }

    /// Position of parameter `name` in [`ModelKind::params`], or an error listing the known names.
    pub fn param_index(&self, name: &str) -> Result<usize> {
        self.params()
            .iter()
            .position(|s| s.name == name)
            .ok_or_else(|| CortecsError::UnknownName {
                kind: "parameter",
                name: name.to_string(),
                known: self.params().iter().map(|s| s.name.to_string()).collect(),
            })
    }

    /// True for rate units (continuous output, no spikes).
    pub fn is_rate(&self) -> bool {
        matches!(self, ModelKind::Rate { .. })
    }

    /// The synapse type of a spiking model, `None` for rate units and sources.
    pub fn synapse(&self) -> Option<SynapseKind> {
        match self {
            ModelKind::Lif { synapse } | ModelKind::AdEx { synapse } | ModelKind::Izhikevich { synapse } => {
                Some(*synapse)
            }
            _ => None,
        }
    }

    /// A short name for summaries.
    pub fn name(&self) -> String {
        match self {
            ModelKind::Rate { activation } => format!("rate({activation:?})").to_lowercase(),
            ModelKind::Lif { synapse } => format!("lif_{synapse:?}").to_lowercase(),
            ModelKind::AdEx { synapse } => format!("adex_{synapse:?}").to_lowercase(),
            ModelKind::Izhikevich { synapse } => format!("izhikevich_{synapse:?}").to_lowercase(),
            ModelKind::PoissonSource => "poisson_source".into(),
            ModelKind::SpikeSource => "spike_source".into(),
        }
    }
}

/// Checks one resolved parameter array against its allowed range.
pub fn check_values(context: &str, spec: &ParamSpec, values: &[f64]) -> Result<()> {
    for (i, &x) in values.iter().enumerate() {
        let ok = match spec.check {
            Finite => x.is_finite(),
            Positive => x.is_finite() && x > 0.0,
            NonNegative => x.is_finite() && x >= 0.0,
        };
        if !ok {
            let need = match spec.check {
                Finite => "finite",
                Positive => "> 0",
                NonNegative => ">= 0",
            };
            return Err(CortecsError::param(
                format!("{context}.{}", spec.name),
                format!("must be {need} ({}), got {x} for neuron {i}", spec.unit),
            ));
        }
    }
    Ok(())
}

/// Per-neuron parameter arrays of a spiking population, one `Vec` per
/// [`ParamSpec`] of its model, in the model's order.
pub type Params = Vec<Vec<f64>>;

/// State of a spiking neuron population (SoA).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SpikingState {
    /// Membrane potential (mV).
    pub v: Vec<f64>,
    /// Adaptation: AdEx `w` (pA), Izhikevich `u`; unused (zero) otherwise.
    pub w: Vec<f64>,
    /// Excitatory synaptic variable: conductance (nS) or current (pA).
    pub g_e: Vec<f64>,
    /// Inhibitory synaptic variable (nS or pA, positive).
    pub g_i: Vec<f64>,
    /// Alpha synapses: the auxiliary excitatory variable; unused (zero) otherwise.
    pub x_e: Vec<f64>,
    /// Alpha synapses: the auxiliary inhibitory variable; unused (zero) otherwise.
    pub x_i: Vec<f64>,
    /// Steps of refractoriness left.
    pub refractory: Vec<u32>,
}

/// Read-only inputs of one step for a chunk of neurons.
pub struct StepInput<'a> {
    /// Excitatory input arriving this step (delta: mV jump; exp/alpha: nS or pA jump).
    pub exc: &'a [f64],
    /// Inhibitory input arriving this step, as a positive magnitude.
    pub inh: &'a [f64],
    /// External current (pA; Izhikevich: mV/ms) written by the host or stimuli.
    pub current: &'a [f64],
}

/// Initial state of a spiking population from its resolved parameters.
pub fn initial_state(kind: &ModelKind, params: &Params, n: usize) -> SpikingState {
    let get = |name: &str| kind.param_position(name).map(|i| params[i].clone());
    SpikingState {
        v: get("v_init").unwrap_or_else(|| vec![0.0; n]),
        w: get("w_init").or_else(|| get("u_init")).unwrap_or_else(|| vec![0.0; n]),
        g_e: get("g_e_init").unwrap_or_else(|| vec![0.0; n]),
        g_i: get("g_i_init").unwrap_or_else(|| vec![0.0; n]),
        x_e: vec![0.0; n],
        x_i: vec![0.0; n],
        refractory: vec![0; n],
    }
}

/// A mutable view of a chunk of a spiking population's state.
pub struct StateChunk<'a> {
    /// Membrane potentials.
    pub v: &'a mut [f64],
    /// Adaptation variable (may be empty).
    pub w: &'a mut [f64],
    /// Excitatory synaptic variable.
    pub g_e: &'a mut [f64],
    /// Inhibitory synaptic variable.
    pub g_i: &'a mut [f64],
    /// Alpha auxiliaries (may be empty).
    pub x_e: &'a mut [f64],
    /// Alpha auxiliaries (may be empty).
    pub x_i: &'a mut [f64],
    /// Refractory counters.
    pub refractory: &'a mut [u32],
}

/// Per-neuron constants derived from the parameters and dt, computed once
/// when a population is built or its parameters change, so the step loop
/// does no division and no `exp` it can avoid.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Derived {
    /// dt / C_m (ms/pF); Izhikevich: dt.
    pub dt_over_cm: Vec<f64>,
    /// Leak conductance (nS): LIF C_m/tau_m, AdEx g_l.
    pub g_l: Vec<f64>,
    /// Delta LIF: exp(-dt/tau_m).
    pub p_mem: Vec<f64>,
    /// Delta LIF: R (1 - exp(-dt/tau_m)) = tau_m/C_m (1 - P) (mV/pA).
    pub r_mem: Vec<f64>,
    /// dt / tau_syn_e.
    pub k_e: Vec<f64>,
    /// dt / tau_syn_i.
    pub k_i: Vec<f64>,
    /// Refractory steps round(t_ref / dt).
    pub ref_steps: Vec<u32>,
    /// AdEx: dt / tau_w.
    pub k_w: Vec<f64>,
    /// The time step (ms).
    pub dt: f64,
    /// True when every parameter and derived constant is the same for all
    /// neurons (the kernel then uses scalars).
    pub uniform: bool,
}

impl Derived {
    /// Computes the constants of a spiking model for time step `dt` (ms).
    pub fn new(kind: &ModelKind, params: &Params, dt: f64) -> Derived {
        let get = |name: &str| kind.param_position(name).map(|i| params[i].as_slice()).unwrap_or(&[]);
        let (tau_m, cm) = (get("tau_m"), get("cm"));
        let map = |a: &[f64], f: &dyn Fn(f64) -> f64| a.iter().map(|&x| f(x)).collect::<Vec<f64>>();
        let mut d = Derived {
            k_e: map(get("tau_syn_e"), &|t| dt / t),
            k_i: map(get("tau_syn_i"), &|t| dt / t),
            ref_steps: get("t_ref").iter().map(|&t| (t / dt).round() as u32).collect(),
            k_w: map(get("tau_w"), &|t| dt / t),
            dt,
            ..Derived::default()
        };
        match kind {
            ModelKind::Lif { .. } => {
                d.dt_over_cm = map(cm, &|c| dt / c);
                d.g_l = tau_m.iter().zip(cm).map(|(&t, &c)| c / t).collect();
                d.p_mem = map(tau_m, &|t| (-dt / t).exp());
                d.r_mem = tau_m
                    .iter()
                    .zip(cm)
                    .map(|(&t, &c)| t / c * (1.0 - (-dt / t).exp()))
                    .collect();
            }
            ModelKind::AdEx { .. } => {
                d.dt_over_cm = map(cm, &|c| dt / c);
                d.g_l = get("g_l").to_vec();
            }
            ModelKind::Izhikevich { .. } => d.dt_over_cm = vec![dt; get("a").len()],
            _ => {}
        }
        let same = |x: &[f64]| x.windows(2).all(|w| w[0].to_bits() == w[1].to_bits());
        let runtime = kind
            .params()
            .iter()
            .zip(params)
            .filter(|(spec, _)| !spec.name.ends_with("_init"));
        d.uniform = runtime.map(|(_, p)| p).all(|p| same(p))
            && [&d.dt_over_cm, &d.g_l, &d.p_mem, &d.r_mem, &d.k_e, &d.k_i, &d.k_w]
                .iter()
                .all(|x| same(x))
            && d.ref_steps.windows(2).all(|w| w[0] == w[1]);
        d
    }
}

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

impl<'a> MemConsts<&'a [f64], &'a [u32]> {
    fn slices(kind: &ModelKind, params: &'a Params, d: &'a Derived, r: std::ops::Range<usize>) -> Self {
        let pk = |name: &str| kind.param_position(name).map(|i| &params[i][r.clone()]).unwrap_or(&[]);
        let dk = |x: &'a [f64]| if x.is_empty() { x } else { &x[r.clone()] };
        let izh = matches!(kind, ModelKind::Izhikevich { .. });
        MemConsts {
            e_e: pk("e_rev_e"),
            e_i: pk("e_rev_i"),
            i_off: pk("i_offset"),
            k_e: dk(&d.k_e),
            k_i: dk(&d.k_i),
            dt_c: dk(&d.dt_over_cm),
            v_reset: if izh { pk("c") } else { pk("v_reset") },
            v_rest: pk("v_rest"),
            v_th: pk("v_thresh"),
            g_l: dk(&d.g_l),
            d_t: pk("delta_t"),
            v_spike: pk("v_spike"),
            a: pk("a"),
            b: pk("b"),
            k_w: dk(&d.k_w),
            iz_d: pk("d"),
            v_peak: pk("v_peak"),
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

/// Synaptic variables of one neuron for one step: returns the synaptic
/// current (pA) at the start of the step and advances the variables
/// (Euler), adding this step's arrivals afterwards.
#[inline(always)]
fn synapse_step<const COND: bool, const ALPHA: bool, P: Per<f64>, Q>(
    v0: f64,
    k: usize,
    s: &mut StateChunk<'_>,
    c: &MemConsts<P, Q>,
    exc: f64,
    inh: f64,
) -> f64 {
    let (ge, gi) = (s.g_e[k], s.g_i[k]);
    let i_syn = if COND {
        ge * (c.e_e.at(k) - v0) + gi * (c.e_i.at(k) - v0)
    } else {
        ge - gi
    };
    let (k_e, k_i) = (c.k_e.at(k), c.k_i.at(k));
    if ALPHA {
        let (xe, xi) = (s.x_e[k], s.x_i[k]);
        s.g_e[k] = ge + k_e * (std::f64::consts::E * xe - ge);
        s.g_i[k] = gi + k_i * (std::f64::consts::E * xi - gi);
        s.x_e[k] = xe - k_e * xe + exc;
        s.x_i[k] = xi - k_i * xi + inh;
    } else {
        s.g_e[k] = ge - k_e * ge + exc;
        s.g_i[k] = gi - k_i * gi + inh;
    }
    i_syn
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
    let (v_rest, v_th, v_reset, i_off) = (pk("v_rest"), pk("v_thresh"), pk("v_reset"), pk("i_offset"));
    let (p_mem, r_mem, ref_steps) = (&d.p_mem[r.clone()], &d.r_mem[r.clone()], &d.ref_steps[r.clone()]);
    let (exc, inh, cur) = (&input.exc[..n], &input.inh[..n], &input.current[..n]);
    for k in 0..n {
        if s.refractory[k] > 0 {
            s.refractory[k] -= 1;
            s.v[k] = v_reset[k];
            continue;
        }
        let v = v_rest[k] + (s.v[k] - v_rest[k]) * p_mem[k] + r_mem[k] * (i_off[k] + cur[k]) + exc[k] - inh[k];
        if v >= v_th[k] {
            spikes.push(k as u32);
            s.v[k] = v_reset[k];
            s.refractory[k] = ref_steps[k];
        } else {
            s.v[k] = v;
        }
    }
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
    let has_ref = !d.ref_steps.is_empty();
    if d.uniform {
        membrane_loop::<M, COND, ALPHA, _, _>(&c.same(), has_ref, d.dt, s, input, spikes);
    } else {
        membrane_loop::<M, COND, ALPHA, _, _>(&c, has_ref, d.dt, s, input, spikes);
    }
}

#[inline(always)]
fn membrane_loop<const M: u8, const COND: bool, const ALPHA: bool, P: Per<f64>, Q: Per<u32>>(
    c: &MemConsts<P, Q>,
    has_ref: bool,
    dt: f64,
    mut s: StateChunk<'_>,
    input: StepInput<'_>,
    spikes: &mut Vec<u32>,
) {
    let n = s.v.len();
    let (exc, inh, cur) = (&input.exc[..n], &input.inh[..n], &input.current[..n]);
    for k in 0..n {
        let v0 = s.v[k];
        let i_syn = synapse_step::<COND, ALPHA, P, Q>(v0, k, &mut s, c, exc[k], inh[k]);
        let i_ext = c.i_off.at(k) + cur[k];
        if has_ref && s.refractory[k] > 0 {
            s.refractory[k] -= 1;
            s.v[k] = c.v_reset.at(k);
            continue;
        }
        let (v, spiked) = match M {
            0 => {
                let v = v0 + c.dt_c.at(k) * (c.g_l.at(k) * (c.v_rest.at(k) - v0) + i_syn + i_ext);
                (v, v > c.v_th.at(k))
            }
            1 => {
                let (w, g_l, d_t) = (s.w[k], c.g_l.at(k), c.d_t.at(k));
                let exp_term = g_l * d_t * ((v0 - c.v_th.at(k)) / d_t).min(50.0).exp();
                let v = v0 + c.dt_c.at(k) * (g_l * (c.v_rest.at(k) - v0) + exp_term + i_syn + i_ext - w);
                s.w[k] = w + c.k_w.at(k) * (c.a.at(k) * (v0 - c.v_rest.at(k)) - w);
                (v, v >= c.v_spike.at(k))
            }
            _ => {
                let u = s.w[k];
                let v = v0 + dt * (0.04 * v0 * v0 + 5.0 * v0 + 140.0 - u + i_syn + i_ext);
                s.w[k] = u + dt * c.a.at(k) * (c.b.at(k) * v0 - u);
                (v, v >= c.v_peak.at(k))
            }
        };
        if spiked {
            spikes.push(k as u32);
            s.v[k] = c.v_reset.at(k);
            match M {
                1 => s.w[k] += c.b.at(k),
                2 => s.w[k] += c.iz_d.at(k),
                _ => {}
            }
            if has_ref {
                s.refractory[k] = c.ref_steps.at(k);
            }
        } else {
            s.v[k] = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                    exc: &[0.0],
                    inh: &[0.0],
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
    fn fast_tanh_is_within_5e7_of_tanh() {
        let mut worst = 0.0f64;
        for k in -200_000..=200_000 {
            let x = k as f32 * 1e-4;
            let err = (f64::from(fast_tanh(x)) - f64::from(x).tanh()).abs();
            worst = worst.max(err);
        }
        assert!(worst < 5e-7, "{worst}");
        assert_eq!(fast_tanh(100.0), fast_tanh(7.905_311));
        assert!(fast_tanh(f32::INFINITY) > 0.99999);
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

    #[test]
    fn adex_spikes_and_adapts() {
        let kind = ModelKind::AdEx {
            synapse: SynapseKind::CondExp,
        };
        let prm = defaults(&kind, 1);
        let (spikes, st) = run(&kind, &prm, 5_000, 1000.0, 0.1);
        assert!(spikes.len() >= 3);
        assert!(st.w[0] > 0.0);
        let isi: Vec<usize> = spikes.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(isi[0] <= *isi.last().unwrap());
    }
}
