//! Noisy currents (NEST's `noise_generator`): Gaussian currents of the
//! stated mean and standard deviation, independent across neurons and
//! intervals, constant within an interval; the free membrane settles at
//! `v_rest + mean / g_l`; a scene's `SetNoise` changes them; results do not
//! depend on threads or on how ticks split the run; bad values are located
//! errors.

use cortecs::prelude::*;
use std::path::PathBuf;
use std::process::Command;

fn lif(n: usize, v_thresh: f64) -> Simulation {
    let mut sim = Simulation::new(0.1, 5).unwrap();
    let spec = PopulationSpec::new(
        "n",
        n,
        ModelKind::Lif {
            synapse: SynapseKind::CurrExp,
        },
    )
    .param("v_thresh", v_thresh);
    sim.add_population(spec).unwrap();
    sim.build().unwrap();
    sim
}

fn currents(sim: &Simulation) -> Vec<f64> {
    sim.network().unwrap().populations[0].current.clone()
}

/// Mean and standard deviation of `x`.
fn moments(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    (m, (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt())
}

#[test]
fn currents_have_the_stated_moments_and_hold_for_an_interval() {
    let n = 4000;
    let mut sim = lif(n, 1e9);
    sim.network_mut()
        .unwrap()
        .add_noise_current("n", 100.0, 50.0, 10)
        .unwrap();
    sim.advance(1).unwrap();
    let first = currents(&sim);
    let (m, s) = moments(&first);
    // standard errors: 50 / sqrt(n) for the mean, about 50 / sqrt(2 n) for the std
    assert!((m - 100.0).abs() < 5.0 * 50.0 / (n as f64).sqrt(), "mean {m}");
    assert!((s - 50.0).abs() < 5.0 * 50.0 / (2.0 * n as f64).sqrt(), "std {s}");
    // within the interval (steps 0-9) nothing is drawn again
    sim.advance(4).unwrap();
    sim.advance(5).unwrap();
    assert_eq!(currents(&sim), first);
    // step 10 starts the next interval: new, uncorrelated currents
    sim.advance(1).unwrap();
    let second = currents(&sim);
    let (m2, _) = moments(&second);
    let cov = first.iter().zip(&second).map(|(a, b)| (a - m) * (b - m2)).sum::<f64>() / (n as f64 - 1.0);
    let r = cov / (s * moments(&second).1);
    assert!(r.abs() < 5.0 / (n as f64).sqrt(), "correlation between intervals {r}");
    // the same interval drawn again (another network, other tick sizes) gives the same currents
    let mut again = lif(n, 1e9);
    again
        .network_mut()
        .unwrap()
        .add_noise_current("n", 100.0, 50.0, 10)
        .unwrap();
    again.advance(10).unwrap();
    again.advance(1).unwrap();
    assert_eq!(currents(&again), second);
}

#[test]
fn the_free_membrane_settles_at_rest_plus_mean_over_leak() {
    let n = 500;
    let mut sim = lif(n, 1e9);
    sim.network_mut()
        .unwrap()
        .add_noise_current("n", 100.0, 30.0, 10)
        .unwrap();
    // 200 ms = 10 membrane time constants, one interval per tick
    for _ in 0..200 {
        sim.advance(10).unwrap();
    }
    let v = sim.network().unwrap().populations[0].get("v").unwrap();
    let (m, s) = moments(v.as_slice().unwrap());
    // g_l = cm / tau_m = 250 pF / 20 ms = 12.5 nS: -65 mV + 100 pA / 12.5 nS = -57 mV
    assert!((m - (-57.0)).abs() < 0.3, "mean v {m}");
    // the membrane filters the noise: its spread is well below 30 pA / 12.5 nS = 2.4 mV and above 0
    assert!(s > 0.1 && s < 2.4, "std v {s}");
}

/// Ticks of any length (here 7 steps, across the 10-step intervals) and a
/// plain `Network` see the same piecewise-constant currents: they are drawn
/// as each step starts, not as each tick does.
#[test]
fn ticks_across_intervals_and_the_plain_network_draw_the_same_currents() {
    let mut by_ticks = lif(300, -50.0);
    by_ticks
        .network_mut()
        .unwrap()
        .add_noise_current("n", 400.0, 200.0, 10)
        .unwrap();
    let mut net = by_ticks.network().unwrap().clone();
    let mut seen = Vec::new();
    for _ in 0..40 {
        by_ticks.advance(7).unwrap();
        net.run_steps(7);
        seen.push(currents(&by_ticks));
        assert_eq!(currents(&by_ticks), net.populations[0].current);
    }
    assert_eq!(
        by_ticks.network().unwrap().populations[0].get("v").unwrap(),
        net.populations[0].get("v").unwrap()
    );
    // the last steps of 39 and 38 ticks of 7 (272 and 265) are in intervals 27 and 26;
    // those of 40 and 39 ticks (279 and 272) both in interval 27
    assert_ne!(seen[38], seen[37]);
    assert_eq!(seen[39], seen[38]);
    assert!(net.populations[0].spike_count > 0, "the noise drives some spikes");
}

/// A checkpoint carries the noisy currents: a network saved in the middle of
/// an interval and loaded goes on bit-identically.
#[test]
fn a_checkpoint_keeps_them_and_continues_bit_identically() {
    let mut net = lif(300, -50.0).network().unwrap().clone();
    net.add_noise_current("n", 400.0, 200.0, 10).unwrap();
    net.run_steps(25); // halfway through interval 2
    let path = std::env::temp_dir().join(format!("cortecs-noise-ckpt-{}.bin", std::process::id()));
    cortecs::checkpoint::save(&net, &path).unwrap();
    let mut loaded = cortecs::checkpoint::load(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(loaded.noise.len(), 1);
    assert_eq!(
        (loaded.noise[0].mean, loaded.noise[0].std, loaded.noise[0].every),
        (400.0, 200.0, 10)
    );
    net.run_steps(40);
    loaded.run_steps(40);
    assert_eq!(loaded.populations[0].current, net.populations[0].current);
    assert_eq!(
        loaded.populations[0].get("v").unwrap(),
        net.populations[0].get("v").unwrap()
    );
    assert_eq!(loaded.populations[0].spike_count, net.populations[0].spike_count);
}

#[test]
fn bad_noise_currents_are_refused_by_name() {
    let sim = lif(4, -50.0);
    let net = sim.network().unwrap();
    let e = NoiseCurrent::new(net, "n", 1.0, -1.0, 10).unwrap_err().to_string();
    assert!(
        e.contains("noise current std") && e.contains("must be finite and >= 0 (pA), got -1"),
        "{e}"
    );
    let e = NoiseCurrent::new(net, "m", 1.0, 1.0, 10).unwrap_err().to_string();
    assert!(e.contains("'m'"), "{e}");
    let e = NoiseCurrent::new(net, "n", f64::NAN, 1.0, 10).unwrap_err().to_string();
    assert!(e.contains("noise current mean"), "{e}");
}

const SCENE: &str = r#"(
 dt: 0.1, seed: 3,
 populations: [(name: "n", size: 50, model: Lif(synapse: CurrExp))],
 noise_currents: [(population: "n", mean: 200.0, std: 120.0, dt_ms: 1.0)],
 record: (spikes: ["n"], state: [(population: "n", variable: "current", neurons: [0, 1], every: 1)], plots: false),
 timeline: [Run(ms: 50.0), SetNoise(population: "n", mean: 60.0, std: 0.0), Run(ms: 20.0)],
)"#;

fn run_scene(name: &str, text: &str, extra: &[&str]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cortecs-noise-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("noise.ron"), text).unwrap();
    let out = dir.join("out");
    let mut args = vec!["run", "noise.ron", "--quiet", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = Command::new(env!("CARGO_BIN_EXE_cortecs"))
        .args(&args)
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

#[test]
fn a_scene_draws_them_every_interval_and_set_noise_changes_them() {
    let out = run_scene("scene", SCENE, &["--threads", "1"]);
    let current = cortecs::io::read_npy_matrix_f64(&out.join("n_current.npy")).unwrap();
    assert_eq!(current.dim(), (700, 2));
    // sample k is taken after step k: steps 10 j .. 10 j + 9 share interval j
    for k in 0..499 {
        let same = (k + 1) / 10 == k / 10;
        for c in 0..2 {
            let (a, b) = (current[[k, c]], current[[k + 1, c]]);
            assert_eq!(a == b, same, "sample {k}, neuron {c}: {a} then {b}");
        }
    }
    // after SetNoise(mean: 60, std: 0) every current is 60 (from the first interval drawn after it)
    assert!(current.slice(ndarray::s![500.., ..]).iter().all(|&c| c == 60.0));
    let spikes = |o: &PathBuf| std::fs::read(o.join("n_spikes_t.npy")).unwrap();
    // 128 header bytes, 8 per spike: the noise drives the membrane across threshold now and then
    assert!(
        spikes(&out).len() > 128 + 8 * 20,
        "{} bytes of spike times",
        spikes(&out).len()
    );
    // two threads, and ticks split by a probe every 3 steps: the same spikes
    let two = run_scene("two", SCENE, &["--threads", "2"]);
    let split = run_scene("split", &SCENE.replace("every: 1", "every: 3"), &[]);
    assert_eq!(spikes(&out), spikes(&two));
    assert_eq!(spikes(&out), spikes(&split));
    for o in [out, two, split] {
        let _ = std::fs::remove_dir_all(o.parent().unwrap());
    }
}

/// A scene that loads a checkpoint keeps drawing the checkpoint's noisy
/// current (its currents go on changing every interval), and `SetNoise`
/// validates against it.
#[test]
fn a_scene_loading_a_checkpoint_keeps_its_noisy_current() {
    let first = SCENE.replace(
        "SetNoise(population: \"n\", mean: 60.0, std: 0.0), Run(ms: 20.0)",
        "Save(file: \"n.ckpt\")",
    );
    let out = run_scene("load", &first, &[]);
    let dir = out.parent().unwrap().to_path_buf();
    let second = r#"(
 load: "out/n.ckpt",
 record: (state: [(population: "n", variable: "current", neurons: [0, 1], every: 1)], plots: false),
 timeline: [Run(ms: 5.0), SetNoise(population: "n", mean: 75.0, std: 0.0), Run(ms: 2.0)],
)"#;
    std::fs::write(dir.join("again.ron"), second).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_cortecs"))
        .args(["run", "again.ron", "--quiet", "--out", "again"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let current = cortecs::io::read_npy_matrix_f64(&dir.join("again/n_current.npy")).unwrap();
    assert_eq!(current.dim(), (70, 2));
    // the checkpoint stopped at step 500, an interval start: new currents at samples 9, 19, ...
    for k in 0..49 {
        let same = (k + 1) % 10 != 0;
        assert_eq!(current[[k, 0]] == current[[k + 1, 0]], same, "sample {k}");
    }
    assert!(current.slice(ndarray::s![50.., ..]).iter().all(|&c| c == 75.0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_noise_in_a_scene_is_a_located_error() {
    let dir = std::env::temp_dir().join(format!("cortecs-noise-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        (
            SCENE.replace("std: 120.0", "std: -1.0"),
            "4:55",
            "noise_currents.std: must be finite and >= 0 (pA), got -1",
        ),
        (
            SCENE.replace("dt_ms: 1.0", "dt_ms: 0.25"),
            "4:69",
            "noise_currents.dt_ms: 0.25 ms is not a whole number of steps",
        ),
        (
            SCENE
                .replace("(population: \"n\", mean: 200.0", "(population: \"m\", mean: 200.0")
                .replace("SetNoise(population: \"n\", mean: 60.0, std: 0.0), ", ""),
            "4:32",
            "unknown population 'm' (known: n)",
        ),
        (
            SCENE.replace("SetNoise(population: \"n\"", "SetNoise(population: \"x\""),
            "6:49",
            "unknown population with a noisy current 'x' (known: n)",
        ),
        (
            SCENE.replace(
                "SetNoise(population: \"n\", mean: 60.0, std: 0.0)",
                "Set(population: \"n\", name: \"current\", value: 1.0)",
            ),
            "6:55",
            "population 'n' takes its current from its noisy current: use SetNoise to change it",
        ),
    ];
    let mut wrong = Vec::new();
    for (text, at, message) in &cases {
        std::fs::write(dir.join("bad.ron"), text).unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_cortecs"))
            .args(["check", "bad.ron"])
            .current_dir(&dir)
            .output()
            .unwrap();
        let e = String::from_utf8_lossy(&o.stderr);
        if o.status.code() != Some(1) || !e.starts_with(&format!("error: bad.ron:{at}: ")) || !e.contains(message) {
            wrong.push(format!("expected {at} {message}\n got {e}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let _ = std::fs::remove_dir_all(&dir);
}
