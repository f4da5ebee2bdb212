//! What the benchmarks compare must be the same computation: the checks the
//! benches rely on, run as tests (the benches themselves only time).

#[path = "../benches/common/embedding.rs"]
mod embedding_paths;

use cortecs::expr::Expr;
use cortecs::prelude::*;
use embedding_paths::{AGENTS, MOTORS, Out, Plain, STEPS, brain, ecs_world};

/// `benches/embedding.rs` times the ECS path against a plain ndarray loop;
/// both must produce the same motor values, bit for bit, frame after frame
/// (and values that move, so that two silent paths cannot agree by being 0).
#[test]
fn embedding_bench_ecs_path_equals_the_plain_loop_bit_for_bit() {
    let nets: Vec<Network> = (0..AGENTS as u64).map(brain).collect();
    let (mut world, mut schedule) = ecs_world(&nets);
    let mut plain = Plain::from_networks(&nets);
    let mut previous = vec![0.0f32; AGENTS * MOTORS];
    for frame in 0..3 {
        schedule.run(&mut world);
        plain.frame(STEPS);
        let ecs = &world.resource::<Out>().0;
        assert_eq!(ecs.len(), AGENTS * MOTORS);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(ecs),
            bits(&plain.out),
            "frame {frame}: the ECS path and the plain loop disagree"
        );
        let moved = ecs.iter().zip(&previous).filter(|(a, b)| a != b).count();
        assert!(
            moved > AGENTS * MOTORS * 9 / 10,
            "frame {frame}: only {moved} motor values changed"
        );
        assert!(
            ecs.iter().all(|x| x.is_finite() && x.abs() < 1.0),
            "frame {frame}: tanh outputs"
        );
        previous = ecs.clone();
    }
}

/// `benches/expr.rs` times compiled expressions against native closures on
/// the same inputs; the compiled expressions compute the closures' values.
#[test]
fn expr_bench_expressions_equal_their_closures() {
    let decay = Expr::compile("exp(-d / 50.0)", &["d"]).unwrap();
    let affine = Expr::compile("-50 + 0.5*x - 0.2*y", &["x", "y"]).unwrap();
    for i in (0..10_000_000usize).step_by(97) {
        let d = i as f64 * 1e-4;
        assert_eq!(
            decay.eval(&[d]).to_bits(),
            (-d / 50.0).exp().to_bits(),
            "exp(-d / 50) at d = {d}"
        );
        let (x, y) = (i as f64 * 1e-3, (i & 1023) as f64);
        let want = -50.0 + 0.5 * x - 0.2 * y;
        assert_eq!(affine.eval(&[x, y]).to_bits(), want.to_bits(), "affine at ({x}, {y})");
    }
}
