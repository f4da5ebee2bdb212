//! Dynamics on the compiled kernels: delays, sources, synapse shapes, noise.

use cortecs::population::PopulationState;
use cortecs::prelude::*;

/// A spike source firing once at `t_spike` ms into one neuron of `model`.
fn one_spike_into(model: ModelKind, weight: f64, delay_ms: f64) -> Network {
    let mut net = Network::new(0.1, 1).unwrap();
    let mut src = PopulationSpec::new("src", 1, ModelKind::SpikeSource);
    src.spike_times = Some(Sequence::Same(vec![1.0]));
    net.add_population(src).unwrap();
    net.add_population(
        PopulationSpec::new("n", 1, model)
            .param("v_rest", 0.0)
            .param("v_init", 0.0)
            .param("v_reset", 0.0)
            .param("v_thresh", 1000.0)
            .param("cm", 1.0)
            .param("tau_m", 20.0),
    )
    .unwrap();
    net.connect(
        ProjectionSpec::new("p", "src", "n", Strategy::OneToOne)
            .weight(weight)
            .delay(delay_ms),
    )
    .unwrap();
    net
}

fn v(net: &Network) -> f64 {
    net.population("n").unwrap().get("v").unwrap()[0]
}

#[test]
fn delta_input_arrives_exactly_delay_steps_later() {
    // spike at step 10 (1.0 ms); delay 2.0 ms = 20 steps: it is in the update of step 30
    let mut net = one_spike_into(
        ModelKind::Lif {
            synapse: SynapseKind::Delta,
        },
        5.0,
        2.0,
    );
    net.run_steps(30);
    assert_eq!(v(&net), 0.0);
    net.run_steps(1);
    assert_eq!(v(&net), 5.0);
    net.run_steps(1);
    assert!((v(&net) - 5.0 * (-0.1f64 / 20.0).exp()).abs() < 1e-12);
}

#[test]
fn exponential_synapse_input_moves_v_one_step_after_arrival() {
    let mut net = one_spike_into(
        ModelKind::Lif {
            synapse: SynapseKind::CurrExp,
        },
        10.0,
        0.5,
    );
    net.run_steps(16); // arrival in step 15: the current jumps after that step's integration
    assert_eq!(v(&net), 0.0);
    net.run_steps(1); // step 16 integrates I = 10 pA: dv = dt * I / C
    assert!((v(&net) - 0.1 * 10.0 / 1.0).abs() < 1e-12, "{}", v(&net));
}

#[test]
fn alpha_synapse_current_peaks_at_tau_with_its_weight() {
    let mut net = one_spike_into(
        ModelKind::Lif {
            synapse: SynapseKind::CurrAlpha,
        },
        10.0,
        0.1,
    );
    let mut trace = Vec::new();
    for _ in 0..300 {
        net.run_steps(1);
        let PopulationState::Spiking(s) = &net.population("n").unwrap().state else {
            unreachable!()
        };
        trace.push(s.g_e[0]);
    }
    let (peak_at, peak) = trace
        .iter()
        .enumerate()
        .fold((0, 0.0f64), |a, (i, &g)| if g > a.1 { (i, g) } else { a });
    // arrival after step 11; tau_syn_e = 5 ms = 50 steps
    assert!((peak_at as i64 - (11 + 50)).abs() <= 1, "peak at step {peak_at}");
    assert!((peak - 10.0).abs() < 0.2, "peak {peak}");
}

#[test]
fn poisson_source_fires_at_its_rate() {
    let mut net = Network::new(0.1, 5).unwrap();
    net.add_population(PopulationSpec::new("p", 1000, ModelKind::PoissonSource).param("rate", 20.0))
        .unwrap();
    net.run_ms(1000.0).unwrap();
    let count = net.population("p").unwrap().spike_count as f64;
    let expected = 1000.0 * 20.0;
    assert!((count - expected).abs() < 5.0 * expected.sqrt(), "{count}");
}

#[test]
fn poisson_drive_gives_the_free_membrane_its_mean() {
    // delta LIF with a 1 kHz drive of 0.1 mV: mean V = tau_m * rate * J = 20 ms * 1/ms * 0.1 mV = 2 mV
    let mut net = Network::new(0.1, 6).unwrap();
    net.add_population(
        PopulationSpec::new(
            "n",
            2000,
            ModelKind::Lif {
                synapse: SynapseKind::Delta,
            },
        )
        .param("v_rest", 0.0)
        .param("v_init", 0.0)
        .param("v_thresh", 100.0),
    )
    .unwrap();
    net.add_drive(
        "n",
        PoissonDrive {
            rate: 1000.0,
            weight: 0.1,
        },
    )
    .unwrap();
    net.run_ms(200.0).unwrap();
    let m = net.population("n").unwrap().get("v").unwrap().mean().unwrap();
    assert!((m - 2.0).abs() < 0.05, "{m}");
}

fn rate_net(pre_noise: f64, post_noise: f64) -> Network {
    let mut net = Network::new(1.0, 8).unwrap();
    let mut spec = PopulationSpec::new(
        "r",
        50,
        ModelKind::Rate {
            activation: Activation::Tanh,
        },
    )
    .param("tau", 10.0)
    .batch(4);
    spec.pre_noise = pre_noise;
    spec.post_noise = post_noise;
    net.add_population(spec).unwrap();
    net.connect(
        ProjectionSpec::new("rec", "r", "r", Strategy::AllToAll)
            .weight(Value::of_pair(|i, j| ((i * 7 + j * 3) % 11) as f64 / 11.0 - 0.5)),
    )
    .unwrap();
    if let PopulationState::Rate(s) = &mut net.populations[0].state {
        s.input
            .iter_mut()
            .enumerate()
            .for_each(|(k, x)| *x = (k % 5) as f32 * 0.1);
    }
    net
}

fn rate_state(net: &Network) -> (Vec<f32>, Vec<f32>) {
    let PopulationState::Rate(s) = &net.populations[0].state else {
        unreachable!()
    };
    (s.v.clone(), s.r.clone())
}

#[test]
fn rate_noise_on_off_and_carried_or_not() {
    let mut quiet = rate_net(0.0, 0.0);
    let mut post = rate_net(0.0, 0.1);
    let mut pre = rate_net(0.1, 0.0);
    // one step from zero: v = a (W r + I + b) with r = 0, identical without pre noise
    for n in [&mut quiet, &mut post, &mut pre] {
        n.run_steps(1);
    }
    let (vq, rq) = rate_state(&quiet);
    let (vp, rp) = rate_state(&post);
    let (vpre, _) = rate_state(&pre);
    assert_eq!(vq, vp, "post-activation noise is not carried into v");
    assert_ne!(rq, rp);
    assert_ne!(vq, vpre, "pre-activation noise is added to v");
    for k in 0..vq.len() {
        let expected = 0.1 * ((k % 5) as f32 * 0.1);
        assert!((vq[k] - expected).abs() < 1e-6);
        assert_eq!(rq[k], cortecs::model::fast_tanh(vq[k]));
    }
    // noise is reproducible with the seed
    let mut again = rate_net(0.1, 0.0);
    again.run_steps(1);
    assert_eq!(rate_state(&again).0, vpre);
}

#[test]
fn impossible_delays_and_connections_are_refused() {
    let mut net = Network::new(0.1, 1).unwrap();
    net.add_population(PopulationSpec::new(
        "a",
        5,
        ModelKind::Lif {
            synapse: SynapseKind::Delta,
        },
    ))
    .unwrap();
    net.add_population(PopulationSpec::new(
        "r",
        5,
        ModelKind::Rate {
            activation: Activation::Tanh,
        },
    ))
    .unwrap();
    let e = net
        .add_projection(ProjectionSpec::new("d", "a", "a", Strategy::AllToAll).delay(0.04))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("delay 0.04 ms is 0.4 steps of 0.1 ms; it must be between 1 and 65535 steps"),
        "{e}"
    );
    let e = net
        .add_projection(ProjectionSpec::new("x", "a", "r", Strategy::AllToAll))
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot connect"), "{e}");
    let e = net
        .add_projection(ProjectionSpec::new("o", "a", "zz", Strategy::AllToAll))
        .unwrap_err()
        .to_string();
    assert_eq!(e, "unknown population 'zz' (known: a, r)");
    assert!(net.pending.is_empty());
}

/// Mean and standard deviation (n - 1) of `xs`.
fn mean_std(xs: &[f32]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let var = xs.iter().map(|&x| (f64::from(x) - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, var.sqrt())
}

#[test]
fn rate_noise_has_the_stated_size() {
    // identity units, no input, v = 0: one step leaves v = sigma_pre * eps and
    // r = v + sigma_post * eps' (independent), over 8000 neurons x 3 trials
    let make = |pre: f64, post: f64| {
        let mut net = Network::new(1.0, 21).unwrap();
        let mut spec = PopulationSpec::new(
            "r",
            8000,
            ModelKind::Rate {
                activation: Activation::Identity,
            },
        )
        .param("tau", 10.0)
        .batch(3);
        spec.pre_noise = pre;
        spec.post_noise = post;
        net.add_population(spec).unwrap();
        net.run_steps(1);
        rate_state(&net)
    };
    let n = 24_000.0f64;
    // the sample std of n normals has a standard error of sigma / sqrt(2 (n - 1))
    let near = |got: f64, sigma: f64, what: &str| {
        let se = sigma / (2.0 * (n - 1.0)).sqrt();
        assert!(
            (got - sigma).abs() < 5.0 * se,
            "{what}: std {got}, stated {sigma} (5 SE = {})",
            5.0 * se
        );
    };
    let (v, r) = make(0.2, 0.0);
    let (m, s) = mean_std(&v);
    assert!(m.abs() < 5.0 * 0.2 / n.sqrt(), "pre-noise mean {m}");
    near(s, 0.2, "v with pre_noise 0.2");
    assert_eq!(v, r, "identity without post noise: r = v");
    let (v, r) = make(0.0, 0.05);
    assert!(v.iter().all(|&x| x == 0.0), "post noise does not reach v");
    let (m, s) = mean_std(&r);
    assert!(m.abs() < 5.0 * 0.05 / n.sqrt(), "post-noise mean {m}");
    near(s, 0.05, "r with post_noise 0.05");
    // both: the variances add
    let (_, r) = make(0.2, 0.05);
    near(mean_std(&r).1, (0.2f64.powi(2) + 0.05f64.powi(2)).sqrt(), "r with both");
}
