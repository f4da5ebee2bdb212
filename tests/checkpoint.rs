//! Checkpoints: save / load of a whole network, bit-exact continuation,
//! masks and Dale's flag, closures, and every way a file can be wrong.

use cortecs::checkpoint::{self, FORMAT_VERSION, HEADER_LEN, MAGIC};
use cortecs::connect::ProbabilityFn;
use cortecs::population::PopulationState;
use cortecs::prelude::*;
use cortecs::projection::Adjuster;
use cortecs::projection::MaskSource;
use cortecs::rng::Stream;
use cortecs::store::SignFilter;
use cortecs::workloads;
use std::path::{Path, PathBuf};

/// A fresh scratch folder for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cortecs-checkpoint-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn lif(name: &str, n: usize, synapse: SynapseKind, polarity: PolaritySpec) -> PopulationSpec {
    PopulationSpec::new(name, n, ModelKind::Lif { synapse })
        .param(
            "v_init",
            Distribution::Uniform {
                low: -65.0,
                high: -50.0,
            },
        )
        .polarity(polarity)
        .record_spikes(true)
}

/// A spiking network with every kind of population, Poisson drives,
/// per-synapse delays of 2..30 steps, recurrent E/I, lesions and a `set`.
fn spiking_net() -> Network {
    let mut net = Network::new(0.1, 11).unwrap();
    net.rounding = cortecs::network::Rounding::Nearest; // delays drawn from a distribution
    // 1500 neurons: two chunks, two noise streams
    net.add_population(lif("exc", 1500, SynapseKind::CurrExp, PolaritySpec::Excitatory))
        .unwrap();
    net.add_population(lif("inh", 400, SynapseKind::CondExp, PolaritySpec::Inhibitory))
        .unwrap();
    net.add_population(
        PopulationSpec::new(
            "ad",
            200,
            ModelKind::AdEx {
                synapse: SynapseKind::CurrAlpha,
            },
        )
        .record_spikes(true),
    )
    .unwrap();
    net.add_population(PopulationSpec::new("src", 100, ModelKind::PoissonSource).param("rate", 40.0))
        .unwrap();
    let mut stim = PopulationSpec::new("stim", 10, ModelKind::SpikeSource);
    stim.spike_times = Some(Sequence::Same(vec![1.0, 5.0, 12.5, 40.0, 41.0]));
    net.add_population(stim).unwrap();
    let uniform = |low, high| Distribution::Uniform { low, high };
    let fp = |p| Strategy::FixedProbability {
        p,
        equalize_efferents: false,
    };
    net.add_projection(
        ProjectionSpec::new("ee", "exc", "exc", fp(0.02))
            .weight(uniform(10.0, 40.0))
            .delay(uniform(0.2, 3.0)),
    )
    .unwrap();
    net.add_projection(
        ProjectionSpec::new("ei", "exc", "inh", Strategy::FixedInDegree { k: 20 })
            .weight(2.0)
            .delay(1.0)
            .compact(true),
    )
    .unwrap();
    net.add_projection(
        ProjectionSpec::new("ie", "inh", "exc", fp(0.05))
            .weight(60.0)
            .delay(uniform(0.2, 1.5)),
    )
    .unwrap();
    net.add_projection(ProjectionSpec::new("ii", "inh", "inh", fp(0.1)).weight(1.0))
        .unwrap();
    net.add_projection(
        ProjectionSpec::new("src_exc", "src", "exc", Strategy::FixedOutDegree { k: 10 })
            .weight(50.0)
            .delay(0.3),
    )
    .unwrap();
    net.add_projection(
        ProjectionSpec::new("stim_ad", "stim", "ad", Strategy::AllToAll)
            .weight(200.0)
            .delay("0.5 + 0.01 * j"),
    )
    .unwrap();
    net.add_projection(
        ProjectionSpec::new("ad_inh", "ad", "inh", fp(0.1))
            .weight(1.0)
            .excitatory_ratio(0.7)
            .delay(2.0),
    )
    .unwrap();
    net.build_pending().unwrap();
    for (pop, rate, weight) in [("exc", 9000.0, 30.0), ("inh", 5000.0, 1.5), ("ad", 2000.0, 300.0)] {
        net.add_drive(pop, PoissonDrive { rate, weight }).unwrap();
    }
    net.add_drive(
        "exc",
        PoissonDrive {
            rate: 1000.0,
            weight: -20.0,
        },
    )
    .unwrap();
    // lesions: tombstones in the store
    let ee = net.projection_mut("ee").unwrap();
    for k in [0, 7, 99] {
        ee.remove(k);
    }
    net.set("exc", "v", &View::Range(0..50), -52.0).unwrap();
    net.set("inh", "v", &View::All, Distribution::Normal { mean: -60.0, std: 2.0 })
        .unwrap();
    net
}

/// A CTRNN-style rate network: dense and sparse projections, batch 3,
/// pre- and post-activation noise, a lesion and a kernel edited behind the store.
fn rate_net() -> Network {
    let mut net = Network::new(1.0, 5).unwrap();
    let rate = |name: &str, n: usize, activation| {
        PopulationSpec::new(name, n, ModelKind::Rate { activation })
            .param("tau", 10.0)
            .batch(3)
    };
    net.add_population(rate("in", 30, Activation::Identity).param("tau", 1.0))
        .unwrap();
    let mut hid = rate("hid", 1100, Activation::Tanh).param("bias", Distribution::Normal { mean: 0.0, std: 0.1 });
    hid.pre_noise = 0.05;
    hid.post_noise = 0.02;
    net.add_population(hid).unwrap();
    net.add_population(rate("out", 5, Activation::Identity)).unwrap();
    let w = |s: f64| Distribution::Normal { mean: 0.0, std: s };
    net.add_projection(ProjectionSpec::new("w_in", "in", "hid", Strategy::AllToAll).weight(w(0.3)))
        .unwrap();
    net.add_projection(
        ProjectionSpec::new(
            "w_hid",
            "hid",
            "hid",
            Strategy::FixedProbability {
                p: 0.05,
                equalize_efferents: false,
            },
        )
        .weight(w(0.2)),
    )
    .unwrap();
    net.add_projection(ProjectionSpec::new("w_out", "hid", "out", Strategy::AllToAll).weight(w(0.05)))
        .unwrap();
    net.build_pending().unwrap();
    let out = net.projection_mut("w_out").unwrap();
    assert!(out.dense.is_some());
    out.remove(3);
    out.set_weight(10, 0.5);
    // an edit of the kernel that the store does not know: the checkpoint must keep it
    let w_in = net.projection_mut("w_in").unwrap();
    w_in.dense.as_mut().unwrap()[[0, 0]] += 1.0;
    if let PopulationState::Rate(s) = &mut net.populations[0].state {
        for (k, x) in s.input.iter_mut().enumerate() {
            *x = (k as f32 * 0.37).sin();
        }
    }
    net
}

fn brunel_net() -> Network {
    let mut net = workloads::brunel(3, 800, 80, false).unwrap();
    for p in &mut net.populations {
        p.spike_record = Some(Vec::new());
    }
    net
}

fn bits64(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn bits32(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Every state array, spike and weight of `a` and `b` equal bit for bit.
fn assert_bit_identical(a: &Network, b: &Network) {
    assert_eq!(a.step, b.step);
    assert_eq!(a.set_count, b.set_count);
    assert_eq!(a.populations.len(), b.populations.len());
    for (p, q) in a.populations.iter().zip(&b.populations) {
        let name = &p.name;
        assert_eq!(name, &q.name);
        match (&p.state, &q.state) {
            (PopulationState::Spiking(s), PopulationState::Spiking(t)) => {
                for (x, y, what) in [
                    (&s.v, &t.v, "v"),
                    (&s.w, &t.w, "w"),
                    (&s.g_e, &t.g_e, "g_e"),
                    (&s.g_i, &t.g_i, "g_i"),
                    (&s.x_e, &t.x_e, "x_e"),
                    (&s.x_i, &t.x_i, "x_i"),
                ] {
                    assert_eq!(bits64(x), bits64(y), "{name}.{what}");
                }
                assert_eq!(s.refractory, t.refractory, "{name}.refractory");
            }
            (PopulationState::Rate(s), PopulationState::Rate(t)) => {
                assert_eq!(bits32(&s.v), bits32(&t.v), "{name}.v");
                assert_eq!(bits32(&s.r), bits32(&t.r), "{name}.r");
                assert_eq!(bits32(&s.input), bits32(&t.input), "{name}.input");
            }
            (x, y) => assert_eq!(x, y, "{name} state"),
        }
        for (x, y) in p.params.iter().zip(&q.params) {
            assert_eq!(bits64(x), bits64(y), "{name} params");
        }
        assert_eq!(bits64(&p.current), bits64(&q.current), "{name}.current");
        assert_eq!(p.spikes, q.spikes, "{name}.spikes");
        assert_eq!(p.spike_record, q.spike_record, "{name}.spike_record");
        assert_eq!(p.spike_count, q.spike_count, "{name}.spike_count");
        assert_eq!(p.last_spike, q.last_spike, "{name}.last_spike");
        assert_eq!(p.drives, q.drives, "{name}.drives");
    }
    assert_eq!(a.projections.len(), b.projections.len());
    for (p, q) in a.projections.iter().zip(&b.projections) {
        let name = &p.name;
        assert_eq!(bits32(&p.store().weight), bits32(&q.store().weight), "{name} weights");
        assert_eq!(p.store().sign, q.store().sign, "{name} signs");
        assert_eq!(p.store().minor, q.store().minor, "{name} structure");
        assert_eq!(p.store().row_ptr, q.store().row_ptr, "{name} structure");
        assert_eq!(p.store().delay, q.store().delay, "{name} delays");
        assert_eq!(p.store().removed, q.store().removed, "{name} tombstones");
        assert_eq!(p.store().dale, q.store().dale, "{name} Dale");
        assert_eq!(p.masks(), q.masks(), "{name} masks");
        assert_eq!(
            p.dense
                .as_ref()
                .map(|d| d.iter().map(|x| x.to_bits()).collect::<Vec<_>>()),
            q.dense
                .as_ref()
                .map(|d| d.iter().map(|x| x.to_bits()).collect::<Vec<_>>()),
            "{name} dense kernel"
        );
    }
}

/// Runs `n + m` steps straight, and `n` steps, save, load, `m` steps; both must agree bit for bit.
fn check_continuation(test: &str, make: fn() -> Network, n: u64, m: u64) {
    let dir = scratch(test);
    let mut straight = make();
    straight.run_steps(n + m);
    let mut first = make();
    first.run_steps(n);
    let path = dir.join("mid.ckpt");
    let written = first.save(&path).unwrap();
    assert_eq!(written, std::fs::metadata(&path).unwrap().len());
    assert!(!dir.join("mid.ckpt.tmp").exists());
    drop(first);
    let mut resumed = Network::load(&path).unwrap();
    assert_eq!(resumed.step, n);
    resumed.run_steps(m);
    assert_bit_identical(&straight, &resumed);
    // and everything the checkpoint holds (rings, streams, scratch) agrees too
    straight.save(dir.join("a.ckpt")).unwrap();
    resumed.save(dir.join("b.ckpt")).unwrap();
    assert!(std::fs::read(dir.join("a.ckpt")).unwrap() == std::fs::read(dir.join("b.ckpt")).unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn spiking_continuation_is_bit_identical() {
    let mut probe = spiking_net();
    probe.run_steps(600);
    for p in &probe.populations {
        assert!(
            p.spike_count > 0,
            "population {} is silent: the test would prove little",
            p.name
        );
    }
    check_continuation("spiking", spiking_net, 300, 300);
}

#[test]
fn brunel_continuation_is_bit_identical() {
    check_continuation("brunel", brunel_net, 250, 250);
}

#[test]
fn rate_continuation_is_bit_identical() {
    check_continuation("rate", rate_net, 40, 40);
}

#[test]
fn save_load_save_gives_the_same_bytes() {
    let dir = scratch("resave");
    for (k, make) in [spiking_net as fn() -> Network, rate_net, brunel_net]
        .into_iter()
        .enumerate()
    {
        let mut net = make();
        net.run_steps(20);
        let (a, b) = (dir.join(format!("{k}a.ckpt")), dir.join(format!("{k}b.ckpt")));
        let n = net.save(&a).unwrap();
        let m = Network::load(&a).unwrap().save(&b).unwrap();
        assert_eq!(n, m);
        assert!(std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(), "network {k}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn masks_and_dale_survive_the_round_trip() {
    let dir = scratch("masks");
    let mut net = Network::new(1.0, 3).unwrap();
    let n = 12;
    net.add_population(PopulationSpec::new(
        "a",
        n,
        ModelKind::Rate {
            activation: Activation::Relu,
        },
    ))
    .unwrap();
    let sparsity = ndarray::Array2::from_shape_fn((n, n), |(i, j)| f32::from(u8::from((i + 2 * j) % 3 != 0)));
    let ei = ndarray::Array2::from_shape_fn((n, n), |(_, j)| if j < 9 { 1.0f32 } else { -1.0 });
    let plast = ndarray::Array2::from_shape_fn((n, n), |(i, j)| ((i * j) % 5) as f32 / 4.0);
    net.connect(
        ProjectionSpec::new("rec", "a", "a", Strategy::AllToAll)
            .weight(Distribution::Uniform { low: 0.1, high: 1.0 })
            .self_connections(false)
            .sparsity_mask(sparsity.clone())
            .ei_mask(ei.clone())
            .plasticity_mask(plast.clone())
            .balance(true),
    )
    .unwrap();
    net.add_population(PopulationSpec::new(
        "b",
        4,
        ModelKind::Rate {
            activation: Activation::Tanh,
        },
    ))
    .unwrap();
    net.connect(
        ProjectionSpec::new("ab", "a", "b", Strategy::AllToAll)
            .weight(0.5)
            .ei_per_pre((0..n).map(|i| if i % 4 == 0 { -1.0 } else { 1.0 }).collect())
            .growth_mask(ndarray::Array2::from_elem((4, n), 0.25))
            .dale(false),
    )
    .unwrap();
    let before = net.projection("rec").unwrap().clone();
    assert!(before.masks().sparsity.is_some() && before.masks().signs.is_some() && before.masks().balance);
    assert!(before.store().dale);
    let path = dir.join("m.ckpt");
    net.save(&path).unwrap();
    let back = Network::load(&path).unwrap();
    let rec = back.projection("rec").unwrap();
    assert_eq!(rec.masks(), before.masks());
    assert_eq!(rec.store(), before.store());
    assert!(rec.store().dale && !rec.masks().self_connections && rec.masks().balance);
    // the spec keeps the arrays it was given
    match (&rec.spec.masks.sparsity, &rec.spec.masks.ei, &rec.spec.masks.plasticity) {
        (Some(MaskSource::Array(s)), Some(MaskSource::Array(e)), Some(MaskSource::Array(p))) => {
            assert_eq!((s, e, p), (&sparsity, &ei, &plast));
        }
        other => panic!("masks of the spec not restored: {other:?}"),
    }
    let ab = back.projection("ab").unwrap();
    assert_eq!(ab.masks(), net.projection("ab").unwrap().masks());
    assert!(!ab.store().dale);
    assert!(matches!(ab.spec.masks.ei, Some(MaskSource::PerPre(_))));
    // constraints still hold after loading: a wrong-sign write gives 0 under Dale
    let mut back = back;
    let rec = back.projection_mut("rec").unwrap();
    let k = (0..rec.store().len()).find(|&k| rec.store().sign[k] == 1).unwrap();
    rec.set_weight(k, -3.0);
    assert_eq!(rec.store().weight[k], 0.0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn closures_are_markers_in_built_projections_and_refused_in_pending_ones() {
    let dir = scratch("closures");
    let mut net = Network::new(0.1, 1).unwrap();
    net.add_population(lif("a", 50, SynapseKind::Delta, PolaritySpec::None))
        .unwrap();
    net.connect(
        ProjectionSpec::new(
            "by_closure",
            "a",
            "a",
            Strategy::IndexProbability {
                p: ProbabilityFn::of_pair(|i, j| if (i + j) % 3 == 0 { 0.5 } else { 0.0 }),
            },
        )
        .weight(Value::of_pair(|i, j| (i * 50 + j) as f64 * 0.01)),
    )
    .unwrap();
    let path = dir.join("c.ckpt");
    net.save(&path).unwrap();
    let back = Network::load(&path).unwrap();
    let p = back.projection("by_closure").unwrap();
    assert_eq!(p.store(), net.projection("by_closure").unwrap().store());
    assert_eq!(p.lost_closures, vec!["strategy".to_string(), "weight".to_string()]);
    for s in [&p.strategy, &p.spec.strategy] {
        assert!(
            matches!(s, Strategy::IndexProbability { p: ProbabilityFn::Lost(k) } if k == "pair"),
            "{s:?}"
        );
    }
    assert!(net.projection("by_closure").unwrap().check_rebuild().is_ok());
    let msg = p.check_rebuild().unwrap_err().to_string();
    assert!(
        msg.contains("by_closure") && msg.contains("Rust closure") && msg.contains("weight"),
        "{msg}"
    );
    // reapplying its strategy is refused, with the reason, and changes nothing
    let mut back = back;
    let store = back.projection("by_closure").unwrap().store().clone();
    let set_count = back.set_count;
    let msg = back
        .adjust("by_closure", &Adjuster::Reapply, SignFilter::Both)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("by_closure") && msg.contains("Rust closure"), "{msg}");
    assert_eq!(back.projection("by_closure").unwrap().store(), &store);
    assert_eq!(back.set_count, set_count);
    // the loaded network saves again and runs
    back.save(&path).unwrap();
    back.run_steps(10);

    // a pending projection with a closure cannot be built after loading: refused
    let before = std::fs::read(&path).unwrap();
    net.add_projection(ProjectionSpec::new("later", "a", "a", Strategy::AllToAll).delay(Value::of_pair(|_, _| 1.0)))
        .unwrap();
    let msg = net.save(&path).unwrap_err().to_string();
    assert!(
        msg.contains("later") && msg.contains("delay") && msg.contains("closure") && msg.contains("c.ckpt"),
        "{msg}"
    );
    assert!(std::fs::read(&path).unwrap() == before);
    assert!(!dir.join("c.ckpt.tmp").exists());
    // a pending projection without closures is kept and builds after loading
    net.pending.clear();
    net.add_projection(ProjectionSpec::new("later", "a", "a", Strategy::OneToOne).weight("0.1 * i"))
        .unwrap();
    net.save(&path).unwrap();
    let mut back = Network::load(&path).unwrap();
    assert_eq!(back.pending.len(), 1);
    back.build_pending().unwrap();
    net.build_pending().unwrap();
    assert_eq!(
        back.projection("later").unwrap().store(),
        net.projection("later").unwrap().store()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn reapply_after_load_draws_what_it_would_have_drawn() {
    let dir = scratch("reapply");
    let mut net = brunel_net();
    net.adjust("inh_exc", &Adjuster::Reapply, SignFilter::Both).unwrap();
    let path = dir.join("r.ckpt");
    net.save(&path).unwrap();
    let mut back = Network::load(&path).unwrap();
    assert_eq!(back.projection("inh_exc").unwrap().rebuilds, 1);
    for n in [&mut net, &mut back] {
        n.adjust("inh_exc", &Adjuster::Reapply, SignFilter::Both).unwrap();
        n.adjust("exc_exc", &Adjuster::Scale(0.5), SignFilter::Both).unwrap();
        n.run_steps(50);
    }
    assert_bit_identical(&net, &back);
    let _ = std::fs::remove_dir_all(&dir);
}

fn small_net() -> Network {
    let mut net = Network::new(0.1, 2).unwrap();
    net.rounding = cortecs::network::Rounding::Nearest; // delays drawn from a distribution
    net.add_population(lif(
        "e",
        30,
        SynapseKind::CurrExp,
        PolaritySpec::ExcitatoryFraction(0.8),
    ))
    .unwrap();
    let mut s = PopulationSpec::new("s", 3, ModelKind::SpikeSource);
    s.spike_times = Some(Sequence::Same(vec![0.5, 1.0]));
    net.add_population(s).unwrap();
    net.add_population(PopulationSpec::new("p", 4, ModelKind::PoissonSource).param("rate", 100.0))
        .unwrap();
    net.add_population(
        PopulationSpec::new(
            "r",
            6,
            ModelKind::Rate {
                activation: Activation::Tanh,
            },
        )
        .batch(2),
    )
    .unwrap();
    net.connect(
        ProjectionSpec::new(
            "ee",
            "e",
            "e",
            Strategy::FixedProbability {
                p: 0.2,
                equalize_efferents: false,
            },
        )
        .weight(30.0)
        .delay(Distribution::Uniform { low: 0.1, high: 0.8 }),
    )
    .unwrap();
    net.connect(ProjectionSpec::new("se", "s", "e", Strategy::AllToAll).weight(100.0))
        .unwrap();
    net.connect(
        ProjectionSpec::new("pe", "p", "e", Strategy::AllToAll)
            .weight(50.0)
            .delay(0.3),
    )
    .unwrap();
    net.connect(
        ProjectionSpec::new("rr", "r", "r", Strategy::AllToAll)
            .weight(0.3)
            .sparsity_mask(ndarray::Array2::from_shape_fn((6, 6), |(i, j)| {
                f32::from(u8::from(i != j + 1))
            })),
    )
    .unwrap();
    net.add_drive(
        "e",
        PoissonDrive {
            rate: 500.0,
            weight: 20.0,
        },
    )
    .unwrap();
    net.run_steps(15);
    net
}

fn header(version: u32, payload: &[u8]) -> Vec<u8> {
    let mut b = MAGIC.to_vec();
    b.extend_from_slice(&version.to_le_bytes());
    b.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    b.extend_from_slice(&checkpoint::checksum(payload).to_le_bytes());
    b.extend_from_slice(payload);
    b
}

fn load_err(path: &Path, bytes: &[u8]) -> String {
    std::fs::write(path, bytes).unwrap();
    let e = Network::load(path).expect_err("loading must fail").to_string();
    assert!(
        e.contains(&path.display().to_string()),
        "the message names the file: {e}"
    );
    e
}

#[test]
fn bad_files_are_clear_errors() {
    let dir = scratch("errors");
    let good_path = dir.join("good.ckpt");
    small_net().save(&good_path).unwrap();
    let good = std::fs::read(&good_path).unwrap();
    let path = dir.join("bad.ckpt");

    let missing = dir.join("missing.ckpt");
    let e = Network::load(&missing).unwrap_err().to_string();
    assert!(e.contains("missing.ckpt") && e.contains("cannot read"), "{e}");

    let png = [
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
    ];
    let e = load_err(&path, &png);
    assert!(e.contains("not a cortecs checkpoint") && e.contains("PNG"), "{e}");
    let e = load_err(&path, b"pre post weight\n0 1 0.5\n");
    assert!(e.contains("not a cortecs checkpoint"), "{e}");
    let e = load_err(&path, b"");
    assert!(e.contains("not a cortecs checkpoint"), "{e}");
    let mut wrong_magic = good.clone();
    wrong_magic[3] = b'X';
    let e = load_err(&path, &wrong_magic);
    assert!(e.contains("not a cortecs checkpoint"), "{e}");

    let mut future = good.clone();
    future[8..12].copy_from_slice(&7u32.to_le_bytes());
    let e = load_err(&path, &future);
    assert!(
        e.contains("newer format version 7") && e.contains(&format!("reads version {FORMAT_VERSION}")),
        "{e}"
    );

    for cut in [3, 8, 12, 20, HEADER_LEN - 1] {
        let e = load_err(&path, &good[..cut]);
        assert!(e.contains("truncated") && e.contains("header"), "{cut}: {e}");
    }
    for cut in [
        HEADER_LEN,
        HEADER_LEN + 1,
        HEADER_LEN + 100,
        good.len() / 2,
        good.len() - 1,
    ] {
        let e = load_err(&path, &good[..cut]);
        assert!(
            e.contains("truncated") && e.contains("announces a payload"),
            "{cut}: {e}"
        );
    }
    let mut longer = good.clone();
    longer.extend_from_slice(b"junk");
    let e = load_err(&path, &longer);
    assert!(e.contains("4 unexpected bytes"), "{e}");

    for at in [HEADER_LEN, HEADER_LEN + 57, good.len() / 2, good.len() - 1] {
        let mut flipped = good.clone();
        flipped[at] ^= 0x10;
        let e = load_err(&path, &flipped);
        assert!(e.contains("corrupt") && e.contains("checksum"), "{at}: {e}");
    }
    let mut bad_sum = good.clone();
    bad_sum[20] ^= 1;
    let e = load_err(&path, &bad_sum);
    assert!(e.contains("checksum"), "{e}");

    // a payload that hashes right but is not a network
    let e = load_err(&path, &header(FORMAT_VERSION, b"\x01\x02\x03"));
    assert!(e.contains("does not decode"), "{e}");
    // ... one that declares a string of 2^60 bytes: an error, not an allocation
    let mut payload = 0.1f64.to_le_bytes().to_vec();
    payload.extend_from_slice(&[2, 0, 253]);
    payload.extend_from_slice(&(1u64 << 60).to_le_bytes());
    let e = load_err(&path, &header(FORMAT_VERSION, &payload));
    assert!(e.contains("does not decode"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn no_byte_sequence_panics() {
    let dir = scratch("fuzz");
    let good_path = dir.join("good.ckpt");
    small_net().save(&good_path).unwrap();
    let good = std::fs::read(&good_path).unwrap();
    let path = dir.join("fuzz.ckpt");
    let mut rng = Stream::from_seed(42);
    // every truncation near the start, then every 7th length
    for cut in (0..good.len()).filter(|&c| c < 200 || c % 7 == 0) {
        std::fs::write(&path, &good[..cut]).unwrap();
        assert!(Network::load(&path).is_err(), "truncated at {cut}");
    }
    // random flips: the checksum catches them
    for _ in 0..300 {
        let mut b = good.clone();
        let at = rng.below(b.len() as u64) as usize;
        b[at] ^= 1 << rng.below(8);
        std::fs::write(&path, &b).unwrap();
        assert!(Network::load(&path).is_err(), "flip at {at}");
    }
    // random changes with the checksum recomputed: the decoder and the
    // consistency checks see them; whatever loads must also run
    let payload = &good[HEADER_LEN..];
    let (mut loaded, mut refused) = (0, 0);
    for round in 0..3000 {
        let mut p = payload.to_vec();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(p.len() as u64) as usize;
            if round % 2 == 0 {
                p[at] ^= 1 << rng.below(8);
            } else {
                p[at] = rng.below(256) as u8;
            }
        }
        std::fs::write(&path, header(FORMAT_VERSION, &p)).unwrap();
        match Network::load(&path) {
            Ok(mut net) => {
                net.run_steps(3);
                loaded += 1;
            }
            Err(_) => refused += 1,
        }
    }
    assert!(refused > 0 && loaded > 0, "{loaded} loaded, {refused} refused");
    // random garbage with a valid header
    for len in [0usize, 1, 5, 40, 300, 5000] {
        let p: Vec<u8> = (0..len).map(|_| rng.below(256) as u8).collect();
        std::fs::write(&path, header(FORMAT_VERSION, &p)).unwrap();
        assert!(Network::load(&path).is_err());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failed_save_leaves_the_existing_file_untouched() {
    let dir = scratch("failed-save");
    let net = small_net();
    let e = net.save(dir.join("no/such/folder/x.ckpt")).unwrap_err().to_string();
    assert!(e.contains("no/such/folder/x.ckpt") && e.contains("cannot save"), "{e}");

    // the target is a directory: refused, the directory is still there
    let target_dir = dir.join("is_a_dir");
    std::fs::create_dir(&target_dir).unwrap();
    assert!(net.save(&target_dir).is_err());
    assert!(target_dir.is_dir());
    assert!(!dir.join("is_a_dir.tmp").exists());

    // an existing checkpoint survives a save that cannot create its temporary file
    let path = dir.join("keep.ckpt");
    let mut other = Network::new(0.5, 9).unwrap();
    other
        .add_population(PopulationSpec::new("x", 3, ModelKind::PoissonSource))
        .unwrap();
    other.save(&path).unwrap();
    let before = std::fs::read(&path).unwrap();
    std::fs::create_dir(dir.join("keep.ckpt.tmp")).unwrap();
    let e = net.save(&path).unwrap_err().to_string();
    assert!(e.contains("keep.ckpt"), "{e}");
    assert!(std::fs::read(&path).unwrap() == before);
    std::fs::remove_dir(dir.join("keep.ckpt.tmp")).unwrap();
    // ... and is replaced whole by one that succeeds
    net.save(&path).unwrap();
    assert_eq!(Network::load(&path).unwrap().populations.len(), net.populations.len());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Size of a checkpoint of W2 (Brunel, 12,500 neurons, 15.6 M synapses):
/// `cargo test --release --test checkpoint -- --ignored --nocapture`.
#[test]
#[ignore]
fn w2_checkpoint_size() {
    let dir = scratch("w2");
    let mut net = workloads::brunel(1, 10_000, 1000, true).unwrap();
    net.run_steps(100);
    let path = dir.join("w2.ckpt");
    let t = std::time::Instant::now();
    let bytes = net.save(&path).unwrap();
    let saved = t.elapsed();
    let t = std::time::Instant::now();
    let back = Network::load(&path).unwrap();
    let loaded = t.elapsed();
    let synapses: u64 = back.projections.iter().map(|p| p.store().live()).sum();
    println!(
        "W2 checkpoint: {bytes} bytes ({:.1} MB, {:.2} bytes per synapse, {synapses} synapses), save {saved:.2?}, load {loaded:.2?}",
        bytes as f64 / 1e6,
        bytes as f64 / synapses as f64
    );
    let _ = std::fs::remove_dir_all(&dir);
}
