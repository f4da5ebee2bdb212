//! Touching any synapse: masks and constraints after every change, weight
//! matrix round trips, lesions, adjusters restricted by sign, statistics.

use cortecs::mask::SignMask;
use cortecs::prelude::*;
use cortecs::rng::Stream;
use ndarray::Array2;

const N: usize = 60;

fn relu() -> ModelKind {
    ModelKind::Rate {
        activation: Activation::Relu,
    }
}

/// A 60-unit E/I rate network (80 % excitatory) with a recurrent projection
/// under every mask: sparsity, per-pre E/I, plasticity, growth, no self-connections.
fn masked(compact: bool) -> (Network, Array2<f32>) {
    let mut net = Network::new(1.0, 11).unwrap();
    net.add_population(PopulationSpec::new("h", N, relu()).polarity(PolaritySpec::ExcitatoryFraction(0.8)))
        .unwrap();
    let mut rng = Stream::from_seed(3);
    let sparsity = Array2::from_shape_fn((N, N), |_| f32::from(u8::from(rng.uniform() < 0.4)));
    let plasticity = Array2::from_shape_fn((N, N), |(r, c)| ((r + c) % 5) as f32 / 4.0);
    let growth = Array2::from_shape_fn((N, N), |(r, c)| ((r * c) % 3) as f32 / 2.0);
    net.connect(
        ProjectionSpec::new(
            "hh",
            "h",
            "h",
            Strategy::FixedProbability {
                p: 0.6,
                equalize_efferents: false,
            },
        )
        .weight(Distribution::Uniform { low: 0.1, high: 1.0 })
        .self_connections(false)
        .sparsity_mask(sparsity.clone())
        .plasticity_mask(plasticity)
        .growth_mask(growth)
        .compact(compact),
    )
    .unwrap();
    (net, sparsity)
}

/// Every mask and constraint holds on every live synapse.
fn assert_constraints(net: &Network, sparsity: &Array2<f32>, context: &str) {
    let p = net.projection("hh").unwrap();
    let s = &p.store();
    let pol = &net.population("h").unwrap().polarity;
    for k in 0..s.len() {
        if s.sign[k] == 0 {
            assert_eq!(s.weight[k], 0.0, "{context}: removed synapse {k} has weight");
            continue;
        }
        let (pre, post) = s.pair(k);
        assert_eq!(
            sparsity[[post as usize, pre as usize]],
            1.0,
            "{context}: ({pre},{post}) masked out"
        );
        assert_ne!(pre, post, "{context}: self-connection {pre}");
        let want = if pol[pre as usize] == Polarity::Excitatory {
            1
        } else {
            -1
        };
        assert_eq!(s.sign[k], want, "{context}: sign of ({pre},{post})");
        assert!(
            f32::from(s.sign[k]) * s.weight[k] >= 0.0,
            "{context}: Dale broken at ({pre},{post})"
        );
        let pm = p.masks().plasticity.as_ref().unwrap().get(post, pre);
        assert_eq!(s.plasticity.get(k), pm, "{context}: plasticity of ({pre},{post})");
    }
    // the dense kernel (if any) agrees with the store
    if let Some(d) = &p.dense {
        assert_eq!(d, &s.to_dense(), "{context}: kernel out of date");
    }
}

fn normal(std: f64) -> Distribution {
    Distribution::Normal { mean: 0.0, std }
}

#[test]
fn masks_survive_every_adjuster_and_edit() {
    let (mut net, sparsity) = masked(true);
    assert!(
        net.projection("hh").unwrap().store().dale,
        "per-neuron polarity turns Dale's law on"
    );
    assert_constraints(&net, &sparsity, "after construction");
    let mut rng = Stream::from_seed(9);
    type Op = Box<dyn Fn(&mut Network, &mut Stream)>;
    let ops: Vec<(&str, Op)> = vec![
        (
            "randomize both",
            Box::new(|n, _| {
                n.adjust("hh", &Adjuster::Randomize(normal(1.0)), SignFilter::Both)
                    .unwrap();
            }),
        ),
        (
            "scale I by -2",
            Box::new(|n, _| {
                n.adjust("hh", &Adjuster::Scale(-2.0), SignFilter::Inhibitory).unwrap();
            }),
        ),
        (
            "perturb",
            Box::new(|n, _| {
                n.adjust("hh", &Adjuster::Perturb(normal(0.5)), SignFilter::Both)
                    .unwrap();
            }),
        ),
        (
            "clip",
            Box::new(|n, _| {
                n.adjust("hh", &Adjuster::Clip { min: -0.3, max: 0.3 }, SignFilter::Both)
                    .unwrap();
            }),
        ),
        (
            "prune",
            Box::new(|n, _| {
                n.adjust("hh", &Adjuster::Prune(Selection::Fraction(0.1)), SignFilter::Excitatory)
                    .unwrap();
            }),
        ),
        (
            "reapply",
            Box::new(|n, _| {
                n.adjust("hh", &Adjuster::Reapply, SignFilter::Both).unwrap();
            }),
        ),
        (
            "dense write of random signs everywhere",
            Box::new(|n, r| {
                let w = Array2::from_shape_fn((N, N), |_| (r.uniform() * 2.0 - 1.0) as f32);
                let done = n.set_weights_dense("hh", w.view()).unwrap();
                assert!(done.refused > 0 && done.created > 0, "{done:?}");
            }),
        ),
        (
            "coo write",
            Box::new(|n, r| {
                let mut coo = Coo::default();
                for _ in 0..200 {
                    coo.pre.push(r.below(N as u64) as u32);
                    coo.post.push(r.below(N as u64) as u32);
                    coo.weight.push((r.uniform() * 4.0 - 2.0) as f32);
                }
                n.set_weights_coo("hh", &coo).unwrap();
            }),
        ),
        (
            "single writes of the wrong sign",
            Box::new(|n, _| {
                let (pre, post) = {
                    let s = &n.projection("hh").unwrap().store();
                    let k = (0..s.len()).find(|&k| s.sign[k] == 1).unwrap();
                    s.pair(k)
                };
                n.set_weight("hh", pre, post, -5.0).unwrap();
                assert_eq!(
                    n.weight("hh", pre, post).unwrap(),
                    Some(0.0),
                    "Dale: a wrong sign gives 0"
                );
            }),
        ),
        (
            "lesions",
            Box::new(|n, _| {
                n.lesion_selection("hh", &Selection::FromPre(5), SignFilter::Both)
                    .unwrap();
                n.lesion_selection("hh", &Selection::Below(0.05), SignFilter::Inhibitory)
                    .unwrap();
            }),
        ),
        (
            "balance on",
            Box::new(|n, _| {
                n.set_balance("hh", true).unwrap();
            }),
        ),
        (
            "randomize under balance",
            Box::new(|n, _| {
                n.adjust("hh", &Adjuster::Randomize(normal(1.0)), SignFilter::Excitatory)
                    .unwrap();
            }),
        ),
    ];
    for (name, op) in &ops {
        op(&mut net, &mut rng);
        assert_constraints(&net, &sparsity, name);
    }
    // balance holds after the last change: every post neuron with live
    // inputs of both signs (from the store's signs, not the weights) has
    // inhibition cancelling excitation, and there are many such rows
    let s = net.projection("hh").unwrap().store();
    let mut has = [(false, false); N];
    for k in 0..s.len() {
        let post = s.pair(k).1 as usize;
        match s.sign[k] {
            1 => has[post].0 = true,
            -1 => has[post].1 = true,
            _ => {}
        }
    }
    let expected = has.iter().filter(|&&(e, i)| e && i).count();
    assert!(
        expected >= N * 3 / 4,
        "only {expected} of {N} rows have inputs of both signs"
    );
    let d = net.weights_dense("hh").unwrap();
    let mut checked = 0;
    for post in 0..N {
        let row = d.row(post);
        let e: f32 = row.iter().filter(|&&w| w > 0.0).sum();
        let i: f32 = row.iter().filter(|&&w| w < 0.0).sum();
        if e > 0.0 && i < 0.0 {
            assert!((e + i).abs() < 1e-4 * e, "post {post}: {e} + {i}");
            checked += 1;
        }
    }
    assert_eq!(
        checked, expected,
        "rows checked (weights of both signs) vs rows with inputs of both signs"
    );
}

#[test]
fn dale_holds_after_randomize_and_writes_of_both_signs() {
    let (mut net, _) = masked(true);
    net.adjust("hh", &Adjuster::Randomize(normal(1.0)), SignFilter::Both)
        .unwrap();
    let s = &net.projection("hh").unwrap().store();
    let live = (0..s.len()).filter(|&k| s.sign[k] != 0).count();
    let agree = (0..s.len())
        .filter(|&k| s.sign[k] != 0 && f32::from(s.sign[k]) * s.weight[k] > 0.0)
        .count();
    assert_eq!(agree, live, "randomize keeps every sign and magnitudes are nonzero");
    // perturbing with wide noise crosses zero for many synapses: those become 0, never flipped
    net.adjust("hh", &Adjuster::Perturb(normal(3.0)), SignFilter::Both)
        .unwrap();
    let s = &net.projection("hh").unwrap().store();
    let zeros = (0..s.len()).filter(|&k| s.sign[k] != 0 && s.weight[k] == 0.0).count();
    assert!(zeros > live / 10, "{zeros} of {live} synapses hit zero");
    assert!((0..s.len()).all(|k| f32::from(s.sign[k]) * s.weight[k] >= 0.0));
    // Free signs are refused under Dale's law
    let e = net
        .adjust_with("hh", &Adjuster::Scale(-1.0), SignFilter::Both, SignPolicy::Free)
        .unwrap_err();
    assert!(e.to_string().contains("Dale"), "{e}");
}

#[test]
fn without_dale_signs_follow_weights_only_when_asked() {
    let mut net = Network::new(1.0, 1).unwrap();
    net.add_population(PopulationSpec::new("h", 10, relu())).unwrap();
    net.connect(
        ProjectionSpec::new("hh", "h", "h", Strategy::AllToAll).weight(Distribution::Uniform { low: -1.0, high: 1.0 }),
    )
    .unwrap();
    assert!(
        !net.projection("hh").unwrap().store().dale,
        "signs of the weights' own: no Dale"
    );
    let before = net.weights_dense("hh").unwrap();
    net.adjust("hh", &Adjuster::Scale(-1.0), SignFilter::Both).unwrap();
    assert!(
        net.weights_dense("hh").unwrap().iter().all(|&w| w == 0.0),
        "Keep: flips give 0"
    );
    net.set_weights_dense("hh", before.view()).unwrap();
    net.adjust_with("hh", &Adjuster::Scale(-1.0), SignFilter::Both, SignPolicy::Free)
        .unwrap();
    assert_eq!(net.weights_dense("hh").unwrap(), before.mapv(|w| -w));
    // a single write of the other sign is taken as is
    net.set_weight("hh", 1, 2, 0.75).unwrap();
    net.set_weight("hh", 1, 2, -0.25).unwrap();
    assert_eq!(net.weight("hh", 1, 2).unwrap(), Some(-0.25));
}

fn spiking_net(compact: bool) -> Network {
    let mut net = Network::new(0.1, 5).unwrap();
    net.rounding = cortecs::network::Rounding::Nearest; // delays drawn from a distribution
    let lif = ModelKind::Lif {
        synapse: SynapseKind::CurrExp,
    };
    net.add_population(PopulationSpec::new("a", 80, lif.clone()).polarity(PolaritySpec::ExcitatoryFraction(0.75)))
        .unwrap();
    net.add_population(PopulationSpec::new("b", 50, lif)).unwrap();
    net.connect(
        ProjectionSpec::new(
            "ab",
            "a",
            "b",
            Strategy::FixedProbability {
                p: 0.3,
                equalize_efferents: false,
            },
        )
        .weight(Distribution::Uniform { low: 1.0, high: 5.0 })
        .delay(Distribution::Uniform { low: 0.1, high: 2.0 })
        .compact(compact),
    )
    .unwrap();
    net
}

#[test]
fn dense_coo_and_csr_round_trips_are_exact() {
    for (net, name) in [(masked(true).0, "hh"), (spiking_net(true), "ab")] {
        let mut net = net;
        let d = net.weights_dense(name).unwrap();
        let coo = net.weights_coo(name).unwrap();
        let csr = net.weights_csr(name).unwrap();
        // CSR and COO describe the same matrix as the dense read
        let mut from_csr = Array2::<f32>::zeros(d.dim());
        let c = csr.to_coo().unwrap();
        for i in 0..c.pre.len() {
            from_csr[[c.post[i] as usize, c.pre[i] as usize]] += c.weight[i];
        }
        assert_eq!(from_csr, d);
        assert_eq!(c.pre.len(), coo.pre.len());
        // writing back what was read changes nothing, bit for bit
        let before = net.projection(name).unwrap().store().clone();
        let done = net.set_weights_dense(name, d.view()).unwrap();
        assert_eq!((done.created, done.refused), (0, 0));
        assert_eq!(net.projection(name).unwrap().store().weight, before.weight);
        net.set_weights_coo(name, &coo).unwrap();
        net.set_weights_csr(name, &csr).unwrap();
        assert_eq!(net.projection(name).unwrap().store(), &before);
        // a new matrix (sign-correct values on the existing synapses) reads back exactly
        let mut rng = Stream::from_seed(21);
        let new = d.mapv(|w| {
            if w == 0.0 {
                0.0
            } else {
                w.signum() * (rng.uniform() as f32 + 0.01)
            }
        });
        net.set_weights_dense(name, new.view()).unwrap();
        assert_eq!(net.weights_dense(name).unwrap(), new);
        let mut c2 = net.weights_coo(name).unwrap();
        c2.weight.iter_mut().for_each(|w| *w *= 0.5);
        net.set_weights_coo(name, &c2).unwrap();
        assert_eq!(net.weights_coo(name).unwrap(), c2);
    }
}

#[test]
fn dense_write_creates_synapses_where_masks_allow() {
    let (mut net, sparsity) = masked(true);
    let live_before = net.projection("hh").unwrap().store().live();
    let full = Array2::from_elem((N, N), 0.5f32);
    let done = net.set_weights_dense("hh", full.view()).unwrap();
    // allowed: sparsity ones off the diagonal; inhibitory pre neurons refuse a positive weight (Dale)
    let allowed_exc = (0..N)
        .flat_map(|post| (0..48).map(move |pre| (post, pre)))
        .filter(|&(post, pre)| pre != post && sparsity[[post, pre]] == 1.0)
        .count() as u64;
    let s = &net.projection("hh").unwrap().store();
    let exc_live = (0..s.len()).filter(|&k| s.sign[k] == 1).count() as u64;
    assert_eq!(exc_live, allowed_exc);
    assert!(done.created > 0 && done.refused > 0);
    assert!(s.live() > live_before);
    assert_constraints(&net, &sparsity, "after dense write");
}

#[test]
fn wrong_shapes_and_names_are_errors() {
    let (mut net, _) = masked(true);
    let e = net.set_weights_dense("hh", Array2::zeros((3, 4)).view()).unwrap_err();
    assert!(
        e.to_string().contains("60 x 60") && e.to_string().contains("3 x 4"),
        "{e}"
    );
    let e = net.set_sparsity_mask("hh", Array2::zeros((60, 59)).view()).unwrap_err();
    assert!(e.to_string().contains("sparsity"), "{e}");
    let e = net
        .set_weights_dense("nope", Array2::zeros((60, 60)).view())
        .unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
    let e = net.set_weight("hh", 0, 0, 1.0).unwrap_err();
    assert!(e.to_string().contains("no synapse"), "{e}");
    let e = net.set_weight("hh", 0, 99, 1.0).unwrap_err();
    assert!(e.to_string().contains("outside"), "{e}");
    let e = net
        .adjust("hh", &Adjuster::Prune(Selection::Fraction(1.5)), SignFilter::Both)
        .unwrap_err();
    assert!(e.to_string().contains("[0, 1]"), "{e}");
    let e = net
        .adjust("hh", &Adjuster::Clip { min: 1.0, max: 0.0 }, SignFilter::Both)
        .unwrap_err();
    assert!(e.to_string().contains("min <= max"), "{e}");
    let bad = Distribution::Normal { mean: 0.0, std: -1.0 };
    assert!(net.adjust("hh", &Adjuster::Perturb(bad), SignFilter::Both).is_err());
    let coo = Coo {
        pre: vec![1, 2],
        post: vec![1],
        weight: vec![1.0, 1.0],
    };
    assert!(net.set_weights_coo("hh", &coo).is_err());
    let mut bad_mask = ProjectionSpec::new("x", "h", "h", Strategy::AllToAll).sparsity_mask(Array2::zeros((2, 2)));
    let e = net.add_projection(bad_mask.clone()).unwrap_err();
    assert!(e.to_string().contains("60 x 60"), "{e}");
    bad_mask.masks.sparsity = None;
    bad_mask = bad_mask.ei_per_pre(vec![1.0; 3]);
    assert!(net.add_projection(bad_mask).is_err());
}

/// Every synapse of each sign, as (pre, post) -> weight.
fn by_sign(net: &Network, name: &str, sign: i8) -> Vec<(u32, u32, u32)> {
    let s = &net.projection(name).unwrap().store();
    let mut v: Vec<(u32, u32, u32)> = (0..s.len())
        .filter(|&k| s.sign[k] == sign)
        .map(|k| {
            let (a, b) = s.pair(k);
            (a, b, s.weight[k].to_bits())
        })
        .collect();
    v.sort_unstable();
    v
}

#[test]
fn each_adjuster_restricted_to_one_sign_leaves_the_other_untouched() {
    let adjusters = [
        Adjuster::Randomize(Distribution::Uniform { low: 0.0, high: 2.0 }),
        Adjuster::Scale(3.0),
        Adjuster::Perturb(normal(0.2)),
        Adjuster::Clip { min: -0.2, max: 0.2 },
        Adjuster::Prune(Selection::Fraction(0.5)),
        Adjuster::Prune(Selection::Below(2.0)),
        Adjuster::Reapply,
    ];
    for a in &adjusters {
        for (filter, kept, changed) in [(SignFilter::Excitatory, -1, 1), (SignFilter::Inhibitory, 1, -1)] {
            for (net, name) in [(masked(true).0, "hh"), (spiking_net(true), "ab")] {
                let mut net = net;
                let before_kept = by_sign(&net, name, kept);
                let before_changed = by_sign(&net, name, changed);
                net.adjust(name, a, filter).unwrap();
                assert!(
                    by_sign(&net, name, kept) == before_kept,
                    "{a:?} on {filter:?} touched the others"
                );
                assert!(
                    by_sign(&net, name, changed) != before_changed,
                    "{a:?} on {filter:?} did nothing"
                );
            }
        }
    }
}

#[test]
fn statistics_equal_values_computed_from_the_matrix() {
    let net = spiking_net(true);
    let d = net.weights_dense("ab").unwrap();
    // weights are drawn from [1, 5): every synapse is a nonzero entry (no multapses)
    let pol = &net.population("a").unwrap().polarity;
    for filter in [SignFilter::Excitatory, SignFilter::Inhibitory, SignFilter::Both] {
        let vals: Vec<f64> = d
            .indexed_iter()
            .filter(|&((_, pre), &w)| {
                w != 0.0
                    && match filter {
                        SignFilter::Excitatory => pol[pre] == Polarity::Excitatory,
                        SignFilter::Inhibitory => pol[pre] == Polarity::Inhibitory,
                        SignFilter::Both => true,
                    }
            })
            .map(|(_, &w)| f64::from(w))
            .collect();
        let n = vals.len() as f64;
        let mean = vals.iter().sum::<f64>() / n;
        let std = (vals.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        let st = net.weight_stats("ab", filter).unwrap();
        assert_eq!(st.count, vals.len() as u64);
        assert!((st.mean - mean).abs() < 1e-9 * mean.abs().max(1.0), "{filter:?}");
        assert!((st.std - std).abs() < 1e-6, "{filter:?}: {} vs {std}", st.std);
        assert_eq!(st.min, vals.iter().copied().fold(f64::INFINITY, f64::min));
        assert_eq!(st.max, vals.iter().copied().fold(f64::NEG_INFINITY, f64::max));
        let edges = [-5.0, -3.0, -1.0, 0.0, 1.0, 3.0, 5.0];
        let h = net.weight_histogram("ab", filter, &edges).unwrap();
        let mut want = vec![0u64; edges.len() - 1];
        for &x in &vals {
            if let Some(b) = (0..edges.len() - 1).find(|&b| x >= edges[b] && x < edges[b + 1]) {
                want[b] += 1;
            }
        }
        assert_eq!(h, want, "{filter:?}");
    }
    let in_deg: Vec<u32> = d
        .rows()
        .into_iter()
        .map(|r| r.iter().filter(|&&w| w != 0.0).count() as u32)
        .collect();
    let out_deg: Vec<u32> = d
        .columns()
        .into_iter()
        .map(|c| c.iter().filter(|&&w| w != 0.0).count() as u32)
        .collect();
    assert_eq!(net.in_degree("ab").unwrap(), in_deg);
    assert_eq!(net.out_degree("ab").unwrap(), out_deg);
}

/// 1000 x 1000 all-to-all rate projection: 1 M synapses.
fn million(compact: bool) -> Network {
    let mut net = Network::new(1.0, 2).unwrap();
    net.add_population(PopulationSpec::new(
        "h",
        1000,
        ModelKind::Rate {
            activation: Activation::Identity,
        },
    ))
    .unwrap();
    net.connect(
        ProjectionSpec::new("hh", "h", "h", Strategy::AllToAll)
            .weight(Distribution::Uniform {
                low: -0.001,
                high: 0.001,
            })
            .compact(compact),
    )
    .unwrap();
    net.set("h", "v", &View::All, Distribution::Uniform { low: -1.0, high: 1.0 })
        .unwrap();
    net
}

fn bits(a: &Array2<f32>) -> Vec<u32> {
    a.iter().map(|w| w.to_bits()).collect()
}

#[test]
fn one_lesion_in_a_million_changes_one_weight_and_the_next_step() {
    let mut net = million(true);
    assert_eq!(net.projection("hh").unwrap().store().live(), 1_000_000);
    let mut reference = net.clone();
    let before = net.weights_dense("hh").unwrap();
    net.lesion("hh", 123, 456).unwrap();
    let after = net.weights_dense("hh").unwrap();
    let (b, a) = (bits(&before), bits(&after));
    let differ: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    assert_eq!(differ, vec![456 * 1000 + 123], "exactly W[456, 123] differs");
    assert_eq!(after[[456, 123]], 0.0);
    // the next step that reads the rates sees it (the first computes r = f(v)):
    // only post neuron 456 moves differently
    net.run_steps(2);
    reference.run_steps(2);
    let (v, v_ref) = (
        net.get("h", "v", &View::All).unwrap(),
        reference.get("h", "v", &View::All).unwrap(),
    );
    let moved: Vec<usize> = (0..1000).filter(|&i| v[i].to_bits() != v_ref[i].to_bits()).collect();
    assert_eq!(moved, vec![456]);
    // one weight edited: the same
    let mut net = million(true);
    net.set_weight("hh", 7, 8, 0.5).unwrap();
    let after = net.weights_dense("hh").unwrap();
    let differ = bits(&after).iter().zip(&b).filter(|(x, y)| x != y).count();
    assert_eq!(differ, 1);
    assert_eq!(after[[8, 7]], 0.5);
}

#[test]
fn one_lesion_by_entity_in_a_million_mirrored_synapses() {
    let mut sim = Simulation::from_network(million(false));
    sim.build().unwrap();
    let before = sim.network().unwrap().weights_dense("hh").unwrap();
    let e = sim.synapse_entities("hh", 321, 654).unwrap();
    assert_eq!(e.len(), 1);
    sim.world.despawn(e[0]);
    sim.run_steps(1).unwrap();
    let after = sim.network().unwrap().weights_dense("hh").unwrap();
    let differ: Vec<usize> = (0..after.len())
        .filter(|&i| after.as_slice().unwrap()[i].to_bits() != before.as_slice().unwrap()[i].to_bits())
        .collect();
    assert_eq!(differ, vec![654 * 1000 + 321]);
}

#[test]
fn masks_can_be_set_after_construction_and_growth_is_queryable() {
    let mut net = spiking_net(true);
    let live = net.projection("ab").unwrap().store().live();
    let mask = Array2::from_shape_fn((50, 80), |(post, pre)| f32::from(u8::from((post + pre) % 2 == 0)));
    let done = net.set_sparsity_mask("ab", mask.view()).unwrap();
    assert!(done.removed > 0);
    assert_eq!(net.projection("ab").unwrap().store().live(), live - done.removed);
    assert_eq!(net.projection("ab").unwrap().store().removed, 0, "tombstones dropped");
    let d = net.weights_dense("ab").unwrap();
    assert!(
        d.indexed_iter()
            .all(|((post, pre), &w)| w == 0.0 || mask[[post, pre]] == 1.0)
    );
    // E/I mask per synapse: every synapse onto even posts inhibitory
    let ei = Array2::from_shape_fn((50, 80), |(post, _)| if post % 2 == 0 { -1.0f32 } else { 1.0 });
    net.set_ei_mask("ab", ei.view()).unwrap();
    let s = &net.projection("ab").unwrap().store();
    for k in 0..s.len() {
        let (_, post) = s.pair(k);
        assert_eq!(s.sign[k], if post % 2 == 0 { -1 } else { 1 });
        assert!(f32::from(s.sign[k]) * s.weight[k] >= 0.0);
    }
    assert!(matches!(net.masks("ab").unwrap().signs, Some(SignMask::PerSynapse(_))));
    let growth = Array2::from_shape_fn((50, 80), |(post, pre)| ((post * 80 + pre) % 10) as f32 / 10.0);
    net.set_growth_mask("ab", growth.view()).unwrap();
    assert_eq!(
        net.growth_probability("ab", 3, 2).unwrap(),
        0.0,
        "masked out by sparsity"
    );
    assert_eq!(net.growth_probability("ab", 4, 2).unwrap(), growth[[2, 4]]);
    assert!(net.growth_probability("ab", 80, 0).is_err());
    let summary = net.summary().to_string();
    assert!(
        summary.contains("ab") && summary.contains("sparsity") && summary.contains("growth"),
        "{summary}"
    );
}

#[test]
fn mask_generators_feed_projections() {
    use cortecs::mask::MultiAreaEI;
    use cortecs::mask::{MultiArea, RandomInput};
    let base = MultiArea {
        n_hidden: N,
        n_areas: 3,
        area_connectivities: ndarray::array![[1.0, 0.2, 0.0], [0.3, 1.0, 0.2], [0.0, 0.3, 1.0]],
        input_areas: vec![0],
        readout_areas: vec![2],
        n_input: 4,
        n_output: 2,
        self_connections: false,
    };
    let set = MultiAreaEI {
        base,
        exc_pct: 0.8,
        inter_area_connections: [true, true, false, false],
        inh_readout: false,
    }
    .generate(5)
    .unwrap();
    let signs: Vec<f32> = set.signs.as_ref().unwrap().iter().map(|&s| f32::from(s)).collect();
    let mut net = Network::new(1.0, 3).unwrap();
    net.add_population(PopulationSpec::new("h", N, relu())).unwrap();
    net.connect(
        ProjectionSpec::new("hh", "h", "h", Strategy::AllToAll)
            .weight(0.5)
            .sparsity_mask(set.recurrent.clone())
            .ei_per_pre(signs.clone()),
    )
    .unwrap();
    let d = net.weights_dense("hh").unwrap();
    for ((post, pre), &w) in d.indexed_iter() {
        assert_eq!(w != 0.0, set.recurrent[[post, pre]] == 1.0, "[{post}, {pre}]");
        assert_eq!(w, 0.5 * signs[pre] * set.recurrent[[post, pre]]);
    }
    let inp = RandomInput {
        n_hidden: N,
        n_input: 3,
        n_output: 1,
        input_fraction: 0.5,
        self_connections: true,
    }
    .generate(1)
    .unwrap();
    assert_eq!(inp.input.rows().into_iter().filter(|r| r.sum() > 0.0).count(), N / 2);
    // the masks plot as PNG images of the right size
    let dir = std::env::temp_dir().join(format!("cortecs-mask-plots-{}", std::process::id()));
    let files = set.plot(&dir, "multi_area", 3).unwrap();
    assert_eq!(files.len(), 3);
    let png = std::fs::read(&files[1]).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let (w, h) = (
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        u32::from_be_bytes(png[20..24].try_into().unwrap()),
    );
    assert_eq!((w, h), (3 * N as u32, 3 * N as u32));
    let _ = std::fs::remove_dir_all(&dir);
}
