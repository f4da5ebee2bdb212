//! Construction and initialisation: run-time seeds keyed by target,
//! initialisers by fan-in, distributions, bias initialisers.

use cortecs::param::{Owner, draw};
use cortecs::prelude::*;
use std::path::Path;

fn seed() -> u64 {
    std::env::var("CORTECS_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(42)
}

fn rate(name: &str, n: usize) -> PopulationSpec {
    PopulationSpec::new(
        name,
        n,
        ModelKind::Rate {
            activation: Activation::Tanh,
        },
    )
}

/// Sample mean and unbiased variance, and the standard errors of both
/// (the variance's from the sample's fourth central moment).
fn moments(xs: &[f64]) -> (f64, f64, f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    let m4 = xs.iter().map(|x| (x - m).powi(4)).sum::<f64>() / n;
    (m, v, (v / n).sqrt(), ((m4 - v * v) / n).sqrt())
}

fn assert_moments(what: &str, xs: &[f64], mean: f64, var: f64) {
    let (m, v, se_m, se_v) = moments(xs);
    assert!(
        (m - mean).abs() < 5.0 * se_m,
        "{what}: mean {m}, exact {mean}, se {se_m}"
    );
    assert!(
        (v - var).abs() < 5.0 * se_v,
        "{what}: variance {v}, exact {var}, se {se_v}"
    );
}

// ---------------------------------------------------------------------------
// Run-time seeds keyed by target name and that target's own count
// ---------------------------------------------------------------------------

fn two_projections() -> Network {
    let mut net = Network::new(1.0, seed()).unwrap();
    net.add_population(rate("h", 60)).unwrap();
    for name in ["a", "b"] {
        net.add_projection(
            ProjectionSpec::new(
                name,
                "h",
                "h",
                Strategy::FixedProbability {
                    p: 0.3,
                    equalize_efferents: false,
                },
            )
            .weight(Distribution::Normal { mean: 0.0, std: 1.0 }),
        )
        .unwrap();
    }
    net.build_pending().unwrap();
    net
}

/// The edits of projection b, in order: their results.
fn edits_on_b(net: &mut Network) -> Vec<Vec<f32>> {
    let mut out = Vec::new();
    net.adjust(
        "b",
        &Adjuster::Randomize(Distribution::Uniform { low: 0.0, high: 1.0 }),
        SignFilter::Both,
    )
    .unwrap();
    out.push(net.weights_coo("b").unwrap().weight);
    net.adjust(
        "b",
        &Adjuster::Perturb(Distribution::Normal { mean: 0.0, std: 0.1 }),
        SignFilter::Both,
    )
    .unwrap();
    out.push(net.weights_coo("b").unwrap().weight);
    net.lesion_selection("b", &Selection::Fraction(0.2), SignFilter::Both)
        .unwrap();
    out.push(net.weights_coo("b").unwrap().weight);
    net.adjust("b", &Adjuster::Prune(Selection::Fraction(0.1)), SignFilter::Both)
        .unwrap();
    out.push(net.weights_coo("b").unwrap().weight);
    out
}

#[test]
fn a_random_edit_on_one_projection_leaves_the_draws_on_another() {
    let mut plain = two_projections();
    let reference = edits_on_b(&mut plain);

    // the same edits on b, with random edits on a and on the population in between
    let mut busy = two_projections();
    busy.adjust(
        "a",
        &Adjuster::Perturb(Distribution::Normal { mean: 0.0, std: 1.0 }),
        SignFilter::Both,
    )
    .unwrap();
    busy.lesion_selection("a", &Selection::Fraction(0.5), SignFilter::Both)
        .unwrap();
    busy.set("h", "v", &View::All, Distribution::Normal { mean: 0.0, std: 1.0 })
        .unwrap();
    busy.adjust(
        "a",
        &Adjuster::Randomize(Distribution::Uniform { low: 0.0, high: 2.0 }),
        SignFilter::Both,
    )
    .unwrap();
    let seen = edits_on_b(&mut busy);
    assert_eq!(seen, reference);
    assert_ne!(
        busy.weights_coo("a").unwrap().weight,
        plain.weights_coo("a").unwrap().weight
    );
    assert_eq!(busy.draws.projection("a"), 3);
    assert_eq!(busy.draws.projection("b"), 4);
    assert_eq!(busy.draws.population("h"), 1);

    // each target's own count advances: the same edit twice draws anew
    let mut twice = two_projections();
    let d = Adjuster::Randomize(Distribution::Uniform { low: 0.0, high: 1.0 });
    twice.adjust("b", &d, SignFilter::Both).unwrap();
    let first = twice.weights_coo("b").unwrap().weight;
    twice.adjust("b", &d, SignFilter::Both).unwrap();
    assert_ne!(twice.weights_coo("b").unwrap().weight, first);

    // deterministic edits do not advance the count
    let mut scaled = two_projections();
    scaled.adjust("b", &Adjuster::Scale(1.0), SignFilter::Both).unwrap();
    scaled
        .lesion_selection("b", &Selection::Below(0.0), SignFilter::Both)
        .unwrap();
    assert_eq!(scaled.draws.projection("b"), 0);
    assert_eq!(edits_on_b(&mut scaled), reference);
}

#[test]
fn draw_counts_survive_a_checkpoint() {
    let mut net = two_projections();
    net.adjust(
        "a",
        &Adjuster::Perturb(Distribution::Normal { mean: 0.0, std: 1.0 }),
        SignFilter::Both,
    )
    .unwrap();
    net.adjust(
        "b",
        &Adjuster::Perturb(Distribution::Normal { mean: 0.0, std: 1.0 }),
        SignFilter::Both,
    )
    .unwrap();
    let file = std::env::temp_dir().join(format!("construct-draws-{}.ckpt", std::process::id()));
    net.save(&file).unwrap();
    let mut back = Network::load(&file).unwrap();
    std::fs::remove_file(&file).ok();
    assert_eq!(back.draws, net.draws);
    let d = Adjuster::Randomize(Distribution::Uniform { low: 0.0, high: 1.0 });
    net.adjust("b", &d, SignFilter::Both).unwrap();
    back.adjust("b", &d, SignFilter::Both).unwrap();
    assert_eq!(
        back.weights_coo("b").unwrap().weight,
        net.weights_coo("b").unwrap().weight
    );
}

// ---------------------------------------------------------------------------
// Initialisers by fan-in
// ---------------------------------------------------------------------------

/// The weights an all-to-all projection of `n_pre` x `n_post` gets from `init`.
fn initialised(init: Init, n_pre: usize, n_post: usize) -> Vec<f64> {
    let mut net = Network::new(1.0, seed()).unwrap();
    net.add_population(rate("in", n_pre)).unwrap();
    net.add_population(rate("out", n_post)).unwrap();
    net.add_projection(
        ProjectionSpec::new("w", "in", "out", Strategy::AllToAll)
            .weight(init)
            .compact(true),
    )
    .unwrap();
    net.build_pending().unwrap();
    net.weights_coo("w")
        .unwrap()
        .weight
        .iter()
        .map(|&w| f64::from(w))
        .collect()
}

#[test]
fn each_initialiser_has_the_mean_and_variance_of_its_fans() {
    let (fi, fo) = (400usize, 250usize);
    let (fin, fout) = (fi as f64, fo as f64);
    let cases: Vec<(Init, f64)> = vec![
        // nn4n "uniform": U(+-1/sqrt(fan_in)); variance b^2 / 3
        (Init::FanInUniform { gain: 1.0 }, 1.0 / (3.0 * fin)),
        // nn4n "normal": N(0, 1/fan_in)
        (Init::FanInNormal { gain: 1.0 }, 1.0 / fin),
        // torch xavier_uniform_: b = gain sqrt(6/(fi+fo)); variance 2 gain^2/(fi+fo)
        (Init::XavierUniform { gain: 1.5 }, 2.25 * 2.0 / (fin + fout)),
        (Init::XavierNormal { gain: 1.0 }, 2.0 / (fin + fout)),
        // torch kaiming_*_ (leaky_relu, a = 0): variance 2 / fan
        (
            Init::KaimingUniform {
                mode: FanMode::FanIn,
                nonlinearity: Gain::Relu,
            },
            2.0 / fin,
        ),
        (
            Init::KaimingNormal {
                mode: FanMode::FanOut,
                nonlinearity: Gain::Relu,
            },
            2.0 / fout,
        ),
        (
            Init::KaimingNormal {
                mode: FanMode::FanIn,
                nonlinearity: Gain::Tanh,
            },
            25.0 / 9.0 / fin,
        ),
        (Init::LeCunUniform { gain: 1.0 }, 1.0 / fin),
        (Init::LeCunNormal { gain: 1.0 }, 1.0 / fin),
    ];
    for (init, var) in cases {
        let w = initialised(init, fi, fo);
        assert_eq!(w.len(), fi * fo);
        assert_moments(init.name(), &w, 0.0, var);
        if let Init::FanInUniform { .. } = init {
            let b = 1.0 / fin.sqrt();
            assert!(w.iter().all(|x| x.abs() <= b + 1e-7), "uniform bound");
        }
    }
}

#[test]
fn initialisers_are_refused_where_they_have_no_fans() {
    let mut net = Network::new(1.0, 1).unwrap();
    let e = net
        .add_population(rate("h", 10).param("tau", Init::XavierUniform { gain: 1.0 }))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "h.tau: xavier_uniform is a weight initialiser (by fan-in), not a neuron parameter; for biases use a BiasInit"
    );
    net.add_population(PopulationSpec::new(
        "s",
        10,
        ModelKind::Lif {
            synapse: SynapseKind::CurrExp,
        },
    ))
    .unwrap();
    let e = net
        .add_projection(ProjectionSpec::new("p", "s", "s", Strategy::AllToAll).delay(Init::LeCunNormal { gain: 1.0 }))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "p.delay: lecun_normal is a weight initialiser: only weight and weight_inh take one"
    );
}

#[test]
fn bias_initialisers_follow_nn4n() {
    let fan = 50usize;
    let mut net = Network::new(1.0, seed()).unwrap();
    net.add_population(rate("u", 40_000).bias(BiasInit::Uniform { fan_in: fan }))
        .unwrap();
    net.add_population(rate("n", 40_000).bias(BiasInit::Normal { fan_in: fan }))
        .unwrap();
    net.add_population(rate("z", 10).bias(BiasInit::None)).unwrap();
    let b = |p: &str| net.get(p, "bias", &View::All).unwrap().to_vec();
    assert_moments("bias uniform", &b("u"), 0.0, 1.0 / (3.0 * fan as f64));
    assert_moments("bias normal", &b("n"), 0.0, 1.0 / fan as f64);
    assert!(b("z").iter().all(|&x| x == 0.0));
    let e = net
        .add_population(rate("twice", 4).param("bias", 0.5).bias(BiasInit::Zero))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "twice.bias: given twice: as a bias initialiser and as a parameter value"
    );
    let e = net
        .add_population(
            PopulationSpec::new(
                "lif",
                4,
                ModelKind::Lif {
                    synapse: SynapseKind::CurrExp,
                },
            )
            .bias(BiasInit::Zero),
        )
        .unwrap_err();
    assert!(e.to_string().starts_with("lif.bias: the model"), "{e}");
    let e = net
        .add_population(rate("f0", 4).bias(BiasInit::Normal { fan_in: 0 }))
        .unwrap_err();
    assert_eq!(e.to_string(), "f0.bias: bias initialiser needs fan_in > 0, got 0");
}

// ---------------------------------------------------------------------------
// Distributions
// ---------------------------------------------------------------------------

#[test]
fn new_distributions_have_their_exact_moments() {
    let owner = Owner {
        seed: seed(),
        name: "d",
        param: "x",
        base_dir: Path::new("."),
    };
    let n = 400_000;
    let cases = [
        // shape 6: mean 6/5 * 2, variance 4 * 6 / (25 * 4)
        (Distribution::Pareto { scale: 2.0, shape: 6.0 }, 2.4, 0.24),
        (
            Distribution::TwoValued {
                p: 0.3,
                a: 2.0,
                b: -1.0,
            },
            0.3 * 2.0 - 0.7,
            0.21 * 9.0,
        ),
    ];
    for (d, mean, var) in cases {
        d.validate("d").unwrap();
        assert!(
            (d.mean() - mean).abs() < 1e-12 && (d.variance() - var).abs() < 1e-12,
            "{d:?}"
        );
        assert_moments(&format!("{d:?}"), &draw(&d, &owner, n), mean, var);
    }
    // truncated exponential, scale 2 on [1, 4]: Y = X - 1 on [0, 3],
    // E[Y] = s - L q / (1 - q), Var[Y] = s^2 - L^2 q / (1 - q)^2, q = exp(-L / s)
    let d = Distribution::ExponentialTruncated {
        scale: 2.0,
        low: 1.0,
        high: 4.0,
    };
    let q = (-1.5f64).exp();
    let (mean, var) = (1.0 + 2.0 - 3.0 * q / (1.0 - q), 4.0 - 9.0 * q / ((1.0 - q) * (1.0 - q)));
    assert!((d.mean() - mean).abs() < 1e-12 && (d.variance() - var).abs() < 1e-12);
    let xs = draw(&d, &owner, n);
    assert!(xs.iter().all(|x| (1.0..=4.0).contains(x)));
    assert_moments("exponential_truncated", &xs, mean, var);
    // a two-valued draw takes only its two values
    let two = draw(&Distribution::TwoValued { p: 0.5, a: 3.0, b: 7.0 }, &owner, 1000);
    assert!(two.iter().all(|&x| x == 3.0 || x == 7.0));
    // bad parameters are errors naming the owner
    let bad = [
        (
            Distribution::Pareto { scale: 0.0, shape: 1.0 },
            "w: pareto scale must be > 0, got 0",
        ),
        (
            Distribution::TwoValued { p: 1.5, a: 0.0, b: 1.0 },
            "w: two_valued p must be a probability in [0, 1], got 1.5",
        ),
        (
            Distribution::ExponentialTruncated {
                scale: 1.0,
                low: 2.0,
                high: 2.0,
            },
            "w: exponential_truncated needs low < high, got low = 2, high = 2",
        ),
    ];
    for (d, msg) in bad {
        assert_eq!(d.validate("w").unwrap_err().to_string(), msg);
    }
    assert_eq!(Distribution::Pareto { scale: 1.0, shape: 1.0 }.mean(), f64::INFINITY);
}

// ---------------------------------------------------------------------------
// Statistics: weight sums, E/I input, fraction at bounds
// ---------------------------------------------------------------------------

#[test]
fn weight_sums_ei_input_and_bounds_by_hand() {
    let mut net = Network::new(1.0, 1).unwrap();
    net.add_population(rate("e", 2).polarity(PolaritySpec::Excitatory))
        .unwrap();
    net.add_population(rate("i", 1).polarity(PolaritySpec::Inhibitory))
        .unwrap();
    net.add_population(rate("o", 3)).unwrap();
    let list = |rows: Vec<(u32, u32)>, w: Vec<f64>| Strategy::FromList {
        rows,
        weights: Some(w),
        delays: None,
    };
    net.add_projection(ProjectionSpec::new(
        "eo",
        "e",
        "o",
        list(vec![(0, 0), (1, 0), (0, 2)], vec![1.0, 2.0, 0.5]),
    ))
    .unwrap();
    net.add_projection(ProjectionSpec::new(
        "io",
        "i",
        "o",
        list(vec![(0, 0), (0, 1)], vec![-3.0, -0.25]), // explicit weights carry their sign (a wrong one becomes 0)
    ))
    .unwrap();
    net.build_pending().unwrap();
    assert_eq!(net.in_weight_sums("eo", SignFilter::Both).unwrap(), vec![3.0, 0.0, 0.5]);
    assert_eq!(net.out_weight_sums("eo", SignFilter::Both).unwrap(), vec![1.5, 2.0]);
    assert_eq!(
        net.in_weight_sums("io", SignFilter::Both).unwrap(),
        vec![-3.0, -0.25, 0.0]
    );
    assert_eq!(net.in_weight_sums("io", SignFilter::Excitatory).unwrap(), vec![0.0; 3]);
    let ei = net.ei_input_of("o").unwrap();
    assert_eq!(ei.excitatory, vec![3.0, 0.0, 0.5]);
    assert_eq!(ei.inhibitory, vec![3.0, 0.25, 0.0]);
    assert_eq!(ei.ratio(), vec![Some(1.0), Some(0.0), None]);
    assert_eq!(net.ei_input("io").unwrap().excitatory, vec![0.0; 3]);
    let b = net.at_bounds("eo", SignFilter::Both, 0.5, 2.0, 1e-9).unwrap();
    assert_eq!(b.count, 3);
    assert!((b.at_min - 1.0 / 3.0).abs() < 1e-15 && (b.at_max - 1.0 / 3.0).abs() < 1e-15);
    let b = net.at_bounds("io", SignFilter::Inhibitory, 0.25, 3.0, 0.0).unwrap();
    assert_eq!((b.count, b.at_min, b.at_max), (2, 0.5, 0.5));
    let e = net.at_bounds("eo", SignFilter::Both, 2.0, 1.0, 0.0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "eo.at_bounds: bounds need finite 0 <= min <= max and tol >= 0, got min = 2, max = 1, tol = 0"
    );
    assert!(net.ei_input_of("x").is_err());
}

// ---------------------------------------------------------------------------
// The reservoir scene: every construction tool from a scene file
// ---------------------------------------------------------------------------

#[test]
fn reservoir_scene_scales_to_its_spectral_radius() {
    let out = std::env::temp_dir().join(format!("cortecs-reservoir-{}", std::process::id()));
    cortecs::scene::run_file(Path::new("scenes/reservoir.ron"), Some(&out)).unwrap();
    let rr: ndarray::Array2<f32> = ndarray_npy::read_npy(out.join("rr_weights.npy")).unwrap();
    assert_eq!(rr.dim(), (300, 300));
    let a: Vec<f64> = rr.iter().map(|&w| f64::from(w)).collect();
    let radius = cortecs::linalg::spectral_radius_dense(300, &a).unwrap();
    assert!((radius - 0.9).abs() < 1e-6 * 0.9, "{radius}");
    // Dale's law: the first 240 units excitatory
    for ((_, pre), &w) in rr.indexed_iter() {
        assert!(if pre < 240 { w >= 0.0 } else { w <= 0.0 });
    }
    // local: 4 inputs per unit; randomized symmetric in magnitude where both directions exist
    let local: ndarray::Array2<f32> = ndarray_npy::read_npy(out.join("local_weights.npy")).unwrap();
    let mut both = 0;
    for i in 0..300 {
        assert_eq!(
            local.row(i).iter().filter(|&&w| w != 0.0).count(),
            4,
            "in-degree of {i}"
        );
        for j in 0..300 {
            if local[[i, j]] != 0.0 && local[[j, i]] != 0.0 {
                assert_eq!(local[[i, j]].abs(), local[[j, i]].abs());
                both += 1;
            }
        }
    }
    assert!(both > 0);
    let summary = std::fs::read_to_string(out.join("summary.txt")).unwrap();
    assert!(summary.contains("radius 0.9000"), "{summary}");
    assert!(summary.contains("E/I input"), "{summary}");
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("rr_stats_100.json")).unwrap()).unwrap();
    let r = stats["spectral_radius"].as_f64().unwrap();
    assert!((r - 0.9).abs() < 1e-6, "{r}");
    assert_eq!(stats["eigenvalues"].as_array().unwrap().len(), 3);
    let above = rr
        .iter()
        .filter(|&&w| w != 0.0 && f64::from(w.abs()) >= 0.2 - 2e-7)
        .count() as f64;
    let live = rr.iter().filter(|&&w| w != 0.0).count() as f64;
    let at_max = stats["at_bounds"]["at_max"].as_f64().unwrap();
    assert!((at_max - above / live).abs() < 1e-12, "{at_max} vs {}", above / live);
    let col_sums: Vec<f64> = (0..300)
        .map(|j| rr.column(j).iter().map(|&w| f64::from(w)).sum())
        .collect();
    let out_sums: Vec<f64> = stats["out_weight_sums"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    for (a, b) in col_sums.iter().zip(&out_sums) {
        assert!((a - b).abs() < 1e-5, "{a} {b}");
    }
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn initialisers_and_new_rules_survive_a_checkpoint_while_pending() {
    let make = || {
        let mut net = Network::new(1.0, seed()).unwrap();
        net.add_population(
            PopulationSpec::new(
                "g",
                64,
                ModelKind::Rate {
                    activation: Activation::Tanh,
                },
            )
            .structure(Structure::Grid2D {
                nx: 8,
                ny: 8,
                dx: 10.0,
                dy: 10.0,
                x0: 0.0,
                y0: 0.0,
            })
            .polarity(PolaritySpec::ExcitatoryFraction(0.5)),
        )
        .unwrap();
        net.add_projection(
            ProjectionSpec::new(
                "typed",
                "g",
                "g",
                Strategy::DistanceProbabilityByType {
                    ee: cortecs::connect::ProbabilityFn::Expr("exp(-d / 20)".into()),
                    ei: cortecs::connect::ProbabilityFn::Expr("0.5".into()),
                    ie: cortecs::connect::ProbabilityFn::Expr("0.2".into()),
                    ii: cortecs::connect::ProbabilityFn::Expr("0.1".into()),
                    none: None,
                    cutoff: Some(40.0),
                },
            )
            .weight(Init::XavierNormal { gain: 1.0 }),
        )
        .unwrap();
        net.add_projection(
            ProjectionSpec::new(
                "within",
                "g",
                "g",
                Strategy::FixedOutDegreeWithin { k: 3, radius: 15.0 },
            )
            .self_connections(false)
            .weight(Init::KaimingUniform {
                mode: FanMode::FanOut,
                nonlinearity: Gain::LeakyRelu(0.1),
            }),
        )
        .unwrap();
        net
    };
    let file = std::env::temp_dir().join(format!("construct-pending-{}.ckpt", std::process::id()));
    make().save(&file).unwrap();
    let mut back = Network::load(&file).unwrap();
    std::fs::remove_file(&file).ok();
    back.build_pending().unwrap();
    let mut direct = make();
    direct.build_pending().unwrap();
    for p in ["typed", "within"] {
        assert_eq!(back.weights_coo(p).unwrap(), direct.weights_coo(p).unwrap(), "{p}");
    }
}

#[test]
fn a_format_2_checkpoint_loads_with_no_draw_counts() {
    use cortecs::checkpoint::{HEADER_LEN, MAGIC, checksum};
    let mut net = two_projections();
    net.adjust(
        "a",
        &Adjuster::Perturb(Distribution::Normal { mean: 0.0, std: 1.0 }),
        SignFilter::Both,
    )
    .unwrap();
    let file = std::env::temp_dir().join(format!("construct-v2-{}.ckpt", std::process::id()));
    net.save(&file).unwrap();
    let bytes = std::fs::read(&file).unwrap();
    // format 5 = format 2 + the draw counts, the rounding mode and the noisy currents at the end of the payload
    let draws = bincode::serde::encode_to_vec(&net.draws, bincode::config::standard()).unwrap();
    let rounding = bincode::serde::encode_to_vec(net.rounding, bincode::config::standard()).unwrap();
    let noise = bincode::serde::encode_to_vec(&net.noise, bincode::config::standard()).unwrap();
    let payload = &bytes[HEADER_LEN..bytes.len() - draws.len() - rounding.len() - noise.len()];
    let mut v2 = MAGIC.to_vec();
    v2.extend_from_slice(&2u32.to_le_bytes());
    v2.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    v2.extend_from_slice(&checksum(payload).to_le_bytes());
    v2.extend_from_slice(payload);
    std::fs::write(&file, &v2).unwrap();
    let back = Network::load(&file).unwrap();
    std::fs::remove_file(&file).ok();
    assert_eq!(back.draws, cortecs::network::DrawCounts::default());
    assert_eq!(back.set_count, net.set_count);
    assert_eq!(back.weights_coo("a").unwrap(), net.weights_coo("a").unwrap());
}

#[test]
fn reapplying_one_sign_on_an_empty_projection_keeps_its_delay_and_learning_factor() {
    let mut net = Network::new(1.0, 3).unwrap();
    let lif = ModelKind::Lif {
        synapse: SynapseKind::CurrExp,
    };
    net.add_population(PopulationSpec::new("a", 2, lif.clone())).unwrap();
    net.add_population(PopulationSpec::new("b", 2, lif)).unwrap();
    let list = Strategy::FromList {
        rows: Vec::new(),
        weights: None,
        delays: None,
    };
    let k = net
        .connect(ProjectionSpec::new("ab", "a", "b", list).delay(3.0).plasticity(0.5))
        .unwrap();
    net.adjust("ab", &Adjuster::Reapply, SignFilter::Excitatory).unwrap();
    // a synapse made afterwards has the projection's delay and factor
    let slot = net.create_synapse(k, 0, 1, 1.0, None).unwrap();
    let s = net.projection("ab").unwrap().store();
    assert_eq!((s.delay.get(slot), s.plasticity.get(slot)), (3, 0.5));
}

#[test]
fn reapplying_one_sign_makes_no_multapse_where_a_synapse_of_the_other_sign_is_kept() {
    let mut net = Network::new(1.0, 3).unwrap();
    let rate = ModelKind::Rate {
        activation: Activation::Identity,
    };
    net.add_population(PopulationSpec::new("a", 2, rate.clone())).unwrap();
    net.add_population(PopulationSpec::new("b", 2, rate)).unwrap();
    net.connect(ProjectionSpec::new("ab", "a", "b", Strategy::AllToAll).weight(1.0))
        .unwrap();
    // without Dale's law the sign follows the weight: (0, 1) becomes inhibitory
    net.set_weight("ab", 0, 1, -0.5).unwrap();
    let done = net.adjust("ab", &Adjuster::Reapply, SignFilter::Excitatory).unwrap();
    assert_eq!((done.removed, done.created), (3, 3));
    let coo = net.weights_coo("ab").unwrap();
    assert_eq!(coo.pre.len(), 4, "one synapse per pair: {coo:?}");
    assert_eq!(
        net.weight("ab", 0, 1).unwrap(),
        Some(-0.5),
        "the inhibitory synapse is kept"
    );
}
