//! The memory budget: what a network's stores and mirrors cost, measured,
//! and estimated before building (the OS probes are in `io/`).

use super::Network;

/// Memory of a built network's synapses, in bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SynapseMemory {
    /// Live synapses.
    pub synapses: u64,
    /// Bytes held by the synapse stores (the kernels read these directly).
    pub store_bytes: u64,
    /// Mirrored synapses (those with an entity).
    pub mirrored: u64,
    /// Bytes of learning state (traces, eligibility, post index, pruning counters).
    pub learning_bytes: u64,
}

impl SynapseMemory {
    /// Store bytes per synapse.
    pub fn store_per_synapse(&self) -> f64 {
        self.store_bytes as f64 / self.synapses.max(1) as f64
    }
}

/// Measures the stores of a network.
pub fn synapse_memory(net: &Network) -> SynapseMemory {
    let mut m = SynapseMemory {
        synapses: 0,
        store_bytes: 0,
        mirrored: 0,
        learning_bytes: 0,
    };
    for p in &net.projections {
        m.synapses += p.store.live();
        m.store_bytes += p.store.bytes() as u64;
        if !p.compact {
            m.mirrored += p.store.live();
        }
        m.learning_bytes += p.plastic.as_ref().map_or(0, |q| q.bytes() as u64);
    }
    m
}

/// Bytes per synapse of a mirror entity (the `Synapse`, `Weight` and
/// `SynapseRow` components, their change ticks and the entity itself), measured with `cortecs workload w2 --mirrored`
/// (see BENCHMARKS.md); used for estimates before building.
pub const MIRROR_BYTES_PER_SYNAPSE: f64 = 130.0;

/// Estimated bytes of the synapses of projections not built yet: the
/// expected synapse count times the store's bytes per synapse (other index
/// of 2 or 4 bytes, weight, sign, and a delay column when delays vary), plus the mirror
/// entities of non-compact projections and the learning state (a 4-byte
/// post index per synapse of a learning spiking projection, 4 bytes of
/// eligibility for reward STDP, 2 bytes of pruning counters).
pub fn estimate_pending(net: &Network) -> crate::Result<(u64, String)> {
    let mut total = 0.0;
    let mut detail = Vec::new();
    for spec in &net.pending {
        let pre = net.population_index(&spec.pre)?;
        let post = net.population_index(&spec.post)?;
        let count = crate::connect::expected_count(&spec.strategy, &net.connect_input(spec, pre, post))?;
        let varying_delay = spec.delay.as_ref().is_some_and(|d| d.as_const().is_none());
        // rows are pre neurons for spiking projections, post units for rate ones
        let other = if net.populations[post].model.is_rate() {
            pre
        } else {
            post
        };
        let narrow = net.populations[other].size as u64 <= u64::from(crate::store::NARROW_MAX);
        // the sign byte counts even where every synapse will share one sign (an upper bound)
        let store = if narrow { 2.0 } else { 4.0 } + 4.0 + 1.0 + if varying_delay { 2.0 } else { 0.0 };
        let mirror = if spec.compact { 0.0 } else { MIRROR_BYTES_PER_SYNAPSE };
        let rewires = spec.growth.is_some() || spec.pruning.is_some();
        let index = if spec.learning.is_empty() && !rewires { 0.0 } else { 4.0 };
        let eligibility = 4.0
            * spec
                .learning
                .iter()
                .filter(|l| matches!(l.rule, crate::plasticity::Rule::RewardStdp(_)))
                .count() as f64;
        let counters = if spec.pruning.is_some() { 2.0 } else { 0.0 };
        let store = store + index + eligibility + counters;
        total += count * (store + mirror);
        detail.push(format!(
            "{}: {:.0} synapses x {:.0} B",
            spec.name,
            count,
            store + mirror
        ));
    }
    Ok((total as u64, detail.join(", ")))
}

/// The transient peak of building the pending projections, in bytes: one
/// projection is built at a time, and while its store is made it holds its
/// drawn weights as f64 (8 B per synapse; none for one weight for all),
/// its (pre, post) index arrays (8 B) when a weight or delay is a function
/// of the pair and the drawn delays (8 B) when they vary. The largest
/// projection counts. Measured: W2 (one weight) 2 MiB over its stores at
/// one thread, W3 77 MiB over 10^7 synapses (BENCHMARKS.md, "Memory:
/// estimate before building").
pub fn estimate_build_peak(net: &Network) -> crate::Result<u64> {
    let mut peak = 0.0f64;
    for spec in &net.pending {
        let pre = net.population_index(&spec.pre)?;
        let post = net.population_index(&spec.post)?;
        let count = crate::connect::expected_count(&spec.strategy, &net.connect_input(spec, pre, post))?;
        let pairs = spec.weight.needs_pairs()
            || spec.weight_inh.as_ref().is_some_and(crate::param::Value::needs_pairs)
            || spec.delay.as_ref().is_some_and(crate::param::Value::needs_pairs);
        let varying_delay = spec.delay.as_ref().is_some_and(|d| d.as_const().is_none());
        let drawn = spec.weight.as_const().is_none() || spec.weight_inh.is_some();
        let bytes = |yes: bool, b: f64| if yes { b } else { 0.0 };
        let per = bytes(drawn, 8.0) + bytes(pairs, 8.0) + bytes(varying_delay, 8.0);
        peak = peak.max(count * per);
    }
    Ok(peak as u64)
}

/// Resident memory of the process before any network (the binary, its
/// libraries, the thread pool): 9.4 MiB measured with `cortecs workload w3-empty`.
pub const PROCESS_BYTES: u64 = 9_800_000;

/// The peak resident memory a network will reach, estimated before its
/// pending projections are built (bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// The process itself ([`PROCESS_BYTES`]).
    pub process: u64,
    /// Populations: parameters, state, input rings ([`population_bytes`]).
    pub populations: u64,
    /// Synapse stores, mirror entities and learning state ([`estimate_pending`]) plus what is built already.
    pub synapses: u64,
    /// The transient of building the largest pending projection ([`estimate_build_peak`]).
    pub build_peak: u64,
}

impl MemoryEstimate {
    /// The estimated peak: the sum of the parts.
    pub fn total(&self) -> u64 {
        self.process + self.populations + self.synapses + self.build_peak
    }
}

/// Estimates the peak resident memory of `net` once its pending
/// projections are built; the input ring of each population is sized by
/// the longest constant delay onto it.
pub fn estimate_memory(net: &Network) -> crate::Result<MemoryEstimate> {
    let mut populations = 0u128;
    for (k, p) in net.populations.iter().enumerate() {
        let delay_steps = |d: Option<&crate::param::Value>| {
            d.and_then(crate::param::Value::as_const)
                .map_or(1, |ms| (ms / net.dt).round().max(0.0) as u64 + 1)
        };
        let ring = net
            .pending
            .iter()
            .filter(|q| net.population_index(&q.post).ok() == Some(k))
            .map(|q| delay_steps(q.delay.as_ref()))
            .chain(
                net.projections
                    .iter()
                    .filter(|q| q.post == k)
                    .map(|q| u64::from(q.store.max_delay()) + 1),
            )
            .max()
            .unwrap_or(1);
        populations += population_bytes(&p.model, p.size, p.trials(), ring);
    }
    let built = synapse_memory(net);
    Ok(MemoryEstimate {
        process: PROCESS_BYTES,
        populations: populations.min(u128::from(u64::MAX)) as u64,
        synapses: estimate_pending(net)?.0
            + built.store_bytes
            + built.learning_bytes
            + (built.mirrored as f64 * MIRROR_BYTES_PER_SYNAPSE) as u64,
        build_peak: estimate_build_peak(net)?,
    })
}

/// Estimated peak bytes of a population of `size` neurons of `model` with
/// `batch` trials (rate units) before it is built: each parameter and its
/// derived constants per neuron (12 B on average), positions, polarity,
/// input, state and spike bookkeeping, and for spiking populations an
/// input ring of `ring_steps` steps (16 B per neuron and step). Calibrated
/// against the peak resident memory of 10^6-neuron populations (measured
/// LIF 342, AdEx 366, rate with batch 8 258 bytes per neuron; estimated
/// 334, 382, 256; see BENCHMARKS.md).
/// Computed in u128 so that absurd sizes are reported, not overflowed.
pub fn population_bytes(model: &crate::model::ModelKind, size: usize, batch: usize, ring_steps: u64) -> u128 {
    use crate::model::ModelKind;
    let n = size as u128;
    let params = 12 * model.params().len() as u128;
    match model {
        ModelKind::Rate { .. } => n * (params + 60 + 20 * batch.max(1) as u128),
        ModelKind::PoissonSource | ModelKind::SpikeSource => n * (params + 80),
        _ => n * (params + 150 + 16 * u128::from(ring_steps.max(1))),
    }
}
