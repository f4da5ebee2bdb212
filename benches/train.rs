//! W4 training iteration (benches/WORKLOADS.md): dims [10, H, 2], batch 32, 100
//! steps, MSE, BPTT, one Adam step, all five tensors trained; H = 100 and 1000.
//!
//! `RAYON_NUM_THREADS=1 cargo bench --bench train` (and `=2` for two threads).

use cortecs::model::Activation;
use cortecs::train::*;
use cortecs::workloads::{Ctrnn, CtrnnWeights};
use criterion::{Criterion, criterion_group, criterion_main};
use std::time::Duration;

fn w4_train(c: &mut Criterion) {
    let mut group = c.benchmark_group("w4_ctrnn_train");
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    for hidden in [100, 1000] {
        let w = CtrnnWeights::uniform(10, hidden, 2, 12345);
        let mut g = RateGraph::<f32>::ctrnn(&w, Activation::Tanh, 10.0, 100.0);
        let u = Ctrnn::gaussian_input(100, 32, 10, 1);
        let target = Ctrnn::gaussian_input(100, 32, 2, 2);
        let objective = Objective::Mse { target, mask: None };
        let mut opt = Optimizer::new(OptimizerKind::adam(), 1e-3).unwrap();
        group.bench_function(format!("iteration_h{hidden}"), |b| {
            b.iter(|| train_step(&mut g, &mut opt, &u, &objective, &[], Noise::Off).unwrap().0)
        });
    }
    group.finish();
}

criterion_group!(benches, w4_train);
criterion_main!(benches);
