//! Input arrays played into a population step by step: the per-trial input
//! of a rate network (a task's trials, shape steps x trials x units) or a
//! current waveform of spiking neurons (steps x 1 x neurons, pA).

use super::Network;
use crate::error::{CortecsError, Result};
use crate::population::PopulationState;
use ndarray::Array3;

/// An input array being played into one population: row `next` is the
/// external input of the next step.
#[derive(Clone, Debug, PartialEq)]
pub struct InputStream {
    /// Index of the population.
    pub population: usize,
    /// Steps x trials x units (rate units: added to the pre-activation;
    /// spiking neurons: injected current, pA).
    pub data: Array3<f32>,
    /// The row the next step takes.
    pub next: usize,
}

impl Network {
    /// Plays `data` (steps x trials x units) into `population`'s external
    /// input: row `t` is the input of the `t`-th step from now (rate units:
    /// added to the pre-activation of each trial; spiking neurons: current,
    /// pA, with one trial). After the last row the input is 0 again. A new
    /// array for the same population replaces the one playing. Wrong
    /// shapes, trial counts, sources and non-finite values are errors
    /// naming the population and the index.
    pub fn play_input(&mut self, population: &str, data: Array3<f32>) -> Result<()> {
        let p = self.population_index(population)?;
        let pop = &self.populations[p];
        let (steps, trials, units) = data.dim();
        if matches!(pop.state, PopulationState::Poisson | PopulationState::SpikeTimes { .. }) {
            return Err(CortecsError::InvalidRequest(format!(
                "input for '{population}': it is a source ({}) and takes no input",
                pop.model.name()
            )));
        }
        if units != pop.size {
            return Err(CortecsError::WrongLength {
                context: format!("input for '{population}' (steps x trials x units): units"),
                expected: pop.size,
                got: units,
            });
        }
        if trials != pop.trials() {
            return Err(CortecsError::WrongLength {
                context: format!("input for '{population}' (steps x trials x units): trials"),
                expected: pop.trials(),
                got: trials,
            });
        }
        if steps == 0 {
            return Err(CortecsError::InvalidRequest(format!(
                "input for '{population}': the array has no steps"
            )));
        }
        if let Some((at, x)) = data.indexed_iter().find(|(_, x)| !x.is_finite()) {
            return Err(CortecsError::InvalidRequest(format!(
                "input for '{population}': value {x} at (step {}, trial {}, unit {}) is not finite",
                at.0, at.1, at.2
            )));
        }
        self.inputs.retain(|s| s.population != p);
        self.inputs.push(InputStream {
            population: p,
            data,
            next: 0,
        });
        Ok(())
    }

    /// Steps left of the input playing into `population` (0: none).
    pub fn input_left(&self, population: &str) -> Result<usize> {
        let p = self.population_index(population)?;
        Ok(self
            .inputs
            .iter()
            .find(|s| s.population == p)
            .map_or(0, |s| s.data.dim().0 - s.next))
    }

    /// Writes this step's row of every playing input (O(units x trials)).
    pub(crate) fn feed_inputs(&mut self) {
        for s in &mut self.inputs {
            let pop = &mut self.populations[s.population];
            let (_, trials, units) = s.data.dim();
            let row = s.data.index_axis(ndarray::Axis(0), s.next);
            for i in 0..units {
                for b in 0..trials {
                    pop.set_input_trial(i, b, f64::from(row[[b, i]]));
                }
            }
            s.next += 1;
        }
    }

    /// After the step: zeroes the input of the arrays whose last row it
    /// took and drops them (so a checkpoint saved now holds input 0).
    pub(crate) fn end_inputs(&mut self) {
        let pops = &mut self.populations;
        self.inputs.retain(|s| {
            let (steps, _, units) = s.data.dim();
            if s.next < steps {
                return true;
            }
            for i in 0..units {
                pops[s.population].set_input(i, 0.0);
            }
            false
        });
    }
}
