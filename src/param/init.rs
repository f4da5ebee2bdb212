//! Initialisers by fan-in and fan-out ([`Init`], nn4n's and torch's names)
//! and bias initialisers ([`BiasInit`], nn4n's `biases`).
//!
//! An initialiser is a distribution whose scale follows from the size of
//! the weight matrix: for a projection, `W` is post x pre (`y = W r`), so,
//! as torch's `_calculate_fan_in_and_fan_out` reads a 2-D weight,
//! `fan_in = n_pre` (columns) and `fan_out = n_post` (rows), whatever the
//! connection rule. The network resolves it into a [`Distribution`] when
//! the projection is built ([`Init::distribution`]).

use super::Distribution;
use crate::error::{CortecsError, Result};
use serde::{Deserialize, Serialize};

fn one() -> f64 {
    1.0
}

/// Which fan a He/Kaiming initialiser divides by (torch's `mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum FanMode {
    /// `fan_in` (torch's default): keeps the variance of the forward pass.
    #[default]
    FanIn,
    /// `fan_out`: keeps the variance of the backward pass.
    FanOut,
}

/// The gain of a nonlinearity (torch's `calculate_gain`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
pub enum Gain {
    /// Identity, linear, sigmoid: 1.
    Linear,
    /// tanh: 5/3.
    Tanh,
    /// ReLU: sqrt(2) (torch's Kaiming default, leaky ReLU with slope 0).
    #[default]
    Relu,
    /// Leaky ReLU with this negative slope: sqrt(2 / (1 + slope^2)).
    LeakyRelu(f64),
    /// SELU: 3/4.
    Selu,
    /// An explicit gain.
    Value(f64),
}

impl Gain {
    /// The gain as a number.
    pub fn value(self) -> f64 {
        match self {
            Gain::Linear => 1.0,
            Gain::Tanh => 5.0 / 3.0,
            Gain::Relu => std::f64::consts::SQRT_2,
            Gain::LeakyRelu(a) => (2.0 / (1.0 + a * a)).sqrt(),
            Gain::Selu => 0.75,
            Gain::Value(g) => g,
        }
    }
}

/// A weight initialiser scaled by the fans of the weight matrix (nn4n,
/// torch.nn.init). `gain` multiplies the scale (standard deviation or
/// bound) everywhere; it defaults to 1.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Init {
    /// nn4n's `"uniform"` (and torch's `nn.Linear` default): U(-b, b),
    /// `b = gain / sqrt(fan_in)`.
    FanInUniform {
        /// Multiplies the bound.
        #[serde(default = "one")]
        gain: f64,
    },
    /// nn4n's `"normal"`: N(0, std²), `std = gain / sqrt(fan_in)`.
    FanInNormal {
        /// Multiplies the standard deviation.
        #[serde(default = "one")]
        gain: f64,
    },
    /// Xavier/Glorot uniform (torch's `xavier_uniform_`): U(-b, b),
    /// `b = gain * sqrt(6 / (fan_in + fan_out))`.
    XavierUniform {
        /// torch's `gain`.
        #[serde(default = "one")]
        gain: f64,
    },
    /// Xavier/Glorot normal (torch's `xavier_normal_`): N(0, std²),
    /// `std = gain * sqrt(2 / (fan_in + fan_out))`.
    XavierNormal {
        /// torch's `gain`.
        #[serde(default = "one")]
        gain: f64,
    },
    /// He/Kaiming uniform (torch's `kaiming_uniform_`): U(-b, b),
    /// `b = gain * sqrt(3 / fan)`, `gain` of the nonlinearity.
    KaimingUniform {
        /// Which fan.
        #[serde(default)]
        mode: FanMode,
        /// The nonlinearity's gain (torch's default: leaky ReLU with slope 0, sqrt 2).
        #[serde(default)]
        nonlinearity: Gain,
    },
    /// He/Kaiming normal (torch's `kaiming_normal_`): N(0, std²),
    /// `std = gain / sqrt(fan)`.
    KaimingNormal {
        /// Which fan.
        #[serde(default)]
        mode: FanMode,
        /// The nonlinearity's gain.
        #[serde(default)]
        nonlinearity: Gain,
    },
    /// LeCun uniform: U(-b, b), `b = gain * sqrt(3 / fan_in)` (variance `gain² / fan_in`).
    LeCunUniform {
        /// Multiplies the bound.
        #[serde(default = "one")]
        gain: f64,
    },
    /// LeCun normal: N(0, std²), `std = gain / sqrt(fan_in)` (untruncated;
    /// the same law as nn4n's `"normal"`).
    LeCunNormal {
        /// Multiplies the standard deviation.
        #[serde(default = "one")]
        gain: f64,
    },
}

impl Init {
    /// A short name for messages and summaries.
    pub fn name(&self) -> &'static str {
        match self {
            Init::FanInUniform { .. } => "fan_in_uniform",
            Init::FanInNormal { .. } => "fan_in_normal",
            Init::XavierUniform { .. } => "xavier_uniform",
            Init::XavierNormal { .. } => "xavier_normal",
            Init::KaimingUniform { .. } => "kaiming_uniform",
            Init::KaimingNormal { .. } => "kaiming_normal",
            Init::LeCunUniform { .. } => "lecun_uniform",
            Init::LeCunNormal { .. } => "lecun_normal",
        }
    }

    /// Checks the gain (finite, > 0); `context` names the owner.
    pub fn validate(&self, context: &str) -> Result<()> {
        let gain = match *self {
            Init::FanInUniform { gain }
            | Init::FanInNormal { gain }
            | Init::XavierUniform { gain }
            | Init::XavierNormal { gain }
            | Init::LeCunUniform { gain }
            | Init::LeCunNormal { gain } => gain,
            Init::KaimingUniform { nonlinearity, .. } | Init::KaimingNormal { nonlinearity, .. } => {
                nonlinearity.value()
            }
        };
        if gain.is_finite() && gain > 0.0 {
            Ok(())
        } else {
            Err(CortecsError::param(
                context,
                format!("{}: gain must be finite and > 0, got {gain}", self.name()),
            ))
        }
    }

    /// The distribution for a weight matrix with `fan_in` columns and
    /// `fan_out` rows; an error when a fan it divides by is 0.
    pub fn distribution(&self, context: &str, fan_in: usize, fan_out: usize) -> Result<Distribution> {
        self.validate(context)?;
        let (fi, fo) = (fan_in as f64, fan_out as f64);
        let need = |fan: f64, what: &str| -> Result<f64> {
            if fan > 0.0 {
                Ok(fan)
            } else {
                Err(CortecsError::param(
                    context,
                    format!(
                        "{} needs {what} > 0, the weight matrix has {fan_out} x {fan_in}",
                        self.name()
                    ),
                ))
            }
        };
        let uniform = |b: f64| Distribution::Uniform { low: -b, high: b };
        let normal = |std: f64| Distribution::Normal { mean: 0.0, std };
        let fan = |mode: FanMode| match mode {
            FanMode::FanIn => need(fi, "fan_in"),
            FanMode::FanOut => need(fo, "fan_out"),
        };
        Ok(match *self {
            Init::FanInUniform { gain } => uniform(gain / need(fi, "fan_in")?.sqrt()),
            Init::FanInNormal { gain } | Init::LeCunNormal { gain } => normal(gain / need(fi, "fan_in")?.sqrt()),
            Init::XavierUniform { gain } => uniform(gain * (6.0 / need(fi + fo, "fan_in + fan_out")?).sqrt()),
            Init::XavierNormal { gain } => normal(gain * (2.0 / need(fi + fo, "fan_in + fan_out")?).sqrt()),
            Init::KaimingUniform { mode, nonlinearity } => uniform(nonlinearity.value() * (3.0 / fan(mode)?).sqrt()),
            Init::KaimingNormal { mode, nonlinearity } => normal(nonlinearity.value() / fan(mode)?.sqrt()),
            Init::LeCunUniform { gain } => uniform(gain * (3.0 / need(fi, "fan_in")?).sqrt()),
        })
    }
}

/// A bias initialiser (nn4n's `biases`): `None` and `Zero` give 0, `Normal`
/// gives N(0, 1 / fan_in) and `Uniform` U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
/// `fan_in` the number of inputs of each neuron's layer as nn4n counts it
/// (its weight matrix's columns).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BiasInit {
    /// No bias (nn4n's `None`): 0.
    None,
    /// 0.
    Zero,
    /// N(0, 1 / fan_in).
    Normal {
        /// Inputs per neuron (> 0).
        fan_in: usize,
    },
    /// U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    Uniform {
        /// Inputs per neuron (> 0).
        fan_in: usize,
    },
}

impl BiasInit {
    /// The parameter value it gives (`context` names the owner in errors).
    pub fn value(&self, context: &str) -> Result<super::Value> {
        let fan = |f: usize| -> Result<f64> {
            if f > 0 {
                Ok(f as f64)
            } else {
                Err(CortecsError::param(context, "bias initialiser needs fan_in > 0, got 0"))
            }
        };
        Ok(match *self {
            BiasInit::None | BiasInit::Zero => super::Value::Const(0.0),
            BiasInit::Normal { fan_in } => super::Value::Random(Distribution::Normal {
                mean: 0.0,
                std: 1.0 / fan(fan_in)?.sqrt(),
            }),
            BiasInit::Uniform { fan_in } => {
                let b = 1.0 / fan(fan_in)?.sqrt();
                super::Value::Random(Distribution::Uniform { low: -b, high: b })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(d: &Distribution) -> f64 {
        d.variance()
    }

    #[test]
    fn variances_match_torch_formulas() {
        let (fi, fo) = (300usize, 100usize);
        let v = |i: Init| var(&i.distribution("w", fi, fo).unwrap());
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12 * b.abs(), "{a} vs {b}");
        close(v(Init::FanInUniform { gain: 1.0 }), 1.0 / (3.0 * 300.0));
        close(v(Init::FanInNormal { gain: 1.0 }), 1.0 / 300.0);
        close(v(Init::XavierUniform { gain: 1.0 }), 2.0 / 400.0);
        close(v(Init::XavierNormal { gain: 2.0 }), 4.0 * 2.0 / 400.0);
        let relu = Init::KaimingNormal {
            mode: FanMode::FanIn,
            nonlinearity: Gain::Relu,
        };
        close(v(relu), 2.0 / 300.0);
        let out = Init::KaimingUniform {
            mode: FanMode::FanOut,
            nonlinearity: Gain::Tanh,
        };
        close(v(out), 25.0 / 9.0 / 100.0);
        close(v(Init::LeCunUniform { gain: 1.0 }), 1.0 / 300.0);
        close(Gain::LeakyRelu(0.5).value(), (2.0f64 / 1.25).sqrt());
    }

    #[test]
    fn zero_fans_and_bad_gains_are_errors() {
        let e = Init::XavierUniform { gain: 1.0 }
            .distribution("p.weight", 0, 0)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "p.weight: xavier_uniform needs fan_in + fan_out > 0, the weight matrix has 0 x 0"
        );
        let e = Init::FanInNormal { gain: -1.0 }.validate("p.weight").unwrap_err();
        assert_eq!(
            e.to_string(),
            "p.weight: fan_in_normal: gain must be finite and > 0, got -1"
        );
        assert!(BiasInit::Normal { fan_in: 0 }.value("h.bias").is_err());
    }
}
