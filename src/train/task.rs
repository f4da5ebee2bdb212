//! Task generators in the style of neurogym (seeded, timing in ms, the time
//! step from the network) with trial metadata and an accuracy function.

use super::{Objective, Real};
use crate::error::{CortecsError, Result};
use crate::rng::{Stream, standard_normal};
use ndarray::{Array2, Array3};
use serde::{Deserialize, Serialize};

/// One batch of trials: inputs, the class per step, a loss mask and metadata.
#[derive(Clone, Debug)]
pub struct TaskBatch {
    /// Inputs (steps, batch, n_in).
    pub u: Array3<f32>,
    /// Correct output class per (step, trial).
    pub labels: Array2<usize>,
    /// Loss weight per (step, trial).
    pub mask: Array2<f32>,
    /// Steps at which the choice is read (the decision period), per trial the same.
    pub decision: std::ops::Range<usize>,
    /// Per trial: (coherence in %, correct choice 0 or 1).
    pub trials: Vec<(f64, usize)>,
}

impl TaskBatch {
    /// Cross-entropy on the labels with the batch's mask.
    pub fn cross_entropy<F: Real>(&self) -> Objective<F> {
        Objective::CrossEntropy {
            labels: self.labels.clone(),
            mask: Some(self.mask.mapv(|x| F::of(f64::from(x)))),
        }
    }

    /// MSE against one-hot targets of the labels (`n_out` outputs) with the batch's mask.
    pub fn mse_one_hot<F: Real>(&self, n_out: usize) -> Objective<F> {
        let (steps, batch) = self.labels.dim();
        let target = Array3::from_shape_fn((steps, batch, n_out), |(t, b, o)| {
            if self.labels[[t, b]] == o { F::one() } else { F::zero() }
        });
        let mask = Array3::from_shape_fn((steps, batch, n_out), |(t, b, _)| F::of(f64::from(self.mask[[t, b]])));
        Objective::Mse {
            target,
            mask: Some(mask),
        }
    }

    /// The choice of each trial: argmax of the output (steps, batch, n_out) at the last decision step.
    pub fn choices<F: Real>(&self, y: &Array3<F>) -> Vec<usize> {
        let t = self.decision.end.saturating_sub(1);
        (0..y.dim().1)
            .map(|b| {
                let mut best = 0;
                for o in 1..y.dim().2 {
                    if y[[t, b, o]] > y[[t, b, best]] {
                        best = o;
                    }
                }
                best
            })
            .collect()
    }

    /// Fraction of trials whose choice equals the label at the last decision step.
    pub fn accuracy<F: Real>(&self, y: &Array3<F>) -> f64 {
        let t = self.decision.end.saturating_sub(1);
        let c = self.choices(y);
        let right = c.iter().enumerate().filter(|&(b, &o)| self.labels[[t, b]] == o).count();
        right as f64 / c.len().max(1) as f64
    }

    /// Psychometric data: per coherence (sorted), the fraction correct and the trial count.
    pub fn psychometric<F: Real>(&self, y: &Array3<F>) -> Vec<(f64, f64, usize)> {
        let t = self.decision.end.saturating_sub(1);
        let c = self.choices(y);
        let mut cohs: Vec<f64> = self.trials.iter().map(|t| t.0).collect();
        cohs.sort_by(f64::total_cmp);
        cohs.dedup();
        cohs.iter()
            .map(|&coh| {
                let idx: Vec<usize> = (0..c.len()).filter(|&b| self.trials[b].0 == coh).collect();
                let right = idx.iter().filter(|&&b| self.labels[[t, b]] == c[b]).count();
                (coh, right as f64 / idx.len().max(1) as f64, idx.len())
            })
            .collect()
    }
}

/// neurogym's `PerceptualDecisionMaking`: a fixation input (1 until the
/// decision period) and two evidence channels `0.5 +- coh / 200` plus noise
/// `sigma / sqrt(dt)` per step in the stimulus period; outputs (fixate,
/// choice 0, choice 1); the label is "fixate" until the decision period and
/// the correct choice in it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PerceptualDecision {
    /// Fixation period (ms).
    pub fixation: f64,
    /// Stimulus period (ms).
    pub stimulus: f64,
    /// Delay between stimulus and decision (ms).
    pub delay: f64,
    /// Decision period (ms).
    pub decision: f64,
    /// Coherences (%), drawn uniformly.
    pub coherences: Vec<f64>,
    /// Input noise (neurogym's `sigma`, scaled by 1 / sqrt(dt / ms)).
    pub sigma: f64,
    /// Loss weight of decision steps relative to fixation steps (1: neurogym's plain CE).
    pub decision_weight: f64,
}

impl Default for PerceptualDecision {
    fn default() -> Self {
        PerceptualDecision {
            fixation: 100.0,
            stimulus: 2000.0,
            delay: 0.0,
            decision: 100.0,
            coherences: vec![0.0, 6.4, 12.8, 25.6, 51.2],
            sigma: 1.0,
            decision_weight: 1.0,
        }
    }
}

impl PerceptualDecision {
    /// Inputs: fixation, evidence for choice 0, evidence for choice 1.
    pub const N_IN: usize = 3;
    /// Outputs: fixate, choice 0, choice 1.
    pub const N_OUT: usize = 3;

    /// Steps of each period at time step `dt` (ms): fixation, stimulus, delay, decision.
    pub fn periods(&self, dt: f64) -> Result<[usize; 4]> {
        let steps = |ms: f64, what: &str| -> Result<usize> {
            if !(ms >= 0.0 && ms.is_finite()) {
                return Err(CortecsError::InvalidParameter {
                    context: format!("task perceptual_decision.{what}"),
                    message: format!("must be >= 0 ms, got {ms}"),
                });
            }
            Ok((ms / dt).round() as usize)
        };
        let p = [
            steps(self.fixation, "fixation")?,
            steps(self.stimulus, "stimulus")?,
            steps(self.delay, "delay")?,
            steps(self.decision, "decision")?,
        ];
        if p[3] == 0 || p[1] == 0 {
            return Err(CortecsError::InvalidParameter {
                context: "task perceptual_decision".into(),
                message: format!("stimulus and decision need at least one step of dt = {dt} ms"),
            });
        }
        Ok(p)
    }

    /// `batch` trials at time step `dt` (ms), drawn from the stream keyed by (`seed`, `key`, `index`).
    pub fn batch(&self, batch: usize, dt: f64, seed: u64, key: &str, index: u64) -> Result<TaskBatch> {
        if self.coherences.is_empty() {
            return Err(CortecsError::InvalidParameter {
                context: "task perceptual_decision.coherences".into(),
                message: "is empty".into(),
            });
        }
        let [fix, stim, delay, dec] = self.periods(dt)?;
        let steps = fix + stim + delay + dec;
        let mut rng = Stream::keyed(seed, "perceptual_decision", key, index);
        let mut u = Array3::<f32>::zeros((steps, batch, Self::N_IN));
        let mut labels = Array2::<usize>::zeros((steps, batch));
        let mut mask = Array2::<f32>::ones((steps, batch));
        let noise = self.sigma / dt.sqrt();
        let decision = fix + stim + delay..steps;
        let mut trials = Vec::with_capacity(batch);
        for b in 0..batch {
            let choice = rng.below(2) as usize;
            let coh = self.coherences[rng.below(self.coherences.len() as u64) as usize];
            trials.push((coh, choice));
            for t in 0..steps {
                if t < decision.start {
                    u[[t, b, 0]] = 1.0;
                }
                if (fix..fix + stim).contains(&t) {
                    for k in 0..2 {
                        let sign = if k == choice { 1.0 } else { -1.0 };
                        u[[t, b, 1 + k]] = (0.5 + sign * coh / 200.0 + noise * standard_normal(&mut rng)) as f32;
                    }
                }
                if decision.contains(&t) {
                    labels[[t, b]] = 1 + choice;
                    mask[[t, b]] = self.decision_weight as f32;
                }
            }
        }
        Ok(TaskBatch {
            u,
            labels,
            mask,
            decision,
            trials,
        })
    }
}
