//! Memory accounting: what a network's stores and mirrors cost, measured
//! and estimated before building.

use crate::network::Network;

/// Peak resident set size of this process (bytes), from `/proc/self/status` (Linux).
pub fn peak_rss_bytes() -> Option<u64> {
    proc_status_kib("VmHWM:").map(|k| k * 1024)
}

/// Current resident set size of this process (bytes) (Linux).
pub fn rss_bytes() -> Option<u64> {
    proc_status_kib("VmRSS:").map(|k| k * 1024)
}

fn proc_status_kib(key: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Memory of a built network's synapses, in bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SynapseMemory {
    /// Live synapses.
    pub synapses: u64,
    /// Bytes held by the synapse stores (the kernels read these directly).
    pub store_bytes: u64,
    /// Mirrored synapses (those with an entity).
    pub mirrored: u64,
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
    };
    for p in &net.projections {
        m.synapses += p.store.live();
        m.store_bytes += p.store.bytes() as u64;
        if !p.compact {
            m.mirrored += p.store.live();
        }
    }
    m
}
