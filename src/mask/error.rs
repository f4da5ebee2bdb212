//! What can be wrong with a mask a user hands in.

/// A mask that cannot be used (wrong shape, entry out of range, wrong length).
///
/// Wrapped by [`crate::CortecsError::Mask`], which displays it unchanged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MaskError {
    /// A post x pre mask of the wrong shape.
    #[error("{name}: the {what} mask must be post x pre = {} x {}, got {} x {}", .expected.0, .expected.1, .got.0, .got.1)]
    WrongShape {
        /// The projection.
        name: String,
        /// Which mask: sparsity, E/I, plasticity, growth.
        what: String,
        /// The shape needed, (post, pre).
        expected: (usize, usize),
        /// The shape given, (rows, columns).
        got: (usize, usize),
    },
    /// An entry outside what the mask allows.
    #[error("{name}: {what} mask entries must be {rule}, got {value} at [post {post}, pre {pre}]")]
    OutOfRange {
        /// The projection.
        name: String,
        /// Which mask.
        what: String,
        /// What entries must be ("0 or 1", "+1 or -1", "in [0, 1]").
        rule: &'static str,
        /// The entry given.
        value: f32,
        /// Its row (post neuron).
        post: usize,
        /// Its column (pre neuron).
        pre: usize,
    },
    /// A per-pre-neuron E/I mask of the wrong length.
    #[error("{name}: E/I mask per pre neuron: array has length {got}, expected {expected}")]
    WrongLength {
        /// The projection.
        name: String,
        /// The number of pre neurons.
        expected: usize,
        /// The length given.
        got: usize,
    },
}
