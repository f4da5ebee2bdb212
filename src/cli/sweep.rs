//! `cortecs sweep SCENE --vary PATH=V1,V2 ... [--seeds A..B] [--shard I/N] --out DIR`:
//! the cartesian product of runs, each in its own folder `DIR/run-NNNN`,
//! indexed by `DIR/runs.csv`; a restarted sweep skips finished runs.

use super::say;
use cortecs::error::{CortecsError, Result};
use cortecs::scene::{self, Summary};
use std::path::{Path, PathBuf};

/// What `cortecs sweep` was asked.
pub struct SweepArgs {
    /// The scene file.
    pub scene: PathBuf,
    /// `(path, values)` per `--vary`.
    pub vary: Vec<(String, Vec<String>)>,
    /// Seeds (`None`: the scene's own).
    pub seeds: Option<Vec<u64>>,
    /// `(i, n)`: this process takes runs i, i + n, i + 2n, ...
    pub shard: (usize, usize),
    /// The sweep's folder.
    pub out: PathBuf,
    /// Runs at once on this machine, each on its own share of the threads.
    pub jobs: usize,
    /// Only rebuild `runs.csv` from the run folders (after all shards are done).
    pub collect: bool,
    /// Draw no plots in the run folders.
    pub no_plots: bool,
}

/// One run of the sweep: its id, the values it sets, its seed.
struct Planned {
    id: usize,
    values: Vec<String>,
    seed: Option<u64>,
}

/// `V1,V2,...` of `--vary PATH=V1,V2`: commas inside brackets or quotes do not split.
pub fn parse_vary(s: &str) -> std::result::Result<(String, Vec<String>), String> {
    let (path, values) = s
        .split_once('=')
        .ok_or_else(|| format!("expected PATH=V1,V2,... (e.g. projections.ee.weight=1.0,2.0), got '{s}'"))?;
    let (mut out, mut depth, mut quoted, mut cur) = (Vec::new(), 0i32, false, String::new());
    for c in values.chars() {
        match c {
            '"' => quoted = !quoted,
            '(' | '[' | '{' if !quoted => depth += 1,
            ')' | ']' | '}' if !quoted => depth -= 1,
            ',' if depth == 0 && !quoted => {
                out.push(std::mem::take(&mut cur).trim().to_string());
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur.trim().to_string());
    if path.is_empty() || out.iter().any(String::is_empty) {
        return Err(format!("expected PATH=V1,V2,... with no empty value, got '{s}'"));
    }
    Ok((path.to_string(), out))
}

/// The seeds of `--seeds` (a newtype: clap reads a bare `Vec` as repeated values).
#[derive(Clone, Debug)]
pub struct Seeds(pub Vec<u64>);

/// `A..B` (B excluded) or a single seed `A`.
pub fn parse_seeds(s: &str) -> std::result::Result<Seeds, String> {
    let bad = || format!("expected seeds A..B (B excluded) or A, got '{s}'");
    match s.split_once("..") {
        Some((a, b)) => {
            let (a, b): (u64, u64) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
            if a >= b {
                return Err(bad());
            }
            Ok(Seeds((a..b).collect()))
        }
        None => Ok(Seeds(vec![s.parse().map_err(|_| bad())?])),
    }
}

/// `I/N` with I < N.
pub fn parse_shard(s: &str) -> std::result::Result<(usize, usize), String> {
    let bad = || format!("expected --shard I/N with 0 <= I < N, got '{s}'");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (i.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
    if i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// Every run of the sweep, in order: the first `--vary` slowest, seeds fastest.
fn plan(args: &SweepArgs) -> Vec<Planned> {
    let seeds: Vec<Option<u64>> = match &args.seeds {
        Some(s) => s.iter().copied().map(Some).collect(),
        None => vec![None],
    };
    let mut combos: Vec<Vec<String>> = vec![Vec::new()];
    for (_, values) in &args.vary {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                values.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push(v.clone());
                    c
                })
            })
            .collect();
    }
    let mut runs = Vec::new();
    for values in combos {
        for &seed in &seeds {
            runs.push(Planned {
                id: runs.len(),
                values: values.clone(),
                seed,
            });
        }
    }
    runs
}

fn run_dir(out: &Path, id: usize) -> PathBuf {
    out.join(format!("run-{id:04}"))
}

/// The summary of a finished run, if its folder holds one that says `complete`.
fn finished(dir: &Path) -> Option<Summary> {
    let text = std::fs::read_to_string(dir.join("summary.json")).ok()?;
    serde_json::from_str::<Summary>(&text)
        .ok()
        .filter(|s| s.status == "complete")
}

/// Runs this shard's part of the sweep (skipping finished runs), then writes `runs.csv`.
pub fn sweep(args: SweepArgs) -> Result<()> {
    let runs = plan(&args);
    let sets_of = |r: &Planned| -> Vec<(String, String)> {
        let mut sets: Vec<(String, String)> = args
            .vary
            .iter()
            .map(|(p, _)| p.clone())
            .zip(r.values.iter().cloned())
            .collect();
        if let Some(seed) = r.seed {
            sets.push(("seed".into(), seed.to_string()));
        }
        if args.no_plots {
            sets.push(("record.plots".into(), "false".into()));
        }
        sets
    };
    // every run is validated before the first one starts
    let mut loaded = Vec::new();
    for r in runs.iter().filter(|r| r.id % args.shard.1 == args.shard.0) {
        if args.collect {
            break;
        }
        let (sc, text) = scene::load(&args.scene, &sets_of(r))
            .map_err(|e| CortecsError::InvalidRequest(format!("run {} ({}): {e}", r.id, describe(&args, r))))?;
        loaded.push((r, sc, text));
    }
    std::fs::create_dir_all(&args.out).map_err(|e| CortecsError::file(&args.out, e))?;
    let todo: Vec<_> = loaded
        .iter()
        .filter(|(r, _, _)| finished(&run_dir(&args.out, r.id)).is_none())
        .collect();
    let skipped = loaded.len() - todo.len();
    let jobs = args.jobs.clamp(1, todo.len().max(1));
    let threads = (rayon::current_num_threads() / jobs).max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    // Ctrl-C stops every job at its next step boundary; the stopped runs are redone on resume
    let stop = super::run::stop_on_signals()?;
    let one = |(r, sc, text): &(&Planned, scene::Scene, String)| -> Result<()> {
        let dir = run_dir(&args.out, r.id);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| CortecsError::file(&dir, e))?; // an interrupted run
        }
        std::fs::create_dir_all(&dir).map_err(|e| CortecsError::file(&dir, e))?;
        let s = scene::run_scene_with(sc, &args.scene, text, &dir, &mut |_| {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                std::ops::ControlFlow::Break(())
            } else {
                std::ops::ControlFlow::Continue(())
            }
        })?;
        say!(
            "run {} ({}): {:.1} ms in {:.2} s",
            r.id,
            describe(&args, r),
            s.time_ms,
            s.timing_s.simulate
        );
        Ok(())
    };
    // each job takes the next run not taken, on its own thread pool
    let results: Vec<Result<()>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                scope.spawn(|| -> Result<()> {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .build()
                        .map_err(|e| CortecsError::InvalidRequest(format!("cannot start {threads} threads: {e}")))?;
                    loop {
                        let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(run) = todo.get(k) else { return Ok(()) };
                        if stop.load(std::sync::atomic::Ordering::Relaxed) {
                            return Err(CortecsError::Interrupted(format!(
                                "sweep interrupted before run {}",
                                run.0.id
                            )));
                        }
                        pool.install(|| one(run))?;
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(CortecsError::InvalidRequest("a sweep job panicked".into())))
            })
            .collect()
    });
    let ran = todo.len();
    results.into_iter().collect::<Result<Vec<()>>>()?;
    let (done, total) = write_index(&args, &runs)?;
    say!(
        "sweep {}: shard {}/{} ran {ran}, skipped {skipped} finished; {done} of {total} runs complete, index {}",
        args.out.display(),
        args.shard.0,
        args.shard.1,
        args.out.join("runs.csv").display()
    );
    Ok(())
}

fn describe(args: &SweepArgs, r: &Planned) -> String {
    let mut parts: Vec<String> = args
        .vary
        .iter()
        .zip(&r.values)
        .map(|((p, _), v)| format!("{p}={v}"))
        .collect();
    if let Some(seed) = r.seed {
        parts.push(format!("seed={seed}"));
    }
    parts.join(", ")
}

/// `runs.csv` from the run folders on disk: run, varied values, seed, status,
/// simulated ms, simulate seconds and each population's rate (Hz).
fn write_index(args: &SweepArgs, runs: &[Planned]) -> Result<(usize, usize)> {
    let summaries: Vec<Option<Summary>> = runs.iter().map(|r| finished(&run_dir(&args.out, r.id))).collect();
    let mut pops: Vec<String> = summaries
        .iter()
        .flatten()
        .flat_map(|s| s.populations.keys().cloned())
        .collect();
    pops.sort();
    pops.dedup();
    let quote = |v: &str| {
        if v.contains([',', '"', '\n']) {
            format!("\"{}\"", v.replace('"', "\"\""))
        } else {
            v.to_string()
        }
    };
    let mut csv = String::from("run");
    for (p, _) in &args.vary {
        csv += &format!(",{}", quote(p));
    }
    csv += ",seed,status,time_ms,simulate_s";
    for p in &pops {
        csv += &format!(",rate_hz.{p}");
    }
    csv.push('\n');
    for (r, s) in runs.iter().zip(&summaries) {
        csv += &format!("{}", r.id);
        for v in &r.values {
            csv += &format!(",{}", quote(v));
        }
        match s {
            Some(s) => {
                csv += &format!(",{},complete,{},{}", s.seed, s.time_ms, s.timing_s.simulate);
                for p in &pops {
                    csv += &format!(
                        ",{}",
                        s.populations.get(p).map_or(String::new(), |x| x.rate_hz.to_string())
                    );
                }
            }
            None => {
                csv += &format!(",{},pending,,", r.seed.map_or(String::new(), |x| x.to_string()));
                csv += &",".repeat(pops.len());
            }
        }
        csv.push('\n');
    }
    let file = args.out.join("runs.csv");
    let tmp = args.out.join(format!(".runs.csv.{}", std::process::id()));
    std::fs::write(&tmp, csv).map_err(|e| CortecsError::file(&tmp, e))?;
    std::fs::rename(&tmp, &file).map_err(|e| CortecsError::file(&file, e))?;
    Ok((summaries.iter().flatten().count(), runs.len()))
}
