//! Engine fixes that trained networks rely on: a projection built from a
//! matrix under Dale's law keeps a wrong-sign weight as 0 (nn4n, README,
//! `set_weights_dense`), never flipped to |w|.

use cortecs::prelude::*;
use ndarray::{Array2, array};

#[test]
fn from_matrix_under_polarity_zeroes_wrong_sign_weights() {
    let mut net = Network::new(1.0, 1).unwrap();
    let rate = ModelKind::Rate {
        activation: Activation::Tanh,
    };
    net.add_population(PopulationSpec::new("a", 2, rate.clone()).polarity(PolaritySpec::Excitatory))
        .unwrap();
    net.add_population(PopulationSpec::new("b", 2, rate.clone()).polarity(PolaritySpec::Inhibitory))
        .unwrap();
    net.add_population(PopulationSpec::new("c", 2, rate)).unwrap();
    // post x pre
    let m: Array2<f64> = array![[0.5, -0.25], [-1.0, 2.0]];
    net.connect(ProjectionSpec::new(
        "ac",
        "a",
        "c",
        Strategy::FromMatrix { matrix: m.clone() },
    ))
    .unwrap();
    net.connect(ProjectionSpec::new(
        "bc",
        "b",
        "c",
        Strategy::FromMatrix { matrix: m.clone() },
    ))
    .unwrap();
    net.connect(ProjectionSpec::new(
        "cc",
        "c",
        "c",
        Strategy::FromMatrix { matrix: m.clone() },
    ))
    .unwrap();
    net.build_pending().unwrap();
    let dense = |name: &str| net.weights_dense(name).unwrap().mapv(f64::from);
    assert_eq!(dense("ac"), array![[0.5, 0.0], [0.0, 2.0]]);
    assert_eq!(dense("bc"), array![[0.0, -0.25], [-1.0, 0.0]]);
    // no polarity: the matrix as given
    assert_eq!(dense("cc"), m);
}

#[test]
fn a_scene_style_network_trains_and_runs_again_in_the_engine() {
    use cortecs::train::*;
    let mut net = Network::new(10.0, 4).unwrap();
    let rate = |a| ModelKind::Rate { activation: a };
    net.add_population(PopulationSpec::new("in", 3, rate(Activation::Identity)).param("tau", 10.0))
        .unwrap();
    net.add_population(
        PopulationSpec::new("h", 20, rate(Activation::Relu))
            .param("tau", 50.0)
            .param("bias", 0.1)
            .polarity(PolaritySpec::ExcitatoryFraction(0.8)),
    )
    .unwrap();
    net.add_population(PopulationSpec::new("out", 2, rate(Activation::Identity)).param("tau", 10.0))
        .unwrap();
    let uniform = Distribution::Uniform { low: -0.5, high: 0.5 };
    net.connect(ProjectionSpec::new("in_h", "in", "h", Strategy::AllToAll).weight(uniform.clone()))
        .unwrap();
    let sparsity = Array2::from_shape_fn((20, 20), |(post, pre)| f32::from(u8::from((post + pre) % 3 != 0)));
    net.connect(
        ProjectionSpec::new("hh", "h", "h", Strategy::AllToAll)
            .weight(Distribution::Uniform { low: 0.0, high: 0.2 })
            .sparsity_mask(sparsity.clone()),
    )
    .unwrap();
    net.connect(ProjectionSpec::new("h_out", "h", "out", Strategy::AllToAll).weight(uniform))
        .unwrap();
    net.build_pending().unwrap();
    let mut g = net.to_rate_graph(&["in"], &["out"]).unwrap();
    let hh = g.proj("hh").unwrap();
    assert_eq!(g.projs[hh].w, net.weights_dense("hh").unwrap());
    assert_eq!(g.projs[hh].sparsity.as_ref().unwrap(), &sparsity);
    let sign = g.projs[hh].sign.as_ref().unwrap();
    assert_eq!(
        sign.iter().filter(|&&s| s < 0.0).count(),
        4 * 20,
        "4 inhibitory pre neurons"
    );
    assert!((g.pops[1].alpha[0] - 0.2).abs() < 1e-7 && g.pops[1].bias[0] == 0.1);
    // train it a little
    let u = cortecs::workloads::Ctrnn::gaussian_input(30, 4, 3, 1);
    let target = cortecs::workloads::Ctrnn::gaussian_input(30, 4, 2, 2);
    let objective = Objective::Mse { target, mask: None };
    let mut opt = Optimizer::new(OptimizerKind::adam(), 0.01).unwrap();
    let first = train_step(&mut g, &mut opt, &u, &objective, &[], Noise::Off)
        .unwrap()
        .0
        .total();
    let mut last = first;
    for _ in 0..30 {
        last = train_step(&mut g, &mut opt, &u, &objective, &[], Noise::Off)
            .unwrap()
            .0
            .total();
        assert_eq!(violation(&g), None);
    }
    assert!(last < first, "{last} >= {first}");
    // back into the engine: the same outputs
    let tape = forward(&mut g, &u, Noise::Off).unwrap();
    let y = output(&g, &tape);
    let mut back = Network::from_trained(&g, 4, 1).unwrap();
    let engine = back.run_trials(&["in"], &["out"], &u).unwrap();
    let d = engine
        .iter()
        .zip(y.iter())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(d < 1e-5, "{d}");
    // the engine network carries the masks and Dale's law on: a wrong-sign write becomes 0
    let m = back.projection("hh").unwrap().masks();
    assert!(m.sparsity.is_some() && m.signs.is_some());
    let mut w = back.weights_dense("hh").unwrap();
    let (post, pre) = (0, 1); // pre 1 is excitatory, (0 + 1) % 3 != 0 is allowed
    w[[post, pre]] = -0.3;
    back.set_weights_dense("hh", w.view()).unwrap();
    assert_eq!(back.weights_dense("hh").unwrap()[[post, pre]], 0.0);
    let e = net.to_rate_graph(&["in"], &["nope"]).unwrap_err().to_string();
    assert!(e.starts_with("unknown population 'nope'"), "{e}");
}
