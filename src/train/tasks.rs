//! The other neurogym-style tasks (go/no-go, delayed match-to-sample,
//! context-dependent integration, parametric working memory) and [`Task`],
//! the choice of task of a training run. Timing in ms, one seeded stream
//! per batch; outputs are (fixate, choice 1, ...) with the label "fixate"
//! (0) until the decision period.

use super::{PerceptualDecision, TaskBatch};
use crate::error::{CortecsError, Result};
use crate::rng::{Stream, standard_normal};
use ndarray::{Array2, Array3};
use serde::{Deserialize, Serialize};

fn steps_of(task: &str, periods: &[(&str, f64)], dt: f64) -> Result<Vec<usize>> {
    periods
        .iter()
        .map(|&(what, ms)| {
            if !(ms >= 0.0 && ms.is_finite()) {
                return Err(CortecsError::InvalidParameter {
                    context: format!("task {task}.{what}"),
                    message: format!("must be >= 0 ms, got {ms}"),
                });
            }
            Ok((ms / dt).round() as usize)
        })
        .collect()
}

/// A batch under construction: period boundaries in steps, inputs, labels, mask.
struct Frame {
    starts: Vec<usize>,
    u: Array3<f32>,
    labels: Array2<usize>,
    mask: Array2<f32>,
    noise: f64,
}

impl Frame {
    fn new(task: &str, periods: &[(&str, f64)], dt: f64, batch: usize, n_in: usize, sigma: f64) -> Result<Frame> {
        let s = steps_of(task, periods, dt)?;
        if s.last() == Some(&0) {
            return Err(CortecsError::InvalidParameter {
                context: format!("task {task}"),
                message: format!("the decision period needs at least one step of dt = {dt} ms"),
            });
        }
        let mut starts = vec![0];
        for x in &s {
            starts.push(starts.last().copied().unwrap_or(0) + x);
        }
        let steps = *starts.last().unwrap_or(&0);
        Ok(Frame {
            starts,
            u: Array3::zeros((steps, batch, n_in)),
            labels: Array2::zeros((steps, batch)),
            mask: Array2::ones((steps, batch)),
            noise: sigma / dt.sqrt(),
        })
    }
    fn range(&self, period: usize) -> std::ops::Range<usize> {
        self.starts[period]..self.starts[period + 1]
    }
    /// Fixation input 1 until the last (decision) period; label and weight in it.
    fn fix_and_decide(&mut self, b: usize, label: usize, weight: f64) {
        let dec = self.range(self.starts.len() - 2);
        for t in 0..dec.start {
            self.u[[t, b, 0]] = 1.0;
        }
        for t in dec {
            self.labels[[t, b]] = label;
            self.mask[[t, b]] = weight as f32;
        }
    }
    /// `value` (+ noise) on channel `c` through period `p`.
    fn put(&mut self, b: usize, p: usize, c: usize, value: f64, rng: &mut Stream) {
        for t in self.range(p) {
            self.u[[t, b, c]] = (value + self.noise * standard_normal(rng)) as f32;
        }
    }
    fn finish(self, trials: Vec<(f64, usize)>) -> TaskBatch {
        let decision = self.range(self.starts.len() - 2);
        TaskBatch {
            u: self.u,
            labels: self.labels,
            mask: self.mask,
            decision,
            trials,
        }
    }
}

/// Go/no-go: a go or no-go cue (one-hot on inputs 1, 2) in the stimulus
/// period; after a delay, answer "go" (output 1) on go trials and keep fixating
/// (output 0) on no-go trials. Metadata: (1 go / 0 no-go, correct output).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GoNoGo {
    /// Fixation (ms).
    pub fixation: f64,
    /// Cue (ms).
    pub stimulus: f64,
    /// Delay (ms).
    pub delay: f64,
    /// Decision (ms).
    pub decision: f64,
    /// Input noise (scaled by 1 / sqrt(dt)).
    pub sigma: f64,
    /// Loss weight of decision steps.
    pub decision_weight: f64,
}

impl Default for GoNoGo {
    fn default() -> Self {
        GoNoGo {
            fixation: 0.0,
            stimulus: 500.0,
            delay: 500.0,
            decision: 500.0,
            sigma: 0.5,
            decision_weight: 1.0,
        }
    }
}

/// Delayed match-to-sample: a sample (one of two stimuli, inputs 1, 2), a
/// delay, a test stimulus; answer "match" (output 1) or "non-match" (output 2).
/// Metadata: (1 match / 0 non-match, correct output).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DelayedMatch {
    /// Fixation (ms).
    pub fixation: f64,
    /// Sample (ms).
    pub sample: f64,
    /// Delay (ms).
    pub delay: f64,
    /// Test (ms).
    pub test: f64,
    /// Decision (ms).
    pub decision: f64,
    /// Input noise.
    pub sigma: f64,
    /// Loss weight of decision steps.
    pub decision_weight: f64,
}

impl Default for DelayedMatch {
    fn default() -> Self {
        DelayedMatch {
            fixation: 300.0,
            sample: 500.0,
            delay: 1000.0,
            test: 500.0,
            decision: 300.0,
            sigma: 0.5,
            decision_weight: 1.0,
        }
    }
}

/// Context-dependent integration (Mante et al. 2013): two modalities of
/// noisy evidence (inputs 1-2 and 3-4, `0.5 +- coh / 200` each) and a
/// context cue (inputs 5, 6); choose by the cued modality (outputs 1, 2).
/// Metadata: (signed coherence of the relevant modality, correct output).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContextDecision {
    /// Fixation (ms).
    pub fixation: f64,
    /// Stimulus (ms).
    pub stimulus: f64,
    /// Delay (ms).
    pub delay: f64,
    /// Decision (ms).
    pub decision: f64,
    /// Coherences (%) per modality, drawn independently.
    pub coherences: Vec<f64>,
    /// Input noise.
    pub sigma: f64,
    /// Loss weight of decision steps.
    pub decision_weight: f64,
}

impl Default for ContextDecision {
    fn default() -> Self {
        ContextDecision {
            fixation: 300.0,
            stimulus: 750.0,
            delay: 0.0,
            decision: 100.0,
            coherences: vec![5.0, 15.0, 50.0],
            sigma: 1.0,
            decision_weight: 1.0,
        }
    }
}

/// Parametric working memory (Romo et al. 1999): two vibration frequencies
/// f1, f2 (Hz, input 1 as `(f - 10) / 24` plus noise) separated by a delay;
/// answer "f1 > f2" (output 1) or "f1 < f2" (output 2).
/// Metadata: (f1 - f2 in Hz, correct output).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ParametricWm {
    /// Fixation (ms).
    pub fixation: f64,
    /// First stimulus (ms).
    pub f1: f64,
    /// Delay (ms).
    pub delay: f64,
    /// Second stimulus (ms).
    pub f2: f64,
    /// Decision (ms).
    pub decision: f64,
    /// f1 values (Hz); f2 = f1 +- `gap`.
    pub frequencies: Vec<f64>,
    /// |f1 - f2| (Hz).
    pub gap: f64,
    /// Input noise.
    pub sigma: f64,
    /// Loss weight of decision steps.
    pub decision_weight: f64,
}

impl Default for ParametricWm {
    fn default() -> Self {
        ParametricWm {
            fixation: 500.0,
            f1: 500.0,
            delay: 1000.0,
            f2: 500.0,
            decision: 100.0,
            frequencies: vec![14.0, 18.0, 22.0, 26.0, 30.0],
            gap: 4.0,
            sigma: 0.2,
            decision_weight: 1.0,
        }
    }
}

/// The task of a training run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Task {
    /// [`PerceptualDecision`].
    PerceptualDecision(PerceptualDecision),
    /// [`GoNoGo`].
    GoNoGo(GoNoGo),
    /// [`DelayedMatch`].
    DelayedMatch(DelayedMatch),
    /// [`ContextDecision`].
    ContextDecision(ContextDecision),
    /// [`ParametricWm`].
    ParametricWm(ParametricWm),
}

impl Default for Task {
    fn default() -> Self {
        Task::PerceptualDecision(PerceptualDecision::default())
    }
}

impl Task {
    /// Input channels (the first is the fixation cue).
    pub fn n_in(&self) -> usize {
        match self {
            Task::PerceptualDecision(_) | Task::GoNoGo(_) | Task::DelayedMatch(_) => 3,
            Task::ContextDecision(_) => 7,
            Task::ParametricWm(_) => 2,
        }
    }

    /// Output channels (the first is "fixate").
    pub fn n_out(&self) -> usize {
        match self {
            Task::GoNoGo(_) => 2,
            _ => 3,
        }
    }

    /// `batch` trials at time step `dt` (ms) from the stream keyed by (`seed`, task, `key`, `index`).
    pub fn batch(&self, batch: usize, dt: f64, seed: u64, key: &str, index: u64) -> Result<TaskBatch> {
        let empty = |task: &str, what: &str| CortecsError::InvalidParameter {
            context: format!("task {task}.{what}"),
            message: "is empty".into(),
        };
        match self {
            Task::PerceptualDecision(t) => t.batch(batch, dt, seed, key, index),
            Task::GoNoGo(t) => {
                let p = [
                    ("fixation", t.fixation),
                    ("stimulus", t.stimulus),
                    ("delay", t.delay),
                    ("decision", t.decision),
                ];
                let mut f = Frame::new("go_no_go", &p, dt, batch, 3, t.sigma)?;
                let mut rng = Stream::keyed(seed, "go_no_go", key, index);
                let mut trials = Vec::with_capacity(batch);
                for b in 0..batch {
                    let go = rng.below(2) as usize;
                    f.put(b, 1, 2 - go, 1.0, &mut rng);
                    f.fix_and_decide(b, go, t.decision_weight);
                    trials.push((go as f64, go));
                }
                Ok(f.finish(trials))
            }
            Task::DelayedMatch(t) => {
                let p = [
                    ("fixation", t.fixation),
                    ("sample", t.sample),
                    ("delay", t.delay),
                    ("test", t.test),
                    ("decision", t.decision),
                ];
                let mut f = Frame::new("delayed_match", &p, dt, batch, 3, t.sigma)?;
                let mut rng = Stream::keyed(seed, "delayed_match", key, index);
                let mut trials = Vec::with_capacity(batch);
                for b in 0..batch {
                    let (sample, test) = (rng.below(2) as usize, rng.below(2) as usize);
                    f.put(b, 1, 1 + sample, 1.0, &mut rng);
                    f.put(b, 3, 1 + test, 1.0, &mut rng);
                    let label = if sample == test { 1 } else { 2 };
                    f.fix_and_decide(b, label, t.decision_weight);
                    trials.push((f64::from(u8::from(sample == test)), label));
                }
                Ok(f.finish(trials))
            }
            Task::ContextDecision(t) => {
                if t.coherences.is_empty() {
                    return Err(empty("context_decision", "coherences"));
                }
                let p = [
                    ("fixation", t.fixation),
                    ("stimulus", t.stimulus),
                    ("delay", t.delay),
                    ("decision", t.decision),
                ];
                let mut f = Frame::new("context_decision", &p, dt, batch, 7, t.sigma)?;
                let mut rng = Stream::keyed(seed, "context_decision", key, index);
                let mut trials = Vec::with_capacity(batch);
                let n = t.coherences.len() as u64;
                for b in 0..batch {
                    let context = rng.below(2) as usize;
                    let mut signed = [0.0; 2];
                    for (m, s) in signed.iter_mut().enumerate() {
                        let coh = t.coherences[rng.below(n) as usize];
                        let dir = if rng.below(2) == 0 { 1.0 } else { -1.0 };
                        *s = dir * coh;
                        f.put(b, 1, 1 + 2 * m, 0.5 + *s / 200.0, &mut rng);
                        f.put(b, 1, 2 + 2 * m, 0.5 - *s / 200.0, &mut rng);
                    }
                    for tt in 0..f.starts[f.starts.len() - 2] {
                        f.u[[tt, b, 5 + context]] = 1.0;
                    }
                    let label = if signed[context] > 0.0 { 1 } else { 2 };
                    f.fix_and_decide(b, label, t.decision_weight);
                    trials.push((signed[context], label));
                }
                Ok(f.finish(trials))
            }
            Task::ParametricWm(t) => {
                if t.frequencies.is_empty() {
                    return Err(empty("parametric_wm", "frequencies"));
                }
                let p = [
                    ("fixation", t.fixation),
                    ("f1", t.f1),
                    ("delay", t.delay),
                    ("f2", t.f2),
                    ("decision", t.decision),
                ];
                let mut f = Frame::new("parametric_wm", &p, dt, batch, 2, t.sigma)?;
                let mut rng = Stream::keyed(seed, "parametric_wm", key, index);
                let mut trials = Vec::with_capacity(batch);
                let scale = |hz: f64| (hz - 10.0) / 24.0;
                for b in 0..batch {
                    let f1 = t.frequencies[rng.below(t.frequencies.len() as u64) as usize];
                    let higher = rng.below(2) == 0;
                    let f2 = if higher { f1 + t.gap } else { f1 - t.gap };
                    f.put(b, 1, 1, scale(f1), &mut rng);
                    f.put(b, 3, 1, scale(f2), &mut rng);
                    let label = if f1 > f2 { 1 } else { 2 };
                    f.fix_and_decide(b, label, t.decision_weight);
                    trials.push((f1 - f2, label));
                }
                Ok(f.finish(trials))
            }
        }
    }
}
