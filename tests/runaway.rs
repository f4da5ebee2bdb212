//! Runaway dynamics stop the run with an error naming population, neuron,
//! variable, step and time, instead of running on with NaN (issue 19, item 1).

use cortecs::network::DEFAULT_CHECK_EVERY;
use cortecs::prelude::*;

fn runaway(on: OnNonFinite) -> Network {
    let mut net = Network::new(1.0, 1).unwrap();
    net.health.on_non_finite = on;
    net.health.check_every = 1;
    net.add_population(
        PopulationSpec::new(
            "r",
            20,
            ModelKind::Rate {
                activation: Activation::Relu,
            },
        )
        .param("tau", 10.0)
        .param("v_init", 1.0),
    )
    .unwrap();
    net.connect(ProjectionSpec::new("rr", "r", "r", Strategy::AllToAll).weight(5.0))
        .unwrap();
    net
}

#[test]
fn a_relu_network_with_large_recurrent_weights_stops_with_a_named_error() {
    let mut net = runaway(OnNonFinite::Stop);
    let e = net.run_ms(1000.0).unwrap_err().to_string();
    assert!(
        e.starts_with("non-finite state: population 'r', neuron 0, variable v = "),
        "{e}"
    );
    let f = net.health.fault.clone().unwrap();
    assert_eq!(net.step, f.step, "no step after the fault");
    assert!(f.step > 1 && f.step < 1000, "{f:?}");
    assert_eq!(f.time_ms, f.step as f64);
    // the step before was finite: the check runs after every step
    let mut again = runaway(OnNonFinite::Stop);
    again.run_steps(f.step - 1);
    assert!(again.health.fault.is_none());
    assert!(again.populations[0].get("v").unwrap().iter().all(|x| x.is_finite()));
    // stopped: further runs do not step and keep reporting
    assert!(net.run_ms(10.0).is_err());
    assert_eq!(net.step, f.step);
}

#[test]
fn warn_goes_on_to_the_end() {
    let mut net = runaway(OnNonFinite::Warn);
    net.run_ms(200.0).unwrap();
    assert_eq!(net.step, 200);
    assert!(net.health.fault.is_some());
}

#[test]
fn the_simulation_reports_it_too() {
    let mut sim = Simulation::from_network(runaway(OnNonFinite::Stop));
    let e = sim.run_ms(1000.0).unwrap_err().to_string();
    assert!(e.contains("non-finite state: population 'r'"), "{e}");
}

#[test]
fn by_default_the_check_runs_every_100_steps_and_after_every_run_segment() {
    let exact = {
        let mut net = runaway(OnNonFinite::Stop);
        net.run_steps(1000);
        net.health.fault.unwrap().step
    };
    // checked every 100 steps: found at the next multiple of 100
    let mut net = runaway(OnNonFinite::Stop);
    net.health.check_every = DEFAULT_CHECK_EVERY;
    assert_eq!(DEFAULT_CHECK_EVERY, 100);
    let e = net.run_ms(1000.0).unwrap_err().to_string();
    let f = net.health.fault.clone().unwrap();
    assert_eq!(f.step, exact.div_ceil(100) * 100, "{f:?}");
    assert!(e.contains(", found by a check every 100 steps"), "{e}");
    // a run segment that ends between checks is checked at its end
    let mut net = runaway(OnNonFinite::Stop);
    net.health.check_every = DEFAULT_CHECK_EVERY;
    net.run_steps(exact + 1);
    assert_eq!(net.health.fault.unwrap().step, exact + 1);
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cortecs-runaway-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Found by fuzzing (fuzz/regressions/network/saved_with_non_finite_state):
/// a network stopped by the health check was saved with its NaN, and the
/// loaded copy (whose health is a choice of the new run) stepped on where
/// the original stood still. A checkpoint holds finite state only.
#[test]
fn a_network_with_non_finite_state_is_not_saved() {
    for on in [OnNonFinite::Stop, OnNonFinite::Warn] {
        let mut net = runaway(on);
        net.run_ms(200.0).ok();
        assert!(net.health.fault.is_some());
        let path = scratch(&format!("nan-{on:?}.ckpt"));
        let e = net.save(&path).unwrap_err().to_string();
        assert!(e.contains(&path.display().to_string()), "{e}");
        assert!(
            e.contains("non-finite state: population 'r', neuron 0, variable v = ")
                && e.ends_with("a checkpoint holds finite state only"),
            "{e}"
        );
        let dir = path.parent().unwrap();
        assert_eq!(std::fs::read_dir(dir).unwrap().count(), 0, "nothing written");
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn a_checkpoint_with_non_finite_state_is_not_loaded() {
    const V: f64 = -1.234_567_890_123;
    let mut net = Network::new(1.0, 1).unwrap();
    net.add_population(
        PopulationSpec::new(
            "r",
            3,
            ModelKind::Rate {
                activation: Activation::Tanh,
            },
        )
        .param("v_init", V),
    )
    .unwrap();
    let path = scratch("patched.ckpt");
    net.save(&path).unwrap();
    let file = std::fs::read(&path).unwrap();
    let mut payload = file[cortecs::checkpoint::HEADER_LEN..].to_vec();
    // the state v is stored as f32 (v_init, f64, does not match): make it NaN
    let pattern = (V as f32).to_le_bytes();
    let at: Vec<usize> = (0..payload.len() - 4)
        .filter(|&k| payload[k..k + 4] == pattern)
        .collect();
    assert_eq!(at.len(), 3, "v of the 3 neurons in the payload");
    for &k in &at {
        payload[k..k + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    }
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&cortecs::checkpoint::MAGIC);
    bytes.extend_from_slice(&cortecs::checkpoint::FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&cortecs::checkpoint::checksum(&payload).to_le_bytes());
    bytes.extend_from_slice(&payload);
    std::fs::write(&path, bytes).unwrap();
    let e = match Network::load(&path) {
        Ok(_) => panic!("a checkpoint with NaN state loaded"),
        Err(e) => e.to_string(),
    };
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    assert!(e.contains("patched.ckpt"), "{e}");
    assert!(
        e.contains("non-finite state: population 'r', neuron 0, variable v = NaN"),
        "{e}"
    );
}

/// Found by fuzzing (fuzz/regressions/network/rate_v_init_beyond_float32):
/// a rate population's `v_init` of -3.2e163 became -inf in its f32 state,
/// and the network reported itself healthy. Values kept as f32 (the rate
/// state and bias) are refused beyond float32's range, naming the neuron.
#[test]
fn rate_values_beyond_float32_are_refused_at_build() {
    for name in ["v_init", "bias"] {
        let mut net = Network::new(1.0, 1).unwrap();
        let spec = PopulationSpec::new(
            "r",
            2,
            ModelKind::Rate {
                activation: Activation::Tanh,
            },
        )
        .param(name, vec![1.0, -3.2e163]);
        let e = net.add_population(spec).unwrap_err().to_string();
        assert!(
            e.contains(&format!(
                "r.{name}: must be finite and within float32's range, about 3.4e38 (1), got -3.2e163 for neuron 1"
            )),
            "{e}"
        );
    }
}
