//! What a neuron IS (Nengo `nengo/neurons.py`, GeNN `neuronModels.h`):
//! the model kinds, their parameter tables and checks, and the layout of a
//! spiking population's state. The per-step updates are hot loops and live in
//! `kernel` (`neuron_spiking.rs`, `neuron_rate.rs`); populations that
//! hold these parameters and states are in `population/`.
//!
//! Files: [`ModelKind`], [`SynapseKind`], [`Activation`] (here);
//! [`ParamSpec`], the tables, [`check_values`], [`Params`], [`Derived`]
//! (`params.rs`); [`SpikingState`], [`StateChunk`], [`StepInput`],
//! [`initial_state`] (`state.rs`).
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

mod activation;
mod params;
mod state;

pub use activation::fast_tanh;
pub use params::*;
pub use state::*;

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

/// Which model a population's neurons follow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

impl ModelKind {
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
