//! Evaluation speed of compiled expressions against native closures.
//!
//! Each iteration evaluates an expression over 10 million different inputs
//! and sums the results, so the reported time is per 10M evaluations.

use std::hint::black_box;
use std::time::Duration;

use cortecs::expr::Expr;
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};

const N: usize = 10_000_000;

fn sum_1(f: impl Fn(f64) -> f64) -> f64 {
    let mut s = 0.0;
    for i in 0..N {
        s += f(black_box(i as f64 * 1e-4));
    }
    s
}

fn sum_2(f: impl Fn(f64, f64) -> f64) -> f64 {
    let mut s = 0.0;
    for i in 0..N {
        s += f(black_box(i as f64 * 1e-3), black_box((i & 1023) as f64));
    }
    s
}

fn expr_eval(c: &mut Criterion) {
    let mut g = c.benchmark_group("expr_eval");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));

    let decay = Expr::compile("exp(-d / 50.0)", &["d"]).expect("compiles");
    g.bench_function("exp(-d/50)/expr/10M", |b| {
        b.iter(|| black_box(sum_1(|d| decay.eval(&[d]))))
    });
    g.bench_function("exp(-d/50)/closure/10M", |b| {
        b.iter(|| black_box(sum_1(|d| (-d / 50.0).exp())))
    });

    let affine = Expr::compile("-50 + 0.5*x - 0.2*y", &["x", "y"]).expect("compiles");
    g.bench_function("-50+0.5x-0.2y/expr/10M", |b| {
        b.iter(|| black_box(sum_2(|x, y| affine.eval(&[x, y]))))
    });
    g.bench_function("-50+0.5x-0.2y/closure/10M", |b| {
        b.iter(|| black_box(sum_2(|x, y| -50.0 + 0.5 * x - 0.2 * y)))
    });
    g.finish();
}

criterion_group!(benches, expr_eval);
criterion_main!(benches);
