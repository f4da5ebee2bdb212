//! The parameters of each model: names, defaults, units, allowed ranges, and the constants derived from them.

use super::ModelKind;
use crate::error::{CortecsError, Result};
use serde::{Deserialize, Serialize};

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
    /// A finite number within float32's range (about 3.4e38): a value kept
    /// as f32 (the rate state and its bias).
    FiniteF32,
    /// Strictly positive.
    Positive,
    /// Zero or positive.
    NonNegative,
    /// A Poisson rate: from 0 to [`MAX_POISSON_RATE`] Hz.
    PoissonRate,
}

/// The highest Poisson source rate (Hz): 1 MHz, 100 spikes per step at
/// dt = 0.1 ms (an input of many neurons is one source per neuron, or a
/// few sources, not one of unbounded rate).
pub const MAX_POISSON_RATE: f64 = 1e6;

const fn p(name: &'static str, default: f64, unit: &'static str, check: Check) -> ParamSpec {
    ParamSpec {
        name,
        default,
        unit,
        check,
    }
}

use Check::{Finite, FiniteF32, NonNegative, PoissonRate, Positive};

const RATE: &[ParamSpec] = &[
    p("tau", 100.0, "ms", Positive),
    p("bias", 0.0, "1", FiniteF32),
    p("v_init", 0.0, "1", FiniteF32),
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
const POISSON: &[ParamSpec] = &[p("rate", 10.0, "Hz", PoissonRate)];
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

    /// Refuses a model and synapse pair that no kernel implements (AdEx and
    /// Izhikevich have no delta-synapse update); the error names `<owner>.model`.
    pub fn check_supported(&self, owner: &str) -> Result<()> {
        use super::SynapseKind::Delta;
        match self {
            ModelKind::AdEx { synapse: Delta } | ModelKind::Izhikevich { synapse: Delta } => Err(CortecsError::param(
                format!("{owner}.model"),
                format!(
                    "no kernel implements {} with `synapse: Delta`; use CurrExp, CurrAlpha, CondExp or CondAlpha",
                    self.name()
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Whether this model's update reads parameter `name`: delta synapses
    /// have no synaptic time constants or state, current-based synapses no
    /// reversal potentials. A value given for a parameter that is not read
    /// is refused (it would have no effect).
    pub fn reads(&self, name: &str) -> bool {
        use super::SynapseKind::*;
        let synaptic = matches!(name, "tau_syn_e" | "tau_syn_i" | "g_e_init" | "g_i_init");
        let reversal = matches!(name, "e_rev_e" | "e_rev_i");
        match self.synapse() {
            Some(Delta) => !(synaptic || reversal),
            Some(CurrExp | CurrAlpha) => !reversal,
            _ => true,
        }
    }

    /// Checks that `name` is a parameter of this model that its update
    /// reads; an unread one is an error naming `<owner>.<name>`.
    pub fn check_read(&self, owner: &str, name: &str) -> Result<usize> {
        let k = self.param_index(name)?;
        if !self.reads(name) {
            return Err(CortecsError::param(
                format!("{owner}.{name}"),
                format!(
                    "{} does not read `{name}` ({}); remove it",
                    self.name(),
                    if name.starts_with("e_rev") {
                        "reversal potentials are read by conductance synapses only"
                    } else {
                        "delta synapses have no synaptic time constants or state"
                    }
                ),
            ));
        }
        Ok(k)
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
}

/// Checks one resolved parameter array against its allowed range.
pub fn check_values(context: &str, spec: &ParamSpec, values: &[f64]) -> Result<()> {
    for (i, &x) in values.iter().enumerate() {
        let ok = match spec.check {
            Finite => x.is_finite(),
            FiniteF32 => x.is_finite() && (x as f32).is_finite(),
            Positive => x.is_finite() && x > 0.0,
            NonNegative => x.is_finite() && x >= 0.0,
            PoissonRate => (0.0..=MAX_POISSON_RATE).contains(&x),
        };
        if !ok {
            let need = match spec.check {
                Finite => "finite",
                FiniteF32 => "finite and within float32's range, about 3.4e38",
                Positive => "> 0",
                NonNegative => ">= 0",
                PoissonRate => "in [0, 1e6]",
            };
            return Err(CortecsError::param(
                format!("{context}.{}", spec.name),
                format!("must be {need} ({}), got {} for neuron {i}", spec.unit, number(x)),
            ));
        }
    }
    Ok(())
}

/// `x` as written by hand: plain, or with an exponent when very large or small.
fn number(x: f64) -> String {
    if x != 0.0 && x.is_finite() && !(1e-6..1e15).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// Per-neuron parameter arrays of a spiking population, one `Vec` per
/// [`ParamSpec`] of its model, in the model's order.
pub type Params = Vec<Vec<f64>>;

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
