//! The engine's side of a network: populations' state arrays, projections'
//! synapse stores and the compiled step that advances them.
//!
//! A [`Network`] is plain data plus pure functions: it can be built, stepped,
//! read and edited without any `World` (that is how the kernels are tested
//! and benchmarked). In an ECS world it lives in a [`crate::components::NetworkEngine`]
//! component on a network entity, and the systems of [`crate::systems`] keep
//! the user's entities in step with it.

use crate::connect::{self, ConnectInput, Connectivity, Polarity, Strategy};
use crate::error::{CortecsError, Result};
use crate::mask::{self, Enforced, Masks, Scope};
use crate::model::{self, Derived, ModelKind, Params, SpikingState, StateChunk, StepInput};
use crate::param::{Owner, Sequence, SynapsePairs, Value};
use crate::rng::{self, Stream};
use crate::spatial::{Space, Structure};
use crate::store::{Column, EXCITATORY, INHIBITORY, Major, Sign, SynapseStore};
use ndarray::Array1;
use rayon::prelude::*;
use std::path::PathBuf;

/// Neurons per parallel work unit and per noise stream (fixed, never tied to threads).
pub const NEURON_CHUNK: usize = 1024;
/// Populations smaller than this are updated on the calling thread: waking
/// the pool costs more than the work (W1's 4000 neurons take ~10 µs a step).
pub const PARALLEL_MIN: usize = 16 * NEURON_CHUNK;

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
        }
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

/// Everything needed to build a projection.
#[derive(Clone, Debug)]
pub struct ProjectionSpec {
    /// Unique name (keys its random streams).
    pub name: String,
    /// Name of the presynaptic population.
    pub pre: String,
    /// Name of the postsynaptic population.
    pub post: String,
    /// Connection strategy.
    pub strategy: Strategy,
    /// Weight magnitude of excitatory synapses (or of all when `weight_inh` is `None`).
    pub weight: Value,
    /// Weight magnitude of inhibitory synapses.
    pub weight_inh: Option<Value>,
    /// Delay (ms), rounded to whole steps, at least one; `None` = one step.
    /// Rate projections have no delay (they read the pre rates of the step).
    pub delay: Option<Value>,
    /// For pre neurons without polarity: fraction of excitatory synapses
    /// (`None`: the sign is the weight's own sign, as in nn4n without Dale's law).
    pub excitatory_ratio: Option<f64>,
    /// Allow i -> i when pre and post are the same population.
    pub self_connections: bool,
    /// Allow several synapses per (pre, post) where the rule could make them.
    pub multapses: bool,
    /// Keep no mirror entities (store only).
    pub compact: bool,
    /// Learning-rate factor of every synapse (0 = fixed).
    pub plasticity: f64,
    /// Boundary conditions for distances.
    pub space: Space,
    /// Dale's law: weights never take the wrong sign (a write of the wrong
    /// sign gives 0). `None`: on when signs come from a rule (pre polarity,
    /// `excitatory_ratio` or an E/I mask), off when they are the weights' own.
    pub dale: Option<bool>,
    /// Masks applied after construction and after every change.
    pub masks: MaskSpec,
}

/// Where a mask comes from: an array (API), rows (scene), or a `.npy` file.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(untagged)]
pub enum MaskSource {
    /// A `.npy` file, post x pre (or one entry per pre neuron for E/I masks).
    Npy(PathBuf),
    /// Rows of a post x pre matrix, inline.
    Rows(Vec<Vec<f32>>),
    /// A post x pre array.
    #[serde(skip)]
    Array(ndarray::Array2<f32>),
    /// One entry per pre neuron (E/I masks only).
    #[serde(skip)]
    PerPre(Vec<f32>),
}

/// The masks of a projection as declared (resolved and validated by
/// [`Network::add_projection`]); see [`crate::mask`]. All post x pre.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MaskSpec {
    /// 0/1: where synapses may exist.
    pub sparsity: Option<MaskSource>,
    /// +1/-1: the sign of every synapse, or of every pre neuron.
    pub ei: Option<MaskSource>,
    /// In [0, 1]: how much each synapse learns.
    pub plasticity: Option<MaskSource>,
    /// In [0, 1]: probability that an absent synapse grows.
    pub growth: Option<MaskSource>,
    /// Scale inhibitory weights so each post neuron's inputs sum to zero.
    pub balance: bool,
}

impl ProjectionSpec {
    /// A projection with weight 1, a delay of one step, self-connections allowed, no multapses.
    pub fn new(name: &str, pre: &str, post: &str, strategy: Strategy) -> ProjectionSpec {
        ProjectionSpec {
            name: name.to_string(),
            pre: pre.to_string(),
            post: post.to_string(),
            strategy,
            weight: Value::Const(1.0),
            weight_inh: None,
            delay: None,
            excitatory_ratio: None,
            self_connections: true,
            multapses: false,
            compact: false,
            plasticity: 0.0,
            space: Space::default(),
            dale: None,
            masks: MaskSpec::default(),
        }
    }
    /// Sets the weight value.
    pub fn weight(mut self, w: impl Into<Value>) -> Self {
        self.weight = w.into();
        self
    }
    /// Sets a separate inhibitory weight value.
    pub fn weight_inh(mut self, w: impl Into<Value>) -> Self {
        self.weight_inh = Some(w.into());
        self
    }
    /// Sets the delay value (ms).
    pub fn delay(mut self, d: impl Into<Value>) -> Self {
        self.delay = Some(d.into());
        self
    }
    /// Sets the excitatory ratio for pre neurons without polarity.
    pub fn excitatory_ratio(mut self, r: f64) -> Self {
        self.excitatory_ratio = Some(r);
        self
    }
    /// Allows or forbids self-connections.
    pub fn self_connections(mut self, on: bool) -> Self {
        self.self_connections = on;
        self
    }
    /// Allows or forbids multapses.
    pub fn multapses(mut self, on: bool) -> Self {
        self.multapses = on;
        self
    }
    /// Keeps no mirror entities.
    pub fn compact(mut self, on: bool) -> Self {
        self.compact = on;
        self
    }
    /// Turns Dale's law on or off (default: on when signs come from a rule).
    pub fn dale(mut self, on: bool) -> Self {
        self.dale = Some(on);
        self
    }
    /// Sets the sparsity mask (post x pre, 0/1).
    pub fn sparsity_mask(mut self, m: ndarray::Array2<f32>) -> Self {
        self.masks.sparsity = Some(MaskSource::Array(m));
        self
    }
    /// Sets the E/I mask per synapse (post x pre, +1/-1).
    pub fn ei_mask(mut self, m: ndarray::Array2<f32>) -> Self {
        self.masks.ei = Some(MaskSource::Array(m));
        self
    }
    /// Sets the E/I mask per pre neuron (+1/-1).
    pub fn ei_per_pre(mut self, signs: Vec<f32>) -> Self {
        self.masks.ei = Some(MaskSource::PerPre(signs));
        self
    }
    /// Sets the plasticity mask (post x pre, factors in [0, 1]).
    pub fn plasticity_mask(mut self, m: ndarray::Array2<f32>) -> Self {
        self.masks.plasticity = Some(MaskSource::Array(m));
        self
    }
    /// Sets the growth mask (post x pre, probabilities in [0, 1]).
    pub fn growth_mask(mut self, m: ndarray::Array2<f32>) -> Self {
        self.masks.growth = Some(MaskSource::Array(m));
        self
    }
    /// Turns E/I balance on or off.
    pub fn balance(mut self, on: bool) -> Self {
        self.masks.balance = on;
        self
    }
}

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

/// Constant external drive: every neuron gets Poisson(rate * dt) input
/// events of `weight` each step (NEST `poisson_generator` on each neuron, Brian2 `PoissonInput`).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PoissonDrive {
    /// Rate per neuron (Hz).
    pub rate: f64,
    /// Weight of each event (mV for delta synapses, nS or pA otherwise; negative = inhibitory).
    pub weight: f64,
}

/// A built population (serialised whole by [`crate::checkpoint`]).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Population {
    /// Name.
    #[serde(deserialize_with = "crate::checkpoint::de_string")]
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
    /// Input ring: `slots x 2 channels x size` (exc, inh).
    pub(crate) ring: Vec<f64>,
    pub(crate) slots: usize,
    /// Noise / Poisson streams per chunk.
    pub(crate) rngs: Vec<Stream>,
    pub(crate) spike_scratch: Vec<Vec<u32>>,
}

/// A built projection.
#[derive(Clone, Debug)]
pub struct Projection {
    /// Name.
    pub name: String,
    /// Index of the pre population.
    pub pre: usize,
    /// Index of the post population.
    pub post: usize,
    /// Strategy it was built with.
    pub strategy: Strategy,
    /// The synapses.
    pub store: SynapseStore,
    /// True when no mirror entities are kept.
    pub compact: bool,
    /// The spec it was built from.
    pub spec: ProjectionSpec,
    /// Rate projections dense enough for a matrix product: the weights as a
    /// dense post x pre kernel, patched by every edit made through
    /// [`Projection::set_weight`], [`Projection::remove`] and [`Projection::refresh_kernel`].
    pub dense: Option<ndarray::Array2<f32>>,
    /// Masks and constraint flags, enforced after every change.
    pub masks: Masks,
    /// Pre and post are the same population (the diagonal is `i -> i`).
    pub recurrent: bool,
    /// Set by whoever changes `store` directly: the Constrain stage then
    /// enforces the masks on the whole projection ([`Network::enforce_constraints`]).
    pub constrain_pending: bool,
    /// What changed in the store since the mirror entities were last synced.
    pub mirror_log: MirrorLog,
    /// Times the strategy was reapplied (keys the streams of each rebuild).
    pub rebuilds: u64,
    /// Parameters of `spec` (`"weight"`, `"strategy"`, ...) that were Rust
    /// closures when the projection was saved: a checkpoint cannot hold a
    /// closure, so the loaded spec has placeholders there and reapplying the
    /// strategy is refused ([`Projection::check_rebuild`]). Empty unless loaded.
    pub lost_closures: Vec<String>,
}

/// What changed in a store since its mirror entities were last synced
/// (kept for mirrored projections only; the ECS sync empties it).
#[derive(Clone, Debug, Default)]
pub struct MirrorLog {
    /// Slots whose weight, sign or existence changed.
    pub slots: Vec<usize>,
    /// Everything may have changed (bulk edit): resync every slot.
    pub all: bool,
    /// The layout changed: `remap[old slot] = new slot` (`usize::MAX`: gone).
    pub remap: Option<Vec<usize>>,
}

impl MirrorLog {
    /// Records a layout change given by `map` (old slot -> new slot).
    pub fn relayout(&mut self, map: Vec<usize>) {
        self.remap = Some(match self.remap.take() {
            None => map,
            Some(prev) => prev
                .into_iter()
                .map(|k| if k == usize::MAX { k } else { map[k] })
                .collect(),
        });
        self.all = true;
    }
}

/// Rate projections at least this dense run as a dense matrix product.
pub const DENSE_MIN_DENSITY: f64 = 0.25;

impl Projection {
    /// Sets the weight of store slot `k`, enforces the masks on it (Dale's
    /// rule, balance of its post neuron) and patches the kernel.
    pub fn set_weight(&mut self, k: usize, w: f32) {
        self.store.set_weight(k, w);
        self.constrain_slots(&[k]);
        self.patch_kernel(k);
    }

    /// Removes store slot `k` (a lesion) and patches the kernel.
    pub fn remove(&mut self, k: usize) {
        self.store.remove(k);
        if self.masks.balance {
            self.constrain_slots(&[k]);
        }
        self.patch_kernel(k);
    }

    /// Enforces the masks on the given slots (O(slots), or O(post rows) with balance).
    pub fn constrain_slots(&mut self, slots: &[usize]) -> Enforced {
        if self.masks.is_empty() && self.store.dale {
            // set_weight already kept Dale's sign
            return Enforced::default();
        }
        let done = mask::enforce(&mut self.store, &self.masks, self.recurrent, Scope::Slots(slots));
        if done.balanced > 0 || done.removed > 0 {
            self.mirror_log.all = true;
            self.refresh_kernel();
        }
        done
    }

    /// Enforces the masks on every synapse, drops the tombstones this made,
    /// and rebuilds the kernel (after construction, a mask change, a bulk edit).
    pub fn constrain_all(&mut self) -> Enforced {
        let done = mask::enforce(&mut self.store, &self.masks, self.recurrent, Scope::All);
        self.constrain_pending = false;
        self.mirror_log.all = true;
        self.refresh_kernel();
        done
    }

    /// Notes that store slots changed outside the mirror entities' knowledge.
    pub fn log_slots(&mut self, slots: &[usize]) {
        if !self.compact && !self.mirror_log.all {
            self.mirror_log.slots.extend_from_slice(slots);
        }
    }

    /// Drops tombstones from the store (O(n)) and records the new layout for the mirrors.
    pub fn compact_store(&mut self) {
        if self.store.removed == 0 {
            return;
        }
        let map = self.store.compact();
        if !self.compact {
            self.mirror_log.relayout(map);
        }
    }

    fn patch_kernel(&mut self, k: usize) {
        if let Some(d) = &mut self.dense {
            let (pre, post) = self.store.pair(k);
            let range = self.store.find(pre, post).unwrap_or(k..k + 1);
            d[[post as usize, pre as usize]] = range.map(|s| self.store.weight[s]).sum();
        }
    }

    /// Rebuilds the kernel from the store (after bulk edits of `store`).
    pub fn refresh_kernel(&mut self) {
        let s = &self.store;
        let density = s.live() as f64 / (f64::from(s.n_pre) * f64::from(s.n_post)).max(1.0);
        self.dense = (s.major == Major::Post && density >= DENSE_MIN_DENSITY).then(|| {
            let mut d = ndarray::Array2::<f32>::zeros((s.n_post as usize, s.n_pre as usize));
            for j in 0..s.rows() {
                for k in s.row(j) {
                    d[[j, s.minor[k] as usize]] += s.weight[k];
                }
            }
            d
        });
    }
}

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
    /// Number of `set` calls so far (keys their random streams).
    pub set_count: u64,
}

fn polarities(spec: &PolaritySpec, n: usize, name: &str) -> Result<Vec<Polarity>> {
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
    /// drawn from a stream keyed by the population, the name and how many sets came before.
    pub fn set(&mut self, population: &str, name: &str, view: &View, value: impl Into<Value>) -> Result<()> {
        let i = self.population_index(population)?;
        self.set_count += 1;
        let (seed, draw) = (self.seed, self.set_count);
        self.populations[i].set(name, view, &value.into(), seed, draw)
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

    /// Validates and builds a population; nothing is added on error.
    pub fn add_population(&mut self, spec: PopulationSpec) -> Result<usize> {
        let name = spec.name.as_str();
        if name.is_empty() {
            return Err(CortecsError::param("population", "name must not be empty"));
        }
        if self.populations.iter().any(|p| p.name == name) {
            return Err(CortecsError::DuplicateName {
                kind: "population",
                name: name.to_string(),
            });
        }
        if spec.size == 0 || spec.size > u32::MAX as usize {
            return Err(CortecsError::param(
                name,
                format!("size must be between 1 and {}, got {}", u32::MAX, spec.size),
            ));
        }
        let n = spec.size;
        let mut pos_rng = Stream::keyed(self.seed, name, "positions", 0);
        let positions = spec
            .structure
            .positions(n, &mut pos_rng)
            .map_err(|source| CortecsError::Spatial {
                context: name.to_string(),
                source,
            })?;
        let kind = &spec.model;
        let mut params: Params = Vec::with_capacity(kind.params().len());
        for (k, ps) in kind.params().iter().enumerate() {
            let given: Vec<&Value> = spec
                .params
                .iter()
                .filter(|(p, _)| p == ps.name)
                .map(|(_, v)| v)
                .collect();
            let values = match given.last() {
                Some(v) => v.neuron_values(&self.owner(name, ps.name), n, &positions)?,
                None => vec![ps.default; n],
            };
            model::check_values(name, &kind.params()[k], &values)?;
            params.push(values);
        }
        for (p, _) in &spec.params {
            kind.param_index(p).map_err(|e| match e {
                CortecsError::UnknownName { known, .. } => CortecsError::UnknownName {
                    kind: "parameter",
                    name: format!("{name}.{p}"),
                    known,
                },
                e => e,
            })?;
        }
        if spec.batch == 0 || (!kind.is_rate() && spec.batch != 1) {
            return Err(CortecsError::param(
                format!("{name}.batch"),
                format!("batch must be >= 1, and 1 for spiking populations; got {}", spec.batch),
            ));
        }
        for (what, x) in [("pre_noise", spec.pre_noise), ("post_noise", spec.post_noise)] {
            if !(x.is_finite() && x >= 0.0) {
                return Err(CortecsError::param(
                    format!("{name}.{what}"),
                    format!("noise std must be >= 0, got {x}"),
                ));
            }
        }
        let polarity = polarities(&spec.polarity, n, name)?;
        let state = match kind {
            ModelKind::Rate { activation } => {
                let b = spec.batch;
                let v0 = &params[kind.param_index("v_init")?];
                let v: Vec<f32> = (0..n * b).map(|k| v0[k / b] as f32).collect();
                let r = v.iter().map(|&x| activation.apply(x)).collect();
                PopulationState::Rate(RateState {
                    batch: b,
                    v,
                    r,
                    input: vec![0.0; n * b],
                    acc: vec![0.0; n * b],
                })
            }
            ModelKind::PoissonSource => PopulationState::Poisson,
            ModelKind::SpikeSource => {
                let seq = spec.spike_times.clone().unwrap_or(Sequence::Same(Vec::new()));
                let lists = seq.resolve(&format!("{name}.spike_times"), n)?;
                let mut steps = Vec::with_capacity(n);
                for l in lists {
                    let mut s: Vec<u64> = Vec::with_capacity(l.len());
                    for t in l {
                        if t < 0.0 {
                            return Err(CortecsError::param(
                                format!("{name}.spike_times"),
                                format!("spike time {t} ms is negative"),
                            ));
                        }
                        s.push((t / self.dt).round() as u64);
                    }
                    s.sort_unstable();
                    steps.push(s);
                }
                PopulationState::SpikeTimes {
                    steps,
                    next: vec![0; n],
                }
            }
            _ => PopulationState::Spiking(model::initial_state(kind, &params, n)),
        };
        let chunks = n.div_ceil(NEURON_CHUNK);
        let spiking = matches!(state, PopulationState::Spiking(_));
        let rngs = (0..chunks)
            .map(|c| Stream::keyed(self.seed, name, "dynamics", c as u64))
            .collect();
        self.populations.push(Population {
            name: name.to_string(),
            size: n,
            model: spec.model.clone(),
            derived: Derived::new(&spec.model, &params, self.dt),
            params,
            positions,
            polarity,
            state,
            current: vec![0.0; n],
            drives: Vec::new(),
            drive_tables: Vec::new(),
            spikes: Vec::new(),
            spike_record: spec.record_spikes.then(Vec::new),
            spike_count: 0,
            last_spike: vec![u64::MAX; n],
            pre_noise: spec.pre_noise,
            post_noise: spec.post_noise,
            ring: if spiking { vec![0.0; 2 * 2 * n] } else { Vec::new() },
            slots: if spiking { 2 } else { 0 },
            rngs,
            spike_scratch: vec![Vec::new(); chunks],
        });
        Ok(self.populations.len() - 1)
    }

    /// What the strategy of `spec` sees when it connects populations `pre` and `post`.
    pub fn connect_input<'a>(&'a self, spec: &'a ProjectionSpec, pre: usize, post: usize) -> ConnectInput<'a> {
        let (a, b) = (&self.populations[pre], &self.populations[post]);
        ConnectInput {
            projection: &spec.name,
            seed: self.seed,
            n_pre: a.size,
            n_post: b.size,
            pre_positions: &a.positions,
            post_positions: &b.positions,
            space: spec.space,
            pre_polarity: &a.polarity,
            post_polarity: &b.polarity,
            same_population: pre == post,
            self_connections: spec.self_connections,
            multapses: spec.multapses,
            base_dir: &self.base_dir,
        }
    }

    /// Validates a projection and queues it for building (see [`Network::build_pending`]).
    /// Everything that can be checked before drawing is checked here.
    pub fn add_projection(&mut self, spec: ProjectionSpec) -> Result<()> {
        let name = spec.name.as_str();
        if name.is_empty() {
            return Err(CortecsError::param("projection", "name must not be empty"));
        }
        if self.projections.iter().any(|p| p.name == name) || self.pending.iter().any(|p| p.name == name) {
            return Err(CortecsError::DuplicateName {
                kind: "projection",
                name: name.to_string(),
            });
        }
        let pre = self.population_index(&spec.pre)?;
        let post = self.population_index(&spec.post)?;
        let (a, b) = (&self.populations[pre].model, &self.populations[post].model);
        let rate_pre = a.is_rate();
        if rate_pre != b.is_rate() {
            return Err(CortecsError::connection(
                name,
                format!("cannot connect a {} population to a {} population", a.name(), b.name()),
            ));
        }
        if !b.is_rate() && b.synapse().is_none() {
            return Err(CortecsError::connection(
                name,
                format!(
                    "post population '{}' is a source ({}) and takes no input",
                    spec.post,
                    b.name()
                ),
            ));
        }
        if let Some(r) = spec.excitatory_ratio {
            crate::param::check_probability(name, "excitatory_ratio", r)?;
        }
        if !(spec.plasticity.is_finite() && (0.0..=1.0).contains(&spec.plasticity)) {
            return Err(CortecsError::param(
                format!("{name}.plasticity"),
                format!("must be in [0, 1], got {}", spec.plasticity),
            ));
        }
        spec.strategy.validate(&self.connect_input(&spec, pre, post))?;
        self.resolve_masks(&spec, pre, post)?;
        spec.weight.validate_synapses(&self.owner(name, "weight"), None)?;
        if let Some(w) = &spec.weight_inh {
            w.validate_synapses(&self.owner(name, "weight_inh"), None)?;
        }
        if let Some(delay) = &spec.delay {
            delay.validate_synapses(&self.owner(name, "delay"), None)?;
            if let Some(d) = delay.as_const() {
                self.delay_steps(name, d)?;
            }
        }
        self.pending.push(spec);
        Ok(())
    }

    /// Reads and validates the masks a projection declares.
    pub fn resolve_masks(&self, spec: &ProjectionSpec, pre: usize, post: usize) -> Result<Masks> {
        let (n_pre, n_post) = (self.populations[pre].size, self.populations[post].size);
        let name = spec.name.as_str();
        let m = &spec.masks;
        let matrix = |src: &MaskSource, what: &str| -> Result<ndarray::Array2<f32>> {
            match src {
                MaskSource::Array(a) => Ok(a.clone()),
                MaskSource::Rows(rows) => {
                    let cols = rows.first().map_or(0, Vec::len);
                    if let Some(r) = rows.iter().position(|r| r.len() != cols) {
                        return Err(CortecsError::InvalidRequest(format!(
                            "{name}: row {r} of the {what} mask has {} entries, row 0 has {cols}",
                            rows[r].len()
                        )));
                    }
                    Ok(ndarray::Array2::from_shape_fn((rows.len(), cols), |(r, c)| rows[r][c]))
                }
                MaskSource::Npy(path) => read_npy_matrix(&self.base_dir.join(path), n_post, n_pre),
                MaskSource::PerPre(_) => Err(CortecsError::InvalidRequest(format!(
                    "{name}: the {what} mask needs a post x pre matrix, not one value per pre neuron"
                ))),
            }
        };
        let mut masks = Masks {
            self_connections: spec.self_connections,
            balance: m.balance,
            ..Masks::default()
        };
        if let Some(src) = &m.sparsity {
            masks.sparsity = Some(Masks::sparsity_from(
                name,
                matrix(src, "sparsity")?.view(),
                n_post,
                n_pre,
            )?);
        }
        if let Some(src) = &m.ei {
            masks.signs = Some(match src {
                MaskSource::PerPre(v) => Masks::signs_per_pre(name, v, n_pre)?,
                MaskSource::Npy(path) => {
                    let v = crate::param::read_npy_f64(&self.base_dir.join(path))?;
                    if v.len() == n_pre && n_post != 1 {
                        let v: Vec<f32> = v.iter().map(|&x| x as f32).collect();
                        Masks::signs_per_pre(name, &v, n_pre)?
                    } else {
                        Masks::signs_from(name, matrix(src, "E/I")?.view(), n_post, n_pre)?
                    }
                }
                _ => Masks::signs_from(name, matrix(src, "E/I")?.view(), n_post, n_pre)?,
            });
        }
        if let Some(src) = &m.plasticity {
            let a = matrix(src, "plasticity")?;
            masks.plasticity = Some(Masks::factors_from(name, "plasticity", a.view(), n_post, n_pre)?);
        }
        if let Some(src) = &m.growth {
            let a = matrix(src, "growth")?;
            masks.growth = Some(Masks::factors_from(name, "growth", a.view(), n_post, n_pre)?);
        }
        Ok(masks)
    }

    fn delay_steps(&self, name: &str, d: f64) -> Result<u16> {
        let steps = (d / self.dt).round();
        if !(steps >= 1.0 && steps <= f64::from(u16::MAX)) {
            return Err(CortecsError::param(
                format!("{name}.delay"),
                format!(
                    "delay {d} ms is {steps} steps of {} ms; it must be between 1 and {} steps",
                    self.dt,
                    u16::MAX
                ),
            ));
        }
        Ok(steps as u16)
    }

    /// Runs the strategies of all queued projections (in declaration order)
    /// and returns the indices of the projections built.
    /// Refuses (with the estimate in the message) to build what would not fit in memory.
    pub fn build_pending(&mut self) -> Result<Vec<usize>> {
        if let (Ok((estimate, detail)), Some(available)) =
            (crate::memory::estimate_pending(self), crate::memory::available_bytes())
            && estimate > available
        {
            self.pending.clear();
            return Err(CortecsError::OutOfMemory {
                estimate_bytes: estimate,
                available_bytes: available,
                detail,
            });
        }
        let pending = std::mem::take(&mut self.pending);
        let mut built = Vec::new();
        for (k, spec) in pending.iter().enumerate() {
            match self.build_projection(spec.clone()) {
                Ok(i) => built.push(i),
                Err(e) => {
                    self.pending = pending[k + 1..].to_vec();
                    return Err(e);
                }
            }
        }
        Ok(built)
    }

    /// Validates and builds one projection now.
    pub fn connect(&mut self, spec: ProjectionSpec) -> Result<usize> {
        self.add_projection(spec)?;
        let built = self.build_pending()?;
        built
            .last()
            .copied()
            .ok_or_else(|| CortecsError::InvalidRequest("nothing was built".into()))
    }

    fn build_projection(&mut self, spec: ProjectionSpec) -> Result<usize> {
        let pre = self.population_index(&spec.pre)?;
        let post = self.population_index(&spec.post)?;
        let masks = self.resolve_masks(&spec, pre, post)?;
        let input = self.connect_input(&spec, pre, post);
        let conn = connect::connect(&spec.strategy, &input)?;
        let mut store = self.store_for(&spec, conn, pre, post, masks.signs.as_ref())?;
        if masks.signs.is_some() {
            store.dale = spec.dale.unwrap_or(true);
        }
        let rate = self.populations[post].model.is_rate();
        let mut proj = Projection {
            name: spec.name.clone(),
            pre,
            post,
            strategy: spec.strategy.clone(),
            store,
            compact: spec.compact,
            spec,
            dense: None,
            masks,
            recurrent: pre == post,
            constrain_pending: false,
            mirror_log: MirrorLog::default(),
            rebuilds: 0,
            lost_closures: Vec::new(),
        };
        if proj.masks.is_empty() {
            proj.refresh_kernel();
        } else {
            proj.constrain_all();
            proj.store.compact();
            proj.mirror_log = MirrorLog::default();
            proj.refresh_kernel();
        }
        self.projections.push(proj);
        if !rate {
            self.resize_ring(post);
        }
        Ok(self.projections.len() - 1)
    }

    /// The store a connectivity gives projection `spec` from `pre` to `post`,
    /// in the row order its kernel needs (post-major for rate projections).
    pub(crate) fn store_for(
        &self,
        spec: &ProjectionSpec,
        conn: Connectivity,
        pre: usize,
        post: usize,
        sign_mask: Option<&crate::mask::SignMask>,
    ) -> Result<SynapseStore> {
        let input = self.connect_input(spec, pre, post);
        let store = self.make_store(spec, conn, &input, sign_mask)?;
        Ok(if self.populations[post].model.is_rate() {
            store.transposed().0
        } else {
            store
        })
    }

    /// Turns a connectivity into a store: weights, signs, delays. Takes the
    /// connectivity by value and builds (pre, post) arrays only when a value
    /// is a function of them, so the peak while building stays near the
    /// store's own size.
    fn make_store(
        &self,
        spec: &ProjectionSpec,
        conn: Connectivity,
        input: &ConnectInput<'_>,
        sign_mask: Option<&crate::mask::SignMask>,
    ) -> Result<SynapseStore> {
        let name = spec.name.as_str();
        let n = conn.post.len();
        let needs_pairs = (conn.weight.is_none()
            && (spec.weight.needs_pairs() || spec.weight_inh.as_ref().is_some_and(Value::needs_pairs)))
            || (conn.delay.is_none() && spec.delay.as_ref().is_some_and(Value::needs_pairs));
        let (pre_idx, post_idx) = if needs_pairs {
            connectivity_pairs(&conn)
        } else {
            (Vec::new(), Vec::new())
        };
        let pairs = needs_pairs.then_some(SynapsePairs {
            pre: &pre_idx,
            post: &post_idx,
            pre_positions: input.pre_positions,
            post_positions: input.post_positions,
            space: spec.space,
        });
        let has_polarity = input.pre_polarity.iter().any(|p| *p != Polarity::None);
        let signed_by_rule = has_polarity || spec.excitatory_ratio.is_some() || sign_mask.is_some();
        let magnitude = match &conn.weight {
            Some(w) => w.clone(),
            None => spec.weight.synapse_values_n(&self.owner(name, "weight"), n, pairs)?,
        };
        let signs: Vec<Sign> = if let Some(mask) = sign_mask {
            let (pre_i, post_i) = if needs_pairs {
                (pre_idx.clone(), post_idx.clone())
            } else {
                connectivity_pairs(&conn)
            };
            (0..n).map(|k| mask.sign(pre_i[k], post_i[k])).collect()
        } else if signed_by_rule {
            connect::assign_signs(&conn, input, spec.excitatory_ratio.unwrap_or(1.0))?
        } else {
            magnitude
                .iter()
                .map(|&w| if w < 0.0 { INHIBITORY } else { EXCITATORY })
                .collect()
        };
        let inh = match (&spec.weight_inh, &conn.weight) {
            (Some(v), None) => Some(v.synapse_values_n(&self.owner(name, "weight_inh"), n, pairs)?),
            _ => None,
        };
        let weight: Vec<f32> = (0..n)
            .map(|k| {
                let m = match (&inh, signs[k]) {
                    (Some(wi), INHIBITORY) => wi[k],
                    _ => magnitude[k],
                };
                (if signed_by_rule {
                    f64::from(signs[k]) * m.abs()
                } else {
                    m
                }) as f32
            })
            .collect();
        drop(magnitude);
        drop(inh);
        let steps = |ds: &[f64]| -> Result<Column<u16>> {
            Ok(Column::from_values(
                ds.iter()
                    .map(|&d| self.delay_steps(name, d))
                    .collect::<Result<Vec<u16>>>()?,
                1,
            ))
        };
        let delay = match (&conn.delay, &spec.delay) {
            (Some(ds), _) => steps(ds)?,
            (None, None) => Column::Uniform(1),
            (None, Some(v)) => match v.as_const() {
                Some(d) => Column::Uniform(self.delay_steps(name, d)?),
                None => steps(&v.synapse_values_n(&self.owner(name, "delay"), n, pairs)?)?,
            },
        };
        let mut store = SynapseStore::from_pre_rows(
            input.n_pre as u32,
            input.n_post as u32,
            conn.row_ptr,
            conn.post,
            weight,
            signs,
            delay,
        )?;
        store.plasticity = Column::Uniform(spec.plasticity as f32);
        store.dale = spec.dale.unwrap_or(signed_by_rule);
        Ok(store)
    }

    /// Makes the input ring of spiking population `post` long enough for every incoming delay.
    pub(crate) fn resize_ring(&mut self, post: usize) {
        let max_delay = self
            .projections
            .iter()
            .filter(|p| p.post == post)
            .map(|p| p.store.max_delay() as usize)
            .max()
            .unwrap_or(1);
        let slots = max_delay + 1;
        let pop = &mut self.populations[post];
        if slots > pop.slots {
            let n = pop.size;
            let mut ring = vec![0.0; slots * 2 * n];
            // keep pending input at the same absolute steps
            for s in 0..pop.slots {
                let abs = self.step as usize + ((s + pop.slots - (self.step as usize % pop.slots)) % pop.slots);
                let new_s = abs % slots;
                ring[new_s * 2 * n..(new_s + 1) * 2 * n].copy_from_slice(&pop.ring[s * 2 * n..(s + 1) * 2 * n]);
            }
            pop.ring = ring;
            pop.slots = slots;
        }
    }

    /// Adds a constant Poisson drive to a population.
    pub fn add_drive(&mut self, population: &str, drive: PoissonDrive) -> Result<()> {
        let i = self.population_index(population)?;
        if !(drive.rate.is_finite() && drive.rate >= 0.0 && drive.weight.is_finite()) {
            return Err(CortecsError::param(
                format!("{population}.drive"),
                format!("rate must be >= 0 Hz and weight finite, got {drive:?}"),
            ));
        }
        if self.populations[i].model.synapse().is_none() {
            return Err(CortecsError::param(
                format!("{population}.drive"),
                "a Poisson drive needs a spiking population that takes input",
            ));
        }
        let table = rng::PoissonTable::new(drive.rate * self.dt * 1e-3);
        self.populations[i].drives.push(drive);
        self.populations[i].drive_tables.push(table);
        Ok(())
    }

    /// Advances the network by `steps` time steps.
    pub fn run_steps(&mut self, steps: u64) {
        for _ in 0..steps {
            self.step_once();
        }
    }

    /// Advances the network by `ms` milliseconds (rounded to whole steps).
    pub fn run_ms(&mut self, ms: f64) -> Result<()> {
        if !(ms.is_finite() && ms >= 0.0) {
            return Err(CortecsError::param(
                "run",
                format!("duration must be >= 0 ms, got {ms}"),
            ));
        }
        self.run_steps((ms / self.dt).round() as u64);
        Ok(())
    }

    /// One time step: every population in order, then spike delivery.
    pub fn step_once(&mut self) {
        let step = self.step;
        let dt = self.dt;
        for p in 0..self.populations.len() {
            if self.populations[p].model.is_rate() {
                self.update_rate(p);
            } else {
                update_spiking(&mut self.populations[p], step, dt);
            }
        }
        // spike delivery: each projection scatters its pre population's spikes
        for proj in &self.projections {
            let (pre, post) = (proj.pre, proj.post);
            if self.populations[post].model.is_rate() || self.populations[pre].spikes.is_empty() {
                continue;
            }
            if pre == post {
                let pop = &mut self.populations[pre];
                let spikes = std::mem::take(&mut pop.spikes);
                scatter(&proj.store, &spikes, pop, step);
                pop.spikes = spikes;
            } else {
                let (a, b) = two_mut(&mut self.populations, pre, post);
                scatter(&proj.store, &a.spikes, b, step);
            }
        }
        self.step += 1;
    }

    fn update_rate(&mut self, p: usize) {
        let mut state = match std::mem::replace(&mut self.populations[p].state, PopulationState::Poisson) {
            PopulationState::Rate(s) => s,
            other => {
                self.populations[p].state = other;
                return;
            }
        };
        let b = state.batch;
        state.acc.copy_from_slice(&state.input);
        for proj in self.projections.iter().filter(|q| q.post == p) {
            let pre_r: &[f32] = if proj.pre == p {
                &state.r
            } else {
                match &self.populations[proj.pre].state {
                    PopulationState::Rate(s) if s.batch == b => &s.r,
                    _ => continue,
                }
            };
            match &proj.dense {
                Some(w) => dense_rate_input(w, pre_r, b, &mut state.acc),
                None => rate_input(&proj.store, pre_r, b, &mut state.acc),
            }
        }
        let pop = &mut self.populations[p];
        let ModelKind::Rate { activation } = pop.model else {
            return;
        };
        let tau = &pop.params[0];
        let bias = &pop.params[1];
        let dt = self.dt as f32;
        let (pre_noise, post_noise) = (pop.pre_noise as f32, pop.post_noise as f32);
        let per_chunk = NEURON_CHUNK * b;
        let rngs = &mut pop.rngs;
        let RateState { v, r, acc, .. } = &mut state;
        let body = |c: usize, v: &mut [f32], r: &mut [f32], acc: &[f32], rng: &mut Stream| {
            // v <- (1 - a) v + a (I + b), neuron by neuron over the contiguous batch
            if b == 1 {
                // one trial: a flat loop the compiler vectorises (same operations as below)
                let off = c * NEURON_CHUNK;
                let (tau, bias) = (&tau[off..off + v.len()], &bias[off..off + v.len()]);
                for (((v, &a), &t), &bi) in v.iter_mut().zip(acc).zip(tau).zip(bias) {
                    let alpha = dt / t as f32;
                    let (keep, drive) = (1.0 - alpha, alpha * bi as f32);
                    *v = keep * *v + alpha * a + drive;
                }
            } else {
                for (k, (v, acc)) in v.chunks_mut(b).zip(acc.chunks(b)).enumerate() {
                    let i = c * NEURON_CHUNK + k;
                    let alpha = dt / tau[i] as f32;
                    let (keep, drive) = (1.0 - alpha, alpha * bias[i] as f32);
                    for (v, &a) in v.iter_mut().zip(acc) {
                        *v = keep * *v + alpha * a + drive;
                    }
                }
            }
            if pre_noise > 0.0 {
                for v in v.iter_mut() {
                    *v += pre_noise * crate::param::standard_normal(rng) as f32;
                }
            }
            apply_activation(activation, v, r);
            if post_noise > 0.0 {
                for r in r.iter_mut() {
                    *r += post_noise * crate::param::standard_normal(rng) as f32;
                }
            }
        };
        if v.len() >= PARALLEL_MIN {
            v.par_chunks_mut(per_chunk)
                .zip(r.par_chunks_mut(per_chunk))
                .zip(acc.par_chunks(per_chunk))
                .zip(rngs.par_iter_mut())
                .with_min_len(PARALLEL_MIN / per_chunk.max(1) + 1)
                .enumerate()
                .for_each(|(c, (((v, r), acc), rng))| body(c, v, r, acc, rng));
        } else {
            // small populations (an agent's brain) on this thread: same chunks, same streams
            v.chunks_mut(per_chunk)
                .zip(r.chunks_mut(per_chunk))
                .zip(acc.chunks(per_chunk))
                .zip(rngs.iter_mut())
                .enumerate()
                .for_each(|(c, (((v, r), acc), rng))| body(c, v, r, acc, rng));
        }
        pop.state = PopulationState::Rate(state);
    }
}

/// `r = f(v)` elementwise, with the activation chosen once per slice so the loop vectorises.
fn apply_activation(activation: crate::model::Activation, v: &[f32], r: &mut [f32]) {
    use crate::model::{Activation::*, fast_tanh};
    fn map(v: &[f32], r: &mut [f32], f: impl Fn(f32) -> f32) {
        for (r, &v) in r.iter_mut().zip(v) {
            *r = f(v);
        }
    }
    match activation {
        Relu => map(v, r, |x| x.max(0.0)),
        Tanh => map(v, r, fast_tanh),
        Retanh => map(v, r, |x| fast_tanh(x).max(0.0)),
        Identity => r.copy_from_slice(v),
        other => map(v, r, |x| other.apply(x)),
    }
}

/// Reads a post x pre matrix from a `.npy` file (any float or int dtype).
pub fn read_npy_matrix(path: &std::path::Path, n_post: usize, n_pre: usize) -> Result<ndarray::Array2<f32>> {
    let v = crate::param::read_npy_f64(path)?;
    if v.len() != n_post * n_pre {
        return Err(CortecsError::WrongLength {
            context: format!("{} (a post x pre = {n_post} x {n_pre} matrix)", path.display()),
            expected: n_post * n_pre,
            got: v.len(),
        });
    }
    Ok(ndarray::Array2::from_shape_fn((n_post, n_pre), |(r, c)| {
        v[r * n_pre + c] as f32
    }))
}

/// Pre and post index of every synapse of a connectivity, in row order.
pub fn connectivity_pairs(conn: &Connectivity) -> (Vec<u32>, Vec<u32>) {
    let mut pre = Vec::with_capacity(conn.post.len());
    for r in 0..conn.row_ptr.len().saturating_sub(1) {
        let n = (conn.row_ptr[r + 1] - conn.row_ptr[r]) as usize;
        pre.extend(std::iter::repeat_n(r as u32, n));
    }
    (pre, conn.post.clone())
}

fn two_mut<T>(v: &mut [T], a: usize, b: usize) -> (&T, &mut T) {
    if a < b {
        let (x, y) = v.split_at_mut(b);
        (&x[a], &mut y[0])
    } else {
        let (x, y) = v.split_at_mut(a);
        (&y[0], &mut x[b])
    }
}

/// `acc += W r` with a dense post x pre kernel (`r`: pre x batch, `acc`: post x batch).
pub fn dense_rate_input(w: &ndarray::Array2<f32>, r: &[f32], batch: usize, acc: &mut [f32]) {
    let (n_post, n_pre) = w.dim();
    if batch == 1
        && n_pre > 0
        && let (Some(ws), Some(r), Some(acc)) = (w.as_slice(), r.get(..n_pre), acc.get_mut(..n_post))
    {
        // a matrix-vector product: row dot products, no packing (a small
        // agent brain would spend most of its step packing for a gemm)
        for (a, row) in acc.iter_mut().zip(ws.chunks_exact(n_pre)) {
            *a += dot(row, r);
        }
        return;
    }
    let (Ok(r), Ok(mut acc)) = (
        ndarray::ArrayView2::from_shape((n_pre, batch), &r[..n_pre * batch]),
        ndarray::ArrayViewMut2::from_shape((n_post, batch), &mut acc[..n_post * batch]),
    ) else {
        return;
    };
    ndarray::linalg::general_mat_mul(1.0, w, &r, 1.0, &mut acc);
}

/// Dot product, eight partial sums so that it vectorises under strict
/// floating point (the summation order of ndarray's `dot`, inlined here).
#[inline]
fn dot(xs: &[f32], ys: &[f32]) -> f32 {
    let n = xs.len().min(ys.len());
    let (mut xs, mut ys) = (&xs[..n], &ys[..n]);
    let mut p = [0.0f32; 8];
    while xs.len() >= 8 {
        for k in 0..8 {
            p[k] += xs[k] * ys[k];
        }
        xs = &xs[8..];
        ys = &ys[8..];
    }
    let mut sum = 0.0f32;
    sum += p[0] + p[4];
    sum += p[1] + p[5];
    sum += p[2] + p[6];
    sum += p[3] + p[7];
    for (&x, &y) in xs.iter().zip(ys) {
        sum += x * y;
    }
    sum
}

/// `acc[j, :] += sum_k W[j, k] r[k, :]` over a post-major store (batch inner).
pub fn rate_input(store: &SynapseStore, r: &[f32], batch: usize, acc: &mut [f32]) {
    debug_assert_eq!(store.major, Major::Post);
    let rows = store.rows();
    let min_len = (PARALLEL_MIN / batch.max(1) / 64).max(1);
    acc.par_chunks_mut(64 * batch)
        .with_min_len(min_len)
        .enumerate()
        .for_each(|(c, out)| {
            for jj in 0..out.len() / batch {
                let j = c * 64 + jj;
                if j >= rows {
                    break;
                }
                let o = &mut out[jj * batch..(jj + 1) * batch];
                for k in store.row(j) {
                    let w = store.weight[k];
                    let pre = store.minor[k] as usize;
                    let src = &r[pre * batch..(pre + 1) * batch];
                    for (x, &s) in o.iter_mut().zip(src) {
                        *x += w * s;
                    }
                }
            }
        });
}

/// Adds the spikes of one step to the post population's ring at `step + delay`.
fn scatter(store: &SynapseStore, spikes: &[u32], post: &mut Population, step: u64) {
    let n = post.size;
    let slots = post.slots;
    let delta = post.model.synapse() == Some(crate::model::SynapseKind::Delta);
    match &store.delay {
        Column::Uniform(d) => {
            let slot = (step as usize + *d as usize) % slots;
            let ring = &mut post.ring[slot * 2 * n..(slot + 1) * 2 * n];
            let (exc, inh) = ring.split_at_mut(n);
            for &i in spikes {
                let range = store.row(i as usize);
                let posts = &store.minor[range.clone()];
                let ws = &store.weight[range];
                if delta {
                    for (&j, &w) in posts.iter().zip(ws) {
                        exc[j as usize] += f64::from(w);
                    }
                } else {
                    for (&j, &w) in posts.iter().zip(ws) {
                        if w >= 0.0 {
                            exc[j as usize] += f64::from(w);
                        } else {
                            inh[j as usize] -= f64::from(w);
                        }
                    }
                }
            }
        }
        Column::PerSynapse(delays) => {
            for &i in spikes {
                for k in store.row(i as usize) {
                    let slot = (step as usize + delays[k] as usize) % slots;
                    let j = store.minor[k] as usize;
                    let w = f64::from(store.weight[k]);
                    let base = slot * 2 * n;
                    if delta || w >= 0.0 {
                        post.ring[base + j] += w;
                    } else {
                        post.ring[base + n + j] -= w;
                    }
                }
            }
        }
    }
}

/// Updates a spiking or source population for one step; fills `pop.spikes`.
fn update_spiking(pop: &mut Population, step: u64, dt: f64) {
    pop.spikes.clear();
    let n = pop.size;
    let Population {
        model,
        params,
        derived,
        state,
        current,
        drives,
        drive_tables,
        rngs,
        ring,
        slots,
        spike_scratch,
        ..
    } = pop;
    match state {
        PopulationState::Poisson => {
            let rate = &params[0];
            spike_scratch
                .par_iter_mut()
                .zip(rngs.par_iter_mut())
                .enumerate()
                .for_each(|(c, (out, rng))| {
                    out.clear();
                    let start = c * NEURON_CHUNK;
                    let end = (start + NEURON_CHUNK).min(n);
                    for (i, &r) in rate[start..end].iter().enumerate() {
                        let k = rng::poisson(rng, r * dt * 1e-3);
                        out.extend(std::iter::repeat_n((start + i) as u32, k as usize));
                    }
                });
        }
        PopulationState::SpikeTimes { steps, next } => {
            spike_scratch[0].clear();
            for i in 0..n {
                while next[i] < steps[i].len() && steps[i][next[i]] <= step {
                    if steps[i][next[i]] == step {
                        spike_scratch[0].push(i as u32);
                    }
                    next[i] += 1;
                }
            }
        }
        PopulationState::Spiking(s) => {
            let slot = step as usize % *slots;
            let (exc, inh) = ring[slot * 2 * n..(slot + 1) * 2 * n].split_at_mut(n);
            let derived: &Derived = derived;
            let drives: &[PoissonDrive] = drives;
            let drive_tables: &[rng::PoissonTable] = drive_tables;
            let model: &ModelKind = model;
            let params: &Params = params;
            let current: &[f64] = current;
            let delta = model.synapse() == Some(crate::model::SynapseKind::Delta);
            let body =
                |c: usize, st: StateChunk<'_>, e: &mut [f64], i: &mut [f64], out: &mut Vec<u32>, rng: &mut Stream| {
                    out.clear();
                    let len = st.v.len();
                    let offset = c * NEURON_CHUNK;
                    for (d, table) in drives.iter().zip(drive_tables) {
                        let (target, w) = if delta || d.weight >= 0.0 {
                            (&mut *e, d.weight)
                        } else {
                            (&mut *i, -d.weight)
                        };
                        for x in target.iter_mut() {
                            let k = table.sample(rng);
                            if k > 0 {
                                *x += k as f64 * w;
                            }
                        }
                    }
                    crate::kernel::step_spiking(
                        model,
                        params,
                        derived,
                        offset,
                        st,
                        StepInput {
                            exc: e,
                            inh: i,
                            current: &current[offset..offset + len],
                        },
                        out,
                    );
                    e.fill(0.0);
                    i.fill(0.0);
                    for k in out.iter_mut() {
                        *k += offset as u32;
                    }
                };
            let SpikingState {
                v,
                w,
                g_e,
                g_i,
                x_e,
                x_i,
                refractory,
            } = s;
            const C: usize = NEURON_CHUNK;
            // The same chunk walk, on the pool for large populations and on
            // this thread for small ones (chunks, streams and results are identical).
            macro_rules! walk_chunks {
                ($chunks:ident, $iter:ident) => {
                    v.$chunks(C)
                        .zip(w.$chunks(C))
                        .zip(g_e.$chunks(C))
                        .zip(g_i.$chunks(C))
                        .zip(x_e.$chunks(C))
                        .zip(x_i.$chunks(C))
                        .zip(refractory.$chunks(C))
                        .zip(exc.$chunks(C))
                        .zip(inh.$chunks(C))
                        .zip(spike_scratch.$iter())
                        .zip(rngs.$iter())
                        .enumerate()
                        .for_each(
                            |(c, ((((((((((v, w), g_e), g_i), x_e), x_i), refractory), e), i), out), rng))| {
                                body(
                                    c,
                                    StateChunk {
                                        v,
                                        w,
                                        g_e,
                                        g_i,
                                        x_e,
                                        x_i,
                                        refractory,
                                    },
                                    e,
                                    i,
                                    out,
                                    rng,
                                )
                            },
                        )
                };
            }
            if n >= PARALLEL_MIN {
                walk_chunks!(par_chunks_mut, par_iter_mut);
            } else {
                walk_chunks!(chunks_mut, iter_mut);
            }
        }
        PopulationState::Rate(_) => {}
    }
    for out in spike_scratch.iter() {
        pop.spikes.extend_from_slice(out);
    }
    pop.spike_count += pop.spikes.len() as u64;
    for &i in &pop.spikes {
        pop.last_spike[i as usize] = step;
    }
    if let Some(rec) = &mut pop.spike_record {
        rec.extend(pop.spikes.iter().map(|&i| (step, i)));
    }
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
            (_, "current") => Some(self.current.clone()),
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
            }
            PopulationState::Rate(_) => names.extend(["v", "r"].map(String::from)),
            _ => {}
        }
        names.push("current".into());
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
        let target: Option<&mut Vec<f64>> = match (&mut self.state, name) {
            (PopulationState::Spiking(s), "v") => Some(&mut s.v),
            (PopulationState::Spiking(s), "w" | "u") if !s.w.is_empty() => Some(&mut s.w),
            (PopulationState::Spiking(s), "g_e") => Some(&mut s.g_e),
            (PopulationState::Spiking(s), "g_i") => Some(&mut s.g_i),
            (_, "current") => Some(&mut self.current),
            (PopulationState::Rate(s), "v") => {
                let b = s.batch;
                for (&i, x) in idx.iter().zip(&vals) {
                    for t in 0..b {
                        s.v[i * b + t] = *x as f32;
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

/// A selection of neurons of one population.
#[derive(Clone, Debug, PartialEq)]
pub enum View {
    /// Every neuron.
    All,
    /// These indices, in this order.
    Indices(Vec<usize>),
    /// A half-open range of indices.
    Range(std::ops::Range<usize>),
    /// A boolean mask of the population's size.
    Mask(Vec<bool>),
}

impl View {
    /// The selected indices; out-of-range indices and wrong mask lengths are errors.
    pub fn indices(&self, size: usize, context: &str) -> Result<Vec<usize>> {
        match self {
            View::All => Ok((0..size).collect()),
            View::Indices(v) => {
                if let Some(&bad) = v.iter().find(|&&i| i >= size) {
                    return Err(CortecsError::InvalidRequest(format!(
                        "{context}: index {bad} is out of range for {size} neurons"
                    )));
                }
                Ok(v.clone())
            }
            View::Range(r) => {
                if r.end > size || r.start > r.end {
                    return Err(CortecsError::InvalidRequest(format!(
                        "{context}: range {r:?} is out of range for {size} neurons"
                    )));
                }
                Ok(r.clone().collect())
            }
            View::Mask(m) => {
                if m.len() != size {
                    return Err(CortecsError::WrongLength {
                        context: format!("{context} mask"),
                        expected: size,
                        got: m.len(),
                    });
                }
                Ok(m.iter().enumerate().filter(|(_, b)| **b).map(|(i, _)| i).collect())
            }
        }
    }
}
