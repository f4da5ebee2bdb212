//! BPTT gradients against central finite differences in f64, for every
//! loss, regularizer and trainable kind, with sparsity, Dale's law,
//! plasticity masks, noise, two areas (a forward and a backward edge in the
//! step order), trained time constants and a learned initial state; and
//! nn4n's constraints after every optimizer step.

use cortecs::model::Activation;
use cortecs::rng::Stream;
use cortecs::train::*;
use ndarray::{Array2, Array3};

fn rand2(rng: &mut Stream, shape: (usize, usize), scale: f64) -> Array2<f64> {
    Array2::from_shape_simple_fn(shape, || scale * (2.0 * rng.uniform() - 1.0))
}

/// input(3) -> a(6, tanh, 4 E + 2 I, sparse, plastic) <-> b(4, softplus) -> out(2) + out2(2, sigmoid, alpha 0.5).
fn graph(seed: u64) -> RateGraph<f64> {
    let mut rng = Stream::keyed(seed, "test", "graph", 0);
    let mut g = RateGraph::new(10.0);
    let i = g.add_pop(TrainPop::input("input", 3));
    let mut a = TrainPop::new("a", 6, Activation::Tanh).tau(10.0, 50.0).noise(0.3, 0.05);
    a.alpha = ndarray::Array1::from_shape_fn(6, |k| 0.15 + 0.05 * k as f64);
    a.bias = ndarray::Array1::from_shape_fn(6, |k| 0.1 * k as f64 - 0.2);
    a.train_alpha = true;
    a.init = InitState::Learn;
    a.v0 = ndarray::Array1::from_shape_fn(6, |k| 0.3 - 0.1 * k as f64);
    let a = g.add_pop(a);
    let mut b = TrainPop::new("b", 4, Activation::Softplus).tau(10.0, 30.0);
    b.train_alpha = true;
    let b = g.add_pop(b);
    let o = g.add_pop(TrainPop::new("out", 2, Activation::Identity));
    let o2 = g.add_pop(TrainPop::new("out2", 2, Activation::Sigmoid).tau(10.0, 20.0));
    let sign = [1.0, 1.0, 1.0, 1.0, -1.0, -1.0];
    g.add_proj(TrainProj::new("in_a", i, a, rand2(&mut rng, (6, 3), 0.8)));
    let mut aa = TrainProj::new("a_a", a, a, rand2(&mut rng, (6, 6), 0.6)).dale_by_pre(&sign);
    aa.sparsity = Some(Array2::from_shape_fn((6, 6), |(p, q)| {
        f64::from(u8::from((p + 2 * q) % 3 != 0))
    }));
    aa.plasticity = Some(Array2::from_shape_fn((6, 6), |(p, q)| [1.0, 0.5, 0.0][(p * q) % 3]));
    g.add_proj(aa);
    g.add_proj(TrainProj::new("a_b", a, b, rand2(&mut rng, (4, 6), 0.7)).dale_by_pre(&sign));
    g.add_proj(TrainProj::new("b_a", b, a, rand2(&mut rng, (6, 4), 0.5)));
    g.add_proj(TrainProj::new("a_out", a, o, rand2(&mut rng, (2, 6), 0.7)));
    g.add_proj(TrainProj::new("b_out2", b, o2, rand2(&mut rng, (2, 4), 0.7)));
    g.readout = vec![o, o2];
    enforce(&mut g);
    g
}

/// Input, MSE target, MSE mask, class labels, class mask.
type Data = (Array3<f64>, Array3<f64>, Array3<f64>, Array2<usize>, Array2<f64>);

fn data(seed: u64, steps: usize, batch: usize) -> Data {
    let mut rng = Stream::keyed(seed, "test", "data", 0);
    let u = Array3::from_shape_simple_fn((steps, batch, 3), || cortecs::rng::standard_normal(&mut rng));
    let target = Array3::from_shape_simple_fn((steps, batch, 4), || rng.uniform());
    let mask = Array3::from_shape_fn(
        (steps, batch, 4),
        |(t, _, o)| if t < 2 { 0.0 } else { 1.0 + 0.5 * o as f64 },
    );
    let labels = Array2::from_shape_simple_fn((steps, batch), || rng.below(4) as usize);
    let cmask = Array2::from_shape_fn((steps, batch), |(t, b)| if t < 3 { 0.0 } else { 1.0 + (b % 2) as f64 });
    (u, target, mask, labels, cmask)
}

fn all_regs() -> Vec<Regularizer> {
    vec![
        Regularizer::WeightL1 {
            projection: "a_b".into(),
            lambda: 0.3,
        },
        Regularizer::WeightL2 {
            projection: "a_a".into(),
            lambda: 0.7,
        },
        Regularizer::RateL2 {
            population: "a".into(),
            lambda: 0.4,
        },
        Regularizer::RateMean {
            population: "b".into(),
            target: 0.2,
            lambda: 0.9,
        },
        Regularizer::RateStd {
            population: "a".into(),
            lambda: 0.6,
        },
        Regularizer::RateCv {
            population: "b".into(),
            lambda: 0.5,
        },
    ]
}

/// Checks every entry of every trained array against a central difference; returns the worst relative error.
fn check(objective: &Objective<f64>, regs: &[Regularizer], noise: Noise) -> f64 {
    let g0 = graph(1);
    let (u, ..) = data(2, 7, 3);
    let mut g = g0.clone();
    let (_, mut grads, _) = loss_and_grad(&mut g, &u, objective, regs, noise).unwrap();
    apply_plasticity(&g0, &mut grads);
    let analytic: Vec<Vec<f64>> = grads.slices().iter().map(|s| s.to_vec()).collect();
    // the plasticity mask factor of each entry of each array (1 where there is none)
    let mut factor: Vec<Vec<f64>> = analytic.iter().map(|a| vec![1.0; a.len()]).collect();
    let trained: Vec<usize> = (0..g0.projs.len()).filter(|&q| g0.projs[q].trainable).collect();
    for (k, &q) in trained.iter().enumerate() {
        if let Some(m) = &g0.projs[q].plasticity {
            factor[k] = m.iter().copied().collect();
        }
    }
    let loss_at = |k: usize, j: usize, d: f64| {
        let mut g = g0.clone();
        params_mut(&mut g)[k][j] += d;
        loss_and_grad(&mut g, &u, objective, regs, noise).unwrap().0.total()
    };
    let h = 1e-6;
    let mut worst = 0.0f64;
    assert_eq!(
        analytic.len(),
        6 + 4 + 2 + 1,
        "6 projections, 4 biases, 2 alphas, 1 initial state"
    );
    for (k, a) in analytic.iter().enumerate() {
        for j in 0..a.len() {
            let fd = factor[k][j] * (loss_at(k, j, h) - loss_at(k, j, -h)) / (2.0 * h);
            let err = (a[j] - fd).abs();
            assert!(
                err <= 1e-6 * fd.abs().max(1e-3),
                "array {k} entry {j}: bptt {} vs finite difference {fd}",
                a[j]
            );
            worst = worst.max(err / fd.abs().max(1e-3));
        }
    }
    worst
}

#[test]
fn mse_with_mask_and_noise_equals_finite_differences() {
    let (_, target, mask, ..) = data(2, 7, 3);
    let noise = Noise::On { seed: 5, iteration: 3 };
    let worst = check(
        &Objective::Mse {
            target,
            mask: Some(mask),
        },
        &[],
        noise,
    );
    assert!(worst < 1e-6, "{worst}");
}

#[test]
fn cross_entropy_with_mask_equals_finite_differences() {
    let (.., labels, cmask) = data(2, 7, 3);
    let worst = check(
        &Objective::CrossEntropy {
            labels,
            mask: Some(cmask),
        },
        &[],
        Noise::Off,
    );
    assert!(worst < 1e-6, "{worst}");
}

#[test]
fn every_regularizer_equals_finite_differences() {
    let (_, target, ..) = data(2, 7, 3);
    for reg in all_regs() {
        let objective = Objective::Mse {
            target: target.clone(),
            mask: None,
        };
        let worst = check(
            &objective,
            std::slice::from_ref(&reg),
            Noise::On { seed: 9, iteration: 0 },
        );
        assert!(worst < 1e-6, "{reg:?}: {worst}");
    }
}

#[test]
fn regularizer_values_equal_hand_computed_ones() {
    let mut g = graph(1);
    let (u, target, ..) = data(2, 7, 3);
    let objective = Objective::Mse { target, mask: None };
    let base = loss_and_grad(&mut g.clone(), &u, &objective, &[], Noise::Off)
        .unwrap()
        .0;
    assert_eq!(base.regularizers, 0.0);
    let tape = forward(&mut g, &u, Noise::Off).unwrap();
    let w = &g.projs[g.proj("a_a").unwrap()].w;
    let l2 = 0.7 * w.iter().map(|x| x * x).sum::<f64>() / 36.0;
    let r = tape.r(g.pop("a").unwrap()).slice(ndarray::s![.., 1.., ..]).to_owned();
    let rate_l2 = 0.4 * r.iter().map(|x| x * x).sum::<f64>() / r.len() as f64;
    let m: Vec<f64> = r.outer_iter().map(|u| u.mean().unwrap()).collect();
    let mu = m.iter().sum::<f64>() / 6.0;
    let sd = (m.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / 5.0).sqrt();
    let regs = all_regs();
    let value = |reg: &Regularizer| {
        loss_and_grad(&mut g.clone(), &u, &objective, std::slice::from_ref(reg), Noise::Off)
            .unwrap()
            .0
            .regularizers
    };
    assert!((value(&regs[1]) - l2).abs() < 1e-12);
    assert!((value(&regs[2]) - rate_l2).abs() < 1e-12);
    assert!((value(&regs[4]) - 0.6 * sd).abs() < 1e-12);
}

#[test]
fn masks_and_dale_hold_after_every_step() {
    for seed in 0..4 {
        let mut g = graph(seed);
        let before = g.clone();
        let (u, target, mask, ..) = data(seed + 10, 6, 4);
        let objective = Objective::Mse {
            target,
            mask: Some(mask),
        };
        let kinds = [
            OptimizerKind::adam(),
            OptimizerKind::adamw(),
            OptimizerKind::Sgd {
                momentum: 0.9,
                nesterov: true,
                weight_decay: 0.01,
            },
        ];
        let mut opt = Optimizer::new(kinds[seed as usize % 3].clone(), 0.05).unwrap();
        opt.clip_norm = Some(1.0);
        for it in 0..25 {
            train_step(
                &mut g,
                &mut opt,
                &u,
                &objective,
                &all_regs(),
                Noise::On { seed, iteration: it },
            )
            .unwrap();
            assert_eq!(violation(&g), None, "seed {seed} step {it}");
            let aa = g.proj("a_a").unwrap();
            let (w0, w) = (&before.projs[aa].w, &g.projs[aa].w);
            let plast = before.projs[aa].plasticity.as_ref().unwrap();
            for ((ix, &p), &x) in plast.indexed_iter().zip(w.iter()) {
                // a plasticity factor of 0 freezes the weight (Adam's step of a zero gradient is zero)
                if p == 0.0 && matches!(opt.kind, OptimizerKind::Adam { .. }) {
                    assert_eq!(x, w0[ix], "frozen weight {ix:?} moved");
                }
            }
        }
        // training moved the other weights
        assert_ne!(g.projs[0].w, before.projs[0].w);
    }
}

#[test]
fn constraints_follow_nn4n_relu_not_flip() {
    let mut g = graph(3);
    let aa = g.proj("a_a").unwrap();
    g.projs[aa].w.fill(-0.5);
    g.projs[aa].sparsity = None;
    enforce(&mut g);
    // excitatory pre columns (0..4): -0.5 becomes 0, inhibitory columns keep -0.5
    for ((_, pre), &w) in g.projs[aa].w.indexed_iter() {
        assert_eq!(w, if pre < 4 { 0.0 } else { -0.5 });
    }
}

#[test]
fn bad_input_is_refused_with_names() {
    let mut g = graph(1);
    let u = Array3::<f64>::zeros((4, 2, 5));
    let e = forward(&mut g, &u, Noise::Off).unwrap_err().to_string();
    assert_eq!(
        e,
        "train: input u (steps, batch, n_in) channels: array has length 5, expected 3"
    );
    let mut g2 = graph(1);
    g2.projs[1].sparsity = Some(Array2::from_elem((6, 6), 2.0));
    let e = g2.validate().unwrap_err().to_string();
    assert_eq!(
        e,
        "train: projection 'a_a' (index 1): sparsity mask[0, 0] = 2 is not allowed"
    );
    let mut g3 = graph(1);
    g3.pops[1].alpha[2] = 1.5;
    let e = g3.validate().unwrap_err().to_string();
    assert_eq!(e, "train: population 'a' (index 1): alpha[2] = 1.5 is outside (0, 1]");
    let y = Array3::<f64>::zeros((4, 2, 4));
    let ce = Objective::CrossEntropy {
        labels: Array2::from_elem((4, 2), 7),
        mask: None,
    };
    assert_eq!(
        ce.value_grad(&y).unwrap_err().to_string(),
        "train: label[0, 0] = 7 but the output has 4 classes"
    );
}
