//! Per-trial sensors and motors: a batched rate network driven trial by
//! trial through `Sensors::with_trials` / `Motors::with_trials` gives each
//! trial exactly what `Network::run_trials` gives it, and what a one-trial
//! network gives it up to f32 rounding.

use cortecs::population::PopulationState;
use cortecs::prelude::*;
use ndarray::Array3;

/// in (3 identity units, tau = dt) -> hidden (8 tanh, tau = 50 ms) -> out (2 identity), no noise.
fn brain(batch: usize) -> Network {
    let mut net = Network::new(10.0, 7).unwrap();
    let rate = |a| ModelKind::Rate { activation: a };
    net.add_population(
        PopulationSpec::new("in", 3, rate(Activation::Identity))
            .param("tau", 10.0)
            .batch(batch),
    )
    .unwrap();
    net.add_population(
        PopulationSpec::new("hidden", 8, rate(Activation::Tanh))
            .param("tau", 50.0)
            .batch(batch),
    )
    .unwrap();
    net.add_population(
        PopulationSpec::new("out", 2, rate(Activation::Identity))
            .param("tau", 10.0)
            .batch(batch),
    )
    .unwrap();
    let normal = |std| Distribution::Normal { mean: 0.0, std };
    for (name, pre, post, std) in [
        ("in_hidden", "in", "hidden", 1.0),
        ("rec", "hidden", "hidden", 0.4),
        ("readout", "hidden", "out", 0.5),
    ] {
        net.add_projection(
            ProjectionSpec::new(name, pre, post, Strategy::AllToAll)
                .weight(normal(std))
                .compact(true),
        )
        .unwrap();
    }
    net.build_pending().unwrap();
    net
}

fn inputs(steps: usize, batch: usize) -> Array3<f32> {
    let mut rng = cortecs::rng::Stream::from_seed(3);
    Array3::from_shape_fn((steps, batch, 3), |_| (2.0 * rng.uniform() - 1.0) as f32)
}

#[test]
fn per_trial_sensors_and_motors_equal_batched_trials_and_single_trial_networks() {
    let (steps, batch) = (25, 4);
    let u = inputs(steps, batch);
    let expected = brain(batch).run_trials(&["in"], &["out"], &u).unwrap();

    let mut net = brain(batch);
    let mut sensors = Sensors::population(&net, "in").unwrap().with_trials(batch).unwrap();
    let mut motors = Motors::population(&net, "out", Readout::Output)
        .unwrap()
        .with_trials(batch)
        .unwrap();
    assert_eq!((sensors.trials(), motors.trials()), (batch, batch));
    for t in 0..steps {
        for b in 0..batch {
            for c in 0..3 {
                sensors.set_trial(c, b, u[[t, b, c]]).unwrap();
            }
        }
        run_frame(&mut net, 1, Some(&sensors), Some(&mut motors)).unwrap();
        for b in 0..batch {
            for o in 0..2 {
                assert_eq!(
                    motors.get_trial(o, b).unwrap(),
                    expected[[t, b, o]],
                    "step {t} trial {b} out {o}"
                );
            }
            assert_eq!(motors.trial(b).unwrap().len(), 2);
        }
        // trial 0 is what the one-trial accessors read
        assert_eq!(motors.get(1).unwrap(), expected[[t, 0, 1]]);
    }
    // the engine's per-trial state read back: trial 2 of `out` is the last motor row of trial 2
    let r2 = net.get_trial("out", "r", 2).unwrap();
    assert_eq!(r2.to_vec(), motors.trial(2).unwrap().to_vec());

    // each trial alone in a one-trial network: the same numbers
    for b in 0..batch {
        let mut one = brain(1);
        let mut s = Sensors::population(&one, "in").unwrap();
        let mut m = Motors::population(&one, "out", Readout::Output).unwrap();
        for t in 0..steps {
            for c in 0..3 {
                s.set(c, u[[t, b, c]]).unwrap();
            }
            run_frame(&mut one, 1, Some(&s), Some(&mut m)).unwrap();
        }
        // the batched product sums in another order than the one-trial one: equal to f32 rounding
        for o in 0..2 {
            let (got, want) = (m.values()[o], expected[[steps - 1, b, o]]);
            assert!(
                (got - want).abs() <= 1e-5 * want.abs().max(1.0),
                "trial {b} out {o}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn mean_output_is_averaged_per_trial() {
    let (steps, batch) = (6, 3);
    let u = inputs(steps, batch);
    let expected = brain(batch).run_trials(&["in"], &["out"], &u).unwrap();
    let mut net = brain(batch);
    net.reset_rates();
    let mut sensors = Sensors::population(&net, "in").unwrap().with_trials(batch).unwrap();
    let mut motors = Motors::population(&net, "out", Readout::MeanOutput)
        .unwrap()
        .with_trials(batch)
        .unwrap();
    // one frame of `steps` steps with a constant input per trial: feed step 0's input throughout
    let u0 = Array3::from_shape_fn((steps, batch, 3), |(_, b, c)| u[[0, b, c]]);
    let constant = brain(batch).run_trials(&["in"], &["out"], &u0).unwrap();
    for b in 0..batch {
        sensors
            .trial_mut(b)
            .unwrap()
            .copy_from_slice(&[u[[0, b, 0]], u[[0, b, 1]], u[[0, b, 2]]]);
    }
    run_frame(&mut net, steps as u64, Some(&sensors), Some(&mut motors)).unwrap();
    for b in 0..batch {
        for o in 0..2 {
            let mean: f32 = (0..steps).map(|t| constant[[t, b, o]]).sum::<f32>() / steps as f32;
            let got = motors.get_trial(o, b).unwrap();
            assert!(
                (got - mean).abs() <= 1e-6 * mean.abs().max(1.0),
                "trial {b} out {o}: {got} vs {mean}"
            );
        }
    }
    assert_eq!(expected.dim(), (steps, batch, 2));
}

#[test]
fn trial_counts_that_do_not_match_are_clear_errors() {
    let net = brain(4);
    let s = Sensors::population(&net, "in").unwrap().with_trials(3).unwrap();
    let e = s.check(&net).unwrap_err().to_string();
    assert_eq!(
        e, "sensor channel 0: population 'in' runs 4 trial(s), the sensors carry 3",
        "{e}"
    );
    let m = Motors::population(&net, "out", Readout::Output)
        .unwrap()
        .with_trials(2)
        .unwrap();
    let e = m.check(&net).unwrap_err().to_string();
    assert!(
        e.contains("motor channel 0: population 'out' runs 4 trial(s), the motors carry 2"),
        "{e}"
    );
    let mut s = Sensors::population(&net, "in").unwrap().with_trials(4).unwrap();
    assert!(
        s.set_trial(0, 4, 1.0)
            .unwrap_err()
            .to_string()
            .contains("sensor trial 4 is out of range (4 trials)")
    );
    assert!(
        s.set_trial(3, 0, 1.0)
            .unwrap_err()
            .to_string()
            .contains("sensor channel 3 is out of range")
    );
    assert!(
        s.set_trial(0, 0, f32::INFINITY)
            .unwrap_err()
            .to_string()
            .contains("not finite")
    );
    assert!(s.trial_mut(9).is_err());
    assert!(Sensors::population(&net, "in").unwrap().with_trials(0).is_err());
    let m = Motors::population(&net, "out", Readout::Output)
        .unwrap()
        .with_trials(4)
        .unwrap();
    assert!(
        m.get_trial(0, 4)
            .unwrap_err()
            .to_string()
            .contains("motor trial 4 is out of range")
    );
    assert!(
        m.get_trial(2, 0)
            .unwrap_err()
            .to_string()
            .contains("motor channel 2 is out of range")
    );
    // a one-trial sensor set still goes to every trial (the default)
    let mut net = brain(2);
    let mut s = Sensors::population(&net, "in").unwrap();
    s.set(1, 0.5).unwrap();
    s.apply(&mut net).unwrap();
    let PopulationState::Rate(st) = &net.populations[0].state else {
        panic!("rate state")
    };
    assert_eq!(&st.input[2..4], &[0.5, 0.5]);
}
