//! Embedding benchmark: 1,000 agents with a 50-unit CTRNN brain each, ten
//! 1-ms steps per host frame, through the ECS path against the same
//! computation written as one plain ndarray loop (both in
//! `benches/common/embedding.rs`; `tests/bench_checks.rs` checks that they
//! agree bit for bit).

#[path = "common/embedding.rs"]
mod common;

use common::{AGENTS, Out, Plain, STEPS, brain, ecs_world};
use cortecs::prelude::*;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Median wall time (s) of `f` over `rounds` runs, alternating with `g`
/// (so that both see the same machine load).
fn interleaved(rounds: usize, mut f: impl FnMut(), mut g: impl FnMut()) -> (f64, f64) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        f();
        a.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        g();
        b.push(t.elapsed().as_secs_f64());
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(&mut a), median(&mut b))
}

fn embedding(c: &mut Criterion) {
    let nets: Vec<Network> = (0..AGENTS as u64).map(brain).collect();
    let (mut world, mut schedule) = ecs_world(&nets);
    let mut plain = Plain::from_networks(&nets);

    let mut g = c.benchmark_group("embedding_1000x50");
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    g.bench_function("plain_ndarray_frame", |b| b.iter(|| plain.frame(STEPS)));
    g.bench_function("ecs_frame", |b| b.iter(|| schedule.run(&mut world)));
    g.finish();

    let (ecs, plain_s) = interleaved(60, || schedule.run(&mut world), || plain.frame(STEPS));
    let steps = (AGENTS as u64 * STEPS) as f64;
    println!(
        "interleaved medians, {} threads: ecs {:.3} ms/frame ({:.3e} agent-network-steps/s), plain {:.3} ms/frame ({:.3e}/s), ecs/plain {:.2}x",
        rayon::current_num_threads(),
        ecs * 1e3,
        steps / ecs,
        plain_s * 1e3,
        steps / plain_s,
        ecs / plain_s
    );
    black_box(&world.resource::<Out>().0);
}

criterion_group!(benches, embedding);
criterion_main!(benches);
