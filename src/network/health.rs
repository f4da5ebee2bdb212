//! Run-time health: state that has become NaN or infinite (runaway
//! dynamics) stops the run, or warns, naming population, neuron, variable,
//! step and time. The check is one pass over the state arrays every
//! `check_every` steps (a sum of `x * 0`, which is NaN exactly when some `x`
//! is not finite, vectorised; the offending index is searched only then).

use crate::population::{Population, PopulationState};
use serde::{Deserialize, Serialize};

/// What a run does when its state becomes non-finite.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OnNonFinite {
    /// Stop at the check that finds it, with an error (the default).
    #[default]
    Stop,
    /// Print a warning once and go on.
    Warn,
}

/// The health check of a network's run (not saved in checkpoints: a choice of the run).
#[derive(Clone, Debug, PartialEq)]
pub struct Health {
    /// Steps between checks (1: after every step; 0: never); a run call
    /// also checks after its last step, so no run ends on unchecked state.
    pub check_every: u64,
    /// Stop or warn.
    pub on_non_finite: OnNonFinite,
    /// The first non-finite value found; under [`OnNonFinite::Stop`] the
    /// network takes no further step until [`Health::clear`].
    pub fault: Option<NonFinite>,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            check_every: DEFAULT_CHECK_EVERY,
            on_non_finite: OnNonFinite::Stop,
            fault: None,
        }
    }
}

/// Steps between health checks unless set: 100, and at the end of every
/// [`crate::network::Network::run_steps`] call (each check reads every
/// state array once; checking after every step costs W1 about 14 % of its
/// step time, every 100 steps and per run call below what can be measured:
/// `benches/kernels.rs`, BENCHMARKS.md).
pub const DEFAULT_CHECK_EVERY: u64 = 100;

impl Health {
    /// True when the network must not step (a fault under `Stop`).
    pub fn stopped(&self) -> bool {
        self.fault.is_some() && self.on_non_finite == OnNonFinite::Stop
    }

    /// Forgets a fault (after the user repaired the state).
    pub fn clear(&mut self) {
        self.fault = None;
    }
}

/// A non-finite state value found by the health check.
#[derive(Clone, Debug, PartialEq)]
pub struct NonFinite {
    /// Population name.
    pub population: String,
    /// Neuron index.
    pub neuron: usize,
    /// Trial (batch) index; 0 for spiking populations.
    pub trial: usize,
    /// State variable (`v`, `r`, `g_e`, `g_i`, `w`).
    pub variable: &'static str,
    /// The value (NaN or ±inf).
    pub value: f64,
    /// Step count when found.
    pub step: u64,
    /// Biological time when found (ms).
    pub time_ms: f64,
    /// Steps between checks: the value became non-finite within this many steps before.
    pub check_every: u64,
}

impl std::fmt::Display for NonFinite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "non-finite state: population '{}', neuron {}{}, variable {} = {} at step {} (t = {} ms)",
            self.population,
            self.neuron,
            if self.trial > 0 {
                format!(" (trial {})", self.trial)
            } else {
                String::new()
            },
            self.variable,
            self.value,
            self.step,
            self.time_ms
        )?;
        if self.check_every > 1 {
            write!(f, ", found by a check every {} steps", self.check_every)?;
        }
        write!(
            f,
            "; the dynamics ran away (weights, time constants or inputs too large?)"
        )
    }
}

/// True when every value is finite (branch-free, vectorises).
fn all_finite<T>(xs: &[T]) -> bool
where
    T: Copy + Into<f64> + std::ops::Mul<Output = T> + std::ops::Add<Output = T> + Default,
{
    let zero = T::default();
    let mut acc = [zero; 8];
    let mut chunks = xs.chunks_exact(8);
    for c in &mut chunks {
        for k in 0..8 {
            acc[k] = acc[k] + c[k] * zero;
        }
    }
    let mut s = zero;
    for &x in chunks.remainder() {
        s = s + x * zero;
    }
    for a in acc {
        s = s + a;
    }
    s.into() == 0.0
}

fn first_bad<T: Copy + Into<f64>>(xs: &[T]) -> Option<(usize, f64)> {
    xs.iter().map(|&x| x.into()).enumerate().find(|(_, x)| !x.is_finite())
}

/// The first non-finite state value of `populations` (in population order,
/// then variable, then index), or `None`.
pub fn scan(populations: &[Population], step: u64, dt: f64, check_every: u64) -> Option<NonFinite> {
    for p in populations {
        let found = |variable: &'static str, index: usize, value: f64, batch: usize| NonFinite {
            population: p.name.clone(),
            neuron: index / batch,
            trial: index % batch,
            variable,
            value,
            step,
            time_ms: step as f64 * dt,
            check_every,
        };
        match &p.state {
            PopulationState::Spiking(s) => {
                for (variable, xs) in [("v", &s.v), ("g_e", &s.g_e), ("g_i", &s.g_i), ("w", &s.w)] {
                    if !all_finite(xs)
                        && let Some((i, x)) = first_bad(xs)
                    {
                        return Some(found(variable, i, x, 1));
                    }
                }
            }
            PopulationState::Rate(s) => {
                for (variable, xs) in [("v", &s.v), ("r", &s.r)] {
                    if !all_finite(xs)
                        && let Some((i, x)) = first_bad(xs)
                    {
                        return Some(found(variable, i, x, s.batch));
                    }
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_finite_finds_any_nan_or_infinity_at_any_position() {
        for n in [0usize, 1, 7, 8, 9, 33] {
            let xs = vec![1.5f64; n];
            assert!(all_finite(&xs));
            for k in 0..n {
                for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                    let mut ys = xs.clone();
                    ys[k] = bad;
                    assert!(!all_finite(&ys), "n {n} k {k} {bad}");
                    assert_eq!(first_bad(&ys).map(|(i, _)| i), Some(k));
                }
            }
        }
        assert!(all_finite(&[f32::MAX, -f32::MAX, 0.0]));
        assert!(!all_finite(&[1.0f32, f32::NAN]));
    }
}
