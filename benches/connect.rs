//! Construction speed of the connection strategies.
//!
//! W3: 10,000 -> 10,000 neurons, fixed probability 0.1 (about 10 M
//! synapses); Brian2 takes 0.58 s and NEST 4.9 s for it on the reference
//! machine. W2-style fixed in-degree: 12,500 post neurons with k = 1000
//! inputs each from 10,000 pre neurons, with replacement (12.5 M synapses).
//! Both at the default rayon thread count and on one thread.

use cortecs::connect::{ConnectInput, Strategy, connect};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let w3 = Strategy::FixedProbability {
        p: 0.1,
        equalize_efferents: false,
    };
    let w3_input = ConnectInput {
        seed: 1,
        ..ConnectInput::new("w3", 10_000, 10_000)
    };
    let w2 = Strategy::FixedInDegree { k: 1000 };
    let w2_input = ConnectInput {
        seed: 1,
        multapses: true,
        ..ConnectInput::new("w2", 10_000, 12_500)
    };
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("thread pool");
    let mut g = c.benchmark_group("connect");
    g.sample_size(10);
    g.bench_function("w3_fixed_probability_10k_p0.1", |b| {
        b.iter(|| black_box(connect(&w3, &w3_input).expect("w3")))
    });
    g.bench_function("w3_fixed_probability_10k_p0.1_1thread", |b| {
        b.iter(|| one.install(|| black_box(connect(&w3, &w3_input).expect("w3"))))
    });
    g.bench_function("w2_fixed_in_degree_12500x1000", |b| {
        b.iter(|| black_box(connect(&w2, &w2_input).expect("w2")))
    });
    g.bench_function("w2_fixed_in_degree_12500x1000_1thread", |b| {
        b.iter(|| one.install(|| black_box(connect(&w2, &w2_input).expect("w2"))))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
