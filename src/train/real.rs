//! The float type a training run computes in: `f32` for speed (what torch
//! and nn4n use), `f64` for the finite-difference gradient checks.

use ndarray::LinalgScalar;

/// A float type for BPTT: arithmetic, the matrix products of ndarray and the
/// functions the activations and losses need.
pub trait Real:
    LinalgScalar
    + ndarray::ScalarOperand
    + std::ops::AddAssign
    + std::ops::SubAssign
    + std::ops::MulAssign
    + PartialOrd
    + std::fmt::Debug
    + std::fmt::Display
    + Send
    + Sync
    + std::iter::Sum
    + 'static
{
    /// From an f64 (rounded for f32).
    fn of(x: f64) -> Self;
    /// To f64 (exact).
    fn f64(self) -> f64;
    /// tanh: [`crate::model::fast_tanh`] in f32 (the engine's), exact in f64.
    fn tanh(self) -> Self;
    /// e^x.
    fn exp(self) -> Self;
    /// ln x.
    fn ln(self) -> Self;
    /// √x.
    fn sqrt(self) -> Self;
    /// |x|.
    fn abs(self) -> Self {
        if self < Self::zero() { Self::zero() - self } else { self }
    }
    /// max(self, other).
    fn max(self, other: Self) -> Self {
        if self > other { self } else { other }
    }
}

impl Real for f32 {
    fn of(x: f64) -> f32 {
        x as f32
    }
    fn f64(self) -> f64 {
        f64::from(self)
    }
    #[inline(always)]
    fn tanh(self) -> f32 {
        crate::model::fast_tanh(self)
    }
    fn exp(self) -> f32 {
        f32::exp(self)
    }
    fn ln(self) -> f32 {
        f32::ln(self)
    }
    fn sqrt(self) -> f32 {
        f32::sqrt(self)
    }
}

impl Real for f64 {
    fn of(x: f64) -> f64 {
        x
    }
    fn f64(self) -> f64 {
        self
    }
    fn tanh(self) -> f64 {
        f64::tanh(self)
    }
    fn exp(self) -> f64 {
        f64::exp(self)
    }
    fn ln(self) -> f64 {
        f64::ln(self)
    }
    fn sqrt(self) -> f64 {
        f64::sqrt(self)
    }
}
