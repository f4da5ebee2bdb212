//! Parameter values: the PyNN rule.
//!
//! Every per-neuron and per-synapse parameter (weights, delays, time
//! constants, thresholds, initial state, ...) is a [`Value`]: a number, a
//! seeded [`Distribution`], an array of exactly the right length (inline or a
//! `.npy` file), a function of the neuron index, of (pre, post), of position
//! or of distance (a Rust closure, or an expression string compiled once by
//! [`crate::expr`]). Values are resolved into arrays when a population or
//! projection is built; random draws come from [`crate::rng`] streams keyed by
//! `(seed, owner, parameter, chunk)`, so they are identical at any thread
//! count.
//!
//! This file holds [`Value`], [`Owner`], [`SynapsePairs`] and [`Sequence`];
//! `distribution.rs` holds [`Distribution`] and the sampling; [`crate::expr`] is the
//! expression language. Used by `population/` (neuron parameters), `connect/`
//! and `projection/` (synapse parameters); distances come from
//! [`crate::space`]. `.npy` arrays are read by
//! [`crate::io::read_npy_f64`].

use crate::error::{CortecsError, Result};
use crate::expr::Expr;
use crate::space::Space;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod distribution;
mod init;

use distribution::finite;
pub use distribution::{ClipMode, Distribution, check_probability, draw, normal_cdf};
pub use init::{BiasInit, FanMode, Gain, Init};

/// Number of values drawn from one random stream: the unit of parallel work
/// and the key of the stream, independent of the number of threads.
pub const CHUNK: usize = 1 << 14;

/// A function of the neuron index.
pub type IndexFn = Arc<dyn Fn(usize) -> f64 + Send + Sync>;
/// A function of (pre index, post index).
pub type PairFn = Arc<dyn Fn(usize, usize) -> f64 + Send + Sync>;
/// A function of a position (µm).
pub type PositionFn = Arc<dyn Fn([f64; 3]) -> f64 + Send + Sync>;
/// A function of the pre-post distance d (µm).
pub type DistanceFn = Arc<dyn Fn(f64) -> f64 + Send + Sync>;

/// A parameter value: how the value of each neuron or synapse is given.
#[derive(Clone)]
pub enum Value {
    /// The same number for all.
    Const(f64),
    /// Independent draws from a distribution (stream keyed by owner, parameter, chunk).
    Random(Distribution),
    /// One value per neuron or synapse, in index (neurons) or store-row order (synapses).
    Array(Arc<[f64]>),
    /// An array read from a `.npy` file (float64, float32 or int64), relative to the scene's folder.
    Npy(PathBuf),
    /// A function of the neuron index `i` (neurons only).
    OfIndex(IndexFn),
    /// A function of (pre index i, post index j) (synapses only).
    OfPair(PairFn),
    /// A function of position (x, y, z) in µm (neurons only).
    OfPosition(PositionFn),
    /// A function of the pre-post distance d in µm (synapses only).
    OfDistance(DistanceFn),
    /// An expression string. Neurons: variables `i`, `n`, `x`, `y`, `z`;
    /// synapses: `i` (pre), `j` (post), `d`, `dx`, `dy`, `dz` (post - pre, µm).
    Expr(String),
    /// A weight initialiser by fan-in / fan-out (projection weights only;
    /// resolved into a distribution by [`Value::with_fans`] when built).
    Init(Init),
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Const(c) => write!(f, "Const({c})"),
            Value::Random(d) => write!(f, "Random({d:?})"),
            Value::Array(a) => write!(f, "Array(len {})", a.len()),
            Value::Npy(p) => write!(f, "Npy({})", p.display()),
            Value::OfIndex(_) => write!(f, "OfIndex(<fn>)"),
            Value::OfPair(_) => write!(f, "OfPair(<fn>)"),
            Value::OfPosition(_) => write!(f, "OfPosition(<fn>)"),
            Value::OfDistance(_) => write!(f, "OfDistance(<fn>)"),
            Value::Expr(s) => write!(f, "Expr({s:?})"),
            Value::Init(i) => write!(f, "Init({i:?})"),
        }
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::Const(x)
    }
}
impl From<Distribution> for Value {
    fn from(d: Distribution) -> Self {
        Value::Random(d)
    }
}
impl From<Vec<f64>> for Value {
    fn from(v: Vec<f64>) -> Self {
        Value::Array(v.into())
    }
}
impl From<Init> for Value {
    fn from(i: Init) -> Self {
        Value::Init(i)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Expr(s.to_string())
    }
}

impl Value {
    /// A function of the neuron index.
    pub fn of_index(f: impl Fn(usize) -> f64 + Send + Sync + 'static) -> Value {
        Value::OfIndex(Arc::new(f))
    }
    /// A function of (pre, post) indices.
    pub fn of_pair(f: impl Fn(usize, usize) -> f64 + Send + Sync + 'static) -> Value {
        Value::OfPair(Arc::new(f))
    }
    /// A function of position (µm).
    pub fn of_position(f: impl Fn([f64; 3]) -> f64 + Send + Sync + 'static) -> Value {
        Value::OfPosition(Arc::new(f))
    }
    /// A function of the pre-post distance (µm).
    pub fn of_distance(f: impl Fn(f64) -> f64 + Send + Sync + 'static) -> Value {
        Value::OfDistance(Arc::new(f))
    }
    /// An expression string (see [`Value::Expr`]).
    pub fn expr(source: &str) -> Value {
        Value::Expr(source.to_string())
    }

    /// The value with a fan initialiser resolved for a weight matrix of
    /// `fan_in` columns (pre neurons) and `fan_out` rows (post neurons);
    /// other values are returned as they are.
    pub fn with_fans(&self, context: &str, fan_in: usize, fan_out: usize) -> Result<Value> {
        Ok(match self {
            Value::Init(i) => Value::Random(i.distribution(context, fan_in, fan_out)?),
            other => other.clone(),
        })
    }

    /// The constant, when the value is one.
    pub fn as_const(&self) -> Option<f64> {
        match self {
            Value::Const(c) => Some(*c),
            _ => None,
        }
    }
}

/// Variables an expression for a neuron parameter may use.
pub const NEURON_VARIABLES: [&str; 5] = ["i", "n", "x", "y", "z"];
/// Variables an expression for a synapse parameter may use.
pub const SYNAPSE_VARIABLES: [&str; 6] = ["i", "j", "d", "dx", "dy", "dz"];

/// Where a value is resolved: used for stream keys and error messages.
#[derive(Clone, Copy, Debug)]
pub struct Owner<'a> {
    /// Global seed.
    pub seed: u64,
    /// Name of the population or projection.
    pub name: &'a str,
    /// Parameter name (also the stream's purpose).
    pub param: &'a str,
    /// Folder against which relative `.npy` paths are resolved.
    pub base_dir: &'a Path,
}

impl Owner<'_> {
    /// "name.param", for messages.
    pub fn context(&self) -> String {
        format!("{}.{}", self.name, self.param)
    }
}

fn compile(owner: &Owner<'_>, source: &str, vars: &[&str]) -> Result<Expr> {
    Expr::compile(source, vars).map_err(|source| CortecsError::Expression {
        context: owner.context(),
        source,
    })
}

fn check_len(owner: &Owner<'_>, got: usize, expected: usize) -> Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(CortecsError::WrongLength {
            context: owner.context(),
            expected,
            got,
        })
    }
}

impl Value {
    /// Checks the value for use as a per-neuron parameter of a population of
    /// `n` neurons, without drawing anything (arrays' lengths, expressions'
    /// variables, distributions' parameters).
    pub fn validate_neurons(&self, owner: &Owner<'_>, n: usize) -> Result<()> {
        match self {
            Value::Const(c) => finite(&owner.context(), "value", *c),
            Value::Random(d) => d.validate(&owner.context()),
            Value::Array(a) => check_len(owner, a.len(), n),
            Value::Npy(p) => check_len(owner, crate::io::read_npy_f64(&owner.base_dir.join(p))?.len(), n),
            Value::OfIndex(_) | Value::OfPosition(_) => Ok(()),
            Value::OfPair(_) | Value::OfDistance(_) => Err(CortecsError::param(
                owner.context(),
                "a function of (pre, post) or of distance is a synapse parameter, not a neuron parameter",
            )),
            Value::Expr(s) => compile(owner, s, &NEURON_VARIABLES).map(|_| ()),
            Value::Init(i) => Err(CortecsError::param(
                owner.context(),
                format!(
                    "{} is a weight initialiser (by fan-in), not a neuron parameter; for biases use a BiasInit",
                    i.name()
                ),
            )),
        }
    }

    /// Values that need only their count: numbers, distributions, arrays (empty for other kinds).
    fn counted_values(&self, owner: &Owner<'_>, n: usize) -> Result<Vec<f64>> {
        Ok(match self {
            Value::Const(c) => {
                finite(&owner.context(), "value", *c)?;
                vec![*c; n]
            }
            Value::Random(d) => {
                d.validate(&owner.context())?;
                draw(d, owner, n)
            }
            Value::Array(a) => {
                check_len(owner, a.len(), n)?;
                a.to_vec()
            }
            Value::Npy(p) => {
                let a = crate::io::read_npy_f64(&owner.base_dir.join(p))?;
                check_len(owner, a.len(), n)?;
                a
            }
            _ => Vec::new(),
        })
    }

    /// Resolves the value for `n` neurons at `positions` (empty slice = all at the origin).
    pub fn neuron_values(&self, owner: &Owner<'_>, n: usize, positions: &[[f64; 3]]) -> Result<Vec<f64>> {
        let pos = |i: usize| positions.get(i).copied().unwrap_or([0.0; 3]);
        Ok(match self {
            Value::Const(_) | Value::Random(_) | Value::Array(_) | Value::Npy(_) => self.counted_values(owner, n)?,
            Value::OfIndex(f) => (0..n).map(|i| f(i)).collect(),
            Value::OfPosition(f) => (0..n).map(|i| f(pos(i))).collect(),
            Value::OfPair(_) | Value::OfDistance(_) | Value::Init(_) => {
                self.validate_neurons(owner, n)?;
                unreachable!("validate_neurons refuses synapse-only values")
            }
            Value::Expr(s) => {
                let e = compile(owner, s, &NEURON_VARIABLES)?;
                (0..n)
                    .map(|i| {
                        let p = pos(i);
                        e.eval(&[i as f64, n as f64, p[0], p[1], p[2]])
                    })
                    .collect()
            }
        })
    }

    /// Checks the value for use as a per-synapse parameter (arrays are
    /// checked against the synapse count when it is known).
    pub fn validate_synapses(&self, owner: &Owner<'_>, count: Option<usize>) -> Result<()> {
        match self {
            Value::Const(c) => finite(&owner.context(), "value", *c),
            Value::Random(d) => d.validate(&owner.context()),
            Value::Array(a) => count.map_or(Ok(()), |n| check_len(owner, a.len(), n)),
            Value::Npy(p) => {
                let a = crate::io::read_npy_f64(&owner.base_dir.join(p))?;
                count.map_or(Ok(()), |n| check_len(owner, a.len(), n))
            }
            Value::OfPair(_) | Value::OfDistance(_) => Ok(()),
            Value::OfIndex(_) | Value::OfPosition(_) => Err(CortecsError::param(
                owner.context(),
                "a function of one index or one position is a neuron parameter; use a function of (pre, post) or of distance",
            )),
            Value::Expr(s) => compile(owner, s, &SYNAPSE_VARIABLES).map(|_| ()),
            Value::Init(i) if matches!(owner.param, "weight" | "weight_inh") => i.validate(&owner.context()),
            Value::Init(i) => Err(CortecsError::param(
                owner.context(),
                format!(
                    "{} is a weight initialiser: only weight and weight_inh take one",
                    i.name()
                ),
            )),
        }
    }

    /// Resolves the value for the synapses `(pre[k], post[k])`, in that order.
    pub fn synapse_values(&self, owner: &Owner<'_>, pairs: SynapsePairs<'_>) -> Result<Vec<f64>> {
        self.synapse_values_n(owner, pairs.pre.len(), Some(pairs))
    }

    /// True when resolving the value needs each synapse's (pre, post) pair
    /// (functions and expressions); numbers, distributions and arrays need only the count.
    pub fn needs_pairs(&self) -> bool {
        matches!(self, Value::OfPair(_) | Value::OfDistance(_) | Value::Expr(_))
    }

    /// Resolves the value for `n` synapses; `pairs` may be `None` when
    /// [`Value::needs_pairs`] is false (saves 8 bytes per synapse while building).
    pub fn synapse_values_n<'p>(
        &self,
        owner: &Owner<'_>,
        n: usize,
        pairs: Option<SynapsePairs<'p>>,
    ) -> Result<Vec<f64>> {
        let missing =
            || CortecsError::InvalidRequest(format!("{}: this value needs the synapses' pairs", owner.context()));
        let need = |pairs: Option<SynapsePairs<'p>>| pairs.ok_or_else(missing);
        Ok(match self {
            Value::Const(_) | Value::Random(_) | Value::Array(_) | Value::Npy(_) => self.counted_values(owner, n)?,
            Value::OfPair(f) => need(pairs)?.map(|i, j| f(i, j)),
            Value::OfDistance(f) => {
                let pairs = need(pairs)?;
                pairs.map(|i, j| f(pairs.distance(i, j)))
            }
            Value::OfIndex(_) | Value::OfPosition(_) => {
                self.validate_synapses(owner, Some(n))?;
                unreachable!("validate_synapses refuses neuron-only values")
            }
            Value::Init(i) => {
                return Err(CortecsError::InvalidRequest(format!(
                    "{}: {} needs the weight matrix's fans (resolve it with Value::with_fans first)",
                    owner.context(),
                    i.name()
                )));
            }
            Value::Expr(s) => {
                let e = compile(owner, s, &SYNAPSE_VARIABLES)?;
                let pairs = need(pairs)?;
                let spatial = e.uses("d") || e.uses("dx") || e.uses("dy") || e.uses("dz");
                pairs.map(|i, j| {
                    let (dv, [dx, dy, dz]) = if spatial { pairs.offset(i, j) } else { (0.0, [0.0; 3]) };
                    e.eval(&[i as f64, j as f64, dv, dx, dy, dz])
                })
            }
        })
    }
}

/// The synapses a per-synapse value is resolved for, with the positions
/// needed for distance-dependent values.
#[derive(Clone, Copy)]
pub struct SynapsePairs<'a> {
    /// Pre index of each synapse.
    pub pre: &'a [u32],
    /// Post index of each synapse.
    pub post: &'a [u32],
    /// Positions of the pre population (may be empty).
    pub pre_positions: &'a [[f64; 3]],
    /// Positions of the post population (may be empty).
    pub post_positions: &'a [[f64; 3]],
    /// Boundary conditions for distances.
    pub space: Space,
}

impl SynapsePairs<'_> {
    fn offset(&self, i: usize, j: usize) -> (f64, [f64; 3]) {
        let a = self.pre_positions.get(i).copied().unwrap_or([0.0; 3]);
        let b = self.post_positions.get(j).copied().unwrap_or([0.0; 3]);
        let d = self.space.displacement(a, b);
        ((d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt(), d)
    }

    /// Distance (µm) between pre neuron i and post neuron j.
    pub fn distance(&self, i: usize, j: usize) -> f64 {
        self.offset(i, j).0
    }

    fn map(&self, f: impl Fn(usize, usize) -> f64 + Sync) -> Vec<f64> {
        let mut out = vec![0.0; self.pre.len()];
        out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, chunk)| {
            let base = c * CHUNK;
            for (k, x) in chunk.iter_mut().enumerate() {
                *x = f(self.pre[base + k] as usize, self.post[base + k] as usize);
            }
        });
        out
    }
}

/// A list of values per neuron (e.g. spike times in ms of a spike-array source).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Sequence {
    /// The same list for every neuron.
    Same(Vec<f64>),
    /// One list per neuron.
    PerNeuron(Vec<Vec<f64>>),
}

impl Sequence {
    /// The lists for `n` neurons; a per-neuron list of the wrong length is an error.
    pub fn resolve(&self, context: &str, n: usize) -> Result<Vec<Vec<f64>>> {
        let lists = match self {
            Sequence::Same(v) => vec![v.clone(); n],
            Sequence::PerNeuron(v) => {
                if v.len() != n {
                    return Err(CortecsError::WrongLength {
                        context: context.to_string(),
                        expected: n,
                        got: v.len(),
                    });
                }
                v.clone()
            }
        };
        for (i, l) in lists.iter().enumerate() {
            if l.iter().any(|x| !x.is_finite()) {
                return Err(CortecsError::param(
                    context,
                    format!("sequence of neuron {i} has a non-finite value"),
                ));
            }
        }
        Ok(lists)
    }
}
