//! `cortecs train SCENE`: gradient training of a rate network (`crate::train`).

use super::say;
use std::path::{Path, PathBuf};

/// Held-out trials written beside the trained network (`heldout_input.npy`:
/// steps x trials x inputs; `heldout_label.npy`: the correct output per trial).
const HELDOUT_FILE_TRIALS: usize = 16;

/// Trains from a training scene into `out` (default `out/<scene name>`) and prints the result.
pub fn train(scene: &Path, out: Option<PathBuf>, resume: bool, stop_after: Option<u64>) -> cortecs::Result<()> {
    let out = out.unwrap_or_else(|| cortecs::train::default_out(scene));
    let s = cortecs::train::run_training(scene, &out, resume, stop_after)?;
    // the trained network as an engine network checkpoint (`cortecs run`,
    // `cortecs inspect`, a scene's `load`, `Network::load`), and held-out
    // trials for it to run (`Input(.., trial: k)` in a scene)
    let mut t = cortecs::train::Trainer::load(&out.join("checkpoint.ckpt"))?;
    cortecs::network::Network::from_trained(&t.graph, 1, t.seed)?.save(out.join("network.ckpt"))?;
    let (tb, _) = t.evaluate(HELDOUT_FILE_TRIALS)?;
    let (steps, trials, n_in) = tb.u.dim();
    let u: Vec<f32> = tb.u.iter().copied().collect();
    cortecs::record::write_npy_atomic(out.join("heldout_input.npy"), &[steps, trials, n_in], &u)?;
    let labels: Vec<i64> = (0..trials).map(|b| tb.labels[[steps - 1, b]] as i64).collect();
    cortecs::record::write_npy_atomic(out.join("heldout_label.npy"), &[trials], &labels)?;
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
