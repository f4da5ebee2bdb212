//! Memory accounting: measured store bytes and refusal of networks that will not fit.

use cortecs::network::{estimate_pending, synapse_memory};
use cortecs::prelude::*;

#[test]
fn a_network_that_cannot_fit_is_refused_with_the_estimate() {
    let mut net = Network::new(0.1, 1).unwrap();
    net.add_population(PopulationSpec::new("src", 1_000_000, ModelKind::PoissonSource))
        .unwrap();
    net.add_population(PopulationSpec::new(
        "dst",
        200_000,
        ModelKind::Lif {
            synapse: SynapseKind::Delta,
        },
    ))
    .unwrap();
    net.add_projection(ProjectionSpec::new("all", "src", "dst", Strategy::AllToAll).compact(true))
        .unwrap();
    let e = net.build_pending().unwrap_err().to_string();
    assert!(
        e.starts_with("network needs an estimated 1800000000000 bytes (all: 200000000000 synapses x 9 B)"),
        "{e}"
    );
    assert!(net.projections.is_empty() && net.pending.is_empty());
}

#[test]
fn compact_store_costs_about_nine_bytes_per_synapse() {
    let mut net = Network::new(0.1, 1).unwrap();
    net.add_population(PopulationSpec::new(
        "a",
        2000,
        ModelKind::Lif {
            synapse: SynapseKind::Delta,
        },
    ))
    .unwrap();
    let spec = ProjectionSpec::new("aa", "a", "a", Strategy::FixedInDegree { k: 200 })
        .multapses(true)
        .delay(1.5)
        .compact(true);
    net.add_projection(spec).unwrap();
    let (estimate, _) = estimate_pending(&net).unwrap();
    assert_eq!(estimate, 2000 * 200 * 9);
    net.build_pending().unwrap();
    let m = synapse_memory(&net);
    assert_eq!(m.synapses, 400_000);
    assert!(
        m.store_per_synapse() >= 9.0 && m.store_per_synapse() < 9.2,
        "{}",
        m.store_per_synapse()
    );
    assert_eq!(m.mirrored, 0);
}
