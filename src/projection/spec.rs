//! What a projection is before it is built: pre, post, strategy, weights, delays, E/I, masks (PyNN's `Projection(...)`, nn4n's masks).

use crate::connect::Strategy;
use crate::param::Value;
use crate::space::Space;
use std::path::PathBuf;

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
    /// Local learning rules, applied in order every step (see `plasticity`).
    pub learning: Vec<crate::plasticity::Learning>,
    /// Synapse growth (see `plasticity::Growth`), if any.
    pub growth: Option<crate::plasticity::Growth>,
    /// Synapse pruning (see `plasticity::Pruning`), if any.
    pub pruning: Option<crate::plasticity::Pruning>,
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
/// `network::Network::add_projection`); see `mask`. All post x pre.
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
            learning: Vec::new(),
            growth: None,
            pruning: None,
        }
    }

    /// Adds a learning rule. A projection whose every synapse is still fixed
    /// (plasticity factor 0, the default) gets factor 1, so the rule learns;
    /// set [`ProjectionSpec::plasticity`] or a plasticity mask to say otherwise.
    pub fn learn(mut self, learning: crate::plasticity::Learning) -> Self {
        if self.learning.is_empty() && self.plasticity == 0.0 {
            self.plasticity = 1.0;
        }
        self.learning.push(learning);
        self
    }

    /// Lets synapses grow (structural plasticity).
    pub fn grow(mut self, growth: crate::plasticity::Growth) -> Self {
        self.growth = Some(growth);
        self
    }

    /// Prunes synapses whose weight stays small (structural plasticity;
    /// sets the learning factor to 1 if it was 0, as [`Self::learn`] does).
    pub fn prune(mut self, pruning: crate::plasticity::Pruning) -> Self {
        if self.learning.is_empty() && self.pruning.is_none() && self.plasticity == 0.0 {
            self.plasticity = 1.0;
        }
        self.pruning = Some(pruning);
        self
    }

    /// Sets the learning factor of every synapse (in [0, 1]; 0 = fixed).
    pub fn plasticity(mut self, factor: f64) -> Self {
        self.plasticity = factor;
        self
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
