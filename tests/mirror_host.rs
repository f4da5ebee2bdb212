//! Mirrors in a host schedule, where no segment end ever writes every
//! mirror back: after each tick of random entity and API edits, on a Dale
//! projection and on a sign-free one, every synapse entity equals its store
//! row (weight, sign, delay, plasticity, pair) and every live row has one.
//! And a row handle copied onto another entity is refused, never obeyed.

mod common;

use bevy_ecs::prelude::*;
use cortecs::prelude::*;
use cortecs::rng::Stream;

const PRE: usize = 30;
const POST: usize = 25;

fn network(dale: bool) -> Network {
    let mut net = Network::new(0.1, 5).unwrap();
    net.rounding = cortecs::network::Rounding::Nearest; // delays drawn from a distribution
    let lif = ModelKind::Lif {
        synapse: SynapseKind::CurrExp,
    };
    let pre = PopulationSpec::new("a", PRE, lif.clone());
    let pre = if dale {
        pre.polarity(PolaritySpec::ExcitatoryFraction(0.7))
    } else {
        pre
    };
    net.add_population(pre).unwrap();
    net.add_population(PopulationSpec::new("b", POST, lif)).unwrap();
    net.add_drive(
        "a",
        PoissonDrive {
            rate: 5000.0,
            weight: 60.0,
        },
    )
    .unwrap();
    net.add_projection(
        ProjectionSpec::new(
            "ab",
            "a",
            "b",
            Strategy::FixedProbability {
                p: 0.3,
                equalize_efferents: false,
            },
        )
        .weight(Distribution::Normal { mean: 0.5, std: 1.0 })
        .delay(Distribution::Uniform { low: 0.1, high: 1.0 }),
    )
    .unwrap();
    net.build_pending().unwrap();
    assert_eq!(net.projection("ab").unwrap().store().dale, dale);
    net
}

fn host(dale: bool) -> (World, Schedule, Entity) {
    let mut world = World::new();
    let network = world.spawn(NetworkEngine::new(network(dale))).id();
    let mut schedule = Schedule::default();
    add_to_schedule(&mut schedule);
    schedule.run(&mut world);
    (world, schedule, network)
}

fn engine(world: &World, e: Entity) -> &NetworkEngine {
    world.get::<NetworkEngine>(e).unwrap()
}

fn uniform(rng: &mut Stream, low: f32, high: f32) -> f32 {
    low + (high - low) * rng.uniform() as f32
}

fn random_mirror(world: &World, network: Entity, rng: &mut Stream) -> Entity {
    let ents: Vec<Entity> = engine(world, network).synapse_entities[0]
        .iter()
        .copied()
        .filter(|&e| e != Entity::PLACEHOLDER)
        .collect();
    ents[rng.below(ents.len() as u64) as usize]
}

fn edits_keep_mirrors_equal_to_the_store(dale: bool) {
    let (mut world, mut schedule, network) = host(dale);
    common::check_mirrors(&mut world, network, 0, "after build");
    let mut rng = Stream::from_seed(if dale { 1 } else { 2 });
    let mut kinds = [0u32; 7];
    for tick in 0..240 {
        let kind = tick % 7;
        kinds[kind] += 1;
        match kind {
            // an entity weight edit of either sign (Dale: a wrong sign becomes 0; free: the sign follows)
            0 => {
                let e = random_mirror(&world, network, &mut rng);
                let w = uniform(&mut rng, -2.0, 2.0);
                world.entity_mut(e).insert(Weight(w));
            }
            // a lesion by despawn
            1 => {
                let e = random_mirror(&world, network, &mut rng);
                world.despawn(e);
            }
            // a delay and plasticity edit by entity
            2 => {
                let e = random_mirror(&world, network, &mut rng);
                let row = *world.get::<SynapseRow>(e).unwrap();
                world.entity_mut(e).insert(SynapseRow {
                    delay: 1 + rng.below(39) as u16,
                    plasticity: uniform(&mut rng, 0.0, 1.0),
                    ..row
                });
            }
            // an API write of either sign by (pre, post)
            3 => {
                let mut eng = world.get_mut::<NetworkEngine>(network).unwrap();
                let coo = eng.net.weights_coo("ab").unwrap();
                let i = rng.below(coo.pre.len() as u64) as usize;
                let w = uniform(&mut rng, -2.0, 2.0);
                eng.net.set_weight("ab", coo.pre[i], coo.post[i], w).unwrap();
            }
            // API adjusters and selections
            4 => {
                let mut eng = world.get_mut::<NetworkEngine>(network).unwrap();
                let perturb = Adjuster::Perturb(Distribution::Normal { mean: 0.0, std: 0.3 });
                eng.net.adjust("ab", &perturb, SignFilter::Both).unwrap();
                eng.net
                    .lesion_selection("ab", &Selection::Fraction(0.02), SignFilter::Both)
                    .unwrap();
            }
            // a dense write that grows and refuses synapses
            5 => {
                let mut eng = world.get_mut::<NetworkEngine>(network).unwrap();
                let mut w = eng.net.weights_dense("ab").unwrap();
                for _ in 0..5 {
                    let (r, c) = (rng.below(POST as u64) as usize, rng.below(PRE as u64) as usize);
                    w[[r, c]] = uniform(&mut rng, -1.0, 1.0);
                }
                eng.net.set_weights_dense("ab", w.view()).unwrap();
            }
            // a host-spawned synapse for a pair that may or may not exist
            _ => {
                let eng = engine(&world, network);
                let (je, pre_n, post_n) = (
                    eng.projection_entities[0],
                    eng.neuron_entities[0].clone(),
                    eng.neuron_entities[1].clone(),
                );
                let (a, b) = (rng.below(PRE as u64) as usize, rng.below(POST as u64) as usize);
                world.spawn((
                    Synapse {
                        projection: je,
                        pre: pre_n[a],
                        post: post_n[b],
                    },
                    Weight(uniform(&mut rng, -1.0, 1.0)),
                ));
            }
        }
        schedule.run(&mut world);
        common::check_mirrors(
            &mut world,
            network,
            0,
            &format!("tick {tick} (edit kind {kind}, dale {dale})"),
        );
    }
    assert!(kinds.iter().all(|&n| n >= 30), "{kinds:?}");
    let eng = engine(&world, network);
    assert!(eng.net.step >= 240, "the network ran");
    let errors = &eng.edit_errors;
    assert!(
        errors.iter().all(|e| !e.contains("not the synapse it mirrors")),
        "{errors:?}"
    );
}

#[test]
fn host_edits_keep_every_mirror_equal_to_its_row_under_dale() {
    edits_keep_mirrors_equal_to_the_store(true);
}

#[test]
fn host_edits_keep_every_mirror_equal_to_its_row_without_dale() {
    edits_keep_mirrors_equal_to_the_store(false);
}

#[test]
fn an_entity_weight_edit_reports_back_what_the_store_kept() {
    let (mut world, mut schedule, network) = host(true);
    // an excitatory synapse given a negative weight: the store keeps 0, and so does the entity
    let eng = engine(&world, network);
    let store = eng.net.projections[0].store();
    let k = (0..store.len()).find(|&k| store.sign[k] == 1).unwrap();
    let e = eng.synapse_entities[0][k];
    world.entity_mut(e).insert(Weight(-1.5));
    schedule.run(&mut world);
    assert_eq!(world.get::<Weight>(e).unwrap().0, 0.0);
    assert_eq!(engine(&world, network).net.projections[0].store().weight[k], 0.0);
    // without Dale's law the sign follows the weight, and the row says so
    let (mut world, mut schedule, network) = host(false);
    let eng = engine(&world, network);
    let store = eng.net.projections[0].store();
    let k = (0..store.len()).find(|&k| store.sign[k] == 1).unwrap();
    let e = eng.synapse_entities[0][k];
    world.entity_mut(e).insert(Weight(-1.5));
    schedule.run(&mut world);
    assert_eq!(world.get::<Weight>(e).unwrap().0, -1.5);
    assert_eq!(world.get::<SynapseRow>(e).unwrap().sign, -1);
    assert_eq!(engine(&world, network).net.projections[0].store().sign[k], -1);
}

#[test]
fn a_row_handle_copied_from_another_entity_is_refused_and_restored() {
    let (mut world, mut schedule, network) = host(true);
    let eng = engine(&world, network);
    let (a, b) = (eng.synapse_entities[0][3], eng.synapse_entities[0][10]);
    let (row_a, row_b) = (
        *world.get::<SynapseRow>(a).unwrap(),
        *world.get::<SynapseRow>(b).unwrap(),
    );
    let delay_b = engine(&world, network).net.projections[0].store().delay.get(10);
    // entity a claims b's slot and asks for another delay
    world.entity_mut(a).insert(SynapseRow {
        slot: row_b.slot,
        delay: 77,
        ..row_a
    });
    schedule.run(&mut world);
    let eng = engine(&world, network);
    assert_eq!(eng.edit_errors.len(), 1, "{:?}", eng.edit_errors);
    assert!(
        eng.edit_errors[0].contains("not the synapse it mirrors"),
        "{:?}",
        eng.edit_errors
    );
    let store = eng.net.projections[0].store();
    assert_eq!(store.delay.get(10), delay_b, "b's synapse is untouched");
    assert_eq!(store.delay.get(3), row_a.delay, "a's synapse is untouched");
    assert_eq!(*world.get::<SynapseRow>(a).unwrap(), row_a, "a's row is restored");
    // a weight edit under a forged row edits nothing either
    world.entity_mut(a).insert(SynapseRow {
        slot: row_b.slot,
        ..row_a
    });
    schedule.run(&mut world);
    let w_b = engine(&world, network).net.projections[0].store().weight[10];
    world.entity_mut(a).insert(SynapseRow {
        slot: row_b.slot,
        ..row_a
    });
    world.entity_mut(a).insert(Weight(0.25));
    schedule.run(&mut world);
    let eng = engine(&world, network);
    assert_eq!(
        eng.net.projections[0].store().weight[10],
        w_b,
        "b's weight is untouched"
    );
    // despawning a entity with a forged row lesions a's synapse, not b's
    world.entity_mut(a).insert(SynapseRow {
        slot: row_b.slot,
        ..row_a
    });
    let live = engine(&world, network).net.projections[0].store().live();
    world.despawn(a);
    schedule.run(&mut world);
    let store = engine(&world, network).net.projections[0].store();
    assert_eq!(store.live(), live - 1);
    assert_eq!(store.sign[3], 0, "a's synapse is gone");
    assert_ne!(store.sign[10], 0, "b's synapse lives");
    common::check_mirrors(&mut world, network, 0, "after the forged handles");
}
