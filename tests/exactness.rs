//! Exact or refused (issue 19, item 3): times and delays that are not whole
//! steps, model/synapse pairs no kernel implements, parameters a model does
//! not read, and inputs a rate population would ignore are errors that name
//! the owner and the value; rounding happens only when asked for.

use cortecs::prelude::*;

fn lif(name: &str, synapse: SynapseKind) -> PopulationSpec {
    PopulationSpec::new(name, 4, ModelKind::Lif { synapse })
}

fn rate(name: &str, batch: usize) -> PopulationSpec {
    PopulationSpec::new(
        name,
        3,
        ModelKind::Rate {
            activation: Activation::Tanh,
        },
    )
    .batch(batch)
}

fn two_lif(rounding: Rounding) -> Network {
    let mut net = Network::new(0.1, 1).unwrap();
    net.rounding = rounding;
    net.add_population(lif("a", SynapseKind::CurrExp)).unwrap();
    net
}

#[test]
fn a_run_that_is_not_whole_steps_is_refused_and_rounded_only_when_asked() {
    let mut net = two_lif(Rounding::Exact);
    let e = net.run_ms(0.55).unwrap_err().to_string();
    assert!(
        e.contains("run: 0.55 ms is not a whole number of steps of dt = 0.1 ms (5.5"),
        "{e}"
    );
    assert_eq!(net.step, 0, "nothing ran");
    for _ in 0..10 {
        net.run_ms(0.3).unwrap();
    }
    assert_eq!(net.step, 30);
    // asked for: ten runs of 0.55 ms are ten runs of 6 steps, as the user chose
    let mut net = two_lif(Rounding::Nearest);
    for _ in 0..10 {
        net.run_ms(0.55).unwrap();
    }
    assert_eq!(net.step, 60);
    let mut sim = Simulation::from_network(two_lif(Rounding::Exact));
    assert!(
        sim.run_ms(0.05)
            .unwrap_err()
            .to_string()
            .contains("0.05 ms is not a whole number")
    );
}

#[test]
fn delays_between_steps_are_refused_instead_of_sharing_a_step() {
    for (d, ok) in [(0.25, false), (0.26, false), (0.3, true), (1.5, true)] {
        let mut net = two_lif(Rounding::Exact);
        let r = net.connect(ProjectionSpec::new("aa", "a", "a", Strategy::AllToAll).delay(d));
        match (ok, r) {
            (true, r) => assert!(r.is_ok(), "{d}: {r:?}"),
            (false, r) => {
                let e = r.unwrap_err().to_string();
                assert!(
                    e.contains(&format!(
                        "aa.delay: {d} ms is not a whole number of steps of dt = 0.1 ms"
                    )),
                    "{e}"
                );
            }
        }
    }
    // per-synapse delays from a distribution are checked one by one
    let mut net = two_lif(Rounding::Exact);
    let e = net
        .connect(
            ProjectionSpec::new("aa", "a", "a", Strategy::AllToAll)
                .delay(Distribution::Uniform { low: 0.1, high: 2.0 }),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("aa.delay") && e.contains("rounding: Nearest"), "{e}");
    let mut net = two_lif(Rounding::Nearest);
    net.connect(ProjectionSpec::new("aa", "a", "a", Strategy::AllToAll).delay(0.26))
        .unwrap();
    assert_eq!(net.projections[0].store().delay.get(0), 3);
}

#[test]
fn refractory_periods_and_spike_times_must_be_whole_steps() {
    let mut net = Network::new(0.1, 1).unwrap();
    let e = net
        .add_population(lif("a", SynapseKind::CurrExp).param("t_ref", 0.25))
        .unwrap_err()
        .to_string();
    assert!(e.contains("a.t_ref: 0.25 ms is not a whole number of steps"), "{e}");
    let mut src = PopulationSpec::new("s", 1, ModelKind::SpikeSource);
    src.spike_times = Some(Sequence::Same(vec![1.0, 1.05]));
    let e = net.add_population(src).unwrap_err().to_string();
    assert!(
        e.contains("s.spike_times: 1.05 ms is not a whole number of steps"),
        "{e}"
    );
    assert!(net.populations.is_empty(), "nothing was added");
}

#[test]
fn model_and_synapse_pairs_without_a_kernel_are_refused() {
    for model in [
        ModelKind::AdEx {
            synapse: SynapseKind::Delta,
        },
        ModelKind::Izhikevich {
            synapse: SynapseKind::Delta,
        },
    ] {
        let mut net = Network::new(0.1, 1).unwrap();
        let name = model.name();
        let e = net
            .add_population(PopulationSpec::new("n", 2, model))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("n.model: no kernel implements {name} with `synapse: Delta`")),
            "{e}"
        );
    }
}

#[test]
fn parameters_the_model_does_not_read_are_refused() {
    let cases = [
        (SynapseKind::CurrExp, "e_rev_e", "reversal potentials"),
        (SynapseKind::CurrAlpha, "e_rev_i", "reversal potentials"),
        (SynapseKind::Delta, "tau_syn_e", "delta synapses"),
        (SynapseKind::Delta, "e_rev_i", "reversal potentials"),
    ];
    for (synapse, p, why) in cases {
        let mut net = Network::new(0.1, 1).unwrap();
        let e = net
            .add_population(lif("x", synapse).param(p, 1.0))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("x.{p}: ")) && e.contains("does not read") && e.contains(why),
            "{e}"
        );
    }
    // what is read is accepted
    let mut net = Network::new(0.1, 1).unwrap();
    net.add_population(
        lif("x", SynapseKind::CondExp)
            .param("e_rev_e", 0.0)
            .param("tau_syn_e", 2.0),
    )
    .unwrap();
}

#[test]
fn inputs_a_rate_population_would_ignore_are_refused() {
    let mut net = Network::new(1.0, 1).unwrap();
    net.add_population(rate("r", 2)).unwrap();
    net.add_population(rate("q", 3)).unwrap();
    net.add_population(rate("s", 2)).unwrap();
    let e = net
        .connect(ProjectionSpec::new("rq", "r", "q", Strategy::AllToAll))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("'r' (2 trials) and 'q' (3 trials) have different batch sizes"),
        "{e}"
    );
    let e = net
        .connect(ProjectionSpec::new("rs", "r", "s", Strategy::AllToAll).delay(1.0))
        .unwrap_err()
        .to_string();
    assert!(e.contains("rs.delay: a rate projection has no delay"), "{e}");
    net.connect(ProjectionSpec::new("rs", "r", "s", Strategy::AllToAll))
        .unwrap();
    let e = net.set("r", "current", &View::All, 1.0).unwrap_err().to_string();
    assert!(e.contains("current"), "{e}");
    assert!(net.populations[0].get("current").is_err());
}

#[test]
fn the_rounding_mode_survives_a_checkpoint() {
    let dir = std::env::temp_dir().join(format!("cortecs_exactness_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("n.ckpt");
    let net = two_lif(Rounding::Nearest);
    cortecs::checkpoint::save(&net, &path).unwrap();
    assert_eq!(cortecs::checkpoint::load(&path).unwrap().rounding, Rounding::Nearest);
    std::fs::remove_dir_all(&dir).ok();
}
