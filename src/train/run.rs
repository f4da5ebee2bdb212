//! `cortecs train SCENE`: a training scene (RON) names the network, task,
//! loss, optimizer and iterations; the run writes a CSV log, checkpoints that
//! resume bit-identically, a learning curve and a psychometric curve (PNG),
//! and a held-out evaluation in `summary.json`.

use super::{InitState, LossKind, Optimizer, OptimizerKind, RateGraph, Regularizer, Schedule, Task, Trainer, ei_ctrnn};
use crate::error::{CortecsError, Result};
use crate::model::Activation;
use serde::{Deserialize, Serialize};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// The network of a training scene.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum NetworkDef {
    /// nn4n's CTRNN `[task inputs, hidden, task outputs]` with its uniform initialisation.
    Ctrnn {
        /// Hidden units.
        hidden: usize,
        /// Activation of the hidden units.
        #[serde(default)]
        activation: Activation,
        /// Time constant (ms).
        tau: f64,
        /// Pre-activation noise (`v += alpha sigma_pre eps`).
        #[serde(default)]
        sigma_pre: f64,
        /// Post-activation noise.
        #[serde(default)]
        sigma_post: f64,
        /// `Zero`, `Keep` or `Learn`.
        #[serde(default)]
        init_state: InitState,
    },
    /// A Dale's-law CTRNN (ReLU, E/I by pre neuron, sparse recurrence, readout from E only).
    EiCtrnn {
        /// Hidden units.
        hidden: usize,
        /// Excitatory fraction.
        exc_fraction: f64,
        /// Density of the recurrent sparsity mask.
        density: f64,
        /// Time constant (ms).
        tau: f64,
        /// Pre-activation noise.
        #[serde(default)]
        sigma_pre: f64,
        /// Post-activation noise.
        #[serde(default)]
        sigma_post: f64,
    },
}

/// The optimizer of a training scene.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizerDef {
    /// The rule (`Adam(beta1: .., ..)`; default: Adam with torch's defaults).
    #[serde(default = "OptimizerKind::adam")]
    pub kind: OptimizerKind,
    /// Learning rate.
    pub lr: f64,
    /// Schedule (default: constant).
    #[serde(default)]
    pub schedule: Schedule,
    /// Gradient clipping by global norm.
    #[serde(default)]
    pub clip_norm: Option<f64>,
}

/// A training scene.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainScene {
    /// Time step (ms).
    pub dt: f64,
    /// The network.
    pub network: NetworkDef,
    /// The task: `PerceptualDecision(..)`, `GoNoGo(..)`, `DelayedMatch(..)`,
    /// `ContextDecision(..)` or `ParametricWm(..)` (fields as [`Task`]'s variants, each defaulted).
    #[serde(default)]
    pub task: Task,
    /// `CrossEntropy` or `Mse`.
    #[serde(default)]
    pub loss: LossKind,
    /// Regularizers.
    #[serde(default)]
    pub regularizers: Vec<Regularizer>,
    /// The optimizer.
    pub optimizer: OptimizerDef,
    /// Iterations in all.
    pub iterations: u64,
    /// Trials per iteration.
    pub batch: usize,
    /// Seed of initialisation, batches and noise.
    #[serde(default)]
    pub seed: u64,
    /// Iterations between checkpoints (0: only at the end).
    #[serde(default)]
    pub checkpoint_every: u64,
    /// Held-out trials of the final evaluation.
    #[serde(default = "default_eval")]
    pub eval_trials: usize,
}

fn default_eval() -> usize {
    1000
}

fn scene_err(path: &Path, text: &str, key: &str, message: String) -> CortecsError {
    let (line, column) = text
        .find(&format!("{key}:"))
        .map(|k| {
            let before = &text[..k];
            (
                before.matches('\n').count() + 1,
                k - before.rfind('\n').map_or(0, |n| n + 1) + 1,
            )
        })
        .unwrap_or((1, 1));
    CortecsError::Scene {
        path: path.to_path_buf(),
        line,
        column,
        message,
    }
}

/// Parses a training scene; syntax errors and bad values name file:line:column.
pub fn parse_scene(path: &Path, text: &str) -> Result<TrainScene> {
    let options = ron::Options::default().with_default_extension(
        ron::extensions::Extensions::IMPLICIT_SOME | ron::extensions::Extensions::UNWRAP_VARIANT_NEWTYPES,
    );
    let s: TrainScene = options.from_str(text).map_err(|e| CortecsError::Scene {
        path: path.to_path_buf(),
        line: e.span.start.line,
        column: e.span.start.col,
        message: e.code.to_string(),
    })?;
    let bad = |key: &str, m: String| Err(scene_err(path, text, key, m));
    if s.batch == 0 {
        return bad("batch", "batch must be at least 1".into());
    }
    if s.iterations == 0 {
        return bad("iterations", "iterations must be at least 1".into());
    }
    if s.eval_trials == 0 {
        return bad("eval_trials", "eval_trials must be at least 1".into());
    }
    if !(s.dt > 0.0 && s.dt.is_finite()) {
        return bad("dt", format!("dt must be > 0 ms, got {}", s.dt));
    }
    if let Err(e) = s.task.batch(1, s.dt, 0, "check", 0) {
        return bad("task", e.to_string());
    }
    if let Err(e) = Optimizer::new(s.optimizer.kind.clone(), s.optimizer.lr) {
        return bad("lr", e.to_string());
    }
    let tau = match &s.network {
        NetworkDef::Ctrnn { tau, .. } | NetworkDef::EiCtrnn { tau, .. } => *tau,
    };
    if tau < s.dt || tau.is_nan() {
        return bad(
            "tau",
            format!("tau must be >= dt = {} ms (alpha = dt / tau <= 1), got {tau}", s.dt),
        );
    }
    if let NetworkDef::EiCtrnn {
        exc_fraction, density, ..
    } = &s.network
        && !((0.0..=1.0).contains(exc_fraction) && (0.0..=1.0).contains(density))
    {
        return bad("exc_fraction", "exc_fraction and density must be in [0, 1]".into());
    }
    Ok(s)
}

/// A fresh run of a scene.
pub fn trainer_of(s: &TrainScene) -> Result<Trainer> {
    let (n_in, n_out) = (s.task.n_in(), s.task.n_out());
    let graph = match &s.network {
        NetworkDef::Ctrnn {
            hidden,
            activation,
            tau,
            sigma_pre,
            sigma_post,
            init_state,
        } => {
            let w = crate::workloads::CtrnnWeights::uniform(n_in, *hidden, n_out, s.seed);
            let mut g = RateGraph::<f32>::ctrnn(&w, *activation, s.dt, *tau);
            g.pops[1].sigma_pre = *sigma_pre;
            g.pops[1].sigma_post = *sigma_post;
            g.pops[1].init = *init_state;
            g
        }
        NetworkDef::EiCtrnn {
            hidden,
            exc_fraction,
            density,
            tau,
            sigma_pre,
            sigma_post,
        } => {
            let mut g = ei_ctrnn([n_in, *hidden, n_out], *exc_fraction, *density, s.dt, *tau, s.seed);
            g.pops[1].sigma_pre = *sigma_pre;
            g.pops[1].sigma_post = *sigma_post;
            g
        }
    };
    graph.validate()?;
    let mut optimizer = Optimizer::new(s.optimizer.kind.clone(), s.optimizer.lr)?;
    optimizer.schedule = s.optimizer.schedule.clone();
    optimizer.clip_norm = s.optimizer.clip_norm;
    Ok(Trainer {
        graph,
        optimizer,
        task: s.task.clone(),
        loss: s.loss,
        regularizers: s.regularizers.clone(),
        batch: s.batch,
        seed: s.seed,
        iteration: 0,
        log: Vec::new(),
    })
}

/// What a finished run reports (also written as `summary.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainSummary {
    /// Iterations done.
    pub iterations: u64,
    /// Loss of the last training batch.
    pub final_loss: f64,
    /// Held-out accuracy (noise off).
    pub heldout_accuracy: f64,
    /// Held-out trials.
    pub heldout_trials: usize,
    /// Per coherence (%): fraction correct and trials.
    pub psychometric: Vec<(f64, f64, usize)>,
    /// Wall time of this invocation's iterations (s).
    pub wall_s: f64,
    /// The iteration this invocation started from (0 unless resumed).
    pub resumed_from: u64,
}

fn write_text(path: &Path, text: &str) -> Result<()> {
    crate::io::write_text_atomic(path, text).map_err(|e| CortecsError::File {
        path: path.into(),
        message: e.to_string(),
    })
}

fn write_log(path: &Path, t: &Trainer) -> Result<()> {
    let mut csv = String::from("iteration,loss,accuracy,lr\n");
    for r in &t.log {
        csv.push_str(&format!("{},{:e},{},{:e}\n", r.iteration, r.loss, r.accuracy, r.lr));
    }
    write_text(path, &csv)
}

/// Runs (or, with `resume` and a checkpoint in `out`, continues) the
/// scene's training; writes `log.csv`, `checkpoint.ckpt`, `learning_curve.png`,
/// `accuracy_curve.png`, `psychometric.png` and `summary.json` into `out`
/// (`cortecs train` adds the trained network as an engine checkpoint,
/// `network.ckpt`, with `Network::from_trained`). `stop_after`: end (with a
/// checkpoint) after this many iterations of this invocation, as a killed run would.
pub fn run_training(scene: &Path, out: &Path, resume: bool, stop_after: Option<u64>) -> Result<TrainSummary> {
    let text = std::fs::read_to_string(scene).map_err(|e| CortecsError::file(scene, e))?;
    let s = parse_scene(scene, &text)?;
    std::fs::create_dir_all(out).map_err(|e| CortecsError::file(out, e))?;
    let ckpt = out.join("checkpoint.ckpt");
    let mut t = if resume && ckpt.exists() {
        Trainer::load(&ckpt)?
    } else {
        trainer_of(&s)?
    };
    let resumed_from = t.iteration;
    let tty = std::io::stderr().is_terminal();
    let start = std::time::Instant::now();
    let mut done = 0;
    while t.iteration < s.iterations && stop_after.is_none_or(|n| done < n) {
        let row = t.step()?;
        done += 1;
        if tty {
            let frac = row.iteration as f64 / s.iterations as f64;
            let bar: String = (0..30)
                .map(|k| if (k as f64) < frac * 30.0 { '#' } else { '-' })
                .collect();
            eprint!(
                "\r[{bar}] {}/{}  loss {:.4}  acc {:.3}",
                row.iteration, s.iterations, row.loss, row.accuracy
            );
            let _ = std::io::stderr().flush();
        }
        if s.checkpoint_every > 0 && row.iteration % s.checkpoint_every == 0 {
            t.save(&ckpt)?;
            write_log(&out.join("log.csv"), &t)?;
        }
    }
    if tty {
        eprintln!();
    }
    let wall_s = start.elapsed().as_secs_f64();
    t.save(&ckpt)?;
    write_log(&out.join("log.csv"), &t)?;
    let (tb, y) = t.evaluate(s.eval_trials)?;
    let summary = TrainSummary {
        iterations: t.iteration,
        final_loss: t.log.last().map_or(f64::NAN, |r| r.loss),
        heldout_accuracy: tb.accuracy(&y),
        heldout_trials: s.eval_trials,
        psychometric: tb.psychometric(&y),
        wall_s,
        resumed_from,
    };
    fn io(p: &Path) -> impl FnOnce(std::io::Error) -> CortecsError + '_ {
        move |e| CortecsError::file(p, e)
    }
    let loss: Vec<(f64, f64)> = t
        .log
        .iter()
        .map(|r| (r.iteration as f64, r.loss.max(1e-12).log10()))
        .collect();
    let acc: Vec<(f64, f64)> = t.log.iter().map(|r| (r.iteration as f64, r.accuracy)).collect();
    let curve = out.join("learning_curve.png");
    super::plot::line_chart(
        &curve,
        640,
        360,
        &[super::plot::Series {
            points: &loss,
            rgb: [200, 30, 30],
            markers: false,
        }],
        None,
    )
    .map_err(io(&curve))?;
    let acc_png = out.join("accuracy_curve.png");
    super::plot::line_chart(
        &acc_png,
        640,
        360,
        &[super::plot::Series {
            points: &acc,
            rgb: [30, 30, 200],
            markers: false,
        }],
        Some((0.0, 1.0)),
    )
    .map_err(io(&acc_png))?;
    let psy: Vec<(f64, f64)> = summary.psychometric.iter().map(|p| (p.0, p.1)).collect();
    let psy_png = out.join("psychometric.png");
    super::plot::line_chart(
        &psy_png,
        480,
        360,
        &[super::plot::Series {
            points: &psy,
            rgb: [20, 120, 20],
            markers: true,
        }],
        Some((0.4, 1.0)),
    )
    .map_err(io(&psy_png))?;
    let json = out.join("summary.json");
    crate::io::write_json_atomic(&json, &summary).map_err(|e| CortecsError::File {
        path: json.clone(),
        message: e.to_string(),
    })?;
    Ok(summary)
}

/// The default output folder of a scene: `out/<file stem>`.
pub fn default_out(scene: &Path) -> PathBuf {
    PathBuf::from("out").join(scene.file_stem().unwrap_or_default())
}
