//! What a rule looks at ([`ConnectInput`], [`Polarity`]), what it builds ([`Connectivity`]), the shared checks.

use super::error::{ConnectError, ConnectResult};
use crate::space::Space;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

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
    pub(super) fn slot(self) -> usize {
        match self {
            Polarity::Excitatory => 0,
            Polarity::Inhibitory => 1,
            Polarity::None => 2,
        }
    }
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
    pub(super) fn no_self(&self) -> bool {
        self.same_population && !self.self_connections
    }

    #[inline]
    pub(super) fn pre_pos(&self, i: usize) -> [f64; 3] {
        self.pre_positions.get(i).copied().unwrap_or([0.0; 3])
    }

    #[inline]
    pub(super) fn post_pos(&self, j: usize) -> [f64; 3] {
        self.post_positions.get(j).copied().unwrap_or([0.0; 3])
    }

    #[inline]
    pub(super) fn pre_pol(&self, i: usize) -> Polarity {
        self.pre_polarity.get(i).copied().unwrap_or_default()
    }

    #[inline]
    pub(super) fn post_pol(&self, j: usize) -> Polarity {
        self.post_polarity.get(j).copied().unwrap_or_default()
    }

    pub(super) fn resolve(&self, path: &Path) -> PathBuf {
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

    pub(super) fn empty(n_pre: usize) -> Connectivity {
        Connectivity {
            row_ptr: vec![0; n_pre + 1],
            ..Connectivity::default()
        }
    }
}

/// Checks that `p` is a probability in `[0, 1]`.
pub(super) fn check_probability(input: &ConnectInput, rule: &str, what: &str, p: f64) -> ConnectResult<()> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(ConnectError::rule(
            input.projection,
            format!("{rule}: {what} = {p} is not a probability in [0, 1]"),
        ))
    }
}

/// Checks what every strategy relies on: sizes, array lengths, space.
pub(super) fn check_input(input: &ConnectInput) -> ConnectResult<()> {
    let err = |m: String| Err(ConnectError::rule(input.projection, m));
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
    input.space.validate().map_err(|source| ConnectError::Space {
        projection: input.projection.to_string(),
        source,
    })
}

/// Checks that every position is finite (distance rules only).
pub(super) fn check_positions(input: &ConnectInput, rule: &str) -> ConnectResult<()> {
    for (side, pts) in [("pre", input.pre_positions), ("post", input.post_positions)] {
        if let Some(i) = pts.iter().position(|p| p.iter().any(|x| !x.is_finite())) {
            return Err(ConnectError::rule(
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

/// Checks that a cutoff or radius `c` (µm) is not negative (nor NaN).
pub(super) fn check_cutoff(input: &ConnectInput, rule: &str, what: &str, c: f64) -> ConnectResult<()> {
    if c >= 0.0 {
        Ok(())
    } else {
        Err(ConnectError::rule(
            input.projection,
            format!("{rule}: {what} = {c} µm must be >= 0"),
        ))
    }
}
