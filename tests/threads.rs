//! Networks large enough to take the parallel paths (populations at least
//! twice `kernel::PARALLEL_MIN` neurons, rate batches > 1) give bit-identical
//! results at 1, 2 and 3 threads: every random stream is keyed by name and
//! chunk, never by thread.

use cortecs::kernel::PARALLEL_MIN;
use cortecs::scene;
use std::path::Path;

/// The whole saved state (weights, state, RNG states, time) after building
/// `text` and running `steps` steps on a pool of `threads` threads.
fn state_after(text: &str, steps: u64, threads: usize, tag: &str) -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("cortecs-threads-{tag}-{threads}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("state.bin");
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| {
        let path = Path::new("threads.ron");
        let sc = scene::parse(path, text).unwrap();
        let mut sim = scene::build(&sc, path, text).unwrap();
        sim.advance(steps).unwrap();
        let net = sim.network().unwrap();
        if tag != "rate" {
            // the dynamics did something: both populations spiked
            assert!(net.populations.iter().all(|p| p.spike_count > 100), "too few spikes");
        }
        if tag == "stdp" {
            // on average more than 16 arrivals and 16 post spikes a step
            for p in &net.populations {
                assert!(
                    p.spike_count > 16 * steps,
                    "{}: {} spikes in {steps} steps",
                    p.name,
                    p.spike_count
                );
            }
        }
        if tag == "delivery" {
            // at least 6 spikes a step of rows of ~3,000: above SCATTER_PARALLEL_MIN
            let src = net.populations.iter().find(|p| p.name == "src").unwrap();
            assert!(
                src.spike_count > 6 * steps,
                "{} source spikes in {steps} steps",
                src.spike_count
            );
        }
        sim.sync().unwrap();
        sim.save(&file).unwrap();
    });
    let bytes = std::fs::read(&file).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    bytes
}

fn same_at_1_2_3_threads(text: &str, steps: u64, tag: &str) {
    let one = state_after(text, steps, 1, tag);
    for threads in [2, 3] {
        assert!(
            state_after(text, steps, threads, tag) == one,
            "{tag}: {threads} threads differ from 1"
        );
    }
}

#[test]
fn spiking_network_above_the_parallel_threshold_is_identical_at_1_2_3_threads() {
    let n = 2 * PARALLEL_MIN + 1000;
    let text = format!(
        r#"(
    dt: 0.1, seed: 11,
    populations: [
        (name: "exc", size: {n}, model: Lif(synapse: CondExp), polarity: Excitatory,
         params: {{"v_init": Uniform(low: -65.0, high: -50.0)}}),
        (name: "adex", size: {n}, model: AdEx(synapse: CurrExp), polarity: Inhibitory,
         params: {{"v_init": Uniform(low: -70.0, high: -55.0)}}),
    ],
    projections: [
        (name: "ee", pre: "exc", post: "exc", strategy: FixedInDegree(k: 8), weight: Uniform(low: 1.0, high: 4.0), delay: 1.0),
        (name: "ea", pre: "exc", post: "adex", strategy: FixedProbability(p: 0.0002), weight: 50.0, delay: 0.5),
        (name: "ae", pre: "adex", post: "exc", strategy: FixedInDegree(k: 4), weight: 5.0, delay: 2.0),
    ],
    drives: [(population: "exc", rate: 5000.0, weight: 4.0), (population: "adex", rate: 5000.0, weight: 60.0)],
)"#
    );
    same_at_1_2_3_threads(&text, 200, "spiking");
}

#[test]
fn spike_delivery_split_over_threads_is_identical_at_1_2_3_threads() {
    // rows of ~3,000 synapses: every step delivers more than
    // SCATTER_PARALLEL_MIN, so each post range is scattered by its own
    // thread; weights of both signs take both branches of the conductance
    // scatter, and the delta population the jump path
    const { assert!(6 * 3000 > cortecs::kernel::SCATTER_PARALLEL_MIN) };
    let text = r#"(
    dt: 0.1, seed: 5,
    populations: [
        (name: "src", size: 1500, model: Lif(synapse: Delta),
         params: {"v_init": Uniform(low: -65.0, high: -50.0)}),
        (name: "cond", size: 6000, model: Lif(synapse: CondExp),
         params: {"v_init": Uniform(low: -65.0, high: -50.0)}),
        (name: "jump", size: 6001, model: Lif(synapse: Delta),
         params: {"v_init": Uniform(low: -65.0, high: -50.0)}),
    ],
    projections: [
        (name: "sc", pre: "src", post: "cond", strategy: FixedProbability(p: 0.5), weight: Normal(mean: 0.1, std: 0.4), delay: 1.0),
        (name: "sj", pre: "src", post: "jump", strategy: FixedProbability(p: 0.5), weight: Normal(mean: 0.01, std: 0.05), delay: 0.5),
    ],
    drives: [(population: "src", rate: 40000.0, weight: 0.5), (population: "cond", rate: 2000.0, weight: 2.0),
             (population: "jump", rate: 20000.0, weight: 0.4)],
)"#;
    same_at_1_2_3_threads(text, 200, "delivery");
}

#[test]
fn pair_stdp_split_over_threads_is_identical_at_1_2_3_threads() {
    // rows and columns of ~1,000 synapses: most steps bring more than 16
    // arrivals (the fused PSP + depression splits by post range) and more
    // than 16 post spikes (the potentiation splits by post neuron)
    const { assert!(17 * 1000 > cortecs::kernel::SCATTER_PARALLEL_MIN) };
    let text = r#"(
    dt: 0.1, seed: 9,
    populations: [
        (name: "src", size: 2000, model: PoissonSource, polarity: Excitatory, params: {"rate": 150.0}),
        (name: "exc", size: 2000, model: Lif(synapse: Delta),
         params: {"tau_m": 10.0, "cm": 1.0, "v_rest": 0.0, "v_thresh": 20.0, "v_reset": 0.0, "t_ref": 2.0,
                  "v_init": Uniform(low: 0.0, high: 20.0)}),
    ],
    projections: [
        (name: "se", pre: "src", post: "exc", strategy: FixedProbability(p: 0.5), weight: 0.3, delay: 1.0,
         learning: [(rule: Stdp(a_plus: 0.01, a_minus: 0.0105), w_max: 0.6)]),
    ],
)"#;
    same_at_1_2_3_threads(text, 150, "stdp");
}

#[test]
fn rate_network_with_batches_above_the_parallel_threshold_is_identical_at_1_2_3_threads() {
    // batch 3: 3 * n state values per population, far above the threshold
    let n = 2 * PARALLEL_MIN;
    let text = format!(
        r#"(
    dt: 1.0, seed: 5,
    populations: [
        (name: "h", size: {n}, model: Rate(activation: Tanh), batch: 3, polarity: ExcitatoryFraction(0.8),
         params: {{"tau": 10.0, "v_init": Normal(mean: 0.0, std: 0.5)}}, pre_noise: 0.05, post_noise: 0.02),
    ],
    projections: [
        (name: "hh", pre: "h", post: "h", strategy: FixedInDegree(k: 6), weight: Normal(mean: 0.0, std: 0.3),
         self_connections: false),
    ],
)"#
    );
    same_at_1_2_3_threads(&text, 30, "rate");
}

#[test]
fn one_trial_sparse_rate_input_split_over_threads_is_identical_at_1_2_3_threads() {
    // 3,000 units at p = 0.1: rows of ~300 synapses (the gathered dot
    // products), 64-row chunks of ~19,200 synapses, each above PARALLEL_MIN
    let text = r#"(
    dt: 1.0, seed: 6,
    populations: [
        (name: "h", size: 3000, model: Rate(activation: Tanh),
         params: {"tau": 10.0, "v_init": Normal(mean: 0.0, std: 1.0)}),
    ],
    projections: [
        (name: "hh", pre: "h", post: "h", strategy: FixedProbability(p: 0.1), weight: Normal(mean: 0.0, std: 0.086)),
    ],
)"#;
    same_at_1_2_3_threads(text, 20, "rate");
}
