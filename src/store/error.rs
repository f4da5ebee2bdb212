//! The errors of a synapse store, wrapped by [`crate::CortecsError::Store`].

/// Why a store refused a request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A (pre, post) pair outside the projection's shape.
    #[error("synapse ({pre}, {post}) is outside a {n_pre} x {n_post} projection")]
    OutOfRange {
        /// Pre neuron asked for.
        pre: u32,
        /// Post neuron asked for.
        post: u32,
        /// Pre neurons of the projection.
        n_pre: u32,
        /// Post neurons of the projection.
        n_post: u32,
    },
    /// Arrays that do not make a store (lengths disagree).
    #[error("synapse store: {0}")]
    Malformed(String),
    /// A new synapse without a sign or without a delay.
    #[error("new synapse ({pre}, {post}) needs sign +1 or -1 and a delay >= 1 step")]
    BadNewSynapse {
        /// Pre neuron.
        pre: u32,
        /// Post neuron.
        post: u32,
    },
    /// Histogram edges that are not ascending.
    #[error("histogram edges must be at least two ascending values, got {0}")]
    BadEdges(String),
    /// Bounds that are not `0 <= min <= max` with a tolerance `>= 0`.
    #[error("bounds need finite 0 <= min <= max and tol >= 0, got min = {min}, max = {max}, tol = {tol}")]
    Bounds {
        /// Lower bound of the magnitude.
        min: f64,
        /// Upper bound of the magnitude.
        max: f64,
        /// Tolerance.
        tol: f64,
    },
}

/// Results of this folder.
pub type StoreResult<T> = std::result::Result<T, StoreError>;
