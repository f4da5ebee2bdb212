//! `cortecs run SCENE`: validate, prepare the output folder, run with
//! progress, print the summary.

use super::say;
use cortecs::error::{CortecsError, Result};
use cortecs::scene::{self, Progress};
use signal_hook::consts::{SIGINT, SIGTERM};
use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What `cortecs run` was asked.
pub struct RunArgs {
    /// The scene file.
    pub scene: PathBuf,
    /// Output folder (default `out/<scene name>`).
    pub out: Option<PathBuf>,
    /// Seed replacing the scene's.
    pub seed: Option<u64>,
    /// `--set PATH=VALUE` edits.
    pub sets: Vec<(String, String)>,
    /// Clear a non-empty output folder first.
    pub force: bool,
    /// No progress output.
    pub quiet: bool,
    /// Draw no plots.
    pub no_plots: bool,
}

/// Runs a scene: everything is validated before the output folder is touched.
pub fn run(args: RunArgs) -> Result<()> {
    let mut sets = args.sets;
    if let Some(seed) = args.seed {
        sets.push(("seed".into(), seed.to_string()));
    }
    if args.no_plots {
        sets.push(("record.plots".into(), "false".into()));
    }
    let (sc, text) = scene::load(&args.scene, &sets)?;
    let out = args
        .out
        .unwrap_or_else(|| Path::new("out").join(args.scene.file_stem().unwrap_or_default()));
    prepare_out(&out, args.force)?;
    let stop = stop_on_signals()?;
    let mut report = Reporter::new(args.quiet, scene::total_ms(&sc), sc.dt);
    let result = scene::run_scene_with(&sc, &args.scene, &text, &out, &mut |p| {
        report.update(p);
        if stop.load(Ordering::Relaxed) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    report.finish();
    let summary = result?;
    say!("{summary}");
    Ok(())
}

/// A flag raised by the first SIGINT (Ctrl-C) or SIGTERM; a second one ends
/// the process at once with exit code 130.
pub fn stop_on_signals() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        // the conditional exit is registered first: it sees the flag before the first signal raises it
        signal_hook::flag::register_conditional_shutdown(signal, super::INTERRUPTED as i32, Arc::clone(&stop))
            .and_then(|_| signal_hook::flag::register(signal, Arc::clone(&stop)))
            .map_err(|e| CortecsError::InvalidRequest(format!("cannot handle signal {signal}: {e}")))?;
    }
    Ok(stop)
}

/// Makes `out` an empty folder: a non-empty one is refused unless `force`
/// (then its contents are removed first), so old and new files never mix.
fn prepare_out(out: &Path, force: bool) -> Result<()> {
    let file_err = |e: std::io::Error| CortecsError::file(out, e);
    if out.is_file() {
        return Err(CortecsError::InvalidRequest(format!(
            "output folder {} is a file",
            out.display()
        )));
    }
    let non_empty = out.is_dir() && std::fs::read_dir(out).map_err(file_err)?.next().is_some();
    if non_empty {
        if !force {
            return Err(CortecsError::InvalidRequest(format!(
                "output folder {} is not empty (use --force to clear it first, or --out DIR)",
                out.display()
            )));
        }
        let here = std::env::current_dir().map_err(file_err)?;
        let target = out.canonicalize().map_err(file_err)?;
        if here.starts_with(&target) {
            return Err(CortecsError::InvalidRequest(format!(
                "refusing to clear {}: it holds the working directory",
                out.display()
            )));
        }
        std::fs::remove_dir_all(out).map_err(file_err)?;
    }
    std::fs::create_dir_all(out).map_err(file_err)
}

/// Progress on stderr: a bar on a terminal, a plain line every few seconds otherwise.
struct Reporter {
    quiet: bool,
    bar: Option<indicatif::ProgressBar>,
    total_ms: f64,
    dt: f64,
    start: Instant,
    last_line: Instant,
}

impl Reporter {
    fn new(quiet: bool, total_ms: f64, dt: f64) -> Reporter {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_message("building");
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        if !quiet && bar.is_none() {
            eprintln!("building");
        }
        Reporter {
            quiet,
            bar,
            total_ms,
            dt,
            start: Instant::now(),
            last_line: Instant::now(),
        }
    }

    fn update(&mut self, p: Progress) {
        if self.quiet {
            return;
        }
        match p {
            Progress::Built(s) => {
                self.start = Instant::now();
                match &self.bar {
                    Some(bar) => {
                        bar.println(format!("built in {s:.2} s"));
                        bar.set_style(
                            indicatif::ProgressStyle::with_template(
                                "{wide_bar} {pos}/{len} ms simulated, {msg}, {eta} left",
                            )
                            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                        );
                        bar.set_length(self.total_ms.ceil() as u64);
                    }
                    None => eprintln!("built in {s:.2} s"),
                }
            }
            Progress::Simulated { done_ms, total_ms } => {
                let wall = self.start.elapsed().as_secs_f64().max(1e-9);
                let steps_per_s = done_ms / self.dt / wall;
                let left = if done_ms > 0.0 {
                    wall * (total_ms - done_ms) / done_ms
                } else {
                    0.0
                };
                match &self.bar {
                    Some(bar) => {
                        bar.set_position(done_ms as u64);
                        bar.set_message(format!("{steps_per_s:.0} steps/s"));
                    }
                    None if self.last_line.elapsed() >= Duration::from_secs(2) || done_ms >= total_ms => {
                        self.last_line = Instant::now();
                        eprintln!(
                            "t = {done_ms:.1} / {total_ms:.1} ms ({:.0}%), {steps_per_s:.0} steps/s, {left:.1} s left",
                            100.0 * done_ms / total_ms.max(1e-12)
                        );
                    }
                    None => {}
                }
            }
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
