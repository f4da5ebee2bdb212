//! Embedding in a host's world: sensors and motors, host systems between
//! stages, many networks side by side, despawning a network, host
//! components on neuron entities, per-network steps per tick.

use bevy_ecs::prelude::*;
use cortecs::population::PopulationState;
use cortecs::prelude::*;

fn lif() -> ModelKind {
    ModelKind::Lif {
        synapse: SynapseKind::CurrExp,
    }
}

/// Three identity rate units with a = dt/tau = 1 (v = input exactly), and a LIF population.
fn io_network() -> Network {
    let mut net = Network::new(0.1, 3).unwrap();
    net.add_population(
        PopulationSpec::new(
            "in",
            3,
            ModelKind::Rate {
                activation: Activation::Identity,
            },
        )
        .param("tau", 0.1),
    )
    .unwrap();
    net.add_population(PopulationSpec::new("cells", 2, lif())).unwrap();
    net
}

/// A network with noise, a Poisson drive, rate and spiking parts: every
/// random stream and every kernel is in use.
fn busy_network(seed: u64) -> Network {
    let mut net = Network::new(0.1, seed).unwrap();
    let mut rate = PopulationSpec::new(
        "ctrnn",
        30,
        ModelKind::Rate {
            activation: Activation::Tanh,
        },
    )
    .param("tau", 5.0);
    rate.pre_noise = 0.05;
    net.add_population(rate).unwrap();
    net.add_population(PopulationSpec::new("exc", 40, lif()).polarity(PolaritySpec::Excitatory))
        .unwrap();
    net.add_projection(
        ProjectionSpec::new("rec", "ctrnn", "ctrnn", Strategy::AllToAll)
            .weight(Distribution::Normal { mean: 0.0, std: 0.4 }),
    )
    .unwrap();
    net.add_projection(
        ProjectionSpec::new(
            "ee",
            "exc",
            "exc",
            Strategy::FixedProbability {
                p: 0.2,
                equalize_efferents: false,
            },
        )
        .weight(30.0),
    )
    .unwrap();
    net.add_drive(
        "exc",
        PoissonDrive {
            rate: 8000.0,
            weight: 90.0,
        },
    )
    .unwrap();
    net
}

fn schedule() -> Schedule {
    let mut s = Schedule::default();
    add_to_schedule(&mut s);
    s
}

fn spawn(world: &mut World, net: Network, steps: u64) -> Entity {
    let mut eng = NetworkEngine::new(net);
    eng.steps_per_tick = steps;
    world.spawn(eng).id()
}

fn engine(world: &World, e: Entity) -> &NetworkEngine {
    world.get::<NetworkEngine>(e).unwrap()
}

/// Everything that evolves in a network, for bit-exact comparison.
fn state_of(net: &Network) -> (u64, Vec<Vec<u64>>, Vec<u64>) {
    let mut bits = Vec::new();
    let mut spikes = Vec::new();
    for p in &net.populations {
        let v: Vec<u64> = match &p.state {
            PopulationState::Rate(s) => s.v.iter().chain(&s.r).map(|x| u64::from(x.to_bits())).collect(),
            PopulationState::Spiking(s) => s.v.iter().chain(&s.g_e).chain(&s.g_i).map(|x| x.to_bits()).collect(),
            _ => Vec::new(),
        };
        bits.push(v);
        spikes.push(p.spike_count);
    }
    (net.step, bits, spikes)
}

#[derive(Resource, Default)]
struct Tick(u32);

#[derive(Component)]
struct Probe;

/// Host system between Stimulate and Integrate: from the second tick on it
/// writes the sensors and a `NeuronInput` (through `Commands`).
fn write_inputs(
    tick: Res<Tick>,
    mut commands: Commands,
    mut sensors: Query<&mut Sensors>,
    probe: Query<Entity, With<Probe>>,
) {
    if tick.0 == 0 {
        return;
    }
    let x = tick.0 as f32;
    for mut s in &mut sensors {
        s.set(0, 0.25 * x).unwrap();
        s.set(1, -1.5 * x).unwrap();
        s.set(2, 500.0).unwrap(); // pA into LIF cell 0
    }
    for e in &probe {
        commands.entity(e).insert(NeuronInput(2.0 * f64::from(x)));
    }
}

#[test]
fn inputs_written_between_stimulate_and_integrate_count_in_the_same_tick() {
    let mut world = World::new();
    world.init_resource::<Tick>();
    let net = io_network();
    let sensors = Sensors::new(&net, &[("in", 0), ("in", 1), ("cells", 0)]).unwrap();
    let motors = Motors::new(
        &net,
        &[("in", 0), ("in", 1), ("in", 2), ("cells", 0)],
        Readout::Potential,
    )
    .unwrap();
    let mut eng = NetworkEngine::new(net);
    eng.steps_per_tick = 1;
    let e = world.spawn((eng, sensors, motors)).id();
    let mut s = schedule();
    s.add_systems(
        write_inputs
            .after(CortecsSystems::Stimulate)
            .before(CortecsSystems::Integrate),
    );
    // tick 0: builds the neuron entities and steps once with no input
    s.run(&mut world);
    assert_eq!(world.get::<Motors>(e).unwrap().values(), &[0.0, 0.0, 0.0, -65.0]);
    let probe = engine(&world, e).neuron_entities[0][2];
    world.entity_mut(probe).insert((Probe, Observed));
    for tick in 1..4u32 {
        world.resource_mut::<Tick>().0 = tick;
        s.run(&mut world);
        let x = tick as f32;
        let m = world.get::<Motors>(e).unwrap().values().to_vec();
        // a = 1: v is exactly this tick's input
        assert_eq!(&m[..3], &[0.25 * x, -1.5 * x, 2.0 * x], "tick {tick}");
        assert_eq!(world.get::<NeuronState>(probe).unwrap().v, f64::from(2.0 * x));
        assert_eq!(engine(&world, e).net.step, u64::from(tick) + 1);
    }
    // the LIF cell integrated 500 pA for three steps: one Euler step each from -65 mV
    let mut v = -65.0f64;
    for _ in 0..3 {
        v += 0.1 * (-(v + 65.0) * 250.0 / 20.0 + 500.0) / 250.0;
    }
    let got = f64::from(world.get::<Motors>(e).unwrap().values()[3]);
    assert!((got - v).abs() < 1e-4, "{got} vs {v}");
}

/// Sensor values of network `k` in tick `t`.
fn drive(world: &mut World, entities: &[Entity], t: u64) {
    for (k, &e) in entities.iter().enumerate() {
        let mut s = world.get_mut::<Sensors>(e).unwrap();
        for (c, x) in s.values_mut().iter_mut().enumerate() {
            *x = ((t + c as u64 + 3 * k as u64) as f32 * 0.37).sin() * 2.0;
        }
    }
}

fn with_io(world: &mut World, net: Network, steps: u64) -> Entity {
    let sensors = Sensors::new(&net, &[("ctrnn", 0), ("ctrnn", 1), ("exc", 0)]).unwrap();
    let motors = Motors::new(&net, &[("exc", 5), ("exc", 6)], Readout::SpikeCount).unwrap();
    let e = spawn(world, net, steps);
    world.entity_mut(e).insert((sensors, motors));
    e
}

#[test]
fn two_networks_in_one_world_do_not_interfere() {
    let ticks = 40;
    // A alone
    let mut alone = World::new();
    let a = with_io(&mut alone, busy_network(11), 10);
    let mut s = schedule();
    for t in 0..ticks {
        drive(&mut alone, &[a], t);
        s.run(&mut alone);
    }
    // B (same population names, other seed and steps) spawned before A, with its own input
    let mut both = World::new();
    let b = with_io(&mut both, busy_network(12), 7);
    let a2 = with_io(&mut both, busy_network(11), 10);
    let mut s = schedule();
    for t in 0..ticks {
        drive(&mut both, &[a2, b], t);
        s.run(&mut both);
    }
    let (sa, sa2) = (state_of(&engine(&alone, a).net), state_of(&engine(&both, a2).net));
    assert_eq!(sa, sa2);
    assert!(sa.2[1] > 0, "the spiking part should spike");
    assert_eq!(alone.get::<Motors>(a).unwrap(), both.get::<Motors>(a2).unwrap());
    assert_eq!(engine(&both, b).net.step, 7 * ticks);
    assert_ne!(state_of(&engine(&both, b).net).1, sa.1);
}

#[test]
fn many_networks_are_bit_identical_at_any_thread_count() {
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let mut world = World::new();
            let es: Vec<Entity> = (0..24).map(|k| with_io(&mut world, busy_network(k), 5)).collect();
            let mut s = schedule();
            for t in 0..10 {
                drive(&mut world, &es, t);
                s.run(&mut world);
            }
            es.iter()
                .map(|&e| {
                    (
                        state_of(&engine(&world, e).net),
                        world.get::<Motors>(e).unwrap().values().to_vec(),
                    )
                })
                .collect::<Vec<_>>()
        })
    };
    let one = run(1);
    assert_eq!(one, run(3));
    // and the networks differ from one another (their seeds do)
    assert_ne!(one[0].0, one[1].0);
}

#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
enum BodyPart {
    Eye,
    Leg,
}

#[derive(Component)]
struct Tagged;

fn count<C: Component>(world: &mut World) -> usize {
    world.query::<&C>().iter(world).count()
}

#[test]
fn despawning_a_network_entity_removes_its_network_cleanly() {
    let mut world = World::new();
    let a = spawn(&mut world, busy_network(1), 3);
    let b = spawn(&mut world, busy_network(2), 3);
    let mut s = schedule();
    s.run(&mut world);
    let (neurons, synapses) = (count::<Neuron>(&mut world), count::<Synapse>(&mut world));
    let a_syn: usize = engine(&world, a).synapse_entities.iter().map(Vec::len).sum();
    assert_eq!(neurons, 140);
    assert!(a_syn > 900 && synapses > 2 * 900);
    // host components on A's entities, and edits queued against A
    let (n0, syn0) = (
        engine(&world, a).neuron_entities[1][0],
        engine(&world, a).synapse_entities[0][0],
    );
    world
        .entity_mut(n0)
        .insert((BodyPart::Leg, NeuronInput(100.0), Observed));
    world.entity_mut(syn0).insert(Weight(0.5));
    let other_syn = engine(&world, a).synapse_entities[1][3];
    world.entity_mut(b).insert(Tagged);
    world.despawn(a);
    // despawning a synapse of a despawned network is no lesion of anything
    assert!(world.get_entity(other_syn).is_err());
    assert_eq!(count::<Neuron>(&mut world), 70);
    assert_eq!(count::<Synapse>(&mut world), synapses - a_syn);
    assert_eq!(count::<PopulationOf>(&mut world), 2);
    assert_eq!(count::<ProjectionOf>(&mut world), 2);
    assert_eq!(count::<BodyPart>(&mut world), 0);
    let stale = world
        .query::<&PopulationOf>()
        .iter(&world)
        .filter(|p| p.network == a)
        .count();
    assert_eq!(stale, 0);
    let before = state_of(&engine(&world, b).net);
    for _ in 0..3 {
        s.run(&mut world);
    }
    let q = world.resource::<EditQueue>();
    assert!(q.inputs.is_empty() && q.weights.is_empty() && q.removals.is_empty() && q.created.is_empty());
    assert_eq!(engine(&world, b).net.step, before.0 + 9);
    assert!(engine(&world, b).edit_errors.is_empty());
    assert_eq!(world.query::<&NetworkEngine>().iter(&world).count(), 1);
}

fn despawn_tagged(mut commands: Commands, agents: Query<Entity, (With<NetworkEngine>, With<Tagged>)>) {
    for e in &agents {
        commands.entity(e).despawn();
    }
}

#[test]
fn a_host_system_may_despawn_an_agent_mid_tick() {
    let mut world = World::new();
    let a = spawn(&mut world, busy_network(1), 2);
    let b = spawn(&mut world, busy_network(2), 2);
    let mut s = schedule();
    s.add_systems(
        despawn_tagged
            .after(CortecsSystems::Stimulate)
            .before(CortecsSystems::Integrate),
    );
    s.run(&mut world);
    world.entity_mut(a).insert(Tagged);
    s.run(&mut world);
    assert!(world.get_entity(a).is_err());
    assert_eq!(count::<Neuron>(&mut world), 70);
    assert_eq!(engine(&world, b).net.step, 4);
    s.run(&mut world);
    assert_eq!(engine(&world, b).net.step, 6);
}

#[test]
fn host_components_on_neuron_and_synapse_entities_work_with_the_stages() {
    let mut world = World::new();
    let mut net = busy_network(5);
    // a rate population whose state we can watch
    net.set("ctrnn", "v", &View::All, 0.5).unwrap();
    let e = spawn(&mut world, net, 4);
    let mut s = schedule();
    s.run(&mut world);
    let eng = engine(&world, e);
    let eyes: Vec<Entity> = eng.neuron_entities[0][..5].to_vec();
    let legs: Vec<Entity> = eng.neuron_entities[1][..5].to_vec();
    let syn: Vec<Entity> = eng.synapse_entities[0][..10].to_vec();
    for &n in &eyes {
        world.entity_mut(n).insert((BodyPart::Eye, Observed));
    }
    for &n in &legs {
        world.entity_mut(n).insert((BodyPart::Leg, Observed));
    }
    for &x in &syn {
        world.entity_mut(x).insert(Tagged);
    }
    // a weight edit by entity, then an adjuster that rewrites every weight mirror
    world.entity_mut(syn[0]).insert(Weight(0.125));
    s.run(&mut world);
    {
        let mut eng = world.get_mut::<NetworkEngine>(e).unwrap();
        let k = eng.net.projection_index("rec").unwrap();
        assert_eq!(eng.net.projections[k].store().weight[0], 0.125);
        eng.net
            .adjust(
                "rec",
                &cortecs::projection::Adjuster::Scale(2.0),
                cortecs::store::SignFilter::Both,
            )
            .unwrap();
    }
    s.run(&mut world);
    assert_eq!(world.get::<Weight>(syn[0]).unwrap().0, 0.25);
    assert_eq!(count::<Tagged>(&mut world), 10);
    // the tagged neurons are observed: their state follows the engine every tick
    let eng = engine(&world, e);
    let v = eng.net.population("ctrnn").unwrap().get("v").unwrap();
    assert_eq!(eng.net.step, 12);
    let mut q = world.query::<(&BodyPart, &Neuron, &NeuronState)>();
    let mut seen = 0;
    for (part, neuron, state) in q.iter(&world) {
        if *part == BodyPart::Eye {
            assert_eq!(state.v, v[neuron.index as usize]);
            seen += 1;
        }
    }
    assert_eq!(seen, 5);
    // a lesion by entity; the other tagged synapses keep their slots and tags
    let gone = syn[1];
    let pair = world.get::<Synapse>(syn[5]).copied().unwrap();
    world.despawn(gone);
    s.run(&mut world);
    let k = world
        .get::<SynapseRow>(syn[5])
        .copied()
        .expect("the tagged synapse keeps its slot");
    assert_eq!(world.get::<Synapse>(syn[5]).copied().unwrap(), pair);
    let store = &engine(&world, e).net.projection("rec").unwrap().store();
    assert_eq!(store.weight[k.slot.index()], world.get::<Weight>(syn[5]).unwrap().0);
    assert_eq!(count::<Tagged>(&mut world), 9);
}

#[test]
fn steps_per_tick_is_per_network() {
    let mut world = World::new();
    let one = spawn(&mut world, busy_network(3), 1);
    let ten = spawn(&mut world, busy_network(3), 10);
    let mut s = schedule();
    for _ in 0..3 {
        s.run(&mut world);
    }
    assert_eq!(engine(&world, one).net.step, 3);
    assert_eq!(engine(&world, ten).net.step, 30);
    // the same network stepped 30 times on its own is where the 10-step one is
    let mut plain = busy_network(3);
    plain.build_pending().unwrap();
    plain.run_steps(30);
    assert_eq!(state_of(&plain), state_of(&engine(&world, ten).net));
    // changed between frames: the next tick advances the new count
    world.get_mut::<NetworkEngine>(one).unwrap().steps_per_tick = 5;
    s.run(&mut world);
    assert_eq!(engine(&world, one).net.step, 8);
}

#[test]
fn motors_count_spikes_over_the_frame() {
    let mut net = Network::new(0.1, 9).unwrap();
    net.add_population(PopulationSpec::new("cells", 3, lif()).record_spikes(true))
        .unwrap();
    let mut sensors = Sensors::population(&net, "cells").unwrap();
    sensors.set(0, 1200.0).unwrap();
    sensors.set(1, 400.0).unwrap(); // rheobase: 250 pF / 20 ms * 15 mV = 187.5 pA
    sensors.set(2, 0.0).unwrap();
    let counts = Motors::population(&net, "cells", Readout::SpikeCount).unwrap();
    let mean = Motors::population(&net, "cells", Readout::MeanOutput).unwrap();
    let mut world = World::new();
    let e = spawn(&mut world, net.clone(), 200);
    let e2 = spawn(&mut world, net, 200);
    world.entity_mut(e).insert((sensors.clone(), counts));
    world.entity_mut(e2).insert((sensors, mean));
    let mut s = schedule();
    let mut total = [0.0f32; 3];
    for frame in 0..3 {
        s.run(&mut world);
        let c = world.get::<Motors>(e).unwrap().values().to_vec();
        let m = world.get::<Motors>(e2).unwrap().values().to_vec();
        // the spikes of this frame's 200 steps, from the recorder
        let rec = engine(&world, e)
            .net
            .population("cells")
            .unwrap()
            .spike_record
            .clone()
            .unwrap();
        for i in 0..3 {
            let n = rec
                .iter()
                .filter(|&&(step, j)| j == i as u32 && step >= frame * 200 && step < (frame + 1) * 200)
                .count();
            assert_eq!(c[i], n as f32, "frame {frame} neuron {i}");
            assert_eq!(m[i], n as f32 / 200.0);
            total[i] += c[i];
        }
    }
    assert!(total[0] > total[1] && total[1] > 0.0 && total[2] == 0.0, "{total:?}");
}

#[test]
fn bad_channels_are_clear_errors_never_panics() {
    let net = io_network();
    let err = |r: cortecs::Result<Sensors>| r.unwrap_err().to_string();
    assert!(err(Sensors::new(&net, &[("in", 3)])).contains("out of range"));
    assert!(err(Sensors::new(&net, &[("nope", 0)])).contains("unknown population 'nope'"));
    let mut src = Network::new(0.1, 1).unwrap();
    src.add_population(PopulationSpec::new("poisson", 2, ModelKind::PoissonSource))
        .unwrap();
    assert!(err(Sensors::new(&src, &[("poisson", 0)])).contains("source"));
    let e = Motors::new(&net, &[("in", 0)], Readout::SpikeCount).unwrap_err();
    assert!(e.to_string().contains("do not spike"), "{e}");
    let mut s = Sensors::new(&net, &[("in", 0)]).unwrap();
    assert!(s.set(1, 1.0).is_err());
    assert!(s.set(0, f32::NAN).unwrap_err().to_string().contains("not finite"));
    let m = Motors::new(&net, &[("cells", 1)], Readout::Output).unwrap();
    assert!(m.get(1).is_err());
    assert_eq!(m.get(0).unwrap(), 0.0);
    // components made for a bigger network, put on a smaller one: the frame
    // still runs, the error is kept once
    let big = Sensors::new(&net, &[("cells", 1)]).unwrap();
    let mut small = Network::new(0.1, 1).unwrap();
    small.add_population(PopulationSpec::new("x", 1, lif())).unwrap();
    let mut world = World::new();
    let e = spawn(&mut world, small, 2);
    world.entity_mut(e).insert((big, m));
    let mut sch = schedule();
    sch.run(&mut world);
    sch.run(&mut world);
    let eng = engine(&world, e);
    assert_eq!(eng.net.step, 4);
    assert_eq!(eng.edit_errors.len(), 2, "{:?}", eng.edit_errors);
    assert!(eng.edit_errors[0].contains("made for another network"));
}

/// The README's "Embedding" code is the doc test of `cortecs::embed`, line for line.
#[test]
fn readme_embedding_code_is_the_tested_doc_example() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("\n## Embedding\n")
        .nth(1)
        .expect("README has an Embedding section");
    let block = section
        .split("```rust\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("the Embedding section has a rust block");
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/ecs/embed.rs")).unwrap();
    let doc: Vec<&str> = src
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    let start = doc.iter().position(|l| *l == "```").unwrap() + 1;
    let end = start + doc[start..].iter().position(|l| *l == "```").unwrap();
    assert_eq!(block.lines().collect::<Vec<_>>(), doc[start..end].to_vec());
}
