//! A trained [`RateGraph`] as an ordinary engine network, and batched
//! trials through the engine: the bridge from `train/` to simulation.

use super::Network;
use crate::connect::Polarity;
use crate::connect::Strategy;
use crate::error::{CortecsError, Result};
use crate::mask::SignMask;
use crate::model::{Activation, ModelKind};
use crate::param::Value;
use crate::population::{PopulationSpec, PopulationState};
use crate::projection::ProjectionSpec;
use crate::train::{InitState, RateGraph, TrainPop, TrainProj};
use ndarray::Array3;

impl Network {
    /// The engine network of a trained graph, `batch` trials side by side:
    /// one rate population per graph population (`tau = dt / alpha`, the
    /// bias, the activation; an input population is identity with `tau = dt`),
    /// one compact `FromMatrix` projection per graph projection with its
    /// sparsity, plasticity and E/I masks (Dale's law goes on in the engine), pre-activation noise `alpha * sigma_pre`
    /// (the engine's is unscaled), post noise `sigma_post`. A learned initial
    /// state becomes the population's `v_init`.
    pub fn from_trained(g: &RateGraph<f32>, batch: usize, seed: u64) -> Result<Network> {
        g.validate()?;
        let mut net = Network::new(g.dt, seed)?;
        let f64s = |a: &ndarray::Array1<f32>| Value::from(a.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>());
        for p in &g.pops {
            let (activation, tau, bias) = if p.input {
                (Activation::Identity, Value::from(g.dt), Value::from(0.0))
            } else {
                // alpha = dt / tau in f32: read as its shortest decimal (0.2, not
                // 0.200000003), so tau is the 100 ms it was made from
                let decimal = |a: f32| a.to_string().parse::<f64>().unwrap_or(f64::from(a));
                let tau: Vec<f64> = p.alpha.iter().map(|&a| g.dt / decimal(a)).collect();
                (p.activation, Value::from(tau), f64s(&p.bias))
            };
            let mut spec = PopulationSpec::new(&p.name, p.size, ModelKind::Rate { activation })
                .param("tau", tau)
                .param("bias", bias)
                .batch(batch);
            if p.init == InitState::Learn {
                spec = spec.param("v_init", f64s(&p.v0));
            }
            if !p.input && p.sigma_pre > 0.0 {
                let a0 = p.alpha[0];
                if p.alpha.iter().any(|&a| a != a0) {
                    return Err(CortecsError::InvalidRequest(format!(
                        "population '{}': pre-activation noise with time constants that differ by unit cannot run in the engine (one noise level per population)",
                        p.name
                    )));
                }
                spec.pre_noise = f64::from(a0) * p.sigma_pre;
            }
            spec.post_noise = p.sigma_post;
            net.add_population(spec)?;
        }
        for q in &g.projs {
            let matrix = q.w.mapv(f64::from);
            let (pre, post) = (&g.pops[q.pre].name, &g.pops[q.post].name);
            let mut spec = ProjectionSpec::new(&q.name, pre, post, Strategy::FromMatrix { matrix }).compact(true);
            if let Some(m) = &q.sparsity {
                spec = spec.sparsity_mask(m.clone());
            }
            if let Some(m) = &q.plasticity {
                spec = spec.plasticity_mask(m.clone());
            }
            // the engine's E/I mask has no "free" entry: a mask with zeros stays in training only
            if let Some(m) = &q.sign
                && m.iter().all(|&x| x != 0.0)
            {
                spec = spec.ei_mask(m.clone());
            }
            net.add_projection(spec)?;
        }
        net.build_pending()?;
        Ok(net)
    }

    /// This network as a trainable graph: every population must be a rate
    /// population; those named in `inputs` become input populations (their
    /// rates are the input's channels, in order), `readout` names the output.
    /// Each projection becomes a dense trainable projection with its
    /// sparsity, E/I (the projection's sign mask, else the pre population's
    /// polarity) and plasticity masks; `alpha = dt / tau`, the bias, noise
    /// `sigma_pre = pre_noise / alpha`; a non-zero `v_init` becomes a learned initial state.
    pub fn to_rate_graph(&self, inputs: &[&str], readout: &[&str]) -> Result<RateGraph<f32>> {
        let mut g = RateGraph::new(self.dt);
        for (i, p) in self.populations.iter().enumerate() {
            let ModelKind::Rate { activation } = p.model else {
                return Err(CortecsError::InvalidRequest(format!(
                    "population '{}' (index {i}) is {}, only rate populations train",
                    p.name,
                    p.model.name()
                )));
            };
            if inputs.contains(&p.name.as_str()) {
                g.add_pop(TrainPop::input(&p.name, p.size));
                continue;
            }
            let at = |name: &str| p.model.param_position(name).map(|k| p.params[k].clone());
            let mut pop = TrainPop::new(&p.name, p.size, activation);
            if let Some(tau) = at("tau") {
                pop.alpha = tau.iter().map(|&t| (self.dt / t) as f32).collect();
            }
            if let Some(b) = at("bias") {
                pop.bias = b.iter().map(|&x| x as f32).collect();
            }
            if let Some(v0) = at("v_init")
                && v0.iter().any(|&x| x != 0.0)
            {
                pop.v0 = v0.iter().map(|&x| x as f32).collect();
                pop.init = InitState::Learn;
            }
            let a0 = f64::from(pop.alpha.first().copied().unwrap_or(1.0));
            pop.sigma_pre = p.pre_noise / a0;
            pop.sigma_post = p.post_noise;
            g.add_pop(pop);
        }
        for q in &self.projections {
            let mut t = TrainProj::new(&q.spec.name, q.pre, q.post, q.store.to_dense());
            let m = q.masks();
            t.sparsity = m.sparsity.as_ref().map(|b| b.to_array());
            t.plasticity = m.plasticity.as_ref().map(|x| x.to_array());
            let (n_post, n_pre) = t.w.dim();
            t.sign = match &m.signs {
                Some(SignMask::PerPre(s)) => Some(ndarray::Array2::from_shape_fn((n_post, n_pre), |(_, k)| {
                    f32::from(s[k])
                })),
                Some(SignMask::PerSynapse(x)) => Some(x.to_array().mapv(f32::from)),
                None => {
                    let pol = &self.populations[q.pre].polarity;
                    pol.iter().any(|p| *p != Polarity::None).then(|| {
                        ndarray::Array2::from_shape_fn((n_post, n_pre), |(_, k)| match pol.get(k) {
                            Some(Polarity::Excitatory) => 1.0,
                            Some(Polarity::Inhibitory) => -1.0,
                            _ => 0.0,
                        })
                    })
                }
            };
            g.add_proj(t);
        }
        for name in inputs {
            g.pop(name)?;
        }
        g.readout = readout.iter().map(|n| g.pop(n)).collect::<Result<Vec<usize>>>()?;
        g.validate()?;
        Ok(g)
    }

    /// Runs batched trials through rate populations: resets every rate
    /// population ([`Network::reset_rates`]), feeds input `u` (steps, batch,
    /// n_in) into the `inputs` populations' external input (channels in
    /// order) one step at a time, and returns the `readout` populations'
    /// rates after each step (steps, batch, n_out).
    pub fn run_trials(&mut self, inputs: &[&str], readout: &[&str], u: &Array3<f32>) -> Result<Array3<f32>> {
        let (steps, batch, n_in) = u.dim();
        let idx = |names: &[&str]| -> Result<Vec<usize>> {
            names
                .iter()
                .map(|n| {
                    self.populations
                        .iter()
                        .position(|p| p.name == *n)
                        .ok_or_else(|| CortecsError::UnknownName {
                            kind: "population",
                            name: n.to_string(),
                            known: self.populations.iter().map(|p| p.name.clone()).collect(),
                        })
                })
                .collect()
        };
        let (ins, outs) = (idx(inputs)?, idx(readout)?);
        for &p in ins.iter().chain(&outs) {
            match &self.populations[p].state {
                PopulationState::Rate(s) if s.batch == batch => {}
                PopulationState::Rate(s) => {
                    return Err(CortecsError::InvalidRequest(format!(
                        "population '{}' runs {} trials, the input has {batch}",
                        self.populations[p].name, s.batch
                    )));
                }
                _ => {
                    return Err(CortecsError::InvalidRequest(format!(
                        "population '{}' is not a rate population",
                        self.populations[p].name
                    )));
                }
            }
        }
        let width: usize = ins.iter().map(|&p| self.populations[p].size).sum();
        if width != n_in {
            return Err(CortecsError::WrongLength {
                context: "run_trials: input u (steps, batch, n_in) channels".into(),
                expected: width,
                got: n_in,
            });
        }
        self.reset_rates();
        let n_out: usize = outs.iter().map(|&p| self.populations[p].size).sum();
        let mut y = Array3::<f32>::zeros((steps, batch, n_out));
        for t in 0..steps {
            let mut col = 0;
            for &p in &ins {
                if let PopulationState::Rate(s) = &mut self.populations[p].state {
                    let n = s.input.len() / batch;
                    for i in 0..n {
                        for b in 0..batch {
                            s.input[i * batch + b] = u[[t, b, col + i]];
                        }
                    }
                    col += n;
                }
            }
            self.step_once();
            self.health_result()?;
            let mut col = 0;
            for &p in &outs {
                if let PopulationState::Rate(s) = &self.populations[p].state {
                    let n = s.r.len() / batch;
                    for i in 0..n {
                        for b in 0..batch {
                            y[[t, b, col + i]] = s.r[i * batch + b];
                        }
                    }
                    col += n;
                }
            }
        }
        Ok(y)
    }

    /// Resets every rate population to its initial state: `v = v_init`, `r = f(v_init)`, input 0.
    pub fn reset_rates(&mut self) {
        for pop in &mut self.populations {
            let ModelKind::Rate { activation } = pop.model else {
                continue;
            };
            let Some(k) = pop.model.param_position("v_init") else {
                continue;
            };
            let v0 = pop.params[k].clone();
            if let PopulationState::Rate(s) = &mut pop.state {
                let b = s.batch.max(1);
                for (j, (v, r)) in s.v.iter_mut().zip(s.r.iter_mut()).enumerate() {
                    let x = v0.get(j / b).copied().unwrap_or(0.0) as f32;
                    *v = x;
                    *r = activation.apply(x);
                }
                s.input.fill(0.0);
            }
        }
    }

    /// `v` or `r` of one trial of a batched rate population (units).
    pub fn get_trial(&self, population: &str, name: &str, trial: usize) -> Result<ndarray::Array1<f32>> {
        let p = self.population(population)?;
        let PopulationState::Rate(s) = &p.state else {
            return Err(CortecsError::InvalidRequest(format!(
                "population '{population}' is not a rate population (trials are rate state)"
            )));
        };
        if trial >= s.batch {
            return Err(CortecsError::InvalidRequest(format!(
                "population '{population}': trial {trial} out of range ({} trials)",
                s.batch
            )));
        }
        let values = match name {
            "v" => &s.v,
            "r" => &s.r,
            _ => {
                return Err(CortecsError::UnknownName {
                    kind: "trial variable",
                    name: format!("{population}.{name}"),
                    known: vec!["v".into(), "r".into()],
                });
            }
        };
        Ok(values.iter().skip(trial).step_by(s.batch).copied().collect())
    }
}
