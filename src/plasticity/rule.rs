//! What a learning rule is: its parameters (ms, weight units, 1/ms), its
//! bounds, and which populations it needs.

use serde::{Deserialize, Serialize};

/// How a spike-timing update depends on the current weight magnitude `e`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Dependence {
    /// The change does not depend on the weight (hard bounds only; Song et al. 2000).
    #[default]
    Additive,
    /// Soft bounds (van Rossum et al. 2000): potentiation scaled by
    /// `(w_max - e) / (w_max - w_min)`, depression by `(e - w_min) / (w_max - w_min)`.
    Multiplicative,
}

/// Which spike pairs a trace sees (Morrison et al. 2008).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pairing {
    /// Every earlier spike counts: a spike adds 1 to its trace.
    #[default]
    AllToAll,
    /// Only the nearest earlier spike counts: a spike sets its trace to 1.
    Nearest,
}

/// Pair-based STDP with one trace per side (Song et al. 2000; Brian2's `STDP.py`).
///
/// A pre spike arriving at time `t` (after the projection's delay) depresses
/// by `a_minus * y(t)`; a post spike depresses nothing and potentiates by
/// `a_plus * x(t)`. `x` counts the arrived pre spikes, decaying with
/// `tau_plus`; `y` counts post spikes, decaying with `tau_minus`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Stdp {
    /// Pre trace time constant (ms).
    pub tau_plus: f64,
    /// Post trace time constant (ms).
    pub tau_minus: f64,
    /// Potentiation per pre-post pair at zero lag (weight units: mV, nS or pA).
    pub a_plus: f64,
    /// Depression per post-pre pair at zero lag (weight units, >= 0).
    pub a_minus: f64,
    /// Weight dependence.
    pub dependence: Dependence,
    /// Spike pairing.
    pub pairing: Pairing,
}

impl Default for Stdp {
    fn default() -> Stdp {
        Stdp {
            tau_plus: 20.0,
            tau_minus: 20.0,
            a_plus: 0.01,
            a_minus: 0.0105,
            dependence: Dependence::Additive,
            pairing: Pairing::AllToAll,
        }
    }
}

/// Triplet STDP, all-to-all (Pfister & Gerstner 2006). Pre traces `r1`
/// (`tau_plus`) and `r2` (`tau_x`), post traces `o1` (`tau_minus`) and `o2`
/// (`tau_y`), each adding 1 per spike. A pre arrival changes the weight by
/// `-o1 * (a2_minus + a3_minus * r2)`, a post spike by
/// `r1 * (a2_plus + a3_plus * o2)`, with `r2` and `o2` taken just before
/// their own spike is counted. Defaults: the visual-cortex fit of the paper.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Triplet {
    /// `r1` time constant (ms).
    pub tau_plus: f64,
    /// `o1` time constant (ms).
    pub tau_minus: f64,
    /// `r2` time constant (ms).
    pub tau_x: f64,
    /// `o2` time constant (ms).
    pub tau_y: f64,
    /// Pair potentiation (weight units).
    pub a2_plus: f64,
    /// Triplet potentiation (weight units).
    pub a3_plus: f64,
    /// Pair depression (weight units).
    pub a2_minus: f64,
    /// Triplet depression (weight units).
    pub a3_minus: f64,
}

impl Default for Triplet {
    fn default() -> Triplet {
        Triplet {
            tau_plus: 16.8,
            tau_minus: 33.7,
            tau_x: 101.0,
            tau_y: 125.0,
            a2_plus: 5e-10,
            a3_plus: 6.2e-3,
            a2_minus: 7e-3,
            a3_minus: 2.3e-4,
        }
    }
}

/// Reward-modulated STDP with an eligibility trace (Izhikevich 2007;
/// Frémaux & Gerstner 2016): pair STDP (additive, all-to-all) writes into a
/// per-synapse eligibility `c` that decays with `tau_c`; each step the weight
/// moves by `eta * M * c * dt`, `M` the projection's modulator (set by a host
/// system or a scene; 0 until set).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RewardStdp {
    /// Pre trace time constant (ms).
    pub tau_plus: f64,
    /// Post trace time constant (ms).
    pub tau_minus: f64,
    /// Eligibility per pre-post pair at zero lag.
    pub a_plus: f64,
    /// Eligibility decrease per post-pre pair at zero lag (>= 0).
    pub a_minus: f64,
    /// Eligibility time constant (ms).
    pub tau_c: f64,
    /// Learning rate (1/ms per unit of modulator).
    pub eta: f64,
}

impl Default for RewardStdp {
    fn default() -> RewardStdp {
        RewardStdp {
            tau_plus: 20.0,
            tau_minus: 20.0,
            a_plus: 1.0,
            a_minus: 1.5,
            tau_c: 1000.0,
            eta: 1e-3,
        }
    }
}

/// Hebbian learning with decay on rates: `dw/dt = eta * r_post * r_pre - decay * w`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Hebbian {
    /// Learning rate (1/ms per unit rate squared).
    pub eta: f64,
    /// Weight decay (1/ms).
    pub decay: f64,
}

impl Default for Hebbian {
    fn default() -> Hebbian {
        Hebbian { eta: 1e-3, decay: 0.0 }
    }
}

/// Oja's rule: `dw/dt = eta * r_post * (r_pre - r_post * w)` (a Hebbian rule
/// whose weight vector per post neuron converges to unit norm).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Oja {
    /// Learning rate (1/ms per unit rate squared).
    pub eta: f64,
}

impl Default for Oja {
    fn default() -> Oja {
        Oja { eta: 1e-3 }
    }
}

/// BCM (Bienenstock, Cooper & Munro 1982, Intrator & Cooper's form):
/// `dw/dt = eta * r_pre * r_post * (r_post - theta)`, with a sliding threshold per
/// post neuron `tau_theta * dtheta/dt = r_post^2 - theta`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Bcm {
    /// Learning rate (1/ms per unit rate cubed).
    pub eta: f64,
    /// Threshold time constant (ms).
    pub tau_theta: f64,
    /// Threshold at the start (rate squared).
    pub theta_init: f64,
}

impl Default for Bcm {
    fn default() -> Bcm {
        Bcm {
            eta: 1e-3,
            tau_theta: 100.0,
            theta_init: 0.0,
        }
    }
}

/// Where the error of an error-driven rule comes from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum ErrorSource {
    /// Written per post neuron by a host system or a scene action (0 until set).
    #[default]
    Host,
    /// The rates of this population (one neuron per post neuron, same batch).
    Population(#[serde(deserialize_with = "crate::io::de_string")] String),
}

/// Prescribed Error Sensitivity (Nengo's PES): `dw/dt = -eta * e_post * r_pre`,
/// `e` the error per post neuron.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Pes {
    /// Learning rate (1/ms per unit error and rate).
    pub eta: f64,
    /// Where the error comes from.
    pub error: ErrorSource,
}

impl Default for Pes {
    fn default() -> Pes {
        Pes {
            eta: 1e-3,
            error: ErrorSource::Host,
        }
    }
}

/// Homeostatic synaptic scaling (Turrigiano 1998; van Rossum et al. 2000):
/// every `every` ms, each post neuron's incoming weights are multiplied by
/// `1 + eta * every * (1 - rate / target)`, `rate` its activity low-passed
/// with `tau_rate` (Hz for spiking neurons, the rate itself for rate units).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scaling {
    /// Target activity (Hz for spiking post neurons, rate units otherwise); > 0.
    pub target: f64,
    /// Time constant of the activity estimate (ms).
    pub tau_rate: f64,
    /// Scaling rate (1/ms).
    pub eta: f64,
    /// Interval between scalings (ms, a whole number of steps).
    pub every: f64,
}

impl Default for Scaling {
    fn default() -> Scaling {
        Scaling {
            target: 5.0,
            tau_rate: 1000.0,
            eta: 1e-4,
            every: 10.0,
        }
    }
}

/// A local learning rule of one projection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Rule {
    /// Pair-based STDP (spiking pre and post).
    Stdp(Stdp),
    /// Triplet STDP (spiking pre and post).
    Triplet(Triplet),
    /// Reward-modulated STDP with eligibility traces (spiking pre and post).
    RewardStdp(RewardStdp),
    /// Hebbian with decay (rate pre and post).
    Hebbian(Hebbian),
    /// Oja's rule (rate pre and post).
    Oja(Oja),
    /// BCM with a sliding threshold (rate pre and post).
    Bcm(Bcm),
    /// Error-driven PES (rate pre and post).
    Pes(Pes),
    /// Homeostatic synaptic scaling (any post).
    Scaling(Scaling),
}

/// What kind of populations a rule needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// Spiking pre and post populations.
    Spiking,
    /// Rate pre and post populations.
    Rate,
    /// Any post population.
    Any,
}

impl Rule {
    /// The rule's name as scenes write it.
    pub fn name(&self) -> &'static str {
        match self {
            Rule::Stdp(_) => "Stdp",
            Rule::Triplet(_) => "Triplet",
            Rule::RewardStdp(_) => "RewardStdp",
            Rule::Hebbian(_) => "Hebbian",
            Rule::Oja(_) => "Oja",
            Rule::Bcm(_) => "Bcm",
            Rule::Pes(_) => "Pes",
            Rule::Scaling(_) => "Scaling",
        }
    }

    /// The populations the rule needs.
    pub fn needs(&self) -> Needs {
        match self {
            Rule::Stdp(_) | Rule::Triplet(_) | Rule::RewardStdp(_) => Needs::Spiking,
            Rule::Hebbian(_) | Rule::Oja(_) | Rule::Bcm(_) | Rule::Pes(_) => Needs::Rate,
            Rule::Scaling(_) => Needs::Any,
        }
    }

    /// Every parameter with its name and whether it must be positive (else >= 0).
    fn params(&self) -> Vec<(&'static str, f64, bool)> {
        match self {
            Rule::Stdp(s) => vec![
                ("tau_plus", s.tau_plus, true),
                ("tau_minus", s.tau_minus, true),
                ("a_plus", s.a_plus, false),
                ("a_minus", s.a_minus, false),
            ],
            Rule::Triplet(t) => vec![
                ("tau_plus", t.tau_plus, true),
                ("tau_minus", t.tau_minus, true),
                ("tau_x", t.tau_x, true),
                ("tau_y", t.tau_y, true),
                ("a2_plus", t.a2_plus, false),
                ("a3_plus", t.a3_plus, false),
                ("a2_minus", t.a2_minus, false),
                ("a3_minus", t.a3_minus, false),
            ],
            Rule::RewardStdp(r) => vec![
                ("tau_plus", r.tau_plus, true),
                ("tau_minus", r.tau_minus, true),
                ("a_plus", r.a_plus, false),
                ("a_minus", r.a_minus, false),
                ("tau_c", r.tau_c, true),
                ("eta", r.eta, false),
            ],
            Rule::Hebbian(h) => vec![("eta", h.eta, false), ("decay", h.decay, false)],
            Rule::Oja(o) => vec![("eta", o.eta, false)],
            Rule::Bcm(b) => vec![
                ("eta", b.eta, false),
                ("tau_theta", b.tau_theta, true),
                ("theta_init", b.theta_init, false),
            ],
            Rule::Pes(p) => vec![("eta", p.eta, false)],
            Rule::Scaling(s) => vec![
                ("target", s.target, true),
                ("tau_rate", s.tau_rate, true),
                ("eta", s.eta, false),
                ("every", s.every, true),
            ],
        }
    }

    /// Checks every parameter is finite and in range; `Err((param, message))`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        for (name, v, positive) in self.params() {
            if !v.is_finite() || v < 0.0 || (positive && v == 0.0) {
                let need = if positive { "> 0" } else { ">= 0" };
                return Err((name.to_string(), format!("must be finite and {need}, got {v}")));
            }
        }
        Ok(())
    }
}

/// A learning rule with the bounds of the weights it changes.
///
/// Under Dale's law the rule changes the weight's magnitude `e = |w|` and the
/// bounds are magnitudes (`0 <= w_min <= w_max`): an inhibitory synapse that
/// potentiates becomes more inhibitory, and no weight ever changes sign (a
/// weight that would cross stops at 0 or at `w_min`). Without Dale's law the
/// rule changes the signed weight, the bounds are signed, and the synapse's
/// sign follows its weight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Learning {
    /// The rule.
    pub rule: Rule,
    /// Lower bound (weight units; default 0).
    #[serde(default)]
    pub w_min: f64,
    /// Upper bound (weight units; `None`: unbounded).
    #[serde(default)]
    pub w_max: Option<f64>,
}

impl Learning {
    /// `rule` with bounds `[0, w_max]`.
    pub fn new(rule: Rule, w_max: f64) -> Learning {
        Learning {
            rule,
            w_min: 0.0,
            w_max: Some(w_max),
        }
    }

    /// `rule` unbounded above, bounded below by 0.
    pub fn unbounded(rule: Rule) -> Learning {
        Learning {
            rule,
            w_min: 0.0,
            w_max: None,
        }
    }

    /// Sets the lower bound.
    pub fn w_min(mut self, w_min: f64) -> Learning {
        self.w_min = w_min;
        self
    }

    /// The upper bound as a number (`f32::MAX` when unbounded).
    pub fn upper(&self) -> f64 {
        self.w_max.unwrap_or(f64::from(f32::MAX))
    }

    /// Checks the rule and the bounds (`dale`: the projection keeps Dale's law).
    pub fn validate(&self, dale: bool) -> Result<(), (String, String)> {
        self.rule.validate()?;
        let hi = self.upper();
        if !self.w_min.is_finite() || !hi.is_finite() || self.w_min > hi {
            return Err((
                "w_min".into(),
                format!("bounds must be finite with w_min <= w_max, got [{}, {hi}]", self.w_min),
            ));
        }
        if dale && self.w_min < 0.0 {
            return Err((
                "w_min".into(),
                format!(
                    "under Dale's law the bounds are magnitudes (>= 0), got w_min = {}",
                    self.w_min
                ),
            ));
        }
        if self.w_min.abs() > f64::from(f32::MAX) || hi.abs() > f64::from(f32::MAX) {
            return Err((
                "w_max".into(),
                format!("bounds must fit in f32, got [{}, {hi}]", self.w_min),
            ));
        }
        if let (Rule::Stdp(s), None) = (&self.rule, self.w_max)
            && s.dependence == Dependence::Multiplicative
        {
            return Err(("w_max".into(), "multiplicative STDP needs a finite w_max".into()));
        }
        if let Rule::Stdp(s) = &self.rule
            && s.dependence == Dependence::Multiplicative
            && hi <= self.w_min
        {
            return Err(("w_max".into(), "multiplicative STDP needs w_max > w_min".into()));
        }
        Ok(())
    }
}
