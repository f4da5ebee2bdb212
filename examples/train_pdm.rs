//! Trains a Dale's-law CTRNN (100 ReLU units, 80 % excitatory, sparse
//! recurrence, readout from E only) on perceptual decision making, then
//! runs the trained network in the engine as a `Network` and compares.
//!
//! `cargo run --release --example train_pdm -- [iterations] [batch] [lr]`

use cortecs::ecs::{Motors, Readout, Sensors, run_frame};
use cortecs::network::Network;
use cortecs::train::*;
use std::time::Instant;

fn main() -> cortecs::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let iterations: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1500);
    let batch: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(32);
    let lr: f64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(0.01);
    let mut trainer = pdm_trainer(batch, lr, iterations, 12345)?;
    let start = Instant::now();
    for _ in 0..iterations {
        let row = trainer.step()?;
        if row.iteration % 100 == 0 {
            let (tb, y) = trainer.evaluate(500)?;
            println!(
                "iter {:5}  loss {:.4}  train acc {:.3}  held-out acc {:.3}  {:.1} s",
                row.iteration,
                row.loss,
                row.accuracy,
                tb.accuracy(&y),
                start.elapsed().as_secs_f64()
            );
        }
    }
    let (tb, y) = trainer.evaluate(1000)?;
    println!(
        "final held-out accuracy {:.3} after {iterations} iterations, {:.1} s",
        tb.accuracy(&y),
        start.elapsed().as_secs_f64()
    );
    for (coh, acc, n) in tb.psychometric(&y) {
        println!("  coherence {coh:5.1} %: {acc:.3} ({n} trials)");
    }
    // the trained network as an ordinary engine brain: 200 held-out trials side
    // by side (a batch), each with its own Sensors values (the three input
    // channels) and Motors values (the three outputs), the engine's own
    // pre-activation noise on
    let trials = 200;
    let mut brain = Network::from_trained(&trainer.graph, trials, 99)?;
    let mut sensors = Sensors::population(&brain, "input")?.with_trials(trials)?;
    let mut motors = Motors::population(&brain, "output", Readout::Output)?.with_trials(trials)?;
    let (steps, _, _) = tb.u.dim();
    brain.reset_rates();
    for t in 0..steps {
        for b in 0..trials {
            for c in 0..3 {
                sensors.set_trial(c, b, tb.u[[t, b, c]])?;
            }
        }
        run_frame(&mut brain, 1, Some(&sensors), Some(&mut motors))?;
    }
    let mut right = 0;
    for b in 0..trials {
        let out = motors.trial(b)?;
        let choice = (0..3).fold(0, |best, o| if out[o] > out[best] { o } else { best });
        right += usize::from(choice == tb.labels[[steps - 1, b]]);
    }
    println!(
        "engine brain (per-trial Sensors/Motors, noise on): {:.3} correct on the first {trials} held-out trials",
        right as f64 / trials as f64
    );
    Ok(())
}
