//! The engine's root: a [`Network`] holds populations, projections and the
//! clock, by name. It is plain data plus pure functions: it can be built,
//! stepped, read and edited without any `World` (that is how the kernels are
//! tested and benchmarked). In an ECS world it lives in a
//! `ecs::NetworkEngine` component on a network entity, and the
//! systems of [`crate::systems`] keep the user's entities in step with it.
//!
//! Here: the registry and by-name lookups (this file), building
//! ([`build`](Network::add_population)), the by-name facade over each
//! projection's edit protocol (`weights.rs`: matrices, single synapses,
//! lesions, adjusters, masks; `matrix_ops.rs`: eigenvalues and spectral
//! radius; `stats.rs`: weight sums, E/I input, bounds), the run-time draw
//! counts that key random edits (`draws.rs`), the memory budget and the summary. Below it:
//! `population/` and `projection/` (what is built), `kernel/` (the step),
//! `connect/` (strategies), `mask/`. Above it: `ecs/`, `checkpoint/`, `scene/`.

mod budget;
mod build;
mod draws;
mod health;
mod input;
mod learning;
mod matrix_ops;
mod noise;
mod rewire;
mod stats;
mod steps;
mod summary;
mod trained;
mod weights;

pub use budget::*;
pub use build::connectivity_pairs;
pub use draws::DrawCounts;
pub(crate) use health::scan as scan_health;
pub use health::{DEFAULT_CHECK_EVERY, Health, NonFinite, OnNonFinite};
pub use input::InputStream;
pub use noise::NoiseCurrent;
pub use stats::ProjectionStats;
pub use steps::{Rounding, WHOLE_STEP_TOLERANCE, whole_steps};
pub use summary::*;

use crate::error::{CortecsError, Result};
use crate::param::{Owner, Value};
use crate::population::{Population, View};
use crate::projection::{Projection, ProjectionSpec};
use ndarray::Array1;
use std::path::PathBuf;

/// A network: populations, projections, clock.
#[derive(Clone, Debug)]
pub struct Network {
    /// Time step (ms).
    pub dt: f64,
    /// Global seed.
    pub seed: u64,
    /// Steps done.
    pub step: u64,
    /// Folder against which relative file paths are resolved.
    pub base_dir: PathBuf,
    /// Populations, in update order.
    pub populations: Vec<Population>,
    /// Projections.
    pub projections: Vec<Projection>,
    /// Projections declared but not built yet.
    pub pending: Vec<ProjectionSpec>,
    /// Random run-time operations so far, all targets together (a count for
    /// reports; the streams are keyed by [`Network::draws`]).
    pub set_count: u64,
    /// Random run-time operations per target: key their streams (see [`DrawCounts`]).
    pub draws: DrawCounts,
    /// Input arrays playing into populations, one row per step ([`Network::play_input`]).
    pub inputs: Vec<InputStream>,
    /// Noisy currents into spiking populations ([`Network::add_noise_current`]).
    pub noise: Vec<NoiseCurrent>,
    /// Whether times and delays that are not whole steps are refused (default) or rounded.
    pub rounding: Rounding,
    /// The run-time check for non-finite state ([`Health`]).
    pub health: Health,
}

impl Network {
    /// An empty network with time step `dt` (ms) and global `seed`.
    pub fn new(dt: f64, seed: u64) -> Result<Network> {
        if !(dt.is_finite() && dt > 0.0) {
            return Err(CortecsError::param(
                "network.dt",
                format!("time step must be > 0 ms, got {dt}"),
            ));
        }
        Ok(Network {
            dt,
            seed,
            step: 0,
            base_dir: PathBuf::from("."),
            populations: Vec::new(),
            projections: Vec::new(),
            pending: Vec::new(),
            set_count: 0,
            draws: DrawCounts::default(),
            inputs: Vec::new(),
            noise: Vec::new(),
            rounding: Rounding::Exact,
            health: Health::default(),
        })
    }

    /// Biological time (ms).
    pub fn time(&self) -> f64 {
        self.step as f64 * self.dt
    }

    /// Index of the population called `name`.
    pub fn population_index(&self, name: &str) -> Result<usize> {
        self.populations
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| CortecsError::UnknownName {
                kind: "population",
                name: name.to_string(),
                known: self.populations.iter().map(|p| p.name.clone()).collect(),
            })
    }

    /// Index of the projection called `name`.
    pub fn projection_index(&self, name: &str) -> Result<usize> {
        self.projections
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| CortecsError::UnknownName {
                kind: "projection",
                name: name.to_string(),
                known: self.projections.iter().map(|p| p.name.clone()).collect(),
            })
    }

    /// Sets a parameter or state variable of population `population` on the
    /// neurons of `view` (PyNN's `p[view].set(name=value)`); random values are
    /// drawn from a stream keyed by the population, the name and how many
    /// random operations that population had before (never another's).
    pub fn set(&mut self, population: &str, name: &str, view: &View, value: impl Into<Value>) -> Result<()> {
        let i = self.population_index(population)?;
        let value = value.into();
        let draw = if matches!(value, Value::Random(_)) {
            self.set_count += 1;
            self.draws.next_population(population)
        } else {
            self.draws.population(population)
        };
        self.populations[i].set(name, view, &value, self.seed, draw)
    }

    /// Values of a parameter or state variable of a population, for the neurons of `view`.
    pub fn get(&self, population: &str, name: &str, view: &View) -> Result<Array1<f64>> {
        let p = self.population(population)?;
        let all = p.get(name)?;
        let idx = view.indices(p.size, population)?;
        Ok(idx.iter().map(|&i| all[i]).collect())
    }

    /// The population called `name`.
    pub fn population(&self, name: &str) -> Result<&Population> {
        Ok(&self.populations[self.population_index(name)?])
    }

    /// The projection called `name`.
    pub fn projection(&self, name: &str) -> Result<&Projection> {
        Ok(&self.projections[self.projection_index(name)?])
    }

    /// Mutable projection called `name`.
    pub fn projection_mut(&mut self, name: &str) -> Result<&mut Projection> {
        let i = self.projection_index(name)?;
        Ok(&mut self.projections[i])
    }

    fn owner<'a>(&'a self, name: &'a str, param: &'a str) -> Owner<'a> {
        Owner {
            seed: self.seed,
            name,
            param,
            base_dir: &self.base_dir,
        }
    }

    /// Advances the network by `steps` time steps (fewer if the health
    /// check stops it), then checks its health unless the last step did.
    pub fn run_steps(&mut self, steps: u64) {
        for _ in 0..steps {
            if self.health.stopped() {
                break;
            }
            self.step_once();
        }
        if steps > 0 {
            self.check_health_at_end();
        }
    }

    /// The health check at the end of a run segment: checks now unless the
    /// last step was a regular check (or checks are off).
    pub fn check_health_at_end(&mut self) {
        let every = self.health.check_every;
        if every > 1 && !self.step.is_multiple_of(every) {
            self.check_health();
        }
    }

    /// The error of a fault found by the health check under
    /// [`OnNonFinite::Stop`] (the network has stopped stepping), else `Ok`.
    pub fn health_result(&self) -> Result<()> {
        match &self.health.fault {
            Some(f) if self.health.stopped() => Err(CortecsError::NonFinite(f.to_string())),
            _ => Ok(()),
        }
    }

    /// Checks the state for non-finite values now (see [`Health`]).
    pub fn check_health(&mut self) {
        if self.health.fault.is_some() {
            return;
        }
        if let Some(f) = health::scan(&self.populations, self.step, self.dt, self.health.check_every) {
            if self.health.on_non_finite == OnNonFinite::Warn {
                eprintln!("warning: {f} (warning once; the run goes on)");
            }
            self.health.fault = Some(f);
        }
    }

    /// Advances the network by `ms` milliseconds: a whole number of steps
    /// (or rounded to one under [`Rounding::Nearest`]).
    pub fn run_ms(&mut self, ms: f64) -> Result<()> {
        let steps = self.steps_of("run", ms)?;
        self.run_steps(steps);
        self.health_result()
    }

    /// `ms` as a number of steps under this network's [`Rounding`].
    pub fn steps_of(&self, what: &str, ms: f64) -> Result<u64> {
        whole_steps(what, ms, self.dt, self.rounding)
    }

    /// One time step: every population in order, then spike delivery
    /// ([`crate::kernel::step()`]). Weights written in bulk since the last
    /// step ([`Projection::weights_mut`]) get their masks enforced first.
    pub fn step_once(&mut self) {
        if self.projections.iter().any(|p| p.constrain_pending) {
            self.enforce_constraints();
        }
        if !self.inputs.is_empty() {
            self.feed_inputs();
        }
        if !self.noise.is_empty() {
            self.draw_noise();
        }
        crate::kernel::step(&mut self.populations, &mut self.projections, self.step, self.dt);
        if !self.inputs.is_empty() {
            self.end_inputs();
        }
        self.step += 1;
        let every = self.health.check_every;
        if every > 0 && self.step.is_multiple_of(every) {
            self.check_health();
        }
        self.rewire_due();
    }
}
