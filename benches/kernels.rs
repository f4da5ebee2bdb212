//! Kernel benchmarks: the reference workloads W1, W2, W4, W5 (W2 with STDP
//! on E -> E: plastic over static is the ratio to watch) and the cost of
//! editing one synapse (O(changes), not a rebuild); W1 and W2 also without
//! the run-time health check, to show its cost.
//!
//! `cargo bench --bench kernels` (single-threaded figures: `RAYON_NUM_THREADS=1`).

use cortecs::prelude::*;
use cortecs::workloads::{self, Ctrnn};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

fn w1(c: &mut Criterion) {
    let net = workloads::coba(12345, Path::new("scenes/data")).unwrap();
    let mut g = c.benchmark_group("w1_coba");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.bench_function("simulate_1s", |b| {
        b.iter_batched(
            || net.clone(),
            |mut n| {
                n.run_steps(10_000);
                black_box(n.step)
            },
            BatchSize::LargeInput,
        )
    });
    // the run-time health check's cost: the same second with no check
    g.bench_function("simulate_1s_no_health_check", |b| {
        b.iter_batched(
            || {
                let mut n = net.clone();
                n.health.check_every = 0;
                n
            },
            |mut n| {
                n.run_steps(10_000);
                black_box(n.step)
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn w2(c: &mut Criterion) {
    let mut net = workloads::brunel(12345, 10_000, 1000, true).unwrap();
    net.run_steps(1000); // into the stationary state
    let mut g = c.benchmark_group("w2_brunel");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.bench_function("simulate_100ms", |b| b.iter(|| net.run_steps(1000)));
    let mut unchecked = net.clone();
    unchecked.health.check_every = 0;
    g.bench_function("simulate_100ms_no_health_check", |b| {
        b.iter(|| unchecked.run_steps(1000))
    });
    // one synapse edited by (pre, post) in the compact 10 M-synapse store, then one step
    g.bench_function("plain_step", |b| b.iter(|| net.step_once()));
    let mut w = 0.1f32;
    g.bench_function("edit_one_synapse_then_step", |b| {
        b.iter(|| {
            w = if w == 0.1 { 0.2 } else { 0.1 };
            let p = net.projection_mut("exc_exc").unwrap();
            let k = p.store().find_live(17, 4242).unwrap().unwrap_or(0);
            p.set_weight(k, w);
            net.step_once()
        })
    });
    g.finish();
}

fn w5(c: &mut Criterion) {
    let mut net = workloads::brunel_stdp(12345, 10_000, 1000, true).unwrap();
    net.run_steps(1000); // into the stationary state, post index built
    let mut g = c.benchmark_group("w5_brunel_stdp");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("simulate_100ms", |b| b.iter(|| net.run_steps(1000)));
    g.finish();
}

fn w4(c: &mut Criterion) {
    let mut g = c.benchmark_group("w4_ctrnn_forward");
    g.sample_size(20);
    for hidden in [100, 1000] {
        let mut net = Ctrnn::uniform(10, hidden, 2, 32, 12345);
        let u = Ctrnn::gaussian_input(100, 32, 10, 12346);
        g.bench_function(format!("H{hidden}"), |b| b.iter(|| black_box(net.forward(&u))));
    }
    g.finish();
}

/// One weight edit by entity (mirrored) folded in by the Compile stage:
/// the time must not grow with the projection (1 M vs 10 M synapses).
fn edit_by_entity(c: &mut Criterion) {
    let mut g = c.benchmark_group("edit_by_entity");
    g.sample_size(20);
    for (n_pre, label) in [(1000, "1M"), (10_000, "10M")] {
        let mut net = Network::new(0.1, 1).unwrap();
        net.add_population(PopulationSpec::new(
            "a",
            n_pre,
            ModelKind::Lif {
                synapse: SynapseKind::Delta,
            },
        ))
        .unwrap();
        net.add_population(PopulationSpec::new(
            "b",
            1000,
            ModelKind::Lif {
                synapse: SynapseKind::Delta,
            },
        ))
        .unwrap();
        net.add_projection(ProjectionSpec::new("ab", "a", "b", Strategy::AllToAll).weight(0.1))
            .unwrap();
        let mut sim = Simulation::from_network(net);
        sim.build().unwrap();
        let e = sim.synapse_entities("ab", 7, 9).unwrap()[0];
        let mut w = 0.1f32;
        g.bench_function(label, |b| {
            b.iter(|| {
                w = if w == 0.1 { 0.2 } else { 0.1 };
                sim.world.entity_mut(e).insert(Weight(w));
                sim.advance(0).unwrap();
            })
        });
    }
    g.finish();
}

criterion_group!(benches, w1, w2, w4, w5, edit_by_entity);
criterion_main!(benches);
