//! Checks of a decoded checkpoint: every length and index the kernels rely on, before a network is returned.

use super::payload::{KernelFile, LearningFile, NetworkIn, SpecReader, kernel_from_store};
use super::{CheckpointError, Result};
use crate::io::array_in;
use crate::kernel::NEURON_CHUNK;
use crate::mask::{Matrix, SignMask};
use crate::model::{Derived, ModelKind};
use crate::network::Network;
use crate::population::{Population, PopulationState};
use crate::projection::Projection;
use crate::projection::StoreChanges;
use crate::rng::PoissonTable;
use crate::store::{Column, Major, REMOVED};

type Check = std::result::Result<(), String>;

fn ensure(ok: bool, message: impl FnOnce() -> String) -> Check {
    if ok { Ok(()) } else { Err(message()) }
}

pub(super) fn into_network(
    f: NetworkIn,
    learning: LearningFile,
    draws: crate::network::DrawCounts,
) -> std::result::Result<Network, String> {
    ensure(f.dt.is_finite() && f.dt > 0.0, || {
        format!("time step {} ms is not > 0", f.dt)
    })?;
    for (what, x) in [
        ("step", f.step),
        ("set count", f.set_count),
        ("draw count", draws.max()),
    ] {
        ensure(x <= COUNTER_MAX, || format!("{what} {x} is implausibly large"))?;
    }
    for (i, p) in f.populations.iter().enumerate() {
        check_population(p, f.dt).map_err(|m| format!("population '{}': {m}", p.name))?;
        if let Some(bad) = crate::network::scan_health(std::slice::from_ref(p), f.step, f.dt, 1) {
            return Err(bad.to_string());
        }
        ensure(!f.populations[..i].iter().any(|q| q.name == p.name), || {
            format!("two populations are called '{}'", p.name)
        })?;
    }
    let mut projections = Vec::with_capacity(f.projections.len());
    let mut kernels = Vec::with_capacity(f.projections.len());
    ensure(
        learning.projections.is_empty() || learning.projections.len() == f.projections.len(),
        || {
            format!(
                "learning section has {} projections, the network {}",
                learning.projections.len(),
                f.projections.len()
            )
        },
    )?;
    let mut learned = learning.projections.into_iter();
    for q in f.projections {
        let mut reader = SpecReader { lost: Vec::new() };
        let mut spec = reader
            .spec(q.spec)
            .map_err(|m| format!("projection '{}': {m}", q.name))?;
        let (learning, plastic) = learned.next().unwrap_or_default();
        learning.into_spec(&mut spec);
        reader.strategy(&q.strategy);
        let proj = Projection {
            name: q.name,
            pre: q.pre,
            post: q.post,
            strategy: q.strategy,
            store: q.store,
            compact: q.compact,
            spec,
            dense: None,
            masks: q.masks,
            recurrent: q.recurrent,
            constrain_pending: q.constrain_pending,
            changes: StoreChanges::default(),
            rebuilds: q.rebuilds,
            lost_closures: reader.lost,
            plastic,
        };
        check_projection(&proj, &f.populations).map_err(|m| format!("projection '{}': {m}", proj.name))?;
        ensure(!projections.iter().any(|p: &Projection| p.name == proj.name), || {
            format!("two projections are called '{}'", proj.name)
        })?;
        projections.push(proj);
        kernels.push(q.kernel);
    }
    for (p, kernel) in projections.iter_mut().zip(kernels) {
        let (rows, cols) = (p.store.n_post as usize, p.store.n_pre as usize);
        p.dense = match kernel {
            KernelFile::None => None,
            KernelFile::Rebuild => {
                ensure(p.store.major == Major::Post, || {
                    format!("projection '{}': a dense kernel needs a post-major store", p.name)
                })?;
                let bytes = (rows as u64).saturating_mul(cols as u64).saturating_mul(4);
                if let Some(available) = crate::io::available_bytes() {
                    ensure(bytes <= available, || {
                        format!(
                            "projection '{}': its dense kernel needs {bytes} bytes, only {available} are available",
                            p.name
                        )
                    })?;
                }
                Some(kernel_from_store(&p.store))
            }
            KernelFile::Stored(a) => {
                ensure(a.rows == rows && a.cols == cols, || {
                    format!(
                        "projection '{}': dense kernel is {} x {}, not post x pre = {rows} x {cols}",
                        p.name, a.rows, a.cols
                    )
                })?;
                Some(array_in(a, "dense kernel")?)
            }
        };
    }
    // spiking posts: the ring must hold every incoming delay
    for (i, pop) in f.populations.iter().enumerate() {
        if let PopulationState::Spiking(_) = pop.state {
            let max = projections
                .iter()
                .filter(|p| p.post == i)
                .map(|p| usize::from(p.store.max_delay()))
                .max()
                .unwrap_or(0);
            ensure(pop.ring.slots() > max, || {
                format!(
                    "population '{}': delay ring has {} slots, too few for a delay of {max} steps",
                    pop.name,
                    pop.ring.slots()
                )
            })?;
        }
    }
    let mut pending = Vec::with_capacity(f.pending.len());
    ensure(
        learning.pending.is_empty() || learning.pending.len() == f.pending.len(),
        || "learning section does not match the pending projections".to_string(),
    )?;
    let mut pending_rules = learning.pending.into_iter();
    for s in f.pending {
        let mut reader = SpecReader { lost: Vec::new() };
        let name = s.name.clone();
        let mut spec = reader
            .spec(s)
            .map_err(|m| format!("pending projection '{name}': {m}"))?;
        ensure(reader.lost.is_empty(), || {
            format!("pending projection '{name}' holds a closure marker")
        })?;
        pending_rules.next().unwrap_or_default().into_spec(&mut spec);
        pending.push(spec);
    }
    Ok(Network {
        dt: f.dt,
        seed: f.seed,
        step: f.step,
        base_dir: f.base_dir,
        populations: f.populations,
        projections,
        pending,
        set_count: f.set_count,
        draws,
        inputs: Vec::new(),
        noise: Vec::new(),
        rounding: crate::network::Rounding::Exact,
        health: crate::network::Health::default(),
    })
}

/// Counters beyond this cannot come from a run (2^62 steps of 1 µs are 146,000 years).
const COUNTER_MAX: u64 = 1 << 62;

fn lengths(what: &str, got: usize, expected: usize) -> Check {
    ensure(got == expected, || {
        format!("{what} has length {got}, expected {expected}")
    })
}

fn check_population(p: &Population, dt: f64) -> Check {
    let n = p.size;
    ensure(n >= 1 && n <= u32::MAX as usize, || format!("size {n} is out of range"))?;
    let specs = p.model.params();
    lengths("parameter list", p.params.len(), specs.len())?;
    for (spec, values) in specs.iter().zip(&p.params) {
        lengths(spec.name, values.len(), n)?;
        crate::model::check_values(&p.name, spec, values).map_err(|e| e.to_string())?;
    }
    ensure(p.derived.dt.to_bits() == dt.to_bits(), || {
        format!(
            "derived constants are for dt = {} ms, the network's is {dt}",
            p.derived.dt
        )
    })?;
    let d = Derived::new(&p.model, &p.params, dt);
    let pairs: [(&str, usize, usize); 8] = [
        ("dt_over_cm", p.derived.dt_over_cm.len(), d.dt_over_cm.len()),
        ("g_l", p.derived.g_l.len(), d.g_l.len()),
        ("p_mem", p.derived.p_mem.len(), d.p_mem.len()),
        ("r_mem", p.derived.r_mem.len(), d.r_mem.len()),
        ("k_e", p.derived.k_e.len(), d.k_e.len()),
        ("k_i", p.derived.k_i.len(), d.k_i.len()),
        ("ref_steps", p.derived.ref_steps.len(), d.ref_steps.len()),
        ("k_w", p.derived.k_w.len(), d.k_w.len()),
    ];
    for (what, got, expected) in pairs {
        lengths(what, got, expected)?;
    }
    lengths("positions", p.positions.len(), n)?;
    lengths("polarity", p.polarity.len(), n)?;
    lengths("current", p.current.len(), n)?;
    lengths("last_spike", p.last_spike.len(), n)?;
    for (what, x) in [("pre_noise", p.pre_noise), ("post_noise", p.post_noise)] {
        ensure(x.is_finite() && x >= 0.0, || {
            format!("{what} {x} is not a standard deviation")
        })?;
    }
    lengths("drive samplers", p.drive_tables.len(), p.drives.len())?;
    ensure(p.drives.is_empty() || p.model.synapse().is_some(), || {
        "has Poisson drives but takes no input".to_string()
    })?;
    for (drive, table) in p.drives.iter().zip(&p.drive_tables) {
        ensure(
            drive.rate.is_finite() && drive.rate >= 0.0 && drive.weight.is_finite(),
            || format!("drive {drive:?} is invalid"),
        )?;
        ensure(*table == PoissonTable::new(drive.rate * dt * 1e-3), || {
            format!("the sampler of drive {drive:?} does not match its rate")
        })?;
    }
    ensure(p.spike_count <= COUNTER_MAX, || {
        format!("spike count {} is implausibly large", p.spike_count)
    })?;
    let in_range = |v: &[u32]| v.iter().all(|&i| (i as usize) < n);
    ensure(in_range(&p.spikes), || "a spike names a neuron out of range".into())?;
    if let Some(rec) = &p.spike_record {
        ensure(rec.iter().all(|&(_, i)| (i as usize) < n), || {
            "the spike record names a neuron out of range".into()
        })?;
    }
    let chunks = n.div_ceil(NEURON_CHUNK);
    lengths("random streams", p.rngs.len(), chunks)?;
    ensure(p.rngs.iter().all(|r| !r.is_degenerate()), || {
        "a random stream is in its all-zero state".into()
    })?;
    lengths("spike scratch", p.spike_scratch.len(), chunks)?;
    ensure(p.spike_scratch.iter().all(|s| in_range(s)), || {
        "the spike scratch names a neuron out of range".into()
    })?;
    let ring = p.ring.slots().checked_mul(2).and_then(|x| x.checked_mul(n));
    ensure(ring == Some(p.ring.len()), || {
        format!("delay ring has {} entries for {} slots", p.ring.len(), p.ring.slots())
    })?;
    match (&p.model, &p.state) {
        (ModelKind::Rate { .. }, PopulationState::Rate(s)) => {
            ensure(s.batch >= 1, || "batch is 0".into())?;
            let len = n
                .checked_mul(s.batch)
                .ok_or_else(|| format!("batch {} is too large", s.batch))?;
            for (what, v) in [("v", &s.v), ("r", &s.r), ("input", &s.input), ("acc", &s.acc)] {
                lengths(what, v.len(), len)?;
            }
        }
        (ModelKind::PoissonSource, PopulationState::Poisson) => {}
        (ModelKind::SpikeSource, PopulationState::SpikeTimes { steps, next }) => {
            lengths("spike times", steps.len(), n)?;
            lengths("spike positions", next.len(), n)?;
        }
        (
            ModelKind::Lif { .. } | ModelKind::AdEx { .. } | ModelKind::Izhikevich { .. },
            PopulationState::Spiking(s),
        ) => {
            for (what, len) in [
                ("v", s.v.len()),
                ("w", s.w.len()),
                ("g_e", s.g_e.len()),
                ("g_i", s.g_i.len()),
                ("x_e", s.x_e.len()),
                ("x_i", s.x_i.len()),
                ("refractory", s.refractory.len()),
            ] {
                lengths(what, len, n)?;
            }
            ensure(p.ring.slots() >= 1, || "delay ring has no slots".into())?;
        }
        (model, _) => return Err(format!("state does not belong to a {} population", model.name())),
    }
    Ok(())
}

fn check_projection(q: &Projection, pops: &[Population]) -> Check {
    let (Some(pre), Some(post)) = (pops.get(q.pre), pops.get(q.post)) else {
        return Err(format!("population index {} or {} is out of range", q.pre, q.post));
    };
    ensure(q.recurrent == (q.pre == q.post), || "recurrent flag is wrong".into())?;
    ensure(q.rebuilds <= COUNTER_MAX, || {
        format!("rebuild count {} is implausibly large", q.rebuilds)
    })?;
    let rate = post.model.is_rate();
    ensure(pre.model.is_rate() == rate, || {
        format!("connects a {} to a {} population", pre.model.name(), post.model.name())
    })?;
    ensure(rate || matches!(post.state, PopulationState::Spiking(_)), || {
        format!("post population '{}' takes no input", post.name)
    })?;
    if let Some(plastic) = &q.plastic {
        let delay = if rate {
            0
        } else {
            match &q.store.delay {
                Column::Uniform(d) => usize::from(*d),
                Column::PerSynapse(_) => return Err("a learning projection has per-synapse delays".into()),
            }
        };
        let batch = match &post.state {
            PopulationState::Rate(r) => r.batch,
            _ => 1,
        };
        plastic.check(pre.size, post.size, q.store.len(), delay, batch, pops.len())?;
    }
    let s = &q.store;
    ensure(s.n_pre as usize == pre.size && s.n_post as usize == post.size, || {
        format!(
            "store is {} x {} (pre x post), the populations have {} and {} neurons",
            s.n_pre, s.n_post, pre.size, post.size
        )
    })?;
    let major = if rate { Major::Post } else { Major::Pre };
    ensure(s.major == major, || {
        format!("store rows are {:?}, expected {major:?}", s.major)
    })?;
    let (rows, other) = match s.major {
        Major::Pre => (s.n_pre, s.n_post),
        Major::Post => (s.n_post, s.n_pre),
    };
    let len = s.minor.len();
    lengths("row pointer", s.row_ptr.len(), rows as usize + 1)?;
    ensure(
        s.row_ptr[0] == 0 && s.row_ptr.windows(2).all(|w| w[0] <= w[1]) && s.row_ptr[rows as usize] == len as u64,
        || "row pointer is not a valid compressed-row index".into(),
    )?;
    lengths("weights", s.weight.len(), len)?;
    if let Column::PerSynapse(v) = &s.sign {
        lengths("signs", v.len(), len)?;
    }
    ensure(s.minor.iter().all(|m| m < other), || {
        "a synapse index is out of range".into()
    })?;
    ensure((0..rows as usize).all(|r| s.minor.is_sorted(s.row(r))), || {
        "a row is not sorted".into()
    })?;
    ensure(s.signs().all(|x| (-1..=1).contains(&x)), || {
        "a sign is not -1, 0 or 1".into()
    })?;
    let removed = s.signs().filter(|&x| x == REMOVED).count() as u64;
    ensure(s.removed == removed, || {
        format!("counts {} removed synapses, the signs say {removed}", s.removed)
    })?;
    match &s.delay {
        Column::Uniform(d) => ensure(*d >= 1, || "a delay is 0 steps".into())?,
        Column::PerSynapse(v) => {
            lengths("delays", v.len(), len)?;
            ensure(v.iter().all(|&d| d >= 1), || "a delay is 0 steps".into())?;
        }
    }
    if let Column::PerSynapse(v) = &s.plasticity {
        lengths("plasticity factors", v.len(), len)?;
    }
    let (n_post, n_pre) = (post.size, pre.size);
    let cells = n_post.checked_mul(n_pre).ok_or("mask size overflows")?;
    let m = &q.masks;
    if let Some(b) = &m.sparsity {
        ensure(b.rows == n_post && b.cols == n_pre, || {
            "sparsity mask has the wrong shape".into()
        })?;
        lengths("sparsity mask", b.bits.len(), cells.div_ceil(64))?;
    }
    match &m.signs {
        Some(SignMask::PerPre(v)) => {
            lengths("E/I mask", v.len(), n_pre)?;
            ensure(v.iter().all(|&x| x == 1 || x == -1), || {
                "E/I mask entries must be +1 or -1".into()
            })?;
        }
        Some(SignMask::PerSynapse(a)) => {
            check_matrix("E/I mask", a, n_post, n_pre)?;
            ensure(a.data.iter().all(|&x| x == 1 || x == -1), || {
                "E/I mask entries must be +1 or -1".into()
            })?;
        }
        None => {}
    }
    for (what, a) in [("plasticity mask", &m.plasticity), ("growth mask", &m.growth)] {
        if let Some(a) = a {
            check_matrix(what, a, n_post, n_pre)?;
        }
    }
    Ok(())
}

fn check_matrix<T>(what: &str, a: &Matrix<T>, rows: usize, cols: usize) -> Check {
    ensure(a.rows == rows && a.cols == cols, || {
        format!("{what} is {} x {}, expected {rows} x {cols}", a.rows, a.cols)
    })?;
    lengths(what, a.data.len(), rows * cols)
}

impl Projection {
    /// Errs when the strategy of this projection cannot be reapplied because
    /// its spec held Rust closures that a checkpoint could not keep (see
    /// [`Projection::lost_closures`]). Every reapply of the strategy calls it first.
    pub fn check_rebuild(&self) -> Result<()> {
        if self.lost_closures.is_empty() {
            return Ok(());
        }
        Err(CheckpointError::LostClosures {
            projection: self.name.clone(),
            closures: self.lost_closures.join(", "),
        })
    }
}
