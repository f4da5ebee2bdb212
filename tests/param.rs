//! Parameter values (the PyNN rule): distributions against their exact
//! moments, arrays, functions, expressions, views, errors, determinism.

use cortecs::param::{Owner, SynapsePairs};
use cortecs::prelude::*;
use std::path::Path;

fn owner(param: &str) -> Owner<'_> {
    Owner {
        seed: 12345,
        name: "pop",
        param,
        base_dir: Path::new("tests/data"),
    }
}

/// Sample mean and variance within 5 standard errors of the exact values.
fn check_moments(d: Distribution) {
    let n = 200_000;
    let xs = Value::Random(d.clone()).neuron_values(&owner("x"), n, &[]).unwrap();
    let m = xs.iter().sum::<f64>() / n as f64;
    let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
    let m4 = xs.iter().map(|x| (x - m).powi(4)).sum::<f64>() / n as f64;
    let (em, ev) = (d.mean(), d.variance());
    let se_m = (ev / n as f64).sqrt();
    let se_v = ((m4 - var * var).max(0.0) / n as f64).sqrt();
    assert!(
        (m - em).abs() <= 5.0 * se_m + 1e-12,
        "{d:?}: mean {m} vs {em} (se {se_m})"
    );
    assert!(
        (var - ev).abs() <= 5.0 * se_v + 1e-12,
        "{d:?}: variance {var} vs {ev} (se {se_v})"
    );
}

#[test]
fn every_distribution_has_its_exact_moments() {
    use Distribution::*;
    check_moments(Uniform { low: -2.0, high: 5.0 });
    check_moments(Normal { mean: 0.5, std: 0.1 });
    check_moments(NormalClipped {
        mean: 0.0,
        std: 1.0,
        low: -0.5,
        high: 2.0,
        mode: ClipMode::Redraw,
    });
    check_moments(NormalClipped {
        mean: 0.0,
        std: 1.0,
        low: -0.5,
        high: 2.0,
        mode: ClipMode::Clamp,
    });
    check_moments(LogNormal { mu: 0.2, sigma: 0.4 });
    check_moments(Exponential { scale: 3.0 });
    check_moments(Gamma { shape: 2.5, scale: 1.5 });
    check_moments(Beta { alpha: 2.0, beta: 5.0 });
    check_moments(Poisson { lambda: 3.5 });
    check_moments(Binomial { n: 20, p: 0.3 });
}

#[test]
fn clipped_normal_respects_its_bounds() {
    for mode in [ClipMode::Redraw, ClipMode::Clamp] {
        let d = Distribution::NormalClipped {
            mean: -60.0,
            std: 5.0,
            low: -65.0,
            high: -58.0,
            mode,
        };
        let xs = Value::Random(d).neuron_values(&owner("v"), 50_000, &[]).unwrap();
        assert!(xs.iter().all(|&x| (-65.0..=-58.0).contains(&x)));
        let at_bounds = xs.iter().filter(|&&x| x == -65.0 || x == -58.0).count();
        match mode {
            ClipMode::Redraw => assert_eq!(at_bounds, 0),
            ClipMode::Clamp => assert!(at_bounds > 10_000, "{at_bounds}"), // P(outside) = 0.50
        }
    }
    // bounds holding no mass are refused instead of looping forever
    let d = Distribution::NormalClipped {
        mean: 0.0,
        std: 1.0,
        low: 40.0,
        high: 50.0,
        mode: ClipMode::Redraw,
    };
    let e = Value::Random(d)
        .neuron_values(&owner("v"), 10, &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("redrawing would not end"), "{e}");
}

#[test]
fn invalid_distribution_parameters_are_refused() {
    let cases = [
        (Distribution::Uniform { low: 1.0, high: 1.0 }, "low < high"),
        (Distribution::Normal { mean: 0.0, std: -1.0 }, "std must be >= 0"),
        (
            Distribution::Binomial { n: 3, p: 1.5 },
            "probability in [0, 1], got 1.5",
        ),
        (
            Distribution::Gamma { shape: 0.0, scale: 1.0 },
            "gamma shape must be > 0",
        ),
    ];
    for (d, msg) in cases {
        let e = Value::Random(d)
            .neuron_values(&owner("w"), 10, &[])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("pop.w: ") && e.contains(msg), "{e}");
    }
}

#[test]
fn arrays_need_exactly_the_right_length() {
    let v = Value::from(vec![1.0, 2.0, 3.0]);
    assert_eq!(v.neuron_values(&owner("tau"), 3, &[]).unwrap(), vec![1.0, 2.0, 3.0]);
    let e = v.neuron_values(&owner("tau"), 4, &[]).unwrap_err().to_string();
    assert_eq!(e, "pop.tau: array has length 3, expected 4");
    // .npy arrays, relative to the base folder
    let b = Value::Npy("w4/b_hid.npy".into())
        .neuron_values(&owner("bias"), 100, &[])
        .unwrap();
    assert_eq!(b.len(), 100);
    let e = Value::Npy("w4/b_hid.npy".into())
        .neuron_values(&owner("bias"), 99, &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("array has length 100, expected 99"), "{e}");
    let e = Value::Npy("missing.npy".into())
        .neuron_values(&owner("bias"), 1, &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.npy"), "{e}");
}

#[test]
fn functions_of_index_position_pair_and_distance() {
    let pos = [[0.0, 0.0, 0.0], [10.0, 5.0, 0.0], [20.0, 10.0, 0.0]];
    let by_index = Value::of_index(|i| i as f64 * 2.0)
        .neuron_values(&owner("a"), 3, &pos)
        .unwrap();
    assert_eq!(by_index, vec![0.0, 2.0, 4.0]);
    let by_pos = Value::expr("-50 + 0.5*x - 0.2*y")
        .neuron_values(&owner("a"), 3, &pos)
        .unwrap();
    assert_eq!(by_pos, vec![-50.0, -50.0 + 5.0 - 1.0, -50.0 + 10.0 - 2.0]);
    let closure = Value::of_position(|p| p[0] + p[1])
        .neuron_values(&owner("a"), 3, &pos)
        .unwrap();
    assert_eq!(closure, vec![0.0, 15.0, 30.0]);
    let pairs = SynapsePairs {
        pre: &[0, 2],
        post: &[1, 0],
        pre_positions: &pos,
        post_positions: &pos,
        space: Space::open(),
    };
    let d = Value::expr("exp(-d / 50.0)")
        .synapse_values(&owner("w"), pairs)
        .unwrap();
    let d01 = (100.0f64 + 25.0).sqrt();
    let d20 = (400.0f64 + 100.0).sqrt();
    assert!((d[0] - (-d01 / 50.0).exp()).abs() < 1e-12 && (d[1] - (-d20 / 50.0).exp()).abs() < 1e-12);
    let ij = Value::of_pair(|i, j| (10 * i + j) as f64)
        .synapse_values(&owner("w"), pairs)
        .unwrap();
    assert_eq!(ij, vec![1.0, 20.0]);
    let dist = Value::of_distance(|d| d).synapse_values(&owner("w"), pairs).unwrap();
    assert!((dist[0] - d01).abs() < 1e-12);
}

#[test]
fn expression_errors_name_expression_and_column() {
    let e = Value::expr("exp(-q / 50)").synapse_values(
        &owner("w"),
        SynapsePairs {
            pre: &[0],
            post: &[0],
            pre_positions: &[],
            post_positions: &[],
            space: Space::open(),
        },
    );
    let e = e.unwrap_err().to_string();
    assert_eq!(
        e,
        "pop.w: in expression \"exp(-q / 50)\": unknown variable 'q' at column 6 (known: i, j, d, dx, dy, dz)"
    );
    let e = Value::expr("1 + * 2")
        .neuron_values(&owner("a"), 1, &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("column 5"), "{e}");
    let e = Value::expr("foo(x)")
        .neuron_values(&owner("a"), 1, &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown function 'foo'"), "{e}");
    // a synapse-only value is refused for a neuron parameter, and the other way round
    assert!(Value::of_distance(|d| d).neuron_values(&owner("a"), 1, &[]).is_err());
}

#[test]
fn drawn_values_are_identical_at_one_and_two_threads() {
    let draw = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            Value::Random(Distribution::Normal { mean: 0.0, std: 1.0 })
                .neuron_values(&owner("v"), 100_000, &[])
                .unwrap()
        })
    };
    let a = draw(1);
    assert_eq!(a, draw(2));
    // another parameter name is another stream
    let other = Value::Random(Distribution::Normal { mean: 0.0, std: 1.0 })
        .neuron_values(&owner("w"), 10, &[])
        .unwrap();
    assert_ne!(&a[..10], &other[..]);
}

#[test]
fn adding_a_population_does_not_change_the_draws_of_another() {
    let build = |extra: bool| {
        let mut net = Network::new(0.1, 99).unwrap();
        if extra {
            net.add_population(
                PopulationSpec::new("first", 50, ModelKind::PoissonSource)
                    .param("rate", Distribution::Uniform { low: 0.0, high: 9.0 }),
            )
            .unwrap();
        }
        net.add_population(
            PopulationSpec::new(
                "exc",
                100,
                ModelKind::Lif {
                    synapse: SynapseKind::CurrExp,
                },
            )
            .param("v_init", Distribution::Normal { mean: -65.0, std: 3.0 })
            .structure(Structure::RandomBox {
                min: [0.0; 3],
                max: [100.0; 3],
            }),
        )
        .unwrap();
        let p = net.population("exc").unwrap();
        (p.get("v").unwrap(), p.positions.clone())
    };
    assert_eq!(build(false), build(true));
}

#[test]
fn positions_come_from_the_structure() {
    let mut net = Network::new(0.1, 1).unwrap();
    net.add_population(
        PopulationSpec::new("g", 6, ModelKind::PoissonSource).structure(Structure::Grid2D {
            nx: 3,
            ny: 2,
            dx: 10.0,
            dy: 20.0,
            x0: 1.0,
            y0: 2.0,
        }),
    )
    .unwrap();
    let p = &net.population("g").unwrap().positions;
    assert_eq!(p[0], [1.0, 2.0, 0.0]);
    assert_eq!(p[4], [11.0, 22.0, 0.0]);
    let e = net
        .add_population(
            PopulationSpec::new("bad", 5, ModelKind::PoissonSource).structure(Structure::Grid2D {
                nx: 3,
                ny: 2,
                dx: 1.0,
                dy: 1.0,
                x0: 0.0,
                y0: 0.0,
            }),
        )
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("bad: ") && e.contains("does not match the population size 5"),
        "{e}"
    );
    assert!(net.population("bad").is_err(), "nothing is added on error");
}

#[test]
fn set_and_get_on_views() {
    let mut net = Network::new(0.1, 3).unwrap();
    net.add_population(PopulationSpec::new(
        "p",
        10,
        ModelKind::Lif {
            synapse: SynapseKind::CurrExp,
        },
    ))
    .unwrap();
    net.set("p", "tau_m", &View::Indices(vec![0, 2, 4]), 10.0).unwrap();
    net.set("p", "v", &View::Range(5..8), vec![-70.0, -71.0, -72.0])
        .unwrap();
    net.set(
        "p",
        "v_thresh",
        &View::Mask((0..10).map(|i| i % 5 == 0).collect()),
        "-50 + i",
    )
    .unwrap();
    let tau = net.get("p", "tau_m", &View::All).unwrap();
    assert_eq!(
        tau.to_vec(),
        vec![10.0, 20.0, 10.0, 20.0, 10.0, 20.0, 20.0, 20.0, 20.0, 20.0]
    );
    assert_eq!(
        net.get("p", "v", &View::Range(4..9)).unwrap().to_vec(),
        vec![-65.0, -70.0, -71.0, -72.0, -65.0]
    );
    assert_eq!(
        net.get("p", "v_thresh", &View::Indices(vec![0, 5, 6]))
            .unwrap()
            .to_vec(),
        vec![-50.0, -45.0, -50.0]
    );
    // errors: out-of-range index, wrong mask length, wrong array length, unknown name, invalid value
    assert!(
        net.set("p", "v", &View::Indices(vec![10]), 0.0)
            .unwrap_err()
            .to_string()
            .contains("index 10 is out of range")
    );
    assert!(
        net.set("p", "v", &View::Mask(vec![true; 3]), 0.0)
            .unwrap_err()
            .to_string()
            .contains("expected 10")
    );
    assert!(
        net.set("p", "v", &View::Range(0..2), vec![1.0])
            .unwrap_err()
            .to_string()
            .contains("length 1, expected 2")
    );
    let e = net.set("p", "tau", &View::All, 1.0).unwrap_err().to_string();
    assert!(
        e.contains("unknown parameter or state variable 'p.tau'") && e.contains("tau_m"),
        "{e}"
    );
    let e = net.set("p", "tau_m", &View::All, -1.0).unwrap_err().to_string();
    assert!(e.contains("p.tau_m: must be > 0"), "{e}");
}

#[test]
fn non_positive_tau_and_unknown_parameters_are_refused_before_building() {
    let mut net = Network::new(0.1, 3).unwrap();
    let e = net
        .add_population(
            PopulationSpec::new(
                "p",
                10,
                ModelKind::Lif {
                    synapse: SynapseKind::CurrExp,
                },
            )
            .param("tau_m", 0.0),
        )
        .unwrap_err()
        .to_string();
    assert_eq!(e, "p.tau_m: must be > 0 (ms), got 0 for neuron 0");
    let e = net
        .add_population(
            PopulationSpec::new(
                "p",
                10,
                ModelKind::Lif {
                    synapse: SynapseKind::CurrExp,
                },
            )
            .param("tau_n", 5.0),
        )
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("unknown parameter 'p.tau_n' (known: tau_m, cm,"), "{e}");
    assert!(net.populations.is_empty());
    assert!(Network::new(0.0, 1).is_err());
}
