//! Connection rules: how a projection's synapses are chosen, as pure functions.
//!
//! This module is the shared, validating front (as NEST's `conn_builder.h`);
//! each rule's builder lives in its own file. A call goes
//!
//! 1. **validate** ([`Strategy::validate`]; the input checks in `input.rs`):
//!    sizes, flags, probabilities, degrees, expressions, files, all checked
//!    before any draw;
//! 2. **plan**: the strategy compiles into a private `Plan` (probabilities
//!    compiled, lists and matrices already built);
//! 3. **per-chunk build**: the rule's builder (`all_to_all.rs`,
//!    `fixed_probability.rs`, `fixed_degree.rs`, `fixed_total.rs`,
//!    `small_world.rs`, `pair_rule.rs`, `from_list.rs`, `from_matrix.rs`)
//!    draws chunks of [`ROWS_PER_CHUNK`] rows in parallel, each on the stream
//!    keyed by (seed, projection, chunk), with the samplers of `sample.rs`;
//! 4. **assemble** (`rows.rs`): the chunks become one pre-major CSR
//!    [`Connectivity`];
//! 5. **signs** ([`assign_signs`], `signs.rs`): Dale's law and the
//!    excitatory ratio give every synapse its sign.
//!
//! Neighbours: the parameter values a rule reads come from `param/`, the
//! store a [`Connectivity`] fills lives in `projection/` (today
//! `store` and `network`), and the masks applied after
//! connecting in `mask/`.
//! Errors are [`ConnectError`]s, wrapped in `error::CortecsError`.
//!
//! # Overview
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
//! [`GridIndex`](crate::space::GridIndex). Rules whose row lengths are
//! known before their entries write straight into the output; the others
//! build chunk buffers that are concatenated once.
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

mod all_to_all;
mod degree_within;
mod error;
mod fixed_degree;
mod fixed_probability;
mod fixed_total;
mod from_list;
mod from_matrix;
mod input;
mod pair_rule;
mod probability;
mod rows;
mod sample;
mod signs;
mod small_world;

pub use error::ConnectError;
pub use input::{ConnectInput, Connectivity, Polarity};
pub use probability::{DistanceProbFn, LOST_DISTANCE, LOST_PAIR, PairProbFn, ProbabilityFn};
pub use signs::assign_signs;

use self::error::ConnectResult as Result;
use all_to_all::{all_to_all, one_to_one};
use degree_within::{Side, degree_within};
use error::ConnectResult;
use fixed_degree::{degree_check, in_degree, out_degree};
use fixed_probability::fixed_probability;
use fixed_total::fixed_total;
use from_list::{ListSource, build_list, parse_list_file};
use from_matrix::{build_matrix, read_matrix};
use input::{check_cutoff, check_input, check_positions, check_probability};
use ndarray::Array2;
use pair_rule::{PAIR_TYPES, PairRule, pair_rule};
use probability::{DistP, PairP, compile_distance, compile_pair};
use serde::{Deserialize, Serialize};
use small_world::small_world;
use std::path::PathBuf;

/// Number of rows built from one random stream: the unit of parallel work
/// and the key of the stream (fixed, so results do not depend on threads).
pub const ROWS_PER_CHUNK: usize = 256;

// The in-degree rule packs a post index within its chunk into 8 bits.
const _: () = assert!(ROWS_PER_CHUNK == 256);

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
#[serde(deny_unknown_fields)]
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
    /// neurons' positions under the input's [`Space`](crate::space::Space).
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
        #[serde(deserialize_with = "crate::io::de_path")]
        path: PathBuf,
    },
    /// A dense matrix, post x pre (like `W` in `y = W r`): every non-zero
    /// entry is a synapse with that weight. Within one population without
    /// self-connections the diagonal is ignored (a mask, as in nn4n).
    FromMatrix {
        /// The matrix, `n_post` rows by `n_pre` columns (in a file:
        /// `(rows: .., cols: .., data: [..])`, data row-major).
        #[serde(with = "crate::io::matrix")]
        matrix: Array2<f64>,
    },
    /// A `.npy` file holding a 2-D float64, float32 or int64 matrix, post x
    /// pre; read as [`Strategy::FromMatrix`].
    FromMatrixFile {
        /// The file; a relative path is resolved against
        /// [`ConnectInput::base_dir`].
        #[serde(deserialize_with = "crate::io::de_path")]
        path: PathBuf,
    },
    /// Every post neuron gets exactly `k` inputs, drawn uniformly among the
    /// pre neurons within `radius` µm of it (distinct unless multapses are
    /// allowed). Fewer than `k` candidates (none, with multapses) is an
    /// error naming the post neuron.
    FixedInDegreeWithin {
        /// Inputs per post neuron.
        k: usize,
        /// Radius (µm, >= 0).
        radius: f64,
    },
    /// Every pre neuron gets exactly `k` targets, drawn uniformly among the
    /// post neurons within `radius` µm of it (as [`Strategy::FixedInDegreeWithin`]).
    FixedOutDegreeWithin {
        /// Targets per pre neuron.
        k: usize,
        /// Radius (µm, >= 0).
        radius: f64,
    },
    /// Each pair with probability `p(d)` chosen by the pair's type, the
    /// polarities of pre and post (Simbrain's distance-based strategy with
    /// separate EE, EI, IE and II parameters): `ee` for excitatory ->
    /// excitatory, `ei` for excitatory -> inhibitory, `ie`, `ii`, and `none`
    /// when either neuron has no polarity (default: never connected).
    DistanceProbabilityByType {
        /// `p(d)` of excitatory -> excitatory pairs.
        ee: ProbabilityFn,
        /// `p(d)` of excitatory -> inhibitory pairs.
        ei: ProbabilityFn,
        /// `p(d)` of inhibitory -> excitatory pairs.
        ie: ProbabilityFn,
        /// `p(d)` of inhibitory -> inhibitory pairs.
        ii: ProbabilityFn,
        /// `p(d)` when either neuron has no polarity (`None`: 0).
        #[serde(default)]
        none: Option<ProbabilityFn>,
        /// Pairs farther apart than this (µm) are never connected (and not
        /// visited); `None` evaluates every pair.
        #[serde(default)]
        cutoff: Option<f64>,
    },
}

/// What a validated strategy will do: the front's dispatch to the rules.
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
    DegreeWithin {
        side: Side,
        k: usize,
        radius: f64,
    },
    SmallWorld {
        k: usize,
        rewire: f64,
    },
    /// Explicit data, already built while validating it.
    Built(Connectivity),
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
        self.plan(input)?;
        Ok(())
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
            Strategy::FixedInDegreeWithin { .. } => "fixed_in_degree_within",
            Strategy::FixedOutDegreeWithin { .. } => "fixed_out_degree_within",
            Strategy::DistanceProbabilityByType { .. } => "distance_probability_by_type",
        }
    }

    /// Validates and compiles.
    fn plan(&self, input: &ConnectInput) -> ConnectResult<Plan> {
        check_input(input)?;
        let rule = self.name();
        let err = |m: String| Err(ConnectError::rule(input.projection, format!("{rule}: {m}")));
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
            &Strategy::FixedInDegreeWithin { k, radius } | &Strategy::FixedOutDegreeWithin { k, radius } => {
                check_cutoff(input, rule, "radius", radius)?;
                check_positions(input, rule)?;
                let side = if matches!(self, Strategy::FixedInDegreeWithin { .. }) {
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
                    Side::In
                } else {
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
                    Side::Out
                };
                Plan::DegreeWithin { side, k, radius }
            }
            Strategy::DistanceProbabilityByType {
                ee,
                ei,
                ie,
                ii,
                none,
                cutoff,
            } => {
                let zero = ProbabilityFn::Expr("0".into());
                let fns = [ee, ei, ie, ii, none.as_ref().unwrap_or(&zero)];
                let mut p = Vec::with_capacity(5);
                for (f, what) in fns.into_iter().zip(PAIR_TYPES) {
                    p.push(compile_distance(input, &format!("{rule} {what}"), f)?);
                }
                check_positions(input, rule)?;
                if let Some(c) = *cutoff {
                    check_cutoff(input, rule, "cutoff", c)?;
                }
                Plan::Pairs(PairRule::Typed {
                    p,
                    table: [[0, 1, 4], [2, 3, 4], [4, 4, 4]],
                    cutoff: cutoff.filter(|c| c.is_finite()),
                })
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

/// Runs the strategy (validating it first): the synapses in pre-major CSR
/// form, rows sorted by post. Identical for any number of threads.
pub fn connect(strategy: &Strategy, input: &ConnectInput) -> Result<Connectivity> {
    let plan = strategy.plan(input)?;
    Ok(match plan {
        Plan::AllToAll => all_to_all(input),
        Plan::OneToOne => one_to_one(input),
        Plan::FixedProbability { p } => fixed_probability(input, p),
        Plan::OutDistinct { k } => out_degree(input, k, false),
        Plan::OutReplace { k } => out_degree(input, k, true),
        Plan::InDegree { k } => in_degree(input, k),
        Plan::Total { n } => fixed_total(input, n),
        Plan::Pairs(rule) => pair_rule(input, &rule)?,
        Plan::DegreeWithin { side, k, radius } => degree_within(input, side, k, radius)?,
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
        Plan::Pairs(rule) => pair_rule::expected_count(input, &rule)?,
        Plan::DegreeWithin { side: Side::In, k, .. } => k as f64 * n_post,
        Plan::DegreeWithin { side: Side::Out, k, .. } => k as f64 * n_pre,
        Plan::Built(c) => c.len() as f64,
    })
}

#[cfg(test)]
mod tests;
