//! Scene files end to end: the demo, the reference workloads W1 and W2, and
//! errors that name file, line and column.

use cortecs::scene;
use ndarray::{Array1, Array2};
use ndarray_npy::read_npy;
use std::path::Path;

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("cortecs-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn rate(summary: &scene::Summary) -> f64 {
    let spikes: u64 = summary.populations.values().map(|p| p.spikes).sum();
    let n: usize = summary.populations.values().map(|p| p.size).sum();
    spikes as f64 / n as f64 / (summary.time_ms / 1000.0)
}

#[test]
fn demo_scene_runs_and_writes_its_recordings() {
    let out = tmp("demo");
    let s = scene::run_file(Path::new("scenes/demo.ron"), Some(&out)).unwrap();
    assert_eq!(s.time_ms, 1000.0);
    let t: Array1<f64> = read_npy(out.join("exc_spikes_t.npy")).unwrap();
    let i: Array1<u32> = read_npy(out.join("exc_spikes_i.npy")).unwrap();
    assert_eq!(t.len() as u64, s.populations["exc"].spikes);
    assert_eq!(t.len(), i.len());
    assert!(i.iter().all(|&x| x < 1600));
    assert!(t.windows(2).into_iter().all(|w| w[0] <= w[1]));
    let v: Array2<f64> = read_npy(out.join("exc_v.npy")).unwrap();
    assert_eq!(v.dim(), (1000, 4)); // every 10 steps for 1000 ms, 4 neurons
    let w: Array2<f32> = read_npy(out.join("ii_weights.npy")).unwrap();
    assert_eq!(w.dim(), (400, 400));
    assert!(w.diag().iter().all(|&x| x == 0.0), "no self-connections");
    assert!(out.join("summary.json").exists());
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn w1_coba_rate_in_range_and_identical_at_one_and_two_threads() {
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let out = tmp(&format!("coba{threads}"));
        let s = pool.install(|| scene::run_file(Path::new("scenes/coba.ron"), Some(&out)).unwrap());
        let t: Array1<f64> = read_npy(out.join("neurons_spikes_t.npy")).unwrap();
        let i: Array1<u32> = read_npy(out.join("neurons_spikes_i.npy")).unwrap();
        let _ = std::fs::remove_dir_all(&out);
        (rate(&s), t, i)
    };
    let (r1, t1, i1) = run(1);
    assert!((15.0..=21.0).contains(&r1), "W1 rate {r1} Hz");
    let (r2, t2, i2) = run(2);
    assert_eq!(r1, r2);
    assert_eq!(t1, t2);
    assert_eq!(i1, i2);
}

#[test]
fn w2_brunel_rate_in_range() {
    let out = tmp("brunel");
    let s = scene::run_file(Path::new("scenes/brunel.ron"), Some(&out)).unwrap();
    let r = rate(&s);
    assert!((31.0..=33.0).contains(&r), "W2 rate {r} Hz");
    assert_eq!(s.projections.values().map(|p| p.synapses).sum::<u64>(), 15_625_000);
    let _ = std::fs::remove_dir_all(&out);
}

fn scene_error(text: &str) -> String {
    let path = Path::new("bad.ron");
    match scene::parse(path, text) {
        Err(e) => e.to_string(),
        Ok(s) => scene::build(&s, path, text)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default(),
    }
}

#[test]
fn errors_name_file_line_and_column() {
    let e = scene_error(
        "(\n populations: [(name: \"a\", size: 10, model: Lif(synapse: Delta))],\n projections: [\n  (name: \"p\", pre: \"a\", post: \"nope\", strategy: AllToAll),\n ],\n)",
    );
    assert!(
        e.starts_with("bad.ron:4:31:") && e.contains("unknown population 'nope' (known: a)"),
        "{e}"
    );
    let e = scene_error("(\n populations: [(name: \"a\", size: 10, model: Lif(synapse: Delta), colour: 3)],\n)");
    assert!(e.starts_with("bad.ron:2:") && e.contains("colour"), "{e}");
    let e = scene_error(
        "(\n populations: [(name: \"a\", size: 10, model: Lif(synapse: Delta))],\n projections: [(name: \"p\", pre: \"a\", post: \"a\", strategy: FixedProbability(p: 1.5))],\n)",
    );
    assert!(e.starts_with("bad.ron:3:") && e.contains("1.5"), "{e}");
    let e = scene_error(
        "(\n populations: [(name: \"a\", size: 10, model: Lif(synapse: Delta))],\n projections: [\n  (name: \"p\", pre: \"a\", post: \"a\",\n   strategy: DistanceProbability(p: 0.3, cutoff: 50.0))],\n)",
    );
    assert!(e.starts_with("bad.ron:5:") && e.contains("expression string"), "{e}");
    let e = scene_error(
        "(\n populations: [(name: \"a\", size: 10, model: Lif(synapse: Delta), params: {\"v_init\": \"-65 + q\"})],\n)",
    );
    assert!(e.contains("unknown variable 'q'"), "{e}");
    let e = scene_error(
        "(\n populations: [(name: \"a\", size: 10, model: Lif(synapse: Delta), params: {\"v_init\": [1.0, 2.0]})],\n)",
    );
    assert!(e.contains("array has length 2, expected 10"), "{e}");
}

#[test]
fn ctrnn_masks_scene_keeps_masks_through_adjusters_and_writes_a_summary() {
    let out = tmp("ctrnn-masks");
    scene::run_file(Path::new("scenes/ctrnn_masks.ron"), Some(&out)).unwrap();
    let w: Array2<f32> = read_npy(out.join("hh_weights.npy")).unwrap();
    let mask: Array2<f32> = read_npy("scenes/data/two_areas_sparsity.npy").unwrap();
    assert_eq!(w.dim(), (80, 80));
    for ((post, pre), &x) in w.indexed_iter() {
        if mask[[post, pre]] == 0.0 || post == pre {
            assert_eq!(x, 0.0, "[{post}, {pre}] is masked out");
        }
        // Dale: the first 64 units are excitatory
        assert!(if pre < 64 { x >= 0.0 } else { x <= 0.0 }, "[{post}, {pre}] = {x}");
    }
    // E/I balance held after the last adjustment (a perturbation): every
    // post neuron with live inputs of both signs (the saved store's signs,
    // not the weights) is checked, and that is most of them
    let saved = cortecs::network::Network::load(out.join("after_adjust.ckpt")).unwrap();
    let store = saved.projection("hh").unwrap().store();
    let mut has = [(false, false); 80];
    for k in 0..store.len() {
        let post = store.pair(k).1 as usize;
        match store.sign[k] {
            1 => has[post].0 = true,
            -1 => has[post].1 = true,
            _ => {}
        }
    }
    let expected = has.iter().filter(|&&(e, i)| e && i).count();
    assert!(expected >= 70, "only {expected} of 80 rows have inputs of both signs");
    let mut checked = 0;
    for post in 0..80 {
        let row = w.row(post);
        let (e, i): (f32, f32) = (
            row.iter().filter(|&&x| x > 0.0).sum(),
            row.iter().filter(|&&x| x < 0.0).sum(),
        );
        if e > 0.0 && i < 0.0 {
            assert!((e + i).abs() <= 1e-4 * e, "post {post}: {e} {i}");
            checked += 1;
        }
    }
    assert_eq!(
        checked, expected,
        "rows checked (weights of both signs) vs rows with inputs of both signs"
    );
    let summary = std::fs::read_to_string(out.join("summary.txt")).unwrap();
    assert!(
        summary.contains("E/I balance") && summary.contains("sparsity (3840 of 6400"),
        "{summary}"
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_mask_of_the_wrong_shape_is_a_scene_error() {
    let dir = tmp("bad-mask");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.ron");
    std::fs::write(
        &file,
        r#"(
    populations: [(name: "h", size: 3, model: Rate(activation: Tanh))],
    projections: [
        (name: "hh", pre: "h", post: "h", strategy: AllToAll,
         masks: (sparsity: [[1.0, 0.0], [1.0, 1.0]])),
    ],
)"#,
    )
    .unwrap();
    let e = scene::run_file(&file, Some(&dir.join("out"))).unwrap_err().to_string();
    assert!(
        e.contains("bad.ron:4:") && e.contains("3 x 3") && e.contains("2 x 2"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stdp_scene_learns_grows_and_records_weights_at_chosen_times() {
    let out = tmp("stdp");
    let s = scene::run_file(Path::new("scenes/stdp.ron"), Some(&out)).unwrap();
    assert_eq!(s.time_ms, 5000.0);
    let w0: Array2<f32> = read_npy(out.join("input_exc_weights_0ms.npy")).unwrap();
    let w2: Array2<f32> = read_npy(out.join("input_exc_weights_2000ms.npy")).unwrap();
    let w5: Array2<f32> = read_npy(out.join("input_exc_weights.npy")).unwrap();
    assert_eq!(w0.dim(), (200, 1000));
    // STDP drives the competing inputs towards the bounds: more weights near 0 and near w_max
    let at_bounds = |w: &Array2<f32>| w.iter().filter(|&&x| x != 0.0 && !(0.05..0.95).contains(&x)).count();
    assert!(at_bounds(&w0) < at_bounds(&w2) && at_bounds(&w2) < at_bounds(&w5));
    assert!(w5.iter().all(|&x| (0.0..=1.0).contains(&x)), "bounds [0, 1]");
    // the recurrent synapses grew (p = 0.05 at build, growth every 50 ms)
    let ee: Array2<f32> = read_npy(out.join("exc_exc_weights.npy")).unwrap();
    let live = ee.iter().filter(|&&x| x != 0.0).count();
    assert!(live > 4000, "{live} recurrent synapses");
    assert!(
        ee.diag().iter().all(|&x| x == 0.0),
        "growth never makes self-connections"
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn learning_errors_in_scenes_name_file_line_and_column() {
    let pops = "populations: [(name: \"a\", size: 10, model: Lif(synapse: Delta)), (name: \"r\", size: 10, model: Rate(activation: Tanh))]";
    let e = scene_error(&format!(
        "(\n {pops},\n projections: [\n  (name: \"p\", pre: \"a\", post: \"a\", strategy: AllToAll,\n   learning: [(rule: Stdp(a_plus: -1.0))])],\n)"
    ));
    assert!(e.starts_with("bad.ron:4:10:") && e.contains("a_plus"), "{e}");
    let e = scene_error(&format!(
        "(\n {pops},\n projections: [\n  (name: \"p\", pre: \"r\", post: \"r\", strategy: AllToAll,\n   learning: [(rule: Stdp())])],\n)"
    ));
    assert!(
        e.starts_with("bad.ron:4:10:") && e.contains("needs spiking populations"),
        "{e}"
    );
    let e = scene_error(&format!(
        "(\n {pops},\n projections: [\n  (name: \"p\", pre: \"a\", post: \"a\", strategy: AllToAll,\n   learning: [(rule: Stdp(a_plus: 0.1, tau: 3.0))])],\n)"
    ));
    assert!(e.starts_with("bad.ron:5:") && e.contains("tau"), "{e}");
    // a modulator for a projection without reward STDP: the action is located
    let text = format!(
        "(\n {pops},\n projections: [(name: \"p\", pre: \"a\", post: \"a\", strategy: AllToAll)],\n timeline: [Run(ms: 1.0),\n  Modulate(projection: \"p\", value: 1.0)],\n)"
    );
    let dir = tmp("modulate");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("m.ron");
    std::fs::write(&file, &text).unwrap();
    let e = scene::run_file(&file, Some(&dir.join("out"))).unwrap_err().to_string();
    assert!(
        e.contains("m.ron:") && e.contains("has no reward-modulated rule"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
