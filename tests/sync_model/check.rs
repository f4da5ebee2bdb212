//! What must hold after every operation: the weights the store gives
//! (dense and COO reads), the mirror entities, the dense kernel and a
//! one-step propagation agree with the reference; the masks, Dale's law and
//! the pruning counters hold.

use super::reference::RefProj;
use cortecs::prelude::*;
use std::collections::HashMap;

/// The same weight: bit-identical (a zero may carry either sign).
pub fn same(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a == 0.0 && b == 0.0)
}

/// Every check, on both projections.
pub fn check(sim: &mut Simulation, refs: &[RefProj; 2], ctx: &str) {
    for (k, r) in refs.iter().enumerate() {
        check_store(sim.network().unwrap(), k, r, ctx);
        if !r.compact {
            check_mirror(sim, k, r, ctx);
        }
    }
    check_kernel(sim.network().unwrap(), refs, ctx);
}

fn check_store(net: &Network, k: usize, r: &RefProj, ctx: &str) {
    let name = r.name;
    let p = &net.projections[k];
    assert_eq!(p.name, name);
    let s = p.store();
    assert_eq!(s.dale, r.dale, "{ctx}: {name}: Dale's law on or off");
    // COO: every live synapse once, as the reference has it
    let coo = net.weights_coo(name).unwrap();
    let mut seen = HashMap::new();
    for i in 0..coo.pre.len() {
        let (pre, post, w) = (coo.pre[i] as usize, coo.post[i] as usize, coo.weight[i]);
        assert!(
            seen.insert((pre, post), w).is_none(),
            "{ctx}: {name}: two synapses ({pre}, {post}) on a projection without multapses"
        );
        let Some(want) = r.get(pre, post) else {
            panic!("{ctx}: {name}: the store has ({pre}, {post}) = {w}, the reference has no synapse there");
        };
        assert!(
            same(w, want.w),
            "{ctx}: {name}: weight ({pre}, {post}) is {w} in the store, {} in the reference",
            want.w
        );
    }
    for (pre, post) in r.live() {
        assert!(
            seen.contains_key(&(pre, post)),
            "{ctx}: {name}: the reference has ({pre}, {post}) = {}, the store has no synapse there",
            r.get(pre, post).unwrap().w
        );
    }
    // the dense read
    let d = net.weights_dense(name).unwrap();
    assert_eq!(d.dim(), (r.n_post, r.n_pre));
    for ((post, pre), &w) in d.indexed_iter() {
        let want = r.get(pre, post).map_or(0.0, |s| s.w);
        assert!(
            same(w, want),
            "{ctx}: {name}: dense [{post}, {pre}] = {w}, reference {want}"
        );
    }
    // per live slot: sign, learning factor, masks, Dale, pruning counter (the engine's own masks too)
    let masks = net.masks(name).unwrap();
    let small = p.plastic().and_then(|q| q.rewiring.as_ref()).filter(|rw| rw.counting);
    assert_eq!(small.is_some(), r.pruning.is_some(), "{ctx}: {name}: pruning counters");
    for slot in 0..s.len() {
        if s.sign[slot] == 0 {
            continue;
        }
        let (pre, post) = s.pair(slot);
        let (a, b) = (pre as usize, post as usize);
        let want = r.get(a, b).unwrap();
        assert_eq!(s.sign[slot], want.sign, "{ctx}: {name}: sign of ({pre}, {post})");
        assert_eq!(
            s.plasticity.get(slot),
            r.factor(a, b),
            "{ctx}: {name}: learning factor of ({pre}, {post})"
        );
        assert!(
            masks.allows(pre, post, p.recurrent),
            "{ctx}: {name}: ({pre}, {post}) is forbidden"
        );
        if let Some(m) = &masks.signs {
            assert_eq!(
                s.sign[slot],
                m.sign(pre, post),
                "{ctx}: {name}: E/I mask at ({pre}, {post})"
            );
        }
        if s.dale {
            assert!(
                f32::from(s.sign[slot]) * s.weight[slot] >= 0.0,
                "{ctx}: {name}: Dale's law broken at ({pre}, {post}): sign {}, weight {}",
                s.sign[slot],
                s.weight[slot]
            );
        }
        if let Some(m) = &masks.plasticity {
            assert_eq!(
                s.plasticity.get(slot),
                m.get(post, pre),
                "{ctx}: {name}: plasticity mask"
            );
        }
        if let Some(rw) = small {
            assert_eq!(
                rw.small[slot], want.small,
                "{ctx}: {name}: pruning counter of ({pre}, {post}) (slot {slot})"
            );
        }
    }
    assert_eq!(
        masks.self_connections, r.self_connections,
        "{ctx}: {name}: self-connections"
    );
    for post in 0..r.n_post {
        for pre in 0..r.n_pre {
            let i = r.idx(pre, post);
            let (a, b) = (pre as u32, post as u32);
            assert_eq!(
                masks.sparsity.as_ref().is_none_or(|m| m.get(b, a)),
                r.sparsity.as_ref().is_none_or(|m| m[i]),
                "{ctx}: {name}: sparsity mask at ({pre}, {post})"
            );
            assert_eq!(
                masks.signs.as_ref().map(|m| m.sign(a, b)),
                r.signs.as_ref().map(|m| m[i]),
                "{ctx}: {name}: E/I mask at ({pre}, {post})"
            );
        }
    }
}

/// The synapse entities: one per live synapse, with its weight, sign and factor.
fn check_mirror(sim: &mut Simulation, k: usize, r: &RefProj, ctx: &str) {
    let network = sim.network;
    super::common::check_mirrors(&mut sim.world, network, k, &format!("{ctx}: {}", r.name));
    let je = sim.engine().unwrap().projection_entities[k];
    let mut q = sim.world.query::<(&Synapse, &Weight, &SynapseRow)>();
    let mut found = 0;
    for (syn, w, row) in q.iter(&sim.world) {
        if syn.projection != je {
            continue;
        }
        let pre = sim.world.get::<Neuron>(syn.pre).unwrap().index as usize;
        let post = sim.world.get::<Neuron>(syn.post).unwrap().index as usize;
        let Some(want) = r.get(pre, post) else {
            panic!(
                "{ctx}: {}: an entity mirrors ({pre}, {post}), which the reference lacks",
                r.name
            );
        };
        assert!(
            same(w.0, want.w),
            "{ctx}: {}: entity ({pre}, {post}) weighs {}, reference {}",
            r.name,
            w.0,
            want.w
        );
        assert_eq!(row.sign, want.sign, "{ctx}: {}: entity sign ({pre}, {post})", r.name);
        assert_eq!(row.plasticity, r.factor(pre, post), "{ctx}: {}: entity factor", r.name);
        found += 1;
    }
    assert_eq!(found, r.live().len(), "{ctx}: {}: one entity per synapse", r.name);
}

/// What the next step uses: the dense kernel where there is one, and a
/// one-step propagation of each unit vector through a copy of the network.
fn check_kernel(net: &Network, refs: &[RefProj; 2], ctx: &str) {
    for (k, r) in refs.iter().enumerate() {
        let p = &net.projections[k];
        if let Some(d) = &p.dense {
            let store = p.store().to_dense();
            for ((post, pre), &w) in d.indexed_iter() {
                assert_eq!(
                    w.to_bits(),
                    store[[post, pre]].to_bits(),
                    "{ctx}: {}: dense kernel [{post}, {pre}] = {w}, store {}",
                    r.name,
                    store[[post, pre]]
                );
            }
        }
    }
    let mut net = net.clone();
    // the probe steps must not prune or grow (the case's own steps do)
    for p in &mut net.projections {
        p.spec.growth = None;
        p.spec.pruning = None;
    }
    let (n_a, n_h) = (refs[0].n_pre, refs[1].n_pre);
    let quiet = |net: &mut Network| {
        net.reset_rates();
        for i in 0..n_a {
            net.populations[0].set_input(i, 0.0);
        }
        for i in 0..n_h {
            net.populations[1].set_input(i, 0.0);
        }
    };
    let probe = |net: &mut Network, r: &RefProj, col: usize, via: &str| {
        let v = net.get("h", "v", &View::All).unwrap();
        for (post, &x) in v.iter().enumerate() {
            let want = r.get(col, post).map_or(0.0, |s| s.w);
            assert!(
                x as f32 == want,
                "{ctx}: {}: the step puts {x} into h[{post}] from a unit rate of pre {col} ({via}); reference {want}",
                r.name
            );
        }
    };
    for col in 0..n_a {
        // a's rate is its input in the same step (a is updated first), h's previous rate is 0
        quiet(&mut net);
        net.populations[0].set_input(col, 1.0);
        net.step_once();
        probe(&mut net, &refs[0], col, "a -> h");
    }
    for col in 0..n_h {
        // one step makes h's rate the unit vector, the next propagates it through hh
        quiet(&mut net);
        net.populations[1].set_input(col, 1.0);
        net.step_once();
        net.populations[1].set_input(col, 0.0);
        net.step_once();
        probe(&mut net, &refs[1], col, "h -> h");
    }
}
