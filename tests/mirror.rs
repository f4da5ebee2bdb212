//! One engine truth, entities as its mirror: a long random sequence of
//! synapse operations on a mirrored and on a compact copy of the same
//! projection gives identical weights after every operation, and the
//! mirror entities always match the store.

mod common;

use cortecs::prelude::*;
use cortecs::rng::Stream;
use ndarray::Array2;

const PRE: usize = 40;
const POST: usize = 30;

fn network(compact: bool) -> Network {
    let mut net = Network::new(0.1, 17).unwrap();
    net.rounding = cortecs::network::Rounding::Nearest; // delays drawn from a distribution
    let lif = ModelKind::Lif {
        synapse: SynapseKind::CurrExp,
    };
    net.add_population(PopulationSpec::new("a", PRE, lif.clone()).polarity(PolaritySpec::ExcitatoryFraction(0.75)))
        .unwrap();
    net.add_population(PopulationSpec::new("b", POST, lif)).unwrap();
    net.add_drive(
        "a",
        PoissonDrive {
            rate: 8000.0,
            weight: 60.0,
        },
    )
    .unwrap();
    let sparsity = Array2::from_shape_fn((POST, PRE), |(post, pre)| {
        f32::from(u8::from((post * 7 + pre) % 5 != 0))
    });
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
        .weight(Distribution::Uniform { low: 0.5, high: 3.0 })
        .delay(Distribution::Uniform { low: 0.1, high: 1.5 })
        .sparsity_mask(sparsity)
        .compact(compact),
    )
    .unwrap();
    net
}

/// Every synapse entity of projection `name` mirrors its store row, and every live row has one.
fn check_mirrors(sim: &mut Simulation, name: &str, context: &str) {
    let k = sim.network().unwrap().projection_index(name).unwrap();
    let network = sim.network;
    common::check_mirrors(&mut sim.world, network, k, context);
}

fn live_pairs(net: &Network) -> Vec<(u32, u32)> {
    let c = net.weights_coo("ab").unwrap();
    c.pre.into_iter().zip(c.post).collect()
}

#[test]
fn mirrored_and_compact_copies_stay_identical_over_a_long_random_sequence() {
    let mut mirrored = Simulation::from_network(network(false));
    let mut compact = Simulation::from_network(network(true));
    mirrored.build().unwrap();
    compact.build().unwrap();
    check_mirrors(&mut mirrored, "ab", "after build");
    let mut je = mirrored.engine().unwrap().projection_entities[0];
    let dir = std::env::temp_dir().join(format!("cortecs-mirror-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Stream::from_seed(2024);
    let filters = [SignFilter::Excitatory, SignFilter::Inhibitory, SignFilter::Both];
    let mut kinds_done = [0u32; 13];
    for step in 0..400 {
        let kind = rng.below(13) as usize;
        let filter = filters[rng.below(3) as usize];
        let pairs = live_pairs(compact.network().unwrap());
        let context = format!("step {step}, op {kind}");
        match kind {
            0 | 1 if !pairs.is_empty() => {
                // edit one weight: by entity on the mirrored copy, by (pre, post) on the compact one
                let (pre, post) = pairs[rng.below(pairs.len() as u64) as usize];
                let w = (rng.uniform() * 6.0 - 3.0) as f32;
                if kind == 0 {
                    let e = mirrored.synapse_entities("ab", pre, post).unwrap()[0];
                    mirrored.world.entity_mut(e).insert(Weight(w));
                } else {
                    mirrored.network_mut().unwrap().set_weight("ab", pre, post, w).unwrap();
                }
                compact.network_mut().unwrap().set_weight("ab", pre, post, w).unwrap();
            }
            2 if !pairs.is_empty() => {
                // lesion one synapse: despawn its entity / by (pre, post)
                let (pre, post) = pairs[rng.below(pairs.len() as u64) as usize];
                if rng.uniform() < 0.5 {
                    let e = mirrored.synapse_entities("ab", pre, post).unwrap()[0];
                    mirrored.world.despawn(e);
                } else {
                    mirrored.network_mut().unwrap().lesion("ab", pre, post).unwrap();
                }
                compact.network_mut().unwrap().lesion("ab", pre, post).unwrap();
            }
            3 => {
                let sel = match rng.below(4) {
                    0 => Selection::Fraction(0.05),
                    1 => Selection::FromPre(rng.below(PRE as u64) as u32),
                    2 => Selection::ToPost(rng.below(POST as u64) as u32),
                    _ => Selection::Below(0.3),
                };
                let a = mirrored
                    .network_mut()
                    .unwrap()
                    .lesion_selection("ab", &sel, filter)
                    .unwrap();
                let b = compact
                    .network_mut()
                    .unwrap()
                    .lesion_selection("ab", &sel, filter)
                    .unwrap();
                assert_eq!(a, b, "{context}");
            }
            4 | 5 => {
                let adj = match rng.below(4) {
                    0 => Adjuster::Randomize(Distribution::LogNormal { mu: 0.0, sigma: 0.5 }),
                    1 => Adjuster::Scale(0.5 + rng.uniform()),
                    2 => Adjuster::Perturb(Distribution::Normal { mean: 0.0, std: 0.5 }),
                    _ => Adjuster::Clip { min: -2.0, max: 2.0 },
                };
                let a = mirrored.network_mut().unwrap().adjust("ab", &adj, filter).unwrap();
                let b = compact.network_mut().unwrap().adjust("ab", &adj, filter).unwrap();
                assert_eq!(a, b, "{context}");
            }
            6 => {
                // whole matrix, dense: rescale what is there and add a few new synapses
                let mut d = compact.network().unwrap().weights_dense("ab").unwrap();
                d.mapv_inplace(|w| w * 1.1);
                for _ in 0..5 {
                    let (post, pre) = (rng.below(POST as u64) as usize, rng.below(PRE as u64) as usize);
                    d[[post, pre]] = (rng.uniform() * 2.0 - 1.0) as f32;
                }
                let a = mirrored
                    .network_mut()
                    .unwrap()
                    .set_weights_dense("ab", d.view())
                    .unwrap();
                let b = compact
                    .network_mut()
                    .unwrap()
                    .set_weights_dense("ab", d.view())
                    .unwrap();
                assert_eq!(a, b, "{context}");
            }
            7 => {
                // whole matrix, sparse: a CSR read, changed, written back
                let mut csr = compact.network().unwrap().weights_csr("ab").unwrap();
                csr.data.iter_mut().for_each(|w| *w *= 0.9);
                mirrored.network_mut().unwrap().set_weights_csr("ab", &csr).unwrap();
                compact.network_mut().unwrap().set_weights_csr("ab", &csr).unwrap();
            }
            8 => {
                // growth: a new synapse, spawned as an entity / created by index
                let (pre, post) = (rng.below(PRE as u64) as u32, rng.below(POST as u64) as u32);
                let w = (rng.uniform() * 2.0 + 0.1) as f32;
                let w = if pre >= 30 { -w } else { w };
                let want = compact.network_mut().unwrap().create_synapse(0, pre, post, w, None);
                let eng = mirrored.engine().unwrap();
                let (a, b) = (
                    eng.neuron_entities[0][pre as usize],
                    eng.neuron_entities[1][post as usize],
                );
                let e = mirrored
                    .world
                    .spawn((
                        Synapse {
                            projection: je,
                            pre: a,
                            post: b,
                        },
                        Weight(w),
                    ))
                    .id();
                mirrored.sync().unwrap();
                let errors = std::mem::take(&mut mirrored.engine_mut().unwrap().edit_errors);
                match want {
                    Ok(_) => {
                        assert!(errors.is_empty(), "{context}: {errors:?}");
                        assert!(mirrored.world.get::<SynapseRow>(e).is_some(), "{context}: entity kept");
                    }
                    Err(err) => {
                        assert_eq!(errors, vec![err.to_string()], "{context}");
                        assert!(
                            mirrored.world.get_entity(e).is_err(),
                            "{context}: refused entity despawned"
                        );
                    }
                }
            }
            9 => {
                mirrored
                    .network_mut()
                    .unwrap()
                    .projection_mut("ab")
                    .unwrap()
                    .compact_store();
                compact
                    .network_mut()
                    .unwrap()
                    .projection_mut("ab")
                    .unwrap()
                    .compact_store();
            }
            10 => {
                let a = mirrored
                    .network_mut()
                    .unwrap()
                    .adjust("ab", &Adjuster::Reapply, filter)
                    .unwrap();
                let b = compact
                    .network_mut()
                    .unwrap()
                    .adjust("ab", &Adjuster::Reapply, filter)
                    .unwrap();
                assert_eq!(a, b, "{context}");
            }
            11 => {
                let adj = Adjuster::Prune(Selection::Below(0.2 + rng.uniform()));
                mirrored.network_mut().unwrap().adjust("ab", &adj, filter).unwrap();
                compact.network_mut().unwrap().adjust("ab", &adj, filter).unwrap();
            }
            12 => {
                // save -> load: the mirrored copy comes back with fresh mirror entities
                mirrored.save(dir.join("m.ckpt")).unwrap();
                compact.save(dir.join("c.ckpt")).unwrap();
                mirrored = Simulation::load(dir.join("m.ckpt")).unwrap();
                compact = Simulation::load(dir.join("c.ckpt")).unwrap();
                je = mirrored.engine().unwrap().projection_entities[0];
            }
            _ => continue,
        }
        kinds_done[kind] += 1;
        // a run segment between operations: the next step uses the new weights in both
        mirrored.run_steps(2).unwrap();
        compact.run_steps(2).unwrap();
        let (m, c) = (mirrored.network().unwrap(), compact.network().unwrap());
        assert_eq!(
            m.weights_coo("ab").unwrap(),
            c.weights_coo("ab").unwrap(),
            "{context}: weights differ"
        );
        assert_eq!(
            m.weight_stats("ab", SignFilter::Both).unwrap(),
            c.weight_stats("ab", SignFilter::Both).unwrap(),
            "{context}"
        );
        assert_eq!(m.in_degree("ab").unwrap(), c.in_degree("ab").unwrap(), "{context}");
        let (sm, sc) = (&m.projections[0].store(), &c.projections[0].store());
        assert!(sm == sc, "{context}: stores differ");
        assert_eq!(
            m.get("b", "v", &View::All).unwrap(),
            c.get("b", "v", &View::All).unwrap(),
            "{context}: dynamics differ"
        );
        check_mirrors(&mut mirrored, "ab", &context);
    }
    assert!(
        kinds_done.iter().all(|&n| n > 10),
        "every operation ran: {kinds_done:?}"
    );
    // the comparison of dynamics means something: pre spikes moved the post membranes
    let spikes = mirrored.network().unwrap().population("a").unwrap().spike_count;
    let v = mirrored.network().unwrap().get("b", "v", &View::All).unwrap();
    assert!(spikes > 100, "{spikes} pre spikes");
    assert!(v.iter().filter(|&&x| x != v[0]).count() > POST / 2, "{v}");
}

#[test]
fn the_constrain_stage_enforces_masks_after_direct_store_edits() {
    let mut sim = Simulation::from_network(network(true));
    sim.build().unwrap();
    {
        // a learning rule or a host writes the store directly and says so
        let p = sim.network_mut().unwrap().projection_mut("ab").unwrap();
        for w in p.weights_mut().iter_mut() {
            *w = -*w; // every excitatory weight now has the wrong sign
        }
    }
    sim.run_steps(0).unwrap();
    let p = sim.network().unwrap().projection("ab").unwrap();
    assert!(!p.constrain_pending());
    for k in 0..p.store().len() {
        assert!(f32::from(p.store().sign[k]) * p.store().weight[k] >= 0.0, "slot {k}");
    }
    let exc = (0..p.store().len()).filter(|&k| p.store().sign[k] == 1).count();
    assert!(
        exc > 0
            && (0..p.store().len())
                .filter(|&k| p.store().sign[k] == 1)
                .all(|k| p.store().weight[k] == 0.0)
    );
}

#[test]
fn delay_and_plasticity_edits_by_entity_reach_the_store() {
    let mut sim = Simulation::from_network(network(false));
    sim.build().unwrap();
    let (pre, post) = live_pairs(sim.network().unwrap())[3];
    let e = sim.synapse_entities("ab", pre, post).unwrap()[0];
    let row = *sim.world.get::<SynapseRow>(e).unwrap();
    // a delay longer than any the ring holds: the ring grows
    sim.world.entity_mut(e).insert(SynapseRow {
        delay: 250,
        plasticity: 0.5,
        ..row
    });
    sim.run_steps(300).unwrap();
    let s = &sim.network().unwrap().projection("ab").unwrap().store();
    assert_eq!(
        (s.delay.get(row.slot.index()), s.plasticity.get(row.slot.index())),
        (250, 0.5)
    );
    let others = (0..s.len())
        .filter(|&k| k != row.slot.index() && s.delay.get(k) == 250)
        .count();
    assert_eq!(others, 0, "only that synapse changed");
    // a bad value is refused and reported; the mirror is restored from the store
    sim.world.entity_mut(e).insert(SynapseRow { delay: 0, ..row });
    sim.run_steps(1).unwrap();
    let errors = std::mem::take(&mut sim.engine_mut().unwrap().edit_errors);
    assert!(errors.len() == 1 && errors[0].contains(">= 1 step"), "{errors:?}");
    assert_eq!(
        sim.network()
            .unwrap()
            .projection("ab")
            .unwrap()
            .store()
            .delay
            .get(row.slot.index()),
        250
    );
    check_mirrors(&mut sim, "ab", "after the refused edit");
}

#[test]
fn synapses_grown_and_pruned_during_a_run_segment_are_mirrored_at_its_end() {
    // growth every step where a synapse is absent, pruning of synapses small at one check
    let mut net = Network::new(1.0, 5).unwrap();
    let rate = ModelKind::Rate {
        activation: Activation::Identity,
    };
    net.add_population(PopulationSpec::new("h", 3, rate)).unwrap();
    net.add_projection(
        ProjectionSpec::new("hh", "h", "h", Strategy::AllToAll)
            .weight(0.5)
            .grow(Growth {
                every: 2.0,
                probability: GrowthProbability::Constant(1.0),
                weight: 0.01,
            })
            .prune(Pruning {
                every: 1.0,
                threshold: 0.1,
                after: 1.0,
            }),
    )
    .unwrap();
    let mut sim = Simulation::from_network(net);
    sim.build().unwrap();
    sim.network_mut().unwrap().lesion("hh", 0, 1).unwrap();
    sim.network_mut().unwrap().set_weight("hh", 2, 2, 0.05).unwrap();
    sim.sync().unwrap();
    check_mirrors(&mut sim, "hh", "before the run");
    // step 1 prunes (2, 2); step 2 grows (0, 1) and (2, 2) back
    sim.run_steps(1).unwrap();
    assert_eq!(sim.network().unwrap().weight("hh", 2, 2).unwrap(), None);
    check_mirrors(&mut sim, "hh", "after a segment that pruned");
    sim.run_steps(1).unwrap();
    assert_eq!(sim.network().unwrap().weight("hh", 0, 1).unwrap(), Some(0.01));
    check_mirrors(&mut sim, "hh", "after a segment that grew");
}

#[test]
fn without_dales_law_the_sign_follows_a_bulk_written_weight() {
    let mut net = Network::new(1.0, 5).unwrap();
    let rate = ModelKind::Rate {
        activation: Activation::Identity,
    };
    net.add_population(PopulationSpec::new("h", 3, rate)).unwrap();
    net.connect(ProjectionSpec::new("hh", "h", "h", Strategy::AllToAll).weight(0.5))
        .unwrap();
    assert!(!net.projection("hh").unwrap().store().dale);
    // a host's own update flips every weight; the next Constrain stage makes the signs follow
    for w in net.projection_mut("hh").unwrap().weights_mut() {
        *w = -*w;
    }
    net.enforce_constraints();
    let s = net.projection("hh").unwrap().store();
    assert!(s.signs().all(|x| x == -1), "signs {:?}", s.sign);
    assert_eq!(net.weight_stats("hh", SignFilter::Inhibitory).unwrap().count, 9);
    // so that an adjuster keeping signs keeps these
    net.adjust("hh", &Adjuster::Scale(2.0), SignFilter::Both).unwrap();
    assert_eq!(net.weight("hh", 1, 2).unwrap(), Some(-1.0));
}
