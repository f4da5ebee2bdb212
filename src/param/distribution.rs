//! [`Distribution`] (and [`ClipMode`]): validated parameters, exact moments,
//! one draw from a [`Stream`], and [`draw`] in fixed chunks keyed by the owner.

use super::{CHUNK, Owner};
use crate::error::{CortecsError, Result};
use crate::rng::{Stream, standard_normal};
use rand_distr::Distribution as _;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// What a clipped normal does with a draw outside its bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ClipMode {
    /// Draw again until inside (a truncated normal; PyNN's `normal_clipped`).
    #[default]
    Redraw,
    /// Set to the nearest bound (PyNN's `normal_clipped_to_boundary`).
    Clamp,
}

/// A probability distribution with validated parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Distribution {
    /// Uniform on [low, high).
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound (> low).
        high: f64,
    },
    /// Normal with mean and standard deviation (>= 0).
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
    /// Normal restricted to [low, high] by redrawing or clamping.
    NormalClipped {
        /// Mean of the untruncated normal.
        mean: f64,
        /// Standard deviation of the untruncated normal.
        std: f64,
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
        /// Redraw or clamp.
        #[serde(default)]
        mode: ClipMode,
    },
    /// Log-normal: exp(N(mu, sigma)).
    LogNormal {
        /// Mean of the underlying normal.
        mu: f64,
        /// Standard deviation of the underlying normal.
        sigma: f64,
    },
    /// Exponential with the given scale (mean = scale, rate = 1/scale).
    Exponential {
        /// Mean (> 0).
        scale: f64,
    },
    /// Gamma with shape k and scale theta (mean k*theta).
    Gamma {
        /// Shape (> 0).
        shape: f64,
        /// Scale (> 0).
        scale: f64,
    },
    /// Beta on [0, 1].
    Beta {
        /// First shape parameter (> 0).
        alpha: f64,
        /// Second shape parameter (> 0).
        beta: f64,
    },
    /// Poisson with mean lambda (>= 0), as a float.
    Poisson {
        /// Mean.
        lambda: f64,
    },
    /// Binomial: number of successes in n trials with probability p.
    Binomial {
        /// Trials.
        n: u64,
        /// Success probability in [0, 1].
        p: f64,
    },
    /// Pareto (type I): density `shape * scale^shape / x^(shape + 1)` for
    /// `x >= scale` (heavy-tailed weights; mean finite for `shape > 1`,
    /// variance for `shape > 2`).
    Pareto {
        /// Minimum value `x_m` (> 0).
        scale: f64,
        /// Tail index `alpha` (> 0).
        shape: f64,
    },
    /// Two values: `a` with probability `p`, else `b` (Simbrain's two-valued
    /// randomizer).
    TwoValued {
        /// Probability of `a`, in [0, 1].
        p: f64,
        /// The value drawn with probability `p`.
        a: f64,
        /// The value drawn otherwise.
        b: f64,
    },
    /// Exponential with mean `scale` before truncation, restricted to
    /// `[low, high]`: density proportional to `exp(-(x - low) / scale)`
    /// there (drawn exactly by inversion, never redrawn).
    ExponentialTruncated {
        /// Scale of the exponential (> 0).
        scale: f64,
        /// Lower bound.
        low: f64,
        /// Upper bound (> low).
        high: f64,
    },
}

/// Mean and variance of `Y = X - low` for an exponential of `scale`
/// truncated to `[0, len]`.
fn truncated_exponential_moments(scale: f64, len: f64) -> (f64, f64) {
    let q = (-len / scale).exp();
    if q == 0.0 {
        return (scale, scale * scale);
    }
    let r = q / (1.0 - q);
    (scale - len * r, scale * scale - len * len * q / ((1.0 - q) * (1.0 - q)))
}

pub(super) fn finite(context: &str, what: &str, x: f64) -> Result<()> {
    if x.is_finite() {
        Ok(())
    } else {
        Err(CortecsError::param(context, format!("{what} must be finite, got {x}")))
    }
}

fn positive(context: &str, what: &str, x: f64) -> Result<()> {
    if x.is_finite() && x > 0.0 {
        Ok(())
    } else {
        Err(CortecsError::param(context, format!("{what} must be > 0, got {x}")))
    }
}

/// Checks that `p` is a probability in [0, 1].
pub fn check_probability(context: &str, what: &str, p: f64) -> Result<()> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(CortecsError::param(
            context,
            format!("{what} must be a probability in [0, 1], got {p}"),
        ))
    }
}

/// Standard normal cumulative distribution function (|error| < 1.5e-7).
pub fn normal_cdf(x: f64) -> f64 {
    // Abramowitz & Stegun 7.1.26 on erf(|x|/sqrt 2).
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly =
        t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-z * z).exp();
    if x >= 0.0 { 0.5 * (1.0 + erf) } else { 0.5 * (1.0 - erf) }
}

impl Distribution {
    /// Checks the parameters; `context` names the owner for the message.
    pub fn validate(&self, context: &str) -> Result<()> {
        match *self {
            Distribution::Uniform { low, high } => {
                finite(context, "uniform low", low)?;
                finite(context, "uniform high", high)?;
                if high <= low {
                    return Err(CortecsError::param(
                        context,
                        format!("uniform needs low < high, got low = {low}, high = {high}"),
                    ));
                }
            }
            Distribution::Normal { mean, std } => {
                finite(context, "normal mean", mean)?;
                if !(std.is_finite() && std >= 0.0) {
                    return Err(CortecsError::param(
                        context,
                        format!("normal std must be >= 0, got {std}"),
                    ));
                }
            }
            Distribution::NormalClipped {
                mean,
                std,
                low,
                high,
                mode,
            } => {
                finite(context, "normal_clipped mean", mean)?;
                if !(std.is_finite() && std >= 0.0) {
                    return Err(CortecsError::param(
                        context,
                        format!("normal_clipped std must be >= 0, got {std}"),
                    ));
                }
                if low.is_nan() || high.is_nan() || low > high {
                    return Err(CortecsError::param(
                        context,
                        format!("normal_clipped needs low <= high, got low = {low}, high = {high}"),
                    ));
                }
                if mode == ClipMode::Redraw {
                    let mass = if std == 0.0 {
                        if (low..=high).contains(&mean) { 1.0 } else { 0.0 }
                    } else {
                        normal_cdf((high - mean) / std) - normal_cdf((low - mean) / std)
                    };
                    if mass < 1e-6 {
                        return Err(CortecsError::param(
                            context,
                            format!(
                                "normal_clipped: [{low}, {high}] holds only {mass:.2e} of N({mean}, {std}); redrawing would not end (use mode Clamp or wider bounds)"
                            ),
                        ));
                    }
                }
            }
            Distribution::LogNormal { mu, sigma } => {
                finite(context, "lognormal mu", mu)?;
                if !(sigma.is_finite() && sigma >= 0.0) {
                    return Err(CortecsError::param(
                        context,
                        format!("lognormal sigma must be >= 0, got {sigma}"),
                    ));
                }
            }
            Distribution::Exponential { scale } => positive(context, "exponential scale", scale)?,
            Distribution::Gamma { shape, scale } => {
                positive(context, "gamma shape", shape)?;
                positive(context, "gamma scale", scale)?;
            }
            Distribution::Beta { alpha, beta } => {
                positive(context, "beta alpha", alpha)?;
                positive(context, "beta beta", beta)?;
            }
            Distribution::Poisson { lambda } => {
                if !(lambda.is_finite() && lambda >= 0.0) {
                    return Err(CortecsError::param(
                        context,
                        format!("poisson lambda must be >= 0, got {lambda}"),
                    ));
                }
            }
            Distribution::Binomial { p, .. } => check_probability(context, "binomial p", p)?,
            Distribution::Pareto { scale, shape } => {
                positive(context, "pareto scale", scale)?;
                positive(context, "pareto shape", shape)?;
            }
            Distribution::TwoValued { p, a, b } => {
                check_probability(context, "two_valued p", p)?;
                finite(context, "two_valued a", a)?;
                finite(context, "two_valued b", b)?;
            }
            Distribution::ExponentialTruncated { scale, low, high } => {
                positive(context, "exponential_truncated scale", scale)?;
                finite(context, "exponential_truncated low", low)?;
                finite(context, "exponential_truncated high", high)?;
                if high <= low {
                    return Err(CortecsError::param(
                        context,
                        format!("exponential_truncated needs low < high, got low = {low}, high = {high}"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Exact mean of the distribution (for the clipped normal: of the
    /// truncated or clamped law, computed numerically).
    pub fn mean(&self) -> f64 {
        match *self {
            Distribution::Uniform { low, high } => 0.5 * (low + high),
            Distribution::Normal { mean, .. } => mean,
            Distribution::NormalClipped { .. } => self.clipped_moments().0,
            Distribution::LogNormal { mu, sigma } => (mu + 0.5 * sigma * sigma).exp(),
            Distribution::Exponential { scale } => scale,
            Distribution::Gamma { shape, scale } => shape * scale,
            Distribution::Beta { alpha, beta } => alpha / (alpha + beta),
            Distribution::Poisson { lambda } => lambda,
            Distribution::Binomial { n, p } => n as f64 * p,
            Distribution::Pareto { scale, shape } => {
                if shape > 1.0 {
                    shape * scale / (shape - 1.0)
                } else {
                    f64::INFINITY
                }
            }
            Distribution::TwoValued { p, a, b } => p * a + (1.0 - p) * b,
            Distribution::ExponentialTruncated { scale, low, high } => {
                low + truncated_exponential_moments(scale, high - low).0
            }
        }
    }

    /// Exact variance of the distribution.
    pub fn variance(&self) -> f64 {
        match *self {
            Distribution::Uniform { low, high } => (high - low).powi(2) / 12.0,
            Distribution::Normal { std, .. } => std * std,
            Distribution::NormalClipped { .. } => self.clipped_moments().1,
            Distribution::LogNormal { mu, sigma } => {
                let s2 = sigma * sigma;
                (s2.exp() - 1.0) * (2.0 * mu + s2).exp()
            }
            Distribution::Exponential { scale } => scale * scale,
            Distribution::Gamma { shape, scale } => shape * scale * scale,
            Distribution::Beta { alpha, beta } => {
                let s = alpha + beta;
                alpha * beta / (s * s * (s + 1.0))
            }
            Distribution::Poisson { lambda } => lambda,
            Distribution::Binomial { n, p } => n as f64 * p * (1.0 - p),
            Distribution::Pareto { scale, shape } => {
                if shape > 2.0 {
                    scale * scale * shape / ((shape - 1.0).powi(2) * (shape - 2.0))
                } else {
                    f64::INFINITY
                }
            }
            Distribution::TwoValued { p, a, b } => p * (1.0 - p) * (a - b) * (a - b),
            Distribution::ExponentialTruncated { scale, low, high } => {
                truncated_exponential_moments(scale, high - low).1
            }
        }
    }

    /// Mean and variance of a clipped normal by numerical integration.
    fn clipped_moments(&self) -> (f64, f64) {
        let Distribution::NormalClipped {
            mean,
            std,
            low,
            high,
            mode,
        } = *self
        else {
            return (self.mean(), self.variance());
        };
        if std == 0.0 {
            return (mean.clamp(low, high), 0.0);
        }
        let pdf = |x: f64| (-0.5 * ((x - mean) / std).powi(2)).exp() / (std * (2.0 * std::f64::consts::PI).sqrt());
        let a = low.max(mean - 12.0 * std);
        let b = high.min(mean + 12.0 * std);
        let n = 20_000;
        let h = (b - a) / n as f64;
        let (mut m0, mut m1, mut m2) = (0.0, 0.0, 0.0);
        for k in 0..=n {
            let x = a + h * k as f64;
            let w = if k == 0 || k == n { 0.5 } else { 1.0 };
            let f = pdf(x) * w * h;
            m0 += f;
            m1 += f * x;
            m2 += f * x * x;
        }
        match mode {
            ClipMode::Redraw => {
                let m = m1 / m0;
                (m, m2 / m0 - m * m)
            }
            ClipMode::Clamp => {
                let pl = normal_cdf((low - mean) / std);
                let ph = 1.0 - normal_cdf((high - mean) / std);
                let m = m1 + pl * low + ph * high;
                let s2 = m2 + pl * low * low + ph * high * high;
                (m, s2 - m * m)
            }
        }
    }

    /// One draw. The parameters must have been validated.
    #[inline]
    pub fn sample(&self, rng: &mut Stream) -> f64 {
        match *self {
            Distribution::Uniform { low, high } => low + (high - low) * rng.uniform(),
            Distribution::Normal { mean, std } => mean + std * standard_normal(rng),
            Distribution::NormalClipped {
                mean,
                std,
                low,
                high,
                mode,
            } => match mode {
                ClipMode::Clamp => (mean + std * standard_normal(rng)).clamp(low, high),
                ClipMode::Redraw => loop {
                    let x = mean + std * standard_normal(rng);
                    if (low..=high).contains(&x) {
                        break x;
                    }
                },
            },
            Distribution::LogNormal { mu, sigma } => (mu + sigma * standard_normal(rng)).exp(),
            Distribution::Exponential { scale } => -scale * rng.uniform_open0().ln(),
            Distribution::Gamma { shape, scale } => match rand_distr::Gamma::new(shape, scale) {
                Ok(d) => d.sample(rng),
                Err(_) => f64::NAN,
            },
            Distribution::Beta { alpha, beta } => match rand_distr::Beta::new(alpha, beta) {
                Ok(d) => d.sample(rng),
                Err(_) => f64::NAN,
            },
            Distribution::Poisson { lambda } => crate::rng::poisson(rng, lambda) as f64,
            Distribution::Binomial { n, p } => match rand_distr::Binomial::new(n, p) {
                Ok(d) => d.sample(rng) as f64,
                Err(_) => f64::NAN,
            },
            Distribution::Pareto { scale, shape } => scale * rng.uniform_open0().powf(-1.0 / shape),
            Distribution::TwoValued { p, a, b } => {
                if rng.uniform() < p {
                    a
                } else {
                    b
                }
            }
            Distribution::ExponentialTruncated { scale, low, high } => {
                // inversion of F(y) = (1 - exp(-y / scale)) / (1 - exp(-len / scale))
                let mass = -(-(high - low) / scale).exp_m1();
                let y = -scale * (-rng.uniform() * mass).ln_1p();
                (low + y).min(high)
            }
        }
    }
}

/// Draws `n` values from `dist` in fixed chunks of [`CHUNK`], in parallel,
/// identically for any number of threads.
pub fn draw(dist: &Distribution, owner: &Owner<'_>, n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n];
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, chunk)| {
        let mut rng = Stream::keyed(owner.seed, owner.name, owner.param, c as u64);
        for x in chunk {
            *x = dist.sample(&mut rng);
        }
    });
    out
}
