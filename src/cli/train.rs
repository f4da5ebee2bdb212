//! `cortecs train SCENE`: gradient training of a rate network (`crate::train`).

use super::say;
use std::path::{Path, PathBuf};

/// Trains from a training scene into `out` (default `out/<scene name>`) and prints the result.
pub fn train(scene: &Path, out: Option<PathBuf>, resume: bool, stop_after: Option<u64>) -> cortecs::Result<()> {
    let out = out.unwrap_or_else(|| cortecs::train::default_out(scene));
    let s = cortecs::train::run_training(scene, &out, resume, stop_after)?;
    // the trained network as an engine network checkpoint (`cortecs inspect`, `Network::load`)
    let t = cortecs::train::Trainer::load(&out.join("checkpoint.ckpt"))?;
    cortecs::network::Network::from_trained(&t.graph, 1, t.seed)?.save(out.join("network.ckpt"))?;
    say!(
        "{} iterations ({:.1} s), final loss {:.5}, held-out accuracy {:.3} on {} trials; written to {}",
        s.iterations,
        s.wall_s,
        s.final_loss,
        s.heldout_accuracy,
        s.heldout_trials,
        out.display()
    );
    Ok(())
}
