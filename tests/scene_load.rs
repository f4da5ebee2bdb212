//! Scenes that start from a checkpoint (`load`), `cortecs run CHECKPOINT`,
//! input arrays played into populations (`Input`, `Network::play_input`),
//! `ResetRates`, and local learning added to a built network (`Learn`,
//! `Network::add_learning`): a trained network runs and learns in the engine.

use cortecs::prelude::*;
use cortecs::scene;
use ndarray::{Array2, Array3, s};
use ndarray_npy::{read_npy, write_npy};
use std::path::{Path, PathBuf};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cortecs-load-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// in (3 identity, tau = dt) -> hidden (6 tanh) -> out (2 identity), no noise, dt 10 ms.
fn brain(batch: usize, learn: bool) -> Network {
    let mut net = Network::new(10.0, 5).unwrap();
    let rate = |a| ModelKind::Rate { activation: a };
    for (name, n, act, tau) in [
        ("in", 3, Activation::Identity, 10.0),
        ("hidden", 6, Activation::Tanh, 40.0),
        ("out", 2, Activation::Identity, 10.0),
    ] {
        net.add_population(PopulationSpec::new(name, n, rate(act)).param("tau", tau).batch(batch))
            .unwrap();
    }
    let normal = |std| Distribution::Normal { mean: 0.0, std };
    for (name, pre, post, std) in [
        ("w_in", "in", "hidden", 1.0),
        ("rec", "hidden", "hidden", 0.5),
        ("w_out", "hidden", "out", 0.7),
    ] {
        let mut spec = ProjectionSpec::new(name, pre, post, Strategy::AllToAll)
            .weight(normal(std))
            .compact(true);
        if learn && name == "rec" {
            spec.learning = vec![oja()];
            spec.plasticity = 1.0;
        }
        net.add_projection(spec).unwrap();
    }
    net.build_pending().unwrap();
    net
}

fn oja() -> Learning {
    Learning::unbounded(Rule::Oja(cortecs::plasticity::Oja { eta: 0.01 }))
}

fn inputs(steps: usize, trials: usize) -> Array3<f32> {
    let mut rng = cortecs::rng::Stream::from_seed(11);
    Array3::from_shape_fn((steps, trials, 3), |_| (2.0 * rng.uniform() - 1.0) as f32)
}

#[test]
fn a_loaded_network_plays_input_trials_and_records_what_run_trials_computes() {
    let dir = tmp("trials");
    brain(1, false).save(dir.join("net.ckpt")).unwrap();
    let u = inputs(12, 4);
    write_npy(dir.join("u.npy"), &u).unwrap();
    let text = r#"(
        load: "net.ckpt",
        record: (state: [(population: "out", variable: "r", neurons: [0, 1])]),
        timeline: [
            Input(population: "in", file: "u.npy", trial: 2), Run(ms: 120.0),
            ResetRates,
            Input(population: "in", file: "u.npy", trial: 0), Run(ms: 120.0),
        ],
    )"#;
    std::fs::write(dir.join("s.ron"), text).unwrap();
    let out = dir.join("out");
    let summary = scene::run_file(&dir.join("s.ron"), Some(&out)).unwrap();
    assert_eq!(
        (summary.status.as_str(), summary.steps, summary.dt_ms),
        ("complete", 24, 10.0)
    );
    assert_eq!(summary.seed, 5, "the checkpoint's seed when the scene writes none");
    let r: Array2<f64> = read_npy(out.join("out_r.npy")).unwrap();
    assert_eq!(r.dim(), (24, 2));
    for (block, trial) in [(0, 2), (1, 0)] {
        let one = u.slice(s![.., trial..trial + 1, ..]).to_owned();
        let y = brain(1, false).run_trials(&["in"], &["out"], &one).unwrap();
        for t in 0..12 {
            for o in 0..2 {
                assert_eq!(
                    r[[block * 12 + t, o]],
                    f64::from(y[[t, 0, o]]),
                    "trial {trial} step {t} out {o}"
                );
            }
        }
    }
}

#[test]
fn an_input_ends_with_its_last_row_and_a_batched_file_feeds_each_trial() {
    let mut net = brain(4, false);
    let u = inputs(5, 4);
    net.play_input("in", u.clone()).unwrap();
    assert_eq!(net.input_left("in").unwrap(), 5);
    let mut r = Vec::new();
    for _ in 0..7 {
        net.step_once();
        r.push(net.get_trial("in", "r", 3).unwrap());
    }
    // identity units with tau = dt: r is this step's input exactly, then 0 after the last row
    for (t, row) in r.iter().enumerate() {
        let want: Vec<f32> = (0..3).map(|c| if t < 5 { u[[t, 3, c]] } else { 0.0 }).collect();
        assert_eq!(row.to_vec(), want, "step {t}");
    }
    assert_eq!(net.input_left("in").unwrap(), 0);
    let e = |r: cortecs::Result<()>| r.unwrap_err().to_string();
    assert!(
        e(net.play_input("in", inputs(5, 3))).contains("trials"),
        "trials must match"
    );
    assert!(e(net.play_input("hidden", inputs(5, 4))).contains("units"));
    let mut bad = inputs(2, 4);
    bad[[1, 2, 0]] = f32::NAN;
    assert_eq!(
        e(net.play_input("in", bad)),
        "input for 'in': value NaN at (step 1, trial 2, unit 0) is not finite"
    );
    // a checkpoint cannot carry a playing input: saving is refused, nothing is written
    net.play_input("in", inputs(5, 4)).unwrap();
    let dir = tmp("save-input");
    let msg = net.save(dir.join("x.ckpt")).unwrap_err().to_string();
    assert!(
        msg.contains("an input array plays into 'in' (5 of 5 steps left)"),
        "{msg}"
    );
    assert!(!dir.join("x.ckpt").exists());
}

#[test]
fn learning_added_to_a_built_network_equals_learning_from_the_start() {
    let u = inputs(40, 2);
    let mut a = brain(2, true);
    let mut b = brain(2, false);
    b.add_learning("rec", vec![oja()], None).unwrap();
    for net in [&mut a, &mut b] {
        net.play_input("in", u.clone()).unwrap();
        net.run_steps(40);
    }
    let (wa, wb) = (
        a.projection("rec").unwrap().store().to_dense(),
        b.projection("rec").unwrap().store().to_dense(),
    );
    assert_eq!(wa, wb, "bit for bit");
    let w0 = brain(2, false).projection("rec").unwrap().store().to_dense();
    assert_ne!(wa, w0, "the rule changed the weights");
    // the rules are kept in a checkpoint of the network that learns now
    let dir = tmp("learn-save");
    b.save(dir.join("b.ckpt")).unwrap();
    let back = Network::load(dir.join("b.ckpt")).unwrap();
    assert!(back.projection("rec").unwrap().plastic().is_some());
    // what add_learning refuses
    let e = |r: cortecs::Result<()>| r.unwrap_err().to_string();
    assert!(e(b.add_learning("rec", vec![oja()], None)).contains("already learns"));
    let mut c = brain(2, false);
    assert!(e(c.add_learning("rec", vec![], None)).contains("no rule"));
    assert!(e(c.add_learning("rec", vec![oja()], Some(1.5))).contains("must be in [0, 1]"));
    let stdp = Learning::new(Rule::Stdp(Stdp::default()), 1.0);
    assert!(e(c.add_learning("rec", vec![stdp], None)).contains("needs spiking populations"));
    assert!(e(c.add_learning("nope", vec![oja()], None)).contains("unknown projection 'nope'"));
}

#[test]
fn a_scene_learn_action_on_a_loaded_network_equals_the_api() {
    let dir = tmp("learn-scene");
    brain(1, false).save(dir.join("net.ckpt")).unwrap();
    let u = inputs(30, 1);
    write_npy(dir.join("u.npy"), &u.index_axis(ndarray::Axis(1), 0).to_owned()).unwrap();
    let text = r#"(
        load: "net.ckpt",
        record: (weights: ["rec"]),
        timeline: [Learn(projection: "rec", learning: [(rule: Oja(eta: 0.01))]),
                   Input(population: "in", file: "u.npy"), Run(ms: 300.0)],
    )"#;
    std::fs::write(dir.join("s.ron"), text).unwrap();
    let out = dir.join("out");
    scene::run_file(&dir.join("s.ron"), Some(&out)).unwrap();
    let w: Array2<f32> = read_npy(out.join("rec_weights.npy")).unwrap();
    let mut api = brain(1, true);
    api.play_input("in", u).unwrap();
    api.run_steps(30);
    assert_eq!(w, api.projection("rec").unwrap().store().to_dense());
}

fn run_err(dir: &Path, text: &str) -> String {
    std::fs::write(dir.join("bad.ron"), text).unwrap();
    match scene::load(&dir.join("bad.ron"), &[]) {
        Ok((sc, t)) => scene::run_scene(&sc, &dir.join("bad.ron"), &t, &dir.join("o"))
            .map(|s| s.error.unwrap_or_default())
            .unwrap_or_else(|e| e.to_string()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn load_and_input_errors_name_file_line_and_column() {
    let dir = tmp("errors");
    brain(1, false).save(dir.join("net.ckpt")).unwrap();
    write_npy(dir.join("u2.npy"), &Array2::<f32>::zeros((4, 5))).unwrap();
    write_npy(dir.join("u3.npy"), &Array3::<f32>::zeros((4, 2, 3))).unwrap();
    let bad = dir.join("bad.ron");
    let b = bad.display();
    let e = run_err(&dir, "(\n  dt: 0.1,\n  load: \"net.ckpt\",\n)");
    assert_eq!(
        e,
        format!(
            "{b}:2:7: dt: 0.1 ms differs from the checkpoint's 10 ms (its delays and time constants are in its steps): leave dt out"
        )
    );
    let e = run_err(&dir, "(\n  load: \"none.ckpt\",\n)");
    assert!(e.starts_with(&format!("{b}:2:9: ")) && e.contains("none.ckpt"), "{e}");
    let e = run_err(
        &dir,
        "(load: \"net.ckpt\", timeline: [Input(population: \"hiden\", file: \"u2.npy\")])",
    );
    assert!(
        e.contains("unknown population 'hiden'") && e.contains("did you mean"),
        "{e}"
    );
    let e = run_err(
        &dir,
        "(load: \"net.ckpt\", timeline: [Input(population: \"in\", file: \"u2.npy\")])",
    );
    assert!(
        e.contains("input for 'in' (steps x trials x units): units") && e.contains("expected 3"),
        "{e}"
    );
    let e = run_err(
        &dir,
        "(load: \"net.ckpt\", timeline: [Input(population: \"in\", file: \"u3.npy\", trial: 2)])",
    );
    assert!(e.contains("trial 2 is out of range (2 trials in the file)"), "{e}");
    let e = run_err(
        &dir,
        "(load: \"net.ckpt\", timeline: [Learn(projection: \"rec\", learning: [])])",
    );
    assert!(e.contains("add_learning: no rule given"), "{e}");
    // the scene's own items go on top of the checkpoint's; a name clash is an error
    let e = run_err(
        &dir,
        "(load: \"net.ckpt\", populations: [(name: \"in\", size: 2, model: Rate(activation: Tanh))])",
    );
    assert!(e.contains("'in'"), "{e}");
}

#[test]
fn cortecs_run_on_a_checkpoint_runs_it_as_a_scene() {
    let dir = tmp("cli");
    brain(1, false).save(dir.join("net.ckpt")).unwrap();
    let out = dir.join("out");
    let st = std::process::Command::new(env!("CARGO_BIN_EXE_cortecs"))
        .args(["run", "--quiet", "--set", "timeline.0.ms=50"])
        .arg(dir.join("net.ckpt"))
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    let summary: scene::Summary =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!((summary.status.as_str(), summary.steps), ("complete", 5));
    assert_eq!(summary.populations["hidden"].size, 6);
    let r: Array2<f64> = read_npy(out.join("hidden_r.npy")).unwrap();
    assert_eq!(r.dim(), (5, 6), "rates of every rate unit (up to 16) are recorded");
}

#[test]
fn a_network_trained_by_cortecs_train_runs_its_heldout_trials_in_a_scene() {
    let dir = tmp("trained");
    let bin = env!("CARGO_BIN_EXE_cortecs");
    let st = std::process::Command::new(bin)
        .args(["train", "scenes/train_pdm.ron", "--stop-after", "20", "--out"])
        .arg(dir.join("train"))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let u: Array3<f32> = read_npy(dir.join("train/heldout_input.npy")).unwrap();
    let labels: ndarray::Array1<i64> = read_npy(dir.join("train/heldout_label.npy")).unwrap();
    let (steps, trials, n_in) = u.dim();
    assert_eq!((trials, n_in, labels.len()), (16, 3, 16));
    assert!(labels.iter().all(|&l| (0..3).contains(&l)));
    let text = format!(
        r#"(load: "train/network.ckpt",
            record: (state: [(population: "output", variable: "r", neurons: [0, 1, 2])]),
            timeline: [Input(population: "input", file: "train/heldout_input.npy", trial: 5), Run(ms: {})])"#,
        steps as f64 * 20.0
    );
    std::fs::write(dir.join("s.ron"), text).unwrap();
    let s = scene::run_file(&dir.join("s.ron"), Some(&dir.join("out"))).unwrap();
    assert_eq!((s.status.as_str(), s.steps, s.dt_ms), ("complete", steps as u64, 20.0));
    // the engine runs the same network the trainer evaluates: its noise-free
    // output equals run_trials of the checkpoint on that trial
    let r: Array2<f64> = read_npy(dir.join("out/output_r.npy")).unwrap();
    let mut net = Network::load(dir.join("train/network.ckpt")).unwrap();
    let y = net
        .run_trials(&["input"], &["output"], &u.slice(s![.., 5..6, ..]).to_owned())
        .unwrap();
    assert_eq!(r.dim(), (steps, 3));
    for t in 0..steps {
        for o in 0..3 {
            assert_eq!(r[[t, o]], f64::from(y[[t, 0, o]]), "step {t} output {o}");
        }
    }
}
