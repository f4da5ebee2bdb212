//! [`Structure`]: how the neurons of a population are placed (line, grid,
//! random box or ball, explicit), the positions it gives, and its natural
//! torus ([`periodic_extent`]).

use super::error::{AXES, SpaceError};
use serde::{Deserialize, Serialize};

/// How the neurons of a population are placed in space (positions in µm).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

fn check_finite(field: impl FnOnce() -> String, value: f64) -> Result<(), SpaceError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(SpaceError::NonFinite { field: field(), value })
    }
}

fn check_spacing(field: &'static str, value: f64) -> Result<(), SpaceError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(SpaceError::InvalidSpacing { field, value })
    }
}

/// A uniform draw in `[0, 1)` with 53 random bits, from one `next_u64`.
#[inline]
pub(super) fn unit_f64<R: rand::Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

impl Structure {
    /// Checks the structure against the population size `size`: grid size
    /// mismatch, negative or non-finite spacing or radius, `min > max`,
    /// explicit length different from `size`, non-finite coordinates,
    /// `dims` other than 2 or 3.
    pub fn validate(&self, size: usize) -> Result<(), SpaceError> {
        match self {
            Structure::None => Ok(()),
            Structure::Line { dx, x0 } => {
                check_spacing("dx", *dx)?;
                check_finite(|| "x0".into(), *x0)
            }
            &Structure::Grid2D { nx, ny, dx, dy, x0, y0 } => {
                if nx.checked_mul(ny) != Some(size) {
                    return Err(SpaceError::Grid2DSize { nx, ny, size });
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
                    return Err(SpaceError::Grid3DSize { nx, ny, nz, size });
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
                        return Err(SpaceError::InvertedBox {
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
                    return Err(SpaceError::InvalidRadius(*radius));
                }
                if !matches!(dims, 2 | 3) {
                    return Err(SpaceError::InvalidDims(*dims));
                }
                Ok(())
            }
            Structure::Explicit(points) => {
                if points.len() != size {
                    return Err(SpaceError::ExplicitLength {
                        len: points.len(),
                        size,
                    });
                }
                for (index, p) in points.iter().enumerate() {
                    for a in 0..3 {
                        if !p[a].is_finite() {
                            return Err(SpaceError::NonFinitePosition {
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
    pub fn positions<R: rand::Rng + ?Sized>(&self, size: usize, rng: &mut R) -> Result<Vec<[f64; 3]>, SpaceError> {
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
/// Use with [`Space::periodic`](super::Space::periodic).
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::{Space, rng};

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
}
