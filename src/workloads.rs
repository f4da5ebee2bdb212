//! The reference workloads of `benches/WORKLOADS.md` (W1 COBA, W2 Brunel, W3 build,
//! W4 CTRNN, W5 Brunel with STDP, the rate-bandwidth network) as network builders, shared by the CLI, the tests and the
//! benchmarks.

use crate::connect::Strategy;
use crate::error::Result;
use crate::model::{ModelKind, SynapseKind};
use crate::network::Network;
use crate::param::Value;
use crate::plasticity::{Dependence, Learning, Pairing, Rule, Stdp};
use crate::population::{PoissonDrive, PolaritySpec, PopulationSpec};
use crate::projection::ProjectionSpec;
use std::path::Path;

/// W1: Vogels & Abbott COBA, 4000 LIF neurons with conductance-based
/// exponential synapses, p = 0.02, Euler at dt = 0.1 ms. `data_dir` holds
/// `w1_v0.npy`, `w1_ge0.npy`, `w1_gi0.npy` (the numpy initial conditions).
pub fn coba(seed: u64, data_dir: &Path) -> Result<Network> {
    let mut net = Network::new(0.1, seed)?;
    net.base_dir = data_dir.to_path_buf();
    let spec = PopulationSpec::new(
        "neurons",
        4000,
        ModelKind::Lif {
            synapse: SynapseKind::CondExp,
        },
    )
    .param("cm", 200.0)
    .param("tau_m", 20.0)
    .param("v_rest", -60.0)
    .param("v_thresh", -50.0)
    .param("v_reset", -60.0)
    .param("t_ref", 5.0)
    .param("tau_syn_e", 5.0)
    .param("tau_syn_i", 10.0)
    .param("e_rev_e", 0.0)
    .param("e_rev_i", -80.0)
    .param("v_init", Value::Npy("w1_v0.npy".into()))
    .param("g_e_init", Value::Npy("w1_ge0.npy".into()))
    .param("g_i_init", Value::Npy("w1_gi0.npy".into()))
    .polarity(PolaritySpec::ExcitatoryFraction(0.8));
    net.add_population(spec)?;
    net.connect(
        ProjectionSpec::new(
            "recurrent",
            "neurons",
            "neurons",
            Strategy::FixedProbability {
                p: 0.02,
                equalize_efferents: false,
            },
        )
        .weight(6.0)
        .weight_inh(67.0)
        .delay(0.1)
        .compact(true),
    )?;
    Ok(net)
}

/// W2: Brunel (2000) with `n_exc` excitatory and `n_exc / 4` inhibitory
/// delta-synapse LIF neurons, fixed in-degree `c_e` E + `c_e / 4` I inputs (with replacement), J =
/// 0.1 mV, g = 5, D = 1.5 ms, Poisson drive eta = 2. `n_exc = 10_000, c_e = 1000` is W2.
/// `compact`: keep no mirror entities (see [`crate::ecs::Simulation`]).
pub fn brunel(seed: u64, n_exc: usize, c_e: usize, compact: bool) -> Result<Network> {
    brunel_with(seed, n_exc, c_e, compact, None)
}

/// The W5 rule: additive all-to-all pair STDP in Brian2's `STDP.py` form,
/// A_pre = 0.01 J = 0.001 mV, A_post = -1.05 A_pre, tau 20 ms both, bounds [0, 2 J = 0.2 mV].
pub fn w5_stdp() -> Learning {
    Learning::new(
        Rule::Stdp(Stdp {
            tau_plus: 20.0,
            tau_minus: 20.0,
            a_plus: 0.001,
            a_minus: 0.00105,
            dependence: Dependence::Additive,
            pairing: Pairing::AllToAll,
        }),
        0.2,
    )
}

/// W5: W2 with the E -> E synapses learning by [`w5_stdp`] (the pre
/// pathway, PSP and pre-side update, arrives after D = 1.5 ms; the post side
/// has no delay). E -> I and the inhibitory synapses stay static.
pub fn brunel_stdp(seed: u64, n_exc: usize, c_e: usize, compact: bool) -> Result<Network> {
    brunel_with(seed, n_exc, c_e, compact, Some(w5_stdp()))
}

fn brunel_with(seed: u64, n_exc: usize, c_e: usize, compact: bool, ee: Option<Learning>) -> Result<Network> {
    let n_inh = n_exc / 4;
    let c_i = c_e / 4;
    let (j, g, tau_m, theta) = (0.1, 5.0, 20.0, 20.0);
    let nu_th = theta / (j * c_e as f64 * tau_m) * 1000.0; // Hz
    let mut net = Network::new(0.1, seed)?;
    let lif = |name: &str, n: usize, pol: PolaritySpec| {
        PopulationSpec::new(
            name,
            n,
            ModelKind::Lif {
                synapse: SynapseKind::Delta,
            },
        )
        .param("tau_m", tau_m)
        .param("cm", 1.0)
        .param("v_rest", 0.0)
        .param("v_thresh", theta)
        .param("v_reset", 0.0)
        .param("t_ref", 2.0)
        .param("v_init", 0.0)
        .polarity(pol)
    };
    net.add_population(lif("exc", n_exc, PolaritySpec::Excitatory))?;
    net.add_population(lif("inh", n_inh, PolaritySpec::Inhibitory))?;
    for post in ["exc", "inh"] {
        let mut spec = ProjectionSpec::new(&format!("exc_{post}"), "exc", post, Strategy::FixedInDegree { k: c_e })
            .weight(j)
            .delay(1.5)
            .multapses(true)
            .compact(compact);
        if let (Some(l), "exc") = (&ee, post) {
            spec = spec.learn(l.clone());
        }
        net.add_projection(spec)?;
    }
    for post in ["exc", "inh"] {
        net.add_projection(
            ProjectionSpec::new(&format!("inh_{post}"), "inh", post, Strategy::FixedInDegree { k: c_i })
                .weight(-g * j)
                .delay(1.5)
                .multapses(true)
                .compact(compact),
        )?;
    }
    net.build_pending()?;
    for pop in ["exc", "inh"] {
        net.add_drive(
            pop,
            PoissonDrive {
                rate: 2.0 * nu_th * c_e as f64,
                weight: j,
            },
        )?;
    }
    Ok(net)
}

/// W3: two populations of 10,000 neurons (never simulated).
pub fn w3_populations(seed: u64) -> Result<Network> {
    let mut net = Network::new(0.1, seed)?;
    for name in ["pre", "post"] {
        net.add_population(PopulationSpec::new(
            name,
            10_000,
            ModelKind::Lif {
                synapse: SynapseKind::Delta,
            },
        ))?;
    }
    Ok(net)
}

/// W3: pairwise Bernoulli p = 0.1 over all 10^8 pairs, weights Normal(0.5, 0.1), delay 1 ms, compact.
pub fn w3_projection() -> ProjectionSpec {
    ProjectionSpec::new(
        "w3",
        "pre",
        "post",
        Strategy::FixedProbability {
            p: 0.1,
            equalize_efferents: false,
        },
    )
    .weight(crate::param::Distribution::Normal { mean: 0.5, std: 0.1 })
    .delay(1.0)
    .compact(true)
}

/// The rate-bandwidth workload: `units` tanh rate units (tau = 10 ms at
/// dt = 1 ms, v_init ~ N(0, 1)) and one recurrent projection that joins each
/// pair with probability `p`, weights N(0, g^2 / (p units)) with g = 1.5 (the
/// chaotic regime of Sompolinsky et al.: the rates stay of order one). At
/// 20,000 units and p = 0.1: 4 x 10^7 synapses, below the dense kernel's
/// density, so each step reads the post-major store: 6 B a synapse
/// (weight f32 and pre index u16; u32 beyond 65,536 units).
pub fn rate_network(seed: u64, units: usize, p: f64) -> Result<Network> {
    use crate::param::Distribution;
    let mut net = Network::new(1.0, seed)?;
    net.add_population(
        PopulationSpec::new(
            "units",
            units,
            ModelKind::Rate {
                activation: crate::model::Activation::Tanh,
            },
        )
        .param("tau", 10.0)
        .param("v_init", Distribution::Normal { mean: 0.0, std: 1.0 }),
    )?;
    let std = 1.5 / (p * units as f64).max(1.0).sqrt();
    net.add_projection(
        ProjectionSpec::new(
            "recurrent",
            "units",
            "units",
            Strategy::FixedProbability {
                p,
                equalize_efferents: false,
            },
        )
        .weight(Distribution::Normal { mean: 0.0, std })
        .compact(true),
    )?;
    net.build_pending()?;
    Ok(net)
}

/// W4: a CTRNN `dims = [n_in, hidden, n_out]` as nn4n builds it, run by the
/// engine: an input population (identity, a = 1) whose rates are the input,
/// the hidden rate population (tanh, tau = 100 ms at dt = 10 ms), and a
/// linear readout population (identity, a = 1, bias `b_out`), with all-dense
/// projections `W_in`, `W_hid`, `W_out` stored post x pre.
pub struct Ctrnn {
    /// The engine network (populations "input", "hidden", "output").
    pub net: Network,
    /// Trials per forward pass.
    pub batch: usize,
}

/// Weights and biases of a CTRNN (float32, post x pre).
#[derive(Clone, Debug)]
pub struct CtrnnWeights {
    /// Input weights (hidden x n_in).
    pub w_in: ndarray::Array2<f32>,
    /// Recurrent weights (hidden x hidden).
    pub w_hid: ndarray::Array2<f32>,
    /// Hidden bias.
    pub b_hid: ndarray::Array1<f32>,
    /// Readout weights (n_out x hidden).
    pub w_out: ndarray::Array2<f32>,
    /// Readout bias.
    pub b_out: ndarray::Array1<f32>,
}

impl CtrnnWeights {
    /// nn4n's "uniform" initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for
    /// every weight and bias (fan_in = n_in for W_in, hidden otherwise), from `seed`.
    pub fn uniform(n_in: usize, hidden: usize, n_out: usize, seed: u64) -> CtrnnWeights {
        let mut rng = crate::rng::Stream::keyed(seed, "ctrnn", "init", 0);
        let mut u = |fan_in: usize| {
            let b = 1.0 / (fan_in as f64).sqrt();
            (-b + 2.0 * b * rng.uniform()) as f32
        };
        CtrnnWeights {
            w_in: ndarray::Array2::from_shape_simple_fn((hidden, n_in), || u(n_in)),
            w_hid: ndarray::Array2::from_shape_simple_fn((hidden, hidden), || u(hidden)),
            b_hid: ndarray::Array1::from_shape_simple_fn(hidden, || u(hidden)),
            w_out: ndarray::Array2::from_shape_simple_fn((n_out, hidden), || u(hidden)),
            b_out: ndarray::Array1::from_shape_simple_fn(n_out, || u(hidden)),
        }
    }
}

impl Ctrnn {
    /// A CTRNN with nn4n's uniform initialisation.
    pub fn uniform(n_in: usize, hidden: usize, n_out: usize, batch: usize, seed: u64) -> Ctrnn {
        Self::from_weights(&CtrnnWeights::uniform(n_in, hidden, n_out, seed), batch, 10.0, 100.0)
            .expect("uniform weights have consistent shapes")
    }

    /// A CTRNN with given weights, `dt` and `tau` (ms), `batch` trials.
    pub fn from_weights(w: &CtrnnWeights, batch: usize, dt: f64, tau: f64) -> Result<Ctrnn> {
        use crate::model::Activation;
        let (hidden, n_in) = w.w_in.dim();
        let n_out = w.w_out.nrows();
        let mut net = Network::new(dt, 0)?;
        let f64s = |a: &ndarray::Array1<f32>| Value::from(a.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>());
        net.add_population(
            PopulationSpec::new(
                "input",
                n_in,
                ModelKind::Rate {
                    activation: Activation::Identity,
                },
            )
            .param("tau", dt)
            .batch(batch),
        )?;
        net.add_population(
            PopulationSpec::new(
                "hidden",
                hidden,
                ModelKind::Rate {
                    activation: Activation::Tanh,
                },
            )
            .param("tau", tau)
            .param("bias", f64s(&w.b_hid))
            .batch(batch),
        )?;
        net.add_population(
            PopulationSpec::new(
                "output",
                n_out,
                ModelKind::Rate {
                    activation: Activation::Identity,
                },
            )
            .param("tau", dt)
            .param("bias", f64s(&w.b_out))
            .batch(batch),
        )?;
        let m = |a: &ndarray::Array2<f32>| a.mapv(f64::from);
        net.add_projection(
            ProjectionSpec::new("w_in", "input", "hidden", Strategy::FromMatrix { matrix: m(&w.w_in) }).compact(true),
        )?;
        net.add_projection(
            ProjectionSpec::new(
                "w_hid",
                "hidden",
                "hidden",
                Strategy::FromMatrix { matrix: m(&w.w_hid) },
            )
            .compact(true),
        )?;
        net.add_projection(
            ProjectionSpec::new(
                "w_out",
                "hidden",
                "output",
                Strategy::FromMatrix { matrix: m(&w.w_out) },
            )
            .compact(true),
        )?;
        net.build_pending()?;
        Ok(Ctrnn { net, batch })
    }

    /// Standard-normal input of shape (steps, batch, n_in) from `seed`.
    pub fn gaussian_input(steps: usize, batch: usize, n_in: usize, seed: u64) -> ndarray::Array3<f32> {
        let mut rng = crate::rng::Stream::keyed(seed, "ctrnn", "input", 0);
        ndarray::Array3::from_shape_simple_fn((steps, batch, n_in), || crate::rng::standard_normal(&mut rng) as f32)
    }

    /// Runs the whole input `u` (steps, batch, n_in) from the zero state and
    /// returns the readout (steps, batch, n_out).
    pub fn forward(&mut self, u: &ndarray::Array3<f32>) -> ndarray::Array3<f32> {
        use crate::population::PopulationState;
        let (steps, batch, n_in) = u.dim();
        let n_out = self.net.populations[2].size;
        for p in &mut self.net.populations {
            if let PopulationState::Rate(s) = &mut p.state {
                s.v.fill(0.0);
                s.r.fill(0.0);
            }
        }
        let mut y = ndarray::Array3::<f32>::zeros((steps, batch, n_out));
        for t in 0..steps {
            if let PopulationState::Rate(s) = &mut self.net.populations[0].state {
                for b in 0..batch.min(s.batch) {
                    for i in 0..n_in {
                        s.input[i * s.batch + b] = u[[t, b, i]];
                    }
                }
            }
            self.net.step_once();
            if let PopulationState::Rate(s) = &self.net.populations[2].state {
                for b in 0..batch.min(s.batch) {
                    for o in 0..n_out {
                        y[[t, b, o]] = s.r[o * s.batch + b];
                    }
                }
            }
        }
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::param::Distribution;
    use crate::store::{Column, Indices};

    /// Every store widened to `u32` indices and a sign byte per synapse;
    /// how many had one sign for all.
    fn widen(net: &mut Network) -> usize {
        let mut uniform = 0;
        for p in &mut net.projections {
            let s = &mut p.store;
            assert!(s.minor.is_narrow(), "{}", p.spec.name);
            s.minor = Indices::Wide(s.minor.to_vec(0..s.len()));
            uniform += usize::from(matches!(s.sign, Column::Uniform(_)));
            s.sign = Column::PerSynapse(s.signs().collect());
        }
        uniform
    }

    /// The whole saved state after `steps` steps.
    fn state_after(mut net: Network, steps: u64, tag: &str) -> Vec<u8> {
        for _ in 0..steps {
            net.step_once();
        }
        let path = std::env::temp_dir().join(format!("cortecs-width-{tag}-{}.cortecs", std::process::id()));
        crate::checkpoint::save(&net, &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        bytes
    }

    /// Poisson sources onto LIF neurons through per-synapse delays.
    fn delayed(seed: u64) -> Network {
        let mut net = Network::new(0.1, seed).unwrap();
        net.rounding = crate::network::Rounding::Nearest;
        net.add_population(PopulationSpec::new("src", 400, ModelKind::PoissonSource).param("rate", 80.0))
            .unwrap();
        let lif = ModelKind::Lif {
            synapse: crate::model::SynapseKind::CurrExp,
        };
        net.add_population(PopulationSpec::new("dst", 300, lif)).unwrap();
        let p = Strategy::FixedProbability {
            p: 0.2,
            equalize_efferents: false,
        };
        net.add_projection(
            ProjectionSpec::new("sd", "src", "dst", p)
                .weight(60.0)
                .delay(Distribution::Uniform { low: 0.1, high: 3.0 })
                .compact(true),
        )
        .unwrap();
        net.build_pending().unwrap();
        net
    }

    /// `u16` and `u32` indices, one sign and a sign per synapse: the same
    /// bits after spike delivery (uniform and per-synapse delays), pair
    /// STDP (fused and column paths) and the sparse rate step.
    #[test]
    fn narrow_and_wide_stores_give_the_same_bits() {
        type Case = (&'static str, fn() -> Network, u64);
        let cases: [Case; 4] = [
            ("w2", || brunel(3, 800, 80, true).unwrap(), 300),
            ("w5", || brunel_stdp(4, 800, 80, true).unwrap(), 300),
            ("delays", || delayed(5), 200),
            ("rate", || rate_network(6, 300, 0.1).unwrap(), 20),
        ];
        for (tag, make, steps) in cases {
            let narrow = make();
            if tag != "rate" {
                // the stores were exercised: spikes arrived
                let mut probe = make();
                for _ in 0..steps {
                    probe.step_once();
                }
                assert!(
                    probe.populations.iter().all(|p| p.spike_count > 50),
                    "{tag}: too few spikes"
                );
            }
            let mut wide = make();
            let uniform = widen(&mut wide);
            // one sign for all where the pre population has one (Brunel's E and I projections)
            assert_eq!(uniform > 0, tag != "rate", "{tag}");
            assert!(
                state_after(narrow, steps, tag) == state_after(wide, steps, tag),
                "{tag}: widths differ"
            );
        }
    }
}
