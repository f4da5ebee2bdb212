//! The dynamic state of a population, as the kernels read and write it.

use super::Population;
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

impl Population {
    /// What neuron `i` outputs after `steps_done` steps of its network (the
    /// one "neuron output" rule of mirrors and motors): f(v) of trial 0 for
    /// rate units; 1 if it spiked in the last step, else 0, for spiking
    /// neurons and sources.
    #[inline]
    pub fn output(&self, i: usize, steps_done: u64) -> f64 {
        match &self.state {
            PopulationState::Rate(s) => f64::from(s.r[i * s.batch]),
            _ => f64::from(u8::from(steps_done > 0 && self.last_spike[i] == steps_done - 1)),
        }
    }

    /// Membrane potential (mV) of spiking neuron `i`, pre-activation of rate
    /// unit `i` (trial 0); 0 for sources.
    #[inline]
    pub fn potential(&self, i: usize) -> f64 {
        match &self.state {
            PopulationState::Rate(s) => f64::from(s.v[i * s.batch]),
            PopulationState::Spiking(s) => s.v[i],
            _ => 0.0,
        }
    }

    /// Sets the external input of neuron `i`: current (pA) of a spiking
    /// neuron, input added to the pre-activation of a rate unit (all
    /// trials). An index out of range is ignored (callers check channels).
    #[inline]
    pub fn set_input(&mut self, i: usize, x: f64) {
        if i >= self.size {
            return;
        }
        match &mut self.state {
            PopulationState::Rate(s) => {
                let b = s.batch;
                s.input[i * b..(i + 1) * b].fill(x as f32);
            }
            _ => self.current[i] = x,
        }
    }
}
