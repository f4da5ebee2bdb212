//! The neurogym-style tasks: period layout, labels, inputs and metadata,
//! and that a small network learns go/no-go and context-dependent integration.

use cortecs::train::*;

fn check_layout(task: &Task, dt: f64, steps: usize, decision: std::ops::Range<usize>) -> TaskBatch {
    let tb = task.batch(400, dt, 5, "layout", 0).unwrap();
    assert_eq!(tb.u.dim(), (steps, 400, task.n_in()));
    assert_eq!(tb.decision, decision);
    for b in 0..400 {
        for t in 0..steps {
            let in_dec = tb.decision.contains(&t);
            // the fixation cue is on until the decision period, the label "fixate" outside it
            assert_eq!(tb.u[[t, b, 0]], if in_dec { 0.0 } else { 1.0 });
            assert_eq!(
                tb.labels[[t, b]] == 0,
                !in_dec || tb.trials[b].1 == 0,
                "trial {b} step {t}"
            );
        }
        assert_eq!(tb.labels[[steps - 1, b]], tb.trials[b].1);
    }
    tb
}

#[test]
fn go_no_go_layout_and_cues() {
    let task = Task::GoNoGo(GoNoGo {
        sigma: 0.0,
        ..GoNoGo::default()
    });
    let tb = check_layout(&task, 100.0, 15, 10..15);
    for b in 0..400 {
        let go = tb.trials[b].1;
        assert_eq!(
            (tb.u[[2, b, 1]], tb.u[[2, b, 2]]),
            if go == 1 { (1.0, 0.0) } else { (0.0, 1.0) }
        );
        assert_eq!(tb.u[[7, b, 1]] + tb.u[[7, b, 2]], 0.0, "no cue in the delay");
    }
    let go = tb.trials.iter().filter(|t| t.1 == 1).count() as f64;
    assert!((go - 200.0).abs() < 5.0 * 10.0);
}

#[test]
fn delayed_match_labels_follow_sample_and_test() {
    let task = Task::DelayedMatch(DelayedMatch {
        sigma: 0.0,
        ..DelayedMatch::default()
    });
    // 300 + 500 + 1000 + 500 + 300 ms at dt = 100
    let tb = check_layout(&task, 100.0, 26, 23..26);
    for b in 0..400 {
        let sample = if tb.u[[4, b, 1]] == 1.0 { 0 } else { 1 };
        let test = if tb.u[[20, b, 1]] == 1.0 { 0 } else { 1 };
        assert_eq!(tb.trials[b].1, if sample == test { 1 } else { 2 });
    }
}

#[test]
fn context_decision_chooses_by_the_cued_modality() {
    let task = Task::ContextDecision(ContextDecision {
        sigma: 0.0,
        ..ContextDecision::default()
    });
    let tb = check_layout(&task, 50.0, 23, 21..23);
    for b in 0..400 {
        let ctx = if tb.u[[0, b, 5]] == 1.0 { 0 } else { 1 };
        assert_eq!(tb.u[[0, b, 5]] + tb.u[[0, b, 6]], 1.0);
        let m1 = f64::from(tb.u[[10, b, 1 + 2 * ctx]] - tb.u[[10, b, 2 + 2 * ctx]]);
        assert!((m1 - tb.trials[b].0 / 100.0).abs() < 1e-6);
        assert_eq!(tb.trials[b].1, if m1 > 0.0 { 1 } else { 2 });
    }
}

#[test]
fn parametric_wm_compares_f1_and_f2() {
    let task = Task::ParametricWm(ParametricWm {
        sigma: 0.0,
        ..ParametricWm::default()
    });
    let tb = check_layout(&task, 100.0, 26, 25..26);
    for b in 0..400 {
        let (f1, f2) = (
            f64::from(tb.u[[7, b, 1]]) * 24.0 + 10.0,
            f64::from(tb.u[[22, b, 1]]) * 24.0 + 10.0,
        );
        assert!((f1 - f2 - tb.trials[b].0).abs() < 1e-4);
        assert_eq!(tb.trials[b].1, if f1 > f2 { 1 } else { 2 });
    }
    let e = Task::ParametricWm(ParametricWm {
        decision: 10.0,
        ..ParametricWm::default()
    })
    .batch(1, 100.0, 0, "x", 0)
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "task parametric_wm: the decision period needs at least one step of dt = 100 ms"
    );
}

fn train(task: Task, iterations: u64) -> f64 {
    let (n_in, n_out) = (task.n_in(), task.n_out());
    let graph = ei_ctrnn([n_in, 50, n_out], 0.8, 0.5, 50.0, 100.0, 11);
    let mut optimizer = Optimizer::new(OptimizerKind::adam(), 0.01).unwrap();
    optimizer.clip_norm = Some(1.0);
    let mut t = Trainer {
        graph,
        optimizer,
        task,
        loss: LossKind::CrossEntropy,
        regularizers: vec![],
        batch: 32,
        seed: 4,
        iteration: 0,
        log: vec![],
    };
    for _ in 0..iterations {
        t.step().unwrap();
    }
    let (tb, y) = t.evaluate(500).unwrap();
    tb.accuracy(&y)
}

#[test]
fn a_small_dale_network_learns_go_no_go() {
    let task = Task::GoNoGo(GoNoGo {
        decision_weight: 5.0,
        ..GoNoGo::default()
    });
    let acc = train(task, 150);
    assert!(acc > 0.95, "{acc}");
}

#[test]
#[ignore = "1500 iterations (about 1 s in release mode, much longer in debug)"]
fn a_small_dale_network_learns_context_dependent_integration() {
    let task = Task::ContextDecision(ContextDecision {
        decision_weight: 5.0,
        ..ContextDecision::default()
    });
    let acc = train(task, 1500);
    assert!(acc > 0.8, "{acc}");
}
