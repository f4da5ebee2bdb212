//! The reference workloads of `WORKLOADS.md` (W1 COBA, W2 Brunel, W3 build,
//! W4 CTRNN) as network builders, shared by the CLI, the tests and the
//! benchmarks.

use crate::connect::Strategy;
use crate::error::Result;
use crate::model::{ModelKind, SynapseKind};
use crate::network::{Network, PoissonDrive, PolaritySpec, PopulationSpec, ProjectionSpec};
use crate::param::Value;
use std::path::Path;

/// W1: Vogels & Abbott COBA, 4000 LIF neurons with conductance-based
/// exponential synapses, p = 0.02, Euler at dt = 0.1 ms. `data_dir` holds
/// `w1_v0.npy`, `w1_ge0.npy`, `w1_gi0.npy` (the numpy initial conditions).
pub fn coba(seed: u64, data_dir: &Path) -> Result<Network> {
    let mut net = Network::new(0.1, seed)?;
    net.base_dir = data_dir.to_path_buf();
    let spec = PopulationSpec::new("neurons", 4000, ModelKind::Lif { synapse: SynapseKind::CondExp })
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
        ProjectionSpec::new("recurrent", "neurons", "neurons", Strategy::FixedProbability { p: 0.02, equalize_efferents: false })
            .weight(6.0)
            .weight_inh(67.0)
            .delay(0.1)
            .compact(true),
    )?;
    Ok(net)
}

/// W2: Brunel (2000) with `n_exc` excitatory and `n_exc / 4` inhibitory
/// delta-synapse LIF neurons, fixed in-degree 10 % (with replacement), J =
/// 0.1 mV, g = 5, D = 1.5 ms, Poisson drive eta = 2. `n_exc = 10_000` is W2.
pub fn brunel(seed: u64, n_exc: usize) -> Result<Network> {
    let n_inh = n_exc / 4;
    let (c_e, c_i) = (n_exc / 10, n_inh / 10);
    let (j, g, tau_m, theta) = (0.1, 5.0, 20.0, 20.0);
    let nu_th = theta / (j * c_e as f64 * tau_m) * 1000.0; // Hz
    let mut net = Network::new(0.1, seed)?;
    let lif = |name: &str, n: usize, pol: PolaritySpec| {
        PopulationSpec::new(name, n, ModelKind::Lif { synapse: SynapseKind::Delta })
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
    net.add_population(lif("inh", n_inh, PolaritySpec::Excitatory))?;
    for post in ["exc", "inh"] {
        net.add_projection(
            ProjectionSpec::new(&format!("exc_{post}"), "exc", post, Strategy::FixedInDegree { k: c_e })
                .weight(j)
                .delay(1.5)
                .multapses(true)
                .compact(true),
        )?;
    }
    for post in ["exc", "inh"] {
        net.add_projection(
            ProjectionSpec::new(&format!("inh_{post}"), "inh", post, Strategy::FixedInDegree { k: c_i })
                .weight(-g * j)
                .delay(1.5)
                .multapses(true)
                .compact(true),
        )?;
    }
    net.build_pending()?;
    for pop in ["exc", "inh"] {
        net.add_drive(pop, PoissonDrive { rate: 2.0 * nu_th * c_e as f64, weight: j })?;
    }
    Ok(net)
}
