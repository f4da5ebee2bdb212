//! W4 training: the first 35 Adam losses and the parameters after 35 steps
//! equal torch's (`tests/data/w4/`, made by `make_w4_reference.py`, torch =
//! nn4n 1.1.1): dims [10, 100, 2], tanh, alpha 0.1, batch 32, 100 steps,
//! MSE, Adam lr 1e-3 with torch's defaults, all five tensors trained.

use cortecs::model::Activation;
use cortecs::train::*;
use cortecs::workloads::CtrnnWeights;
use ndarray::{Array1, Array2, Array3};
use ndarray_npy::read_npy;

fn load2(name: &str) -> Array2<f32> {
    read_npy(format!("tests/data/w4/{name}.npy")).unwrap()
}
fn load1(name: &str) -> Array1<f32> {
    read_npy(format!("tests/data/w4/{name}.npy")).unwrap()
}

fn max_rel(a: &[f32], b: &[f32]) -> f64 {
    let scale = b.iter().map(|x| x.abs()).fold(0.0f32, f32::max) as f64;
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from((x - y).abs()))
        .fold(0.0, f64::max)
        / scale
}

#[test]
fn first_35_adam_losses_and_weights_equal_torch() {
    let w = CtrnnWeights {
        w_in: load2("W_in"),
        w_hid: load2("W_hid"),
        b_hid: load1("b_hid"),
        w_out: load2("W_out"),
        b_out: load1("b_out"),
    };
    let u: Array3<f32> = read_npy("tests/data/w4/u.npy").unwrap();
    let target: Array3<f32> = read_npy("tests/data/w4/target.npy").unwrap();
    let reference: Array1<f64> = read_npy("tests/data/w4/losses.npy").unwrap();
    let mut g = RateGraph::<f32>::ctrnn(&w, Activation::Tanh, 10.0, 100.0);
    let y0: Array3<f32> = read_npy("tests/data/w4/y0.npy").unwrap();
    let tape = forward(&mut g, &u, Noise::Off).unwrap();
    let y = output(&g, &tape);
    let d = y
        .iter()
        .zip(y0.iter())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(d < 1e-5, "forward vs torch y0: {d}");
    let mut opt = Optimizer::new(OptimizerKind::adam(), 1e-3).unwrap();
    let objective = Objective::Mse { target, mask: None };
    let mut worst = 0.0f64;
    for (k, &want) in reference.iter().enumerate() {
        let (loss, _) = train_step(&mut g, &mut opt, &u, &objective, &[], Noise::Off).unwrap();
        let rel = (loss.total() - want).abs() / want;
        assert!(
            rel < 1e-4,
            "loss {k}: {} vs torch {want} (relative {rel:e})",
            loss.total()
        );
        worst = worst.max(rel);
    }
    eprintln!("worst relative loss difference over 35 steps: {worst:e}");
    let after = [
        ("W_in", g.projs[0].w.as_slice().unwrap().to_vec()),
        ("W_hid", g.projs[1].w.as_slice().unwrap().to_vec()),
        ("W_out", g.projs[2].w.as_slice().unwrap().to_vec()),
        ("b_hid", g.pops[1].bias.to_vec()),
        ("b_out", g.pops[2].bias.to_vec()),
    ];
    for (name, got) in after {
        let file = format!("{name}_after35");
        let want: Vec<f32> = if name.starts_with('b') {
            load1(&file).to_vec()
        } else {
            load2(&file).iter().copied().collect()
        };
        let rel = max_rel(&got, &want);
        eprintln!("{name} after 35 steps: max |diff| / max |w| = {rel:e}");
        assert!(
            rel < 1e-4,
            "{name} after 35 steps differs from torch by {rel:e} (relative to its largest entry)"
        );
    }
}
