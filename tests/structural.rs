//! Structural plasticity: growth only where allowed and at the expected
//! rate, pruning of exactly the synapses that stayed small, and exact spike
//! delivery across both.

use cortecs::plasticity::*;
use cortecs::prelude::*;
use cortecs::rng::Stream;
use ndarray::Array2;

const N: usize = 50;

fn identity() -> ModelKind {
    ModelKind::Rate {
        activation: Activation::Identity,
    }
}

/// A recurrent rate projection (80 % excitatory, Dale) with a sparsity mask,
/// no self-connections, and growth (asked for event by event).
fn growing(probability: GrowthProbability, growth_mask: Option<Array2<f32>>) -> (Network, Array2<f32>) {
    let mut net = Network::new(1.0, 17).unwrap();
    net.add_population(
        PopulationSpec::new("h", N, identity())
            .structure(Structure::Grid2D {
                nx: 10,
                ny: 5,
                dx: 10.0,
                dy: 10.0,
                x0: 0.0,
                y0: 0.0,
            })
            .polarity(PolaritySpec::ExcitatoryFraction(0.8)),
    )
    .unwrap();
    let mut rng = Stream::from_seed(5);
    let sparsity = Array2::from_shape_fn((N, N), |_| f32::from(u8::from(rng.uniform() < 0.5)));
    let mut spec = ProjectionSpec::new(
        "hh",
        "h",
        "h",
        Strategy::FixedProbability {
            p: 0.1,
            equalize_efferents: false,
        },
    )
    .weight(0.2)
    .self_connections(false)
    .sparsity_mask(sparsity.clone())
    .grow(Growth {
        every: 0.0,
        probability,
        weight: 0.3,
    });
    if let Some(m) = growth_mask {
        spec = spec.growth_mask(m);
    }
    net.connect(spec).unwrap();
    (net, sparsity)
}

/// Live pairs `(pre, post)` of the projection.
fn live(net: &Network) -> std::collections::HashSet<(u32, u32)> {
    let s = net.projection("hh").unwrap().store();
    (0..s.len()).filter(|&k| s.sign[k] != 0).map(|k| s.pair(k)).collect()
}

/// Runs `events` growth events; checks every new synapse is allowed and
/// signed, and the total count against the exact expectation (5 sd).
fn check_growth_rate(net: &mut Network, sparsity: &Array2<f32>, events: usize, p: impl Fn(u32, u32) -> f64) {
    let polarity = net.population("h").unwrap().polarity.clone();
    let (mut grown, mut mean, mut var) = (0usize, 0.0f64, 0.0f64);
    for _ in 0..events {
        let before = live(net);
        for pre in 0..N as u32 {
            for post in 0..N as u32 {
                if pre != post && sparsity[[post as usize, pre as usize]] == 1.0 && !before.contains(&(pre, post)) {
                    let q = p(pre, post);
                    mean += q;
                    var += q * (1.0 - q);
                }
            }
        }
        let n = net.grow("hh").unwrap();
        let after = live(net);
        assert_eq!(after.len(), before.len() + n);
        for &(pre, post) in after.difference(&before) {
            assert_eq!(
                sparsity[[post as usize, pre as usize]],
                1.0,
                "grew ({pre},{post}) under a mask zero"
            );
            assert_ne!(pre, post, "grew a self-connection");
            let w = net.weight("hh", pre, post).unwrap().unwrap();
            let want = if polarity[pre as usize] == Polarity::Excitatory {
                0.3
            } else {
                -0.3
            };
            assert_eq!(w, want, "sign or weight of the grown ({pre},{post})");
        }
        grown += n;
    }
    let z = (grown as f64 - mean) / var.sqrt();
    assert!(mean > 200.0, "too few expected growths ({mean}) to test a rate");
    assert!(
        z.abs() < 5.0,
        "grew {grown}, expected {mean:.1} (sd {:.1}): z = {z:.2}",
        var.sqrt()
    );
}

#[test]
fn constant_growth_only_where_allowed_at_the_expected_rate() {
    let (mut net, sparsity) = growing(GrowthProbability::Constant(0.02), None);
    check_growth_rate(&mut net, &sparsity, 30, |_, _| 0.02);
}

#[test]
fn mask_growth_follows_the_growth_mask() {
    let mask = Array2::from_shape_fn((N, N), |(post, pre)| ((post * 7 + pre * 3) % 5) as f32 * 0.01);
    let (mut net, sparsity) = growing(GrowthProbability::Mask, Some(mask.clone()));
    check_growth_rate(&mut net, &sparsity, 30, |pre, post| {
        f64::from(mask[[post as usize, pre as usize]])
    });
}

#[test]
fn distance_growth_follows_the_gaussian() {
    let (mut net, sparsity) = growing(GrowthProbability::Gaussian { p: 0.08, sigma: 15.0 }, None);
    let pos = net.population("h").unwrap().positions.clone();
    check_growth_rate(&mut net, &sparsity, 40, |pre, post| {
        let (a, b) = (pos[pre as usize], pos[post as usize]);
        let d2: f64 = (0..3).map(|c| (a[c] - b[c]).powi(2)).sum();
        0.08 * (-d2 / (2.0 * 15.0 * 15.0)).exp()
    });
}

#[test]
fn growth_is_seeded_by_name_and_event() {
    let grow = || {
        let (mut net, _) = growing(GrowthProbability::Constant(0.05), None);
        for _ in 0..5 {
            net.grow("hh").unwrap();
        }
        let mut v: Vec<_> = live(&net).into_iter().collect();
        v.sort();
        v
    };
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(grow);
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap()
        .install(grow);
    assert_eq!(one, two);
}

/// A rate projection (no learning rule) that prunes every 2 ms after 6 ms small.
fn pruning() -> Network {
    let mut net = Network::new(1.0, 3).unwrap();
    net.add_population(PopulationSpec::new("a", 4, identity())).unwrap();
    net.add_population(PopulationSpec::new("b", 3, identity())).unwrap();
    net.connect(
        ProjectionSpec::new("hh", "a", "b", Strategy::AllToAll)
            .weight(0.5)
            .prune(Pruning {
                every: 2.0,
                threshold: 0.1,
                after: 6.0,
            }),
    )
    .unwrap();
    net
}

fn set(net: &mut Network, pre: u32, post: u32, w: f32) {
    let slot = net
        .projection("hh")
        .unwrap()
        .store()
        .find(pre, post)
        .unwrap()
        .next()
        .unwrap();
    net.projection_mut("hh").unwrap().set_weight(slot, w);
}

#[test]
fn pruning_removes_exactly_the_synapses_small_at_every_check() {
    let mut net = pruning();
    set(&mut net, 0, 0, 0.05); // small throughout: pruned at the third check (6 ms)
    set(&mut net, 1, 2, -0.09); // |w| small: pruned too
    set(&mut net, 2, 1, 0.05); // small, but bumped up before the second check
    set(&mut net, 3, 0, 0.1); // at the threshold: not small
    net.run_steps(3); // check at 2 ms
    set(&mut net, 2, 1, 0.2);
    net.run_steps(1);
    set(&mut net, 2, 1, 0.05);
    net.run_steps(1); // check at 4 ms
    assert_eq!(live_pairs(&net).len(), 12);
    net.run_steps(1); // check at 6 ms: (0,0) and (1,2) small at 3 checks
    let left = live_pairs(&net);
    assert_eq!(left.len(), 10);
    assert!(!left.contains(&(0, 0)) && !left.contains(&(1, 2)));
    net.run_steps(4); // checks at 8, 10 ms: (2,1) small since 4 ms -> pruned at 8 ms
    let left = live_pairs(&net);
    assert_eq!(left.len(), 9, "{left:?}");
    assert!(!left.contains(&(2, 1)));
    assert!(left.contains(&(3, 0)));
    let e = net.grow("hh").unwrap_err().to_string();
    assert!(e.contains("has no growth"), "{e}");
}

#[test]
fn a_synapse_created_in_a_pruned_or_lesioned_slot_starts_its_small_count_afresh() {
    let mut net = pruning();
    set(&mut net, 0, 0, 0.05); // small at the checks of 2 and 4 ms
    net.run_steps(4);
    // a new synapse of the pair takes the removed slot; it was small at no check yet
    net.lesion("hh", 0, 0).unwrap();
    let k = net.projection_index("hh").unwrap();
    assert_eq!(
        net.create_synapse(k, 0, 0, 0.05, None).unwrap(),
        0,
        "the slot is taken again"
    );
    net.run_steps(2); // check at 6 ms: small once
    assert!(
        live_pairs(&net).contains(&(0, 0)),
        "pruned after one small check, not three"
    );
    net.lesion("hh", 0, 0).unwrap();
    net.set_weights_dense(
        "hh",
        net.weights_dense("hh")
            .unwrap()
            .mapv(|w| if w == 0.0 { 0.05 } else { w })
            .view(),
    )
    .unwrap();
    net.run_steps(4); // checks at 8 and 10 ms: small twice
    assert!(
        live_pairs(&net).contains(&(0, 0)),
        "a dense write's new synapse counts afresh too"
    );
    net.run_steps(2); // check at 12 ms: the third
    assert!(!live_pairs(&net).contains(&(0, 0)));
}

fn live_pairs(net: &Network) -> std::collections::HashSet<(u32, u32)> {
    let s = net.projection("hh").unwrap().store();
    (0..s.len()).filter(|&k| s.sign[k] != 0).map(|k| s.pair(k)).collect()
}

/// One spike source into one delta LIF neuron through a rewiring
/// projection with a delay of 2 ms (20 steps).
fn one_synapse(p: f64, growth: Option<Growth>, pruning: Option<Pruning>, spikes: Vec<f64>) -> Network {
    let mut net = Network::new(0.1, 1).unwrap();
    let mut src = PopulationSpec::new("src", 1, ModelKind::SpikeSource);
    src.spike_times = Some(Sequence::Same(spikes));
    net.add_population(src).unwrap();
    net.add_population(
        PopulationSpec::new(
            "n",
            1,
            ModelKind::Lif {
                synapse: SynapseKind::Delta,
            },
        )
        .param("v_rest", 0.0)
        .param("v_init", 0.0)
        .param("v_reset", 0.0)
        .param("v_thresh", 1000.0)
        .param("cm", 1.0)
        .param("tau_m", 1e9),
    )
    .unwrap();
    let mut spec = ProjectionSpec::new(
        "hh",
        "src",
        "n",
        Strategy::FixedProbability {
            p,
            equalize_efferents: false,
        },
    )
    .weight(3.0)
    .delay(2.0)
    .growth_mask(Array2::from_elem((1, 1), 1.0));
    spec.growth = growth;
    spec.pruning = pruning;
    let spec = if pruning.is_some() { spec.plasticity(1.0) } else { spec };
    net.connect(spec).unwrap();
    net
}

fn v(net: &Network) -> f64 {
    net.population("n").unwrap().get("v").unwrap()[0]
}

#[test]
fn a_spike_in_flight_to_a_pruned_synapse_is_dropped() {
    // control: without pruning the spike of step 10 arrives in step 30
    let mut control = one_synapse(1.0, None, None, vec![1.0]);
    control.run_steps(31);
    assert!((v(&control) - 3.0).abs() < 1e-6, "{}", v(&control));
    // the first check (|w| = 3 < 10) comes after step 14, with the spike in flight
    let prune = Pruning {
        every: 1.5,
        threshold: 10.0,
        after: 1.5,
    };
    let mut net = one_synapse(1.0, None, Some(prune), vec![1.0]);
    net.run_steps(14);
    assert_eq!(live_pairs(&net).len(), 1);
    net.run_steps(1);
    assert!(live_pairs(&net).is_empty(), "pruned at the first check");
    net.run_steps(30);
    assert_eq!(v(&net), 0.0, "a spike reached a pruned synapse");
}

#[test]
fn a_grown_synapse_delivers_only_spikes_emitted_after_it_grew() {
    let growth = Growth {
        every: 0.0,
        probability: GrowthProbability::Mask,
        weight: 3.0,
    };
    // spikes in steps 10 and 25; the synapse grows after step 15
    let mut net = one_synapse(0.0, Some(growth), None, vec![1.0, 2.5]);
    assert!(live_pairs(&net).is_empty());
    net.run_steps(16);
    assert_eq!(net.grow("hh").unwrap(), 1);
    net.run_steps(15); // through step 30: the spike of step 10 arrives, but predates the synapse
    assert_eq!(v(&net), 0.0, "a spike emitted before growth was delivered");
    net.run_steps(14); // through step 44
    assert_eq!(v(&net), 0.0);
    net.run_steps(1); // step 45: the spike of step 25 arrives
    assert!((v(&net) - 3.0).abs() < 1e-6, "{}", v(&net));
}

#[test]
fn growth_and_pruning_errors_name_the_parameter() {
    let mut net = Network::new(0.1, 1).unwrap();
    net.add_population(PopulationSpec::new("a", 3, identity())).unwrap();
    let bad = |g: Growth| {
        let mut net = Network::new(0.1, 1).unwrap();
        net.add_population(PopulationSpec::new("a", 3, identity())).unwrap();
        net.connect(ProjectionSpec::new("p", "a", "a", Strategy::AllToAll).grow(g))
            .unwrap_err()
            .to_string()
    };
    let g = Growth {
        every: 0.0,
        probability: GrowthProbability::Constant(1.5),
        weight: 0.1,
    };
    assert!(bad(g).contains("p.growth.probability"), "{}", bad(g));
    let g = Growth {
        every: 0.25,
        probability: GrowthProbability::Constant(0.5),
        weight: 0.1,
    };
    assert!(bad(g).contains("0.25 ms is not a whole number of steps"), "{}", bad(g));
    let g = Growth {
        every: 1.0,
        probability: GrowthProbability::Mask,
        weight: 0.1,
    };
    assert!(bad(g).contains("no growth mask"), "{}", bad(g));
    let e = net
        .connect(ProjectionSpec::new("q", "a", "a", Strategy::AllToAll).prune(Pruning {
            every: 1.0,
            threshold: 0.1,
            after: 2.5,
        }))
        .unwrap_err()
        .to_string();
    assert!(e.contains("q.pruning.after") && e.contains("whole number"), "{e}");
}

/// Poisson input into a recurrent LIF network that learns (STDP), grows
/// and prunes at once.
fn rewiring_brain() -> Network {
    let mut net = Network::new(0.1, 33).unwrap();
    net.add_population(PopulationSpec::new("ext", 40, ModelKind::PoissonSource).param("rate", 50.0))
        .unwrap();
    net.add_population(
        PopulationSpec::new(
            "net",
            30,
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
        .weight(3.0),
    )
    .unwrap();
    net.connect(
        ProjectionSpec::new(
            "hh",
            "net",
            "net",
            Strategy::FixedProbability {
                p: 0.2,
                equalize_efferents: false,
            },
        )
        .weight(Distribution::Uniform { low: 0.0, high: 1.0 })
        .delay(1.5)
        .self_connections(false)
        .learn(Learning::new(
            Rule::Stdp(Stdp {
                a_plus: 0.05,
                a_minus: 0.06,
                ..Stdp::default()
            }),
            1.0,
        ))
        .grow(Growth {
            every: 5.0,
            probability: GrowthProbability::Constant(0.01),
            weight: 0.5,
        })
        .prune(Pruning {
            every: 2.0,
            threshold: 0.2,
            after: 10.0,
        }),
    )
    .unwrap();
    net
}

#[test]
fn rewiring_while_learning_is_deterministic_and_survives_a_checkpoint() {
    let dir = std::env::temp_dir().join(format!("cortecs-rewire-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut straight = rewiring_brain();
    let start = live_pairs(&straight);
    straight.run_steps(3000);
    let end = live_pairs(&straight);
    assert!(start.difference(&end).count() > 5, "nothing was pruned");
    assert!(end.difference(&start).count() > 5, "nothing grew");
    let mut first = rewiring_brain();
    first.run_steps(1234);
    first.save(dir.join("mid.ckpt")).unwrap();
    let mut resumed = Network::load(dir.join("mid.ckpt")).unwrap();
    resumed.run_steps(1766);
    straight.save(dir.join("a.ckpt")).unwrap();
    resumed.save(dir.join("b.ckpt")).unwrap();
    assert!(std::fs::read(dir.join("a.ckpt")).unwrap() == std::fs::read(dir.join("b.ckpt")).unwrap());
    // the straight run used the global pool (every core); one thread agrees
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| {
            let mut n = rewiring_brain();
            n.run_steps(3000);
            n.save(dir.join("c.ckpt")).unwrap();
        });
    assert!(std::fs::read(dir.join("a.ckpt")).unwrap() == std::fs::read(dir.join("c.ckpt")).unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}
