//! What each fuzz target does with its bytes, shared by the libFuzzer
//! targets (`fuzz_targets/*.rs`) and by the main crate's
//! `tests/fuzz_corpus.rs`, which replays the committed corpus and every
//! crashing input through these same functions on every `cargo test`.
//!
//! Every function here must return normally for every input: an error from
//! cortecs is a correct answer, a panic, abort, hang or out-of-memory is a
//! finding.

use std::path::{Path, PathBuf};

use arbitrary::{Arbitrary, Unstructured};
use cortecs::prelude::*;

/// A file of this process and thread under the system's temporary folder
/// (the loaders read files; tests run threads side by side).
fn scratch(ext: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cortecs-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let thread = format!("{:?}", std::thread::current().id());
    let thread: String = thread.chars().filter(char::is_ascii_digit).collect();
    dir.join(format!("input-{thread}.{ext}"))
}

/// Writes `bytes` to a scratch file, runs `f` on its path, removes it.
fn with_file<T>(ext: &str, bytes: &[u8], f: impl FnOnce(&Path) -> T) -> T {
    let path = scratch(ext);
    std::fs::write(&path, bytes).expect("the scratch file can be written");
    let out = f(&path);
    let _ = std::fs::remove_file(&path);
    out
}

/// Scene parser and validator: the text is parsed as a scene file and, if it
/// parses, validated whole (timeline included), as `cortecs check` does
/// before building. A scene that loads a checkpoint (`load:`) is only parsed.
pub fn scene(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.ron");
    if let Ok(sc) = cortecs::scene::parse(path, text)
        && sc.load.is_none()
    {
        let _ = cortecs::scene::validate(&sc, path, text);
        let _ = cortecs::scene::total_ms(&sc);
    }
}

/// Expression compiler and evaluator: the first byte picks the variables
/// known, the rest is the source; a compiled expression is evaluated at
/// ordinary, extreme and non-finite values.
pub fn expr(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(source) = std::str::from_utf8(rest) else {
        return;
    };
    let sets: [&[&str]; 4] = [
        &[],
        &["i", "n"],
        &["x", "y", "z", "d"],
        &["i", "j", "n_pre", "n_post", "d"],
    ];
    let vars = sets[usize::from(pick) % sets.len()];
    let Ok(e) = cortecs::expr::Expr::compile(source, vars) else {
        return;
    };
    for v in [0.0, 1.0, -2.5, 1e308, -1e-310, f64::INFINITY, f64::NAN] {
        let values = vec![v; vars.len()];
        let _ = e.eval(&values);
    }
    let _ = e.as_constant();
    let _ = e.uses("x");
}

/// Checkpoint loader. With an odd first byte the rest is taken as a whole
/// file; with an even one as a payload, wrapped in a valid header (magic,
/// current version, length, checksum) so mutations reach the decoder and
/// the consistency checks instead of stopping at the checksum. A network
/// that loads must step, as `checkpoint::load` promises.
pub fn checkpoint(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let file = if mode % 2 == 1 {
        rest.to_vec()
    } else {
        checkpoint_file(rest, cortecs::checkpoint::FORMAT_VERSION)
    };
    if let Ok(mut net) = with_file("ckpt", &file, cortecs::checkpoint::load) {
        net.run_steps(3);
    }
}

/// A checkpoint file of format `version` around `payload`, with its checksum.
pub fn checkpoint_file(payload: &[u8], version: u32) -> Vec<u8> {
    let mut file = Vec::with_capacity(cortecs::checkpoint::HEADER_LEN + payload.len());
    file.extend_from_slice(&cortecs::checkpoint::MAGIC);
    file.extend_from_slice(&version.to_le_bytes());
    file.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    file.extend_from_slice(&cortecs::checkpoint::checksum(payload).to_le_bytes());
    file.extend_from_slice(payload);
    file
}

/// `.npy` reader: the bytes as a file read by each of the readers.
pub fn npy(data: &[u8]) {
    with_file("npy", data, |path| {
        let _ = cortecs::io::read_npy_shaped(path);
        let _ = cortecs::io::read_npy_matrix_f64(path);
        let _ = cortecs::io::read_npy_matrix(path, 3, 4);
    });
}

// ---------------------------------------------------------------------------
// The structured target: small random networks built, stepped, edited,
// saved and loaded through the public API.

/// A number as the fuzzer gives it: mostly ordinary, sometimes anything.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Num {
    Small(i8),
    Frac(u8),
    Any(f64),
}

impl Num {
    fn get(self) -> f64 {
        match self {
            Num::Small(k) => f64::from(k),
            Num::Frac(k) => f64::from(k) / 255.0,
            Num::Any(x) => x,
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
enum ValueDesc {
    Const(Num),
    Uniform(Num, Num),
    Normal(Num, Num),
    LogNormal(Num, Num),
    Expr(ExprDesc),
    Array(Vec<Num>),
}

/// Expressions from a few templates, so they compile often enough to matter.
#[derive(Arbitrary, Debug, Clone)]
enum ExprDesc {
    OfIndex(Num),
    OfDistance(Num),
    OfPair(Num),
    Raw(String),
}

impl ValueDesc {
    fn value(&self) -> Value {
        match self {
            ValueDesc::Const(x) => Value::Const(x.get()),
            ValueDesc::Uniform(a, b) => Value::Random(Distribution::Uniform {
                low: a.get(),
                high: b.get(),
            }),
            ValueDesc::Normal(m, s) => Value::Random(Distribution::Normal {
                mean: m.get(),
                std: s.get(),
            }),
            ValueDesc::LogNormal(m, s) => Value::Random(Distribution::LogNormal {
                mu: m.get(),
                sigma: s.get(),
            }),
            ValueDesc::Expr(ExprDesc::OfIndex(x)) => Value::Expr(format!("{} * i / n", x.get())),
            ValueDesc::Expr(ExprDesc::OfDistance(x)) => Value::Expr(format!("exp(-d / {})", x.get())),
            ValueDesc::Expr(ExprDesc::OfPair(x)) => Value::Expr(format!("{} * (i - j) / (1 + n_pre)", x.get())),
            ValueDesc::Expr(ExprDesc::Raw(s)) => Value::Expr(s.clone()),
            ValueDesc::Array(v) => Value::Array(v.iter().map(|x| x.get()).collect()),
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum ModelDesc {
    Rate(u8),
    Lif(u8),
    AdEx(u8),
    Izhikevich(u8),
    Poisson,
}

const SYNAPSES: [SynapseKind; 5] = [
    SynapseKind::Delta,
    SynapseKind::CurrExp,
    SynapseKind::CurrAlpha,
    SynapseKind::CondExp,
    SynapseKind::CondAlpha,
];
const ACTIVATIONS: [Activation; 6] = [
    Activation::Relu,
    Activation::Tanh,
    Activation::Sigmoid,
    Activation::Retanh,
    Activation::Softplus,
    Activation::Identity,
];
/// Parameter and state names of every model, and one no model has.
const PARAMS: [&str; 30] = [
    "a",
    "b",
    "c",
    "d",
    "bias",
    "cm",
    "delta_t",
    "e_rev_e",
    "e_rev_i",
    "g_l",
    "i_offset",
    "rate",
    "t_ref",
    "tau",
    "tau_m",
    "tau_syn_e",
    "tau_syn_i",
    "tau_w",
    "u_init",
    "v_init",
    "v_peak",
    "v_reset",
    "v_rest",
    "v_spike",
    "v_thresh",
    "w_init",
    "g_e_init",
    "g_i_init",
    "alpha",
    "no_such_parameter",
];

impl ModelDesc {
    fn kind(self) -> ModelKind {
        let syn = |k: u8| SYNAPSES[usize::from(k) % SYNAPSES.len()];
        match self {
            ModelDesc::Rate(k) => ModelKind::Rate {
                activation: ACTIVATIONS[usize::from(k) % ACTIVATIONS.len()],
            },
            ModelDesc::Lif(k) => ModelKind::Lif { synapse: syn(k) },
            ModelDesc::AdEx(k) => ModelKind::AdEx { synapse: syn(k) },
            ModelDesc::Izhikevich(k) => ModelKind::Izhikevich { synapse: syn(k) },
            ModelDesc::Poisson => ModelKind::PoissonSource,
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
struct PopDesc {
    size: u8,
    model: ModelDesc,
    polarity: u8,
    batch: u8,
    params: Vec<(u8, ValueDesc)>,
}

#[derive(Arbitrary, Debug, Clone)]
enum StrategyDesc {
    AllToAll,
    OneToOne,
    FixedProbability(Num, bool),
    FixedInDegree(u8),
    FixedOutDegree(u8),
    FixedTotal(u16),
}

impl StrategyDesc {
    fn strategy(&self) -> Strategy {
        match *self {
            StrategyDesc::AllToAll => Strategy::AllToAll,
            StrategyDesc::OneToOne => Strategy::OneToOne,
            StrategyDesc::FixedProbability(p, eq) => Strategy::FixedProbability {
                p: p.get(),
                equalize_efferents: eq,
            },
            StrategyDesc::FixedInDegree(k) => Strategy::FixedInDegree { k: usize::from(k % 32) },
            StrategyDesc::FixedOutDegree(k) => Strategy::FixedOutDegree { k: usize::from(k % 32) },
            StrategyDesc::FixedTotal(n) => Strategy::FixedTotal { n: u64::from(n % 2048) },
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
struct ProjDesc {
    pre: u8,
    post: u8,
    strategy: StrategyDesc,
    weight: ValueDesc,
    delay: Option<ValueDesc>,
    flags: u8,
    mask_seed: Option<u64>,
    plasticity: Option<Num>,
}

#[derive(Arbitrary, Debug, Clone)]
enum OpDesc {
    Run(u8),
    SetWeight(u8, u8, u8, Num),
    Lesion(u8, u8, u8),
    Adjust(u8, AdjustDesc, u8),
    ScaleDense(u8, Num),
    Set(u8, u8, ValueDesc),
    SaveLoad,
}

#[derive(Arbitrary, Debug, Clone)]
enum AdjustDesc {
    Scale(Num),
    Perturb(Num),
    Clip(Num, Num),
    PruneFraction(Num),
    PruneBelow(Num),
    SpectralRadius(Num),
    Reapply,
}

impl AdjustDesc {
    fn adjuster(&self) -> Adjuster {
        match *self {
            AdjustDesc::Scale(x) => Adjuster::Scale(x.get()),
            AdjustDesc::Perturb(s) => Adjuster::Perturb(Distribution::Normal {
                mean: 0.0,
                std: s.get(),
            }),
            AdjustDesc::Clip(a, b) => Adjuster::Clip {
                min: a.get(),
                max: b.get(),
            },
            AdjustDesc::PruneFraction(f) => Adjuster::Prune(Selection::Fraction(f.get())),
            AdjustDesc::PruneBelow(x) => Adjuster::Prune(Selection::Below(x.get())),
            AdjustDesc::SpectralRadius(r) => Adjuster::SpectralRadius(r.get()),
            AdjustDesc::Reapply => Adjuster::Reapply,
        }
    }
}

/// A whole random network and what is done to it.
#[derive(Arbitrary, Debug, Clone)]
pub struct NetDesc {
    dt: u8,
    seed: u64,
    pops: Vec<PopDesc>,
    projs: Vec<ProjDesc>,
    ops: Vec<OpDesc>,
}

const FILTERS: [SignFilter; 3] = [SignFilter::Excitatory, SignFilter::Inhibitory, SignFilter::Both];

/// Builds, steps, edits, saves and loads the network the bytes describe.
/// Besides "no panic", it checks two laws: a network that reports itself
/// healthy holds only finite state, and a saved and loaded network has the
/// same weights and continues with the same state bits.
pub fn network(data: &[u8]) {
    let Ok(desc) = NetDesc::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    run_network(&desc);
}

/// The structured target on an already decoded description.
pub fn run_network(desc: &NetDesc) {
    let dt = [0.1, 0.05, 1.0, 0.25][usize::from(desc.dt) % 4];
    let Ok(mut net) = Network::new(dt, desc.seed) else {
        return;
    };
    let mut names = Vec::new();
    for (k, p) in desc.pops.iter().take(4).enumerate() {
        let name = format!("p{k}");
        let size = usize::from(p.size % 24) + 1;
        let mut spec = PopulationSpec::new(&name, size, p.model.kind());
        spec = spec.polarity(match p.polarity % 4 {
            0 => PolaritySpec::None,
            1 => PolaritySpec::Excitatory,
            2 => PolaritySpec::Inhibitory,
            _ => PolaritySpec::ExcitatoryFraction(0.8),
        });
        if matches!(p.model, ModelDesc::Rate(_)) {
            spec = spec.batch(usize::from(p.batch % 3) + 1);
        }
        for (which, v) in p.params.iter().take(4) {
            spec = spec.param(PARAMS[usize::from(*which) % PARAMS.len()], v.value());
        }
        if net.add_population(spec).is_ok() {
            names.push((name, size));
        }
    }
    if names.is_empty() {
        return;
    }
    let mut projs = Vec::new();
    for (k, d) in desc.projs.iter().take(6).enumerate() {
        let (pre, n_pre) = &names[usize::from(d.pre) % names.len()];
        let (post, n_post) = &names[usize::from(d.post) % names.len()];
        let name = format!("j{k}");
        let mut spec = ProjectionSpec::new(&name, pre, post, d.strategy.strategy())
            .weight(d.weight.value())
            .self_connections(d.flags & 1 != 0)
            .multapses(d.flags & 2 != 0)
            .compact(d.flags & 4 != 0)
            .dale(d.flags & 8 != 0)
            .balance(d.flags & 16 != 0);
        if let Some(delay) = &d.delay {
            spec = spec.delay(delay.value());
        }
        if let Some(seed) = d.mask_seed {
            let mask = ndarray::Array2::from_shape_fn((*n_post, *n_pre), |(r, c)| {
                let bit = (r * 31 + c * 17) % 64;
                ((seed >> bit) & 1) as f32
            });
            spec = spec.sparsity_mask(mask);
        }
        if let Some(f) = d.plasticity {
            spec = spec.plasticity(f.get());
        }
        if net.connect(spec).is_ok() {
            projs.push((name, *n_pre, *n_post));
        }
    }
    for op in desc.ops.iter().take(12) {
        apply(&mut net, op, &names, &projs);
    }
}

/// One operation; errors are answers, not findings.
fn apply(net: &mut Network, op: &OpDesc, names: &[(String, usize)], projs: &[(String, usize, usize)]) {
    let proj = |k: u8| (!projs.is_empty()).then(|| &projs[usize::from(k) % projs.len()]);
    match op {
        OpDesc::Run(n) => {
            net.run_steps(u64::from(n % 40));
            net.check_health_at_end();
            check_healthy_is_finite(net, names);
        }
        OpDesc::SetWeight(k, i, j, w) => {
            if let Some((p, n_pre, n_post)) = proj(*k) {
                let pre = u32::from(*i) % (*n_pre as u32 + 1);
                let post = u32::from(*j) % (*n_post as u32 + 1);
                let _ = net.set_weight(p, pre, post, w.get() as f32);
            }
        }
        OpDesc::Lesion(k, i, j) => {
            if let Some((p, n_pre, n_post)) = proj(*k) {
                let _ = net.lesion(p, u32::from(*i) % (*n_pre as u32), u32::from(*j) % (*n_post as u32));
            }
        }
        OpDesc::Adjust(k, a, f) => {
            if let Some((p, ..)) = proj(*k) {
                let _ = net.adjust(p, &a.adjuster(), FILTERS[usize::from(*f) % 3]);
            }
        }
        OpDesc::ScaleDense(k, x) => {
            if let Some((p, ..)) = proj(*k)
                && let Ok(w) = net.weights_dense(p)
            {
                let scaled = w.mapv(|v| v * x.get() as f32);
                let _ = net.set_weights_dense(p, scaled.view());
            }
        }
        OpDesc::Set(k, which, v) => {
            let (pop, _) = &names[usize::from(*k) % names.len()];
            let _ = net.set(pop, PARAMS[usize::from(*which) % PARAMS.len()], &View::All, v.value());
        }
        OpDesc::SaveLoad => save_load(net, names, projs),
    }
}

/// A network saved and loaded has the same weights and, stepped on, the
/// same state as the original stepped on.
fn save_load(net: &mut Network, names: &[(String, usize)], projs: &[(String, usize, usize)]) {
    let path = scratch("net.ckpt");
    if net.save(&path).is_err() {
        return;
    }
    let loaded = Network::load(&path);
    let _ = std::fs::remove_file(&path);
    let mut loaded = loaded.expect("a checkpoint just saved loads");
    for (p, ..) in projs {
        let (a, b) = (net.weights_dense(p), loaded.weights_dense(p));
        if let (Ok(a), Ok(b)) = (a, b) {
            assert!(
                a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
                "{p}: weights differ after save and load"
            );
        }
    }
    net.run_steps(5);
    loaded.run_steps(5);
    for (pop, _) in names {
        for var in ["v", "r"] {
            if let (Ok(a), Ok(b)) = (net.get(pop, var, &View::All), loaded.get(pop, var, &View::All)) {
                assert!(
                    a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
                    "{pop}.{var}: state differs after save, load and 5 steps"
                );
            }
        }
    }
    *net = loaded;
}

/// A network whose health check passed holds finite potentials and rates.
fn check_healthy_is_finite(net: &Network, names: &[(String, usize)]) {
    if net.health_result().is_err() {
        return;
    }
    for (pop, _) in names {
        for var in ["v", "r"] {
            if let Ok(x) = net.get(pop, var, &View::All) {
                assert!(
                    x.iter().all(|v| v.is_finite()),
                    "{pop}.{var}: not finite, yet the health check passed"
                );
            }
        }
    }
}

/// The description the bytes decode to (for reading a finding).
pub fn describe(data: &[u8]) -> String {
    format!("{:#?}", NetDesc::arbitrary_take_rest(Unstructured::new(data)))
}
