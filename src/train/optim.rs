//! Optimizers with torch's update rules and defaults (Adam, AdamW, SGD with
//! momentum), gradient clipping by global norm (`clip_grad_norm_`) and
//! learning-rate schedules (StepLR, CosineAnnealingLR).

use super::Real;
use crate::error::{CortecsError, Result};
use serde::{Deserialize, Serialize};

/// Which update rule, with torch's parameter names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum OptimizerKind {
    /// `torch.optim.Adam` (L2 `weight_decay` added to the gradient).
    Adam {
        /// Decay of the first moment (torch: 0.9).
        beta1: f64,
        /// Decay of the second moment (torch: 0.999).
        beta2: f64,
        /// Added to the root of the second moment (torch: 1e-8).
        eps: f64,
        /// L2 penalty added to the gradient (torch: 0).
        weight_decay: f64,
    },
    /// `torch.optim.AdamW` (decoupled decay `p *= 1 - lr wd`; torch's default wd 0.01).
    AdamW {
        /// Decay of the first moment.
        beta1: f64,
        /// Decay of the second moment.
        beta2: f64,
        /// Added to the root of the second moment.
        eps: f64,
        /// Decoupled weight decay.
        weight_decay: f64,
    },
    /// `torch.optim.SGD` with momentum (dampening 0).
    Sgd {
        /// Momentum (0: plain SGD).
        momentum: f64,
        /// Nesterov momentum.
        nesterov: bool,
        /// L2 penalty added to the gradient.
        weight_decay: f64,
    },
}

impl OptimizerKind {
    /// Adam with torch's defaults.
    pub fn adam() -> Self {
        OptimizerKind::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
    /// AdamW with torch's defaults.
    pub fn adamw() -> Self {
        OptimizerKind::AdamW {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        }
    }
}

/// Learning rate as a function of the step count (torch's schedulers, stepped once per iteration).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub enum Schedule {
    /// The base rate throughout.
    #[default]
    Constant,
    /// `lr * gamma^floor(k / step_size)` (StepLR).
    Step {
        /// Iterations per decay.
        step_size: u64,
        /// Factor per decay.
        gamma: f64,
    },
    /// `eta_min + (lr - eta_min) (1 + cos(pi k / t_max)) / 2` (CosineAnnealingLR).
    Cosine {
        /// Iterations of the half period.
        t_max: u64,
        /// Final rate.
        eta_min: f64,
    },
}

impl Schedule {
    /// The rate at iteration `k` (0-based) from base rate `lr`.
    pub fn rate(&self, lr: f64, k: u64) -> f64 {
        match *self {
            Schedule::Constant => lr,
            Schedule::Step { step_size, gamma } => lr * gamma.powi((k / step_size.max(1)) as i32),
            Schedule::Cosine { t_max, eta_min } => {
                let x = std::f64::consts::PI * (k.min(t_max) as f64) / t_max.max(1) as f64;
                eta_min + (lr - eta_min) * (1.0 + x.cos()) / 2.0
            }
        }
    }
}

/// An optimizer and its state (moments per parameter array, step count).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Optimizer {
    /// The rule.
    pub kind: OptimizerKind,
    /// Base learning rate.
    pub lr: f64,
    /// Learning-rate schedule.
    pub schedule: Schedule,
    /// Clip the global gradient norm to this (torch `clip_grad_norm_`), if set.
    pub clip_norm: Option<f64>,
    /// Steps taken.
    pub steps: u64,
    /// First moments (or momentum buffers), one per parameter array (values of the run's float type, kept as f64).
    pub m: Vec<Vec<f64>>,
    /// Second moments, one per parameter array.
    pub v: Vec<Vec<f64>>,
}

impl Optimizer {
    /// A fresh optimizer.
    pub fn new(kind: OptimizerKind, lr: f64) -> Result<Self> {
        if !(lr > 0.0 && lr.is_finite()) {
            return Err(CortecsError::InvalidParameter {
                context: "train: optimizer".into(),
                message: format!("lr must be > 0, got {lr}"),
            });
        }
        Ok(Optimizer {
            kind,
            lr,
            schedule: Schedule::Constant,
            clip_norm: None,
            steps: 0,
            m: Vec::new(),
            v: Vec::new(),
        })
    }

    /// The learning rate the next step uses.
    pub fn current_lr(&self) -> f64 {
        self.schedule.rate(self.lr, self.steps)
    }

    /// One step on `params` with gradients `grads` (same arrays, same order);
    /// clips first when `clip_norm` is set. Returns the gradient norm before clipping.
    pub fn step<F: Real>(&mut self, params: &mut [&mut [F]], grads: &mut [&mut [F]]) -> Result<f64> {
        if params.len() != grads.len() || params.iter().zip(grads.iter()).any(|(p, g)| p.len() != g.len()) {
            return Err(CortecsError::InvalidRequest(
                "train: optimizer: parameters and gradients differ in shape".into(),
            ));
        }
        if self.m.is_empty() {
            self.m = params.iter().map(|p| vec![0.0; p.len()]).collect();
            self.v = self.m.clone();
        } else if self.m.len() != params.len() || self.m.iter().zip(params.iter()).any(|(m, p)| m.len() != p.len()) {
            return Err(CortecsError::InvalidRequest(
                "train: optimizer state does not fit the parameters (another network?)".into(),
            ));
        }
        let norm = grads
            .iter()
            .flat_map(|g| g.iter())
            .map(|&x| x.f64() * x.f64())
            .sum::<f64>()
            .sqrt();
        if let Some(max) = self.clip_norm {
            let coef = max / (norm + 1e-6);
            if coef < 1.0 {
                let c = F::of(coef);
                for g in grads.iter_mut() {
                    g.iter_mut().for_each(|x| *x *= c);
                }
            }
        }
        let lr = self.current_lr();
        self.steps += 1;
        let k = self.steps as i32;
        match self.kind {
            OptimizerKind::Adam {
                beta1,
                beta2,
                eps,
                weight_decay,
            }
            | OptimizerKind::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay,
            } => {
                let decoupled = matches!(self.kind, OptimizerKind::AdamW { .. });
                let bc1 = 1.0 - beta1.powi(k);
                let bc2_sqrt = (1.0 - beta2.powi(k)).sqrt();
                let step_size = F::of(lr / bc1);
                let (b1, b2, eps, wd) = (F::of(beta1), F::of(beta2), F::of(eps), F::of(weight_decay));
                let (bc2_sqrt, lr_f) = (F::of(bc2_sqrt), F::of(lr));
                let one = F::one();
                for (((p, g), m), v) in params.iter_mut().zip(grads.iter()).zip(&mut self.m).zip(&mut self.v) {
                    for (((x, &g), m64), v64) in p.iter_mut().zip(g.iter()).zip(m.iter_mut()).zip(v.iter_mut()) {
                        let (mut m, mut v, mut g) = (F::of(*m64), F::of(*v64), g);
                        if decoupled {
                            *x *= one - lr_f * wd;
                        } else if wd != F::zero() {
                            g += wd * *x;
                        }
                        // torch: exp_avg.lerp_(grad, 1 - beta1); exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)
                        m += (g - m) * (one - b1);
                        v = v * b2 + (one - b2) * g * g;
                        let denom = v.sqrt() / bc2_sqrt + eps;
                        *x += F::zero() - step_size * (m / denom);
                        (*m64, *v64) = (m.f64(), v.f64());
                    }
                }
            }
            OptimizerKind::Sgd {
                momentum,
                nesterov,
                weight_decay,
            } => {
                let (mu, wd, lr_f) = (F::of(momentum), F::of(weight_decay), F::of(lr));
                for ((p, g), buf) in params.iter_mut().zip(grads.iter()).zip(&mut self.m) {
                    for ((x, &g), b64) in p.iter_mut().zip(g.iter()).zip(buf.iter_mut()) {
                        let mut g = g + wd * *x;
                        if mu != F::zero() {
                            let b = if k == 1 { g } else { mu * F::of(*b64) + g };
                            *b64 = b.f64();
                            g = if nesterov { g + mu * b } else { b };
                        }
                        *x -= lr_f * g;
                    }
                }
            }
        }
        Ok(norm)
    }
}
