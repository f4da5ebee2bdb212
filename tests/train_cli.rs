//! `cortecs train`: a run stopped and resumed writes the same log and the
//! same checkpoint bytes as an uninterrupted one; scene errors name
//! file:line:column.

use cortecs::train::*;
use std::path::Path;

const SCENE: &str = r#"(
    dt: 20.0,
    network: EiCtrnn(hidden: 20, exc_fraction: 0.8, density: 0.5, tau: 100.0, sigma_pre: 0.1, sigma_post: 0.01),
    task: PerceptualDecision(stimulus: 200.0, decision_weight: 5.0),
    regularizers: [RateL2(population: "hidden", lambda: 1e-3), WeightL2(projection: "w_hid", lambda: 1e-3)],
    optimizer: (kind: AdamW(beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.01), lr: 0.01,
                schedule: Step(step_size: 5, gamma: 0.5), clip_norm: 1.0),
    iterations: 12,
    batch: 4,
    seed: 3,
    checkpoint_every: 4,
    eval_trials: 20,
)"#;

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("cortecs_train_cli_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn stopped_and_resumed_run_writes_the_same_files() {
    let d = dir("resume");
    let scene = d.join("pdm.ron");
    std::fs::write(&scene, SCENE).unwrap();
    let (a, b) = (d.join("a"), d.join("b"));
    let whole = run_training(&scene, &a, false, None).unwrap();
    assert_eq!(whole.iterations, 12);
    let first = run_training(&scene, &b, false, Some(7)).unwrap();
    assert_eq!(first.iterations, 7);
    let rest = run_training(&scene, &b, true, None).unwrap();
    assert_eq!((rest.resumed_from, rest.iterations), (7, 12));
    let read = |p: &Path| std::fs::read(p).unwrap();
    assert_eq!(read(&a.join("log.csv")), read(&b.join("log.csv")));
    assert_eq!(read(&a.join("checkpoint.ckpt")), read(&b.join("checkpoint.ckpt")));
    assert_eq!(whole.heldout_accuracy, rest.heldout_accuracy);
    let log = String::from_utf8(read(&a.join("log.csv"))).unwrap();
    assert_eq!(log.lines().count(), 13);
    // the step schedule halves the rate every 5 iterations
    let lr: Vec<f64> = log
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap().parse().unwrap())
        .collect();
    assert_eq!((lr[0], lr[5], lr[10]), (0.01, 0.005, 0.0025));
    for f in [
        "learning_curve.png",
        "accuracy_curve.png",
        "psychometric.png",
        "summary.json",
    ] {
        assert!(read(&a.join(f)).len() > 100, "{f}");
    }
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn scene_errors_name_file_line_and_column() {
    let p = Path::new("t.ron");
    let bad = SCENE.replace("batch: 4", "batch: 0");
    let e = parse_scene(p, &bad).unwrap_err().to_string();
    assert_eq!(e, "t.ron:9:5: batch must be at least 1");
    let bad = SCENE.replace("tau: 100.0", "tau: 10.0");
    let e = parse_scene(p, &bad).unwrap_err().to_string();
    assert_eq!(
        e,
        "t.ron:3:67: tau must be >= dt = 20 ms (alpha = dt / tau <= 1), got 10"
    );
    let bad = SCENE.replace("iterations: 12", "iteratons: 12");
    let e = parse_scene(p, &bad).unwrap_err().to_string();
    assert!(e.starts_with("t.ron:8:"), "{e}");
    let bad = SCENE.replace("\"w_hid\"", "\"w_hidden\"");
    let s = parse_scene(p, &bad).unwrap();
    let mut t = trainer_of(&s).unwrap();
    let e = t.step().unwrap_err().to_string();
    assert_eq!(e, "unknown projection 'w_hidden' (known: w_in, w_hid, w_out)");
}

#[test]
fn a_ctrnn_scene_trains_on_go_no_go_and_keeps_state_when_asked() {
    let d = dir("ctrnn");
    let scene = d.join("gng.ron");
    let text = r#"(
        dt: 100.0,
        network: Ctrnn(hidden: 16, activation: Tanh, tau: 200.0, init_state: Learn),
        task: GoNoGo(decision_weight: 5.0),
        loss: Mse,
        optimizer: (kind: Sgd(momentum: 0.9, nesterov: false, weight_decay: 0.0), lr: 0.05),
        iterations: 3,
        batch: 8,
    )"#;
    std::fs::write(&scene, text).unwrap();
    let s = parse_scene(&scene, text).unwrap();
    let t = trainer_of(&s).unwrap();
    assert_eq!((t.graph.n_in(), t.graph.n_out()), (3, 2));
    let out = d.join("out");
    let summary = run_training(&scene, &out, false, None).unwrap();
    assert_eq!(summary.iterations, 3);
    // the learned initial state moved (it is trained)
    let t = Trainer::load(&out.join("checkpoint.ckpt")).unwrap();
    assert!(t.graph.pops[1].v0.iter().any(|&x| x != 0.0));
    // Keep: the next pass starts where each trial ended
    let mut g = t.graph.clone();
    g.pops[1].init = InitState::Keep;
    let tb = t.task.batch(8, 100.0, 1, "keep", 0).unwrap();
    let first = forward(&mut g, &tb.u, Noise::Off).unwrap();
    let second = forward(&mut g, &tb.u, Noise::Off).unwrap();
    let end = first.v[1].slice(ndarray::s![.., tb.u.dim().0, ..]).to_owned();
    assert_eq!(second.v[1].slice(ndarray::s![.., 0, ..]), end);
    let e = forward(&mut g, &t.task.batch(3, 100.0, 1, "keep", 0).unwrap().u, Noise::Off)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "train: population 'hidden' keeps the state of 8 trials, the input has 3"
    );
    std::fs::remove_dir_all(&d).ok();
}

/// A `cortecs train` process killed (SIGKILL) at several moments and then
/// resumed with `--resume` ends with the log and the checkpoint bytes of an
/// uninterrupted run.
#[test]
#[ignore = "spawns the release binary several times; run by .ci/run"]
fn a_killed_training_process_resumes_bit_identically() {
    use std::process::{Command, Stdio};
    let d = dir("kill");
    let scene = d.join("pdm.ron");
    let text = SCENE
        .replace("iterations: 12", "iterations: 1500")
        .replace("checkpoint_every: 4", "checkpoint_every: 7")
        .replace("batch: 4", "batch: 16");
    std::fs::write(&scene, &text).unwrap();
    let train = |out: &Path, resume: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cortecs"));
        c.args(["--threads", "1", "train"])
            .arg(&scene)
            .arg("--out")
            .arg(out)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if resume {
            c.arg("--resume");
        }
        c
    };
    let whole = d.join("whole");
    assert!(train(&whole, false).status().unwrap().success());
    let killed = d.join("killed");
    let mut kills = 0;
    for wait_ms in [150u64, 400, 250, 600, 350] {
        let mut child = train(&killed, true).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(wait_ms));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            kills += 1;
        }
        child.wait().unwrap();
        // no half-written file under a final name: the checkpoint, when
        // present, always loads
        let ckpt = killed.join("checkpoint.ckpt");
        if ckpt.exists() {
            Trainer::load(&ckpt).unwrap();
        }
    }
    assert!(kills > 0, "the run always finished before it could be killed");
    assert!(train(&killed, true).status().unwrap().success());
    let read = |p: &Path| std::fs::read(p).unwrap();
    for f in ["log.csv", "checkpoint.ckpt"] {
        assert_eq!(read(&whole.join(f)), read(&killed.join(f)), "{f}");
    }
    std::fs::remove_dir_all(&d).ok();
}
