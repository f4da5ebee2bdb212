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
