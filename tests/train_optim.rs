//! Optimizers, clipping and schedules against hand-computed torch updates.

use cortecs::train::*;

fn one_step(kind: OptimizerKind, lr: f64, p: &mut [f64], g: &[f64], opt: &mut Option<Optimizer>) {
    let o = opt.get_or_insert_with(|| Optimizer::new(kind, lr).unwrap());
    let mut gs = g.to_vec();
    o.step(&mut [p], &mut [gs.as_mut_slice()]).unwrap();
}

#[test]
fn adam_first_two_steps_equal_hand_computation() {
    let (mut p, mut opt) = (vec![1.0, -2.0], None);
    one_step(OptimizerKind::adam(), 0.1, &mut p, &[0.5, -3.0], &mut opt);
    // step 1: m = 0.1 g, v = 0.001 g^2, m_hat / (sqrt(v_hat) + eps) = g / (|g| + eps)
    let want = |p0: f64, g: f64| p0 - 0.1 * g / (g.abs() + 1e-8);
    assert!((p[0] - want(1.0, 0.5)).abs() < 1e-12 && (p[1] - want(-2.0, -3.0)).abs() < 1e-12);
    let p1 = p.clone();
    one_step(OptimizerKind::adam(), 0.1, &mut p, &[1.0, 0.0], &mut opt);
    let (m, v) = (0.9 * 0.05 + 0.1 * 1.0, 0.999 * 0.001 * 0.25 + 0.001 * 1.0);
    let (bc1, bc2) = (1.0 - 0.9f64.powi(2), 1.0 - 0.999f64.powi(2));
    let want0 = p1[0] - 0.1 / bc1 * m / (v.sqrt() / bc2.sqrt() + 1e-8);
    assert!((p[0] - want0).abs() < 1e-12, "{} vs {want0}", p[0]);
}

#[test]
fn adamw_decays_decoupled_and_adam_couples_weight_decay() {
    let kind = OptimizerKind::AdamW {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.1,
    };
    let (mut p, mut opt) = (vec![2.0], None);
    one_step(kind, 0.01, &mut p, &[0.0], &mut opt);
    // zero gradient: only the decay p (1 - lr wd)
    assert!((p[0] - 2.0 * (1.0 - 0.001)).abs() < 1e-15);
    let coupled = OptimizerKind::Adam {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.1,
    };
    let (mut p, mut opt) = (vec![2.0], None);
    one_step(coupled, 0.01, &mut p, &[0.0], &mut opt);
    // gradient 0 + wd p = 0.2 > 0: the first Adam step moves by lr
    assert!((p[0] - (2.0 - 0.01 * 0.2 / (0.2 + 1e-8))).abs() < 1e-12);
}

#[test]
fn sgd_momentum_and_nesterov_equal_torch() {
    let k = |nesterov| OptimizerKind::Sgd {
        momentum: 0.9,
        nesterov,
        weight_decay: 0.0,
    };
    let (mut p, mut opt) = (vec![1.0], None);
    one_step(k(false), 0.1, &mut p, &[1.0], &mut opt); // buf = 1
    one_step(k(false), 0.1, &mut p, &[2.0], &mut opt); // buf = 0.9 + 2 = 2.9
    assert!((p[0] - (1.0 - 0.1 - 0.29)).abs() < 1e-12);
    let (mut p, mut opt) = (vec![1.0], None);
    one_step(k(true), 0.1, &mut p, &[1.0], &mut opt); // buf = 1, step g + 0.9 buf = 1.9
    one_step(k(true), 0.1, &mut p, &[2.0], &mut opt); // buf = 2.9, step 2 + 2.61 = 4.61
    assert!((p[0] - (1.0 - 0.19 - 0.461)).abs() < 1e-12);
}

#[test]
fn clipping_scales_to_the_norm_and_reports_it() {
    let mut o = Optimizer::new(
        OptimizerKind::Sgd {
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        },
        1.0,
    )
    .unwrap();
    o.clip_norm = Some(1.0);
    let (mut a, mut b) = (vec![0.0, 0.0], vec![0.0]);
    let (mut ga, mut gb) = (vec![3.0, 0.0], vec![4.0]);
    let norm = o
        .step(
            &mut [a.as_mut_slice(), b.as_mut_slice()],
            &mut [ga.as_mut_slice(), gb.as_mut_slice()],
        )
        .unwrap();
    assert_eq!(norm, 5.0);
    // torch: coef = max_norm / (norm + 1e-6)
    let c = 1.0 / (5.0 + 1e-6);
    assert!((a[0] + 3.0 * c).abs() < 1e-15 && (b[0] + 4.0 * c).abs() < 1e-15);
    let e = o
        .step(&mut [a.as_mut_slice()], &mut [ga.as_mut_slice()])
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "train: optimizer state does not fit the parameters (another network?)"
    );
}

#[test]
fn schedules_equal_torch_formulas() {
    let s = Schedule::Step {
        step_size: 10,
        gamma: 0.5,
    };
    assert_eq!(
        (s.rate(0.1, 0), s.rate(0.1, 9), s.rate(0.1, 10), s.rate(0.1, 25)),
        (0.1, 0.1, 0.05, 0.025)
    );
    let c = Schedule::Cosine {
        t_max: 100,
        eta_min: 0.001,
    };
    assert_eq!(c.rate(0.1, 0), 0.1);
    assert!((c.rate(0.1, 50) - (0.001 + 0.099 * 0.5)).abs() < 1e-15);
    assert!((c.rate(0.1, 100) - 0.001).abs() < 1e-15);
    assert_eq!(
        Optimizer::new(OptimizerKind::adam(), 0.0).unwrap_err().to_string(),
        "train: optimizer: lr must be > 0, got 0"
    );
}
