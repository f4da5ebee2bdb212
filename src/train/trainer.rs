//! A training run on a task: iterations of [`train_step`] on fresh seeded
//! batches, a held-out evaluation, and checkpoints (graph, optimizer moments,
//! iteration) that resume bit-identically: every batch and noise draw is keyed
//! by (seed, name, iteration), so the iteration count is the whole RNG state.

use super::{
    InitState, Noise, Optimizer, PerceptualDecision, RateGraph, Regularizer, Task, TaskBatch, TrainPop, TrainProj,
    forward, output, train_step,
};
use crate::error::{CortecsError, Result};
use crate::model::Activation;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Which loss a task run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum LossKind {
    /// Cross-entropy on the task's labels.
    #[default]
    CrossEntropy,
    /// MSE against one-hot targets.
    Mse,
}

/// One line of the training log.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogRow {
    /// Iteration (1-based: after this many steps).
    pub iteration: u64,
    /// Loss of the batch (objective + regularizers) before the step.
    pub loss: f64,
    /// Accuracy on that training batch.
    pub accuracy: f64,
    /// Learning rate of the step.
    pub lr: f64,
}

/// A training run: the network, the optimizer, the task and its settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Trainer {
    /// The network (f32).
    #[serde(with = "graph_serde")]
    pub graph: RateGraph<f32>,
    /// The optimizer and its state.
    pub optimizer: Optimizer,
    /// The task.
    pub task: Task,
    /// Which loss.
    pub loss: LossKind,
    /// Regularizers.
    pub regularizers: Vec<Regularizer>,
    /// Trials per iteration.
    pub batch: usize,
    /// Seed of batches and noise.
    pub seed: u64,
    /// Iterations done.
    pub iteration: u64,
    /// The log so far.
    pub log: Vec<LogRow>,
}

const MAGIC: &[u8; 8] = b"CTXTRN01";

impl Trainer {
    /// One iteration on a fresh training batch (keyed by the iteration); returns its log row.
    pub fn step(&mut self) -> Result<LogRow> {
        let tb = self
            .task
            .batch(self.batch, self.graph.dt, self.seed, "train", self.iteration)?;
        let objective = match self.loss {
            LossKind::CrossEntropy => tb.cross_entropy(),
            LossKind::Mse => tb.mse_one_hot(self.graph.n_out()),
        };
        let lr = self.optimizer.current_lr();
        let noise = Noise::On {
            seed: self.seed,
            iteration: self.iteration,
        };
        let (parts, y) = train_step(
            &mut self.graph,
            &mut self.optimizer,
            &tb.u,
            &objective,
            &self.regularizers,
            noise,
        )?;
        self.iteration += 1;
        let row = LogRow {
            iteration: self.iteration,
            loss: parts.total(),
            accuracy: tb.accuracy(&y),
            lr,
        };
        self.log.push(row);
        Ok(row)
    }

    /// Evaluation with noise off on `trials` held-out trials (their own stream):
    /// the batch, and the output (steps, batch, n_out).
    pub fn evaluate(&mut self, trials: usize) -> Result<(TaskBatch, ndarray::Array3<f32>)> {
        let tb = self.task.batch(trials, self.graph.dt, self.seed, "heldout", 0)?;
        let tape = forward(&mut self.graph, &tb.u, Noise::Off)?;
        let y = output(&self.graph, &tape);
        Ok((tb, y))
    }

    /// Writes the run (network, optimizer moments, iteration, log) to `path`
    /// through a temporary file and a rename.
    pub fn save(&self, path: &Path) -> Result<()> {
        let body =
            bincode::serde::encode_to_vec(self, bincode::config::standard()).map_err(|e| CortecsError::File {
                path: path.into(),
                message: format!("cannot encode training checkpoint: {e}"),
            })?;
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&body);
        let file_err = |e: crate::io::AtomicError| CortecsError::File {
            path: path.into(),
            message: e.to_string(),
        };
        let mut tmp = crate::io::TempFile::create(path).map_err(file_err)?;
        tmp.write_all(&bytes).map_err(file_err)?;
        tmp.commit().map_err(file_err)?;
        Ok(())
    }

    /// Reads a run written by [`Trainer::save`].
    pub fn load(path: &Path) -> Result<Trainer> {
        let bytes = std::fs::read(path).map_err(|e| CortecsError::File {
            path: path.into(),
            message: e.to_string(),
        })?;
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(CortecsError::File {
                path: path.into(),
                message: "not a cortecs training checkpoint".into(),
            });
        }
        // borrowed decoding: a claimed length is checked against the bytes
        // there are before anything is allocated (names through de_string)
        let (t, _): (Trainer, usize) =
            bincode::serde::borrow_decode_from_slice(&bytes[MAGIC.len()..], bincode::config::standard()).map_err(
                |e| CortecsError::File {
                    path: path.into(),
                    message: format!("corrupt training checkpoint: {e}"),
                },
            )?;
        t.graph.validate()?;
        Ok(t)
    }
}

/// A Dale's-law CTRNN for [`PerceptualDecision`] as in the E/I RNN literature
/// (Song et al. 2016): `hidden` ReLU units, `exc_fraction` of them
/// excitatory, a random sparsity mask of density `p` on the recurrent
/// weights (no self-connections), readout from the excitatory units only,
/// inputs to all; `dims = [n_in, hidden, n_out]`; `alpha = dt / tau`;
/// weights from a keyed stream of `seed`.
pub fn ei_ctrnn(dims: [usize; 3], exc_fraction: f64, p: f64, dt: f64, tau: f64, seed: u64) -> RateGraph<f32> {
    let [n_in, hidden, n_out] = dims;
    let mut rng = crate::rng::Stream::keyed(seed, "ei_ctrnn", "init", 0);
    let n_exc = ((hidden as f64) * exc_fraction).round() as usize;
    let sign: Vec<f64> = (0..hidden).map(|k| if k < n_exc { 1.0 } else { -1.0 }).collect();
    let mut g = RateGraph::new(dt);
    let i = g.add_pop(TrainPop::input("input", n_in));
    let h = g.add_pop(TrainPop::new("hidden", hidden, Activation::Relu).tau(dt, tau));
    let o = g.add_pop(TrainPop::new("output", n_out, Activation::Identity));
    let u = |rng: &mut crate::rng::Stream, b: f64| (-b + 2.0 * b * rng.uniform()) as f32;
    let w_in = Array2::from_shape_simple_fn((hidden, n_in), || u(&mut rng, 1.0 / (n_in as f64).sqrt()));
    let mut w_hid = Array2::<f32>::zeros((hidden, hidden));
    let mut mask = Array2::<f32>::zeros((hidden, hidden));
    // |w| ~ U(0, 1) scaled so that E and I inputs balance on average
    let scale = 1.0 / ((hidden as f64) * p).sqrt();
    let inh_gain = n_exc as f64 / (hidden - n_exc).max(1) as f64;
    for post in 0..hidden {
        for pre in 0..hidden {
            let on = pre != post && rng.uniform() < p;
            let mag = rng.uniform() * scale;
            if on {
                mask[[post, pre]] = 1.0;
                w_hid[[post, pre]] = (sign[pre] * mag * if pre < n_exc { 1.0 } else { inh_gain }) as f32;
            }
        }
    }
    let mut w_out = Array2::from_shape_simple_fn((n_out, hidden), || u(&mut rng, 1.0 / (n_exc as f64).sqrt()).abs());
    let mut out_mask = Array2::<f32>::zeros((n_out, hidden));
    out_mask.slice_mut(ndarray::s![.., ..n_exc]).fill(1.0);
    w_out *= &out_mask;
    g.add_proj(TrainProj::new("w_in", i, h, w_in));
    let mut rec = TrainProj::new("w_hid", h, h, w_hid).dale_by_pre(&sign);
    rec.sparsity = Some(mask);
    g.add_proj(rec);
    let mut out = TrainProj::new("w_out", h, o, w_out).dale_by_pre(&sign);
    out.sparsity = Some(out_mask);
    g.add_proj(out);
    g.readout = vec![o];
    g
}

/// Serde for `RateGraph<f32>` through plain vectors.
mod graph_serde {
    use super::*;
    use serde::{Deserializer, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Pop {
        #[serde(deserialize_with = "crate::io::de_string")]
        name: String,
        size: usize,
        activation: Activation,
        input: bool,
        alpha: Vec<f32>,
        bias: Vec<f32>,
        train_bias: bool,
        train_alpha: bool,
        sigma_pre: f64,
        sigma_post: f64,
        init: InitState,
        v0: Vec<f32>,
        kept: Option<(usize, usize, Vec<f32>)>,
    }

    #[derive(Serialize, Deserialize)]
    struct Proj {
        #[serde(deserialize_with = "crate::io::de_string")]
        name: String,
        pre: usize,
        post: usize,
        shape: (usize, usize),
        w: Vec<f32>,
        trainable: bool,
        sparsity: Option<Vec<f32>>,
        sign: Option<Vec<f32>>,
        plasticity: Option<Vec<f32>>,
    }

    #[derive(Serialize, Deserialize)]
    struct Graph {
        dt: f64,
        pops: Vec<Pop>,
        projs: Vec<Proj>,
        readout: Vec<usize>,
    }

    fn flat(a: &Array2<f32>) -> Vec<f32> {
        a.iter().copied().collect()
    }

    pub fn serialize<S: Serializer>(g: &RateGraph<f32>, s: S) -> std::result::Result<S::Ok, S::Error> {
        Graph {
            dt: g.dt,
            pops: g
                .pops
                .iter()
                .map(|p| Pop {
                    name: p.name.clone(),
                    size: p.size,
                    activation: p.activation,
                    input: p.input,
                    alpha: p.alpha.to_vec(),
                    bias: p.bias.to_vec(),
                    train_bias: p.train_bias,
                    train_alpha: p.train_alpha,
                    sigma_pre: p.sigma_pre,
                    sigma_post: p.sigma_post,
                    init: p.init,
                    v0: p.v0.to_vec(),
                    kept: p.kept.as_ref().map(|k| (k.nrows(), k.ncols(), flat(k))),
                })
                .collect(),
            projs: g
                .projs
                .iter()
                .map(|q| Proj {
                    name: q.name.clone(),
                    pre: q.pre,
                    post: q.post,
                    shape: q.w.dim(),
                    w: flat(&q.w),
                    trainable: q.trainable,
                    sparsity: q.sparsity.as_ref().map(flat),
                    sign: q.sign.as_ref().map(flat),
                    plasticity: q.plasticity.as_ref().map(flat),
                })
                .collect(),
            readout: g.readout.clone(),
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<RateGraph<f32>, D::Error> {
        use serde::de::Error;
        let g = Graph::deserialize(d)?;
        let m = |shape: (usize, usize), v: Vec<f32>| Array2::from_shape_vec(shape, v).map_err(D::Error::custom);
        let mut out = RateGraph::new(g.dt);
        out.readout = g.readout;
        for p in g.pops {
            out.pops.push(TrainPop {
                name: p.name,
                size: p.size,
                activation: p.activation,
                input: p.input,
                alpha: Array1::from(p.alpha),
                bias: Array1::from(p.bias),
                train_bias: p.train_bias,
                train_alpha: p.train_alpha,
                sigma_pre: p.sigma_pre,
                sigma_post: p.sigma_post,
                init: p.init,
                v0: Array1::from(p.v0),
                kept: p.kept.map(|(r, c, v)| m((r, c), v)).transpose()?,
            });
        }
        for q in g.projs {
            out.projs.push(TrainProj {
                name: q.name,
                pre: q.pre,
                post: q.post,
                w: m(q.shape, q.w)?,
                trainable: q.trainable,
                sparsity: q.sparsity.map(|v| m(q.shape, v)).transpose()?,
                sign: q.sign.map(|v| m(q.shape, v)).transpose()?,
                plasticity: q.plasticity.map(|v| m(q.shape, v)).transpose()?,
            });
        }
        Ok(out)
    }
}

/// The perceptual-decision run of the tests and the example: [`ei_ctrnn`]
/// (dims [3, 100, 3], 80 % E, recurrent density 0.5) at dt = 20 ms, tau = 100 ms,
/// pre-activation noise 0.1, neurogym's default timing, cross-entropy, Adam
/// with learning rate `lr` decaying by a cosine to `lr / 100` over
/// `iterations`, `batch` trials per iteration, clipping at norm 1, decision
/// steps weighted 5 in the loss.
pub fn pdm_trainer(batch: usize, lr: f64, iterations: u64, seed: u64) -> Result<Trainer> {
    let mut graph = ei_ctrnn([3, 100, 3], 0.8, 0.5, 20.0, 100.0, seed);
    graph.pops[1].sigma_pre = 0.1;
    let mut optimizer = Optimizer::new(super::OptimizerKind::adam(), lr)?;
    optimizer.clip_norm = Some(1.0);
    optimizer.schedule = super::Schedule::Cosine {
        t_max: iterations,
        eta_min: lr / 100.0,
    };
    Ok(Trainer {
        graph,
        optimizer,
        task: Task::PerceptualDecision(PerceptualDecision {
            decision_weight: 5.0,
            ..PerceptualDecision::default()
        }),
        loss: LossKind::CrossEntropy,
        regularizers: Vec::new(),
        batch,
        seed,
        iteration: 0,
        log: Vec::new(),
    })
}
