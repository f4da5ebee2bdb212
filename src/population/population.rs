//! A built population: parameters, derived constants, positions, polarity, state, drives, input ring; PyNN-style get/set by name.

use super::DelayRing;
use super::*;
use crate::connect::Polarity;
use crate::error::{CortecsError, Result};
use crate::model::{self, Derived, ModelKind, Params};
use crate::param::{Owner, Value};
use crate::rng::{self, Stream};
use ndarray::Array1;

/// Constant external drive: every neuron gets Poisson(rate * dt) input
/// events of `weight` each step (NEST `poisson_generator` on each neuron, Brian2 `PoissonInput`).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PoissonDrive {
    /// Rate per neuron (Hz).
    pub rate: f64,
    /// Weight of each event (mV for delta synapses, nS or pA otherwise; negative = inhibitory).
    pub weight: f64,
}

/// A built population (serialised whole by `checkpoint`).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Population {
    /// Name.
    #[serde(deserialize_with = "crate::io::de_string")]
    pub name: String,
    /// Number of neurons.
    pub size: usize,
    /// Model.
    pub model: ModelKind,
    /// Parameter arrays in the model's order.
    pub params: Params,
    /// Constants derived from `params` and dt (recomputed when they change).
    pub derived: Derived,
    /// Positions (µm).
    pub positions: Vec<[f64; 3]>,
    /// Polarity per neuron.
    pub polarity: Vec<Polarity>,
    /// Dynamic state.
    pub state: PopulationState,
    /// External current per neuron (pA) for spiking models, written by hosts and stimuli.
    pub current: Vec<f64>,
    /// Poisson drives.
    pub drives: Vec<PoissonDrive>,
    /// One sampler per drive (mean rate * dt).
    pub(crate) drive_tables: Vec<rng::PoissonTable>,
    /// Neurons that spiked in the last step (a neuron twice when it spiked twice).
    pub spikes: Vec<u32>,
    /// Recorded spikes (step, neuron) when recording is on.
    pub spike_record: Option<Vec<(u64, u32)>>,
    /// Total spikes since build.
    pub spike_count: u64,
    /// Step of each neuron's last spike (`u64::MAX`: never).
    pub last_spike: Vec<u64>,
    /// Rate-unit noise: pre-activation std.
    pub pre_noise: f64,
    /// Rate-unit noise: post-activation std.
    pub post_noise: f64,
    /// Input waiting to arrive (spiking models; empty for rate units).
    pub(crate) ring: DelayRing,
    /// Noise / Poisson streams per chunk.
    pub(crate) rngs: Vec<Stream>,
    pub(crate) spike_scratch: Vec<Vec<u32>>,
}

impl Population {
    /// Mean of every model parameter (name, mean, unit), for summaries.
    pub fn param_summary(&self) -> Vec<(String, f64, &'static str)> {
        self.model
            .params()
            .iter()
            .zip(&self.params)
            .filter(|(spec, _)| !spec.name.ends_with("_init"))
            .map(|(spec, v)| {
                let mean = if v.is_empty() {
                    spec.default
                } else {
                    v.iter().sum::<f64>() / v.len() as f64
                };
                (spec.name.to_string(), mean, spec.unit)
            })
            .collect()
    }

    /// Values of a parameter or state variable (`v`, `w`, `g_e`, `g_i`, `r`, or any model parameter) as an array (batch trial 0 for rate units).
    pub fn get(&self, name: &str) -> Result<Array1<f64>> {
        if let Ok(k) = self.model.param_index(name) {
            return Ok(Array1::from(self.params[k].clone()));
        }
        let vals: Option<Vec<f64>> = match (&self.state, name) {
            (PopulationState::Spiking(s), "v") => Some(s.v.clone()),
            (PopulationState::Spiking(s), "w" | "u") if !s.w.is_empty() => Some(s.w.clone()),
            (PopulationState::Spiking(s), "g_e") => Some(s.g_e.clone()),
            (PopulationState::Spiking(s), "g_i") => Some(s.g_i.clone()),
            (PopulationState::Rate(s), "v") => Some(s.v.iter().step_by(s.batch).map(|&x| f64::from(x)).collect()),
            (PopulationState::Rate(s), "r") => Some(s.r.iter().step_by(s.batch).map(|&x| f64::from(x)).collect()),
            (PopulationState::Spiking(_), "current") => Some(self.current.clone()),
            _ => None,
        };
        vals.map(Array1::from).ok_or_else(|| CortecsError::UnknownName {
            kind: "parameter or state variable",
            name: format!("{}.{name}", self.name),
            known: self.variable_names(),
        })
    }

    /// Names that [`Population::get`] and [`Population::set`] accept.
    pub fn variable_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.model.params().iter().map(|p| p.name.to_string()).collect();
        match &self.state {
            PopulationState::Spiking(s) => {
                names.extend(["v", "g_e", "g_i"].map(String::from));
                if !s.w.is_empty() {
                    names.push("w".into());
                }
                // rate units take input through `Population::set_input`, sources none
                names.push("current".into());
            }
            PopulationState::Rate(_) => names.extend(["v", "r"].map(String::from)),
            _ => {}
        }
        names
    }

    /// Sets a parameter or state variable on the neurons of `view` (PyNN's `p[view].set(name=value)`).
    /// Random values come from the stream keyed by (population, name, `draw`).
    pub fn set(&mut self, name: &str, view: &View, value: &Value, seed: u64, draw: u64) -> Result<()> {
        let idx = view.indices(self.size, &self.name)?;
        let positions: Vec<[f64; 3]> = idx
            .iter()
            .map(|&i| self.positions.get(i).copied().unwrap_or([0.0; 3]))
            .collect();
        let purpose = format!("{name}#set{draw}");
        let owner = Owner {
            seed,
            name: &self.name,
            param: &purpose,
            base_dir: std::path::Path::new("."),
        };
        let vals = match value {
            Value::OfIndex(f) => idx.iter().map(|&i| f(i)).collect(),
            Value::Expr(src) => {
                let e = crate::expr::Expr::compile(src, &crate::param::NEURON_VARIABLES).map_err(|source| {
                    CortecsError::Expression {
                        context: format!("{}.{name}", self.name),
                        source,
                    }
                })?;
                idx.iter()
                    .map(|&i| {
                        let p = self.positions.get(i).copied().unwrap_or([0.0; 3]);
                        e.eval(&[i as f64, self.size as f64, p[0], p[1], p[2]])
                    })
                    .collect()
            }
            other => other.neuron_values(&owner, idx.len(), &positions)?,
        };
        if let Ok(k) = self.model.param_index(name) {
            model::check_values(&self.name, &self.model.params()[k], &vals)?;
            for (&i, x) in idx.iter().zip(vals) {
                self.params[k][i] = x;
            }
            self.derived = Derived::new(&self.model, &self.params, self.derived.dt);
            return Ok(());
        }
        // state is f64 in spiking populations, f32 in rate populations
        let f32_state = matches!(self.state, PopulationState::Rate(_));
        if let Some((&i, &x)) = idx
            .iter()
            .zip(&vals)
            .find(|&(_, &x)| !x.is_finite() || (f32_state && !(x as f32).is_finite()))
        {
            let why = if x.is_finite() {
                "is beyond float32's range (about 3.4e38), the rate state's type"
            } else {
                "is not finite"
            };
            return Err(CortecsError::param(
                format!("{}.{name}", self.name),
                format!("value {x:e} for neuron {i} {why}"),
            ));
        }
        let target: Option<&mut Vec<f64>> = match (&mut self.state, name) {
            (PopulationState::Spiking(s), "v") => Some(&mut s.v),
            (PopulationState::Spiking(s), "w" | "u") if !s.w.is_empty() => Some(&mut s.w),
            (PopulationState::Spiking(s), "g_e") => Some(&mut s.g_e),
            (PopulationState::Spiking(s), "g_i") => Some(&mut s.g_i),
            (PopulationState::Spiking(_), "current") => Some(&mut self.current),
            (PopulationState::Rate(s), "v" | "r") => {
                let b = s.batch;
                let dst = if name == "v" { &mut s.v } else { &mut s.r };
                for (&i, x) in idx.iter().zip(&vals) {
                    for t in 0..b {
                        dst[i * b + t] = *x as f32;
                    }
                }
                return Ok(());
            }
            _ => None,
        };
        match target {
            Some(t) => {
                for (&i, x) in idx.iter().zip(vals) {
                    t[i] = x;
                }
                Ok(())
            }
            None => Err(CortecsError::UnknownName {
                kind: "parameter or state variable",
                name: format!("{}.{name}", self.name),
                known: self.variable_names(),
            }),
        }
    }
}
