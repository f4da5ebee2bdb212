//! The user's operations, generated at random, and what each does to the
//! engine (through the Network API or through entities) and to the reference.

use super::reference::{E, I, RefProj, Syn, covers};
use super::setup::{MAX, array, code, dense, grid_bool, grid_factor, weight};
use cortecs::prelude::*;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::strategy::Strategy;
use std::path::Path;

/// Which projection: `ah` (a -> h) or `hh` (h -> h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum P {
    Ah,
    Hh,
}

impl P {
    pub fn k(self) -> usize {
        match self {
            P::Ah => 0,
            P::Hh => 1,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub enum F {
    E,
    I,
    Both,
}

impl F {
    fn filter(self) -> SignFilter {
        match self {
            F::E => SignFilter::Excitatory,
            F::I => SignFilter::Inhibitory,
            F::Both => SignFilter::Both,
        }
    }
}

#[derive(Clone, Debug)]
pub enum Sel {
    All,
    Pairs(Vec<(u8, u8)>),
    /// Threshold code (x 0.25).
    Below(u8),
    FromPre(u8),
    ToPost(u8),
    /// A random fraction (x 0.25): checked by its count, then taken from the engine.
    Fraction(u8),
}

#[derive(Clone, Debug)]
pub enum Adj {
    /// Factor code (x 0.5).
    Scale(i8),
    Clip(i8, i8),
    /// `TwoValued { p: 1 }`: every draw is the code's weight.
    RandomizeConst(i8),
    PerturbConst(i8),
    SymmetricConst(i8),
    /// Random draws: checked by their laws, then taken from the engine.
    RandomizeUniform,
    PerturbNormal,
    SymmetricUniform,
    Prune(Sel),
    Reapply,
}

#[derive(Clone, Debug)]
pub enum Op {
    SetWeight {
        p: P,
        pre: u8,
        post: u8,
        w: i8,
    },
    SetWeightEntity {
        p: P,
        pick: u8,
        w: i8,
    },
    Lesion {
        p: P,
        pre: u8,
        post: u8,
    },
    LesionEntity {
        p: P,
        pick: u8,
    },
    Create {
        p: P,
        pre: u8,
        post: u8,
        w: i8,
    },
    CreateEntity {
        p: P,
        pre: u8,
        post: u8,
        w: i8,
    },
    LesionSelection {
        p: P,
        sel: Sel,
        f: F,
    },
    Adjust {
        p: P,
        adj: Adj,
        f: F,
        free: bool,
    },
    SetDense {
        p: P,
        grid: Vec<i8>,
    },
    SetCoo {
        p: P,
        entries: Vec<(u8, u8, i8)>,
    },
    /// A CSR read, every weight times the code (x 0.5), written back.
    ScaleCsr {
        p: P,
        f: i8,
    },
    /// `weights_mut` (a host's own bulk write), every weight times the code (x 0.5).
    WeightsMut {
        p: P,
        f: i8,
    },
    SetSparsity {
        p: P,
        grid: Vec<bool>,
    },
    SetEiPerPre {
        p: P,
        signs: Vec<bool>,
    },
    SetEiMask {
        p: P,
        grid: Vec<bool>,
    },
    SetPlasticityMask {
        p: P,
        grid: Vec<u8>,
    },
    SetGrowthMask {
        p: P,
        grid: Vec<bool>,
    },
    SetSelfConnections {
        on: bool,
    },
    Grow {
        p: P,
    },
    Prune {
        p: P,
    },
    CompactStore {
        p: P,
    },
    Run {
        steps: u8,
    },
    SaveLoad,
}

fn proj() -> impl Strategy<Value = P> {
    prop_oneof![Just(P::Ah), Just(P::Hh)]
}

fn filter() -> impl Strategy<Value = F> {
    prop_oneof![Just(F::E), Just(F::I), Just(F::Both)]
}

/// Neuron indices up to one past the largest population (some out of range).
fn index() -> impl Strategy<Value = u8> {
    0u8..=MAX as u8
}

fn sel() -> impl Strategy<Value = Sel> {
    prop_oneof![
        Just(Sel::All),
        vec((index(), index()), 0..4).prop_map(Sel::Pairs),
        (0u8..=8).prop_map(Sel::Below),
        index().prop_map(Sel::FromPre),
        index().prop_map(Sel::ToPost),
        (0u8..=4).prop_map(Sel::Fraction),
    ]
}

fn adj() -> impl Strategy<Value = Adj> {
    prop_oneof![
        (-2i8..=4).prop_map(Adj::Scale),
        (code(), code()).prop_map(|(a, b)| Adj::Clip(a, b)),
        code().prop_map(Adj::RandomizeConst),
        code().prop_map(Adj::PerturbConst),
        code().prop_map(Adj::SymmetricConst),
        Just(Adj::RandomizeUniform),
        Just(Adj::PerturbNormal),
        Just(Adj::SymmetricUniform),
        sel().prop_map(Adj::Prune),
        Just(Adj::Reapply),
    ]
}

pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (proj(), index(), index(), code()).prop_map(|(p, pre, post, w)| Op::SetWeight { p, pre, post, w }),
        3 => (proj(), any::<u8>(), code()).prop_map(|(p, pick, w)| Op::SetWeightEntity { p, pick, w }),
        2 => (proj(), index(), index()).prop_map(|(p, pre, post)| Op::Lesion { p, pre, post }),
        2 => (proj(), any::<u8>()).prop_map(|(p, pick)| Op::LesionEntity { p, pick }),
        3 => (proj(), index(), index(), code()).prop_map(|(p, pre, post, w)| Op::Create { p, pre, post, w }),
        3 => (proj(), index(), index(), code()).prop_map(|(p, pre, post, w)| Op::CreateEntity { p, pre, post, w }),
        2 => (proj(), sel(), filter()).prop_map(|(p, sel, f)| Op::LesionSelection { p, sel, f }),
        4 => (proj(), adj(), filter(), any::<bool>()).prop_map(|(p, adj, f, free)| Op::Adjust { p, adj, f, free }),
        1 => (proj(), vec(code(), MAX * MAX)).prop_map(|(p, grid)| Op::SetDense { p, grid }),
        2 => (proj(), vec((index(), index(), code()), 0..6)).prop_map(|(p, entries)| Op::SetCoo { p, entries }),
        1 => (proj(), -2i8..=3).prop_map(|(p, f)| Op::ScaleCsr { p, f }),
        1 => (proj(), -2i8..=3).prop_map(|(p, f)| Op::WeightsMut { p, f }),
        1 => (proj(), grid_bool()).prop_map(|(p, grid)| Op::SetSparsity { p, grid }),
        1 => (proj(), vec(any::<bool>(), MAX)).prop_map(|(p, signs)| Op::SetEiPerPre { p, signs }),
        1 => (proj(), grid_bool()).prop_map(|(p, grid)| Op::SetEiMask { p, grid }),
        1 => (proj(), grid_factor()).prop_map(|(p, grid)| Op::SetPlasticityMask { p, grid }),
        1 => (proj(), grid_bool()).prop_map(|(p, grid)| Op::SetGrowthMask { p, grid }),
        1 => any::<bool>().prop_map(|on| Op::SetSelfConnections { on }),
        2 => proj().prop_map(|p| Op::Grow { p }),
        3 => proj().prop_map(|p| Op::Prune { p }),
        1 => proj().prop_map(|p| Op::CompactStore { p }),
        3 => (1u8..=4).prop_map(|steps| Op::Run { steps }),
        1 => Just(Op::SaveLoad),
    ]
}

/// The op with its neuron indices fitted to the case's projections: a
/// single pair or neuron modulo one past the size (so that an index out of
/// range, which must be refused, comes up now and then), pairs of a list
/// modulo the size.
pub fn fit(op: &Op, refs: &[RefProj; 2]) -> Op {
    let one = |x: u8, n: usize| (x as usize % (n + 1)) as u8;
    let each = |x: u8, n: usize| (x as usize % n) as u8;
    let sel = |s: &Sel, r: &RefProj| match s {
        Sel::Pairs(v) => Sel::Pairs(v.iter().map(|&(a, b)| (each(a, r.n_pre), each(b, r.n_post))).collect()),
        Sel::FromPre(i) => Sel::FromPre(one(*i, r.n_pre)),
        Sel::ToPost(j) => Sel::ToPost(one(*j, r.n_post)),
        other => other.clone(),
    };
    let mut op = op.clone();
    match &mut op {
        Op::SetWeight { p, pre, post, .. }
        | Op::Lesion { p, pre, post }
        | Op::Create { p, pre, post, .. }
        | Op::CreateEntity { p, pre, post, .. } => {
            let r = &refs[p.k()];
            (*pre, *post) = (one(*pre, r.n_pre), one(*post, r.n_post));
        }
        Op::SetCoo { p, entries } => {
            let r = &refs[p.k()];
            for e in entries.iter_mut() {
                (e.0, e.1) = (each(e.0, r.n_pre), each(e.1, r.n_post));
            }
            // now and then one entry out of range refuses the whole write
            if let Some(e) = entries.last_mut().filter(|e| e.2 == 8) {
                e.0 = r.n_pre as u8;
            }
        }
        Op::LesionSelection { p, sel: s, .. } => *s = sel(s, &refs[p.k()]),
        Op::Adjust {
            p, adj: Adj::Prune(s), ..
        } => *s = sel(s, &refs[p.k()]),
        _ => {}
    }
    op
}

/// The live pair number `pick` of the reference (post-major), if any.
fn pick(r: &RefProj, pick: u8) -> Option<(usize, usize)> {
    let live = r.live();
    (!live.is_empty()).then(|| live[pick as usize % live.len()])
}

fn ok_as<T: std::fmt::Debug, E: std::fmt::Display>(got: &Result<T, E>, want: bool, ctx: &str) {
    match got {
        Ok(v) if !want => panic!("{ctx}: the engine accepted ({v:?}); the reference refuses"),
        Err(e) if want => panic!("{ctx}: the engine refused ({e}); the reference accepts"),
        _ => {}
    }
}

/// Applies `op` to the engine and the reference. Returns false when the
/// op does not apply to this case (an entity op on a compact projection).
pub fn apply(sim: &mut Simulation, refs: &mut [RefProj; 2], op: &Op, dir: &Path, ctx: &str) -> bool {
    match op {
        Op::SetWeight { p, pre, post, w } => {
            let r = &mut refs[p.k()];
            let (pre, post, w) = (*pre as usize, *post as usize, weight(*w));
            let got = sim
                .network_mut()
                .unwrap()
                .set_weight(r.name, pre as u32, post as u32, w);
            let want = r.in_range(pre, post) && r.get(pre, post).is_some();
            ok_as(&got, want, ctx);
            if want {
                r.set_w(pre, post, w);
                r.enforce_one(r.idx(pre, post));
            }
        }
        Op::SetWeightEntity { p, pick: n, w } => {
            let r = &mut refs[p.k()];
            let Some((pre, post)) = pick(r, *n).filter(|_| !r.compact) else {
                return false;
            };
            let e = sim.synapse_entities(r.name, pre as u32, post as u32).unwrap();
            assert_eq!(e.len(), 1, "{ctx}: one entity for ({pre}, {post})");
            sim.world.entity_mut(e[0]).insert(Weight(weight(*w)));
            r.set_w(pre, post, weight(*w));
            r.enforce_one(r.idx(pre, post));
        }
        Op::Lesion { p, pre, post } => {
            let r = &mut refs[p.k()];
            let (pre, post) = (*pre as usize, *post as usize);
            let got = sim.network_mut().unwrap().lesion(r.name, pre as u32, post as u32);
            let want = r.in_range(pre, post) && r.get(pre, post).is_some();
            ok_as(&got, want, ctx);
            if want {
                r.remove(pre, post);
            }
        }
        Op::LesionEntity { p, pick: n } => {
            let r = &mut refs[p.k()];
            let Some((pre, post)) = pick(r, *n).filter(|_| !r.compact) else {
                return false;
            };
            let e = sim.synapse_entities(r.name, pre as u32, post as u32).unwrap();
            sim.world.despawn(e[0]);
            r.remove(pre, post);
        }
        Op::Create { p, pre, post, w } => {
            let r = &mut refs[p.k()];
            let (pre, post, w) = (*pre as usize, *post as usize, weight(*w));
            let got = sim
                .network_mut()
                .unwrap()
                .create_synapse(p.k(), pre as u32, post as u32, w, None);
            let want = if r.in_range(pre, post) {
                r.admit(pre, post, w, r.get(pre, post).is_some())
            } else {
                Err(super::reference::Refusal::Forbidden)
            };
            ok_as(&got, want.is_ok(), ctx);
            if let Ok(sign) = want {
                r.add(pre, post, w, sign);
            }
        }
        Op::CreateEntity { p, pre, post, w } => {
            let r = &mut refs[p.k()];
            let (pre, post, w) = (*pre as usize, *post as usize, weight(*w));
            if r.compact || !r.in_range(pre, post) {
                return false;
            }
            let (a, b) = if p.k() == 0 { ("a", "h") } else { ("h", "h") };
            let syn = Synapse {
                projection: sim.engine().unwrap().projection_entities[p.k()],
                pre: sim.neuron_entity(a, pre).unwrap(),
                post: sim.neuron_entity(b, post).unwrap(),
            };
            let e = sim.world.spawn((syn, Weight(w))).id();
            sim.sync().unwrap();
            let errors = std::mem::take(&mut sim.engine_mut().unwrap().edit_errors);
            match r.admit(pre, post, w, r.get(pre, post).is_some()) {
                Ok(sign) => {
                    assert!(errors.is_empty(), "{ctx}: the engine refused: {errors:?}");
                    assert!(sim.world.get::<SynapseRow>(e).is_some(), "{ctx}: the entity is kept");
                    r.add(pre, post, w, sign);
                }
                Err(why) => {
                    assert_eq!(errors.len(), 1, "{ctx}: refused ({why:?}), reported once: {errors:?}");
                    assert!(
                        sim.world.get_entity(e).is_err(),
                        "{ctx}: the refused entity is despawned"
                    );
                }
            }
        }
        Op::LesionSelection { p, sel, f } => {
            let r = &mut refs[p.k()];
            let selection = selection(sel);
            let got = sim
                .network_mut()
                .unwrap()
                .lesion_selection(r.name, &selection, f.filter());
            lesion(sim, r, sel, *f, got.map(|n| n as usize), ctx);
        }
        Op::Adjust { p, adj, f, free } => {
            let r = &mut refs[p.k()];
            adjust(sim, r, adj, *f, *free, ctx);
        }
        Op::SetDense { p, grid } => {
            let r = &mut refs[p.k()];
            let m = array(grid, r.n_post, r.n_pre, weight);
            let got = sim.network_mut().unwrap().set_weights_dense(r.name, m.view()).unwrap();
            let (mut set, mut created, mut refused) = (0, 0, 0);
            for post in 0..r.n_post {
                for pre in 0..r.n_pre {
                    let w = m[[post, pre]];
                    if r.get(pre, post).is_some() {
                        r.set_w(pre, post, w);
                        r.enforce_one(r.idx(pre, post));
                        set += 1;
                    } else if w != 0.0 {
                        match r.admit(pre, post, w, false) {
                            Ok(sign) => {
                                r.add(pre, post, w, sign);
                                created += 1;
                            }
                            Err(_) => refused += 1,
                        }
                    }
                }
            }
            assert_eq!(
                (got.set, got.created, got.refused),
                (set, created, refused),
                "{ctx}: set, created, refused"
            );
        }
        Op::SetCoo { p, entries } => {
            let r = &mut refs[p.k()];
            let coo = Coo {
                pre: entries.iter().map(|e| u32::from(e.0)).collect(),
                post: entries.iter().map(|e| u32::from(e.1)).collect(),
                weight: entries.iter().map(|e| weight(e.2)).collect(),
            };
            let got = sim.network_mut().unwrap().set_weights_coo(r.name, &coo);
            let want = entries.iter().all(|e| r.in_range(e.0 as usize, e.1 as usize));
            ok_as(&got, want, ctx);
            if let Ok(got) = got {
                // the i-th entry of a pair sets its i-th synapse (there is at most one); beyond, it creates
                let before = r.clone();
                let mut nth = std::collections::HashMap::new();
                let (mut set, mut created, mut refused) = (0, 0, 0);
                for &(a, b, w) in entries {
                    let (pre, post, w) = (a as usize, b as usize, weight(w));
                    let n = nth.entry((pre, post)).or_insert(0);
                    let live = before.get(pre, post).is_some();
                    if live && *n == 0 {
                        r.set_w(pre, post, w);
                        set += 1;
                    } else if w != 0.0 {
                        match before.admit(pre, post, w, live || *n > 0) {
                            Ok(sign) => {
                                r.add(pre, post, w, sign);
                                created += 1;
                            }
                            Err(_) => refused += 1,
                        }
                    }
                    *n += 1;
                }
                r.enforce_all();
                assert_eq!(
                    (got.set, got.created, got.refused),
                    (set, created, refused),
                    "{ctx}: set, created, refused"
                );
            }
        }
        Op::ScaleCsr { p, f } => {
            let r = &mut refs[p.k()];
            let f = f32::from(*f) * 0.5;
            let mut csr = sim.network().unwrap().weights_csr(r.name).unwrap();
            csr.data.iter_mut().for_each(|w| *w *= f);
            sim.network_mut().unwrap().set_weights_csr(r.name, &csr).unwrap();
            for (pre, post) in r.live() {
                let w = r.get(pre, post).unwrap().w * f;
                r.set_w(pre, post, w);
            }
            r.enforce_all();
        }
        Op::WeightsMut { p, f } => {
            let r = &mut refs[p.k()];
            let f = f32::from(*f) * 0.5;
            let proj = sim.network_mut().unwrap().projection_mut(r.name).unwrap();
            proj.weights_mut().iter_mut().for_each(|w| *w *= f);
            // the next Constrain stage enforces the masks: Dale's law, or the sign follows the weight
            for (pre, post) in r.live() {
                let w = r.get(pre, post).unwrap().w * f;
                r.set_w(pre, post, w);
            }
            r.enforce_all();
        }
        Op::SetSparsity { p, grid } => {
            let r = &mut refs[p.k()];
            let m = array(grid, r.n_post, r.n_pre, |b| f32::from(u8::from(b)));
            sim.network_mut().unwrap().set_sparsity_mask(r.name, m.view()).unwrap();
            r.sparsity = Some(dense(grid, r.n_post, r.n_pre, |b| b));
            r.enforce_all();
        }
        Op::SetEiPerPre { p, signs } => {
            let r = &mut refs[p.k()];
            let v: Vec<f32> = signs[..r.n_pre].iter().map(|&e| if e { 1.0 } else { -1.0 }).collect();
            sim.network_mut().unwrap().set_ei_per_pre(r.name, &v).unwrap();
            let n_pre = r.n_pre;
            r.signs = Some((0..r.syn.len()).map(|i| if signs[i % n_pre] { E } else { I }).collect());
            r.dale = true;
            r.enforce_all();
        }
        Op::SetEiMask { p, grid } => {
            let r = &mut refs[p.k()];
            let m = array(grid, r.n_post, r.n_pre, |e| if e { 1.0 } else { -1.0 });
            sim.network_mut().unwrap().set_ei_mask(r.name, m.view()).unwrap();
            r.signs = Some(dense(grid, r.n_post, r.n_pre, |e| if e { E } else { I }));
            r.dale = true;
            r.enforce_all();
        }
        Op::SetPlasticityMask { p, grid } => {
            let r = &mut refs[p.k()];
            let f = |c: u8| f32::from(c) * 0.5;
            let m = array(grid, r.n_post, r.n_pre, f);
            sim.network_mut()
                .unwrap()
                .set_plasticity_mask(r.name, m.view())
                .unwrap();
            r.plasticity_mask = Some(dense(grid, r.n_post, r.n_pre, f));
            r.enforce_all();
        }
        Op::SetGrowthMask { p, grid } => {
            let r = &mut refs[p.k()];
            let f = |b: bool| f32::from(u8::from(b));
            let m = array(grid, r.n_post, r.n_pre, f);
            sim.network_mut().unwrap().set_growth_mask(r.name, m.view()).unwrap();
            r.growth_mask = Some(dense(grid, r.n_post, r.n_pre, f));
            r.enforce_all();
        }
        Op::SetSelfConnections { on } => {
            let r = &mut refs[1];
            sim.network_mut().unwrap().set_self_connections(r.name, *on).unwrap();
            r.self_connections = *on;
            r.enforce_all();
        }
        Op::Grow { p } => {
            let r = &mut refs[p.k()];
            let got = sim.network_mut().unwrap().grow(r.name);
            ok_as(&got, r.growth.is_some(), ctx);
            if let Ok(n) = got {
                assert_eq!(n, r.grow(), "{ctx}: synapses grown");
            }
        }
        Op::Prune { p } => {
            let r = &mut refs[p.k()];
            let got = sim.network_mut().unwrap().prune(r.name);
            ok_as(&got, r.pruning.is_some(), ctx);
            if let Ok(n) = got {
                assert_eq!(n, r.prune(), "{ctx}: synapses pruned");
            }
        }
        Op::CompactStore { p } => {
            let name = refs[p.k()].name;
            sim.network_mut().unwrap().projection_mut(name).unwrap().compact_store();
        }
        Op::Run { steps } => {
            // a static network changes no weight: the reference only prunes and grows
            sim.run_steps(u64::from(*steps)).unwrap();
            for _ in 0..*steps {
                for r in refs.iter_mut() {
                    r.after_step();
                }
            }
        }
        Op::SaveLoad => {
            let file = dir.join("case.ckpt");
            sim.save(&file).unwrap();
            *sim = Simulation::load(&file).unwrap();
        }
    }
    true
}

fn selection(sel: &Sel) -> Selection {
    match sel {
        Sel::All => Selection::All,
        Sel::Pairs(v) => Selection::Pairs(v.iter().map(|&(a, b)| (u32::from(a), u32::from(b))).collect()),
        Sel::Below(t) => Selection::Below(f64::from(*t) * 0.25),
        Sel::FromPre(i) => Selection::FromPre(u32::from(*i)),
        Sel::ToPost(j) => Selection::ToPost(u32::from(*j)),
        Sel::Fraction(f) => Selection::Fraction(f64::from(*f) * 0.25),
    }
}

/// The live pairs of the engine's projection.
fn engine_live(sim: &Simulation, name: &str) -> std::collections::HashMap<(usize, usize), f32> {
    let coo = sim.network().unwrap().weights_coo(name).unwrap();
    (0..coo.pre.len())
        .map(|i| ((coo.pre[i] as usize, coo.post[i] as usize), coo.weight[i]))
        .collect()
}

/// A lesion by selection (or a prune adjuster): the reference removes what
/// the selection covers; a random fraction is checked by its count and
/// taken from the engine.
fn lesion(sim: &Simulation, r: &mut RefProj, sel: &Sel, f: F, got: cortecs::Result<usize>, ctx: &str) {
    let filter = f.filter();
    let covered: Vec<(usize, usize)> = r
        .live()
        .into_iter()
        .filter(|&(a, b)| covers(filter, r.get(a, b).unwrap().sign))
        .collect();
    let (ok, chosen): (bool, Vec<(usize, usize)>) = match sel {
        Sel::All => (true, covered.clone()),
        Sel::Pairs(v) => {
            let ok = v.iter().all(|&(a, b)| r.in_range(a as usize, b as usize));
            let pairs: Vec<(usize, usize)> = v.iter().map(|&(a, b)| (a as usize, b as usize)).collect();
            (ok, covered.iter().copied().filter(|c| pairs.contains(c)).collect())
        }
        Sel::Below(t) => {
            let t = f64::from(*t) * 0.25;
            let c = covered
                .iter()
                .copied()
                .filter(|&(a, b)| f64::from(r.get(a, b).unwrap().w.abs()) < t)
                .collect();
            (true, c)
        }
        Sel::FromPre(i) => (
            (*i as usize) < r.n_pre,
            covered.iter().copied().filter(|c| c.0 == *i as usize).collect(),
        ),
        Sel::ToPost(j) => (
            (*j as usize) < r.n_post,
            covered.iter().copied().filter(|c| c.1 == *j as usize).collect(),
        ),
        Sel::Fraction(q) => {
            let take = (f64::from(*q) * 0.25 * covered.len() as f64).round() as usize;
            let live = engine_live(sim, r.name);
            let gone: Vec<(usize, usize)> = r.live().into_iter().filter(|c| !live.contains_key(c)).collect();
            assert_eq!(gone.len(), take, "{ctx}: round(fraction x covered) removed");
            assert!(
                gone.iter().all(|c| covered.contains(c)),
                "{ctx}: only covered synapses removed"
            );
            (true, gone)
        }
    };
    ok_as(&got, ok, ctx);
    if let Ok(n) = got {
        assert_eq!(n, chosen.len(), "{ctx}: synapses removed");
        for (a, b) in chosen {
            r.remove(a, b);
        }
    }
}

/// A weight adjuster on the synapses `f` covers, signs kept (`free`: signs
/// follow the weights, refused under Dale's law).
fn adjust(sim: &mut Simulation, r: &mut RefProj, adj: &Adj, f: F, free: bool, ctx: &str) {
    let filter = f.filter();
    let policy = if free { SignPolicy::Free } else { SignPolicy::Keep };
    let one = |a: i8| Distribution::TwoValued {
        p: 1.0,
        a: f64::from(weight(a)),
        b: 0.0,
    };
    let adjuster = match adj {
        Adj::Scale(c) => Adjuster::Scale(f64::from(*c) * 0.5),
        Adj::Clip(a, b) => Adjuster::Clip {
            min: f64::from(weight(*a)),
            max: f64::from(weight(*b)),
        },
        Adj::RandomizeConst(a) => Adjuster::Randomize(one(*a)),
        Adj::PerturbConst(a) => Adjuster::Perturb(one(*a)),
        Adj::SymmetricConst(a) => Adjuster::RandomizeSymmetric(one(*a)),
        Adj::RandomizeUniform => Adjuster::Randomize(Distribution::Uniform { low: 0.1, high: 1.0 }),
        Adj::PerturbNormal => Adjuster::Perturb(Distribution::Normal { mean: 0.0, std: 0.5 }),
        Adj::SymmetricUniform => Adjuster::RandomizeSymmetric(Distribution::Uniform { low: 0.1, high: 1.0 }),
        Adj::Prune(s) => Adjuster::Prune(selection(s)),
        Adj::Reapply => Adjuster::Reapply,
    };
    let before = r.clone();
    let got = sim
        .network_mut()
        .unwrap()
        .adjust_with(r.name, &adjuster, filter, policy);
    let policy_ok = !(free && r.dale);
    match adj {
        Adj::Prune(s) => {
            // the policy is not read by a prune
            return lesion(sim, r, s, f, got.map(|a| a.removed as usize), ctx);
        }
        Adj::Reapply => {
            ok_as(&got, true, ctx);
            return reapply(sim, r, filter, ctx);
        }
        _ => {}
    }
    let symmetric = matches!(adj, Adj::SymmetricConst(_) | Adj::SymmetricUniform);
    let clip_ok = !matches!(adj, Adj::Clip(a, b) if a > b);
    let want = policy_ok && clip_ok && (r.recurrent || !symmetric);
    ok_as(&got, want, ctx);
    let Ok(done) = got else { return };
    let covered: Vec<(usize, usize)> = r
        .live()
        .into_iter()
        .filter(|&(a, b)| covers(filter, r.get(a, b).unwrap().sign))
        .collect();
    assert_eq!(done.changed as usize, covered.len(), "{ctx}: synapses adjusted");
    let live = engine_live(sim, r.name);
    for &(pre, post) in &covered {
        let s = before.get(pre, post).unwrap();
        let x: f32 = match adj {
            Adj::Scale(c) => (f64::from(s.w) * f64::from(*c) * 0.5) as f32,
            Adj::Clip(a, b) => f64::from(s.w).clamp(f64::from(weight(*a)), f64::from(weight(*b))) as f32,
            Adj::RandomizeConst(a) if !free => f32::from(s.sign) * weight(*a).abs(),
            Adj::SymmetricConst(a) if !free => f32::from(s.sign) * weight(*a).abs(),
            Adj::RandomizeConst(a) | Adj::SymmetricConst(a) => weight(*a),
            Adj::PerturbConst(a) => (f64::from(s.w) + f64::from(weight(*a))) as f32,
            _ => {
                // random draws: the law of each, then the engine's value
                let w = live[&(pre, post)];
                let m = w.abs();
                match adj {
                    Adj::RandomizeUniform | Adj::SymmetricUniform => {
                        assert!((0.1..=1.0).contains(&m), "{ctx}: a uniform draw of {m}")
                    }
                    _ => {}
                }
                if !free {
                    assert!(f32::from(s.sign) * w >= 0.0, "{ctx}: the sign was kept");
                }
                w
            }
        };
        if free {
            r.set_w(pre, post, x);
        } else {
            let i = r.idx(pre, post);
            r.syn[i].as_mut().unwrap().w = super::reference::constrain(x, s.sign);
        }
        r.enforce_one(r.idx(pre, post));
    }
    if matches!(adj, Adj::SymmetricUniform) {
        // one draw per unordered pair: |w_ij| = |w_ji| where both are covered
        for &(pre, post) in &covered {
            if pre != post && covered.contains(&(post, pre)) {
                let (x, y) = (r.get(pre, post).unwrap().w, r.get(post, pre).unwrap().w);
                assert_eq!(x.abs(), y.abs(), "{ctx}: symmetric draws ({pre}, {post})");
            }
        }
    }
}

/// Reapplying the strategy: deterministic rules are predicted, random ones
/// checked (each new synapse as the rule and the masks make it) and taken.
/// With a sign filter only the covered synapses are replaced; a pair that
/// keeps an uncovered synapse gets no second one (no multapses).
fn reapply(sim: &Simulation, r: &mut RefProj, filter: SignFilter, ctx: &str) {
    let kept: Vec<Option<Syn>> = r.syn.iter().map(|s| s.filter(|s| !covers(filter, s.sign))).collect();
    let fresh = match r.fresh_synapses() {
        Some(syn) => syn,
        None => {
            // a random rule: the engine's synapses beside the kept ones are what it made
            let live = engine_live(sim, r.name);
            let mut made = vec![None; r.syn.len()];
            for &(pre, post) in live.keys() {
                let i = r.idx(pre, post);
                if kept[i].is_none() {
                    assert!(
                        r.allows(pre, post),
                        "{ctx}: the rule made ({pre}, {post}), which the masks forbid"
                    );
                    made[i] = Some(r.built(pre, post, r.spec_weight, false));
                }
            }
            made
        }
    };
    for (i, syn) in r.syn.iter_mut().enumerate() {
        *syn = kept[i].or(fresh[i].filter(|s| covers(filter, s.sign)));
    }
    r.enforce_all();
}
