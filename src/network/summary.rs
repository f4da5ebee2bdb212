//! A network summary (nn4n's `print_layers`): populations, projections with weight statistics and masks, memory.

use super::Network;
use crate::projection::{EigenMethod, SignFilter, WeightStats};
use std::fmt;

/// Largest square projection whose spectral radius the summary computes
/// (dense eigenvalues, well under a second); larger ones show none (ask
/// [`Network::spectral_radius`], which uses Arnoldi there).
pub const SUMMARY_RADIUS_MAX: usize = 500;

impl Network {
    /// A summary of the network (nn4n's `print_layers`): populations,
    /// projections with their weight statistics and masks, memory.
    pub fn summary(&self) -> NetworkSummary {
        let populations = self
            .populations
            .iter()
            .map(|p| PopulationSummary {
                name: p.name.clone(),
                size: p.size,
                model: p.model.name().to_string(),
                params: p.param_summary(),
                ei_ratio: self.ei_input_of(&p.name).ok().and_then(|ei| {
                    let (e, i): (f64, f64) = (ei.excitatory.iter().sum(), ei.inhibitory.iter().sum());
                    (i > 0.0).then(|| e / i)
                }),
            })
            .collect();
        let projections = self
            .projections
            .iter()
            .map(|p| {
                let s = &p.store;
                let count = |f| s.weight_stats(f).count;
                ProjectionSummary {
                    name: p.name.clone(),
                    pre: self.populations[p.pre].name.clone(),
                    post: self.populations[p.post].name.clone(),
                    strategy: p.strategy.name().to_string(),
                    synapses: s.live(),
                    excitatory: count(SignFilter::Excitatory),
                    inhibitory: count(SignFilter::Inhibitory),
                    stats: s.weight_stats(SignFilter::Both),
                    dale: s.dale,
                    compact: p.compact,
                    masks: p.masks.status(),
                    spectral_radius: (s.n_pre == s.n_post && (1..=SUMMARY_RADIUS_MAX).contains(&(s.n_pre as usize)))
                        .then(|| p.spectral_radius(EigenMethod::Dense).ok())
                        .flatten(),
                    learning: learning_status(&p.spec),
                    bytes: s.bytes()
                        + p.masks.bytes()
                        + p.dense.as_ref().map_or(0, |d| d.len() * 4)
                        + p.plastic.as_ref().map_or(0, |q| q.bytes()),
                }
            })
            .collect();
        NetworkSummary {
            dt: self.dt,
            time_ms: self.time(),
            populations,
            projections,
            bytes: crate::network::synapse_memory(self).store_bytes as usize,
        }
    }
}

fn human_bytes(b: usize) -> String {
    match b {
        0..1_000_000 => format!("{:.1} kB", b as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        _ => format!("{:.2} GB", b as f64 / 1e9),
    }
}

/// One population in a [`NetworkSummary`].
#[derive(Clone, Debug, PartialEq)]
pub struct PopulationSummary {
    /// Name.
    pub name: String,
    /// Number of neurons.
    pub size: usize,
    /// Model name.
    pub model: String,
    /// Key parameters: name, mean value, unit.
    pub params: Vec<(String, f64, &'static str)>,
    /// Excitatory / |inhibitory| input summed over its neurons (all
    /// projections onto it; per neuron: [`Network::ei_input_of`]); `None`
    /// without inhibitory input.
    pub ei_ratio: Option<f64>,
}

/// One projection in a [`NetworkSummary`].
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectionSummary {
    /// Name.
    pub name: String,
    /// Pre population.
    pub pre: String,
    /// Post population.
    pub post: String,
    /// Strategy name.
    pub strategy: String,
    /// Live synapses.
    pub synapses: u64,
    /// Excitatory synapses.
    pub excitatory: u64,
    /// Inhibitory synapses.
    pub inhibitory: u64,
    /// Weight statistics over all synapses.
    pub stats: WeightStats,
    /// Dale's law on.
    pub dale: bool,
    /// No mirror entities.
    pub compact: bool,
    /// Which masks are set.
    pub masks: String,
    /// Learning rules, growth and pruning (empty when the projection is fixed).
    pub learning: String,
    /// Bytes of the store, masks and kernel.
    pub bytes: usize,
    /// Spectral radius of the weight matrix (square projections up to
    /// [`SUMMARY_RADIUS_MAX`] neurons).
    pub spectral_radius: Option<f64>,
}

/// A network summary (nn4n's `print_layers`); `Display` prints it as a table.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkSummary {
    /// Time step (ms).
    pub dt: f64,
    /// Simulated time (ms).
    pub time_ms: f64,
    /// Populations.
    pub populations: Vec<PopulationSummary>,
    /// Projections.
    pub projections: Vec<ProjectionSummary>,
    /// Bytes of all stores and kernels.
    pub bytes: usize,
}

impl fmt::Display for NetworkSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "network: dt = {} ms, t = {} ms", self.dt, self.time_ms)?;
        writeln!(f, "populations:")?;
        for p in &self.populations {
            let params: Vec<String> = p
                .params
                .iter()
                .map(|(n, v, u)| {
                    if u.is_empty() || *u == "1" {
                        format!("{n}={v}")
                    } else {
                        format!("{n}={v} {u}")
                    }
                })
                .collect();
            let ei = p.ei_ratio.map_or(String::new(), |r| format!("  E/I input {r:.4}"));
            writeln!(
                f,
                "  {:<12} {:>9} {:<14} {}{ei}",
                p.name,
                p.size,
                p.model,
                params.join(", ")
            )?;
        }
        writeln!(f, "projections:")?;
        for p in &self.projections {
            let radius = p.spectral_radius.map_or(String::new(), |r| format!("  radius {r:.4}"));
            writeln!(
                f,
                "  {:<12} {} -> {}  {}  {} synapses ({} E, {} I)  w mean {:.4} std {:.4} [{:.4}, {:.4}]{radius}  dale {}  {}  masks: {}  {}",
                p.name,
                p.pre,
                p.post,
                p.strategy,
                p.synapses,
                p.excitatory,
                p.inhibitory,
                p.stats.mean,
                p.stats.std,
                p.stats.min,
                p.stats.max,
                if p.dale { "on" } else { "off" },
                if p.compact { "compact" } else { "mirrored" },
                p.masks,
                human_bytes(p.bytes)
            )?;
            if !p.learning.is_empty() {
                writeln!(f, "  {:<12} learns: {}", "", p.learning)?;
            }
        }
        write!(f, "memory: {} in stores and kernels", human_bytes(self.bytes))
    }
}

/// The learning rules, growth and pruning of a projection, in words.
fn learning_status(spec: &crate::projection::ProjectionSpec) -> String {
    let mut parts: Vec<String> = spec
        .learning
        .iter()
        .map(|l| match l.w_max {
            Some(hi) => format!("{} in [{}, {hi}]", l.rule.name(), l.w_min),
            None => format!("{} above {}", l.rule.name(), l.w_min),
        })
        .collect();
    if let Some(g) = &spec.growth {
        parts.push(format!("growth every {} ms", g.every));
    }
    if let Some(p) = &spec.pruning {
        parts.push(format!("pruning below {} after {} ms", p.threshold, p.after));
    }
    parts.join(", ")
}
