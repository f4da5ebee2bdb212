//! The items of a scene file: `*Def` types and timeline [`Action`]s, as RON reads them.

use crate::connect::Strategy;
use crate::model::ModelKind;
use crate::param::{BiasInit, Distribution, Init, Sequence, Value};
use crate::population::PolaritySpec;
use crate::projection::Adjuster;
use crate::projection::MaskSpec;
use crate::space::Structure;
use crate::store::SignFilter;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A parameter value as written in a scene.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ValueDef {
    /// The same number for all.
    Number(f64),
    /// An expression (see [`Value::Expr`]).
    Expr(String),
    /// One value per neuron or synapse.
    Array(Vec<f64>),
    /// A seeded distribution.
    Random(Distribution),
    /// A weight initialiser by fan-in, e.g. `XavierUniform(gain: 1.0)` or
    /// `KaimingNormal(mode: FanOut, nonlinearity: Tanh)` (projection weights
    /// only; write at least one field, e.g. `LeCunNormal(gain: 1.0)`: a bare
    /// name reads as an expression).
    Init(Init),
    /// A `.npy` file.
    File(NpyFile),
}

/// `Npy("path")`: an array in a `.npy` file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub enum NpyFile {
    /// Path relative to the scene's folder.
    Npy(PathBuf),
}

impl ValueDef {
    /// The parameter value it denotes.
    pub fn to_value(&self) -> Value {
        match self {
            ValueDef::Number(x) => Value::Const(*x),
            ValueDef::Expr(s) => Value::Expr(s.clone()),
            ValueDef::Array(a) => Value::Array(a.clone().into()),
            ValueDef::Random(d) => Value::Random(d.clone()),
            ValueDef::Init(i) => Value::Init(*i),
            ValueDef::File(NpyFile::Npy(p)) => Value::Npy(p.clone()),
        }
    }
}

/// A population in a scene.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationDef {
    /// Unique name.
    pub name: String,
    /// Number of neurons.
    pub size: usize,
    /// Neuron model, e.g. `Lif(synapse: CondExp)`, `Rate(activation: Tanh)`, `PoissonSource`.
    pub model: ModelKind,
    /// Spatial structure (default: none).
    #[serde(default = "no_structure")]
    pub structure: Structure,
    /// Parameter values by name.
    #[serde(default)]
    pub params: BTreeMap<String, ValueDef>,
    /// Polarity (Dale's law).
    #[serde(default)]
    pub polarity: PolaritySpec,
    /// Spike times (ms) of a spike source.
    #[serde(default)]
    pub spike_times: Option<Sequence>,
    /// Trials side by side (rate units).
    #[serde(default = "one")]
    pub batch: usize,
    /// Rate units: pre-activation noise std.
    #[serde(default)]
    pub pre_noise: f64,
    /// Rate units: post-activation noise std.
    #[serde(default)]
    pub post_noise: f64,
    /// Rate units: nn4n's bias initialiser, `None`, `Zero`, `Normal(fan_in: 100)`
    /// or `Uniform(fan_in: 100)`.
    #[serde(default)]
    pub bias: Option<BiasInit>,
}

fn no_structure() -> Structure {
    Structure::None
}
fn one() -> usize {
    1
}
fn yes() -> bool {
    true
}
fn unit_weight() -> ValueDef {
    ValueDef::Number(1.0)
}

/// A projection in a scene.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectionDef {
    /// Unique name.
    pub name: String,
    /// Pre population.
    pub pre: String,
    /// Post population.
    pub post: String,
    /// Connection strategy, e.g. `FixedProbability(p: 0.02)` or
    /// `DistanceProbability(p: "0.3 * exp(-d / 75)", cutoff: 300.0)`; file
    /// paths are relative to the scene's folder.
    pub strategy: Strategy,
    /// Weight (magnitude when polarity or a ratio decides signs).
    #[serde(default = "unit_weight")]
    pub weight: ValueDef,
    /// Separate inhibitory weight magnitude.
    #[serde(default)]
    pub weight_inh: Option<ValueDef>,
    /// Delay (ms); default one step.
    #[serde(default)]
    pub delay: Option<ValueDef>,
    /// Excitatory ratio for pre neurons without polarity.
    #[serde(default)]
    pub excitatory_ratio: Option<f64>,
    /// Allow i -> i within one population.
    #[serde(default = "yes")]
    pub self_connections: bool,
    /// Allow several synapses per pair.
    #[serde(default)]
    pub multapses: bool,
    /// No mirror entities.
    #[serde(default)]
    pub compact: bool,
    /// Learning factor of every synapse, in [0, 1] (default: 1 when the
    /// projection learns or prunes, else 0 = fixed).
    #[serde(default)]
    pub plasticity: Option<f64>,
    /// Local learning rules, e.g. `[(rule: Stdp(a_plus: 0.001, a_minus: 0.00105), w_max: 0.2)]`.
    #[serde(default)]
    pub learning: Vec<crate::plasticity::Learning>,
    /// Synapse growth, e.g. `(every: 100.0, probability: Constant(0.001), weight: 0.1)`.
    #[serde(default)]
    pub growth: Option<crate::plasticity::Growth>,
    /// Synapse pruning, e.g. `(every: 10.0, threshold: 0.01, after: 100.0)`.
    #[serde(default)]
    pub pruning: Option<crate::plasticity::Pruning>,
    /// Periodic boundary extents per axis (µm; 0 = open).
    #[serde(default)]
    pub periodic: Option<[f64; 3]>,
    /// Dale's law (default: on when signs come from a rule).
    #[serde(default)]
    pub dale: Option<bool>,
    /// Masks: `(sparsity: "m.npy", ei: "ei.npy", plasticity: ..., growth: ..., balance: true)`,
    /// each a post x pre `.npy` file or inline rows.
    #[serde(default)]
    pub masks: MaskSpec,
}

/// A constant Poisson drive in a scene.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriveDef {
    /// Target population.
    pub population: String,
    /// Rate per neuron (Hz).
    pub rate: f64,
    /// Weight per event.
    pub weight: f64,
}

/// A noisy current in a scene (NEST's `noise_generator`): each neuron of a
/// spiking population gets `mean + std * N(0, 1)` pA, drawn anew every `dt_ms`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoiseCurrentDef {
    /// Target population (spiking).
    pub population: String,
    /// Mean current (pA).
    pub mean: f64,
    /// Standard deviation (pA).
    pub std: f64,
    /// Interval between draws (ms, whole steps; default 1, as NEST).
    #[serde(default = "one_ms")]
    pub dt_ms: f64,
}

/// A state probe in a scene.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateProbeDef {
    /// Population.
    pub population: String,
    /// Variable (`v`, `g_e`, `g_i`, `w`, `r`, ...).
    pub variable: String,
    /// Neuron indices.
    pub neurons: Vec<u32>,
    /// Sample every this many steps.
    #[serde(default = "one_u64")]
    pub every: u64,
}

fn one_u64() -> u64 {
    1
}

/// What a scene records.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordDef {
    /// Populations whose spikes are recorded.
    #[serde(default)]
    pub spikes: Vec<String>,
    /// State probes.
    #[serde(default)]
    pub state: Vec<StateProbeDef>,
    /// Projections whose dense weight matrix is written at the end (post x pre, float32).
    #[serde(default)]
    pub weights: Vec<String>,
    /// Longest wall-clock time between two writes of the streamed recordings
    /// to disk (s; default 2): a killed run loses at most this much.
    #[serde(default)]
    pub flush_s: Option<f64>,
    /// Draw PNG plots into `<out>/plots/` after the run (default true; the
    /// command line's `--no-plots` sets it false).
    #[serde(default = "yes")]
    pub plots: bool,
}

impl Default for RecordDef {
    fn default() -> Self {
        RecordDef {
            spikes: Vec::new(),
            state: Vec::new(),
            weights: Vec::new(),
            flush_s: None,
            plots: true,
        }
    }
}

/// A closed loop: the world the network's sensors see and its motors move.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum EnvironmentDef {
    /// A Braitenberg vehicle in a square arena with one light, e.g.
    /// `Vehicle(sensors: "eyes", motors: "wheels", body: (light: (80.0, 50.0), gain: 400.0, speed: 0.2))`.
    /// The first half of `sensors` is the left light sensor, the second half
    /// the right one; the first half of `motors` drives the left wheel, the
    /// second half the right one. The log goes to `environment.npy`.
    Vehicle {
        /// Sensor population (an even number of spiking or rate neurons).
        sensors: String,
        /// Motor population (an even number of spiking or rate neurons).
        motors: String,
        /// How often the network and the vehicle exchange sensors and motors (ms, whole steps; default 1).
        #[serde(default = "one_ms")]
        frame_ms: f64,
        /// The arena, the light and the body.
        body: crate::env::VehicleSpec,
    },
}

fn one_ms() -> f64 {
    1.0
}

/// One step of a scene's timeline.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Action {
    /// Simulate this long (ms).
    Run {
        /// Duration (ms).
        ms: f64,
    },
    /// Set a parameter or state variable on some neurons (all when `neurons` is absent).
    Set {
        /// Population.
        population: String,
        /// Parameter or state variable.
        name: String,
        /// The value.
        value: ValueDef,
        /// Neuron indices.
        #[serde(default)]
        neurons: Option<Vec<usize>>,
    },
    /// Remove the synapses from `pre` to `post`.
    Lesion {
        /// Projection.
        projection: String,
        /// Pre index.
        pre: u32,
        /// Post index.
        post: u32,
    },
    /// Apply an adjuster, e.g. `Adjust(projection: "ee", adjuster: Scale(1.5), filter: Inhibitory)`.
    Adjust {
        /// Projection.
        projection: String,
        /// What to do.
        adjuster: Adjuster,
        /// Which synapses: `Excitatory`, `Inhibitory` or `Both` (default).
        #[serde(default)]
        filter: SignFilter,
    },
    /// Write a projection's whole weight matrix from a post x pre `.npy` file.
    SetWeights {
        /// Projection.
        projection: String,
        /// The `.npy` file (relative to the scene's folder).
        file: PathBuf,
    },
    /// Write a projection's statistics (weights by sign, degrees, weight sums,
    /// E/I input per post neuron, spectral radius, the `eigenvalues` largest
    /// eigenvalues, the fractions at `bounds`) to `<projection>_stats_<step>.json`.
    Statistics {
        /// Projection.
        projection: String,
        /// How many of the largest eigenvalues to list (default 0).
        #[serde(default)]
        eigenvalues: usize,
        /// Weight-magnitude bounds `[min, max]` (a learning rule's): the
        /// fractions of synapses at each are listed.
        #[serde(default)]
        bounds: Option<[f64; 2]>,
    },
    /// Write the network summary (populations, projections, weight statistics, masks) to `summary.txt`.
    Summary,
    /// Set the modulator (reward, dopamine) of a projection's reward-modulated STDP.
    Modulate {
        /// Projection.
        projection: String,
        /// The modulator.
        value: f64,
    },
    /// Set the error of a projection's PES rule: one value per post neuron.
    SetError {
        /// Projection.
        projection: String,
        /// The error per post neuron (or per post neuron and trial).
        error: Vec<f64>,
    },
    /// Run one growth event on a projection now.
    Grow {
        /// Projection.
        projection: String,
    },
    /// Run one pruning check on a projection now.
    Prune {
        /// Projection.
        projection: String,
    },
    /// Write a projection's weights now, as a post x pre float32 matrix
    /// `<projection>_weights_<t>ms.npy` in the output folder (0 where no synapse is).
    RecordWeights {
        /// Projection.
        projection: String,
    },
    /// Give a projection local learning rules from now on, e.g. a trained
    /// network that goes on learning: `Learn(projection: "hidden_hidden",
    /// learning: [(rule: Oja(eta: 0.001))])`. `plasticity` is every
    /// synapse's learning factor (default: a plasticity mask's factors, else 1).
    Learn {
        /// Projection.
        projection: String,
        /// The rules, as in a projection's `learning`.
        learning: Vec<crate::plasticity::Learning>,
        /// Learning factor of every synapse, in [0, 1].
        #[serde(default)]
        plasticity: Option<f64>,
    },
    /// Play an input array into a population from the next step on, one row
    /// per step: a `.npy` of steps x units, or steps x trials x units for a
    /// batched rate population (rate units: added to the pre-activation;
    /// spiking neurons: current, pA). After its last row the input is 0.
    /// With `trial`, one trial of a steps x trials x units file goes to
    /// every trial of the population (e.g. held-out trial 3 of a task).
    Input {
        /// Population.
        population: String,
        /// The `.npy` file (relative to the scene's folder).
        file: PathBuf,
        /// Which trial of a steps x trials x units file to play.
        #[serde(default)]
        trial: Option<usize>,
    },
    /// Put every rate population back to its initial state (`v = v_init`,
    /// `r = f(v_init)`, input 0), as at the start of a trial.
    ResetRates,
    /// Change a population's noisy current (pA) from its next interval on.
    SetNoise {
        /// Population (one with a noisy current).
        population: String,
        /// Mean current (pA).
        mean: f64,
        /// Standard deviation (pA).
        std: f64,
    },
    /// Move the light of the scene's `environment` to (x, y) (cm).
    MoveLight {
        /// x (cm).
        x: f64,
        /// y (cm).
        y: f64,
    },
    /// Save the whole network to a checkpoint file in the output folder.
    Save {
        /// File name (relative to the output folder).
        file: PathBuf,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_of_every_form_parse() {
        let v: Vec<ValueDef> =
            ron::from_str(r#"[1.5, "exp(-d/50)", [1.0, 2.0], Normal(mean: 0.5, std: 0.1), Npy("w.npy")]"#).unwrap();
        assert_eq!(v[0], ValueDef::Number(1.5));
        assert_eq!(v[1], ValueDef::Expr("exp(-d/50)".into()));
        assert_eq!(v[2], ValueDef::Array(vec![1.0, 2.0]));
        assert_eq!(v[3], ValueDef::Random(Distribution::Normal { mean: 0.5, std: 0.1 }));
        assert_eq!(v[4], ValueDef::File(NpyFile::Npy("w.npy".into())));
    }

    #[test]
    fn initialisers_and_new_distributions_parse() {
        let v: Vec<ValueDef> = ron::from_str(
            r#"[XavierUniform(gain: 2.0), KaimingNormal(mode: FanOut, nonlinearity: Tanh), FanInUniform(gain: 1.0),
                LeCunNormal(gain: 1.0), Pareto(scale: 1.0, shape: 3.0), TwoValued(p: 0.2, a: 1.0, b: -1.0),
                ExponentialTruncated(scale: 2.0, low: 0.0, high: 5.0), KaimingUniform(mode: FanIn)]"#,
        )
        .unwrap();
        assert_eq!(v[0], ValueDef::Init(Init::XavierUniform { gain: 2.0 }));
        assert_eq!(
            v[1],
            ValueDef::Init(Init::KaimingNormal {
                mode: crate::param::FanMode::FanOut,
                nonlinearity: crate::param::Gain::Tanh
            })
        );
        assert_eq!(v[2], ValueDef::Init(Init::FanInUniform { gain: 1.0 }));
        assert_eq!(v[3], ValueDef::Init(Init::LeCunNormal { gain: 1.0 }));
        assert_eq!(v[4], ValueDef::Random(Distribution::Pareto { scale: 1.0, shape: 3.0 }));
        assert_eq!(
            v[5],
            ValueDef::Random(Distribution::TwoValued {
                p: 0.2,
                a: 1.0,
                b: -1.0
            })
        );
        assert!(matches!(
            v[6],
            ValueDef::Random(Distribution::ExponentialTruncated { .. })
        ));
        assert!(matches!(v[7], ValueDef::Init(Init::KaimingUniform { .. })));
        let b: Vec<BiasInit> = ron::from_str("[None, Zero, Normal(fan_in: 10), Uniform(fan_in: 4)]").unwrap();
        assert_eq!(b[2], BiasInit::Normal { fan_in: 10 });
    }
}
