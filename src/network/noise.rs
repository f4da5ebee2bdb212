//! Noisy currents (NEST's `noise_generator`): Gaussian current into spiking
//! neurons, piecewise constant over intervals, drawn at the start of every
//! step whose interval has not been drawn yet; part of the network, so a
//! checkpoint carries them.

use crate::error::{CortecsError, Result};
use crate::network::Network;
use crate::rng::{Stream, standard_normal};
use serde::{Deserialize, Serialize};

/// One population's noisy current: every `every` steps each neuron gets a
/// new current `mean + std * N(0, 1)` (pA), independent across neurons and
/// intervals, held until the next interval (NEST `noise_generator` with
/// `dt = every x dt`). The draw of interval `j` comes from a stream keyed by
/// the network's seed, the population's name and `j`, so it does not depend
/// on threads, on how steps are grouped into ticks, or on a checkpoint in
/// between. The population takes its external current from here only: what
/// a host wrote there is overwritten at the next interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoiseCurrent {
    /// Population index.
    pub population: usize,
    /// Mean current (pA).
    pub mean: f64,
    /// Standard deviation (pA, >= 0).
    pub std: f64,
    /// Steps per interval (>= 1).
    pub every: u64,
    /// The interval whose currents the population holds now (`None`: none
    /// drawn yet; not saved: a loaded network draws its interval again, the
    /// same currents).
    #[serde(skip)]
    drawn: Option<u64>,
}

impl NoiseCurrent {
    /// A noisy current into spiking population `population` of `net`;
    /// `mean` and `std` finite (pA, `std` >= 0), `every` >= 1 step.
    pub fn new(net: &Network, population: &str, mean: f64, std: f64, every: u64) -> Result<NoiseCurrent> {
        let p = net.population_index(population)?;
        if net.populations[p].model.synapse().is_none() {
            return Err(CortecsError::InvalidRequest(format!(
                "a noisy current needs a spiking population; '{population}' is {}",
                net.populations[p].model.name()
            )));
        }
        check(mean, std)?;
        if every == 0 {
            return Err(CortecsError::param("noise current every", "must be >= 1 step"));
        }
        Ok(NoiseCurrent {
            population: p,
            mean,
            std,
            every,
            drawn: None,
        })
    }

    /// Changes mean and standard deviation (pA) from the next interval drawn on.
    pub fn set(&mut self, mean: f64, std: f64) -> Result<()> {
        check(mean, std)?;
        (self.mean, self.std) = (mean, std);
        Ok(())
    }

    /// Steps from `step` to the start of the next interval.
    pub fn steps_to_next(&self, step: u64) -> u64 {
        self.every - step % self.every
    }

    /// Writes the currents of the interval holding `step` into the
    /// population's external current, unless it holds them already.
    pub fn draw(&mut self, net: &mut Network, step: u64) {
        let interval = step / self.every;
        if self.drawn == Some(interval) {
            return;
        }
        let seed = net.seed;
        let pop = &mut net.populations[self.population];
        let mut rng = Stream::keyed(seed, &pop.name, "noise_current", interval);
        for c in pop.current.iter_mut() {
            *c = self.mean + self.std * standard_normal(&mut rng);
        }
        self.drawn = Some(interval);
    }
}

fn check(mean: f64, std: f64) -> Result<()> {
    if !mean.is_finite() {
        return Err(CortecsError::param(
            "noise current mean",
            format!("must be finite (pA), got {mean}"),
        ));
    }
    if !(std.is_finite() && std >= 0.0) {
        return Err(CortecsError::param(
            "noise current std",
            format!("must be finite and >= 0 (pA), got {std}"),
        ));
    }
    Ok(())
}

impl Network {
    /// Gives spiking population `population` a noisy current: mean and
    /// standard deviation (pA), a new draw every `every` steps (>= 1), from
    /// the next step on. A population has at most one; this replaces it.
    pub fn add_noise_current(&mut self, population: &str, mean: f64, std: f64, every: u64) -> Result<()> {
        let noise = NoiseCurrent::new(self, population, mean, std, every)?;
        self.noise.retain(|n| n.population != noise.population);
        self.noise.push(noise);
        Ok(())
    }

    /// The noisy current of `population`, if it has one.
    pub fn noise_current_mut(&mut self, population: &str) -> Result<Option<&mut NoiseCurrent>> {
        let p = self.population_index(population)?;
        Ok(self.noise.iter_mut().find(|n| n.population == p))
    }

    /// Steps from now to the next interval start of any noisy current (`None` when there are none).
    pub fn steps_to_next_noise(&self) -> Option<u64> {
        self.noise.iter().map(|n| n.steps_to_next(self.step)).min()
    }

    /// Writes the currents of the intervals holding the current step (at
    /// the start of a step, once per interval).
    pub(crate) fn draw_noise(&mut self) {
        let mut noise = std::mem::take(&mut self.noise);
        for n in &mut noise {
            n.draw(self, self.step);
        }
        self.noise = noise;
    }
}
