//! `cortecs workload NAME`: the reference workloads of WORKLOADS.md, with timings.

use super::say;
use std::time::Instant;

/// Runs workload `name` and prints its timings and results.
pub fn workload(name: &str, seed: u64, n_exc: usize, hidden: usize, ms: f64, mirrored: bool) -> cortecs::Result<()> {
    let t0 = Instant::now();
    let mut net = match name {
        "w1" => cortecs::workloads::coba(seed, std::path::Path::new("scenes/data"))?,
        "w2" if mirrored => {
            let net = cortecs::workloads::brunel(seed, n_exc, 1000, false)?;
            let (rss0, t) = (cortecs::io::rss_bytes().unwrap_or(0), Instant::now());
            let mut sim = cortecs::ecs::Simulation::from_network(net);
            sim.build()?;
            let rss1 = cortecs::io::rss_bytes().unwrap_or(0);
            let n: u64 = sim.network()?.projections.iter().map(|p| p.store().live()).sum();
            say!(
                "w2 mirrored: spawned {n} synapse entities in {:.3} s, {:.1} B/synapse for the mirrors (RSS growth)",
                t.elapsed().as_secs_f64(),
                (rss1.saturating_sub(rss0)) as f64 / n as f64
            );
            let t1 = Instant::now();
            sim.run_ms(ms)?;
            say!(
                "w2 mirrored: simulated {ms} ms in {:.3} s (incl. writeback of every mirror at the end)",
                t1.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        "w2" => cortecs::workloads::brunel(seed, n_exc, 1000, true)?,
        "w5" => cortecs::workloads::brunel_stdp(seed, n_exc, 1000, true)?,
        "w3" | "w3-empty" => {
            let mut net = cortecs::workloads::w3_populations(12345)?;
            let populations_s = t0.elapsed().as_secs_f64();
            let t = Instant::now();
            if name == "w3" {
                net.connect(cortecs::workloads::w3_projection())?;
            }
            let connect_s = t.elapsed().as_secs_f64();
            let m = cortecs::network::synapse_memory(&net);
            say!(
                "{name}: populations {populations_s:.3} s, connect + weights {connect_s:.3} s, synapses {}, store {:.2} B/synapse, peak RSS {} KiB",
                m.synapses,
                m.store_per_synapse(),
                cortecs::io::peak_rss_bytes().unwrap_or(0) / 1024
            );
            return Ok(());
        }
        "w4" => {
            let mut w4 = cortecs::workloads::Ctrnn::uniform(10, hidden, 2, 32, 12345);
            let u = cortecs::workloads::Ctrnn::gaussian_input(100, 32, 10, 12346);
            let t = Instant::now();
            let reps = 30;
            let mut y = w4.forward(&u);
            for _ in 1..reps {
                y = w4.forward(&u);
            }
            let per = t.elapsed().as_secs_f64() / reps as f64;
            say!(
                "w4 H={hidden}: forward {:.3} ms (mean of {reps}), y[0,0,0] = {:.6}",
                per * 1e3,
                y[[0, 0, 0]]
            );
            return Ok(());
        }
        other => {
            return Err(cortecs::CortecsError::UnknownName {
                kind: "workload",
                name: other.into(),
                known: ["w1", "w2", "w3", "w3-empty", "w4", "w5"].map(String::from).to_vec(),
            });
        }
    };
    let build = t0.elapsed().as_secs_f64();
    let synapses: u64 = net.projections.iter().map(|p| p.store().live()).sum();
    let store_bytes: usize = net.projections.iter().map(|p| p.store().bytes()).sum();
    let t1 = Instant::now();
    net.run_ms(ms)?;
    let sim = t1.elapsed().as_secs_f64();
    let spikes: u64 = net.populations.iter().map(|p| p.spike_count).sum();
    let n: usize = net.populations.iter().map(|p| p.size).sum();
    say!(
        "{name}: neurons {n}, synapses {synapses}, store {:.2} B/synapse, build {build:.3} s, sim {sim:.3} s for {ms} ms, spikes {spikes}, mean rate {:.2} Hz, peak RSS {} MiB",
        store_bytes as f64 / synapses.max(1) as f64,
        spikes as f64 / n as f64 / (ms / 1000.0),
        cortecs::io::peak_rss_bytes().map_or("?".into(), |b| (b / (1 << 20)).to_string()),
    );
    for p in &net.populations {
        say!(
            "  {}: {} spikes, {:.2} Hz",
            p.name,
            p.spike_count,
            p.spike_count as f64 / p.size as f64 / (ms / 1000.0)
        );
    }
    for p in net.projections.iter().filter(|p| p.plastic().is_some()) {
        let s = p.store();
        let stats = s.weight_stats(cortecs::store::SignFilter::Both);
        let hi = p.spec.learning.first().map_or(f64::INFINITY, |l| l.upper()) as f32 as f64;
        let live = || {
            s.weight
                .iter()
                .zip(&s.sign)
                .filter(|&(_, &sign)| sign != 0)
                .map(|(&w, _)| f64::from(w))
        };
        let bytes = s.bytes() + p.plastic().map_or(0, |q| q.bytes());
        say!(
            "  {} (learning): mean w {:.5}, sd {:.5}, {} at 0, {} at w_max, store + learning state {:.2} B/synapse",
            p.name,
            stats.mean,
            stats.std,
            live().filter(|&x| x == 0.0).count(),
            live().filter(|&x| x >= hi).count(),
            bytes as f64 / stats.count.max(1) as f64
        );
    }
    Ok(())
}
