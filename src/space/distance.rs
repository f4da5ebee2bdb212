//! [`Space`]: boundary conditions for distances, open or periodic (a torus)
//! per axis with the minimum-image convention.

use super::error::{AXES, SpaceError};
use serde::{Deserialize, Serialize};

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
pub(super) fn norm2(d: [f64; 3]) -> f64 {
    d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
}

/// `x.round()` (half away from zero) without the library call (baseline
/// x86-64 has no rounding instruction); the same value for every input.
#[inline]
pub(super) fn round(x: f64) -> f64 {
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
pub(super) fn min_image(d: f64, l: f64, half: f64) -> f64 {
    // The test keeps the division off the common path where the
    // displacement is already minimal.
    if d.abs() > half { d - l * round(d / l) } else { d }
}

/// Whether an extent makes an axis periodic.
#[inline]
pub(super) fn is_periodic(extent: f64) -> bool {
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
    pub fn validate(&self) -> Result<(), SpaceError> {
        for (a, &value) in self.periodic.iter().enumerate() {
            if !(value.is_finite() && value >= 0.0) {
                return Err(SpaceError::InvalidExtent { axis: AXES[a], value });
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
