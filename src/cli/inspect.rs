//! `cortecs check SCENE` and `cortecs inspect SCENE|CHECKPOINT`.

use super::say;
use cortecs::error::Result;
use cortecs::io::bytes_text;
use cortecs::scene;
use std::path::Path;

/// Parses and validates a scene — every item, value and timeline action,
/// with the `--set` edits applied — and prints the memory its synapses
/// would take; builds no projection and writes nothing.
pub fn check(file: &Path, sets: &[(String, String)]) -> Result<()> {
    let (sc, text) = match scene::load(file, sets) {
        Ok(loaded) => loaded,
        // a training scene (`cortecs train`) has a `network` where a run scene has populations
        Err(e) if sets.is_empty() && e.to_string().contains("Unexpected field named `network`") => {
            let text = std::fs::read_to_string(file).map_err(|e| cortecs::CortecsError::file(file, e))?;
            let t = cortecs::train::parse_scene(file, &text)?;
            say!(
                "{}: ok (training scene: {} iterations of batch {}, dt {} ms; train it with `cortecs train {}`)",
                file.display(),
                t.iterations,
                t.batch,
                t.dt,
                file.display()
            );
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let sim = scene::prepare(&sc, file, &text)?;
    let (bytes, detail) = cortecs::network::estimate_pending(sim.network()?)?;
    let neurons: usize = sc.populations.iter().map(|p| p.size).sum();
    say!(
        "{}: ok ({} populations, {neurons} neurons, {} projections, {} timeline actions, {:.1} ms)",
        file.display(),
        sc.populations.len(),
        sc.projections.len(),
        sc.timeline.len(),
        scene::total_ms(&sc)
    );
    say!("  estimated synapse memory: {} ({detail})", bytes_text(bytes.into()));
    Ok(())
}

/// Prints the network summary of a scene (built) or a checkpoint (loaded), with memory.
pub fn inspect(file: &Path, sets: &[(String, String)]) -> Result<()> {
    if file.extension().is_some_and(|e| e == "ron") {
        let (sc, text) = scene::load(file, sets)?;
        let sim = scene::prepare(&sc, file, &text)?;
        let estimate = cortecs::network::estimate_memory(sim.network()?)?;
        drop(sim);
        let sim = scene::build(&sc, file, &text)?;
        let net = sim.network()?;
        say!("{}", net.summary());
        say!(
            "memory: peak estimated {} before building (process {}, populations {}, synapses {}, building {})",
            bytes_text(estimate.total().into()),
            bytes_text(estimate.process.into()),
            bytes_text(estimate.populations.into()),
            bytes_text(estimate.synapses.into()),
            bytes_text(estimate.build_peak.into())
        );
        memory(net);
        if let Some(peak) = cortecs::io::peak_rss_bytes() {
            say!(
                "memory: estimate / measured peak = {:.2}",
                estimate.total() as f64 / peak as f64
            );
        }
    } else {
        let net = cortecs::network::Network::load(file)?;
        say!("{}", net.summary());
        memory(&net);
    }
    Ok(())
}

fn memory(net: &cortecs::network::Network) {
    let m = cortecs::network::synapse_memory(net);
    say!(
        "memory: {} synapses, stores {} ({:.2} B/synapse), {} mirrored, peak RSS {}",
        m.synapses,
        bytes_text(m.store_bytes.into()),
        m.store_per_synapse(),
        m.mirrored,
        cortecs::io::peak_rss_bytes().map_or("unknown".into(), |b| bytes_text(b.into()))
    );
}
