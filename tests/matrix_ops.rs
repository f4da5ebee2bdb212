//! Simbrain's weight-matrix operations: eigenvalues (dense and Arnoldi),
//! scaling to a spectral radius, randomize symmetric.

mod common;

use cortecs::linalg::ArnoldiOptions;
use cortecs::prelude::*;
use cortecs::projection::EigenMethod;

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

fn recurrent(n: usize, p: f64, polarity: PolaritySpec, weight: Distribution) -> Network {
    let mut net = Network::new(1.0, seed()).unwrap();
    net.add_population(rate("h", n).polarity(polarity)).unwrap();
    net.add_projection(
        ProjectionSpec::new(
            "rec",
            "h",
            "h",
            Strategy::FixedProbability {
                p,
                equalize_efferents: false,
            },
        )
        .weight(weight)
        .self_connections(false),
    )
    .unwrap();
    net.build_pending().unwrap();
    net
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

#[test]
fn scaling_reaches_the_target_radius_dense() {
    for (polarity, weight, target) in [
        (PolaritySpec::None, Distribution::Normal { mean: 0.0, std: 1.0 }, 0.9),
        (
            PolaritySpec::ExcitatoryFraction(0.8),
            Distribution::LogNormal { mu: -1.0, sigma: 0.5 },
            1.2,
        ),
    ] {
        let mut net = recurrent(200, 0.2, polarity, weight);
        let before = net.eigenvalues("rec", None, EigenMethod::Dense).unwrap();
        assert_eq!(before.len(), 200);
        let signs: Vec<bool> = net
            .weights_coo("rec")
            .unwrap()
            .weight
            .iter()
            .map(|w| *w > 0.0)
            .collect();
        net.adjust("rec", &Adjuster::SpectralRadius(target), SignFilter::Both)
            .unwrap();
        let after = net.eigenvalues("rec", None, EigenMethod::Dense).unwrap();
        assert!(
            rel(after[0].norm(), target) < 1e-6,
            "radius {} vs {target}",
            after[0].norm()
        );
        // every eigenvalue scaled by the same factor
        let factor = target / before[0].norm();
        for i in 0..10 {
            assert!(rel(after[i].norm(), factor * before[i].norm()) < 1e-5, "eigenvalue {i}");
        }
        let signs_after: Vec<bool> = net
            .weights_coo("rec")
            .unwrap()
            .weight
            .iter()
            .map(|w| *w > 0.0)
            .collect();
        assert_eq!(signs, signs_after, "a positive factor keeps every sign");
    }
}

#[test]
fn arnoldi_agrees_with_dense_on_a_mid_size_sparse_matrix() {
    // balanced random matrix: the circular law puts many eigenvalues near the edge
    let n = 600;
    let mut net = recurrent(
        n,
        0.05,
        PolaritySpec::None,
        Distribution::Normal { mean: 0.0, std: 1.0 },
    );
    let k = 6;
    let dense = net.eigenvalues("rec", Some(k), EigenMethod::Dense).unwrap();
    let opts = ArnoldiOptions {
        krylov: 60,
        ..ArnoldiOptions::default()
    };
    let sparse = net.eigenvalues("rec", Some(k), EigenMethod::Arnoldi(opts)).unwrap();
    for i in 0..k {
        assert!(
            rel(sparse[i].norm(), dense[i].norm()) < 1e-8,
            "{i}: {:?} vs {:?}",
            sparse[i],
            dense[i]
        );
    }
    // scaling through the sparse path, checked by the dense solver
    let (_, factor) = net
        .scale_spectral_radius("rec", 0.95, EigenMethod::Arnoldi(opts))
        .unwrap();
    assert!(rel(factor, 0.95 / dense[0].norm()) < 1e-8);
    let radius = net.spectral_radius("rec", EigenMethod::Dense).unwrap();
    assert!(rel(radius, 0.95) < 1e-6, "{radius}");
    // an E/I network has a real outlier eigenvalue (the mean input); Arnoldi finds it
    let mut ei = recurrent(
        n,
        0.1,
        PolaritySpec::ExcitatoryFraction(0.8),
        Distribution::Uniform { low: 0.5, high: 1.0 },
    );
    let d = ei.spectral_radius("rec", EigenMethod::Dense).unwrap();
    let s = ei.spectral_radius("rec", EigenMethod::Arnoldi(opts)).unwrap();
    assert!(rel(s, d) < 1e-8, "{s} vs {d}");
    ei.scale_spectral_radius("rec", 1.5, EigenMethod::Auto).unwrap();
    assert!(rel(ei.spectral_radius("rec", EigenMethod::Dense).unwrap(), 1.5) < 1e-6);
}

#[test]
fn impossible_matrix_requests_are_errors() {
    let mut net = Network::new(1.0, 1).unwrap();
    net.add_population(rate("a", 10)).unwrap();
    net.add_population(rate("b", 20)).unwrap();
    net.add_population(rate("c", 10)).unwrap();
    net.add_projection(ProjectionSpec::new("ab", "a", "b", Strategy::AllToAll))
        .unwrap();
    net.add_projection(ProjectionSpec::new("ac", "a", "c", Strategy::AllToAll))
        .unwrap();
    net.add_projection(ProjectionSpec::new("aa", "a", "a", Strategy::FixedTotal { n: 0 }))
        .unwrap();
    net.build_pending().unwrap();
    let e = net
        .adjust("ab", &Adjuster::SpectralRadius(1.0), SignFilter::Both)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "ab: eigenvalues needs a square weight matrix, got post x pre = 20 x 10"
    );
    let e = net.spectral_radius("ab", EigenMethod::Auto).unwrap_err();
    assert_eq!(
        e.to_string(),
        "ab: eigenvalues needs a square weight matrix, got post x pre = 20 x 10"
    );
    let e = net
        .adjust("aa", &Adjuster::SpectralRadius(1.0), SignFilter::Both)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "aa: cannot scale to spectral radius 1: the weight matrix has spectral radius 0 (no synapses, or nilpotent)"
    );
    let e = net
        .adjust("ac", &Adjuster::SpectralRadius(-1.0), SignFilter::Both)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "ac.spectral_radius: target spectral radius must be finite and > 0, got -1"
    );
    let e = net
        .adjust("ac", &Adjuster::SpectralRadius(1.0), SignFilter::Excitatory)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "ac.spectral_radius: scaling to a spectral radius multiplies every synapse: use the filter Both"
    );
    let sym = Adjuster::RandomizeSymmetric(Distribution::Normal { mean: 0.0, std: 1.0 });
    let e = net.adjust("ac", &sym, SignFilter::Both).unwrap_err();
    assert_eq!(
        e.to_string(),
        "ac: randomize symmetric needs a recurrent projection (pre and post the same population)"
    );
    let e = net.adjust("ab", &sym, SignFilter::Both).unwrap_err();
    assert_eq!(
        e.to_string(),
        "ab: randomize symmetric needs a square weight matrix, got post x pre = 20 x 10"
    );
    let mut big = Network::new(1.0, 1).unwrap();
    big.add_population(rate("h", 2001)).unwrap();
    big.add_projection(ProjectionSpec::new("hh", "h", "h", Strategy::FixedInDegree { k: 2 }))
        .unwrap();
    big.build_pending().unwrap();
    let e = big.eigenvalues("hh", None, EigenMethod::Auto).unwrap_err();
    assert_eq!(
        e.to_string(),
        "hh: every eigenvalue of a 2001 x 2001 matrix needs the dense solver (time n^3, memory 8 n^2 bytes); ask for the k largest, or for EigenMethod::Dense explicitly"
    );
    let e = net.eigenvalues("ac", Some(11), EigenMethod::Auto).unwrap_err();
    assert_eq!(e.to_string(), "ac: eigenvalues: k = 11 requested of a 10 x 10 matrix");
}

#[test]
fn randomize_symmetric_gives_a_symmetric_matrix() {
    let n = 120;
    let mut net = Network::new(1.0, seed()).unwrap();
    net.add_population(rate("h", n)).unwrap();
    net.add_projection(
        ProjectionSpec::new("rec", "h", "h", Strategy::AllToAll).weight(Distribution::Normal { mean: 0.0, std: 1.0 }),
    )
    .unwrap();
    net.build_pending().unwrap();
    let d = Distribution::Normal { mean: 0.5, std: 0.2 };
    net.adjust_with(
        "rec",
        &Adjuster::RandomizeSymmetric(d.clone()),
        SignFilter::Both,
        SignPolicy::Free,
    )
    .unwrap();
    let w = net.weights_dense("rec").unwrap();
    assert_eq!(w, w.t(), "W = W^T");
    // one draw per unordered pair: the upper triangle and diagonal are n(n+1)/2 draws of d
    let xs: Vec<f64> = (0..n)
        .flat_map(|i| (i..n).map(move |j| (i, j)))
        .map(|(i, j)| f64::from(w[[i, j]]))
        .collect();
    let m = xs.iter().sum::<f64>() / xs.len() as f64;
    let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64;
    let se = (0.04 / xs.len() as f64).sqrt();
    assert!((m - 0.5).abs() < 5.0 * se, "mean {m}");
    assert!(
        (v - 0.04).abs() < 5.0 * 0.04 * (2.0 / xs.len() as f64).sqrt(),
        "variance {v}"
    );
    // symmetric eigenvalues are real
    let e = net.eigenvalues("rec", None, EigenMethod::Dense).unwrap();
    assert!(e.iter().all(|x| x.im.abs() < 1e-9 * e[0].norm()));
    // with Dale's law: like-signed pairs equal, conflicting pairs equal in magnitude
    let mut dale = recurrent(
        80,
        1.0,
        PolaritySpec::ExcitatoryFraction(0.75),
        Distribution::Uniform { low: 0.1, high: 1.0 },
    );
    dale.adjust("rec", &Adjuster::RandomizeSymmetric(d), SignFilter::Both)
        .unwrap();
    let w = dale.weights_dense("rec").unwrap();
    let exc = |i: usize| w.column(i).iter().all(|&x| x >= 0.0);
    let (mut like, mut conflict) = (0, 0);
    for i in 0..80 {
        for j in 0..80 {
            if i == j {
                continue;
            }
            assert_eq!(w[[i, j]].abs(), w[[j, i]].abs(), "|w| symmetric at {i}, {j}");
            if exc(i) == exc(j) {
                assert_eq!(w[[i, j]], w[[j, i]]);
                like += 1;
            } else {
                assert_eq!(w[[i, j]], -w[[j, i]], "conflicting signs keep Dale's law");
                conflict += 1;
            }
        }
    }
    assert!(like > 0 && conflict > 0);
    let e = dale
        .adjust_with(
            "rec",
            &Adjuster::RandomizeSymmetric(Distribution::Normal { mean: 0.0, std: 1.0 }),
            SignFilter::Both,
            SignPolicy::Free,
        )
        .unwrap_err();
    assert!(e.to_string().contains("Dale"), "{e}");
}

/// Timing of the two eigen paths at the sizes where `EigenMethod::Auto`
/// switches (dense at 1000 neurons) and beyond (Arnoldi at 10,000 neurons,
/// 2 M synapses). Run with `cargo test --release --test matrix_ops -- --ignored --nocapture`.
#[test]
#[ignore]
fn eigen_paths_at_scale() {
    let t = std::time::Instant::now();
    let net = recurrent(
        1000,
        0.1,
        PolaritySpec::None,
        Distribution::Normal { mean: 0.0, std: 1.0 },
    );
    let dense = net.spectral_radius("rec", EigenMethod::Dense).unwrap();
    let opts = ArnoldiOptions::default();
    let t_dense = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let sparse = net.spectral_radius("rec", EigenMethod::Arnoldi(opts)).unwrap();
    let t_sparse = t.elapsed().as_secs_f64();
    println!("n = 1000: dense {dense} in {t_dense:.2} s, Arnoldi {sparse} in {t_sparse:.2} s");
    assert!(rel(sparse, dense) < 1e-8);
    let mut big = recurrent(
        10_000,
        0.02,
        PolaritySpec::ExcitatoryFraction(0.8),
        Distribution::Uniform { low: 0.0, high: 1.0 },
    );
    let t = std::time::Instant::now();
    let (_, factor) = big.scale_spectral_radius("rec", 0.9, EigenMethod::Auto).unwrap();
    println!(
        "n = 10000, {} synapses: scaled by {factor} in {:.2} s",
        big.projection("rec").unwrap().store().live(),
        t.elapsed().as_secs_f64()
    );
    let check = ArnoldiOptions {
        krylov: 90,
        seed: 7,
        ..opts
    };
    let r = big.spectral_radius("rec", EigenMethod::Arnoldi(check)).unwrap();
    assert!(rel(r, 0.9) < 1e-6, "{r}");
    // balanced: the circular law crowds the edge of the spectrum, the hard case
    let mut bal = recurrent(
        10_000,
        0.02,
        PolaritySpec::None,
        Distribution::Normal { mean: 0.0, std: 1.0 },
    );
    let t = std::time::Instant::now();
    bal.scale_spectral_radius("rec", 0.9, EigenMethod::Auto).unwrap();
    println!("n = 10000 balanced: scaled in {:.2} s", t.elapsed().as_secs_f64());
    let r = bal.spectral_radius("rec", EigenMethod::Arnoldi(check)).unwrap();
    assert!(rel(r, 0.9) < 1e-6, "{r}");
}

#[test]
fn matrix_operations_reach_the_mirror_entities() {
    let mut sim = Simulation::from_network(recurrent(
        60,
        0.3,
        PolaritySpec::ExcitatoryFraction(0.8),
        Distribution::Uniform { low: 0.1, high: 1.0 },
    ));
    sim.build().unwrap();
    let network = sim.network;
    for adjuster in [
        Adjuster::SpectralRadius(0.8),
        Adjuster::RandomizeSymmetric(Distribution::Uniform { low: 0.0, high: 0.5 }),
    ] {
        sim.network_mut()
            .unwrap()
            .adjust("rec", &adjuster, SignFilter::Both)
            .unwrap();
        sim.sync().unwrap();
        common::check_mirrors(&mut sim.world, network, 0, adjuster.name());
    }
}
