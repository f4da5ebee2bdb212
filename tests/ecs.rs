//! The ECS model: stages in a host schedule, mirrors, O(changes) edits.

use bevy_ecs::prelude::*;
use cortecs::prelude::*;

#[derive(Resource, Default)]
struct Log(Vec<&'static str>);

fn host_between(mut log: ResMut<Log>, engines: Query<&NetworkEngine>) {
    let step = engines.iter().next().map_or(0, |e| e.net.step);
    // Integrate has not run yet in this tick: the clock still shows the previous tick.
    log.0.push(if step == 0 { "host@0" } else { "host@later" });
}

fn host_after(mut log: ResMut<Log>, engines: Query<&NetworkEngine>) {
    let step = engines.iter().next().map_or(0, |e| e.net.step);
    log.0.push(if step == 1 { "after@1" } else { "after@other" });
}

fn two_population_network() -> Network {
    let mut net = Network::new(0.1, 7).unwrap();
    net.add_population(PopulationSpec::new(
        "a",
        20,
        ModelKind::Lif {
            synapse: SynapseKind::CurrExp,
        },
    ))
    .unwrap();
    net.add_population(PopulationSpec::new(
        "b",
        10,
        ModelKind::Lif {
            synapse: SynapseKind::CurrExp,
        },
    ))
    .unwrap();
    net.add_projection(
        ProjectionSpec::new("ab", "a", "b", Strategy::AllToAll)
            .weight(10.0)
            .dale(true),
    )
    .unwrap();
    net
}

#[test]
fn host_system_between_stimulate_and_integrate_runs_in_order() {
    let mut world = World::new();
    world.init_resource::<Log>();
    world.spawn(NetworkEngine::new(two_population_network()));
    let mut schedule = Schedule::default();
    add_to_schedule(&mut schedule);
    schedule.add_systems(
        host_between
            .after(CortecsSystems::Stimulate)
            .before(CortecsSystems::Integrate),
    );
    schedule.add_systems(
        host_after
            .after(CortecsSystems::Integrate)
            .before(CortecsSystems::Writeback),
    );
    schedule.run(&mut world);
    assert_eq!(world.resource::<Log>().0, vec!["host@0", "after@1"]);
    // the Build stage spawned both populations' neurons and the 200 synapse mirrors
    let neurons = world.query::<&Neuron>().iter(&world).count();
    let synapses = world.query::<&Synapse>().iter(&world).count();
    assert_eq!((neurons, synapses), (30, 200));
}

#[test]
fn input_written_before_integrate_takes_effect_in_the_same_tick() {
    let mut sim = Simulation::from_network(two_population_network());
    sim.build().unwrap();
    let e = sim.neuron_entity("b", 3).unwrap();
    sim.world.entity_mut(e).insert((NeuronInput(500.0), Observed));
    sim.run_steps(1).unwrap();
    let v = sim.world.get::<NeuronState>(e).unwrap().v;
    // one Euler step from -65 mV with 500 pA into 250 pF: +0.2 mV
    assert!((v - (-65.0 + 0.1 * 500.0 / 250.0)).abs() < 1e-9, "{v}");
    let other = sim
        .world
        .get::<NeuronState>(sim.neuron_entity("b", 4).unwrap())
        .unwrap()
        .v;
    assert_eq!(other, -65.0);
}

#[test]
fn weight_edit_and_lesion_by_entity_reach_the_store() {
    let mut sim = Simulation::from_network(two_population_network());
    sim.build().unwrap();
    let e = sim.synapse_entities("ab", 2, 5).unwrap()[0];
    sim.world.entity_mut(e).insert(Weight(3.5));
    let gone = sim.synapse_entities("ab", 4, 1).unwrap()[0];
    sim.world.despawn(gone);
    sim.run_steps(1).unwrap();
    let store = &sim.network().unwrap().projection("ab").unwrap().store();
    let k = store.find_live(2, 5).unwrap().unwrap();
    assert_eq!(store.weight[k], 3.5);
    assert_eq!(store.find_live(4, 1).unwrap(), None);
    assert_eq!(store.live(), 199);
    // every other weight is untouched
    let changed = store.weight.iter().filter(|&&w| w != 10.0).count();
    assert_eq!(changed, 2);
    // Dale's rule: an excitatory synapse given a negative weight becomes 0
    sim.world.entity_mut(e).insert(Weight(-1.0));
    sim.run_steps(0).unwrap();
    let store = &sim.network().unwrap().projection("ab").unwrap().store();
    assert_eq!(store.weight[k], 0.0);
}

#[test]
fn a_despawned_network_entity_is_an_error_not_a_panic() {
    let mut sim = Simulation::from_network(two_population_network());
    sim.build().unwrap();
    let network = sim.network;
    sim.world.despawn(network);
    let e = sim.run_steps(1).unwrap_err().to_string();
    assert!(e.contains("was despawned"), "{e}");
    assert!(sim.network().is_err() && sim.engine().is_err());
    assert!(sim.neuron_entity("a", 0).is_err());
    assert!(sim.save(std::env::temp_dir().join("never-written.ckpt")).is_err());
}

#[test]
fn the_adjust_stage_applies_a_timeline_when_due_and_keeps_its_errors() {
    let mut world = World::new();
    let mut timeline = Timeline::default();
    timeline.at(
        5,
        ScheduledEdit::Lesion {
            projection: "ab".into(),
            selection: Selection::FromPre(3),
            filter: SignFilter::Both,
        },
    );
    timeline.at(
        5,
        ScheduledEdit::LesionPair {
            projection: "nope".into(),
            pre: 0,
            post: 0,
        },
    );
    timeline.at(
        8,
        ScheduledEdit::Adjust {
            projection: "ab".into(),
            adjuster: Adjuster::Scale(2.0),
            filter: SignFilter::Both,
        },
    );
    let network = world
        .spawn((NetworkEngine::new(two_population_network()), timeline))
        .id();
    let mut schedule = Schedule::default();
    add_to_schedule(&mut schedule);
    let live = |world: &World| {
        world.get::<NetworkEngine>(network).unwrap().net.projections[0]
            .store()
            .live()
    };
    schedule.run(&mut world); // build
    assert_eq!(live(&world), 200);
    let mut seen = Vec::new();
    for _ in 0..10 {
        schedule.run(&mut world); // one step a tick
        let eng = world.get::<NetworkEngine>(network).unwrap();
        let w = eng.net.weight("ab", 0, 0).unwrap().unwrap();
        seen.push((eng.net.step, eng.net.projections[0].store().live(), w));
    }
    // the tick that ends at step 5 lesions pre 3's ten synapses; the one ending at 8 doubles the weights
    for &(step, n, w) in &seen {
        assert_eq!(n, if step < 5 { 200 } else { 190 }, "step {step}");
        assert_eq!(w, if step < 8 { 10.0 } else { 20.0 }, "step {step}");
    }
    let t = world.get::<Timeline>(network).unwrap();
    assert_eq!(t.pending(), 0);
    assert_eq!(t.errors.len(), 1);
    assert_eq!(t.errors[0].0, 1, "the second edit failed");
    assert!(t.errors[0].1.to_string().contains("nope"), "{}", t.errors[0].1);
    // every stage was timed
    let timers = world.resource::<StageTimers>();
    assert_eq!(timers.stages().len(), 8);
    assert!(timers.integrate > 0.0 && timers.adjust > 0.0 && timers.compile >= 0.0);
    assert!((timers.total() - timers.stages().iter().map(|s| s.1).sum::<f64>()).abs() < 1e-12);
}
