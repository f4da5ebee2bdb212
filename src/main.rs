//! The `cortecs` command line: run scene files and reference workloads.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(name = "cortecs", version, about = "Neural network simulation engine on bevy_ecs")]
struct Cli {
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, global = true)]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scene file (`scenes/*.ron`): build, run its timeline, write its recordings.
    Run {
        /// The scene file.
        scene: PathBuf,
        /// Output folder (default: `out/<scene name>`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Build a scene (or load a checkpoint file) and print its network summary: populations, projections, weight statistics, masks, memory.
    Summary {
        /// A scene file (`.ron`) or a checkpoint saved by a scene's `Save` action or `Network::save`.
        file: PathBuf,
    },
    /// Train a rate network on a task from a training scene (`scenes/train_*.ron`): CSV log, checkpoints, PNG curves, summary.json.
    Train {
        /// The training scene.
        scene: PathBuf,
        /// Output folder (default: `out/<scene name>`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Continue from `<out>/checkpoint.ckpt` if it exists (bit-identical to an uninterrupted run).
        #[arg(long)]
        resume: bool,
        /// Stop (with a checkpoint) after this many iterations of this invocation.
        #[arg(long)]
        stop_after: Option<u64>,
    },
    /// Run a reference workload of WORKLOADS.md and print timings: w1 (COBA), w2 (Brunel), w3 (build; w3-empty = its baseline), w4 (CTRNN forward), w5 (Brunel with STDP on E->E).
    Workload {
        /// w1, w2, w3, w3-empty, w4 or w5.
        name: String,
        /// Seed of the network's random streams (W1, W2, W5).
        #[arg(long, default_value_t = 12345)]
        seed: u64,
        /// W2, W5: number of excitatory neurons (10000 = W2; 80000 = the 1.25 x 10^8-synapse scale run; in-degree stays 1000 E + 250 I).
        #[arg(long, default_value_t = 10_000)]
        n_exc: usize,
        /// W4: hidden units.
        #[arg(long, default_value_t = 100)]
        hidden: usize,
        /// Biological time to simulate (ms).
        #[arg(long, default_value_t = 1000.0)]
        ms: f64,
        /// W2: keep mirror entities for every synapse (measures their memory).
        #[arg(long)]
        mirrored: bool,
    },
}

/// println! that ends quietly when stdout is closed (e.g. piped into `head`).
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

fn summary(file: &std::path::Path) -> cortecs::error::Result<()> {
    let net = if file.extension().is_some_and(|e| e == "ron") {
        let text = std::fs::read_to_string(file).map_err(|e| cortecs::error::CortecsError::file(file, e))?;
        let scene = cortecs::scene::parse(file, &text)?;
        let sim = cortecs::scene::build(&scene, file, &text)?;
        sim.network()?.clone()
    } else {
        cortecs::network::Network::load(file)?
    };
    say!("{}", net.summary());
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(t) = cli.threads
        && let Err(e) = rayon::ThreadPoolBuilder::new().num_threads(t).build_global()
    {
        eprintln!("error: cannot set {t} threads: {e}");
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        Command::Run { scene, out } => {
            cortecs::scene::run_file(&scene, out.as_deref()).map(|summary| say!("{summary}"))
        }
        Command::Summary { file } => summary(&file),
        Command::Train {
            scene,
            out,
            resume,
            stop_after,
        } => {
            let out = out.unwrap_or_else(|| cortecs::train::default_out(&scene));
            cortecs::train::run_training(&scene, &out, resume, stop_after).map(|s| {
                say!(
                    "{} iterations ({:.1} s), final loss {:.5}, held-out accuracy {:.3} on {} trials; written to {}",
                    s.iterations,
                    s.wall_s,
                    s.final_loss,
                    s.heldout_accuracy,
                    s.heldout_trials,
                    out.display()
                );
            })
        }
        Command::Workload {
            name,
            seed,
            n_exc,
            hidden,
            ms,
            mirrored,
        } => workload(&name, seed, n_exc, hidden, ms, mirrored),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn workload(name: &str, seed: u64, n_exc: usize, hidden: usize, ms: f64, mirrored: bool) -> cortecs::Result<()> {
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
        let w: Vec<f64> = (0..s.len())
            .filter(|&k| s.sign[k] != 0)
            .map(|k| f64::from(s.weight[k]))
            .collect();
        let n = w.len().max(1) as f64;
        let mean = w.iter().sum::<f64>() / n;
        let sd = (w.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        let hi = p.spec.learning.first().map_or(f64::INFINITY, |l| l.upper()) as f32 as f64;
        let bytes = s.bytes() + p.plastic().map_or(0, |q| q.bytes());
        say!(
            "  {} (learning): mean w {mean:.5}, sd {sd:.5}, {} at 0, {} at w_max, store + learning state {:.2} B/synapse",
            p.name,
            w.iter().filter(|&&x| x == 0.0).count(),
            w.iter().filter(|&&x| x >= hi).count(),
            bytes as f64 / n
        );
    }
    Ok(())
}
