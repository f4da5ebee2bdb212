//! Connection strategies as pure functions.
//!
//! A [`Strategy`] (the union of Simbrain's, PyNN's, NEST's and Brian2's
//! connection rules) and a [`ConnectInput`] (sizes, positions, polarities,
//! flags, seed) give a [`Connectivity`]: the synapses of one projection in
//! pre-major CSR form, every row sorted by post index. [`assign_signs`] then
//! gives each synapse its sign (Dale's law, excitatory ratio) and
//! [`expected_count`] estimates the number of synapses before building.
//!
//! # Cost
//!
//! Every rule is built in time linear in the number of synapses it makes
//! (plus the number of neurons), except the rules that must look at every
//! pair by their nature: [`Strategy::IndexProbability`], and
//! [`Strategy::DistanceProbability`] / [`Strategy::RadialGaussian`] without a
//! cutoff. Fixed probability never draws once per pair: long rows draw
//! their length (binomial) and then that many distinct targets, short rows
//! skip over the pairs with geometric gaps (one table lookup per synapse).
//! Fixed degrees and totals draw exactly the synapses they make (in-degree
//! by post row, then transposed by a counting sort), and distance rules
//! with a cutoff only visit the pairs within the cutoff through a
//! [`GridIndex`]. Rules whose row lengths are known before their entries
//! write straight into the output; the others build chunk buffers that are
//! concatenated once.
//!
//! # Determinism
//!
//! Rows are built in parallel (rayon) in fixed chunks of [`ROWS_PER_CHUNK`]
//! rows (pre rows, or post rows for the fixed in-degree rule), chunk `c`
//! drawing from `Stream::keyed(seed, projection, "connect", c)` (later
//! rounds of the fixed-total rule use chunk `c | round << 40`). The result
//! therefore depends on the seed and the projection's name only, never on
//! the number of threads. The few global draws (the split of a fixed total
//! over rows, the choice of excitatory synapses) come from their own streams
//! keyed by purpose (`"connect-split"`, `"sign"`).

use crate::error::{CortecsError, Result};
use crate::param::expr::Expr;
use crate::projection::{EXCITATORY, INHIBITORY, Sign};
use crate::rng::Stream;
use crate::space::{GridIndex, Space};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::de::{self, Deserializer, VariantAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Number of rows built from one random stream: the unit of parallel work
/// and the key of the stream (fixed, so results do not depend on threads).
pub const ROWS_PER_CHUNK: usize = 256;

// The in-degree rule packs a post index within its chunk into 8 bits.
const _: () = assert!(ROWS_PER_CHUNK == 256);

/// Polarity of a neuron: Dale's law gives all its outgoing synapses this sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Polarity {
    /// No polarity: the signs of its synapses follow the excitatory ratio.
    #[default]
    None,
    /// Excitatory: all outgoing synapses are excitatory.
    Excitatory,
    /// Inhibitory: all outgoing synapses are inhibitory.
    Inhibitory,
}

impl Polarity {
    /// Index into per-polarity tables: excitatory 0, inhibitory 1, none 2.
    #[inline]
    fn slot(self) -> usize {
        match self {
            Polarity::Excitatory => 0,
            Polarity::Inhibitory => 1,
            Polarity::None => 2,
        }
    }
}

/// A function of the distance `d` (µm).
pub type DistanceProbFn = Arc<dyn Fn(f64) -> f64 + Send + Sync>;
/// A function of (pre index, post index).
pub type PairProbFn = Arc<dyn Fn(usize, usize) -> f64 + Send + Sync>;

/// A probability as a function: an expression string (compiled once;
/// variable `d` for distance strategies, `i` and `j` for index strategies)
/// or a Rust closure. Values outside `[0, 1]` (or NaN) make
/// [`connect`] fail with a message naming the pair.
///
/// Serialised, an expression is a plain string (`p: "exp(-d / 50)"` in a
/// scene file) and a closure, which no file can hold, a marker of its kind
/// that reads back as [`ProbabilityFn::Lost`].
#[derive(Clone)]
pub enum ProbabilityFn {
    /// An expression, e.g. `"exp(-d / 50)"` or `"if(abs(i - j) < 3, 0.5, 0)"`.
    Expr(String),
    /// A closure of the distance `d` (µm).
    Distance(DistanceProbFn),
    /// A closure of (pre index `i`, post index `j`).
    Pair(PairProbFn),
    /// A closure lost in saving (e.g. to a checkpoint): the kind it was,
    /// [`LOST_DISTANCE`] or [`LOST_PAIR`]. [`connect`] refuses it.
    Lost(String),
}

/// The kind of a [`ProbabilityFn::Lost`] that was a [`ProbabilityFn::Distance`].
pub const LOST_DISTANCE: &str = "distance";
/// The kind of a [`ProbabilityFn::Lost`] that was a [`ProbabilityFn::Pair`].
pub const LOST_PAIR: &str = "pair";

impl ProbabilityFn {
    /// An expression.
    pub fn expr(source: &str) -> ProbabilityFn {
        ProbabilityFn::Expr(source.to_string())
    }

    /// A closure of the distance.
    pub fn of_distance(f: impl Fn(f64) -> f64 + Send + Sync + 'static) -> ProbabilityFn {
        ProbabilityFn::Distance(Arc::new(f))
    }

    /// A closure of (pre index, post index).
    pub fn of_pair(f: impl Fn(usize, usize) -> f64 + Send + Sync + 'static) -> ProbabilityFn {
        ProbabilityFn::Pair(Arc::new(f))
    }

    /// The kind of closure it holds or held (`"distance"`, `"pair"`), `None` for an expression.
    pub fn closure_kind(&self) -> Option<&str> {
        match self {
            ProbabilityFn::Expr(_) => None,
            ProbabilityFn::Distance(_) => Some(LOST_DISTANCE),
            ProbabilityFn::Pair(_) => Some(LOST_PAIR),
            ProbabilityFn::Lost(kind) => Some(kind),
        }
    }
}

/// The closure kinds in the binary form, as indices of the checkpoint's
/// closure-kind enum (index, pair, position, distance): byte-compatible with
/// checkpoints written before [`Strategy`] was serialisable.
const CLOSURE_KINDS: [&str; 4] = ["Index", "Pair", "Position", "Distance"];

/// A closure marker's kind as a serde unit variant (binary formats).
struct KindOut(u32);

impl Serialize for KindOut {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_unit_variant("ClosureKind", self.0, CLOSURE_KINDS[self.0 as usize])
    }
}

impl Serialize for ProbabilityFn {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let kind = match self {
            ProbabilityFn::Expr(e) if s.is_human_readable() => return s.serialize_str(e),
            ProbabilityFn::Expr(e) => return s.serialize_newtype_variant("ProbabilityFn", 0, "Expr", e),
            other => other.closure_kind().unwrap_or_default(),
        };
        if s.is_human_readable() {
            let mut m = s.serialize_map(Some(1))?;
            m.serialize_entry("closure", kind)?;
            return m.end();
        }
        let index = match kind {
            LOST_PAIR => 1,
            LOST_DISTANCE => 3,
            _ => return Err(serde::ser::Error::custom(format!("unknown closure kind '{kind}'"))),
        };
        s.serialize_newtype_variant("ProbabilityFn", 1, "Closure", &KindOut(index))
    }
}

/// Reads a [`ProbabilityFn`]: a string, or a closure marker.
struct ProbVisitor;

impl<'de> Visitor<'de> for ProbVisitor {
    type Value = ProbabilityFn;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a probability expression string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<ProbabilityFn, E> {
        Ok(ProbabilityFn::Expr(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<ProbabilityFn, E> {
        Ok(ProbabilityFn::Expr(v))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<ProbabilityFn, A::Error> {
        let Some((key, kind)) = map.next_entry::<String, String>()? else {
            return Err(de::Error::custom("an empty map is not a probability"));
        };
        if key != "closure" || map.next_key::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::custom("a map as probability must be `{\"closure\": kind}`"));
        }
        Ok(ProbabilityFn::Lost(kind))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> std::result::Result<ProbabilityFn, A::Error> {
        let (index, v) = data.variant::<u32>()?;
        match index {
            0 => v.newtype_variant_seed(StrSeed).map(ProbabilityFn::Expr),
            1 => {
                let kind = v.newtype_variant_seed(KindSeed)?;
                Ok(ProbabilityFn::Lost(
                    match kind {
                        0 | 1 => LOST_PAIR,
                        _ => LOST_DISTANCE,
                    }
                    .to_string(),
                ))
            }
            _ => Err(de::Error::invalid_value(
                de::Unexpected::Unsigned(index.into()),
                &"variant 0 or 1",
            )),
        }
    }
}

/// A string read through `deserialize_str` (see [`crate::checkpoint::de_string`]).
struct StrSeed;

impl<'de> de::DeserializeSeed<'de> for StrSeed {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<String, D::Error> {
        crate::checkpoint::de_string(d)
    }
}

/// A closure kind's variant index.
struct KindSeed;

impl<'de> de::DeserializeSeed<'de> for KindSeed {
    type Value = u32;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<u32, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = u32;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a closure kind")
            }
            fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> std::result::Result<u32, A::Error> {
                let (index, v) = data.variant::<u32>()?;
                if index as usize >= CLOSURE_KINDS.len() {
                    return Err(de::Error::invalid_value(
                        de::Unexpected::Unsigned(index.into()),
                        &"a closure kind 0..4",
                    ));
                }
                v.unit_variant()?;
                Ok(index)
            }
        }
        d.deserialize_enum("ClosureKind", &CLOSURE_KINDS, V)
    }
}

impl<'de> Deserialize<'de> for ProbabilityFn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<ProbabilityFn, D::Error> {
        if d.is_human_readable() {
            d.deserialize_any(ProbVisitor)
        } else {
            d.deserialize_enum("ProbabilityFn", &["Expr", "Closure"], ProbVisitor)
        }
    }
}

impl From<&str> for ProbabilityFn {
    fn from(source: &str) -> ProbabilityFn {
        ProbabilityFn::expr(source)
    }
}

impl fmt::Debug for ProbabilityFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbabilityFn::Expr(s) => f.debug_tuple("Expr").field(s).finish(),
            ProbabilityFn::Distance(_) => f.write_str("Distance(<closure>)"),
            ProbabilityFn::Pair(_) => f.write_str("Pair(<closure>)"),
            ProbabilityFn::Lost(kind) => f.debug_tuple("Lost").field(kind).finish(),
        }
    }
}

/// A connection strategy (union of Simbrain, PyNN, NEST and Brian2).
///
/// Every strategy honours [`ConnectInput::self_connections`] (no `i -> i`
/// within one population unless allowed) and, where the rule could make
/// several synapses between the same pair, [`ConnectInput::multapses`].
///
/// Serialisable: scene files write it as in `FixedProbability(p: 0.1)` or
/// `DistanceProbability(p: "0.3 * exp(-d / 75)", cutoff: 300.0)` (optional
/// fields may be left out), checkpoints keep it whole (see [`ProbabilityFn`]
/// for closures).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Strategy {
    /// Every pre neuron to every post neuron.
    AllToAll,
    /// Pre neuron `i` to post neuron `i`; the populations must have the same
    /// size (and, within one population, self-connections must be allowed).
    OneToOne,
    /// Each pair independently with probability `p`.
    FixedProbability {
        /// Connection probability in `[0, 1]`.
        p: f64,
        /// Simbrain's "equalize efferents": every pre neuron gets exactly
        /// `round(p * n)` distinct targets, `n` the number of post neurons
        /// it may connect to.
        #[serde(default)]
        equalize_efferents: bool,
    },
    /// Every post neuron gets exactly `k` inputs, drawn uniformly from the
    /// pre neurons (with replacement when multapses are allowed).
    FixedInDegree {
        /// Inputs per post neuron.
        k: usize,
    },
    /// Every pre neuron gets exactly `k` targets, drawn uniformly from the
    /// post neurons (with replacement when multapses are allowed).
    FixedOutDegree {
        /// Targets per pre neuron.
        k: usize,
    },
    /// Exactly `n` synapses over the projection, uniform over the pairs
    /// (NEST's `fixed_total_number`): with multapses `n` independent uniform
    /// pairs, without them a uniformly random set of `n` distinct pairs.
    FixedTotal {
        /// Number of synapses.
        n: u64,
    },
    /// Each pair with probability `p(d)`, `d` the distance (µm) between the
    /// neurons' positions under the input's [`Space`].
    DistanceProbability {
        /// `p(d)`: an expression of `d` or a closure of the distance.
        p: ProbabilityFn,
        /// Pairs farther apart than this (µm) are never connected, and are
        /// not visited: the rule is then linear in the synapses made. `None`
        /// (or an infinite cutoff) evaluates `p` on every pair.
        #[serde(default)]
        cutoff: Option<f64>,
    },
    /// Simbrain's radial Gaussian: `p = min(C * exp(-(d / lambda)^2), 1)`,
    /// `C` chosen by the polarities of the pre and post neuron (`none` when
    /// either has no polarity).
    RadialGaussian {
        /// `C` for excitatory -> excitatory.
        ee: f64,
        /// `C` for excitatory -> inhibitory.
        ei: f64,
        /// `C` for inhibitory -> excitatory.
        ie: f64,
        /// `C` for inhibitory -> inhibitory.
        ii: f64,
        /// `C` when either neuron has no polarity.
        none: f64,
        /// Length scale (µm, > 0).
        lambda: f64,
        /// Pairs farther apart than this (µm) are not connected. `None`
        /// means `3 * lambda` (where `p` has fallen to `C * 1.2e-4`); an
        /// infinite cutoff evaluates every pair.
        #[serde(default)]
        cutoff: Option<f64>,
    },
    /// Simbrain's radial probabilistic rule: by the polarity of the pre
    /// neuron, every post neuron within the radius (µm) is connected with
    /// the probability.
    RadialProbabilistic {
        /// Radius (µm, >= 0) for excitatory pre neurons.
        exc_radius: f64,
        /// Probability for excitatory pre neurons.
        exc_prob: f64,
        /// Radius (µm, >= 0) for inhibitory pre neurons.
        inh_radius: f64,
        /// Probability for inhibitory pre neurons.
        inh_prob: f64,
        /// Radius (µm, >= 0) for pre neurons without polarity.
        #[serde(default)]
        none_radius: f64,
        /// Probability for pre neurons without polarity.
        #[serde(default)]
        none_prob: f64,
    },
    /// Watts-Strogatz small world on the ring of indices (`n_pre == n_post`):
    /// neuron `i` connects to its `k` nearest ring neighbours (`k / 2` on
    /// each side, `k` even, `k < n`), then each of these `n * k` directed
    /// edges is, with probability `rewire`, moved to a uniformly random
    /// target that is neither `i` nor already a target of `i`. Never makes
    /// self-connections or multapses.
    SmallWorld {
        /// Neighbours per neuron (even, less than the population size).
        k: usize,
        /// Rewiring probability in `[0, 1]`.
        rewire: f64,
    },
    /// Each pair with probability `p(i, j)` (evaluated on every pair).
    IndexProbability {
        /// `p(i, j)`: an expression of `i` and `j`, or a closure.
        p: ProbabilityFn,
    },
    /// An explicit list of (pre, post) pairs, optionally with a weight and a
    /// delay (ms) each.
    FromList {
        /// The (pre, post) pairs.
        rows: Vec<(u32, u32)>,
        /// One weight per pair.
        #[serde(default)]
        weights: Option<Vec<f64>>,
        /// One delay (ms, >= 0) per pair.
        #[serde(default)]
        delays: Option<Vec<f64>>,
    },
    /// A text file with one `pre post [weight [delay]]` per line (fields
    /// separated by spaces, tabs or commas; `#` starts a comment; every line
    /// has the same number of fields).
    FromListFile {
        /// The file; a relative path is resolved against
        /// [`ConnectInput::base_dir`].
        #[serde(deserialize_with = "crate::checkpoint::de_path")]
        path: PathBuf,
    },
    /// A dense matrix, post x pre (like `W` in `y = W r`): every non-zero
    /// entry is a synapse with that weight. Within one population without
    /// self-connections the diagonal is ignored (a mask, as in nn4n).
    FromMatrix {
        /// The matrix, `n_post` rows by `n_pre` columns (in a file:
        /// `(rows: .., cols: .., data: [..])`, data row-major).
        #[serde(with = "crate::checkpoint::matrix")]
        matrix: Array2<f64>,
    },
    /// A `.npy` file holding a 2-D float64, float32 or int64 matrix, post x
    /// pre; read as [`Strategy::FromMatrix`].
    FromMatrixFile {
        /// The file; a relative path is resolved against
        /// [`ConnectInput::base_dir`].
        #[serde(deserialize_with = "crate::checkpoint::de_path")]
        path: PathBuf,
    },
}

/// Everything a strategy may look at.
#[derive(Clone, Copy, Debug)]
pub struct ConnectInput<'a> {
    /// Name of the projection: keys the random streams, names it in errors.
    pub projection: &'a str,
    /// Global seed.
    pub seed: u64,
    /// Number of pre neurons.
    pub n_pre: usize,
    /// Number of post neurons.
    pub n_post: usize,
    /// Positions (µm) of the pre neurons; empty = all at the origin.
    pub pre_positions: &'a [[f64; 3]],
    /// Positions (µm) of the post neurons; empty = all at the origin.
    pub post_positions: &'a [[f64; 3]],
    /// Boundary conditions for distances.
    pub space: Space,
    /// Polarity of each pre neuron; empty = all [`Polarity::None`].
    pub pre_polarity: &'a [Polarity],
    /// Polarity of each post neuron; empty = all [`Polarity::None`].
    pub post_polarity: &'a [Polarity],
    /// Whether pre and post are the same population.
    pub same_population: bool,
    /// Within one population, whether `i -> i` synapses may be made.
    pub self_connections: bool,
    /// Whether several synapses per (pre, post) pair may be made where the
    /// rule could make them.
    pub multapses: bool,
    /// Folder against which relative file paths are resolved.
    pub base_dir: &'a Path,
}

impl<'a> ConnectInput<'a> {
    /// An input between two distinct populations of the given sizes, seed 0,
    /// no positions, no polarities, no multapses, files resolved against `.`.
    pub fn new(projection: &'a str, n_pre: usize, n_post: usize) -> ConnectInput<'a> {
        ConnectInput {
            projection,
            seed: 0,
            n_pre,
            n_post,
            pre_positions: &[],
            post_positions: &[],
            space: Space::open(),
            pre_polarity: &[],
            post_polarity: &[],
            same_population: false,
            self_connections: true,
            multapses: false,
            base_dir: Path::new("."),
        }
    }

    /// Whether `i -> i` must be avoided.
    #[inline]
    fn no_self(&self) -> bool {
        self.same_population && !self.self_connections
    }

    #[inline]
    fn pre_pos(&self, i: usize) -> [f64; 3] {
        self.pre_positions.get(i).copied().unwrap_or([0.0; 3])
    }

    #[inline]
    fn post_pos(&self, j: usize) -> [f64; 3] {
        self.post_positions.get(j).copied().unwrap_or([0.0; 3])
    }

    #[inline]
    fn pre_pol(&self, i: usize) -> Polarity {
        self.pre_polarity.get(i).copied().unwrap_or_default()
    }

    #[inline]
    fn post_pol(&self, j: usize) -> Polarity {
        self.post_polarity.get(j).copied().unwrap_or_default()
    }

    fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir.join(path)
        }
    }
}

/// What a strategy built: pre-major CSR, every row sorted by post index
/// (stably, for multapses), with weights and delays (ms) where the strategy
/// gives them (lists, matrices).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Connectivity {
    /// Start of each pre neuron's row in `post` (`n_pre + 1` entries).
    pub row_ptr: Vec<u64>,
    /// Post index of each synapse.
    pub post: Vec<u32>,
    /// Weight of each synapse, where the strategy gives weights.
    pub weight: Option<Vec<f64>>,
    /// Delay (ms) of each synapse, where the strategy gives delays.
    pub delay: Option<Vec<f64>>,
}

impl Connectivity {
    /// Number of synapses.
    pub fn len(&self) -> usize {
        self.post.len()
    }

    /// Whether there is no synapse.
    pub fn is_empty(&self) -> bool {
        self.post.is_empty()
    }

    /// Number of pre rows.
    pub fn n_rows(&self) -> usize {
        self.row_ptr.len().saturating_sub(1)
    }

    /// The post indices of pre neuron `i`'s synapses.
    pub fn row(&self, i: usize) -> &[u32] {
        &self.post[self.row_ptr[i] as usize..self.row_ptr[i + 1] as usize]
    }

    /// (pre, post) of every synapse, in CSR order.
    pub fn pairs(&self) -> (Vec<u32>, Vec<u32>) {
        let mut pre = Vec::with_capacity(self.len());
        for (i, w) in self.row_ptr.windows(2).enumerate() {
            pre.extend(std::iter::repeat_n(i as u32, (w[1] - w[0]) as usize));
        }
        (pre, self.post.clone())
    }

    fn empty(n_pre: usize) -> Connectivity {
        Connectivity {
            row_ptr: vec![0; n_pre + 1],
            ..Connectivity::default()
        }
    }
}

// ---------------------------------------------------------------------------
// Validation: a strategy and an input become a plan
// ---------------------------------------------------------------------------

/// A compiled probability of the distance.
#[derive(Clone)]
enum DistP {
    Expr(Expr),
    Fn(DistanceProbFn),
}

impl DistP {
    #[inline]
    fn eval(&self, d: f64) -> f64 {
        match self {
            DistP::Expr(e) => e.eval(&[d]),
            DistP::Fn(f) => f(d),
        }
    }
}

/// A compiled probability of (i, j).
#[derive(Clone)]
enum PairP {
    Expr(Expr),
    Fn(PairProbFn),
}

impl PairP {
    #[inline]
    fn eval(&self, i: usize, j: usize) -> f64 {
        match self {
            PairP::Expr(e) => e.eval(&[i as f64, j as f64]),
            PairP::Fn(f) => f(i, j),
        }
    }
}

/// Rules that draw one Bernoulli per candidate pair with a probability that
/// depends on the pair.
enum PairRule {
    /// `p(d)`; with a cutoff only pairs within it are candidates.
    Distance { p: DistP, cutoff: Option<f64> },
    /// `min(C[pre][post] * exp(-(d / lambda)^2), 1)` within the cutoff.
    Gaussian {
        c: [[f64; 3]; 3],
        lambda: f64,
        cutoff: Option<f64>,
    },
    /// `prob[pre]` within `radius[pre]`.
    Radial { radius: [f64; 3], prob: [f64; 3] },
    /// `p(i, j)` on every pair.
    Index { p: PairP },
}

/// What a validated strategy will do.
enum Plan {
    AllToAll,
    OneToOne,
    FixedProbability {
        p: f64,
    },
    /// Exactly `k` distinct targets per pre neuron (equalized efferents, or
    /// fixed out-degree without multapses).
    OutDistinct {
        k: usize,
    },
    /// Exactly `k` targets per pre neuron, drawn with replacement.
    OutReplace {
        k: usize,
    },
    InDegree {
        k: usize,
    },
    Total {
        n: u64,
    },
    Pairs(PairRule),
    SmallWorld {
        k: usize,
        rewire: f64,
    },
    /// Explicit data, already built while validating it.
    Built(Connectivity),
}

fn check_probability(input: &ConnectInput, rule: &str, what: &str, p: f64) -> Result<()> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(CortecsError::connection(
            input.projection,
            format!("{rule}: {what} = {p} is not a probability in [0, 1]"),
        ))
    }
}

fn compile_distance(input: &ConnectInput, rule: &str, p: &ProbabilityFn) -> Result<DistP> {
    match p {
        ProbabilityFn::Expr(s) => {
            Expr::compile(s, &["d"])
                .map(DistP::Expr)
                .map_err(|source| CortecsError::Expression {
                    context: format!("projection '{}': {rule} p(d)", input.projection),
                    source,
                })
        }
        ProbabilityFn::Distance(f) => Ok(DistP::Fn(f.clone())),
        ProbabilityFn::Pair(_) => Err(CortecsError::connection(
            input.projection,
            format!("{rule}: p must be a function of the distance d, not of (i, j)"),
        )),
        ProbabilityFn::Lost(kind) => Err(lost(input, rule, kind)),
    }
}

fn compile_pair(input: &ConnectInput, rule: &str, p: &ProbabilityFn) -> Result<PairP> {
    match p {
        ProbabilityFn::Expr(s) => {
            Expr::compile(s, &["i", "j"])
                .map(PairP::Expr)
                .map_err(|source| CortecsError::Expression {
                    context: format!("projection '{}': {rule} p(i, j)", input.projection),
                    source,
                })
        }
        ProbabilityFn::Pair(f) => Ok(PairP::Fn(f.clone())),
        ProbabilityFn::Distance(_) => Err(CortecsError::connection(
            input.projection,
            format!("{rule}: p must be a function of (i, j), not of the distance d"),
        )),
        ProbabilityFn::Lost(kind) => Err(lost(input, rule, kind)),
    }
}

/// The error for a [`ProbabilityFn::Lost`].
fn lost(input: &ConnectInput, rule: &str, kind: &str) -> CortecsError {
    CortecsError::connection(
        input.projection,
        format!(
            "{rule}: p was a Rust closure (of the {kind}), lost when it was saved (a checkpoint cannot hold \
             one); give p again, as a closure or as an expression string (which stays saveable)"
        ),
    )
}

/// Checks what every strategy relies on: sizes, array lengths, space.
fn check_input(input: &ConnectInput) -> Result<()> {
    let err = |m: String| Err(CortecsError::connection(input.projection, m));
    let max = u32::MAX as usize;
    if input.n_pre > max || input.n_post > max {
        return err(format!(
            "{} pre and {} post neurons: at most {max} neurons per population are supported",
            input.n_pre, input.n_post
        ));
    }
    if input.same_population && input.n_pre != input.n_post {
        return err(format!(
            "pre and post are the same population but have {} and {} neurons",
            input.n_pre, input.n_post
        ));
    }
    for (what, len, n) in [
        ("pre positions", input.pre_positions.len(), input.n_pre),
        ("post positions", input.post_positions.len(), input.n_post),
        ("pre polarities", input.pre_polarity.len(), input.n_pre),
        ("post polarities", input.post_polarity.len(), input.n_post),
    ] {
        if len != 0 && len != n {
            return err(format!("{len} {what} given for {n} neurons"));
        }
    }
    input.space.validate().map_err(|source| CortecsError::Spatial {
        context: format!("projection '{}'", input.projection),
        source,
    })
}

/// Checks that every position is finite (distance rules only).
fn check_positions(input: &ConnectInput, rule: &str) -> Result<()> {
    for (side, pts) in [("pre", input.pre_positions), ("post", input.post_positions)] {
        if let Some(i) = pts.iter().position(|p| p.iter().any(|x| !x.is_finite())) {
            return Err(CortecsError::connection(
                input.projection,
                format!(
                    "{rule}: {side} neuron {i} has a position that is not finite ({:?})",
                    pts[i]
                ),
            ));
        }
    }
    Ok(())
}

fn check_cutoff(input: &ConnectInput, rule: &str, what: &str, c: f64) -> Result<()> {
    if c >= 0.0 {
        Ok(())
    } else {
        Err(CortecsError::connection(
            input.projection,
            format!("{rule}: {what} = {c} µm must be >= 0"),
        ))
    }
}

impl Strategy {
    /// Checks the request against the sizes, flags and data before anything
    /// is built: probabilities outside `[0, 1]`, impossible degrees or
    /// totals, sizes that do not match, odd or too large small-world `k`,
    /// expressions that do not compile, non-positive length scales,
    /// negative radii, malformed or out-of-range lists and matrices. The
    /// messages name the projection and the numbers. Files are read (lists
    /// and matrices are checked entry by entry).
    pub fn validate(&self, input: &ConnectInput) -> Result<()> {
        self.plan(input).map(|_| ())
    }

    /// A short name (`"fixed_probability"`, ...) for summaries and scene files.
    pub fn name(&self) -> &'static str {
        match self {
            Strategy::AllToAll => "all_to_all",
            Strategy::OneToOne => "one_to_one",
            Strategy::FixedProbability { .. } => "fixed_probability",
            Strategy::FixedInDegree { .. } => "fixed_in_degree",
            Strategy::FixedOutDegree { .. } => "fixed_out_degree",
            Strategy::FixedTotal { .. } => "fixed_total",
            Strategy::DistanceProbability { .. } => "distance_probability",
            Strategy::RadialGaussian { .. } => "radial_gaussian",
            Strategy::RadialProbabilistic { .. } => "radial_probabilistic",
            Strategy::SmallWorld { .. } => "small_world",
            Strategy::IndexProbability { .. } => "index_probability",
            Strategy::FromList { .. } => "from_list",
            Strategy::FromListFile { .. } => "from_list_file",
            Strategy::FromMatrix { .. } => "from_matrix",
            Strategy::FromMatrixFile { .. } => "from_matrix_file",
        }
    }

    /// Validates and compiles.
    fn plan(&self, input: &ConnectInput) -> Result<Plan> {
        check_input(input)?;
        let rule = self.name();
        let err = |m: String| Err(CortecsError::connection(input.projection, format!("{rule}: {m}")));
        let no_self = input.no_self();
        let self_note = if no_self { ", self-connections excluded" } else { "" };
        let avail_pre = input.n_pre - usize::from(no_self && input.n_pre > 0);
        let avail_post = input.n_post - usize::from(no_self && input.n_post > 0);
        Ok(match self {
            Strategy::AllToAll => Plan::AllToAll,
            Strategy::OneToOne => {
                if input.n_pre != input.n_post {
                    return err(format!(
                        "needs populations of the same size, got {} pre and {} post neurons",
                        input.n_pre, input.n_post
                    ));
                }
                if no_self && input.n_pre > 0 {
                    return err("within one population it connects every neuron to itself, \
                         but self-connections are not allowed"
                        .into());
                }
                Plan::OneToOne
            }
            &Strategy::FixedProbability { p, equalize_efferents } => {
                check_probability(input, rule, "p", p)?;
                if equalize_efferents {
                    Plan::OutDistinct {
                        k: (p * avail_post as f64).round() as usize,
                    }
                } else {
                    Plan::FixedProbability { p }
                }
            }
            &Strategy::FixedInDegree { k } => {
                degree_check(
                    input,
                    rule,
                    k,
                    avail_pre,
                    input.n_pre,
                    "pre",
                    "inputs per post",
                    self_note,
                )?;
                Plan::InDegree { k }
            }
            &Strategy::FixedOutDegree { k } => {
                degree_check(
                    input,
                    rule,
                    k,
                    avail_post,
                    input.n_post,
                    "post",
                    "targets per pre",
                    self_note,
                )?;
                if input.multapses {
                    Plan::OutReplace { k }
                } else {
                    Plan::OutDistinct { k }
                }
            }
            &Strategy::FixedTotal { n } => {
                let pairs = input.n_pre as u128 * avail_post as u128;
                if input.multapses {
                    if n > 0 && pairs == 0 {
                        return err(format!(
                            "{n} synapses requested but there is no pair to connect \
                             ({} pre, {} post neurons{self_note})",
                            input.n_pre, input.n_post
                        ));
                    }
                } else if n as u128 > pairs {
                    return err(format!(
                        "{n} synapses requested but only {pairs} distinct pairs exist \
                         ({} pre x {} post neurons{self_note}); allow multapses or lower n",
                        input.n_pre, avail_post
                    ));
                }
                Plan::Total { n }
            }
            Strategy::DistanceProbability { p, cutoff } => {
                let p = compile_distance(input, rule, p)?;
                check_positions(input, rule)?;
                if let Some(c) = *cutoff {
                    check_cutoff(input, rule, "cutoff", c)?;
                }
                let cutoff = cutoff.filter(|c| c.is_finite());
                if let (DistP::Expr(e), None) = (&p, cutoff)
                    && let Some(c) = e.as_constant()
                {
                    check_probability(input, rule, "p", c)?;
                    return Ok(Plan::FixedProbability { p: c });
                }
                Plan::Pairs(PairRule::Distance { p, cutoff })
            }
            &Strategy::RadialGaussian {
                ee,
                ei,
                ie,
                ii,
                none,
                lambda,
                cutoff,
            } => {
                for (what, c) in [("ee", ee), ("ei", ei), ("ie", ie), ("ii", ii), ("none", none)] {
                    if !(c >= 0.0 && c.is_finite()) {
                        return err(format!("{what} = {c} must be finite and >= 0"));
                    }
                }
                if !(lambda > 0.0 && lambda.is_finite()) {
                    return err(format!("lambda = {lambda} µm must be finite and > 0"));
                }
                let cutoff = cutoff.unwrap_or(3.0 * lambda);
                check_cutoff(input, rule, "cutoff", cutoff)?;
                check_positions(input, rule)?;
                Plan::Pairs(PairRule::Gaussian {
                    c: [[ee, ei, none], [ie, ii, none], [none, none, none]],
                    lambda,
                    cutoff: Some(cutoff).filter(|c| c.is_finite()),
                })
            }
            &Strategy::RadialProbabilistic {
                exc_radius,
                exc_prob,
                inh_radius,
                inh_prob,
                none_radius,
                none_prob,
            } => {
                check_probability(input, rule, "exc_prob", exc_prob)?;
                check_probability(input, rule, "inh_prob", inh_prob)?;
                check_probability(input, rule, "none_prob", none_prob)?;
                check_cutoff(input, rule, "exc_radius", exc_radius)?;
                check_cutoff(input, rule, "inh_radius", inh_radius)?;
                check_cutoff(input, rule, "none_radius", none_radius)?;
                check_positions(input, rule)?;
                Plan::Pairs(PairRule::Radial {
                    radius: [exc_radius, inh_radius, none_radius],
                    prob: [exc_prob, inh_prob, none_prob],
                })
            }
            &Strategy::SmallWorld { k, rewire } => {
                let n = input.n_pre;
                if input.n_pre != input.n_post {
                    return err(format!(
                        "needs pre and post of the same size (one ring), got {} and {}",
                        input.n_pre, input.n_post
                    ));
                }
                if k % 2 != 0 {
                    return err(format!("k = {k} must be even (k / 2 neighbours on each side)"));
                }
                if k >= n && k > 0 {
                    return err(format!("k = {k} must be less than the number of neurons n = {n}"));
                }
                check_probability(input, rule, "rewire", rewire)?;
                Plan::SmallWorld { k, rewire }
            }
            Strategy::IndexProbability { p } => {
                let p = compile_pair(input, rule, p)?;
                if let PairP::Expr(e) = &p
                    && let Some(c) = e.as_constant()
                {
                    check_probability(input, rule, "p", c)?;
                    return Ok(Plan::FixedProbability { p: c });
                }
                Plan::Pairs(PairRule::Index { p })
            }
            Strategy::FromList { rows, weights, delays } => {
                let src = ListSource {
                    rows,
                    weights: weights.as_deref(),
                    delays: delays.as_deref(),
                    file: None,
                };
                Plan::Built(build_list(input, &src)?)
            }
            Strategy::FromListFile { path } => {
                let path = input.resolve(path);
                let parsed = parse_list_file(input, &path)?;
                let src = ListSource {
                    rows: &parsed.rows,
                    weights: parsed.weights.as_deref(),
                    delays: parsed.delays.as_deref(),
                    file: Some((&path, &parsed.lines)),
                };
                Plan::Built(build_list(input, &src)?)
            }
            Strategy::FromMatrix { matrix } => Plan::Built(build_matrix(input, matrix.view(), None)?),
            Strategy::FromMatrixFile { path } => {
                let path = input.resolve(path);
                let matrix = read_matrix(&path)?;
                Plan::Built(build_matrix(input, matrix.view(), Some(&path))?)
            }
        })
    }
}

#[allow(clippy::too_many_arguments)]
fn degree_check(
    input: &ConnectInput,
    rule: &str,
    k: usize,
    avail: usize,
    n: usize,
    side: &str,
    what: &str,
    self_note: &str,
) -> Result<()> {
    let err = |m: String| Err(CortecsError::connection(input.projection, format!("{rule}: {m}")));
    if input.multapses {
        if k > 0 && avail == 0 {
            return err(format!(
                "k = {k} {what} neuron, but there is no {side} neuron to draw from \
                 ({n} {side} neurons{self_note})"
            ));
        }
    } else if k > avail {
        return err(format!(
            "k = {k} {what} neuron, but only {avail} distinct {side} neurons are available \
             ({n} {side} neurons{self_note}); allow multapses or lower k"
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------

/// Runs the strategy (validating it first): the synapses in pre-major CSR
/// form, rows sorted by post. Identical for any number of threads.
pub fn connect(strategy: &Strategy, input: &ConnectInput) -> Result<Connectivity> {
    let plan = strategy.plan(input)?;
    Ok(match plan {
        Plan::AllToAll => all_to_all(input),
        Plan::OneToOne => Connectivity {
            row_ptr: (0..=input.n_pre as u64).collect(),
            post: (0..input.n_pre as u32).collect(),
            weight: None,
            delay: None,
        },
        Plan::FixedProbability { p } => fixed_probability(input, p),
        Plan::OutDistinct { k } => out_degree(input, k, false),
        Plan::OutReplace { k } => out_degree(input, k, true),
        Plan::InDegree { k } => in_degree(input, k),
        Plan::Total { n } => fixed_total(input, n),
        Plan::Pairs(rule) => pair_rule(input, &rule)?,
        Plan::SmallWorld { k, rewire } => small_world(input, k, rewire),
        Plan::Built(c) => c,
    })
}

/// Expected number of synapses (for memory estimates before building):
/// exact where the rule fixes it, the sum of the connection probabilities
/// over the pairs for probabilistic rules (computed without drawing or
/// storing anything; linear in the candidate pairs). Validates first.
pub fn expected_count(strategy: &Strategy, input: &ConnectInput) -> Result<f64> {
    let plan = strategy.plan(input)?;
    let (n_pre, n_post) = (input.n_pre as f64, input.n_post as f64);
    let avail_post = if input.no_self() && input.n_post > 0 {
        n_post - 1.0
    } else {
        n_post
    };
    Ok(match plan {
        Plan::AllToAll => n_pre * avail_post,
        Plan::OneToOne => n_pre,
        Plan::FixedProbability { p } => p * n_pre * avail_post,
        Plan::OutDistinct { k } | Plan::OutReplace { k } => k as f64 * n_pre,
        Plan::InDegree { k } => k as f64 * n_post,
        Plan::Total { n } => n as f64,
        Plan::SmallWorld { k, .. } => k as f64 * n_pre,
        Plan::Pairs(rule) => {
            let ctx = PairCtx::new(input, &rule);
            let sums: Vec<Result<f64>> = chunks(input.n_pre)
                .into_par_iter()
                .map_init(Vec::new, |scratch, c| {
                    let mut sum = 0.0;
                    for i in chunk_rows(c, input.n_pre) {
                        ctx.row(i, scratch, &mut |_, p| sum += p)?;
                    }
                    Ok(sum)
                })
                .collect();
            let mut total = 0.0;
            for s in sums {
                total += s?;
            }
            total
        }
        Plan::Built(c) => c.len() as f64,
    })
}

/// Signs of the synapses of `conn`, in its CSR order. A synapse whose pre
/// neuron has a polarity takes its sign (Dale's law); of the `m` synapses
/// whose pre neuron has none, exactly `round(excitatory_ratio * m)` are
/// excitatory, chosen uniformly at random (stream keyed by the projection
/// and `"sign"`), the others inhibitory. A ratio outside `[0, 1]` is an error.
pub fn assign_signs(conn: &Connectivity, input: &ConnectInput, excitatory_ratio: f64) -> Result<Vec<Sign>> {
    check_probability(input, "signs", "excitatory ratio", excitatory_ratio)?;
    let rows = conn.n_rows();
    if !input.pre_polarity.is_empty() && input.pre_polarity.len() != rows {
        return Err(CortecsError::connection(
            input.projection,
            format!(
                "signs: {} pre polarities given for {rows} pre neurons",
                input.pre_polarity.len()
            ),
        ));
    }
    let mut signs = vec![EXCITATORY; conn.len()];
    let mut free = 0u64;
    for (i, w) in conn.row_ptr.windows(2).enumerate() {
        let range = w[0] as usize..w[1] as usize;
        match input.pre_pol(i) {
            Polarity::Excitatory => {}
            Polarity::Inhibitory => signs[range].fill(INHIBITORY),
            Polarity::None => free += w[1] - w[0],
        }
    }
    if free == 0 {
        return Ok(signs);
    }
    // Selection sampling (Knuth's algorithm S): exactly `exc` of the `free`
    // synapses, every subset equally likely, one draw per free synapse.
    let mut exc = (excitatory_ratio * free as f64).round() as u64;
    let mut left = free;
    let mut rng = Stream::keyed(input.seed, input.projection, "sign", 0);
    for (i, w) in conn.row_ptr.windows(2).enumerate() {
        if input.pre_pol(i) != Polarity::None {
            continue;
        }
        for s in &mut signs[w[0] as usize..w[1] as usize] {
            if exc == left {
                // Every remaining synapse is excitatory (already set).
                return Ok(signs);
            }
            if exc > 0 && rng.below(left) < exc {
                exc -= 1;
            } else {
                *s = INHIBITORY;
            }
            left -= 1;
        }
    }
    Ok(signs)
}

// ---------------------------------------------------------------------------
// Chunked construction
// ---------------------------------------------------------------------------

/// Number of chunks of [`ROWS_PER_CHUNK`] rows covering `n` rows.
#[inline]
fn chunks(n: usize) -> Range<usize> {
    0..n.div_ceil(ROWS_PER_CHUNK)
}

/// Rows of chunk `c`.
#[inline]
fn chunk_rows(c: usize, n: usize) -> Range<usize> {
    c * ROWS_PER_CHUNK..((c + 1) * ROWS_PER_CHUNK).min(n)
}

/// The stream of chunk `c`.
#[inline]
fn chunk_stream(input: &ConnectInput, c: usize) -> Stream {
    Stream::keyed(input.seed, input.projection, "connect", c as u64)
}

/// The rows one chunk built.
#[derive(Default)]
struct RowsChunk {
    post: Vec<u32>,
    weight: Vec<f64>,
    /// End of each row in `post`, relative to the chunk.
    ends: Vec<u64>,
}

impl RowsChunk {
    #[inline]
    fn end_row(&mut self) {
        self.ends.push(self.post.len() as u64);
    }
}

/// A bit set: membership tests for the samplers. Kept all-zero between uses.
struct Bits {
    words: Vec<u64>,
}

impl Bits {
    fn new(n: usize) -> Bits {
        Bits {
            words: vec![0; n.div_ceil(64)],
        }
    }

    /// Sets bit `i`; true if it was clear.
    #[inline(always)]
    fn insert(&mut self, i: usize) -> bool {
        let (w, b) = (i >> 6, 1u64 << (i & 63));
        let fresh = self.words[w] & b == 0;
        self.words[w] |= b;
        fresh
    }

    /// Whether bit `i` is set.
    #[inline(always)]
    fn contains(&self, i: usize) -> bool {
        self.words[i >> 6] & (1u64 << (i & 63)) != 0
    }

    /// Clears bit `i`; true if it was set.
    #[inline(always)]
    fn remove(&mut self, i: usize) -> bool {
        let (w, b) = (i >> 6, 1u64 << (i & 63));
        let was = self.words[w] & b != 0;
        self.words[w] &= !b;
        was
    }

    /// Appends the `count` set bits below `n` in ascending order and clears
    /// them.
    fn drain_into(&mut self, n: usize, count: usize, out: &mut Vec<u32>) {
        let start = out.len();
        out.resize(start + count, 0);
        let dst = &mut out[start..];
        let mut at = 0;
        for (w, word) in self.words[..n.div_ceil(64)].iter_mut().enumerate() {
            let mut x = *word;
            if x != 0 {
                *word = 0;
                while x != 0 {
                    dst[at] = (w * 64) as u32 + x.trailing_zeros();
                    at += 1;
                    x &= x - 1;
                }
            }
        }
        debug_assert_eq!(at, count);
    }

    /// Sets bits `0..n`.
    fn fill(&mut self, n: usize) {
        let full = n / 64;
        self.words[..full].fill(u64::MAX);
        if !n.is_multiple_of(64) {
            self.words[full] = (1u64 << (n % 64)) - 1;
        }
    }
}

/// Candidates `0..n` without `skip`: how many, and the map from `0..m`.
#[inline(always)]
fn skip_map(x: usize, skip: usize) -> usize {
    x + usize::from(x >= skip)
}

/// Appends `k` distinct values drawn uniformly from `0..n` without `skip`
/// (pass `usize::MAX` for none), in ascending order if `sorted`. `k` must
/// not exceed the number of candidates. Work: O(k) draws, plus O(n / 64)
/// when `k` is a sizeable fraction of `n`.
fn sample_distinct(
    stream: &mut Stream,
    bits: &mut Bits,
    n: usize,
    k: usize,
    skip: usize,
    sorted: bool,
    out: &mut Vec<u32>,
) {
    let m = n - usize::from(skip < n);
    debug_assert!(k <= m);
    if k == 0 {
        return;
    }
    if k == m {
        out.extend((0..n as u32).filter(|&x| x as usize != skip));
        return;
    }
    // A local copy keeps the generator's state in registers.
    let mut local = stream.clone();
    let rng = &mut local;
    if 2 * k > m {
        // Choose the m - k that are left out.
        bits.fill(n);
        if skip < n {
            bits.remove(skip);
        }
        let mut left = m - k;
        while left > 0 {
            if bits.remove(skip_map(rng.below(m as u64) as usize, skip)) {
                left -= 1;
            }
        }
        bits.drain_into(n, k, out);
    } else if sorted && k.saturating_mul(512) >= m {
        // Dense: mark, then read the marks in order.
        let mut left = k;
        while left > 0 {
            if bits.insert(skip_map(rng.below(m as u64) as usize, skip)) {
                left -= 1;
            }
        }
        bits.drain_into(n, k, out);
    } else {
        // Sparse: rejection of repeats, then sort the few values.
        let start = out.len();
        while out.len() - start < k {
            let x = skip_map(rng.below(m as u64) as usize, skip);
            if bits.insert(x) {
                out.push(x as u32);
            }
        }
        for &x in &out[start..] {
            bits.remove(x as usize);
        }
        if sorted {
            out[start..].sort_unstable();
        }
    }
    *stream = local;
}

/// Appends `k` values drawn uniformly with replacement from `0..n` without
/// `skip` (there must be a candidate), sorted if `sorted`.
#[inline]
fn sample_replace(rng: &mut Stream, n: usize, k: usize, skip: usize, sorted: bool, out: &mut Vec<u32>) {
    let m = (n - usize::from(skip < n)) as u64;
    let start = out.len();
    let mut local = rng.clone();
    out.extend((0..k).map(|_| skip_map(local.below(m) as usize, skip) as u32));
    *rng = local;
    if sorted {
        out[start..].sort_unstable();
    }
}

/// Builds `n_rows` rows in parallel chunks: `f(chunk, rows, bits, out)`
/// appends the rows' entries to `out` (calling `end_row` after each row).
/// `bits` has `bits_len` bits and must be left clear.
fn by_rows<F>(n_rows: usize, bits_len: usize, f: F) -> Result<Connectivity>
where
    F: Fn(usize, Range<usize>, &mut Bits, &mut RowsChunk) -> Result<()> + Sync,
{
    let built: Vec<Result<RowsChunk>> = chunks(n_rows)
        .into_par_iter()
        .map_init(
            || Bits::new(bits_len),
            |bits, c| {
                let mut out = RowsChunk::default();
                let rows = chunk_rows(c, n_rows);
                out.ends.reserve(rows.len());
                f(c, rows, bits, &mut out)?;
                Ok(out)
            },
        )
        .collect();
    let mut parts = Vec::with_capacity(built.len());
    for b in built {
        parts.push(b?);
    }
    Ok(assemble(n_rows, parts))
}

/// Concatenates chunks into one CSR (freeing each chunk once copied).
fn assemble(n_rows: usize, parts: Vec<RowsChunk>) -> Connectivity {
    let total: usize = parts.iter().map(|p| p.post.len()).sum();
    let weighted = parts.iter().any(|p| !p.weight.is_empty());
    let mut row_ptr = Vec::with_capacity(n_rows + 1);
    row_ptr.push(0u64);
    let mut post = Vec::with_capacity(total);
    let mut weight = Vec::with_capacity(if weighted { total } else { 0 });
    for part in parts {
        let base = post.len() as u64;
        row_ptr.extend(part.ends.iter().map(|e| base + e));
        post.extend_from_slice(&part.post);
        weight.extend_from_slice(&part.weight);
    }
    debug_assert_eq!(row_ptr.len(), n_rows + 1);
    Connectivity {
        row_ptr,
        post,
        weight: weighted.then_some(weight),
        delay: None,
    }
}

/// Builds `n_rows` rows whose lengths are known (or drawn) before their
/// entries, straight into the final arrays, without a copy: per chunk,
/// `count(rows, rng, lens)` sets the length of each row, then (after the
/// output is allocated) `fill(i, len, rng, bits, row)` appends exactly `len`
/// entries of row `i` to the scratch `row`, the chunk's stream continuing.
/// `bits` has `bits_len` bits and must be left clear.
fn by_counted_rows<C, F>(input: &ConnectInput, n_rows: usize, bits_len: usize, count: C, fill: F) -> Connectivity
where
    C: Fn(Range<usize>, &mut Stream, &mut [u64]) + Sync,
    F: Fn(usize, usize, &mut Stream, &mut Bits, &mut Vec<u32>) + Sync,
{
    let heads: Vec<(Stream, Vec<u64>)> = chunks(n_rows)
        .into_par_iter()
        .map(|c| {
            let rows = chunk_rows(c, n_rows);
            let mut rng = chunk_stream(input, c);
            let mut lens = vec![0u64; rows.len()];
            count(rows, &mut rng, &mut lens);
            (rng, lens)
        })
        .collect();
    let mut row_ptr = Vec::with_capacity(n_rows + 1);
    row_ptr.push(0u64);
    let mut total = 0u64;
    for (_, lens) in &heads {
        for &l in lens {
            total += l;
            row_ptr.push(total);
        }
    }
    let mut post = vec![0u32; total as usize];
    let mut slices = Vec::with_capacity(heads.len());
    let mut rest = post.as_mut_slice();
    for c in chunks(n_rows) {
        let rows = chunk_rows(c, n_rows);
        let len = (row_ptr[rows.end] - row_ptr[rows.start]) as usize;
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(len);
        slices.push(head);
        rest = tail;
    }
    heads.into_par_iter().zip(slices).enumerate().for_each_init(
        || (Bits::new(bits_len), Vec::new()),
        |(bits, row), (c, ((mut rng, lens), out))| {
            let mut at = 0;
            for (i, &len) in chunk_rows(c, n_rows).zip(&lens) {
                row.clear();
                fill(i, len as usize, &mut rng, bits, row);
                out[at..at + row.len()].copy_from_slice(row);
                at += row.len();
            }
            debug_assert_eq!(at, out.len());
        },
    );
    Connectivity {
        row_ptr,
        post,
        weight: None,
        delay: None,
    }
}

// ---------------------------------------------------------------------------
// The rules
// ---------------------------------------------------------------------------

fn all_to_all(input: &ConnectInput) -> Connectivity {
    let (n_post, no_self) = (input.n_post, input.no_self());
    let len = (n_post - usize::from(no_self && n_post > 0)) as u64;
    by_counted_rows(
        input,
        input.n_pre,
        0,
        |_, _, lens| lens.fill(len),
        |i, _, _, _, row| row.extend((0..n_post as u32).filter(|&j| !(no_self && j as usize == i))),
    )
}

/// Each pair with probability `p`. Long rows (at least 32 synapses
/// expected): the length of each row is drawn first (binomial), then as
/// many distinct targets, written straight into the output. Short rows:
/// geometric gaps between successive synapses over the chunk's pairs taken
/// row by row. Either way the work is a few draws per synapse, never one
/// per pair.
fn fixed_probability(input: &ConnectInput, p: f64) -> Connectivity {
    if p <= 0.0 || input.n_post == 0 {
        return Connectivity::empty(input.n_pre);
    }
    if p >= 1.0 {
        return all_to_all(input);
    }
    let no_self = input.no_self();
    let candidates = input.n_post - usize::from(no_self);
    if p * candidates as f64 >= 32.0
        && let Ok(binomial) = rand_distr::Binomial::new(candidates as u64, p)
    {
        use rand_distr::Distribution;
        let n_post = input.n_post;
        return by_counted_rows(
            input,
            input.n_pre,
            n_post,
            |_, rng, lens| lens.iter_mut().for_each(|l| *l = binomial.sample(rng)),
            |i, len, rng, bits, row| {
                let skip = if no_self { i } else { usize::MAX };
                sample_distinct(rng, bits, n_post, len, skip, true, row);
            },
        );
    }
    let n_post = input.n_post as u64;
    let geometric = Geometric::new(p);
    let built = by_rows(input.n_pre, 0, |c, rows, _, out| {
        let mut rng = chunk_stream(input, c);
        let expect = rows.len() as f64 * n_post as f64 * p;
        out.post.reserve((expect + 5.0 * expect.sqrt()) as usize + 16);
        let mut row = rows.start;
        let mut col: u64 = 0;
        loop {
            col = col.saturating_add(geometric.sample(&mut rng));
            while col >= n_post {
                out.end_row();
                row += 1;
                if row == rows.end {
                    return Ok(());
                }
                col -= n_post;
            }
            if !(no_self && col as usize == row) {
                out.post.push(col as u32);
            }
            col += 1;
        }
    });
    built.unwrap_or_else(|_| Connectivity::empty(input.n_pre))
}

/// Entries of the table of [`Geometric`].
const GEOMETRIC_TABLE: usize = 1024;
/// Bits of a draw that index the guide table of [`Geometric`].
const GEOMETRIC_GUIDE_BITS: u32 = 10;

/// Sampler of the gap between successive synapses: the number `G` of
/// failures before the first success in Bernoulli(p) trials,
/// `P(G >= g) = (1 - p)^g`.
///
/// For `p >= 1 / 1024` it inverts a table of the distribution function
/// over blocks of [`GEOMETRIC_TABLE`] values (with 64-bit thresholds, a
/// guide table to start the search, and the memorylessness of `G` for the
/// rare draws past the table): one 64-bit draw and one or two comparisons
/// per gap. For smaller `p` it uses `floor(ln(U) / ln(1 - p))`.
struct Geometric {
    /// `1 / ln(1 - p)`.
    inv_ln_q: f64,
    /// `cdf[r] = 2^64 * P(G <= r)` (saturated), or empty below the table's range.
    cdf: Vec<u64>,
    /// `guide[b]`: the least `r` with `cdf[r] > b * 2^(64 - GUIDE_BITS)`.
    guide: Vec<u16>,
}

impl Geometric {
    fn new(p: f64) -> Geometric {
        let ln_q = (-p).ln_1p();
        let mut g = Geometric {
            inv_ln_q: 1.0 / ln_q,
            cdf: Vec::new(),
            guide: Vec::new(),
        };
        if p * GEOMETRIC_TABLE as f64 >= 1.0 && p < 1.0 {
            const TWO64: f64 = 18_446_744_073_709_551_616.0;
            g.cdf = (0..GEOMETRIC_TABLE)
                .map(|r| (-((r + 1) as f64 * ln_q).exp_m1() * TWO64) as u64)
                .collect();
            let shift = 64 - GEOMETRIC_GUIDE_BITS;
            let mut r = 0usize;
            g.guide = (0..1u64 << GEOMETRIC_GUIDE_BITS)
                .map(|b| {
                    while r < GEOMETRIC_TABLE - 1 && g.cdf[r] <= b << shift {
                        r += 1;
                    }
                    r as u16
                })
                .collect();
        }
        g
    }

    #[inline(always)]
    fn sample(&self, rng: &mut Stream) -> u64 {
        if self.cdf.is_empty() {
            // `as` saturates: a huge gap just ends the chunk.
            return (rng.uniform_open0().ln() * self.inv_ln_q) as u64;
        }
        let last = self.cdf[GEOMETRIC_TABLE - 1];
        let mut base = 0u64;
        loop {
            let u = rng.next_u64();
            if u < last {
                let mut r = usize::from(self.guide[(u >> (64 - GEOMETRIC_GUIDE_BITS)) as usize]);
                while self.cdf[r] <= u {
                    r += 1;
                }
                return base + r as u64;
            }
            base += GEOMETRIC_TABLE as u64;
        }
    }
}

/// Exactly `k` targets per pre neuron.
fn out_degree(input: &ConnectInput, k: usize, replace: bool) -> Connectivity {
    let (n_post, no_self) = (input.n_post, input.no_self());
    let bits_len = if replace { 0 } else { n_post };
    by_counted_rows(
        input,
        input.n_pre,
        bits_len,
        |_, _, lens| lens.fill(k as u64),
        |i, _, rng, bits, row| {
            let skip = if no_self { i } else { usize::MAX };
            if replace {
                sample_replace(rng, n_post, k, skip, true, row);
            } else {
                sample_distinct(rng, bits, n_post, k, skip, true, row);
            }
        },
    )
}

/// Fixed in-degree: exactly `k` inputs per post neuron, drawn by post row
/// in parallel chunks of [`ROWS_PER_CHUNK`] posts, then transposed to
/// pre-major rows by a two-level counting sort: each chunk files its
/// synapses into buckets of consecutive pre rows (packed as `(pre within
/// the bucket) << 8 | (post within the chunk)`), then each bucket, in
/// parallel, places its synapses into its rows, chunk by chunk, so every row
/// comes out in post order without sorting. Linear in the synapses, and the
/// bucket size (which does not change the result) keeps the per-bucket
/// bookkeeping small next to them.
fn in_degree(input: &ConnectInput, k: usize) -> Connectivity {
    let (n_pre, n_post) = (input.n_pre, input.n_post);
    if k == 0 || n_post == 0 {
        return Connectivity::empty(n_pre);
    }
    let total = n_post * k;
    let n_parts = chunks(n_post).len();
    // Buckets of about 64 Ki synapses (a cache-friendly scatter in phase 2),
    // grown while the per-bucket bookkeeping is not small next to the synapses.
    let per_row = (total / n_pre.max(1)).max(1);
    let mut shift = (65_536 / per_row).max(1).ilog2().min(24);
    while shift < 24 && (n_parts as u128) * ((n_pre as u128 >> shift) + 1) * 64 > total as u128 {
        shift += 1;
    }
    let bucket_rows = 1usize << shift;
    let n_buckets = n_pre.div_ceil(bucket_rows);
    let mask = (bucket_rows - 1) as u32;
    let bits_len = if input.multapses { 0 } else { n_pre };
    // Phase 1: draw, and file each synapse into its bucket.
    let parts: Vec<Vec<Vec<u32>>> = chunks(n_post)
        .into_par_iter()
        .map_init(
            || (Bits::new(bits_len), Vec::new()),
            |(bits, row), c| {
                let mut rng = chunk_stream(input, c);
                let posts = chunk_rows(c, n_post);
                let expect = (posts.len() * k) as f64 * bucket_rows as f64 / n_pre as f64;
                let cap = (expect + 4.0 * expect.sqrt()) as usize + 16;
                let mut buckets: Vec<Vec<u32>> = (0..n_buckets).map(|_| Vec::with_capacity(cap)).collect();
                for (jj, j) in posts.enumerate() {
                    row.clear();
                    draw_inputs(input, &mut rng, bits, k, j, row);
                    for &pre in row.iter() {
                        buckets[(pre >> shift) as usize].push(((pre & mask) << 8) | jj as u32);
                    }
                }
                buckets
            },
        )
        .collect();
    // Phase 2: each bucket of pre rows, in parallel, into its part of the output.
    let mut offsets = vec![0usize; n_buckets + 1];
    for b in 0..n_buckets {
        offsets[b + 1] = offsets[b] + parts.iter().map(|p| p[b].len()).sum::<usize>();
    }
    let mut post = vec![0u32; total];
    let mut row_ptr = vec![0u64; n_pre + 1];
    let mut slices = Vec::with_capacity(n_buckets);
    let mut rest = post.as_mut_slice();
    for b in 0..n_buckets {
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(offsets[b + 1] - offsets[b]);
        slices.push(head);
        rest = tail;
    }
    slices
        .into_par_iter()
        .zip(row_ptr[1..].par_chunks_mut(bucket_rows))
        .enumerate()
        .for_each(|(b, (out, ptr))| {
            let mut fill = vec![0usize; ptr.len()];
            for p in &parts {
                for &e in &p[b] {
                    fill[(e >> 8) as usize] += 1;
                }
            }
            let mut acc = 0usize;
            for (f, r) in fill.iter_mut().zip(ptr.iter_mut()) {
                let count = *f;
                *f = acc;
                acc += count;
                *r = (offsets[b] + acc) as u64;
            }
            for (c, p) in parts.iter().enumerate() {
                let base = (c * ROWS_PER_CHUNK) as u32;
                for &e in &p[b] {
                    let slot = &mut fill[(e >> 8) as usize];
                    out[*slot] = base + (e & 0xFF);
                    *slot += 1;
                }
            }
        });
    Connectivity {
        row_ptr,
        post,
        weight: None,
        delay: None,
    }
}

/// The `k` inputs of post neuron `j` (unsorted), appended to `row`.
#[inline]
fn draw_inputs(input: &ConnectInput, rng: &mut Stream, bits: &mut Bits, k: usize, j: usize, row: &mut Vec<u32>) {
    let skip = if input.no_self() { j } else { usize::MAX };
    if input.multapses {
        sample_replace(rng, input.n_pre, k, skip, false, row);
    } else {
        sample_distinct(rng, bits, input.n_pre, k, skip, false, row);
    }
}

/// A binomial draw (n trials, probability p in [0, 1]).
fn binomial(rng: &mut Stream, n: u64, p: f64) -> u64 {
    use rand_distr::Distribution;
    match rand_distr::Binomial::new(n, p) {
        Ok(d) => d.sample(rng),
        // Unreachable for p in [0, 1].
        Err(_) => 0,
    }
}

/// Multinomial split of `total` over `rows` equally likely rows.
fn multinomial(rng: &mut Stream, total: u64, rows: usize) -> Vec<u64> {
    let mut counts = vec![0u64; rows];
    if rows == 0 || total == 0 {
        return counts;
    }
    if total.saturating_mul(8) < rows as u64 {
        for _ in 0..total {
            counts[rng.below(rows as u64) as usize] += 1;
        }
        return counts;
    }
    let mut left = total;
    for (i, c) in counts.iter_mut().enumerate() {
        if left == 0 {
            break;
        }
        let rows_left = rows - i;
        *c = if rows_left == 1 {
            left
        } else {
            binomial(rng, left, 1.0 / rows_left as f64)
        };
        left -= *c;
    }
    counts
}

/// Removes repeats from the sorted `v[start..]`.
fn dedup_tail(v: &mut Vec<u32>, start: usize) {
    if v.len() - start < 2 {
        return;
    }
    let mut w = start + 1;
    for r in start + 1..v.len() {
        if v[r] != v[w - 1] {
            v[w] = v[r];
            w += 1;
        }
    }
    v.truncate(w);
}

/// Exactly `n` synapses. With multapses: a multinomial split of `n` over
/// the pre rows (sequential binomial draws), then uniform draws within each
/// row. Without: a uniformly random set of `n` distinct pairs, as the
/// distinct values of a sequence of independent uniform pairs drawn in
/// rounds (split over the rows, draw, drop repeats) until `n` are distinct:
/// the first `n` distinct values of an i.i.d. sequence are a uniform
/// `n`-subset. Sparse totals keep sorted rows between rounds; totals of at
/// least 1/16 of the pairs mark a bit per pair instead
/// ([`fixed_total_dense`]).
fn fixed_total(input: &ConnectInput, n: u64) -> Connectivity {
    let (n_pre, n_post, no_self) = (input.n_pre, input.n_post, input.no_self());
    let avail = n_post - usize::from(no_self && n_post > 0);
    if n == 0 || avail == 0 || n_pre == 0 {
        return Connectivity::empty(n_pre);
    }
    let split_stream = |round: u64| Stream::keyed(input.seed, input.projection, "connect-split", round);
    let skip_of = |i: usize| if no_self { i } else { usize::MAX };
    let pairs = n_pre as u64 * avail as u64;
    if input.multapses {
        let counts = multinomial(&mut split_stream(0), n, n_pre);
        return by_counted_rows(
            input,
            n_pre,
            0,
            |rows, _, lens| lens.copy_from_slice(&counts[rows]),
            |i, len, rng, _, row| sample_replace(rng, n_post, len, skip_of(i), true, row),
        );
    }
    if n.saturating_mul(16) >= pairs {
        return fixed_total_dense(input, n, avail);
    }
    // Sparse rounds.
    let mut counts = multinomial(&mut split_stream(0), n, n_pre);
    let first = by_rows(n_pre, 0, |c, rows, _, out| {
        let mut rng = chunk_stream(input, c);
        for i in rows {
            let start = out.post.len();
            sample_replace(&mut rng, n_post, counts[i] as usize, skip_of(i), true, &mut out.post);
            dedup_tail(&mut out.post, start);
            out.end_row();
        }
        Ok(())
    });
    let mut conn = first.unwrap_or_else(|_| Connectivity::empty(n_pre));
    let mut round = 1u64;
    while (conn.len() as u64) < n {
        counts = multinomial(&mut split_stream(round), n - conn.len() as u64, n_pre);
        let old = &conn;
        let counts = &counts;
        let next = by_rows(n_pre, 0, |c, rows, _, out| {
            if counts[rows.clone()].iter().all(|&x| x == 0) {
                let (a, b) = (old.row_ptr[rows.start], old.row_ptr[rows.end]);
                out.post.extend_from_slice(&old.post[a as usize..b as usize]);
                out.ends
                    .extend(old.row_ptr[rows.start + 1..=rows.end].iter().map(|&e| e - a));
                return Ok(());
            }
            let mut rng = Stream::keyed(input.seed, input.projection, "connect", c as u64 | (round << 40));
            let mut fresh = Vec::new();
            for i in rows {
                let existing = old.row(i);
                if counts[i] == 0 {
                    out.post.extend_from_slice(existing);
                } else {
                    fresh.clear();
                    sample_replace(&mut rng, n_post, counts[i] as usize, skip_of(i), true, &mut fresh);
                    merge_unique(existing, &fresh, &mut out.post);
                }
                out.end_row();
            }
            Ok(())
        });
        conn = next.unwrap_or_else(|_| Connectivity::empty(n_pre));
        round += 1;
    }
    conn
}

/// [`fixed_total`] without multapses when `n` is at least 1/16 of the
/// `pairs` (so a bit per pair costs at most 2 bytes per synapse): each chunk
/// of pre rows has a bit set over its pairs; in rounds, the missing count is
/// split over the chunks (multinomial by their number of pairs) and each
/// chunk, in parallel, marks that many uniform pairs, repeats falling on
/// marked bits, until `n` bits are marked (or, above half of the pairs, the
/// `pairs - n` left out). The bits are then read back row by row.
fn fixed_total_dense(input: &ConnectInput, n: u64, avail: usize) -> Connectivity {
    let n_pre = input.n_pre;
    let no_self = input.no_self();
    let pairs = n_pre as u64 * avail as u64;
    let complement = 2 * n > pairs;
    let target = if complement { pairs - n } else { n };
    let sizes: Vec<u64> = chunks(n_pre)
        .map(|c| (chunk_rows(c, n_pre).len() * avail) as u64)
        .collect();
    let mut marks: Vec<(Bits, u64)> = sizes.iter().map(|&z| (Bits::new(z as usize), 0)).collect();
    let mut marked = 0u64;
    let mut round = 0u64;
    while marked < target {
        let mut split_rng = Stream::keyed(input.seed, input.projection, "connect-split", round);
        let split = multinomial_weighted(&mut split_rng, target - marked, &sizes);
        marks.par_iter_mut().enumerate().for_each(|(c, (bits, count))| {
            if split[c] == 0 {
                return;
            }
            let mut rng = Stream::keyed(input.seed, input.projection, "connect", c as u64 | (round << 40));
            for _ in 0..split[c] {
                *count += u64::from(bits.insert(rng.below(sizes[c]) as usize));
            }
        });
        marked = marks.iter().map(|m| m.1).sum();
        round += 1;
    }
    let parts: Vec<RowsChunk> = marks
        .into_par_iter()
        .enumerate()
        .map(|(c, (bits, _))| {
            let rows = chunk_rows(c, n_pre);
            let n_bits = rows.len() * avail;
            let mut out = RowsChunk::default();
            let (mut row, mut row_start) = (rows.start, 0usize);
            for (w, &word) in bits.words.iter().enumerate() {
                let mut x = if complement { !word } else { word };
                if n_bits - w * 64 < 64 {
                    x &= (1u64 << (n_bits - w * 64)) - 1;
                }
                while x != 0 {
                    let idx = w * 64 + x.trailing_zeros() as usize;
                    x &= x - 1;
                    while idx >= row_start + avail {
                        out.end_row();
                        row += 1;
                        row_start += avail;
                    }
                    let skip = if no_self { row } else { usize::MAX };
                    out.post.push(skip_map(idx - row_start, skip) as u32);
                }
            }
            while out.ends.len() < rows.len() {
                out.end_row();
            }
            out
        })
        .collect();
    assemble(n_pre, parts)
}

/// Multinomial split of `total` over cells of the given sizes (sequential
/// binomial draws).
fn multinomial_weighted(rng: &mut Stream, total: u64, sizes: &[u64]) -> Vec<u64> {
    let mut left = total;
    let mut size_left: u64 = sizes.iter().sum();
    sizes
        .iter()
        .map(|&z| {
            let c = if left == 0 || z == 0 {
                0
            } else if z == size_left {
                left
            } else {
                binomial(rng, left, z as f64 / size_left as f64)
            };
            left -= c;
            size_left -= z;
            c
        })
        .collect()
}

/// Appends the union of the sorted unique `a` and the sorted `b`, without
/// repeats, in order.
fn merge_unique(a: &[u32], b: &[u32], out: &mut Vec<u32>) {
    let start = out.len();
    let (mut x, mut y) = (0, 0);
    while x < a.len() || y < b.len() {
        let v = if y == b.len() || (x < a.len() && a[x] <= b[y]) {
            x += 1;
            a[x - 1]
        } else {
            y += 1;
            b[y - 1]
        };
        if out.len() == start || *out.last().unwrap_or(&u32::MAX) != v {
            out.push(v);
        }
    }
}

/// Watts-Strogatz on the ring, row by row.
fn small_world(input: &ConnectInput, k: usize, rewire: f64) -> Connectivity {
    let n = input.n_pre;
    if k == 0 || n == 0 {
        return Connectivity::empty(n);
    }
    let half = k / 2;
    let can_rewire = rewire > 0.0 && k < n - 1;
    by_counted_rows(
        input,
        n,
        n,
        |_, _, lens| lens.fill(k as u64),
        |i, _, rng, bits, row| {
            for d in 1..=half {
                row.push(((i + d) % n) as u32);
                row.push(((i + n - d) % n) as u32);
            }
            if can_rewire {
                for &t in row.iter() {
                    bits.insert(t as usize);
                }
                for target in row.iter_mut() {
                    if rng.uniform() < rewire {
                        let t = loop {
                            let t = rng.below(n as u64) as usize;
                            if t != i && !bits.contains(t) {
                                break t;
                            }
                        };
                        bits.remove(*target as usize);
                        bits.insert(t);
                        *target = t as u32;
                    }
                }
                for &t in row.iter() {
                    bits.remove(t as usize);
                }
            }
            row.sort_unstable();
        },
    )
}

/// What a pair rule needs at run time.
struct PairCtx<'a> {
    input: &'a ConnectInput<'a>,
    rule: &'a PairRule,
    /// Index over the post positions (rules with a cutoff or radius).
    grid: Option<GridIndex>,
}

impl<'a> PairCtx<'a> {
    fn new(input: &'a ConnectInput<'a>, rule: &'a PairRule) -> PairCtx<'a> {
        let cell = match rule {
            PairRule::Distance { cutoff, .. } | PairRule::Gaussian { cutoff, .. } => *cutoff,
            PairRule::Radial { radius, .. } => {
                Some(radius.iter().copied().filter(|r| r.is_finite()).fold(0.0, f64::max))
            }
            PairRule::Index { .. } => None,
        };
        let grid = cell.map(|c| {
            let cell = if c > 0.0 { c } else { 1.0 };
            if input.post_positions.is_empty() {
                GridIndex::new(&vec![[0.0; 3]; input.n_post], cell, input.space)
            } else {
                GridIndex::new(input.post_positions, cell, input.space)
            }
        });
        PairCtx { input, rule, grid }
    }

    /// Calls `f(j, p)` for every candidate post neuron `j` of pre neuron
    /// `i` (ascending) with its probability `p` in `[0, 1]`.
    fn row(&self, i: usize, scratch: &mut Vec<u32>, f: &mut impl FnMut(usize, f64)) -> Result<()> {
        let input = self.input;
        let skip = if input.no_self() { i } else { usize::MAX };
        let mut bad: Option<(usize, f64, f64)> = None;
        let centre = input.pre_pos(i);
        // Visits candidates by distance, through the grid or all of them.
        let mut visit = |radius: Option<f64>, g: &mut dyn FnMut(usize, f64)| match (radius, &self.grid) {
            (Some(r), Some(grid)) => grid.for_each_within(centre, r, scratch, |j, d| {
                if j != skip {
                    g(j, d)
                }
            }),
            _ => {
                for j in (0..input.n_post).filter(|&j| j != skip) {
                    g(j, input.space.distance(centre, input.post_pos(j)));
                }
            }
        };
        match self.rule {
            PairRule::Distance { p, cutoff } => visit(*cutoff, &mut |j, d| {
                let q = p.eval(d);
                if (0.0..=1.0).contains(&q) {
                    f(j, q)
                } else if bad.is_none() {
                    bad = Some((j, d, q));
                }
            }),
            PairRule::Gaussian { c, lambda, cutoff } => {
                let row = &c[input.pre_pol(i).slot()];
                visit(*cutoff, &mut |j, d| {
                    let x = d / lambda;
                    f(j, (row[input.post_pol(j).slot()] * (-x * x).exp()).min(1.0))
                })
            }
            PairRule::Radial { radius, prob } => {
                let s = input.pre_pol(i).slot();
                if prob[s] > 0.0 {
                    let p = prob[s];
                    visit(Some(radius[s]), &mut |j, _| f(j, p))
                }
            }
            PairRule::Index { p } => {
                for j in (0..input.n_post).filter(|&j| j != skip) {
                    let q = p.eval(i, j);
                    if (0.0..=1.0).contains(&q) {
                        f(j, q)
                    } else {
                        return Err(CortecsError::connection(
                            input.projection,
                            format!("index_probability: p(i = {i}, j = {j}) = {q} is not a probability in [0, 1]"),
                        ));
                    }
                }
            }
        }
        match bad {
            None => Ok(()),
            Some((j, d, q)) => Err(CortecsError::connection(
                input.projection,
                format!("distance_probability: p(d = {d}) = {q} (pre {i} -> post {j}) is not a probability in [0, 1]"),
            )),
        }
    }
}

fn pair_rule(input: &ConnectInput, rule: &PairRule) -> Result<Connectivity> {
    let ctx = PairCtx::new(input, rule);
    // Scratch for the grid queries (a u32 list), not a bit set.
    let built: Vec<Result<RowsChunk>> = chunks(input.n_pre)
        .into_par_iter()
        .map_init(Vec::new, |scratch, c| {
            let mut rng = chunk_stream(input, c);
            let mut out = RowsChunk::default();
            for i in chunk_rows(c, input.n_pre) {
                ctx.row(i, scratch, &mut |j, p| {
                    if p >= 1.0 || (p > 0.0 && rng.uniform() < p) {
                        out.post.push(j as u32);
                    }
                })?;
                out.end_row();
            }
            Ok(out)
        })
        .collect();
    let mut parts = Vec::with_capacity(built.len());
    for b in built {
        parts.push(b?);
    }
    Ok(assemble(input.n_pre, parts))
}

// ---------------------------------------------------------------------------
// Explicit lists and matrices
// ---------------------------------------------------------------------------

/// A list of pairs and where it came from (for messages).
struct ListSource<'a> {
    rows: &'a [(u32, u32)],
    weights: Option<&'a [f64]>,
    delays: Option<&'a [f64]>,
    /// The file and the line of each row, for lists read from a file.
    file: Option<(&'a Path, &'a [usize])>,
}

impl ListSource<'_> {
    fn error(&self, input: &ConnectInput, rows: &[usize], message: String) -> CortecsError {
        match self.file {
            Some((path, lines)) => {
                let which: Vec<String> = rows.iter().map(|&r| lines[r].to_string()).collect();
                let noun = if rows.len() == 1 { "line" } else { "lines" };
                CortecsError::file(
                    path,
                    format!(
                        "{noun} {}: {message} (projection '{}')",
                        which.join(" and "),
                        input.projection
                    ),
                )
            }
            None => {
                let which: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
                let noun = if rows.len() == 1 { "row" } else { "rows" };
                CortecsError::connection(
                    input.projection,
                    format!("from_list: {noun} {}: {message}", which.join(" and ")),
                )
            }
        }
    }
}

/// Checks a list and builds its CSR: a counting sort by pre, then a stable
/// sort by post within each row (so repeated pairs keep their list order).
fn build_list(input: &ConnectInput, src: &ListSource) -> Result<Connectivity> {
    let m = src.rows.len();
    for (what, values) in [("weights", src.weights), ("delays", src.delays)] {
        if let Some(v) = values
            && v.len() != m
        {
            return Err(CortecsError::connection(
                input.projection,
                format!("from_list: {} {what} given for {m} rows", v.len()),
            ));
        }
    }
    if m > u32::MAX as usize {
        return Err(CortecsError::connection(
            input.projection,
            format!("from_list: {m} rows, at most {} are supported", u32::MAX),
        ));
    }
    let no_self = input.no_self();
    let mut counts = vec![0u64; input.n_pre + 1];
    for (r, &(pre, post)) in src.rows.iter().enumerate() {
        if pre as usize >= input.n_pre {
            return Err(src.error(
                input,
                &[r],
                format!("pre index {pre} is out of range for {} pre neurons", input.n_pre),
            ));
        }
        if post as usize >= input.n_post {
            return Err(src.error(
                input,
                &[r],
                format!("post index {post} is out of range for {} post neurons", input.n_post),
            ));
        }
        if no_self && pre == post {
            return Err(src.error(
                input,
                &[r],
                format!("connects neuron {pre} to itself, but self-connections are not allowed"),
            ));
        }
        if let Some(w) = src.weights
            && !w[r].is_finite()
        {
            return Err(src.error(input, &[r], format!("weight {} is not finite", w[r])));
        }
        if let Some(d) = src.delays
            && !(d[r] >= 0.0 && d[r].is_finite())
        {
            return Err(src.error(input, &[r], format!("delay {} ms must be finite and >= 0", d[r])));
        }
        counts[pre as usize + 1] += 1;
    }
    for i in 0..input.n_pre {
        counts[i + 1] += counts[i];
    }
    let row_ptr = counts;
    let mut fill: Vec<u64> = row_ptr[..input.n_pre].to_vec();
    let mut perm = vec![0u32; m];
    for (r, &(pre, _)) in src.rows.iter().enumerate() {
        perm[fill[pre as usize] as usize] = r as u32;
        fill[pre as usize] += 1;
    }
    for w in row_ptr.windows(2) {
        let row = &mut perm[w[0] as usize..w[1] as usize];
        row.sort_by_key(|&r| src.rows[r as usize].1);
        if !input.multapses
            && let Some(d) = row
                .windows(2)
                .find(|d| src.rows[d[0] as usize].1 == src.rows[d[1] as usize].1)
        {
            let (pre, post) = src.rows[d[0] as usize];
            return Err(src.error(
                input,
                &[d[0] as usize, d[1] as usize],
                format!("both connect {pre} -> {post}, but multapses are not allowed"),
            ));
        }
    }
    Ok(Connectivity {
        row_ptr,
        post: perm.iter().map(|&r| src.rows[r as usize].1).collect(),
        weight: src.weights.map(|w| perm.iter().map(|&r| w[r as usize]).collect()),
        delay: src.delays.map(|d| perm.iter().map(|&r| d[r as usize]).collect()),
    })
}

/// A list read from a text file.
struct ParsedList {
    rows: Vec<(u32, u32)>,
    weights: Option<Vec<f64>>,
    delays: Option<Vec<f64>>,
    /// 1-based line of each row.
    lines: Vec<usize>,
}

fn parse_index(s: &str) -> Option<u32> {
    s.parse::<u32>().ok().or_else(|| {
        let x: f64 = s.parse().ok()?;
        (x >= 0.0 && x.fract() == 0.0 && x <= f64::from(u32::MAX)).then_some(x as u32)
    })
}

fn parse_list_file(input: &ConnectInput, path: &Path) -> Result<ParsedList> {
    let text = std::fs::read_to_string(path).map_err(|e| CortecsError::file(path, e))?;
    let err = |line: usize, m: String| {
        CortecsError::file(path, format!("line {line}: {m} (projection '{}')", input.projection))
    };
    let mut out = ParsedList {
        rows: Vec::new(),
        weights: None,
        delays: None,
        lines: Vec::new(),
    };
    let mut width: Option<(usize, usize)> = None;
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        let data = line.split('#').next().unwrap_or("");
        let fields: Vec<&str> = data
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
            .collect();
        if fields.is_empty() {
            continue;
        }
        if !(2..=4).contains(&fields.len()) {
            return Err(err(
                n,
                format!("expected 'pre post [weight [delay]]', found {} fields", fields.len()),
            ));
        }
        match width {
            None => {
                width = Some((fields.len(), n));
                if fields.len() >= 3 {
                    out.weights = Some(Vec::new());
                }
                if fields.len() == 4 {
                    out.delays = Some(Vec::new());
                }
            }
            Some((w, first)) if w != fields.len() => {
                return Err(err(n, format!("{} fields, but line {first} has {w}", fields.len())));
            }
            _ => {}
        }
        let pre = parse_index(fields[0])
            .ok_or_else(|| err(n, format!("pre index '{}' is not a non-negative integer", fields[0])))?;
        let post = parse_index(fields[1])
            .ok_or_else(|| err(n, format!("post index '{}' is not a non-negative integer", fields[1])))?;
        out.rows.push((pre, post));
        out.lines.push(n);
        for (slot, col, what) in [(&mut out.weights, 2, "weight"), (&mut out.delays, 3, "delay")] {
            if let Some(v) = slot {
                let x: f64 = fields[col]
                    .parse()
                    .map_err(|_| err(n, format!("{what} '{}' is not a number", fields[col])))?;
                v.push(x);
            }
        }
    }
    Ok(out)
}

/// Reads a 2-D `.npy` matrix (float64, float32 or int64).
fn read_matrix(path: &Path) -> Result<Array2<f64>> {
    use ndarray::{ArrayD, Ix2};
    use ndarray_npy::ReadNpyExt;
    let open = || std::fs::File::open(path).map_err(|e| CortecsError::file(path, e));
    let any: ArrayD<f64> = if let Ok(a) = ArrayD::<f64>::read_npy(open()?) {
        a
    } else if let Ok(a) = ArrayD::<f32>::read_npy(open()?) {
        a.mapv(f64::from)
    } else {
        match ArrayD::<i64>::read_npy(open()?) {
            Ok(a) => a.mapv(|x| x as f64),
            Err(e) => {
                return Err(CortecsError::file(
                    path,
                    format!("not a float64, float32 or int64 .npy array ({e})"),
                ));
            }
        }
    };
    let shape = any.shape().to_vec();
    any.into_dimensionality::<Ix2>().map_err(|_| {
        CortecsError::file(
            path,
            format!("expected a 2-D matrix (post x pre), found shape {shape:?}"),
        )
    })
}

/// Builds the CSR of a post x pre matrix in parallel buckets of pre
/// columns: each bucket reads its columns of every row (in post order), so
/// its rows come out sorted.
fn build_matrix(input: &ConnectInput, matrix: ArrayView2<f64>, file: Option<&Path>) -> Result<Connectivity> {
    let (rows, cols) = matrix.dim();
    let fail = |m: String| match file {
        Some(p) => CortecsError::file(p, format!("{m} (projection '{}')", input.projection)),
        None => CortecsError::connection(input.projection, format!("from_matrix: {m}")),
    };
    if rows != input.n_post || cols != input.n_pre {
        return Err(fail(format!(
            "matrix has shape {rows} x {cols}, expected {} x {} (post x pre)",
            input.n_post, input.n_pre
        )));
    }
    let matrix = matrix.as_standard_layout();
    let data = matrix.as_slice().unwrap_or(&[]);
    let no_self = input.no_self();
    let n_pre = input.n_pre;
    let built: Vec<Result<RowsChunk>> = chunks(n_pre)
        .into_par_iter()
        .map(|c| {
            let cols = chunk_rows(c, n_pre);
            let mut counts = vec![0usize; cols.len()];
            for j in 0..rows {
                let row = &data[j * n_pre + cols.start..j * n_pre + cols.end];
                for (q, &w) in row.iter().enumerate() {
                    if w != 0.0 && !(no_self && cols.start + q == j) {
                        if !w.is_finite() {
                            return Err(fail(format!("entry [post {j}, pre {}] is {w}", cols.start + q)));
                        }
                        counts[q] += 1;
                    }
                }
            }
            let mut out = RowsChunk::default();
            let mut acc = 0;
            for cnt in counts.iter_mut() {
                let k = *cnt;
                *cnt = acc;
                acc += k;
                out.ends.push(acc as u64);
            }
            out.post = vec![0; acc];
            out.weight = vec![0.0; acc];
            for j in 0..rows {
                let row = &data[j * n_pre + cols.start..j * n_pre + cols.end];
                for (q, &w) in row.iter().enumerate() {
                    if w != 0.0 && !(no_self && cols.start + q == j) {
                        out.post[counts[q]] = j as u32;
                        out.weight[counts[q]] = w;
                        counts[q] += 1;
                    }
                }
            }
            Ok(out)
        })
        .collect();
    let mut parts = Vec::with_capacity(built.len());
    for b in built {
        parts.push(b?);
    }
    let mut conn = assemble(n_pre, parts);
    conn.weight.get_or_insert_with(Vec::new);
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_read_and_write_with_expressions_as_plain_strings() {
        // as scene files are read
        let ron = ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
        let s: Strategy = ron
            .from_str(r#"DistanceProbability(p: "0.3 * exp(-d / 75)", cutoff: 300.0)"#)
            .unwrap();
        assert!(
            matches!(&s, Strategy::DistanceProbability { p: ProbabilityFn::Expr(e), cutoff: Some(c) }
            if e == "0.3 * exp(-d / 75)" && *c == 300.0)
        );
        let text = ron::to_string(&s).unwrap();
        assert_eq!(
            text,
            r#"DistanceProbability(p:"0.3 * exp(-d / 75)",cutoff:Some(300.0))"#
        );
        assert!(matches!(
            ron.from_str(&text).unwrap(),
            Strategy::DistanceProbability { .. }
        ));
        let s: Strategy = ron.from_str("FixedProbability(p: 0.1)").unwrap();
        assert!(matches!(
            s,
            Strategy::FixedProbability {
                p: 0.1,
                equalize_efferents: false
            }
        ));
        // a closure is a marker of its kind, read back as `Lost`
        let p = ProbabilityFn::of_pair(|_, _| 0.5);
        let text = ron::to_string(&p).unwrap();
        assert_eq!(text, r#"{"closure":"pair"}"#);
        let back: ProbabilityFn = ron.from_str(&text).unwrap();
        assert!(matches!(&back, ProbabilityFn::Lost(k) if k == LOST_PAIR), "{back:?}");
        // binary: the layout checkpoints have always had (variant, closure kind)
        let cfg = bincode::config::standard();
        let s = Strategy::DistanceProbability {
            p: ProbabilityFn::of_distance(|d| d),
            cutoff: None,
        };
        let bytes = bincode::serde::encode_to_vec(&s, cfg).unwrap();
        assert_eq!(bytes, [6, 1, 3, 0]);
        let (back, _): (Strategy, usize) = bincode::serde::decode_from_slice(&bytes, cfg).unwrap();
        assert!(matches!(&back, Strategy::DistanceProbability { p: ProbabilityFn::Lost(k), .. } if k == LOST_DISTANCE));
        let s = Strategy::IndexProbability { p: "i".into() };
        assert_eq!(bincode::serde::encode_to_vec(&s, cfg).unwrap(), [10, 0, 1, b'i']);
    }

    #[test]
    fn a_lost_closure_is_refused_by_name() {
        let input = ConnectInput::new("lost", 4, 4);
        for s in [
            Strategy::IndexProbability {
                p: ProbabilityFn::Lost(LOST_PAIR.into()),
            },
            Strategy::DistanceProbability {
                p: ProbabilityFn::Lost(LOST_DISTANCE.into()),
                cutoff: None,
            },
        ] {
            let e = connect(&s, &input).unwrap_err().to_string();
            assert!(
                e.contains("lost") && e.contains("Rust closure") && e.contains(s.name()),
                "{e}"
            );
        }
    }

    #[test]
    fn sample_distinct_all_regimes() {
        let mut rng = Stream::from_seed(1);
        let mut bits = Bits::new(1000);
        for (n, k, skip) in [
            (1000, 3, 5),
            (1000, 100, usize::MAX),
            (1000, 700, 999),
            (1000, 999, 0),
            (10, 10, usize::MAX),
        ] {
            for sorted in [true, false] {
                let mut out = vec![];
                sample_distinct(&mut rng, &mut bits, n, k, skip, sorted, &mut out);
                assert_eq!(out.len(), k);
                let mut s = out.clone();
                s.sort_unstable();
                s.dedup();
                assert_eq!(s.len(), k);
                if sorted {
                    assert_eq!(s, out);
                }
                assert!(out.iter().all(|&x| (x as usize) < n && x as usize != skip));
                assert!(bits.words.iter().all(|&w| w == 0));
            }
        }
    }

    #[test]
    fn geometric_gaps_have_the_right_law() {
        for p in [0.0005, 0.002, 0.1, 0.5, 0.97] {
            let g = Geometric::new(p);
            assert_eq!(g.cdf.is_empty(), p < 1.0 / 1024.0);
            let mut rng = Stream::from_seed(9);
            let n = 200_000;
            let xs: Vec<u64> = (0..n).map(|_| g.sample(&mut rng)).collect();
            let q = 1.0 - p;
            // P(G = 0) = p, P(G >= 3) = q^3, mean q / p.
            for (what, hits, prob) in [
                ("G = 0", xs.iter().filter(|&&x| x == 0).count(), p),
                ("G >= 3", xs.iter().filter(|&&x| x >= 3).count(), q * q * q),
            ] {
                let sd = (n as f64 * prob * (1.0 - prob)).sqrt();
                assert!((hits as f64 - n as f64 * prob).abs() <= 5.0 * sd + 1e-9, "{p} {what}");
            }
            let mean = xs.iter().sum::<u64>() as f64 / n as f64;
            let sd = (q / (p * p) / n as f64).sqrt();
            assert!((mean - q / p).abs() <= 5.0 * sd, "{p}: mean {mean}");
        }
    }

    #[test]
    fn merge_and_dedup() {
        let mut v = vec![9, 1, 1, 2, 2, 2, 5];
        dedup_tail(&mut v, 1);
        assert_eq!(v, [9, 1, 2, 5]);
        let mut out = vec![];
        merge_unique(&[1, 4, 6], &[0, 4, 4, 7], &mut out);
        assert_eq!(out, [0, 1, 4, 6, 7]);
    }

    #[test]
    fn multinomial_sums() {
        let mut rng = Stream::from_seed(2);
        for (total, rows) in [(0, 5), (3, 100), (1000, 7), (10, 1)] {
            assert_eq!(multinomial(&mut rng, total, rows).iter().sum::<u64>(), total);
        }
    }
}
