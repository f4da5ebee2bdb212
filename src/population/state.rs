//! The dynamic state of a population, as the kernels read and write it.

use crate::model::SpikingState;

/// State of a population of rate units, `batch` trials side by side
/// (neuron-major: unit `i`, trial `b` at `i * batch + b`).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RateState {
    /// Trials side by side.
    pub batch: usize,
    /// Pre-activation state v.
    pub v: Vec<f32>,
    /// Output r = f(v) (+ post-activation noise).
    pub r: Vec<f32>,
    /// External input of this step (written by the host or stimuli), same layout.
    pub input: Vec<f32>,
    /// Accumulator for the synaptic input of the step.
    pub(crate) acc: Vec<f32>,
}

/// The dynamic state of a population.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum PopulationState {
    /// Rate units.
    Rate(RateState),
    /// Spiking neurons.
    Spiking(SpikingState),
    /// Poisson sources (state is the rate parameter).
    Poisson,
    /// Spike-time sources: per neuron its spike steps and the next position.
    SpikeTimes {
        /// Sorted spike steps per neuron.
        steps: Vec<Vec<u64>>,
        /// Index of the next spike per neuron.
        next: Vec<usize>,
    },
}
