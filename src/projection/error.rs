//! The errors of a projection's edits, wrapped by [`crate::CortecsError::Projection`].

use crate::mask::MaskError;
use crate::store::StoreError;

/// Why a projection refused an edit.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ProjectionError {
    /// No live synapse joins the pair.
    #[error("{projection}: there is no synapse from pre {pre} to post {post}")]
    NoSynapse {
        /// The projection.
        projection: String,
        /// Pre neuron.
        pre: u32,
        /// Post neuron.
        post: u32,
    },
    /// No live synapse sits in the store slot.
    #[error("{projection}: no live synapse in slot {slot}")]
    NoLiveSlot {
        /// The projection.
        projection: String,
        /// The slot.
        slot: usize,
    },
    /// A weight that is NaN or infinite.
    #[error("{projection}: weight {weight} is not finite")]
    NotFinite {
        /// The projection.
        projection: String,
        /// The weight given.
        weight: f32,
    },
    /// A weight (built, adjusted or written) that the float32 store cannot hold.
    #[error("{projection}: weight {value:e} of the synapse pre {pre} -> post {post} {why}")]
    Unrepresentable {
        /// The projection.
        projection: String,
        /// Pre neuron.
        pre: u32,
        /// Post neuron.
        post: u32,
        /// The value computed (before it would be stored as float32).
        value: f64,
        /// What is wrong with it.
        why: &'static str,
    },
    /// An entry of a weight matrix that is NaN or infinite.
    #[error("{projection}: weight at [post {post}, pre {pre}] is {value}")]
    NotFiniteEntry {
        /// The projection.
        projection: String,
        /// Row.
        post: usize,
        /// Column.
        pre: usize,
        /// The value.
        value: f32,
    },
    /// A matrix of another shape than post x pre.
    #[error("{projection}: the {what} must be post x pre = {n_post} x {n_pre}, got {rows} x {cols}")]
    WrongShape {
        /// The projection.
        projection: String,
        /// "weight matrix" or "CSR matrix".
        what: &'static str,
        /// Post neurons.
        n_post: usize,
        /// Pre neurons.
        n_pre: usize,
        /// Rows given.
        rows: usize,
        /// Columns given.
        cols: usize,
    },
    /// CSR arrays that do not fit together.
    #[error("CSR matrix: {0}")]
    BadCsr(String),
    /// A new synapse where the masks forbid one.
    #[error("{projection}: the masks forbid a synapse from pre {pre} to post {post}")]
    Forbidden {
        /// The projection.
        projection: String,
        /// Pre neuron.
        pre: u32,
        /// Post neuron.
        post: u32,
    },
    /// A second synapse of a pair on a projection without multapses.
    #[error("{projection}: pre {pre} -> post {post} exists and the projection allows no multapses")]
    Multapse {
        /// The projection.
        projection: String,
        /// Pre neuron.
        pre: u32,
        /// Post neuron.
        post: u32,
    },
    /// A new synapse whose weight has the wrong sign under Dale's law.
    #[error("{projection}: a weight of {weight} has the wrong sign for pre {pre} under Dale's law")]
    WrongSign {
        /// The projection.
        projection: String,
        /// Pre neuron.
        pre: u32,
        /// The weight.
        weight: f32,
    },
    /// An adjustment that would change signs under Dale's law.
    #[error("this projection keeps Dale's law: an adjustment cannot change signs")]
    DaleKeepsSigns,
    /// Prune, reapply or a matrix operation given where only per-synapse weight adjusters apply.
    #[error("{0} works on the whole projection, not synapse by synapse: use Network::adjust")]
    NotAWeightAdjuster(&'static str),
    /// A matrix operation that needs a square weight matrix.
    #[error("{projection}: {what} needs a square weight matrix, got post x pre = {n_post} x {n_pre}")]
    NotSquare {
        /// The projection.
        projection: String,
        /// The operation.
        what: &'static str,
        /// Post neurons.
        n_post: u32,
        /// Pre neurons.
        n_pre: u32,
    },
    /// A matrix operation that needs a recurrent projection (pre and post the same population).
    #[error("{projection}: {what} needs a recurrent projection (pre and post the same population)")]
    NotRecurrent {
        /// The projection.
        projection: String,
        /// The operation.
        what: &'static str,
    },
    /// A matrix operation on a projection without synapses, or whose result cannot be reached.
    #[error("{projection}: {message}")]
    Matrix {
        /// The projection.
        projection: String,
        /// What is wrong.
        message: String,
    },
    /// A parameter of an edit out of range (a delay, a plasticity factor, a fraction, ...).
    #[error("{context}: {message}")]
    Parameter {
        /// Projection and parameter.
        context: String,
        /// What is wrong.
        message: String,
    },
    /// A distribution given to an adjuster is invalid (its message as the parameter layer gives it).
    #[error("{0}")]
    Distribution(String),
    /// New synapses need a default delay and the projection's cannot be given in steps.
    #[error("{0}")]
    NoDefaultDelay(String),
    /// The store refused the request.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A mask is invalid.
    #[error(transparent)]
    Mask(#[from] MaskError),
}

impl ProjectionError {
    /// Shorthand for [`ProjectionError::Parameter`].
    pub fn parameter(context: impl Into<String>, message: impl Into<String>) -> Self {
        ProjectionError::Parameter {
            context: context.into(),
            message: message.into(),
        }
    }
}

/// Results of this folder.
pub type ProjectionResult<T> = std::result::Result<T, ProjectionError>;

/// `w` as the float32 the store keeps, or why it cannot be kept: NaN or
/// infinite, beyond float32's range (it would become infinite), or so small
/// and non-zero that it would become 0 (which means "no synapse").
pub fn f32_weight(w: f64) -> std::result::Result<f32, &'static str> {
    let x = w as f32;
    if !w.is_finite() {
        Err("is not finite")
    } else if !x.is_finite() {
        Err("is beyond float32's range (about 3.4e38): the store would hold infinity")
    } else if x == 0.0 && w != 0.0 {
        Err("is below float32's smallest value (about 1.4e-45): the store would hold 0, which means no synapse")
    } else {
        Ok(x)
    }
}
