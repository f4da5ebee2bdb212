//! What is wrong with a structure or a space: [`SpaceError`] (messages give values in µm).

/// Names of the axes, for messages.
pub(super) const AXES: [char; 3] = ['x', 'y', 'z'];

/// What is wrong with a spatial structure or space.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SpaceError {
    /// A 2-D grid does not have exactly one position per neuron.
    #[error("Grid2D of nx x ny = {nx} x {ny} positions does not match the population size {size}")]
    Grid2DSize {
        /// Columns.
        nx: usize,
        /// Rows.
        ny: usize,
        /// Population size.
        size: usize,
    },
    /// A 3-D grid does not have exactly one position per neuron.
    #[error("Grid3D of nx x ny x nz = {nx} x {ny} x {nz} positions does not match the population size {size}")]
    Grid3DSize {
        /// Points along x.
        nx: usize,
        /// Points along y.
        ny: usize,
        /// Points along z.
        nz: usize,
        /// Population size.
        size: usize,
    },
    /// A grid or line spacing is negative or not finite.
    #[error("spacing {field} = {value} µm is invalid: it must be finite and >= 0")]
    InvalidSpacing {
        /// Which spacing (`dx`, `dy` or `dz`).
        field: &'static str,
        /// The value given (µm).
        value: f64,
    },
    /// An origin, box corner or centre coordinate is not finite.
    #[error("{field} = {value} µm is not a finite number")]
    NonFinite {
        /// Which value, e.g. `x0` or `min[y]`.
        field: String,
        /// The value given (µm).
        value: f64,
    },
    /// A random box has a lower bound above its upper bound.
    #[error("RandomBox min[{axis}] = {min} µm is greater than max[{axis}] = {max} µm")]
    InvertedBox {
        /// The axis (`x`, `y` or `z`).
        axis: char,
        /// Lower bound (µm).
        min: f64,
        /// Upper bound (µm).
        max: f64,
    },
    /// A random sphere has a negative or non-finite radius.
    #[error("RandomSphere radius = {0} µm is invalid: it must be finite and >= 0")]
    InvalidRadius(f64),
    /// A random sphere has a dimension other than 2 or 3.
    #[error("RandomSphere dims = {0} is invalid: it must be 2 (disc in the z = 0 plane) or 3 (ball)")]
    InvalidDims(u8),
    /// An explicit structure does not have exactly one position per neuron.
    #[error("Explicit structure has {len} positions but the population has {size} neurons")]
    ExplicitLength {
        /// Number of positions given.
        len: usize,
        /// Population size.
        size: usize,
    },
    /// An explicit position has a non-finite coordinate.
    #[error("Explicit position {index} has {axis} = {value} µm, which is not a finite number")]
    NonFinitePosition {
        /// Index of the neuron.
        index: usize,
        /// The axis (`x`, `y` or `z`).
        axis: char,
        /// The value given (µm).
        value: f64,
    },
    /// A periodic extent is negative or not finite.
    #[error("periodic extent on axis {axis} = {value} µm is invalid: it must be finite and >= 0 (0 = not periodic)")]
    InvalidExtent {
        /// The axis (`x`, `y` or `z`).
        axis: char,
        /// The value given (µm).
        value: f64,
    },
}
