//! Laws that hold for every rule after a long plastic run: masks, Dale's
//! signs and bounds, fixed synapses untouched; the same weights at any
//! thread count and across a checkpoint taken mid-learning.

use cortecs::plasticity::*;
use cortecs::prelude::Strategy;
use cortecs::prelude::*;
use cortecs::rng::Stream;
use ndarray::Array2;
use proptest::prelude::{Just, ProptestConfig, Strategy as Gen, prop_assert, prop_oneof, proptest};

const N: usize = 40;
const W_MIN: f64 = 0.05;
const W_MAX: f64 = 0.9;

/// A Poisson-driven LIF network (80 % excitatory, Dale's law) whose
/// recurrent projection learns with `rule` under a sparsity mask, a
/// plasticity mask with fixed synapses and no self-connections.
fn spiking_net(rule: Rule, seed: u64) -> (Network, Array2<f32>) {
    let mut net = Network::new(0.1, seed).unwrap();
    net.add_population(
        PopulationSpec::new("ext", 60, ModelKind::PoissonSource)
            .param("rate", 40.0)
            .record_spikes(true),
    )
    .unwrap();
    net.add_population(
        PopulationSpec::new(
            "net",
            N,
            ModelKind::Lif {
                synapse: SynapseKind::Delta,
            },
        )
        .param("v_rest", 0.0)
        .param("v_init", 0.0)
        .param("v_reset", 0.0)
        .param("v_thresh", 10.0)
        .param("t_ref", 1.0)
        .param("cm", 1.0)
        .param("tau_m", 10.0)
        .polarity(PolaritySpec::ExcitatoryFraction(0.8))
        .record_spikes(true),
    )
    .unwrap();
    let mut rng = Stream::from_seed(seed ^ 0x5eed);
    let sparsity = Array2::from_shape_fn((N, N), |_| f32::from(u8::from(rng.uniform() < 0.7)));
    let plasticity = Array2::from_shape_fn((N, N), |_| [0.0, 0.5, 1.0, 1.0][rng.below(4) as usize]);
    net.connect(
        ProjectionSpec::new(
            "ext",
            "ext",
            "net",
            Strategy::FixedProbability {
                p: 0.3,
                equalize_efferents: false,
            },
        )
        .weight(2.5),
    )
    .unwrap();
    net.connect(
        ProjectionSpec::new(
            "rec",
            "net",
            "net",
            Strategy::FixedProbability {
                p: 0.5,
                equalize_efferents: false,
            },
        )
        .weight(Distribution::Uniform { low: 0.1, high: 0.8 })
        .delay(1.0)
        .self_connections(false)
        .sparsity_mask(sparsity.clone())
        .plasticity_mask(plasticity)
        .learn(Learning::new(rule, W_MAX).w_min(W_MIN)),
    )
    .unwrap();
    (net, sparsity)
}

/// Weights of the recurrent projection by slot, with their signs.
fn snapshot(net: &Network) -> Vec<(f32, i8)> {
    let s = net.projection("rec").unwrap().store();
    (0..s.len()).map(|k| (s.weight[k], s.sign[k])).collect()
}

/// Checks every law on every synapse; returns how many learning synapses moved.
fn assert_laws(net: &Network, start: &[(f32, i8)], sparsity: &Array2<f32>, context: &str) -> usize {
    let p = net.projection("rec").unwrap();
    let s = p.store();
    let pol = &net.population("net").unwrap().polarity;
    let mut moved = 0;
    for (k, &(w0, s0)) in start.iter().enumerate() {
        let (w, sign) = (s.weight[k], s.sign[k]);
        if sign == 0 {
            assert_eq!(w, 0.0, "{context}: removed synapse {k} has weight {w}");
            assert_eq!(s0, 0, "{context}: synapse {k} was removed by learning");
            continue;
        }
        let (pre, post) = s.pair(k);
        assert_eq!(
            sparsity[[post as usize, pre as usize]],
            1.0,
            "{context}: ({pre},{post}) is masked out"
        );
        assert_ne!(pre, post, "{context}: self-connection");
        let want = if pol[pre as usize] == Polarity::Excitatory {
            1
        } else {
            -1
        };
        assert_eq!(sign, want, "{context}: sign of ({pre},{post})");
        assert_eq!(sign, s0, "{context}: sign of ({pre},{post}) changed");
        assert!(
            f32::from(sign) * w >= 0.0,
            "{context}: Dale broken at ({pre},{post}): {w}"
        );
        let f = s.plasticity.get(k);
        if f == 0.0 {
            assert_eq!(
                w.to_bits(),
                w0.to_bits(),
                "{context}: fixed synapse ({pre},{post}) moved"
            );
        } else {
            let e = f64::from(w.abs());
            assert!(
                (W_MIN as f32 as f64..=W_MAX as f32 as f64).contains(&e),
                "{context}: |w| = {e} of ({pre},{post}) outside [{W_MIN}, {W_MAX}]"
            );
            moved += usize::from(w != w0);
        }
    }
    moved
}

fn any_spiking_rule() -> impl Gen<Value = Rule> {
    let dep = prop_oneof![Just(Dependence::Additive), Just(Dependence::Multiplicative)];
    let pairing = prop_oneof![Just(Pairing::AllToAll), Just(Pairing::Nearest)];
    prop_oneof![
        (dep, pairing, 0.001f64..0.05, 0.001f64..0.05, 5.0f64..40.0).prop_map(
            |(dependence, pairing, a_plus, a_minus, tau)| {
                Rule::Stdp(Stdp {
                    tau_plus: tau,
                    tau_minus: tau * 1.5,
                    a_plus,
                    a_minus,
                    dependence,
                    pairing,
                })
            }
        ),
        (0.001f64..0.02).prop_map(|a| Rule::Triplet(Triplet {
            a2_plus: a,
            a3_plus: a,
            a2_minus: a,
            a3_minus: a / 10.0,
            ..Triplet::default()
        })),
        (0.1f64..2.0).prop_map(|a| Rule::RewardStdp(RewardStdp {
            a_plus: a,
            a_minus: a,
            eta: 0.01,
            ..RewardStdp::default()
        })),
        (0.5f64..20.0).prop_map(|target| Rule::Scaling(Scaling {
            target,
            tau_rate: 50.0,
            eta: 0.05,
            every: 5.0,
        })),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn spiking_rules_keep_masks_signs_bounds_and_fixed_synapses(rule in any_spiking_rule(), seed in 0u64..1000) {
        let (mut net, sparsity) = spiking_net(rule.clone(), seed);
        let start = snapshot(&net);
        assert_laws(&net, &start, &sparsity, "at build");
        let reward = matches!(rule, Rule::RewardStdp(_));
        let mut moved = 0;
        for block in 0..4 {
            if reward {
                net.set_modulator("rec", [1.0, -2.0, 0.0, 3.0][block]).unwrap();
            }
            net.run_ms(50.0).unwrap();
            moved = assert_laws(&net, &start, &sparsity, &format!("{} after {} ms", rule.name(), 50 * (block + 1)));
        }
        prop_assert!(moved > 0, "{}: no learning synapse moved", rule.name());
    }
}

/// A rate network (tanh, so bounded however strong the learned weights; 80 %
/// excitatory, Dale) learning on its recurrent projection.
fn rate_net(rule: Rule) -> (Network, Array2<f32>) {
    let mut net = Network::new(1.0, 5).unwrap();
    let relu = ModelKind::Rate {
        activation: Activation::Relu,
    };
    net.add_population(
        PopulationSpec::new("in", 10, relu)
            .param("tau", 1.0)
            .param("bias", Value::Expr("0.2 + 0.1 * i".into())),
    )
    .unwrap();
    net.add_population(
        PopulationSpec::new(
            "net",
            N,
            ModelKind::Rate {
                activation: Activation::Tanh,
            },
        )
        .param("tau", 10.0)
        .param("bias", 0.1)
        .polarity(PolaritySpec::ExcitatoryFraction(0.8)),
    )
    .unwrap();
    let mut rng = Stream::from_seed(77);
    let sparsity = Array2::from_shape_fn((N, N), |_| f32::from(u8::from(rng.uniform() < 0.6)));
    let plasticity = Array2::from_shape_fn((N, N), |_| [0.0, 0.3, 1.0][rng.below(3) as usize]);
    net.connect(ProjectionSpec::new("in", "in", "net", Strategy::AllToAll).weight(0.05))
        .unwrap();
    net.connect(
        ProjectionSpec::new("rec", "net", "net", Strategy::AllToAll)
            .weight(Distribution::Uniform { low: 0.06, high: 0.1 })
            .self_connections(false)
            .sparsity_mask(sparsity.clone())
            .plasticity_mask(plasticity)
            .learn(Learning::new(rule, W_MAX).w_min(W_MIN)),
    )
    .unwrap();
    (net, sparsity)
}

#[test]
fn rate_rules_keep_masks_signs_bounds_and_fixed_synapses() {
    let rules = [
        Rule::Hebbian(Hebbian {
            eta: 0.05,
            decay: 0.001,
        }),
        Rule::Oja(Oja { eta: 0.05 }),
        Rule::Bcm(Bcm {
            eta: 0.05,
            tau_theta: 20.0,
            theta_init: 0.5,
        }),
        Rule::Pes(Pes {
            eta: 0.01,
            error: ErrorSource::Host,
        }),
        Rule::Scaling(Scaling {
            target: 0.3,
            tau_rate: 10.0,
            eta: 0.05,
            every: 5.0,
        }),
    ];
    for rule in rules {
        let (mut net, sparsity) = rate_net(rule.clone());
        let start = snapshot(&net);
        if matches!(rule, Rule::Pes(_)) {
            let e: Vec<f64> = (0..N).map(|j| (j as f64 - 20.0) / 10.0).collect();
            net.set_error("rec", &e).unwrap();
        }
        net.run_steps(500);
        let moved = assert_laws(&net, &start, &sparsity, rule.name());
        assert!(moved > 0, "{}: nothing learned", rule.name());
    }
}

fn stdp() -> Rule {
    Rule::Stdp(Stdp {
        a_plus: 0.02,
        a_minus: 0.021,
        ..Stdp::default()
    })
}

#[test]
fn learning_gives_the_same_weights_at_one_and_two_threads() {
    for rule in [
        stdp(),
        Rule::RewardStdp(RewardStdp::default()),
        Rule::Triplet(Triplet::default()),
    ] {
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let (mut net, _) = spiking_net(rule.clone(), 9);
                if matches!(rule, Rule::RewardStdp(_)) {
                    net.set_modulator("rec", 0.5).unwrap();
                }
                net.run_ms(150.0).unwrap();
                let spikes = net.population("net").unwrap().spike_record.clone().unwrap();
                (snapshot(&net), spikes)
            })
        };
        let (one, two) = (run(1), run(2));
        assert!(one.1.len() > 100, "too few spikes ({}) to prove anything", one.1.len());
        assert!(one == two, "{}: 1 and 2 threads differ", rule.name());
    }
}

#[test]
fn a_checkpoint_mid_learning_continues_bit_identically() {
    let dir = std::env::temp_dir().join(format!("cortecs-plastic-ckpt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, rule) in [
        stdp(),
        Rule::RewardStdp(RewardStdp::default()),
        Rule::Triplet(Triplet::default()),
    ]
    .into_iter()
    .enumerate()
    {
        let make = || {
            let (mut net, _) = spiking_net(rule.clone(), 21);
            if matches!(rule, Rule::RewardStdp(_)) {
                net.set_modulator("rec", 1.5).unwrap();
            }
            net
        };
        let mut straight = make();
        straight.run_steps(1200);
        let mut first = make();
        first.run_steps(700);
        let path = dir.join(format!("mid{i}.ckpt"));
        first.save(&path).unwrap();
        let mut resumed = Network::load(&path).unwrap();
        resumed.run_steps(500);
        assert!(
            snapshot(&straight) == snapshot(&resumed),
            "{}: weights differ",
            rule.name()
        );
        let after = |n: &Network| -> Vec<(u64, u32)> {
            let rec = n.population("net").unwrap().spike_record.clone().unwrap();
            rec.into_iter().filter(|s| s.0 >= 700).collect()
        };
        assert!(!after(&straight).is_empty());
        assert_eq!(after(&straight), after(&resumed), "{}: spikes differ", rule.name());
        // the whole state agrees: save both and compare bytes
        straight.save(dir.join("a.ckpt")).unwrap();
        resumed.save(dir.join("b.ckpt")).unwrap();
        assert!(
            std::fs::read(dir.join("a.ckpt")).unwrap() == std::fs::read(dir.join("b.ckpt")).unwrap(),
            "{}: checkpoints of the straight and the resumed run differ",
            rule.name()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
