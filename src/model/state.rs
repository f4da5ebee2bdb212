//! The state of a spiking population (structure of arrays) and the views a kernel step reads and writes.

use super::{ModelKind, Params};
use serde::{Deserialize, Serialize};

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

/// Inputs of one step for a chunk of neurons. The step consumes the
/// arriving input: `exc` and `inh` are zero afterwards (the delay ring's
/// slot is then ready for reuse, without a second pass over it).
pub struct StepInput<'a> {
    /// Excitatory input arriving this step (delta: mV jump; exp/alpha: nS or pA jump).
    pub exc: &'a mut [f64],
    /// Inhibitory input arriving this step, as a positive magnitude.
    pub inh: &'a mut [f64],
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
