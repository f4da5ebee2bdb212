//! Structural plasticity: synapses that grow where none exists and synapses
//! that are pruned after their weight stayed small. The parameters, the
//! state a rewiring projection keeps, and the pure sampling and counting
//! kernels; the network floor applies the changes through the projection's
//! edit path (masks, Dale's law, change log).
//!
//! Spike delivery stays exact: a rewiring spiking projection delivers a
//! spike when it arrives, with the synapses that exist then, so a spike in
//! flight to a pruned synapse is dropped; a grown synapse is silent for the
//! arrivals of spikes emitted before it grew (it is "young" for `delay`
//! steps) and delivers every spike emitted after.

use crate::rng::Stream;
use crate::store::{REMOVED, SynapseStore};
use serde::{Deserialize, Serialize};

/// How likely an absent, allowed synapse is to grow at one growth event.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum GrowthProbability {
    /// The projection's growth mask (post x pre).
    Mask,
    /// The same probability for every pair.
    Constant(f64),
    /// `p * exp(-d^2 / (2 sigma^2))`, `d` the pre-post distance (µm).
    Gaussian {
        /// Probability at distance 0.
        p: f64,
        /// Width (µm).
        sigma: f64,
    },
    /// `p * exp(-d / lambda)` (µm).
    Exponential {
        /// Probability at distance 0.
        p: f64,
        /// Length constant (µm).
        lambda: f64,
    },
}

impl GrowthProbability {
    /// The largest probability the rule can give (the mask's largest entry for `Mask`).
    pub fn max(&self, mask_max: f64) -> f64 {
        match *self {
            GrowthProbability::Mask => mask_max,
            GrowthProbability::Constant(p)
            | GrowthProbability::Gaussian { p, .. }
            | GrowthProbability::Exponential { p, .. } => p,
        }
    }

    /// The probability at distance `d` (µm); `mask` for `Mask`.
    #[inline]
    pub fn at(&self, d: impl FnOnce() -> f64, mask: impl FnOnce() -> f64) -> f64 {
        match *self {
            GrowthProbability::Mask => mask(),
            GrowthProbability::Constant(p) => p,
            GrowthProbability::Gaussian { p, sigma } => {
                let d = d();
                p * (-d * d / (2.0 * sigma * sigma)).exp()
            }
            GrowthProbability::Exponential { p, lambda } => p * (-d() / lambda).exp(),
        }
    }

    /// True when the rule reads distances.
    pub fn uses_distance(&self) -> bool {
        matches!(
            self,
            GrowthProbability::Gaussian { .. } | GrowthProbability::Exponential { .. }
        )
    }
}

/// Synapse growth on a projection.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Growth {
    /// Time between growth events (ms, a whole number of steps); 0: only
    /// when asked (`Network::grow`, a scene's `Grow` action).
    #[serde(default)]
    pub every: f64,
    /// Probability per event of each absent synapse the masks allow.
    pub probability: GrowthProbability,
    /// Weight of a new synapse (its magnitude under Dale's law: the sign is
    /// the pre neuron's polarity or the E/I mask's; weight units).
    pub weight: f64,
}

/// Synapse pruning on a projection.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pruning {
    /// Time between checks (ms, a whole number of steps).
    pub every: f64,
    /// A synapse is small while `|w| < threshold` (weight units).
    pub threshold: f64,
    /// A synapse found small at every check over this time (ms, a whole
    /// number of checks) is removed. Fixed synapses (learning factor 0)
    /// are never pruned.
    pub after: f64,
}

impl Growth {
    /// Checks the parameters (`(parameter, message)` on error).
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |p: &str, m: String| Err((p.to_string(), m));
        if !(self.every.is_finite() && self.every >= 0.0) {
            return bad("every", format!("must be finite and >= 0 ms, got {}", self.every));
        }
        if !self.weight.is_finite() || self.weight.abs() > f64::from(f32::MAX) {
            return bad("weight", format!("must be finite and fit in f32, got {}", self.weight));
        }
        let p = self.probability.max(0.0);
        if !(0.0..=1.0).contains(&p) {
            return bad("probability", format!("must be in [0, 1], got {p}"));
        }
        match self.probability {
            GrowthProbability::Gaussian { sigma, .. } if !(sigma.is_finite() && sigma > 0.0) => {
                bad("probability.sigma", format!("must be finite and > 0 µm, got {sigma}"))
            }
            GrowthProbability::Exponential { lambda, .. } if !(lambda.is_finite() && lambda > 0.0) => {
                bad("probability.lambda", format!("must be finite and > 0 µm, got {lambda}"))
            }
            _ => Ok(()),
        }
    }
}

impl Pruning {
    /// Checks the parameters (`(parameter, message)` on error).
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |p: &str, m: String| Err((p.to_string(), m));
        if !(self.every.is_finite() && self.every > 0.0) {
            return bad("every", format!("must be finite and > 0 ms, got {}", self.every));
        }
        if !(self.threshold.is_finite() && self.threshold >= 0.0) {
            return bad("threshold", format!("must be finite and >= 0, got {}", self.threshold));
        }
        if !(self.after.is_finite() && self.after >= self.every) {
            return bad(
                "after",
                format!("must be finite and >= every ({} ms), got {}", self.every, self.after),
            );
        }
        let checks = self.after / self.every;
        if (checks - checks.round()).abs() > 1e-9 * checks.max(1.0) || checks.round() > f64::from(u16::MAX) {
            return bad(
                "after",
                format!(
                    "must be a whole number (at most 65535) of checks of {} ms, got {} ms ({checks} checks)",
                    self.every, self.after
                ),
            );
        }
        Ok(())
    }

    /// Consecutive small checks after which a synapse is removed.
    pub fn checks(&self) -> u16 {
        (self.after / self.every).round() as u16
    }
}

/// What a rewiring projection keeps: event counters, the small-weight
/// counter per synapse (with pruning) and the young synapses.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Rewiring {
    /// Growth events so far (each keys its own random stream).
    pub growth_events: u64,
    /// Steps since the last growth event.
    pub since_growth: u64,
    /// Steps since the last pruning check.
    pub since_pruning: u64,
    /// Whether the projection prunes (then `small` has one counter per slot).
    pub counting: bool,
    /// Per slot: consecutive checks that found it small (empty without pruning).
    pub small: Vec<u16>,
    /// Grown spiking synapses that still ignore older spikes: `(slot, step)`,
    /// delivering spikes emitted in `step` and later.
    pub young: Vec<(usize, u64)>,
}

impl Rewiring {
    /// A fresh state for `synapses` slots (`pruning`: keep the counters).
    pub fn new(synapses: usize, pruning: bool) -> Rewiring {
        Rewiring {
            counting: pruning,
            small: if pruning { vec![0; synapses] } else { Vec::new() },
            ..Rewiring::default()
        }
    }

    /// Follows a layout change (`map[old] = new`, `usize::MAX`: removed).
    pub(crate) fn relayout(&mut self, map: &[usize], new_len: usize) {
        if self.counting {
            let mut fresh = vec![0u16; new_len];
            for (old, &new) in map.iter().enumerate() {
                if let (Some(f), Some(&c)) = (fresh.get_mut(new), self.small.get(old)) {
                    *f = c;
                }
            }
            self.small = fresh;
        }
        self.young.retain_mut(|(k, _)| match map.get(*k) {
            Some(&new) if new != usize::MAX => {
                *k = new;
                true
            }
            _ => false,
        });
    }
}

/// The pairs `(pre, post)` one growth event proposes, before the masks and
/// existing synapses are checked: every pair of the `n_pre x n_post` grid
/// with probability `p(pre, post)`, sampled by geometric skips at `p_max`
/// and thinning (O(expected proposals), not O(pairs)). `p` must not exceed
/// `p_max`.
pub fn propose(
    rng: &mut Stream,
    n_pre: usize,
    n_post: usize,
    p_max: f64,
    mut p: impl FnMut(u32, u32) -> f64,
) -> Vec<(u32, u32)> {
    let total = (n_pre as u64) * (n_post as u64);
    let mut out = Vec::new();
    if p_max <= 0.0 || total == 0 {
        return out;
    }
    let log_q = (-p_max).ln_1p();
    let mut at: u64 = 0;
    loop {
        if p_max < 1.0 {
            let skip = (rng.uniform_open0().ln() / log_q).floor();
            if !skip.is_finite() || skip >= (total - at) as f64 {
                break;
            }
            at += skip as u64;
        }
        if at >= total {
            break;
        }
        let (pre, post) = ((at / n_post as u64) as u32, (at % n_post as u64) as u32);
        let q = p(pre, post);
        if q >= p_max || rng.uniform() * p_max < q {
            out.push((pre, post));
        }
        at += 1;
    }
    out
}

/// One pruning check over `store`: counts each live learning synapse
/// (factor > 0) that is small (`|w| < threshold`), resets the others, and
/// returns the slots small for `checks` consecutive checks.
pub fn count_small(store: &SynapseStore, small: &mut [u16], threshold: f64, checks: u16) -> Vec<usize> {
    let mut out = Vec::new();
    let t = threshold as f32;
    for (k, c) in small.iter_mut().enumerate() {
        if store.sign[k] == REMOVED || store.plasticity.get(k) == 0.0 || store.weight[k].abs() >= t {
            *c = 0;
            continue;
        }
        *c = c.saturating_add(1);
        if *c >= checks {
            out.push(k);
        }
    }
    out
}
