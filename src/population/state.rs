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

    /// Trials side by side: the batch of a rate population, 1 for every other.
    #[inline]
    pub fn trials(&self) -> usize {
        match &self.state {
            PopulationState::Rate(s) => s.batch.max(1),
            _ => 1,
        }
    }

    /// f(v) of rate unit `i` in trial `trial` (see [`Population::output`]
    /// for other kinds, which have one trial). Out of range: 0.
    #[inline]
    pub fn output_trial(&self, i: usize, trial: usize, steps_done: u64) -> f64 {
        match &self.state {
            PopulationState::Rate(s) => s.r.get(i * s.batch + trial).map_or(0.0, |&r| f64::from(r)),
            _ => self.output(i, steps_done),
        }
    }

    /// Pre-activation of rate unit `i` in trial `trial` (see [`Population::potential`]).
    #[inline]
    pub fn potential_trial(&self, i: usize, trial: usize) -> f64 {
        match &self.state {
            PopulationState::Rate(s) => s.v.get(i * s.batch + trial).map_or(0.0, |&v| f64::from(v)),
            _ => self.potential(i),
        }
    }

    /// Sets the external input of rate unit `i` in trial `trial` only (for
    /// other kinds, which have one trial, as [`Population::set_input`]).
    /// Out of range: ignored (callers check channels and trials).
    #[inline]
    pub fn set_input_trial(&mut self, i: usize, trial: usize, x: f64) {
        match &mut self.state {
            PopulationState::Rate(s) => {
                if i < self.size && trial < s.batch {
                    s.input[i * s.batch + trial] = x as f32;
                }
            }
            _ => self.set_input(i, x),
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
