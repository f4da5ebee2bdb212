//! What a training run trains: a graph of rate populations and dense
//! projections, in the float type of the run ([`Real`]).
//!
//! Step order is the engine's (`kernel::step`): populations update in
//! declaration order; a projection from a population declared before its
//! target reads that population's rates of the same step, one from itself or
//! from a later population reads those of the previous step. nn4n's
//! `dims = [in, hidden, out]` is an input population (its rates are the
//! input, alpha = 1), the hidden CTRNN and an identity readout with alpha = 1.

use super::Real;
use crate::error::{CortecsError, Result};
use crate::model::Activation;
use ndarray::{Array1, Array2};

/// How a population's state starts a forward pass (nn4n's `init_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum InitState {
    /// `v_0 = 0` for every trial.
    #[default]
    Zero,
    /// Each trial starts from the last state of the same trial of the previous pass.
    Keep,
    /// `v_0` is a trained vector (one value per unit, the same for every trial).
    Learn,
}

/// One rate population of a [`RateGraph`].
#[derive(Clone, Debug)]
pub struct TrainPop<F: Real> {
    /// Unique name.
    pub name: String,
    /// Units.
    pub size: usize,
    /// The activation `f` of `r = f(v)`.
    pub activation: Activation,
    /// An input population: its rates are columns of the input array.
    pub input: bool,
    /// `alpha = dt / tau` per unit, in (0, 1].
    pub alpha: Array1<F>,
    /// Bias per unit, inside the leak: `v <- (1 - a) v + a (W r + b)`.
    pub bias: Array1<F>,
    /// Whether the bias is trained.
    pub train_bias: bool,
    /// Whether `alpha` (the time constants) is trained.
    pub train_alpha: bool,
    /// Pre-activation noise: `v += alpha * sigma_pre * eps` (nn4n's code; its docs omit alpha).
    pub sigma_pre: f64,
    /// Post-activation noise: `r = f(v) + sigma_post * eps`.
    pub sigma_post: f64,
    /// How the state starts.
    pub init: InitState,
    /// The initial state `v_0` (per unit) for [`InitState::Learn`].
    pub v0: Array1<F>,
    /// The last state of each trial (units x batch) for [`InitState::Keep`].
    pub kept: Option<Array2<F>>,
}

impl<F: Real> TrainPop<F> {
    /// A hidden population with `alpha = 1`, zero bias (trained), no noise, zero initial state.
    pub fn new(name: &str, size: usize, activation: Activation) -> Self {
        TrainPop {
            name: name.into(),
            size,
            activation,
            input: false,
            alpha: Array1::from_elem(size, F::one()),
            bias: Array1::zeros(size),
            train_bias: true,
            train_alpha: false,
            sigma_pre: 0.0,
            sigma_post: 0.0,
            init: InitState::Zero,
            v0: Array1::zeros(size),
            kept: None,
        }
    }

    /// An input population of `size` channels (identity, alpha = 1, no bias).
    pub fn input(name: &str, size: usize) -> Self {
        TrainPop {
            input: true,
            train_bias: false,
            ..Self::new(name, size, Activation::Identity)
        }
    }

    /// `alpha = dt / tau` for every unit (ms).
    pub fn tau(mut self, dt: f64, tau: f64) -> Self {
        self.alpha.fill(F::of(dt / tau));
        self
    }

    /// The bias vector.
    pub fn bias(mut self, bias: Array1<F>) -> Self {
        self.bias = bias;
        self
    }

    /// Noise: pre-activation `sigma_pre`, post-activation `sigma_post`.
    pub fn noise(mut self, sigma_pre: f64, sigma_post: f64) -> Self {
        self.sigma_pre = sigma_pre;
        self.sigma_post = sigma_post;
        self
    }

    /// The initial-state rule.
    pub fn init(mut self, init: InitState) -> Self {
        self.init = init;
        self
    }
}

/// One dense projection `pre -> post` of a [`RateGraph`], with nn4n's masks
/// (all post x pre).
#[derive(Clone, Debug)]
pub struct TrainProj<F: Real> {
    /// Unique name.
    pub name: String,
    /// Index of the pre population.
    pub pre: usize,
    /// Index of the post population.
    pub post: usize,
    /// Weights, post x pre (`y = W r`).
    pub w: Array2<F>,
    /// Whether `w` is trained.
    pub trainable: bool,
    /// Sparsity mask (0/1): zeros stay zero after every step.
    pub sparsity: Option<Array2<F>>,
    /// E/I mask (+1 excitatory, -1 inhibitory, 0 free): a weight of the wrong sign becomes 0.
    pub sign: Option<Array2<F>>,
    /// Plasticity mask (factor in [0, 1]) that scales the gradient.
    pub plasticity: Option<Array2<F>>,
}

impl<F: Real> TrainProj<F> {
    /// A trainable projection without masks.
    pub fn new(name: &str, pre: usize, post: usize, w: Array2<F>) -> Self {
        TrainProj {
            name: name.into(),
            pre,
            post,
            w,
            trainable: true,
            sparsity: None,
            sign: None,
            plasticity: None,
        }
    }

    /// Dale's law from the pre neurons' polarity (+1 E, -1 I), nn4n's E/I mask.
    pub fn dale_by_pre(mut self, pre_sign: &[f64]) -> Self {
        let (n_post, n_pre) = self.w.dim();
        self.sign = Some(Array2::from_shape_fn((n_post, n_pre), |(_, k)| {
            F::of(pre_sign.get(k).copied().unwrap_or(0.0))
        }));
        self
    }
}

/// A trainable graph of rate populations and dense projections, `dt` in ms.
#[derive(Clone, Debug)]
pub struct RateGraph<F: Real> {
    /// Time step (ms).
    pub dt: f64,
    /// Populations in update order.
    pub pops: Vec<TrainPop<F>>,
    /// Projections.
    pub projs: Vec<TrainProj<F>>,
    /// Readout populations: their rates, concatenated in this order, are the output.
    pub readout: Vec<usize>,
}

fn invalid(context: String, message: impl Into<String>) -> CortecsError {
    CortecsError::InvalidParameter {
        context,
        message: message.into(),
    }
}

impl<F: Real> RateGraph<F> {
    /// An empty graph with time step `dt` (ms).
    pub fn new(dt: f64) -> Self {
        RateGraph {
            dt,
            pops: Vec::new(),
            projs: Vec::new(),
            readout: Vec::new(),
        }
    }

    /// Adds a population and returns its index.
    pub fn add_pop(&mut self, pop: TrainPop<F>) -> usize {
        self.pops.push(pop);
        self.pops.len() - 1
    }

    /// Adds a projection and returns its index.
    pub fn add_proj(&mut self, proj: TrainProj<F>) -> usize {
        self.projs.push(proj);
        self.projs.len() - 1
    }

    /// Index of the population named `name`.
    pub fn pop(&self, name: &str) -> Result<usize> {
        self.pops
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| CortecsError::UnknownName {
                kind: "population",
                name: name.into(),
                known: self.pops.iter().map(|p| p.name.clone()).collect(),
            })
    }

    /// Index of the projection named `name`.
    pub fn proj(&self, name: &str) -> Result<usize> {
        self.projs
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| CortecsError::UnknownName {
                kind: "projection",
                name: name.into(),
                known: self.projs.iter().map(|p| p.name.clone()).collect(),
            })
    }

    /// Input channels (the sum of the input populations' sizes, in order).
    pub fn n_in(&self) -> usize {
        self.pops.iter().filter(|p| p.input).map(|p| p.size).sum()
    }

    /// Output channels (the sum of the readout populations' sizes).
    pub fn n_out(&self) -> usize {
        self.readout.iter().map(|&p| self.pops[p].size).sum()
    }

    /// Checks names, sizes, masks and parameters; every error names the
    /// population or projection and what is wrong.
    pub fn validate(&self) -> Result<()> {
        if !(self.dt > 0.0 && self.dt.is_finite()) {
            return Err(invalid(
                "train: graph".into(),
                format!("dt must be > 0 ms, got {}", self.dt),
            ));
        }
        for (i, p) in self.pops.iter().enumerate() {
            let ctx = format!("train: population '{}' (index {i})", p.name);
            if self.pops[..i].iter().any(|q| q.name == p.name) {
                return Err(CortecsError::DuplicateName {
                    kind: "population",
                    name: p.name.clone(),
                });
            }
            for (what, len) in [("alpha", p.alpha.len()), ("bias", p.bias.len()), ("v0", p.v0.len())] {
                if len != p.size {
                    return Err(CortecsError::WrongLength {
                        context: format!("{ctx}.{what}"),
                        expected: p.size,
                        got: len,
                    });
                }
            }
            if let Some(k) = p.alpha.iter().position(|a| !(*a > F::zero() && *a <= F::one())) {
                return Err(invalid(ctx, format!("alpha[{k}] = {} is outside (0, 1]", p.alpha[k])));
            }
            for (what, s) in [("sigma_pre", p.sigma_pre), ("sigma_post", p.sigma_post)] {
                if !(s >= 0.0 && s.is_finite()) {
                    return Err(invalid(ctx, format!("{what} must be >= 0, got {s}")));
                }
            }
        }
        for (i, q) in self.projs.iter().enumerate() {
            let ctx = format!("train: projection '{}' (index {i})", q.name);
            if self.projs[..i].iter().any(|o| o.name == q.name) {
                return Err(CortecsError::DuplicateName {
                    kind: "projection",
                    name: q.name.clone(),
                });
            }
            let n = self.pops.len();
            if q.pre >= n || q.post >= n {
                return Err(invalid(
                    ctx,
                    format!("pre {} / post {} out of range ({n} populations)", q.pre, q.post),
                ));
            }
            if self.pops[q.post].input {
                return Err(invalid(
                    ctx,
                    format!("targets input population '{}'", self.pops[q.post].name),
                ));
            }
            let shape = (self.pops[q.post].size, self.pops[q.pre].size);
            let masks = [
                ("weights", Some(&q.w)),
                ("sparsity mask", q.sparsity.as_ref()),
                ("E/I mask", q.sign.as_ref()),
                ("plasticity mask", q.plasticity.as_ref()),
            ];
            for (what, m) in masks {
                if let Some(m) = m
                    && m.dim() != shape
                {
                    return Err(invalid(
                        ctx,
                        format!("{what} is {:?}, expected post x pre {:?}", m.dim(), shape),
                    ));
                }
            }
            let check = |m: &Option<Array2<F>>, what: &str, ok: &dyn Fn(F) -> bool| -> Result<()> {
                if let Some(m) = m
                    && let Some(((post, pre), x)) = m.indexed_iter().find(|(_, x)| !ok(**x))
                {
                    return Err(invalid(
                        ctx.clone(),
                        format!("{what}[{post}, {pre}] = {x} is not allowed"),
                    ));
                }
                Ok(())
            };
            check(&q.sparsity, "sparsity mask", &|x| x == F::zero() || x == F::one())?;
            check(&q.sign, "E/I mask", &|x| {
                x == F::zero() || x == F::one() || x == F::zero() - F::one()
            })?;
            check(&q.plasticity, "plasticity mask", &|x| x >= F::zero() && x <= F::one())?;
        }
        if self.readout.is_empty() {
            return Err(invalid("train: graph".into(), "no readout population"));
        }
        if let Some(&r) = self.readout.iter().find(|&&r| r >= self.pops.len()) {
            return Err(invalid(
                "train: graph".into(),
                format!("readout index {r} out of range"),
            ));
        }
        Ok(())
    }

    /// nn4n's CTRNN `dims = [n_in, hidden, n_out]` from given weights:
    /// input -> hidden (`w_in`, no bias), hidden -> hidden (`w_hid`, `b_hid`),
    /// hidden -> output (`w_out`, `b_out`, identity, alpha = 1); `alpha = dt / tau`.
    pub fn ctrnn(w: &crate::workloads::CtrnnWeights, activation: Activation, dt: f64, tau: f64) -> Self {
        let c1 = |a: &Array1<f32>| a.mapv(|x| F::of(f64::from(x)));
        let c2 = |a: &Array2<f32>| a.mapv(|x| F::of(f64::from(x)));
        let (hidden, n_in) = w.w_in.dim();
        let mut g = RateGraph::new(dt);
        let i = g.add_pop(TrainPop::input("input", n_in));
        let h = g.add_pop(
            TrainPop::new("hidden", hidden, activation)
                .tau(dt, tau)
                .bias(c1(&w.b_hid)),
        );
        let o = g.add_pop(TrainPop::new("output", w.w_out.nrows(), Activation::Identity).bias(c1(&w.b_out)));
        g.add_proj(TrainProj::new("w_in", i, h, c2(&w.w_in)));
        g.add_proj(TrainProj::new("w_hid", h, h, c2(&w.w_hid)));
        g.add_proj(TrainProj::new("w_out", h, o, c2(&w.w_out)));
        g.readout = vec![o];
        g
    }
}
