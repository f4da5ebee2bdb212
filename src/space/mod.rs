//! Spatial structure of populations (PyNN/NEST style).
//!
//! A [`Structure`] says where the neurons of a population sit: on a line, on
//! a 2-D or 3-D grid, uniformly at random in a box or a ball, or at explicit
//! positions. Positions are `[x, y, z]` in micrometres (µm); the unit is only
//! a convention, nothing here depends on it.
//!
//! A [`Space`] gives the boundary conditions used to measure distances: open
//! space, or periodic (a torus) on some axes, with the minimum-image
//! convention. [`periodic_extent`] gives the natural torus of a line or grid.
//!
//! A [`GridIndex`] answers radius queries over a set of points in time
//! proportional to the number of points near the query (plus the cells
//! visited), so that distance-based connection strategies with a cutoff are
//! built in time linear in the number of synapses rather than in
//! `n_pre * n_post`. Results come in ascending index order, so they are
//! deterministic.
//!
//! Random structures draw from a caller-provided generator through
//! [`rand::Rng::next_u64`] only, with a fixed recipe (see
//! [`Structure::positions`]), so positions for a given seed do not change
//! with the version of `rand`.

use serde::{Deserialize, Serialize};

/// Names of the axes, for messages.
const AXES: [char; 3] = ['x', 'y', 'z'];

/// What is wrong with a spatial structure or space.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SpatialError {
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

/// How the neurons of a population are placed in space (positions in µm).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Structure {
    /// No positions: every neuron at the origin.
    None,
    /// Evenly spaced on the x axis: `x = x0 + i * dx`, `y = z = 0`.
    Line {
        /// Spacing (µm, >= 0).
        dx: f64,
        /// Position of neuron 0 (µm).
        x0: f64,
    },
    /// 2-D grid in the z = 0 plane, row-major: neuron `i = row * nx + col`
    /// sits at `(x0 + col * dx, y0 + row * dy, 0)`; `nx * ny` must equal the
    /// population size.
    Grid2D {
        /// Number of columns (points along x).
        nx: usize,
        /// Number of rows (points along y).
        ny: usize,
        /// Column spacing (µm, >= 0).
        dx: f64,
        /// Row spacing (µm, >= 0).
        dy: f64,
        /// x of column 0 (µm).
        x0: f64,
        /// y of row 0 (µm).
        y0: f64,
    },
    /// 3-D grid, x fastest then y then z: neuron `i = (k * ny + j) * nx + l`
    /// sits at `(x0 + l * dx, y0 + j * dy, z0 + k * dz)`; `nx * ny * nz` must
    /// equal the population size.
    Grid3D {
        /// Points along x.
        nx: usize,
        /// Points along y.
        ny: usize,
        /// Points along z.
        nz: usize,
        /// Spacing along x (µm, >= 0).
        dx: f64,
        /// Spacing along y (µm, >= 0).
        dy: f64,
        /// Spacing along z (µm, >= 0).
        dz: f64,
        /// x of the first plane (µm).
        x0: f64,
        /// y of the first plane (µm).
        y0: f64,
        /// z of the first plane (µm).
        z0: f64,
    },
    /// Uniform random in the axis-aligned box `[min, max]` per axis (µm);
    /// `min == max` on an axis puts every neuron at that coordinate.
    RandomBox {
        /// Lower corner (µm).
        min: [f64; 3],
        /// Upper corner (µm), `>= min` on every axis.
        max: [f64; 3],
    },
    /// Uniform (in area or volume) random in a disc or ball.
    RandomSphere {
        /// Centre (µm). For `dims == 2` the disc lies in the plane
        /// `z = centre[2]` (normally 0).
        centre: [f64; 3],
        /// Radius (µm, >= 0).
        radius: f64,
        /// 2 = disc in the xy plane, 3 = ball.
        dims: u8,
    },
    /// Explicit positions (µm), one per neuron.
    Explicit(Vec<[f64; 3]>),
}

fn check_finite(field: impl FnOnce() -> String, value: f64) -> Result<(), SpatialError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(SpatialError::NonFinite { field: field(), value })
    }
}

fn check_spacing(field: &'static str, value: f64) -> Result<(), SpatialError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(SpatialError::InvalidSpacing { field, value })
    }
}

/// A uniform draw in `[0, 1)` with 53 random bits, from one `next_u64`.
#[inline]
fn unit_f64<R: rand::Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

impl Structure {
    /// Checks the structure against the population size `size`: grid size
    /// mismatch, negative or non-finite spacing or radius, `min > max`,
    /// explicit length different from `size`, non-finite coordinates,
    /// `dims` other than 2 or 3.
    pub fn validate(&self, size: usize) -> Result<(), SpatialError> {
        match self {
            Structure::None => Ok(()),
            Structure::Line { dx, x0 } => {
                check_spacing("dx", *dx)?;
                check_finite(|| "x0".into(), *x0)
            }
            &Structure::Grid2D { nx, ny, dx, dy, x0, y0 } => {
                if nx.checked_mul(ny) != Some(size) {
                    return Err(SpatialError::Grid2DSize { nx, ny, size });
                }
                check_spacing("dx", dx)?;
                check_spacing("dy", dy)?;
                check_finite(|| "x0".into(), x0)?;
                check_finite(|| "y0".into(), y0)
            }
            &Structure::Grid3D {
                nx,
                ny,
                nz,
                dx,
                dy,
                dz,
                x0,
                y0,
                z0,
            } => {
                if nx.checked_mul(ny).and_then(|p| p.checked_mul(nz)) != Some(size) {
                    return Err(SpatialError::Grid3DSize { nx, ny, nz, size });
                }
                check_spacing("dx", dx)?;
                check_spacing("dy", dy)?;
                check_spacing("dz", dz)?;
                check_finite(|| "x0".into(), x0)?;
                check_finite(|| "y0".into(), y0)?;
                check_finite(|| "z0".into(), z0)
            }
            Structure::RandomBox { min, max } => {
                for a in 0..3 {
                    check_finite(|| format!("RandomBox min[{}]", AXES[a]), min[a])?;
                    check_finite(|| format!("RandomBox max[{}]", AXES[a]), max[a])?;
                    if min[a] > max[a] {
                        return Err(SpatialError::InvertedBox {
                            axis: AXES[a],
                            min: min[a],
                            max: max[a],
                        });
                    }
                }
                Ok(())
            }
            Structure::RandomSphere { centre, radius, dims } => {
                for a in 0..3 {
                    check_finite(|| format!("RandomSphere centre[{}]", AXES[a]), centre[a])?;
                }
                if !(radius.is_finite() && *radius >= 0.0) {
                    return Err(SpatialError::InvalidRadius(*radius));
                }
                if !matches!(dims, 2 | 3) {
                    return Err(SpatialError::InvalidDims(*dims));
                }
                Ok(())
            }
            Structure::Explicit(points) => {
                if points.len() != size {
                    return Err(SpatialError::ExplicitLength {
                        len: points.len(),
                        size,
                    });
                }
                for (index, p) in points.iter().enumerate() {
                    for a in 0..3 {
                        if !p[a].is_finite() {
                            return Err(SpatialError::NonFinitePosition {
                                index,
                                axis: AXES[a],
                                value: p[a],
                            });
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// Positions (µm) of the `size` neurons, after [`Structure::validate`].
    ///
    /// Only `RandomBox` and `RandomSphere` draw from `rng` (pass a seeded
    /// stream). The recipe is fixed: each uniform draw is
    /// `(next_u64() >> 11) * 2^-53`; neurons are drawn in index order;
    /// `RandomBox` draws x, y, z (one draw per axis, also for `min == max`);
    /// `RandomSphere` draws `dims` coordinates in `[-1, 1)` and repeats until
    /// the point is inside the unit disc/ball (rejection sampling).
    pub fn positions<R: rand::Rng + ?Sized>(&self, size: usize, rng: &mut R) -> Result<Vec<[f64; 3]>, SpatialError> {
        self.validate(size)?;
        let out = match self {
            Structure::None => vec![[0.0; 3]; size],
            Structure::Line { dx, x0 } => (0..size).map(|i| [x0 + i as f64 * dx, 0.0, 0.0]).collect(),
            &Structure::Grid2D { nx, dx, dy, x0, y0, .. } => (0..size)
                .map(|i| {
                    let (row, col) = (i / nx, i % nx);
                    [x0 + col as f64 * dx, y0 + row as f64 * dy, 0.0]
                })
                .collect(),
            &Structure::Grid3D {
                nx,
                ny,
                dx,
                dy,
                dz,
                x0,
                y0,
                z0,
                ..
            } => (0..size)
                .map(|i| {
                    let (l, j, k) = (i % nx, (i / nx) % ny, i / (nx * ny));
                    [x0 + l as f64 * dx, y0 + j as f64 * dy, z0 + k as f64 * dz]
                })
                .collect(),
            Structure::RandomBox { min, max } => (0..size)
                .map(|_| {
                    let mut p = [0.0; 3];
                    for a in 0..3 {
                        let u = unit_f64(rng);
                        p[a] = (min[a] + (max[a] - min[a]) * u).clamp(min[a], max[a]);
                    }
                    p
                })
                .collect(),
            &Structure::RandomSphere { centre, radius, dims } => {
                let dims = usize::from(dims);
                (0..size)
                    .map(|_| {
                        let v = loop {
                            let mut v = [0.0; 3];
                            for c in v.iter_mut().take(dims) {
                                *c = 2.0 * unit_f64(rng) - 1.0;
                            }
                            if v[0] * v[0] + v[1] * v[1] + v[2] * v[2] <= 1.0 {
                                break v;
                            }
                        };
                        [
                            centre[0] + radius * v[0],
                            centre[1] + radius * v[1],
                            centre[2] + radius * v[2],
                        ]
                    })
                    .collect()
            }
            Structure::Explicit(points) => points.clone(),
        };
        Ok(out)
    }
}

/// The natural torus extent (µm per axis) of a line or grid of `size`
/// neurons: `n * spacing` on each axis of the structure (`size * dx` on x for
/// a line), so that the last and first neurons of a row are one spacing
/// apart; 0 (not periodic) on the other axes and for other structures.
/// Use with [`Space::periodic`].
pub fn periodic_extent(structure: &Structure, size: usize) -> [f64; 3] {
    match *structure {
        Structure::Line { dx, .. } => [size as f64 * dx, 0.0, 0.0],
        Structure::Grid2D { nx, ny, dx, dy, .. } => [nx as f64 * dx, ny as f64 * dy, 0.0],
        Structure::Grid3D {
            nx, ny, nz, dx, dy, dz, ..
        } => [nx as f64 * dx, ny as f64 * dy, nz as f64 * dz],
        _ => [0.0; 3],
    }
}

/// Boundary conditions for distances: open space, or periodic (torus) with
/// the given extent (µm) per axis; an extent of 0 means not periodic on that
/// axis. Positions need not lie in `[0, extent)`: only differences matter.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Space {
    /// Period per axis (µm); 0 = open on that axis. Values that are not
    /// finite and positive are treated as 0 (see [`Space::validate`]).
    pub periodic: [f64; 3],
}

/// Squared length of a vector (the one formula used for every distance).
#[inline]
fn norm2(d: [f64; 3]) -> f64 {
    d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
}

/// `x.round()` (half away from zero) without the library call (baseline
/// x86-64 has no rounding instruction); the same value for every input.
#[inline]
fn round(x: f64) -> f64 {
    if x.abs() < 4_503_599_627_370_496.0 {
        // |x| < 2^52: truncation and the fraction are exact.
        let t = (x as i64 as f64).copysign(x);
        let frac = x - t;
        if frac >= 0.5 {
            t + 1.0
        } else if frac <= -0.5 {
            t - 1.0
        } else {
            t
        }
    } else {
        // Already an integer, infinite or NaN.
        x
    }
}

/// Minimum-image coordinate displacement on an axis of period `l`
/// (`half = l / 2`; an infinite `half` leaves `d` as it is).
#[inline]
fn min_image(d: f64, l: f64, half: f64) -> f64 {
    // The test keeps the division off the common path where the
    // displacement is already minimal.
    if d.abs() > half { d - l * round(d / l) } else { d }
}

/// Whether an extent makes an axis periodic.
#[inline]
fn is_periodic(extent: f64) -> bool {
    extent > 0.0 && extent.is_finite()
}

impl Space {
    /// Open space (no periodic axis).
    pub fn open() -> Space {
        Space { periodic: [0.0; 3] }
    }

    /// Periodic on every axis with a non-zero extent (µm).
    pub fn periodic(extent: [f64; 3]) -> Space {
        Space { periodic: extent }
    }

    /// Checks that every extent is finite and >= 0.
    pub fn validate(&self) -> Result<(), SpatialError> {
        for (a, &value) in self.periodic.iter().enumerate() {
            if !(value.is_finite() && value >= 0.0) {
                return Err(SpatialError::InvalidExtent { axis: AXES[a], value });
            }
        }
        Ok(())
    }

    /// Whether no axis is periodic.
    pub fn is_open(&self) -> bool {
        !self.periodic.iter().any(|&l| is_periodic(l))
    }

    /// Displacement `b - a` (µm), with the minimum-image convention on
    /// periodic axes (each component then lies in `[-L/2, L/2]`).
    #[inline]
    pub fn displacement(&self, a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
        let mut d = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
        for (c, &l) in d.iter_mut().zip(&self.periodic) {
            if is_periodic(l) {
                *c = min_image(*c, l, 0.5 * l);
            }
        }
        d
    }

    /// Euclidean distance (µm) between `a` and `b` under these boundary
    /// conditions.
    #[inline]
    pub fn distance(&self, a: [f64; 3], b: [f64; 3]) -> f64 {
        norm2(self.displacement(a, b)).sqrt()
    }
}

/// One axis of a [`GridIndex`].
#[derive(Clone, Copy, Debug)]
struct Axis {
    /// Number of cells (>= 1).
    n: usize,
    /// Coordinate of the low edge of cell 0.
    origin: f64,
    /// Cell side (>= the requested cell size; infinite when `n == 1`).
    side: f64,
    /// Period, or 0 when open.
    period: f64,
    /// Magnitude of the coordinates, for the rounding margin of queries.
    scale: f64,
}

/// `x.floor()` without the library call (baseline x86-64 has no rounding
/// instruction); the same value for every input, NaN and infinities included.
#[inline]
fn floor(x: f64) -> f64 {
    if x.abs() < 4_503_599_627_370_496.0 {
        // |x| < 2^52: truncation is exact, then step down for negatives.
        let t = (x as i64 as f64).copysign(x);
        if t > x { t - 1.0 } else { t }
    } else {
        // Already an integer, infinite or NaN.
        x
    }
}

/// Wraps `x` into `[0, l)`.
#[inline]
fn wrap(x: f64, l: f64) -> f64 {
    let w = x.rem_euclid(l);
    if w >= l { 0.0 } else { w }
}

impl Axis {
    /// Cell of coordinate `x` (non-finite values go to an end cell).
    #[inline]
    fn cell_of(&self, x: f64) -> usize {
        if self.n == 1 {
            return 0;
        }
        let x = if self.period > 0.0 { wrap(x, self.period) } else { x };
        let k = floor((x - self.origin) / self.side);
        if k >= 0.0 { (k as usize).min(self.n - 1) } else { 0 }
    }

    /// The query coordinate `c` in the frame of the cells (wrapped on a
    /// periodic axis), and a rounding allowance (µm) for a query of radius
    /// `r` there: far larger than any rounding in the distances, far smaller
    /// than a cell.
    #[inline]
    fn frame(&self, c: f64, r: f64) -> (f64, f64) {
        let cw = if self.period > 0.0 { wrap(c, self.period) } else { c };
        (cw, 1e-9 * (r + c.abs() + self.scale))
    }

    /// Cells to visit for a query at `cw` (in the cell frame, with rounding
    /// allowance `m`) and radius `r`: cells `first .. first + count`
    /// (unwrapped; taken modulo `n` on periodic axes), and whether that is
    /// every cell of a periodic axis (cell gaps then mean nothing).
    #[inline]
    fn range(&self, cw: f64, m: f64, r: f64) -> (i64, usize, bool) {
        if self.n == 1 {
            return (0, 1, true);
        }
        // Widen the search a little so that rounding in the distance
        // computation can never exclude a point the distance accepts.
        let rr = r + m;
        let n = self.n as f64;
        let lo = floor((cw - rr - self.origin) / self.side);
        let hi = floor((cw + rr - self.origin) / self.side);
        if self.period > 0.0 {
            if hi - lo + 1.0 < n {
                (lo as i64, (hi - lo) as usize + 1, false)
            } else {
                (0, self.n, true)
            }
        } else {
            let (lo, hi) = (lo.max(0.0), hi.min(n - 1.0));
            if lo <= hi {
                (lo as i64, (hi - lo) as usize + 1, false)
            } else {
                (0, 0, false)
            }
        }
    }

    /// A lower bound on `|coordinate displacement|` (µm) between a finite
    /// query at `cw` (cell frame, allowance `m`) and any point of unwrapped
    /// cell `k` of a range that is not `all`.
    #[inline]
    fn gap(&self, cw: f64, m: f64, k: i64, all: bool) -> f64 {
        if all {
            return 0.0;
        }
        let lo = self.origin + k as f64 * self.side;
        let g = (lo - cw).max(cw - (lo + self.side));
        (g - m).max(0.0)
    }

    /// Cell index of position `first + j` of a range.
    #[inline]
    fn wrap_cell(&self, first: i64, j: usize) -> usize {
        (first + j as i64).rem_euclid(self.n as i64) as usize
    }
}

/// Sorts `v` by `key[v[j]]` ascending, where every key is below `bound`
/// and no two entries have the same key: a least significant digit radix
/// sort (bytes), using the end of `v` as working space, for all but short
/// inputs.
fn sort_by_key(v: &mut Vec<u32>, key: &[u32], bound: u32) {
    let k = v.len();
    if k <= 64 {
        v.sort_unstable_by_key(|&j| key[j as usize]);
        return;
    }
    v.resize(2 * k, 0);
    let (mut src, mut dst) = v.split_at_mut(k);
    let mut swapped = false;
    let mut shift = 0;
    while shift < 32 && bound.saturating_sub(1) >> shift != 0 {
        let digit = |j: u32| ((key[j as usize] >> shift) & 255) as usize;
        let mut count = [0u32; 256];
        for &j in src.iter() {
            count[digit(j)] += 1;
        }
        // A byte that is the same in every key needs no pass.
        if count[digit(src[0])] as usize != k {
            let mut sum = 0;
            for c in count.iter_mut() {
                let t = *c;
                *c = sum;
                sum += t;
            }
            for &j in src.iter() {
                let b = digit(j);
                dst[count[b] as usize] = j;
                count[b] += 1;
            }
            std::mem::swap(&mut src, &mut dst);
            swapped = !swapped;
        }
        shift += 8;
    }
    if swapped {
        v.copy_within(k.., 0);
    }
    v.truncate(k);
}

/// A uniform-grid spatial index over a set of points, for radius queries
/// that honour a [`Space`]'s periodicity. Build once with [`GridIndex::new`],
/// query many times with [`GridIndex::for_each_within`].
#[derive(Clone, Debug)]
pub struct GridIndex {
    points: Vec<[f64; 3]>,
    space: Space,
    axes: [Axis; 3],
    /// Start of each cell's items in `items` (`cells + 1` entries).
    cell_start: Vec<u32>,
    /// Point indices, grouped by cell, ascending within each cell.
    items: Vec<u32>,
    /// The points in the order of `items` (for locality of queries).
    sorted: Vec<[f64; 3]>,
}

impl GridIndex {
    /// Builds an index over `points` (µm) with cells of side about `cell`
    /// (µm, > 0). About half the query radius is usually fastest; anything
    /// from a quarter of the radius to the radius works well.
    ///
    /// Open axes are covered from the smallest to the largest coordinate,
    /// periodic axes from 0 to their extent (points are wrapped). Degenerate
    /// extents (all points on a line, a plane, or the same point) get a
    /// single cell on that axis. The total number of cells is kept at most
    /// `2 * max(points.len(), 1)` by enlarging cells when needed. A `cell`
    /// that is not a positive number (0, negative, NaN) or is infinite gives
    /// a single cell: queries are then correct but scan every point.
    ///
    /// # Panics
    /// If there are more than `u32::MAX` points.
    pub fn new(points: &[[f64; 3]], cell: f64, space: Space) -> GridIndex {
        assert!(
            u32::try_from(points.len()).is_ok(),
            "GridIndex supports at most u32::MAX points, got {}",
            points.len()
        );
        let limit = 2.0 * points.len().max(1) as f64;
        // Span of each axis: the period, or the extent of finite coordinates.
        let mut origin = [0.0; 3];
        let mut span = [0.0; 3];
        let mut scale = [0.0f64; 3];
        for a in 0..3 {
            let l = space.periodic[a];
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for p in points {
                if p[a].is_finite() {
                    lo = lo.min(p[a]);
                    hi = hi.max(p[a]);
                    scale[a] = scale[a].max(p[a].abs());
                }
            }
            if is_periodic(l) {
                span[a] = l;
                scale[a] += l;
            } else if lo <= hi {
                origin[a] = lo;
                // Infinite when the coordinates are huge: one cell then.
                span[a] = hi - lo;
            }
        }
        let cells_for = |c: f64, a: usize| -> f64 {
            let want = span[a] / c;
            if !want.is_finite() {
                1.0
            } else if is_periodic(space.periodic[a]) {
                want.floor().max(1.0)
            } else {
                want.floor() + 1.0
            }
        };
        let mut c = if cell > 0.0 && cell.is_finite() {
            cell
        } else {
            f64::INFINITY
        };
        if c.is_finite() {
            // Start with at most `limit` cells per axis, then enlarge until
            // the total fits.
            let widest = span.iter().copied().filter(|s| s.is_finite()).fold(0.0, f64::max);
            c = c.max(widest / limit);
            loop {
                let n = [cells_for(c, 0), cells_for(c, 1), cells_for(c, 2)];
                let total = n[0] * n[1] * n[2];
                if total <= limit {
                    break;
                }
                let active = n.iter().filter(|&&k| k > 1.0).count().max(1) as f64;
                c *= (total / limit).powf(1.0 / active).max(1.01);
            }
        }
        let axes: [Axis; 3] = std::array::from_fn(|a| {
            let n = cells_for(c, a) as usize;
            let periodic = is_periodic(space.periodic[a]);
            let side = if n == 1 {
                f64::INFINITY
            } else if periodic {
                span[a] / n as f64
            } else {
                c
            };
            Axis {
                n,
                origin: if periodic { 0.0 } else { origin[a] },
                side,
                period: if periodic { space.periodic[a] } else { 0.0 },
                scale: scale[a] + if side.is_finite() { side } else { 0.0 },
            }
        });
        let n_cells = axes[0].n * axes[1].n * axes[2].n;
        let cell_index: Vec<usize> = points
            .iter()
            .map(|p| (axes[2].cell_of(p[2]) * axes[1].n + axes[1].cell_of(p[1])) * axes[0].n + axes[0].cell_of(p[0]))
            .collect();
        let mut cell_start = vec![0u32; n_cells + 1];
        for &k in &cell_index {
            cell_start[k + 1] += 1;
        }
        for k in 0..n_cells {
            cell_start[k + 1] += cell_start[k];
        }
        let mut fill = cell_start.clone();
        let mut items = vec![0u32; points.len()];
        for (i, &k) in cell_index.iter().enumerate() {
            items[fill[k] as usize] = i as u32;
            fill[k] += 1;
        }
        let sorted = items.iter().map(|&i| points[i as usize]).collect();
        GridIndex {
            points: points.to_vec(),
            space,
            axes,
            cell_start,
            items,
            sorted,
        }
    }

    /// Number of indexed points.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether no point is indexed.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The boundary conditions used for distances.
    pub fn space(&self) -> Space {
        self.space
    }

    /// The indexed points (µm), in index order.
    pub fn points(&self) -> &[[f64; 3]] {
        &self.points
    }

    /// Number of cells.
    #[cfg(test)]
    fn n_cells(&self) -> usize {
        self.cell_start.len() - 1
    }

    /// Calls `f(index, distance)` (distance in µm) for every indexed point
    /// whose distance `space.distance(centre, point)` is `<= radius` (µm),
    /// in ascending index order. The point at `centre` itself, if indexed,
    /// is included (distance 0). A negative or NaN radius finds nothing; an
    /// infinite one finds every point at a finite distance. `scratch` is
    /// working memory (it grows to about twice the number of points found):
    /// pass the same `Vec` to successive calls to avoid allocation; its
    /// contents on return are unspecified.
    ///
    /// The cost is about the number of points within a little more than
    /// `radius` of `centre`, not the number of indexed points.
    pub fn for_each_within(
        &self,
        centre: [f64; 3],
        radius: f64,
        scratch: &mut Vec<u32>,
        mut f: impl FnMut(usize, f64),
    ) {
        scratch.clear();
        if radius.is_nan() || radius < 0.0 || self.points.is_empty() {
            return;
        }
        let [ax, ay, az] = &self.axes;
        let (cx, mx) = ax.frame(centre[0], radius);
        let (cy, my) = ay.frame(centre[1], radius);
        let (cz, mz) = az.frame(centre[2], radius);
        let (fy, ny, all_y) = ay.range(cy, my, radius);
        let (fz, nz, all_z) = az.range(cz, mz, radius);
        // Rows of cells (fixed y and z) far from the centre get a narrower x
        // range, or none; only for a finite query (gaps are then finite).
        let prune = radius.is_finite() && centre.iter().all(|c| c.is_finite());
        let r2 = radius * radius;
        // Keep the candidates within the radius, cell run by cell run; then
        // sort the (few) accepted indices. The squared-distance bound is a
        // cheap superset of the exact test `sqrt(s) <= radius` (the same
        // formula as `Space::distance`), which runs afterwards.
        let r2_loose = r2 * (1.0 + 1e-12) + f64::MIN_POSITIVE;
        let period = [ax.period, ay.period, az.period];
        let half = period.map(|l| if l > 0.0 { 0.5 * l } else { f64::INFINITY });
        let mut accept = |lo: u32, hi: u32| {
            let (lo, hi) = (lo as usize, hi as usize);
            for (pos, p) in (lo..hi).zip(&self.sorted[lo..hi]) {
                // `Space::displacement`, with the periodicity tests hoisted.
                let mut d = [p[0] - centre[0], p[1] - centre[1], p[2] - centre[2]];
                for a in 0..3 {
                    d[a] = min_image(d[a], period[a], half[a]);
                }
                if norm2(d) <= r2_loose {
                    scratch.push(pos as u32);
                }
            }
        };
        let mut cells = 0;
        for kz in 0..nz {
            let gz = if prune {
                az.gap(cz, mz, fz + kz as i64, all_z)
            } else {
                0.0
            };
            let z = az.wrap_cell(fz, kz);
            for ky in 0..ny {
                let w = if prune {
                    let gy = ay.gap(cy, my, fy + ky as i64, all_y);
                    let rest = r2 - gz * gz - gy * gy;
                    if rest < -1e-12 * r2 {
                        continue;
                    }
                    (rest.max(0.0) + 1e-12 * r2).sqrt()
                } else {
                    radius
                };
                let (fx, nx, _) = ax.range(cx, mx, w);
                if nx == 0 {
                    continue;
                }
                cells += nx;
                let y = ay.wrap_cell(fy, ky);
                let row = (z * ay.n + y) * ax.n;
                if ax.period == 0.0 || nx == ax.n {
                    // Contiguous run of cells.
                    let first = row + ax.wrap_cell(fx, 0);
                    accept(self.cell_start[first], self.cell_start[first + nx]);
                } else {
                    for kx in 0..nx {
                        let k = row + ax.wrap_cell(fx, kx);
                        accept(self.cell_start[k], self.cell_start[k + 1]);
                    }
                }
            }
        }
        // `scratch` holds positions in `items`/`sorted` (memory just read,
        // so the rest stays in cache); order them by point index.
        if cells > 1 {
            sort_by_key(scratch, &self.items, self.points.len() as u32);
        }
        for &pos in scratch.iter() {
            let pos = pos as usize;
            let d = self.space.distance(centre, self.sorted[pos]);
            if d <= radius {
                f(self.items[pos] as usize, d);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::rngs::Xoshiro256PlusPlus;
    use rand::{Rng, SeedableRng};

    fn rng(seed: u64) -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(seed)
    }

    #[test]
    fn none_and_line_positions() {
        let p = Structure::None.positions(3, &mut rng(1)).unwrap();
        assert_eq!(p, vec![[0.0; 3]; 3]);
        let line = Structure::Line { dx: 2.5, x0: -1.0 };
        let p = line.positions(4, &mut rng(1)).unwrap();
        assert_eq!(
            p,
            vec![[-1.0, 0.0, 0.0], [1.5, 0.0, 0.0], [4.0, 0.0, 0.0], [6.5, 0.0, 0.0]]
        );
    }

    #[test]
    fn grid_positions() {
        let g = Structure::Grid2D {
            nx: 3,
            ny: 2,
            dx: 1.0,
            dy: 10.0,
            x0: 5.0,
            y0: -5.0,
        };
        let p = g.positions(6, &mut rng(1)).unwrap();
        assert_eq!(
            p,
            vec![
                [5.0, -5.0, 0.0],
                [6.0, -5.0, 0.0],
                [7.0, -5.0, 0.0],
                [5.0, 5.0, 0.0],
                [6.0, 5.0, 0.0],
                [7.0, 5.0, 0.0],
            ]
        );
        let g = Structure::Grid3D {
            nx: 2,
            ny: 3,
            nz: 2,
            dx: 1.0,
            dy: 2.0,
            dz: 4.0,
            x0: 0.0,
            y0: 1.0,
            z0: -1.0,
        };
        let p = g.positions(12, &mut rng(1)).unwrap();
        assert_eq!(p.len(), 12);
        for (i, q) in p.iter().enumerate() {
            let (l, j, k) = (i % 2, (i / 2) % 3, i / 6);
            assert_eq!(*q, [l as f64, 1.0 + 2.0 * j as f64, -1.0 + 4.0 * k as f64]);
        }
        assert_eq!(p[1], [1.0, 1.0, -1.0]);
        assert_eq!(p[2], [0.0, 3.0, -1.0]);
        assert_eq!(p[6], [0.0, 1.0, 3.0]);
        assert_eq!(p[11], [1.0, 5.0, 3.0]);
    }

    #[test]
    fn explicit_positions() {
        let pts = vec![[1.0, 2.0, 3.0], [-4.0, 5.0, 6.0]];
        let s = Structure::Explicit(pts.clone());
        assert_eq!(s.positions(2, &mut rng(1)).unwrap(), pts);
    }

    #[test]
    fn random_box_inside_and_centred() {
        let (min, max) = ([0.0, -5.0, 2.0], [10.0, 5.0, 2.0]);
        let s = Structure::RandomBox { min, max };
        let n = 4000;
        let p = s.positions(n, &mut rng(7)).unwrap();
        assert_eq!(p.len(), n);
        for a in 0..3 {
            assert!(p.iter().all(|q| q[a] >= min[a] && q[a] <= max[a]));
            let mean = p.iter().map(|q| q[a]).sum::<f64>() / n as f64;
            let centre = 0.5 * (min[a] + max[a]);
            let se = (max[a] - min[a]) / (12.0 * n as f64).sqrt();
            assert!(
                (mean - centre).abs() <= 5.0 * se,
                "axis {a}: mean {mean}, centre {centre}, se {se}"
            );
        }
        // Same seed, same positions; different seed, different positions.
        assert_eq!(p, s.positions(n, &mut rng(7)).unwrap());
        assert_ne!(p, s.positions(n, &mut rng(8)).unwrap());
    }

    fn check_sphere(dims: u8, expected_inner: f64) {
        let centre = [1.0, -2.0, 3.0];
        let radius = 4.0;
        let s = Structure::RandomSphere { centre, radius, dims };
        let n = 4000;
        let p = s.positions(n, &mut rng(11)).unwrap();
        let space = Space::open();
        let mut inner = 0usize;
        for q in &p {
            let r = space.distance(centre, *q);
            assert!(r <= radius * (1.0 + 1e-12), "{q:?} at {r}");
            if dims == 2 {
                assert_eq!(q[2], centre[2]);
            }
            if r <= radius / 2.0 {
                inner += 1;
            }
        }
        let frac = inner as f64 / n as f64;
        let se = (expected_inner * (1.0 - expected_inner) / n as f64).sqrt();
        assert!(
            (frac - expected_inner).abs() <= 5.0 * se,
            "dims {dims}: fraction within r/2 = {frac}, expected {expected_inner}"
        );
        for a in 0..usize::from(dims) {
            let mean = p.iter().map(|q| q[a]).sum::<f64>() / n as f64;
            // Per-axis variance is r^2/5 in a ball, r^2/4 in a disc.
            let var = radius * radius / if dims == 3 { 5.0 } else { 4.0 };
            let se = (var / n as f64).sqrt();
            assert!((mean - centre[a]).abs() <= 5.0 * se);
        }
    }

    #[test]
    fn random_sphere_3d_uniform_in_volume() {
        check_sphere(3, 1.0 / 8.0);
    }

    #[test]
    fn random_sphere_2d_uniform_in_area() {
        check_sphere(2, 1.0 / 4.0);
    }

    #[test]
    fn zero_size_and_zero_radius() {
        let s = Structure::RandomSphere {
            centre: [1.0, 2.0, 3.0],
            radius: 0.0,
            dims: 3,
        };
        assert_eq!(s.positions(2, &mut rng(1)).unwrap(), vec![[1.0, 2.0, 3.0]; 2]);
        let g = Structure::Grid2D {
            nx: 0,
            ny: 5,
            dx: 1.0,
            dy: 1.0,
            x0: 0.0,
            y0: 0.0,
        };
        assert!(g.positions(0, &mut rng(1)).unwrap().is_empty());
    }

    fn err(s: &Structure, size: usize) -> String {
        let e = s.validate(size).unwrap_err();
        // `positions` reports the same error (compared as text: NaN != NaN).
        let e2 = s.positions(size, &mut rng(0)).unwrap_err();
        assert_eq!(e2.to_string(), e.to_string());
        e.to_string()
    }

    #[test]
    fn validation_errors() {
        let grid = Structure::Grid2D {
            nx: 3,
            ny: 4,
            dx: 1.0,
            dy: 1.0,
            x0: 0.0,
            y0: 0.0,
        };
        assert_eq!(
            err(&grid, 10),
            "Grid2D of nx x ny = 3 x 4 positions does not match the population size 10"
        );
        let huge = Structure::Grid3D {
            nx: usize::MAX,
            ny: 2,
            nz: 1,
            dx: 1.0,
            dy: 1.0,
            dz: 1.0,
            x0: 0.0,
            y0: 0.0,
            z0: 0.0,
        };
        assert!(err(&huge, 10).contains("does not match the population size 10"));
        let line = Structure::Line { dx: -1.0, x0: 0.0 };
        assert_eq!(
            err(&line, 3),
            "spacing dx = -1 µm is invalid: it must be finite and >= 0"
        );
        let line = Structure::Line { dx: 1.0, x0: f64::NAN };
        assert_eq!(err(&line, 3), "x0 = NaN µm is not a finite number");
        let grid = Structure::Grid3D {
            nx: 1,
            ny: 1,
            nz: 1,
            dx: 1.0,
            dy: 1.0,
            dz: f64::INFINITY,
            x0: 0.0,
            y0: 0.0,
            z0: 0.0,
        };
        assert!(err(&grid, 1).contains("dz = inf"));
        let bx = Structure::RandomBox {
            min: [0.0, 5.0, 0.0],
            max: [1.0, 4.0, 0.0],
        };
        assert_eq!(err(&bx, 3), "RandomBox min[y] = 5 µm is greater than max[y] = 4 µm");
        let bx = Structure::RandomBox {
            min: [0.0, 0.0, f64::NEG_INFINITY],
            max: [1.0, 1.0, 1.0],
        };
        assert_eq!(err(&bx, 3), "RandomBox min[z] = -inf µm is not a finite number");
        let sp = Structure::RandomSphere {
            centre: [0.0; 3],
            radius: -2.0,
            dims: 3,
        };
        assert_eq!(
            err(&sp, 3),
            "RandomSphere radius = -2 µm is invalid: it must be finite and >= 0"
        );
        let sp = Structure::RandomSphere {
            centre: [0.0; 3],
            radius: 2.0,
            dims: 4,
        };
        assert!(err(&sp, 3).contains("dims = 4 is invalid"));
        let ex = Structure::Explicit(vec![[0.0; 3]; 2]);
        assert_eq!(
            err(&ex, 3),
            "Explicit structure has 2 positions but the population has 3 neurons"
        );
        let ex = Structure::Explicit(vec![[0.0; 3], [0.0, f64::NAN, 0.0]]);
        assert_eq!(
            err(&ex, 2),
            "Explicit position 1 has y = NaN µm, which is not a finite number"
        );
        assert!(Structure::None.validate(5).is_ok());
    }

    #[test]
    fn space_validation() {
        assert!(Space::open().validate().is_ok());
        assert!(Space::periodic([10.0, 0.0, 0.0]).validate().is_ok());
        assert_eq!(
            Space::periodic([1.0, -3.0, 0.0]).validate().unwrap_err().to_string(),
            "periodic extent on axis y = -3 µm is invalid: it must be finite and >= 0 (0 = not periodic)"
        );
        assert!(Space::periodic([0.0, 0.0, f64::NAN]).validate().is_err());
        assert!(Space::open().is_open());
        assert!(Space::default().is_open());
        assert!(!Space::periodic([0.0, 0.0, 1.0]).is_open());
    }

    #[test]
    fn periodic_distance() {
        let torus = Space::periodic([10.0, 0.0, 0.0]);
        let (a, b) = ([1.0, 0.0, 0.0], [9.0, 0.0, 0.0]);
        assert_eq!(torus.distance(a, b), 2.0);
        assert_eq!(torus.displacement(a, b), [-2.0, 0.0, 0.0]);
        assert_eq!(torus.displacement(b, a), [2.0, 0.0, 0.0]);
        assert_eq!(Space::open().distance(a, b), 8.0);
        // Positions outside [0, L) and several periods apart.
        assert_eq!(torus.distance([-1.0, 0.0, 0.0], [21.0, 0.0, 0.0]), 2.0);
        // Only periodic axes wrap.
        assert_eq!(torus.distance([1.0, 0.0, 0.0], [9.0, 4.0, 0.0]), 20f64.sqrt());
        let t3 = Space::periodic([10.0, 10.0, 10.0]);
        assert_eq!(t3.distance([0.0; 3], [9.0, 9.0, 9.0]), 3f64.sqrt());
        for x in [0.0, 3.0, 5.0, 7.5, 9.99] {
            let d = torus.displacement([0.0; 3], [x, 0.0, 0.0])[0];
            assert!((-5.0..=5.0).contains(&d));
        }
    }

    #[test]
    fn natural_extent() {
        let line = Structure::Line { dx: 2.0, x0: 1.0 };
        assert_eq!(periodic_extent(&line, 5), [10.0, 0.0, 0.0]);
        let g = Structure::Grid2D {
            nx: 4,
            ny: 3,
            dx: 1.0,
            dy: 2.0,
            x0: 0.0,
            y0: 0.0,
        };
        assert_eq!(periodic_extent(&g, 12), [4.0, 6.0, 0.0]);
        let g = Structure::Grid3D {
            nx: 2,
            ny: 3,
            nz: 4,
            dx: 1.0,
            dy: 1.0,
            dz: 0.5,
            x0: 0.0,
            y0: 0.0,
            z0: 0.0,
        };
        assert_eq!(periodic_extent(&g, 24), [2.0, 3.0, 2.0]);
        assert_eq!(periodic_extent(&Structure::None, 4), [0.0; 3]);
        // On the natural torus the last and first of a line are dx apart.
        let p = line.positions(5, &mut rng(0)).unwrap();
        let torus = Space::periodic(periodic_extent(&line, 5));
        assert_eq!(torus.distance(p[0], p[4]), 2.0);
    }

    fn query(index: &GridIndex, centre: [f64; 3], radius: f64) -> Vec<(usize, f64)> {
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        index.for_each_within(centre, radius, &mut scratch, |i, d| out.push((i, d)));
        out
    }

    fn brute(points: &[[f64; 3]], space: Space, centre: [f64; 3], r: f64) -> Vec<(usize, f64)> {
        points
            .iter()
            .enumerate()
            .map(|(i, p)| (i, space.distance(centre, *p)))
            .filter(|&(_, d)| d <= r)
            .collect()
    }

    #[test]
    fn grid_on_natural_torus_has_four_neighbours() {
        let g = Structure::Grid2D {
            nx: 10,
            ny: 10,
            dx: 1.0,
            dy: 1.0,
            x0: 0.5,
            y0: 0.5,
        };
        let p = g.positions(100, &mut rng(0)).unwrap();
        let space = Space::periodic(periodic_extent(&g, 100));
        let index = GridIndex::new(&p, 1.0, space);
        let mut scratch = Vec::new();
        for (i, &c) in p.iter().enumerate() {
            let mut found = Vec::new();
            index.for_each_within(c, 1.0, &mut scratch, |j, d| found.push((j, d)));
            assert_eq!(found.len(), 5, "neuron {i}: {found:?}");
            assert!(found.windows(2).all(|w| w[0].0 < w[1].0));
            assert!(found.contains(&(i, 0.0)));
        }
        // Open space: corners have 2 neighbours plus themselves.
        let index = GridIndex::new(&p, 1.0, Space::open());
        assert_eq!(query(&index, p[0], 1.0).len(), 3);
        assert_eq!(query(&index, p[55], 1.0).len(), 5);
    }

    #[test]
    fn degenerate_and_edge_cases() {
        let mut scratch = Vec::new();
        // Empty index.
        let empty = GridIndex::new(&[], 1.0, Space::open());
        assert!(empty.is_empty());
        assert!(query(&empty, [0.0; 3], 10.0).is_empty());
        // All points at the same place.
        let same = vec![[3.0, 3.0, 3.0]; 5];
        let idx = GridIndex::new(&same, 1.0, Space::open());
        assert_eq!(idx.len(), 5);
        assert_eq!(idx.n_cells(), 1);
        assert_eq!(query(&idx, [3.0; 3], 0.0).len(), 5);
        assert!(query(&idx, [0.0; 3], 1.0).is_empty());
        // Points on a line, tiny cells: cell count is clamped.
        let line: Vec<[f64; 3]> = (0..50).map(|i| [i as f64, 0.0, 0.0]).collect();
        let idx = GridIndex::new(&line, 1e-9, Space::open());
        assert!(idx.n_cells() <= 100, "{}", idx.n_cells());
        assert_eq!(query(&idx, [10.0, 0.0, 0.0], 1.0), vec![(9, 1.0), (10, 0.0), (11, 1.0)]);
        // Sparse 3-D points with tiny cells: clamped too.
        let pts = Structure::RandomBox {
            min: [0.0; 3],
            max: [1000.0; 3],
        }
        .positions(300, &mut rng(3))
        .unwrap();
        let idx = GridIndex::new(&pts, 1e-3, Space::periodic([1000.0, 0.0, 1000.0]));
        assert!(idx.n_cells() <= 600, "{}", idx.n_cells());
        let space = idx.space();
        for &c in pts.iter().take(20) {
            assert_eq!(query(&idx, c, 150.0), brute(&pts, space, c, 150.0));
        }
        // Odd cell sizes: one cell, still correct.
        for cell in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let idx = GridIndex::new(&pts, cell, Space::open());
            assert_eq!(idx.n_cells(), 1);
            let c = [500.0; 3];
            assert_eq!(query(&idx, c, 200.0), brute(&pts, Space::open(), c, 200.0));
        }
        // Radius edge cases.
        let idx = GridIndex::new(&pts, 50.0, Space::open());
        assert!(query(&idx, [500.0; 3], -1.0).is_empty());
        assert!(query(&idx, [500.0; 3], f64::NAN).is_empty());
        assert_eq!(query(&idx, [500.0; 3], f64::INFINITY).len(), pts.len());
        assert!(query(&idx, [f64::NAN, 0.0, 0.0], 1e9).is_empty());
        assert!(query(&idx, [1e6, 0.0, 0.0], 10.0).is_empty());
        // Scratch is reused and cleared.
        scratch.push(7);
        idx.for_each_within(pts[0], 0.0, &mut scratch, |i, d| {
            assert_eq!((i, d), (0, 0.0));
        });
        // Non-finite points are never within a finite radius.
        let odd = vec![[f64::NAN, 0.0, 0.0], [f64::INFINITY, 0.0, 0.0], [1.0, 0.0, 0.0]];
        let idx = GridIndex::new(&odd, 0.5, Space::periodic([0.0, 4.0, 0.0]));
        assert_eq!(query(&idx, [0.0; 3], 5.0), vec![(2, 1.0)]);
    }

    #[test]
    fn helpers_match_std() {
        let mut r = rng(5);
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            0.49999999999999994,
            -0.49999999999999994,
            4503599627370495.5,
            -4503599627370495.5,
            4503599627370496.0,
            1e300,
            -1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
        ];
        for _ in 0..2000 {
            let u = unit_f64(&mut r);
            values.push((u - 0.5) * 100.0);
            values.push((u - 0.5).powi(3) * 1e18);
            values.push(f64::from_bits(r.next_u64()));
        }
        for x in values {
            if x.is_nan() {
                assert!(floor(x).is_nan() && round(x).is_nan());
                continue;
            }
            assert_eq!(floor(x).to_bits(), x.floor().to_bits(), "floor({x:e})");
            assert_eq!(round(x).to_bits(), x.round().to_bits(), "round({x:e})");
        }
        assert!(floor(f64::NAN).is_nan() && round(f64::NAN).is_nan());
    }

    #[test]
    fn radix_sort_sorts() {
        let mut r = rng(9);
        for (len, bound) in [
            (0, 1),
            (1, 5),
            (65, 100),
            (250, 1 << 8),
            (500, 70_000),
            (1000, 1 << 24),
            (1000, u32::MAX),
        ] {
            // Distinct keys below `bound`, some sharing their high bytes.
            let mut keys: Vec<u32> = (0..len)
                .map(|j| {
                    let x = (r.next_u64() % u64::from(bound)) as u32;
                    if j % 3 == 0 { x } else { (x & !0xff) | (j as u32 & 0xff) }
                })
                .collect();
            keys.sort_unstable();
            keys.dedup();
            // Scramble the keys and sort positions by key.
            for j in (1..keys.len()).rev() {
                keys.swap(j, (r.next_u64() % (j as u64 + 1)) as usize);
            }
            let mut v: Vec<u32> = (0..keys.len() as u32).collect();
            let mut expected = v.clone();
            expected.sort_by_key(|&j| keys[j as usize]);
            v.reverse();
            sort_by_key(&mut v, &keys, bound);
            assert_eq!(v, expected, "len {len}, bound {bound}");
        }
    }

    #[test]
    fn index_matches_brute_force_many_points() {
        let pts = Structure::RandomBox {
            min: [0.0, 0.0, 0.0],
            max: [200.0, 100.0, 30.0],
        }
        .positions(3000, &mut rng(21))
        .unwrap();
        let mut r = rng(22);
        let mut scratch = Vec::new();
        for space in [Space::open(), Space::periodic([200.0, 100.0, 0.0])] {
            for cell in [5.0, 10.0, 40.0] {
                let index = GridIndex::new(&pts, cell, space);
                for q in 0..40 {
                    let c = if q % 2 == 0 {
                        pts[q * 37]
                    } else {
                        [
                            unit_f64(&mut r) * 260.0 - 30.0,
                            unit_f64(&mut r) * 130.0 - 15.0,
                            unit_f64(&mut r) * 40.0 - 5.0,
                        ]
                    };
                    let radius = unit_f64(&mut r) * 30.0;
                    let mut got = Vec::new();
                    index.for_each_within(c, radius, &mut scratch, |i, d| got.push((i, d)));
                    assert_eq!(got, brute(&pts, space, c, radius));
                }
            }
        }
    }

    fn coord() -> impl Strategy<Value = f64> {
        prop_oneof![
            -25.0..25.0f64,
            // Far from the origin: rounding in the distances matters.
            (-25.0..25.0f64).prop_map(|x| x + 1e5),
            // Integers hit cell boundaries and exact distances.
            (-25i32..25).prop_map(f64::from),
        ]
    }

    fn space() -> impl Strategy<Value = Space> {
        let extent = prop_oneof![Just(0.0), 0.5..30.0f64, (1i32..30).prop_map(f64::from)];
        [extent.clone(), extent.clone(), extent].prop_map(Space::periodic)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn index_matches_brute_force(
            points in prop::collection::vec([coord(), coord(), coord()], 0..60),
            flat in prop::array::uniform3(any::<bool>()),
            space in space(),
            cell in prop_oneof![0.05..20.0f64, (1i32..10).prop_map(f64::from)],
            queries in prop::collection::vec(
                ([coord(), coord(), coord()], prop_oneof![0.0..30.0f64, (0i32..12).prop_map(f64::from)]),
                1..8,
            ),
        ) {
            // Optionally flatten axes, to get lines, planes and points.
            let points: Vec<[f64; 3]> = points
                .into_iter()
                .map(|mut p| {
                    for a in 0..3 {
                        if flat[a] {
                            p[a] = 1.0;
                        }
                    }
                    p
                })
                .collect();
            let index = GridIndex::new(&points, cell, space);
            prop_assert!(index.n_cells() <= 2 * points.len().max(1));
            let mut scratch = Vec::new();
            for (centre, radius) in queries {
                let mut got = Vec::new();
                index.for_each_within(centre, radius, &mut scratch, |i, d| got.push((i, d)));
                prop_assert_eq!(got, brute(&points, space, centre, radius));
                // Query from an indexed point, too.
                if let Some(&c) = points.first() {
                    let mut got = Vec::new();
                    index.for_each_within(c, radius, &mut scratch, |i, d| got.push((i, d)));
                    prop_assert_eq!(got, brute(&points, space, c, radius));
                }
                // A radius exactly equal to the distance of some point: the
                // point lies on the boundary and must be found.
                if !points.is_empty() {
                    let j = (radius * 7.0) as usize % points.len();
                    let r = space.distance(centre, points[j]);
                    let mut got = Vec::new();
                    index.for_each_within(centre, r, &mut scratch, |i, d| got.push((i, d)));
                    prop_assert!(got.iter().any(|&(i, _)| i == j));
                    prop_assert_eq!(got, brute(&points, space, centre, r));
                }
            }
        }
    }
}
