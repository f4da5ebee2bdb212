//! Perceptual decision making: a Dale's-law CTRNN (100 ReLU units, 80 % E,
//! sparse recurrence, readout from E only) trains to >= 85 % held-out
//! accuracy (ignored: a release-mode run of about 10 s), a training run
//! resumes from a checkpoint bit-identically, and the trained network runs in
//! the engine with the same outputs.

use cortecs::network::Network;
use cortecs::train::*;

#[test]
#[ignore = "trains 1000 iterations (about 10 s in release mode)"]
fn dale_ctrnn_reaches_85_percent_on_perceptual_decision_making() {
    let iterations = 1000;
    let mut t = pdm_trainer(32, 0.01, iterations, 12345).unwrap();
    let start = std::time::Instant::now();
    for _ in 0..iterations {
        t.step().unwrap();
        assert_eq!(violation(&t.graph), None);
    }
    let wall = start.elapsed().as_secs_f64();
    let (tb, y) = t.evaluate(1000).unwrap();
    let acc = tb.accuracy(&y);
    eprintln!("held-out accuracy {acc:.3} after {iterations} iterations of batch 32, {wall:.1} s");
    for (coh, a, n) in tb.psychometric(&y) {
        eprintln!("  coherence {coh:5.1} %: {a:.3} ({n} trials)");
    }
    assert!(acc >= 0.85, "held-out accuracy {acc}");
    // the readout reads excitatory units only and every E weight is >= 0
    let w_out = &t.graph.projs[2].w;
    assert!(
        w_out
            .columns()
            .into_iter()
            .skip(80)
            .all(|c| c.iter().all(|&x| x == 0.0))
    );
}

#[test]
fn a_resumed_run_equals_an_uninterrupted_one_bit_for_bit() {
    let dir = std::env::temp_dir().join(format!("cortecs_train_resume_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ckpt = dir.join("run.ckpt");
    let mut small = pdm_trainer(4, 0.01, 6, 7).unwrap();
    if let Task::PerceptualDecision(p) = &mut small.task {
        p.stimulus = 200.0;
    }
    let mut whole = small.clone();
    for _ in 0..6 {
        whole.step().unwrap();
    }
    for _ in 0..3 {
        small.step().unwrap();
    }
    small.save(&ckpt).unwrap();
    drop(small);
    let mut resumed = Trainer::load(&ckpt).unwrap();
    assert_eq!(resumed.iteration, 3);
    for _ in 0..3 {
        resumed.step().unwrap();
    }
    assert_eq!(resumed.log, whole.log);
    for (a, b) in resumed.graph.projs.iter().zip(&whole.graph.projs) {
        assert_eq!(a.w, b.w, "{}", a.name);
    }
    assert_eq!(resumed.optimizer, whole.optimizer);
    // a file that is not a checkpoint is refused by name
    std::fs::write(dir.join("bad.ckpt"), b"hello").unwrap();
    let e = Trainer::load(&dir.join("bad.ckpt")).unwrap_err().to_string();
    assert!(e.ends_with("bad.ckpt: not a cortecs training checkpoint"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_trained_network_runs_in_the_engine_with_the_same_output() {
    let mut t = pdm_trainer(8, 0.01, 5, 3).unwrap();
    if let Task::PerceptualDecision(p) = &mut t.task {
        p.stimulus = 300.0;
    }
    for _ in 0..5 {
        t.step().unwrap();
    }
    let (tb, y) = t.evaluate(8).unwrap();
    let mut net = Network::from_trained(&t.graph, 8, 1).unwrap();
    // the engine's noise is off in this comparison, as the evaluation's
    for p in &mut net.populations {
        p.pre_noise = 0.0;
        p.post_noise = 0.0;
    }
    let engine = net.run_trials(&["input"], &["output"], &tb.u).unwrap();
    let d = engine
        .iter()
        .zip(y.iter())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(d < 1e-4, "engine vs training forward: {d}");
    assert_eq!(tb.choices(&engine), tb.choices(&y));
    // one trial of the engine's batch: the readout of trial 5 at the last step
    let last = net.get_trial("output", "r", 5).unwrap();
    let steps = tb.u.dim().0;
    assert_eq!(
        last.to_vec(),
        (0..3).map(|o| engine[[steps - 1, 5, o]]).collect::<Vec<f32>>()
    );
    assert_eq!(
        net.get_trial("output", "r", 8).unwrap_err().to_string(),
        "population 'output': trial 8 out of range (8 trials)"
    );
}

#[test]
fn task_statistics_match_neurogym() {
    let task = PerceptualDecision::default();
    let tb = task.batch(2000, 20.0, 1, "stats", 0).unwrap();
    assert_eq!(tb.u.dim(), (110, 2000, 3));
    assert_eq!(tb.decision, 105..110);
    // evidence: mean 0.5 + coh/200 for the correct channel, noise sd 1/sqrt(20)
    let sd = 1.0 / 20f64.sqrt();
    let (mut sum, mut sq, mut n) = (0.0, 0.0, 0.0);
    for b in 0..2000 {
        let (coh, choice) = tb.trials[b];
        for t in 5..105 {
            let x = f64::from(tb.u[[t, b, 1 + choice]]) - (0.5 + coh / 200.0);
            sum += x;
            sq += x * x;
            n += 1.0;
        }
        assert_eq!(tb.u[[104, b, 0]], 1.0);
        assert_eq!(tb.u[[105, b, 0]], 0.0);
        assert_eq!(tb.labels[[107, b]], 1 + choice);
        assert_eq!(tb.labels[[50, b]], 0);
    }
    let mean = sum / n;
    let var = sq / n - mean * mean;
    assert!(mean.abs() < 5.0 * sd / n.sqrt(), "{mean}");
    // the variance of a sample variance of normals is 2 sd^4 / n
    assert!(
        (var - sd * sd).abs() < 5.0 * (2.0f64).sqrt() * sd * sd / n.sqrt(),
        "{var}"
    );
    let left = tb.trials.iter().filter(|t| t.1 == 0).count() as f64;
    assert!((left - 1000.0).abs() < 5.0 * (2000.0f64 * 0.25).sqrt());
    // the same keys give the same trials
    assert_eq!(
        task.batch(5, 20.0, 1, "stats", 0).unwrap().u,
        task.batch(5, 20.0, 1, "stats", 0).unwrap().u
    );
}

#[test]
fn rate_state_r_can_be_set_for_every_trial_and_reset() {
    use cortecs::population::View;
    let t = pdm_trainer(2, 0.01, 1, 3).unwrap();
    let mut net = Network::from_trained(&t.graph, 3, 1).unwrap();
    net.set("hidden", "r", &View::Range(0..4), 0.25).unwrap();
    let r = net.get("hidden", "r", &View::Range(0..5)).unwrap();
    assert_eq!(r.to_vec(), vec![0.25, 0.25, 0.25, 0.25, 0.0]);
    if let cortecs::population::PopulationState::Rate(s) = &net.population("hidden").unwrap().state {
        // every trial of unit 0 (trials side by side)
        assert_eq!(&s.r[..3], &[0.25, 0.25, 0.25]);
    }
    net.reset_rates();
    assert!(net.get("hidden", "r", &View::All).unwrap().iter().all(|&x| x == 0.0));
    let e = net.set("hidden", "q", &View::All, 1.0).unwrap_err().to_string();
    assert!(e.starts_with("unknown parameter or state variable 'hidden.q'"), "{e}");
}

/// A training checkpoint that claims a 4.6e18-byte population name (the hole
/// the checkpoint fuzz target found in network checkpoints) and every
/// truncation of a real one are errors naming the file, not aborts.
#[test]
fn corrupt_training_checkpoints_are_errors_naming_the_file() {
    let dir = std::env::temp_dir().join(format!("cortecs_train_corrupt_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ckpt = dir.join("run.ckpt");
    pdm_trainer(4, 0.01, 2, 7).unwrap().save(&ckpt).unwrap();
    let good = std::fs::read(&ckpt).unwrap();
    let name = b"\x06hidden";
    let at = good
        .windows(name.len())
        .position(|w| w == name)
        .expect("the name in the file");
    let mut huge = good[..at].to_vec();
    huge.push(0xfd); // bincode's varint marker of a u64 length
    huge.extend_from_slice(&(1u64 << 62).to_le_bytes());
    huge.extend_from_slice(&good[at + 1..]);
    let bad = dir.join("huge.ckpt");
    std::fs::write(&bad, &huge).unwrap();
    let e = Trainer::load(&bad).unwrap_err().to_string();
    assert!(e.contains("huge.ckpt: corrupt training checkpoint"), "{e}");
    for len in (0..good.len()).step_by(good.len() / 97 + 1) {
        std::fs::write(&bad, &good[..len]).unwrap();
        let e = Trainer::load(&bad).unwrap_err().to_string();
        assert!(e.contains("huge.ckpt"), "{len}: {e}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
