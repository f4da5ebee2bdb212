//! Each hot loop of a spiking step alone, on W1's and W2's own data: the
//! conductance-based membrane update (W1), the delta LIF update (W2), the
//! Poisson drive's table sampling (W2), and spike delivery (W2's exc -> exc
//! store, the spikes of one stationary step) on one thread and split over
//! post ranges on the pool; and the sparse rate input `W r` of the rate
//! workload (20,000 units, p = 0.1, 4 x 10^7 synapses, 320 MB read a call).
//!
//! `cargo bench --bench hot_loops` (one thread: `RAYON_NUM_THREADS=1`).

use cortecs::kernel::{NEURON_CHUNK, scatter};
use cortecs::population::PopulationState;
use cortecs::rng::{PoissonTable, Stream};
use cortecs::workloads;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

/// One population's neuron update, chunk by chunk as the step does it (no
/// input arrives: the slots are consumed and stay zero).
fn neuron_update(c: &mut Criterion, name: &str, mut net: cortecs::network::Network, pop: usize) {
    net.run_steps(500); // into the running state
    let p = &mut net.populations[pop];
    let (model, params, derived) = (p.model.clone(), p.params.clone(), p.derived.clone());
    let n = p.size;
    let PopulationState::Spiking(s) = &mut p.state else {
        panic!("{name}: a spiking population")
    };
    let (mut exc, mut inh, current) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let mut spikes = Vec::with_capacity(n);
    c.bench_function(name, |b| {
        b.iter(|| {
            spikes.clear();
            for start in (0..n).step_by(NEURON_CHUNK) {
                let end = (start + NEURON_CHUNK).min(n);
                let chunk = cortecs::model::StateChunk {
                    v: &mut s.v[start..end],
                    w: &mut s.w[start..end],
                    g_e: &mut s.g_e[start..end],
                    g_i: &mut s.g_i[start..end],
                    x_e: &mut s.x_e[start..end],
                    x_i: &mut s.x_i[start..end],
                    refractory: &mut s.refractory[start..end],
                };
                let input = cortecs::model::StepInput {
                    exc: &mut exc[start..end],
                    inh: &mut inh[start..end],
                    current: &current[start..end],
                };
                cortecs::kernel::step_spiking(&model, &params, &derived, start, chunk, input, &mut spikes);
            }
            black_box(spikes.len())
        })
    });
}

fn neurons(c: &mut Criterion) {
    let w1 = workloads::coba(12345, Path::new("scenes/data")).unwrap();
    neuron_update(c, "membrane_cond_exp_3200", w1, 0);
    let w2 = workloads::brunel(12345, 10_000, 1000, true).unwrap();
    neuron_update(c, "lif_delta_10000", w2, 0);
}

fn drive(c: &mut Criterion) {
    // W2's drive: 2 nu_thr C_E = 20 kHz at dt 0.1 ms, mean 2 a step, per neuron
    let table = PoissonTable::new(2.0);
    let mut rng = Stream::from_seed(1);
    let mut x = vec![0.0f64; 10_000];
    c.bench_function("poisson_drive_10000", |b| {
        b.iter(|| {
            for v in x.iter_mut() {
                *v += table.sample(&mut rng) as f64 * 0.1;
            }
            black_box(x[0])
        })
    });
}

fn delivery(c: &mut Criterion) {
    let mut net = workloads::brunel(12345, 10_000, 1000, true).unwrap();
    net.run_steps(1000);
    // the excitatory spikes of the next few steps, as one step's delivery (~3 steps' worth)
    let mut spikes = Vec::new();
    while spikes.len() < 100 {
        net.step_once();
        spikes.extend_from_slice(&net.populations[0].spikes);
    }
    let store = net.projections[0].store().clone();
    let mut g = c.benchmark_group("scatter_w2_exc_exc");
    g.measurement_time(Duration::from_secs(5));
    let post = &mut net.populations[0];
    g.bench_function(format!("{}_spikes", spikes.len()), |b| {
        b.iter(|| scatter(&store, &spikes, post, 0))
    });
    g.finish();
}

fn rate(c: &mut Criterion) {
    let mut net = workloads::rate_network(12345, 20_000, 0.1).unwrap();
    net.run_steps(5);
    let PopulationState::Rate(s) = &net.populations[0].state else {
        panic!("a rate population")
    };
    let (r, store) = (s.r.clone(), net.projections[0].store());
    let mut acc = vec![0.0f32; r.len()];
    let mut g = c.benchmark_group("rate_input_20000_p0.1");
    g.sample_size(20);
    g.bench_function("one_trial", |b| {
        b.iter(|| {
            cortecs::kernel::rate_input(store, &r, 1, &mut acc);
            black_box(acc[0])
        })
    });
    g.finish();
}

criterion_group!(benches, neurons, drive, delivery, rate);
criterion_main!(benches);
