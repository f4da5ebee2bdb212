//! Embedding cortecs in a host's `bevy_ecs` world: sensor input and motor
//! output of a network, one frame at a time.
//!
//! A host (a game, an agent-based model) owns the `World` and the
//! `Schedule`; [`crate::systems::add_to_schedule`] adds cortecs' stages.
//! Each network is one entity with a [`NetworkEngine`](crate::ecs::NetworkEngine);
//! for an agent that is naturally the agent's own entity. Put a [`Sensors`]
//! and a [`Motors`] component beside the engine: a host system writes the
//! sensor values between `CortecsSystems::Stimulate` and
//! `CortecsSystems::Integrate`, the Integrate stage feeds them to the
//! chosen neurons, advances `steps_per_tick` steps and fills the motor
//! values, which a host system reads after `CortecsSystems::Integrate`.
//! Cost per frame: O(channels) for input and output, no entity lookups; the
//! networks themselves are stepped over rayon, many per task.
//!
//! The minimal host (the same code is in the README's "Embedding" section):
//!
//! ```
//! use bevy_ecs::prelude::*;
//! use cortecs::prelude::*;
//!
//! // one brain: 3 sensor units feeding 8 recurrent tanh units (dt = 10 ms)
//! fn brain(seed: u64) -> cortecs::Result<Network> {
//!     let mut net = Network::new(10.0, seed)?;
//!     net.add_population(PopulationSpec::new("eyes", 3, ModelKind::Rate { activation: Activation::Identity }).param("tau", 10.0))?;
//!     net.add_population(PopulationSpec::new("brain", 8, ModelKind::Rate { activation: Activation::Tanh }).param("tau", 50.0))?;
//!     net.add_projection(ProjectionSpec::new("in", "eyes", "brain", Strategy::AllToAll).weight(Distribution::Normal { mean: 0.0, std: 1.0 }).compact(true))?;
//!     net.add_projection(ProjectionSpec::new("rec", "brain", "brain", Strategy::AllToAll).weight(Distribution::Normal { mean: 0.0, std: 0.3 }).compact(true))?;
//!     net.build_pending()?;
//!     Ok(net)
//! }
//!
//! #[derive(Component)]
//! struct Heading(f32);
//!
//! // host systems: write sensors before Integrate, read motors after it
//! fn sense(mut agents: Query<(&Heading, &mut Sensors)>) {
//!     for (heading, mut sensors) in &mut agents {
//!         let v = sensors.values_mut(); // or sensors.set(channel, x)?
//!         v[0] = heading.0.sin();
//!         v[1] = heading.0.cos();
//!         v[2] = 1.0;
//!     }
//! }
//! fn act(mut agents: Query<(&mut Heading, &Motors)>) {
//!     for (mut heading, motors) in &mut agents {
//!         heading.0 += 0.1 * motors.values()[0]; // f(v) of brain neuron 0, in [-1, 1]
//!     }
//! }
//!
//! let mut world = World::new();
//! for seed in 0..100 {
//!     let net = brain(seed).unwrap();
//!     let sensors = Sensors::population(&net, "eyes").unwrap();
//!     let motors = Motors::new(&net, &[("brain", 0)], Readout::Output).unwrap();
//!     let mut engine = NetworkEngine::new(net);
//!     engine.steps_per_tick = 10; // one frame = 10 steps of 10 ms
//!     world.spawn((engine, sensors, motors, Heading(0.0)));
//! }
//! let mut schedule = Schedule::default();
//! add_to_schedule(&mut schedule);
//! schedule.add_systems(sense.after(CortecsSystems::Stimulate).before(CortecsSystems::Integrate));
//! schedule.add_systems(act.after(CortecsSystems::Integrate));
//! for _frame in 0..5 {
//!     schedule.run(&mut world);
//! }
//! ```
//!
//! Despawning a network entity despawns its population, projection, neuron
//! and synapse entities with it (see [`crate::ecs::NetworkEngine`]).

use crate::ecs::NetworkEngine;
use crate::error::{CortecsError, Result};
use crate::network::Network;
use crate::population::{Population, PopulationState};
use bevy_ecs::prelude::*;

/// One neuron a sensor writes or a motor reads: population index and neuron index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Channel {
    /// Index of the population in the network.
    pub population: u32,
    /// Index of the neuron in the population.
    pub neuron: u32,
}

/// Resolves `(population name, neuron index)` pairs against a network.
fn resolve(net: &Network, neurons: &[(&str, usize)], what: &str) -> Result<Vec<Channel>> {
    neurons
        .iter()
        .enumerate()
        .map(|(c, &(name, i))| {
            let p = net.population_index(name)?;
            let size = net.populations[p].size;
            if i >= size {
                return Err(CortecsError::InvalidRequest(format!(
                    "{what} channel {c}: neuron {i} is out of range for population '{name}' of {size} neurons"
                )));
            }
            Ok(Channel {
                population: p as u32,
                neuron: i as u32,
            })
        })
        .collect()
}

fn whole_population(net: &Network, population: &str) -> Result<Vec<(String, usize)>> {
    let p = net.population(population)?;
    Ok((0..p.size).map(|i| (population.to_string(), i)).collect())
}

fn as_pairs(v: &[(String, usize)]) -> Vec<(&str, usize)> {
    v.iter().map(|(n, i)| (n.as_str(), *i)).collect()
}

/// Sensor channels of a network: the host writes one value per channel each
/// frame, the Integrate stage feeds it to the channel's neuron as external
/// input (rate units: added to the pre-activation, every trial; spiking
/// models: injected current in pA) for every step of the frame.
///
/// Lives on the network entity, beside its [`NetworkEngine`]. A value stays
/// until it is written again. Sensor neurons take their input from here
/// only: a [`crate::ecs::NeuronInput`] on the same neuron is overwritten.
///
/// Trials: by default one value per channel goes to every trial of a
/// batched rate population. [`Sensors::with_trials`] gives each trial its
/// own values (one trial of a batch = one agent or one task trial).
#[derive(Component, Clone, Debug, PartialEq)]
pub struct Sensors {
    channels: Vec<Channel>,
    /// Trials the values are for (1: every trial gets the same).
    trials: usize,
    /// Trial-major: channel `c` of trial `b` at `b * channels + c`.
    values: Vec<f32>,
}

impl Sensors {
    /// Sensor channels on the given `(population, neuron index)` pairs, in
    /// order, all values 0. Unknown populations, out-of-range indices and
    /// source populations (which take no input) are errors.
    pub fn new(net: &Network, neurons: &[(&str, usize)]) -> Result<Sensors> {
        let channels = resolve(net, neurons, "sensor")?;
        for (c, ch) in channels.iter().enumerate() {
            let pop = &net.populations[ch.population as usize];
            if matches!(pop.state, PopulationState::Poisson | PopulationState::SpikeTimes { .. }) {
                return Err(CortecsError::InvalidRequest(format!(
                    "sensor channel {c}: population '{}' is a source ({}) and takes no input",
                    pop.name,
                    pop.model.name()
                )));
            }
        }
        Ok(Sensors {
            values: vec![0.0; channels.len()],
            trials: 1,
            channels,
        })
    }

    /// These channels with one value per channel and trial, all 0. Every
    /// channel must then be on a rate population of exactly `trials` trials
    /// (checked by [`Sensors::check`]); `trials` = 0 is an error.
    pub fn with_trials(mut self, trials: usize) -> Result<Sensors> {
        if trials == 0 {
            return Err(CortecsError::InvalidRequest("sensors: trials must be >= 1".into()));
        }
        self.trials = trials;
        self.values = vec![0.0; self.channels.len() * trials];
        Ok(self)
    }

    /// Trials the values are for (1: the same values for every trial).
    pub fn trials(&self) -> usize {
        self.trials
    }

    /// Sets channel `channel` of trial `trial` to `value`; out-of-range
    /// channels or trials and non-finite values are errors.
    pub fn set_trial(&mut self, channel: usize, trial: usize, value: f32) -> Result<()> {
        let n = self.channels.len();
        trial_in_range("sensor", trial, self.trials)?;
        if channel >= n {
            return Err(CortecsError::InvalidRequest(format!(
                "sensor channel {channel} is out of range ({n} channels)"
            )));
        }
        if !value.is_finite() {
            return Err(CortecsError::InvalidRequest(format!(
                "sensor channel {channel}, trial {trial}: value {value} is not finite"
            )));
        }
        self.values[trial * n + channel] = value;
        Ok(())
    }

    /// The values of one trial, one per channel, for writing (unchecked:
    /// the caller keeps them finite); a trial out of range is an error.
    pub fn trial_mut(&mut self, trial: usize) -> Result<&mut [f32]> {
        let n = self.channels.len();
        trial_in_range("sensor", trial, self.trials)?;
        Ok(&mut self.values[trial * n..(trial + 1) * n])
    }

    /// One sensor channel per neuron of `population`, in index order.
    pub fn population(net: &Network, population: &str) -> Result<Sensors> {
        Sensors::new(net, &as_pairs(&whole_population(net, population)?))
    }

    /// Number of channels.
    pub fn len(&self) -> usize {
        self.channels.len()
    }

    /// True when there are no channels.
    pub fn is_empty(&self) -> bool {
        self.channels.is_empty()
    }

    /// The neurons the channels write.
    pub fn channels(&self) -> &[Channel] {
        &self.channels
    }

    /// Sets channel `channel` to `value` (rate units: unitless input; spiking: pA)
    /// in trial 0 (with one trial: in every trial of the population).
    /// A channel out of range or a non-finite value is an error.
    pub fn set(&mut self, channel: usize, value: f32) -> Result<()> {
        let n = self.channels.len();
        if channel >= n {
            return Err(CortecsError::InvalidRequest(format!(
                "sensor channel {channel} is out of range ({n} channels)"
            )));
        }
        if !value.is_finite() {
            return Err(CortecsError::InvalidRequest(format!(
                "sensor channel {channel}: value {value} is not finite"
            )));
        }
        self.values[channel] = value;
        Ok(())
    }

    /// The current values: one per channel, trial after trial.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// The values, for writing all channels (and trials) at once (unchecked:
    /// the caller keeps them finite).
    pub fn values_mut(&mut self) -> &mut [f32] {
        &mut self.values
    }

    /// Checks that every channel exists in `net` and, with several trials,
    /// that its population runs exactly that many.
    pub fn check(&self, net: &Network) -> Result<()> {
        check_channels(&net.populations, &self.channels, "sensor", self.trials)
    }

    /// Writes the values into the network's inputs (O(channels x trials)).
    /// Errors if a channel does not exist in `net` (the sensors were made
    /// for another network) or its trials do not match.
    pub fn apply(&self, net: &mut Network) -> Result<()> {
        self.check(net)?;
        let n = self.channels.len();
        if self.trials == 1 {
            for (ch, &x) in self.channels.iter().zip(&self.values) {
                net.populations[ch.population as usize].set_input(ch.neuron as usize, f64::from(x));
            }
            return Ok(());
        }
        for (b, row) in self.values.chunks_exact(n.max(1)).enumerate() {
            for (ch, &x) in self.channels.iter().zip(row) {
                net.populations[ch.population as usize].set_input_trial(ch.neuron as usize, b, f64::from(x));
            }
        }
        Ok(())
    }
}

/// An error unless `trial` < `trials`.
fn trial_in_range(what: &str, trial: usize, trials: usize) -> Result<()> {
    if trial >= trials {
        return Err(CortecsError::InvalidRequest(format!(
            "{what} trial {trial} is out of range ({trials} trials)"
        )));
    }
    Ok(())
}

/// Checks that every channel's neuron exists in `pops` and, for `trials` > 1,
/// that its population is a rate population of exactly `trials` trials.
fn check_channels(pops: &[Population], channels: &[Channel], what: &str, trials: usize) -> Result<()> {
    for (c, ch) in channels.iter().enumerate() {
        match pops.get(ch.population as usize) {
            Some(p) if (ch.neuron as usize) < p.size => {
                if trials > 1 && (!p.model.is_rate() || p.trials() != trials) {
                    return Err(CortecsError::InvalidRequest(format!(
                        "{what} channel {c}: population '{}' runs {} trial(s), the {what}s carry {trials}",
                        p.name,
                        p.trials()
                    )));
                }
            }
            _ => {
                return Err(CortecsError::InvalidRequest(format!(
                    "{what} channel on population {} neuron {} does not exist in this network (made for another network?)",
                    ch.population, ch.neuron
                )));
            }
        }
    }
    Ok(())
}

/// What a motor channel reports after each frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Readout {
    /// The output at the end of the frame: rate units f(v) (trial 0);
    /// spiking neurons and sources 1 if they spiked in the frame's last step, else 0.
    #[default]
    Output,
    /// The state at the end of the frame: membrane potential (mV) of spiking
    /// neurons, pre-activation v of rate units (sources: 0).
    Potential,
    /// Number of steps of the frame in which the neuron spiked (spiking
    /// models and sources only).
    SpikeCount,
    /// The output averaged over the frame's steps: rate units the mean of
    /// f(v); spiking neurons spikes per step (spike count / steps).
    MeanOutput,
}

/// Motor channels of a network: after each frame's steps the Integrate
/// stage writes one value per channel, as its [`Readout`] says.
///
/// Lives on the network entity, beside its [`NetworkEngine`]. Values are 0
/// until the first frame.
#[derive(Component, Clone, Debug, PartialEq)]
pub struct Motors {
    channels: Vec<Channel>,
    readout: Readout,
    /// Trials read (1: trial 0 only).
    trials: usize,
    /// Trial-major: channel `c` of trial `b` at `b * channels + c`.
    values: Vec<f32>,
    /// Per-step accumulator (spike counts or summed outputs) of the frame, same layout.
    acc: Vec<f32>,
}

impl Motors {
    /// Motor channels on the given `(population, neuron index)` pairs, in
    /// order. Unknown populations, out-of-range indices and
    /// [`Readout::SpikeCount`] on rate units are errors.
    pub fn new(net: &Network, neurons: &[(&str, usize)], readout: Readout) -> Result<Motors> {
        let channels = resolve(net, neurons, "motor")?;
        if readout == Readout::SpikeCount
            && let Some(c) = channels
                .iter()
                .position(|ch| net.populations[ch.population as usize].model.is_rate())
        {
            return Err(CortecsError::InvalidRequest(format!(
                "motor channel {c}: population '{}' has rate units, which do not spike (use Readout::Output or MeanOutput)",
                net.populations[channels[c].population as usize].name
            )));
        }
        Ok(Motors {
            values: vec![0.0; channels.len()],
            acc: vec![0.0; channels.len()],
            trials: 1,
            channels,
            readout,
        })
    }

    /// These channels read in each of `trials` trials (one value per
    /// channel and trial). Every channel must then be on a rate population
    /// of exactly `trials` trials (checked by [`Motors::check`]); `trials` =
    /// 0 is an error.
    pub fn with_trials(mut self, trials: usize) -> Result<Motors> {
        if trials == 0 {
            return Err(CortecsError::InvalidRequest("motors: trials must be >= 1".into()));
        }
        self.trials = trials;
        self.values = vec![0.0; self.channels.len() * trials];
        self.acc = vec![0.0; self.channels.len() * trials];
        Ok(self)
    }

    /// Trials read (1: trial 0 only).
    pub fn trials(&self) -> usize {
        self.trials
    }

    /// The value of channel `channel` in trial `trial` after the last frame;
    /// a channel or trial out of range is an error.
    pub fn get_trial(&self, channel: usize, trial: usize) -> Result<f32> {
        self.trial(trial)?.get(channel).copied().ok_or_else(|| {
            CortecsError::InvalidRequest(format!(
                "motor channel {channel} is out of range ({} channels)",
                self.channels.len()
            ))
        })
    }

    /// The values of one trial after the last frame, one per channel; a
    /// trial out of range is an error.
    pub fn trial(&self, trial: usize) -> Result<&[f32]> {
        let n = self.channels.len();
        trial_in_range("motor", trial, self.trials)?;
        Ok(&self.values[trial * n..(trial + 1) * n])
    }

    /// One motor channel per neuron of `population`, in index order.
    pub fn population(net: &Network, population: &str, readout: Readout) -> Result<Motors> {
        Motors::new(net, &as_pairs(&whole_population(net, population)?), readout)
    }

    /// Number of channels.
    pub fn len(&self) -> usize {
        self.channels.len()
    }

    /// True when there are no channels.
    pub fn is_empty(&self) -> bool {
        self.channels.is_empty()
    }

    /// The neurons the channels read.
    pub fn channels(&self) -> &[Channel] {
        &self.channels
    }

    /// What the channels report.
    pub fn readout(&self) -> Readout {
        self.readout
    }

    /// The value of channel `channel` after the last frame (units by
    /// [`Readout`]; trial 0); a channel out of range is an error.
    pub fn get(&self, channel: usize) -> Result<f32> {
        self.values[..self.channels.len()].get(channel).copied().ok_or_else(|| {
            CortecsError::InvalidRequest(format!(
                "motor channel {channel} is out of range ({} channels)",
                self.channels.len()
            ))
        })
    }

    /// The values after the last frame: one per channel, trial after trial.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// Checks that every channel exists in `net`.
    pub fn check(&self, net: &Network) -> Result<()> {
        check_channels(&net.populations, &self.channels, "motor", self.trials)
    }

    /// Adds the step just done to the frame's accumulator (O(channels x trials)).
    fn after_step(&mut self, net: &Network) {
        match self.readout {
            Readout::SpikeCount | Readout::MeanOutput => {
                let n = self.channels.len().max(1);
                for (b, row) in self.acc.chunks_exact_mut(n).enumerate() {
                    for (a, ch) in row.iter_mut().zip(&self.channels) {
                        *a += output(net, ch, b);
                    }
                }
            }
            Readout::Output | Readout::Potential => {}
        }
    }

    fn finish(&mut self, net: &Network, steps: u64) {
        let n = self.channels.len().max(1);
        for (b, (values, acc)) in self
            .values
            .chunks_exact_mut(n)
            .zip(self.acc.chunks_exact_mut(n))
            .enumerate()
        {
            for ((value, a), ch) in values.iter_mut().zip(acc).zip(&self.channels) {
                *value = match self.readout {
                    Readout::Output => output(net, ch, b),
                    Readout::Potential => potential(net, ch, b),
                    Readout::SpikeCount => *a,
                    Readout::MeanOutput if steps == 0 => output(net, ch, b),
                    Readout::MeanOutput => *a / steps as f32,
                };
                *a = 0.0;
            }
        }
    }
}

/// Output of a channel's neuron in trial `trial` now ([`Population::output_trial`]).
fn output(net: &Network, ch: &Channel, trial: usize) -> f32 {
    net.populations[ch.population as usize].output_trial(ch.neuron as usize, trial, net.step) as f32
}

/// Potential (mV) or pre-activation of a channel's neuron in trial `trial`
/// now ([`Population::potential_trial`]).
fn potential(net: &Network, ch: &Channel, trial: usize) -> f32 {
    net.populations[ch.population as usize].potential_trial(ch.neuron as usize, trial) as f32
}

/// One host frame of one network: feeds the sensors, advances `steps`
/// steps, and fills the motors (pure: no `World`). This is what the
/// Integrate stage runs for every network entity.
pub fn run_frame(net: &mut Network, steps: u64, sensors: Option<&Sensors>, motors: Option<&mut Motors>) -> Result<()> {
    if let Some(s) = sensors {
        s.apply(net)?;
    }
    match motors {
        None => net.run_steps(steps),
        Some(m) => {
            m.check(net)?;
            if matches!(m.readout, Readout::SpikeCount | Readout::MeanOutput) {
                for _ in 0..steps {
                    if net.health.stopped() {
                        break;
                    }
                    net.step_once();
                    m.after_step(net);
                }
                net.check_health_at_end();
            } else {
                net.run_steps(steps);
            }
            m.finish(net, steps);
        }
    }
    net.health_result()
}

/// Runs [`run_frame`] on an engine with its own `steps_per_tick`. A sensor
/// or motor component whose channels do not exist in this network (made for
/// another one) is left out of the frame, which still advances, and the
/// error is kept once in the engine's `edit_errors`.
pub fn run_engine_frame(eng: &mut NetworkEngine, sensors: Option<&Sensors>, motors: Option<&mut Motors>) {
    let steps = eng.steps_per_tick;
    let sensors = sensors.filter(|s| keep_error(eng, s.check(&eng.net)));
    let motors = motors.filter(|m| keep_error(eng, m.check(&eng.net)));
    let done = run_frame(&mut eng.net, steps, sensors, motors);
    keep_error(eng, done);
}

/// Records an error once in `edit_errors`; true when there was none.
fn keep_error(eng: &mut NetworkEngine, r: Result<()>) -> bool {
    match r {
        Ok(()) => true,
        Err(e) => {
            let msg = e.to_string();
            if !eng.edit_errors.contains(&msg) {
                eng.edit_errors.push(msg);
            }
            false
        }
    }
}
