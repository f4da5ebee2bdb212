//! What a population is before it is built: size, model, parameters, spatial structure, polarity (PyNN's `Population(...)` arguments).

use crate::connect::Polarity;
use crate::error::{CortecsError, Result};
use crate::model::ModelKind;
use crate::param::Sequence;
use crate::param::Value;
use crate::space::Structure;

/// Which neurons of a population are excitatory or inhibitory.
#[derive(Clone, Debug, PartialEq, Default, serde::Deserialize)]
pub enum PolaritySpec {
    /// No polarity: signs of outgoing synapses are decided per projection.
    #[default]
    None,
    /// All excitatory (Dale's law).
    Excitatory,
    /// All inhibitory (Dale's law).
    Inhibitory,
    /// The first `round(f * size)` neurons excitatory, the rest inhibitory.
    ExcitatoryFraction(f64),
    /// One polarity per neuron.
    PerNeuron(Vec<Polarity>),
}

/// Everything needed to build a population.
#[derive(Clone, Debug)]
pub struct PopulationSpec {
    /// Unique name.
    pub name: String,
    /// Number of neurons.
    pub size: usize,
    /// Neuron model.
    pub model: ModelKind,
    /// Spatial structure (positions in µm).
    pub structure: Structure,
    /// Parameter values overriding the model's defaults.
    pub params: Vec<(String, Value)>,
    /// Polarity (Dale's law).
    pub polarity: PolaritySpec,
    /// Spike times (ms) of a [`ModelKind::SpikeSource`].
    pub spike_times: Option<Sequence>,
    /// Independent trials run side by side (rate populations; spiking: 1).
    pub batch: usize,
    /// Rate units: standard deviation of pre-activation noise (added to v, carried).
    pub pre_noise: f64,
    /// Rate units: standard deviation of post-activation noise (added to f(v), not carried).
    pub post_noise: f64,
    /// Keep every spike (step, neuron) for recording.
    pub record_spikes: bool,
    /// nn4n's `biases`: initialises the `bias` parameter of rate units
    /// (an error together with a `bias` in `params`).
    pub bias: Option<crate::param::BiasInit>,
}

impl PopulationSpec {
    /// A population of `size` neurons of `model` with default parameters.
    pub fn new(name: &str, size: usize, model: ModelKind) -> PopulationSpec {
        PopulationSpec {
            name: name.to_string(),
            size,
            model,
            structure: Structure::None,
            params: Vec::new(),
            polarity: PolaritySpec::None,
            spike_times: None,
            batch: 1,
            pre_noise: 0.0,
            post_noise: 0.0,
            record_spikes: false,
            bias: None,
        }
    }
    /// Initialises the `bias` parameter (rate units) as nn4n's `biases` does.
    pub fn bias(mut self, b: crate::param::BiasInit) -> Self {
        self.bias = Some(b);
        self
    }
    /// Sets a parameter value.
    pub fn param(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.params.push((name.to_string(), value.into()));
        self
    }
    /// Sets the spatial structure.
    pub fn structure(mut self, s: Structure) -> Self {
        self.structure = s;
        self
    }
    /// Sets the polarity.
    pub fn polarity(mut self, p: PolaritySpec) -> Self {
        self.polarity = p;
        self
    }
    /// Sets the batch size (rate populations).
    pub fn batch(mut self, b: usize) -> Self {
        self.batch = b;
        self
    }
    /// Records every spike.
    pub fn record_spikes(mut self, on: bool) -> Self {
        self.record_spikes = on;
        self
    }
}

pub(crate) fn polarities(spec: &PolaritySpec, n: usize, name: &str) -> Result<Vec<Polarity>> {
    Ok(match spec {
        PolaritySpec::None => vec![Polarity::None; n],
        PolaritySpec::Excitatory => vec![Polarity::Excitatory; n],
        PolaritySpec::Inhibitory => vec![Polarity::Inhibitory; n],
        PolaritySpec::ExcitatoryFraction(f) => {
            crate::param::check_probability(name, "excitatory fraction", *f)?;
            let ne = (f * n as f64).round() as usize;
            (0..n)
                .map(|i| {
                    if i < ne {
                        Polarity::Excitatory
                    } else {
                        Polarity::Inhibitory
                    }
                })
                .collect()
        }
        PolaritySpec::PerNeuron(v) => {
            if v.len() != n {
                return Err(CortecsError::WrongLength {
                    context: format!("{name}.polarity"),
                    expected: n,
                    got: v.len(),
                });
            }
            v.clone()
        }
    })
}
