//! The random network of one case: two rate populations (`a` feeding `h`,
//! `h` recurrent) of identity units with `tau = dt`, so one step of the
//! kernels puts `W r` into `v` exactly; two projections (`ah`, `hh`) with a
//! random strategy, weight, masks, E/I signs, growth and pruning. Built in
//! the engine and in the reference.

use super::reference::{self, E, Growth, I, Pruning, RefProj};
use cortecs::prelude::Strategy as Rule;
use cortecs::prelude::*;
use ndarray::Array2;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::strategy::Strategy;

/// Largest population (masks are generated on an 8 x 8 grid).
pub const MAX: usize = 8;

/// A weight code as a weight (multiples of 0.25: exact in f32).
pub fn weight(code: i8) -> f32 {
    f32::from(code) * 0.25
}

#[derive(Clone, Debug)]
pub enum Pol {
    None,
    Excitatory,
    Fraction(f64),
    PerNeuron(Vec<bool>),
}

#[derive(Clone, Debug)]
pub enum Strat {
    AllToAll,
    FixedProbability(f64),
    FixedInDegree(usize),
    FixedOutDegree(usize),
    /// Weight codes on the 8 x 8 grid (post-major); 0 = no synapse.
    FromMatrix(Vec<i8>),
    /// (pre, post, weight code), reduced to distinct in-range pairs.
    FromList(Vec<(u8, u8, i8)>),
}

#[derive(Clone, Debug)]
pub enum Ei {
    PerPre(Vec<bool>),
    PerSynapse(Vec<bool>),
}

#[derive(Clone, Debug)]
pub struct GrowthSetup {
    /// A 0/1 growth mask (probability `Mask`), else probability 1.
    pub mask: Option<Vec<bool>>,
    pub weight: i8,
    pub every: u8,
}

#[derive(Clone, Debug)]
pub struct PruneSetup {
    pub every: u8,
    pub checks: u8,
    pub threshold: u8,
}

#[derive(Clone, Debug)]
pub struct ProjSetup {
    pub strat: Strat,
    pub weight: i8,
    pub sparsity: Option<Vec<bool>>,
    pub ei: Option<Ei>,
    /// Codes 0, 1, 2 for factors 0, 0.5, 1.
    pub plasticity_mask: Option<Vec<u8>>,
    pub plasticity: u8,
    pub self_connections: bool,
    pub growth: Option<GrowthSetup>,
    pub pruning: Option<PruneSetup>,
    pub compact: bool,
}

#[derive(Clone, Debug)]
pub struct Setup {
    pub n_a: usize,
    pub n_h: usize,
    pub pol_a: Pol,
    pub pol_h: Pol,
    pub ah: ProjSetup,
    pub hh: ProjSetup,
}

pub fn grid_bool() -> impl Strategy<Value = Vec<bool>> {
    vec(prop_oneof![3 => Just(true), 1 => Just(false)], MAX * MAX)
}

pub fn grid_factor() -> impl Strategy<Value = Vec<u8>> {
    vec(0u8..=2, MAX * MAX)
}

pub fn code() -> impl Strategy<Value = i8> {
    prop_oneof![1 => Just(0i8), 4 => -8i8..=8]
}

fn nonzero_code() -> impl Strategy<Value = i8> {
    prop_oneof![1i8..=8, -8i8..=-1]
}

fn pol() -> impl Strategy<Value = Pol> {
    prop_oneof![
        Just(Pol::None),
        Just(Pol::Excitatory),
        Just(Pol::Fraction(0.5)),
        vec(any::<bool>(), MAX).prop_map(Pol::PerNeuron),
    ]
}

fn strat() -> impl Strategy<Value = Strat> {
    prop_oneof![
        2 => Just(Strat::AllToAll),
        1 => prop_oneof![Just(0.3), Just(0.7)].prop_map(Strat::FixedProbability),
        1 => (0usize..MAX).prop_map(Strat::FixedInDegree),
        1 => (0usize..MAX).prop_map(Strat::FixedOutDegree),
        2 => vec(code(), MAX * MAX).prop_map(Strat::FromMatrix),
        2 => vec((0u8..MAX as u8, 0u8..MAX as u8, nonzero_code()), 0..20).prop_map(Strat::FromList),
    ]
}

fn ei() -> impl Strategy<Value = Ei> {
    prop_oneof![
        vec(any::<bool>(), MAX).prop_map(Ei::PerPre),
        grid_bool().prop_map(Ei::PerSynapse),
    ]
}

fn proj_setup() -> impl Strategy<Value = ProjSetup> {
    let growth = (
        option::of(grid_bool()),
        code(),
        prop_oneof![3 => Just(0u8), 1 => 1u8..=3],
    )
        .prop_map(|(mask, weight, every)| GrowthSetup { mask, weight, every });
    let pruning = (1u8..=3, 1u8..=3, 0u8..=6).prop_map(|(every, checks, threshold)| PruneSetup {
        every,
        checks,
        threshold,
    });
    (
        strat(),
        nonzero_code(),
        option::of(grid_bool()),
        option::of(ei()),
        option::of(grid_factor()),
        0u8..=2,
        any::<bool>(),
        option::of(growth),
        option::of(pruning),
        any::<bool>(),
    )
        .prop_map(
            |(strat, weight, sparsity, ei, plasticity_mask, plasticity, self_connections, growth, pruning, compact)| {
                ProjSetup {
                    strat,
                    weight,
                    sparsity,
                    ei,
                    plasticity_mask,
                    plasticity,
                    self_connections,
                    growth,
                    pruning,
                    compact,
                }
            },
        )
}

pub fn setup() -> impl Strategy<Value = Setup> {
    (1usize..=5, 2usize..=6, pol(), pol(), proj_setup(), proj_setup()).prop_map(|(n_a, n_h, pol_a, pol_h, ah, hh)| {
        Setup {
            n_a,
            n_h,
            pol_a,
            pol_h,
            ah,
            hh,
        }
    })
}

fn factor(code: u8) -> f32 {
    f32::from(code) * 0.5
}

/// The polarity of each neuron: +1, -1, or 0 (none).
fn polarity(p: &Pol, n: usize) -> (PolaritySpec, Vec<i8>) {
    match p {
        Pol::None => (PolaritySpec::None, vec![0; n]),
        Pol::Excitatory => (PolaritySpec::Excitatory, vec![E; n]),
        Pol::Fraction(f) => {
            let e = (f * n as f64).round() as usize;
            (
                PolaritySpec::ExcitatoryFraction(*f),
                (0..n).map(|i| if i < e { E } else { I }).collect(),
            )
        }
        Pol::PerNeuron(v) => (
            PolaritySpec::PerNeuron(
                v[..n]
                    .iter()
                    .map(|&e| if e { Polarity::Excitatory } else { Polarity::Inhibitory })
                    .collect(),
            ),
            v[..n].iter().map(|&e| if e { E } else { I }).collect(),
        ),
    }
}

/// A post x pre array from the 8 x 8 grid.
pub fn array<T: Copy>(grid: &[T], n_post: usize, n_pre: usize, f: impl Fn(T) -> f32) -> Array2<f32> {
    Array2::from_shape_fn((n_post, n_pre), |(post, pre)| f(grid[post * MAX + pre]))
}

/// The reference's post x pre vector from the 8 x 8 grid.
pub fn dense<T: Copy, U>(grid: &[T], n_post: usize, n_pre: usize, f: impl Fn(T) -> U) -> Vec<U> {
    (0..n_post * n_pre)
        .map(|i| f(grid[(i / n_pre) * MAX + i % n_pre]))
        .collect()
}

/// The projection's spec and its reference (before the strategy ran).
fn projection(
    name: &'static str,
    pre: &str,
    post: &str,
    (n_pre, n_post): (usize, usize),
    pre_polarity: Vec<i8>,
    s: &ProjSetup,
) -> (ProjectionSpec, RefProj) {
    let recurrent = pre == post;
    let no_self = recurrent && !s.self_connections;
    let m = f64::from(weight(s.weight));
    let (strategy, fresh) = match &s.strat {
        Strat::AllToAll => {
            let pairs = (0..n_post)
                .flat_map(|post| (0..n_pre).map(move |pre| (pre, post, m, false)))
                .filter(|&(pre, post, ..)| !(no_self && pre == post))
                .collect();
            (Rule::AllToAll, Some(pairs))
        }
        Strat::FixedProbability(p) => (
            Rule::FixedProbability {
                p: *p,
                equalize_efferents: false,
            },
            None,
        ),
        Strat::FixedInDegree(k) => {
            let most = if no_self { n_pre - 1 } else { n_pre };
            (Rule::FixedInDegree { k: k % (most + 1) }, None)
        }
        Strat::FixedOutDegree(k) => {
            let most = if no_self { n_post - 1 } else { n_post };
            (Rule::FixedOutDegree { k: k % (most + 1) }, None)
        }
        Strat::FromMatrix(grid) => {
            let matrix =
                Array2::from_shape_fn((n_post, n_pre), |(post, pre)| f64::from(weight(grid[post * MAX + pre])));
            let pairs = matrix
                .indexed_iter()
                .filter(|&((post, pre), &v)| v != 0.0 && !(no_self && pre == post))
                .map(|((post, pre), &v)| (pre, post, v, true))
                .collect();
            (Rule::FromMatrix { matrix }, Some(pairs))
        }
        Strat::FromList(rows) => {
            let mut seen = std::collections::HashSet::new();
            let mut list = Vec::new();
            for &(a, b, w) in rows {
                let (pre, post) = (a as usize % n_pre, b as usize % n_post);
                if (no_self && pre == post) || !seen.insert((pre, post)) {
                    continue;
                }
                list.push((pre, post, f64::from(weight(w)), true));
            }
            let strategy = Rule::FromList {
                rows: list.iter().map(|&(a, b, ..)| (a as u32, b as u32)).collect(),
                weights: Some(list.iter().map(|&(.., w, _)| w).collect()),
                delays: None,
            };
            (strategy, Some(list))
        }
    };
    let mut spec = ProjectionSpec::new(name, pre, post, strategy)
        .weight(m)
        .self_connections(s.self_connections)
        .compact(s.compact);
    let mut r = RefProj {
        name,
        n_pre,
        n_post,
        recurrent,
        compact: s.compact,
        syn: vec![None; n_pre * n_post],
        dale: false,
        polarity: pre_polarity,
        sparsity: None,
        signs: None,
        plasticity_mask: None,
        growth_mask: None,
        self_connections: s.self_connections,
        plasticity: factor(s.plasticity),
        growth: None,
        pruning: None,
        since_growth: 0,
        since_pruning: 0,
        fresh,
        spec_weight: m,
    };
    if let Some(g) = &s.sparsity {
        spec = spec.sparsity_mask(array(g, n_post, n_pre, |b| f32::from(u8::from(b))));
        r.sparsity = Some(dense(g, n_post, n_pre, |b| b));
    }
    match &s.ei {
        Some(Ei::PerPre(v)) => {
            spec = spec.ei_per_pre(v[..n_pre].iter().map(|&e| if e { 1.0 } else { -1.0 }).collect());
            r.signs = Some((0..n_pre * n_post).map(|i| if v[i % n_pre] { E } else { I }).collect());
        }
        Some(Ei::PerSynapse(g)) => {
            spec = spec.ei_mask(array(g, n_post, n_pre, |e| if e { 1.0 } else { -1.0 }));
            r.signs = Some(dense(g, n_post, n_pre, |e| if e { E } else { I }));
        }
        None => {}
    }
    if let Some(g) = &s.plasticity_mask {
        spec = spec.plasticity_mask(array(g, n_post, n_pre, factor));
        r.plasticity_mask = Some(dense(g, n_post, n_pre, factor));
    }
    if let Some(g) = &s.growth {
        if let Some(mask) = &g.mask {
            spec = spec.growth_mask(array(mask, n_post, n_pre, |b| f32::from(u8::from(b))));
            r.growth_mask = Some(dense(mask, n_post, n_pre, |b| f32::from(u8::from(b))));
        }
        spec = spec.grow(cortecs::prelude::Growth {
            every: f64::from(g.every),
            probability: if g.mask.is_some() {
                GrowthProbability::Mask
            } else {
                GrowthProbability::Constant(1.0)
            },
            weight: f64::from(weight(g.weight)),
        });
        r.growth = Some(Growth {
            weight: weight(g.weight),
            every: u64::from(g.every),
            by_mask: g.mask.is_some(),
        });
    }
    if let Some(p) = &s.pruning {
        let threshold = f64::from(p.threshold) * 0.25;
        spec = spec.prune(cortecs::prelude::Pruning {
            every: f64::from(p.every),
            threshold,
            after: f64::from(p.every) * f64::from(p.checks),
        });
        r.pruning = Some(Pruning {
            every: u64::from(p.every),
            checks: u16::from(p.checks),
            threshold: threshold as f32,
        });
    }
    // after `prune`, which gives a fixed projection factor 1: the factor is the case's
    spec = spec.plasticity(f64::from(r.plasticity));
    r.dale = r.signed_by_rule();
    (spec, r)
}

/// Builds the case's network in a simulation, and its reference: the
/// strategy's synapses are predicted for deterministic rules; for random
/// ones the engine's pairs are taken after checking that every synapse is
/// one the rule and the masks allow, with the weight and sign they give.
pub fn build(s: &Setup) -> (Simulation, [RefProj; 2]) {
    let mut net = Network::new(1.0, 11).unwrap();
    let (pa, a_pol) = polarity(&s.pol_a, s.n_a);
    let (ph, h_pol) = polarity(&s.pol_h, s.n_h);
    let rate = || ModelKind::Rate {
        activation: Activation::Identity,
    };
    net.add_population(PopulationSpec::new("a", s.n_a, rate()).param("tau", 1.0).polarity(pa))
        .unwrap();
    net.add_population(PopulationSpec::new("h", s.n_h, rate()).param("tau", 1.0).polarity(ph))
        .unwrap();
    let (ah_spec, ah) = projection("ah", "a", "h", (s.n_a, s.n_h), a_pol, &s.ah);
    let (hh_spec, hh) = projection("hh", "h", "h", (s.n_h, s.n_h), h_pol, &s.hh);
    net.add_projection(ah_spec).unwrap();
    net.add_projection(hh_spec).unwrap();
    let mut sim = Simulation::from_network(net);
    sim.build().unwrap();
    let mut refs = [ah, hh];
    for r in &mut refs {
        let strategy = sim.network().unwrap().projection(r.name).unwrap().strategy.clone();
        r.syn = match r.fresh_synapses() {
            Some(syn) => syn,
            None => adopt_random(&sim, r, &strategy),
        };
    }
    (sim, refs)
}

/// The synapses a random rule made in the engine, each checked against
/// the rule's weight, sign and the masks, and the rule's degree.
pub fn adopt_random(sim: &Simulation, r: &RefProj, strategy: &Rule) -> Vec<Option<reference::Syn>> {
    let coo = sim.network().unwrap().weights_coo(r.name).unwrap();
    let mut out = r.clone();
    out.syn = vec![None; r.syn.len()];
    let (mut ins, mut outs) = (vec![0usize; r.n_post], vec![0usize; r.n_pre]);
    for k in 0..coo.pre.len() {
        let (pre, post) = (coo.pre[k] as usize, coo.post[k] as usize);
        assert!(
            r.allows(pre, post),
            "{}: the rule made ({pre}, {post}), which the masks forbid",
            r.name
        );
        let i = out.idx(pre, post);
        assert!(out.syn[i].is_none(), "{}: a multapse ({pre}, {post})", r.name);
        out.syn[i] = Some(out.built(pre, post, r.spec_weight, false));
        out.enforce_one(i);
        ins[post] += 1;
        outs[pre] += 1;
    }
    match *strategy {
        Rule::FixedInDegree { k } => assert!(ins.iter().all(|&n| n <= k), "{}: in-degrees {ins:?} > {k}", r.name),
        Rule::FixedOutDegree { k } => {
            assert!(outs.iter().all(|&n| n <= k), "{}: out-degrees {outs:?} > {k}", r.name)
        }
        _ => {}
    }
    out.syn
}
