//! Helpers shared by the integration tests.

use bevy_ecs::prelude::*;
use cortecs::prelude::*;

/// Every synapse entity of projection `k` of the network entity `network`
/// mirrors its store row (weight, sign, delay, plasticity, pair, column),
/// and every live row has one.
pub fn check_mirrors(world: &mut World, network: Entity, k: usize, context: &str) {
    let eng = world.get::<NetworkEngine>(network).unwrap();
    let p = &eng.net.projections[k];
    let store = p.store().clone();
    let ents = eng.synapse_entities[k].clone();
    let (pre_n, post_n) = (eng.neuron_entities[p.pre].clone(), eng.neuron_entities[p.post].clone());
    let je = eng.projection_entities[k];
    assert_eq!(ents.len(), store.len(), "{context}: entity column length");
    let mut q = world.query::<(Entity, &Synapse, &SynapseRow, &Weight)>();
    let mut count = 0;
    for (e, syn, row, w) in q.iter(world) {
        if syn.projection != je {
            continue;
        }
        count += 1;
        let s = row.slot.index();
        assert_eq!(ents[s], e, "{context}: column of slot {s}");
        assert_eq!(
            w.0.to_bits(),
            store.weight[s].to_bits(),
            "{context}: weight of slot {s}"
        );
        assert_eq!(row.sign, store.sign[s], "{context}: sign of slot {s}");
        assert_eq!(row.delay, store.delay.get(s), "{context}: delay of slot {s}");
        assert_eq!(
            row.plasticity,
            store.plasticity.get(s),
            "{context}: plasticity of slot {s}"
        );
        let (a, b) = store.pair(s);
        assert_eq!(
            (syn.pre, syn.post),
            (pre_n[a as usize], post_n[b as usize]),
            "{context}: pair"
        );
    }
    assert_eq!(count, store.live(), "{context}: one entity per live synapse");
}
