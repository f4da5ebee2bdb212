//! The `cortecs` command line: check, inspect, run and sweep scene files; train; run
//! reference workloads. Subcommands live in `src/cli/`; this file parses
//! arguments and maps results to exit codes: 0 success, 1 user error (the
//! located message, no backtrace), 2 internal error (a bug: please report),
//! 130 interrupted (Ctrl-C or SIGTERM: the run stopped at a step boundary and
//! wrote what it had; a second signal exits at once).

mod cli;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Run a scene file (`scenes/*.ron`): validate it, build it, run its timeline, write its recordings and `summary.json`.
    Run {
        /// The scene file.
        scene: PathBuf,
        /// Output folder (default: `out/<scene name>`); must be empty or absent unless `--force`.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Seed replacing the scene's `seed`.
        #[arg(long)]
        seed: Option<u64>,
        /// Replace a scene value by path, e.g. `--set populations.exc.params.tau_m=10.0`,
        /// `--set projections.ee.weight=2.5`, `--set timeline.0.ms=200` (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE", value_parser = cli::parse_set)]
        sets: Vec<(String, String)>,
        /// Clear a non-empty output folder before writing.
        #[arg(long)]
        force: bool,
        /// No progress output (the summary is still printed).
        #[arg(long, short)]
        quiet: bool,
        /// Draw no PNG plots (same as `--set record.plots=false`).
        #[arg(long)]
        no_plots: bool,
    },
    /// Parse and validate a scene (every item and the whole timeline) and estimate its memory; builds nothing, writes nothing.
    Check {
        /// The scene file.
        scene: PathBuf,
        /// Replace a scene value by path (as for `run`).
        #[arg(long = "set", value_name = "PATH=VALUE", value_parser = cli::parse_set)]
        sets: Vec<(String, String)>,
    },
    /// Build a scene (or load a checkpoint file) and print its network summary: populations, projections, weight statistics, masks, memory.
    #[command(alias = "summary")]
    Inspect {
        /// A scene file (`.ron`) or a checkpoint saved by a scene's `Save` action or `Network::save`.
        file: PathBuf,
        /// Replace a scene value by path (as for `run`).
        #[arg(long = "set", value_name = "PATH=VALUE", value_parser = cli::parse_set)]
        sets: Vec<(String, String)>,
    },
    /// Run the cartesian product of `--vary` values (and `--seeds`), each run in `OUT/run-NNNN`, indexed by `OUT/runs.csv`; finished runs are skipped.
    Sweep {
        /// The scene file.
        scene: PathBuf,
        /// A scene path and its values, e.g. `--vary projections.ee.weight=1.0,2.0` (repeatable; the first varies slowest).
        #[arg(long, value_name = "PATH=V1,V2,...", value_parser = cli::parse_vary)]
        vary: Vec<(String, Vec<String>)>,
        /// Seeds `A..B` (B excluded) or one seed; default: the scene's.
        #[arg(long, value_parser = cli::parse_seeds)]
        seeds: Option<cli::Seeds>,
        /// Take runs I, I + N, I + 2N, ... (e.g. `$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`).
        #[arg(long, value_name = "I/N", value_parser = cli::parse_shard, default_value = "0/1")]
        shard: (usize, usize),
        /// The sweep's folder.
        #[arg(long)]
        out: PathBuf,
        /// Runs at once on this machine, each with an equal share of `--threads`.
        #[arg(long, default_value_t = 1)]
        jobs: usize,
        /// Run nothing: rebuild `OUT/runs.csv` from the run folders (after every shard has finished).
        #[arg(long)]
        collect: bool,
        /// Draw no PNG plots in the run folders.
        #[arg(long)]
        no_plots: bool,
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
    /// Run a reference workload of benches/WORKLOADS.md and print timings: w1 (COBA), w2 (Brunel), w3 (build; w3-empty = its baseline), w4 (CTRNN forward; --train: training iterations), w5 (Brunel with STDP on E->E); --json: one RESULT_JSON line.
    Workload(cli::WorkloadArgs),
}

/// Exit code of a user error (bad scene, bad arguments, missing file).
const USER_ERROR: u8 = 1;
/// Exit code of an internal error (a panic: a bug in cortecs).
const INTERNAL_ERROR: u8 = 2;
/// Most worker threads `--threads` accepts per core: more only slows a run down.
const MAX_THREADS_PER_CORE: usize = 8;

fn dispatch(command: Command) -> cortecs::Result<()> {
    match command {
        Command::Run {
            scene,
            out,
            seed,
            sets,
            force,
            quiet,
            no_plots,
        } => cli::run(cli::RunArgs {
            scene,
            out,
            seed,
            sets,
            force,
            quiet,
            no_plots,
        }),
        Command::Sweep {
            scene,
            vary,
            seeds,
            shard,
            out,
            jobs,
            collect,
            no_plots,
        } => cli::sweep(cli::SweepArgs {
            scene,
            vary,
            seeds: seeds.map(|s| s.0),
            shard,
            out,
            jobs,
            collect,
            no_plots,
        }),
        Command::Check { scene, sets } => cli::check(&scene, &sets),
        Command::Inspect { file, sets } => cli::inspect(&file, &sets),
        Command::Train {
            scene,
            out,
            resume,
            stop_after,
        } => cli::train(&scene, out, resume, stop_after),
        Command::Workload(args) => cli::workload(&args),
    }
}

/// The stack of the thread the command runs on: the main thread's usual 8 MiB.
const MAIN_STACK_BYTES: usize = 8 << 20;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => ExitCode::SUCCESS,
                _ => ExitCode::from(USER_ERROR),
            };
        }
    };
    if let Some(t) = cli.threads {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let most = MAX_THREADS_PER_CORE * cores;
        if t == 0 || t > most {
            eprintln!(
                "error: --threads {t}: use 1 to {most} ({MAX_THREADS_PER_CORE} per core; this machine has {cores} cores)"
            );
            return ExitCode::from(USER_ERROR);
        }
    }
    // The command runs on a worker of the pool, not beside it: a parallel
    // loop then starts on the calling worker at once and the others join
    // when they wake (from the main thread, every loop waited for the pool
    // to wake, and W2 ran slower on two threads than on one).
    let mut pool = rayon::ThreadPoolBuilder::new().stack_size(MAIN_STACK_BYTES);
    if let Some(t) = cli.threads {
        pool = pool.num_threads(t);
    }
    let pool = match pool.build() {
        Ok(pool) => pool,
        Err(e) => {
            eprintln!("error: cannot start {} threads: {e}", cli.threads.unwrap_or(0));
            return ExitCode::from(USER_ERROR);
        }
    };
    std::panic::set_hook(Box::new(|info| {
        eprintln!("internal error (a bug in cortecs, please report it): {info}");
    }));
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pool.install(|| dispatch(cli.command)))) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e @ cortecs::error::CortecsError::Interrupted(_))) => {
            eprintln!("{e}; what ran before is written, summary.json says status: interrupted");
            ExitCode::from(cli::INTERRUPTED)
        }
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(USER_ERROR)
        }
        Err(_) => ExitCode::from(INTERNAL_ERROR),
    }
}
