//! `cortecs workload NAME`: the reference workloads of `benches/WORKLOADS.md`,
//! with timings; `--json` prints them as one `RESULT_JSON {...}` line (what
//! `benches/compare.py` reads), and W4 can load its weights and input from
//! `.npy` files (`--arrays`) and time training iterations (`--train`).

use super::say;
use cortecs::CortecsError;
use cortecs::workloads::{Ctrnn, CtrnnWeights};
use ndarray::{Array, Array3, Dimension};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The arguments of `cortecs workload`.
#[derive(clap::Args, Debug, Clone)]
pub struct WorkloadArgs {
    /// w1, w2, w3, w3-empty, w4, w5 or rate (one step of a sparse rate
    /// network against the machine's triad bandwidth).
    pub name: String,
    /// Seed of the network's random streams (W1, W2, W3, W5).
    #[arg(long, default_value_t = 12345)]
    pub seed: u64,
    /// W2, W5: number of excitatory neurons (10000 = W2; 80000 = the 1.25 x 10^8-synapse scale run; in-degree stays 1000 E + 250 I).
    #[arg(long, default_value_t = 10_000)]
    pub n_exc: usize,
    /// W2, W5: inputs from E per neuron (1000 = W2); the inputs from I are a quarter of it,
    /// the Poisson drive follows (eta = 2). 4000 with --n-exc 160000: 200,000 neurons x 5,000
    /// inputs, 10^9 synapses.
    #[arg(long, default_value_t = 1000)]
    pub c_exc: usize,
    /// rate: number of rate units.
    #[arg(long, default_value_t = 20_000)]
    pub units: usize,
    /// rate: connection probability of the recurrent projection.
    #[arg(long, default_value_t = 0.1)]
    pub probability: f64,
    /// W4: hidden units (ignored with --arrays, whose shapes decide).
    #[arg(long, default_value_t = 100)]
    pub hidden: usize,
    /// Biological time to simulate (ms).
    #[arg(long, default_value_t = 1000.0)]
    pub ms: f64,
    /// W2: keep mirror entities for every synapse (measures their memory).
    #[arg(long)]
    pub mirrored: bool,
    /// Print one machine-readable line `RESULT_JSON {...}` instead of the text.
    #[arg(long)]
    pub json: bool,
    /// W4: read the parameters and the input from DIR: W_in.npy (H x n_in), W_hid.npy (H x H),
    /// b_hid.npy (H), W_out.npy (n_out x H), b_out.npy (n_out), u.npy (steps x batch x n_in),
    /// weights post x pre. With y0.npy there, report max |y - y0|; with target.npy, --train
    /// trains against it; with losses.npy, compare the first loss.
    #[arg(long, value_name = "DIR")]
    pub arrays: Option<PathBuf>,
    /// W4: also time training iterations (MSE, BPTT through every step, one Adam step, lr 1e-3,
    /// all five tensors) and report the first loss.
    #[arg(long)]
    pub train: bool,
    /// W4, rate: timed iterations of the forward pass (and of training) or steps; the median is reported.
    #[arg(long, default_value_t = 30)]
    pub iters: usize,
    /// W4, rate: untimed iterations before the timed ones.
    #[arg(long, default_value_t = 5)]
    pub warmup: usize,
}

/// What a workload reports: text lines, or the fields of one JSON object.
struct Report {
    json: bool,
    fields: Map<String, Value>,
}

impl Report {
    fn new(args: &WorkloadArgs) -> Report {
        let mut r = Report {
            json: args.json,
            fields: Map::new(),
        };
        r.set("workload", args.name.as_str());
        r.set("engine", "cortecs");
        r.set("version", env!("CARGO_PKG_VERSION"));
        r.set("threads", rayon::current_num_threads());
        r
    }

    fn set(&mut self, key: &str, value: impl Into<Value>) {
        self.fields.insert(key.to_string(), value.into());
    }

    /// A line of the text report (nothing with `--json`).
    fn line(&self, text: impl AsRef<str>) {
        if !self.json {
            say!("{}", text.as_ref());
        }
    }

    /// Prints the JSON line (with `--json`), with the peak RSS at the end of the run.
    fn finish(mut self) {
        if self.json {
            self.set("peak_rss_bytes", cortecs::io::peak_rss_bytes());
            say!("RESULT_JSON {}", Value::Object(self.fields));
        }
    }
}

/// Rounds to `digits` decimals (shorter JSON, the figures carry no more).
fn round(x: f64, digits: i32) -> f64 {
    let s = 10f64.powi(digits);
    (x * s).round() / s
}

/// Runs the workload of `args` and prints its timings and results.
pub fn workload(args: &WorkloadArgs) -> cortecs::Result<()> {
    let mut rep = Report::new(args);
    match (args.name.as_str(), args.mirrored) {
        ("w2", true) => mirrored(args, &mut rep)?,
        ("w1" | "w2" | "w5", _) => spiking(args, &mut rep)?,
        ("w3" | "w3-empty", _) => w3(args, &mut rep)?,
        ("w4", _) => w4(args, &mut rep)?,
        ("rate", _) => rate(args, &mut rep)?,
        (other, _) => {
            return Err(CortecsError::UnknownName {
                kind: "workload",
                name: other.into(),
                known: ["w1", "w2", "w3", "w3-empty", "w4", "w5", "rate"]
                    .map(String::from)
                    .to_vec(),
            });
        }
    }
    rep.set("seed", args.seed);
    rep.finish();
    Ok(())
}

/// W1's initial conditions: `scenes/data` under the working folder, else the source tree's.
fn w1_data() -> PathBuf {
    let here = Path::new("scenes/data");
    if here.join("w1_v0.npy").exists() {
        here.to_path_buf()
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes/data")
    }
}

/// W1, W2, W5: build, simulate `ms`, count spikes (and W5's weights).
fn spiking(args: &WorkloadArgs, rep: &mut Report) -> cortecs::Result<()> {
    let (name, ms) = (args.name.as_str(), args.ms);
    let t0 = Instant::now();
    let mut net = match name {
        "w1" => cortecs::workloads::coba(args.seed, &w1_data())?,
        "w2" => cortecs::workloads::brunel(args.seed, args.n_exc, args.c_exc, true)?,
        _ => cortecs::workloads::brunel_stdp(args.seed, args.n_exc, args.c_exc, true)?,
    };
    let build = t0.elapsed().as_secs_f64();
    let synapses: u64 = net.projections.iter().map(|p| p.store().live()).sum();
    let store_bytes: usize = net.projections.iter().map(|p| p.store().bytes()).sum();
    let t1 = Instant::now();
    net.run_ms(ms)?;
    let sim = t1.elapsed().as_secs_f64();
    let spikes: u64 = net.populations.iter().map(|p| p.spike_count).sum();
    let n: usize = net.populations.iter().map(|p| p.size).sum();
    let per_synapse = store_bytes as f64 / synapses.max(1) as f64;
    let rate = spikes as f64 / n as f64 / (ms / 1000.0);
    rep.line(format!(
        "{name}: neurons {n}, synapses {synapses}, store {per_synapse:.2} B/synapse, build {build:.3} s, sim {sim:.3} s for {ms} ms, spikes {spikes}, mean rate {rate:.2} Hz, peak RSS {} MiB",
        cortecs::io::peak_rss_bytes().map_or("?".into(), |b| (b / (1 << 20)).to_string()),
    ));
    rep.set("build_s", round(build, 4));
    rep.set("sim_s", round(sim, 4));
    rep.set("ms", ms);
    rep.set("neurons", n);
    rep.set("synapses", synapses);
    rep.set("bytes_per_synapse", round(per_synapse, 3));
    rep.set("spikes", spikes);
    rep.set("rate_hz", round(rate, 4));
    let mut rates = Map::new();
    for p in &net.populations {
        let r = p.spike_count as f64 / p.size as f64 / (ms / 1000.0);
        rep.line(format!("  {}: {} spikes, {r:.2} Hz", p.name, p.spike_count));
        rates.insert(p.name.clone(), json!(round(r, 4)));
    }
    rep.set("rates_hz", rates);
    let mut learning = Vec::new();
    for p in net.projections.iter().filter(|p| p.plastic().is_some()) {
        let s = p.store();
        let stats = s.weight_stats(cortecs::store::SignFilter::Both);
        let hi = p.spec.learning.first().map_or(f64::INFINITY, |l| l.upper()) as f32 as f64;
        let live = || {
            s.weight
                .iter()
                .zip(s.signs())
                .filter(|&(_, sign)| sign != 0)
                .map(|(&w, _)| f64::from(w))
        };
        let (at_zero, at_max) = (
            live().filter(|&x| x == 0.0).count(),
            live().filter(|&x| x >= hi).count(),
        );
        let bytes = s.bytes() + p.plastic().map_or(0, |q| q.bytes());
        let per = bytes as f64 / stats.count.max(1) as f64;
        rep.line(format!(
            "  {} (learning): mean w {:.5}, sd {:.5}, {at_zero} at 0, {at_max} at w_max, store + learning state {per:.2} B/synapse",
            p.name, stats.mean, stats.std,
        ));
        learning.push(json!({
            "projection": p.name,
            "synapses": stats.count,
            "w_mean": round(stats.mean, 7),
            "w_std": round(stats.std, 7),
            "at_zero": at_zero,
            "at_max": at_max,
            "bytes_per_synapse": round(per, 3),
        }));
    }
    if !learning.is_empty() {
        rep.set("learning", learning);
    }
    Ok(())
}

/// The rate-bandwidth workload: the median time of one step of
/// [`cortecs::workloads::rate_network`] (the store's weights and pre indices
/// read once, `acc += W r`, then the units' update), as bytes read per second
/// against the triad bandwidth measured in the same process at the same
/// thread count.
fn rate(args: &WorkloadArgs, rep: &mut Report) -> cortecs::Result<()> {
    let t0 = Instant::now();
    let mut net = cortecs::workloads::rate_network(args.seed, args.units, args.probability)?;
    let build = t0.elapsed().as_secs_f64();
    let proj = &net.projections[0];
    let (synapses, bytes, kernel) = match &proj.dense {
        Some(w) => (proj.store().live(), 4 * w.len(), "dense kernel"),
        None => {
            let s = proj.store();
            (
                s.live(),
                4 * s.weight.len() + s.minor.width() * s.minor.len() + 8 * s.row_ptr.len(),
                "post-major store",
            )
        }
    };
    for _ in 0..args.warmup {
        net.step_once();
    }
    let times: Vec<f64> = (0..args.iters.max(1))
        .map(|_| {
            let t = Instant::now();
            net.step_once();
            t.elapsed().as_secs_f64()
        })
        .collect();
    let (step, lo, hi) = spread(&times);
    let r = match &net.populations[0].state {
        cortecs::population::PopulationState::Rate(s) => s.r.clone(),
        _ => Vec::new(),
    };
    let finite = r.iter().all(|x| x.is_finite());
    let mean_abs = r.iter().map(|&x| f64::from(x.abs())).sum::<f64>() / r.len().max(1) as f64;
    let triad = triad_bandwidth();
    let achieved = bytes as f64 / step;
    rep.line(format!(
        "rate: {} units, {synapses} synapses ({kernel}, {:.1} MB read a step), build {build:.3} s, step {:.2} ms (median of {}, {:.2}-{:.2}), {:.2} GB/s, triad {:.2} GB/s: {:.0} % of triad; mean |r| {mean_abs:.3}{}",
        args.units,
        bytes as f64 / 1e6,
        step * 1e3,
        times.len(),
        lo * 1e3,
        hi * 1e3,
        achieved / 1e9,
        triad / 1e9,
        100.0 * achieved / triad,
        if finite { "" } else { ", NOT FINITE" },
    ));
    rep.set("build_s", round(build, 4));
    rep.set("units", args.units);
    rep.set("synapses", synapses);
    rep.set("bytes_per_step", bytes);
    rep.set("step_s", round(step, 6));
    rep.set("step_min_s", round(lo, 6));
    rep.set("step_max_s", round(hi, 6));
    rep.set("bytes_per_s", round(achieved, 0));
    rep.set("triad_bytes_per_s", round(triad, 0));
    rep.set("fraction_of_triad", round(achieved / triad, 4));
    rep.set("mean_abs_rate", round(mean_abs, 5));
    if !finite {
        return Err(CortecsError::InvalidRequest(
            "rate workload: a rate is not finite".into(),
        ));
    }
    Ok(())
}

/// The machine's triad bandwidth (bytes/s) on the current pool's threads:
/// STREAM's `a = b + s c` over three arrays of 2^25 f32 (128 MiB each, far
/// beyond the caches), best of six, counting 12 B an element as STREAM does
/// (two reads, one write).
fn triad_bandwidth() -> f64 {
    use rayon::prelude::*;
    const N: usize = 1 << 25;
    const CHUNK: usize = 1 << 16;
    let (b, c) = (vec![1.0f32; N], vec![2.0f32; N]);
    let mut a = vec![0.0f32; N];
    let mut best = f64::INFINITY;
    for k in 0..6 {
        let s = 0.5 + k as f32;
        let t = Instant::now();
        a.par_chunks_mut(CHUNK)
            .zip(b.par_chunks(CHUNK))
            .zip(c.par_chunks(CHUNK))
            .for_each(|((a, b), c)| {
                for ((a, &b), &c) in a.iter_mut().zip(b).zip(c) {
                    *a = b + s * c;
                }
            });
        best = best.min(t.elapsed().as_secs_f64());
        std::hint::black_box(&a);
    }
    (12 * N) as f64 / best
}

/// W2 with a mirror entity for every synapse: their memory and the run's time.
fn mirrored(args: &WorkloadArgs, rep: &mut Report) -> cortecs::Result<()> {
    let net = cortecs::workloads::brunel(args.seed, args.n_exc, 1000, false)?;
    let (rss0, t) = (cortecs::io::rss_bytes().unwrap_or(0), Instant::now());
    let mut sim = cortecs::ecs::Simulation::from_network(net);
    sim.build()?;
    let spawn = t.elapsed().as_secs_f64();
    let rss1 = cortecs::io::rss_bytes().unwrap_or(0);
    let n: u64 = sim.network()?.projections.iter().map(|p| p.store().live()).sum();
    let per = (rss1.saturating_sub(rss0)) as f64 / n.max(1) as f64;
    rep.line(format!(
        "w2 mirrored: spawned {n} synapse entities in {spawn:.3} s, {per:.1} B/synapse for the mirrors (RSS growth)"
    ));
    let t1 = Instant::now();
    sim.run_ms(args.ms)?;
    let run = t1.elapsed().as_secs_f64();
    rep.line(format!(
        "w2 mirrored: simulated {} ms in {run:.3} s (incl. writeback of every mirror at the end)",
        args.ms
    ));
    rep.set("mirrored", true);
    rep.set("synapses", n);
    rep.set("spawn_s", round(spawn, 4));
    rep.set("mirror_bytes_per_synapse", round(per, 2));
    rep.set("sim_s", round(run, 4));
    rep.set("ms", args.ms);
    Ok(())
}

/// W3: two populations of 10,000 and (unless `w3-empty`) the 10^7-synapse projection.
fn w3(args: &WorkloadArgs, rep: &mut Report) -> cortecs::Result<()> {
    let t0 = Instant::now();
    let mut net = cortecs::workloads::w3_populations(args.seed)?;
    let populations_s = t0.elapsed().as_secs_f64();
    let t = Instant::now();
    if args.name == "w3" {
        net.connect(cortecs::workloads::w3_projection())?;
    }
    let connect_s = t.elapsed().as_secs_f64();
    let m = cortecs::network::synapse_memory(&net);
    rep.line(format!(
        "{}: populations {populations_s:.3} s, connect + weights {connect_s:.3} s, synapses {}, store {:.2} B/synapse, peak RSS {} KiB",
        args.name,
        m.synapses,
        m.store_per_synapse(),
        cortecs::io::peak_rss_bytes().unwrap_or(0) / 1024
    ));
    rep.set("populations_s", round(populations_s, 4));
    rep.set("connect_s", round(connect_s, 4));
    rep.set("build_s", round(populations_s + connect_s, 4));
    rep.set("synapses", m.synapses);
    if m.synapses > 0 {
        rep.set("bytes_per_synapse", round(m.store_per_synapse(), 3));
    }
    Ok(())
}

/// Median, least and largest of `v` (not empty).
fn spread(v: &[f64]) -> (f64, f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    let median = if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    };
    (median, s[0], s[n - 1])
}

/// `f` run `warmup + iters` times; its last result and the seconds of the timed runs.
fn timed<T>(warmup: usize, iters: usize, mut f: impl FnMut() -> cortecs::Result<T>) -> cortecs::Result<(T, Vec<f64>)> {
    let mut times = Vec::with_capacity(iters);
    let mut last = None;
    for k in 0..warmup + iters {
        let t = Instant::now();
        let out = f()?;
        if k >= warmup {
            times.push(t.elapsed().as_secs_f64());
        }
        last = Some(out);
    }
    Ok((last.expect("at least one iteration"), times))
}

/// `DIR/NAME.npy` as a float32 array of dimension `D`.
fn load<D: Dimension>(dir: &Path, name: &str) -> cortecs::Result<Array<f32, D>> {
    let path = dir.join(format!("{name}.npy"));
    let a = cortecs::io::read_npy_shaped(&path)?;
    let shape = a.shape().to_vec();
    a.mapv(|x| x as f32).into_dimensionality::<D>().map_err(|_| {
        CortecsError::InvalidRequest(format!(
            "{}: expected a {}-D array, found shape {shape:?}",
            path.display(),
            D::NDIM.unwrap_or(0)
        ))
    })
}

/// The W4 parameters and input in `dir`, their shapes checked against each other.
fn load_w4(dir: &Path) -> cortecs::Result<(CtrnnWeights, Array3<f32>)> {
    let w = CtrnnWeights {
        w_in: load(dir, "W_in")?,
        w_hid: load(dir, "W_hid")?,
        b_hid: load(dir, "b_hid")?,
        w_out: load(dir, "W_out")?,
        b_out: load(dir, "b_out")?,
    };
    let u: Array3<f32> = load(dir, "u")?;
    let (hidden, n_in) = w.w_in.dim();
    let n_out = w.w_out.nrows();
    let want: [(&str, Vec<usize>, &[usize]); 5] = [
        ("W_hid", vec![hidden, hidden], w.w_hid.shape()),
        ("b_hid", vec![hidden], w.b_hid.shape()),
        ("W_out", vec![n_out, hidden], w.w_out.shape()),
        ("b_out", vec![n_out], w.b_out.shape()),
        ("u", vec![u.dim().0, u.dim().1, n_in], u.shape()),
    ];
    for (name, expected, got) in want {
        if expected != got {
            return Err(CortecsError::InvalidRequest(format!(
                "{}: shape {got:?}, expected {expected:?} (W_in.npy is {hidden} x {n_in}: hidden x inputs)",
                dir.join(format!("{name}.npy")).display()
            )));
        }
    }
    Ok((w, u))
}

/// Largest |a - b| over two arrays of one shape.
fn max_abs_diff(a: &Array3<f32>, b: &Array3<f32>) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from((x - y).abs()))
        .fold(0.0, f64::max)
}

/// W4: the forward pass of the engine's CTRNN (and with `--train`, training
/// iterations of the trainer), each the median of `iters` after `warmup`.
fn w4(args: &WorkloadArgs, rep: &mut Report) -> cortecs::Result<()> {
    if args.iters == 0 {
        return Err(CortecsError::InvalidRequest("--iters must be at least 1".into()));
    }
    let dir = args.arrays.as_deref();
    let (w, u) = match dir {
        Some(d) => load_w4(d)?,
        None => (
            CtrnnWeights::uniform(10, args.hidden, 2, 12345),
            Ctrnn::gaussian_input(100, 32, 10, 12346),
        ),
    };
    let (steps, batch, n_in) = u.dim();
    let (hidden, n_out) = (w.w_hid.nrows(), w.w_out.nrows());
    let mut net = Ctrnn::from_weights(&w, batch, 10.0, 100.0)?;
    let (y, times) = timed(args.warmup, args.iters, || Ok(net.forward(&u)))?;
    let (fwd, fwd_lo, fwd_hi) = spread(&times);
    rep.line(format!(
        "w4 dims [{n_in}, {hidden}, {n_out}], batch {batch}, {steps} steps: forward {:.3} ms (median of {} after {} warm-up; {:.3}-{:.3}), y[0,0,0] = {:.6}",
        fwd * 1e3,
        args.iters,
        args.warmup,
        fwd_lo * 1e3,
        fwd_hi * 1e3,
        y[[0, 0, 0]]
    ));
    rep.set("hidden", hidden);
    rep.set("dims", vec![n_in, hidden, n_out]);
    rep.set("batch", batch);
    rep.set("steps", steps);
    rep.set("iters", args.iters);
    rep.set("warmup", args.warmup);
    rep.set("forward_ms", round(fwd * 1e3, 4));
    rep.set("forward_ms_min", round(fwd_lo * 1e3, 4));
    rep.set("forward_ms_max", round(fwd_hi * 1e3, 4));
    rep.set("y000", f64::from(y[[0, 0, 0]]));
    if let Some(d) = dir {
        rep.set("arrays", d.display().to_string());
        if d.join("y0.npy").exists() {
            let y0: Array3<f32> = load(d, "y0")?;
            if y0.dim() != y.dim() {
                return Err(CortecsError::InvalidRequest(format!(
                    "{}: shape {:?}, the output is {:?}",
                    d.join("y0.npy").display(),
                    y0.shape(),
                    y.shape()
                )));
            }
            let dy = max_abs_diff(&y, &y0);
            rep.line(format!("  max |y - y0| = {dy:e} (y0.npy)"));
            rep.set("max_abs_dy", dy);
        }
    }
    if args.train {
        w4_train(args, rep, &w, &u)?;
    }
    Ok(())
}

/// W4 training iterations: zero the gradients, forward, MSE, BPTT, one Adam step.
fn w4_train(args: &WorkloadArgs, rep: &mut Report, w: &CtrnnWeights, u: &Array3<f32>) -> cortecs::Result<()> {
    use cortecs::train::{Noise, Objective, Optimizer, OptimizerKind, RateGraph, train_step};
    let (steps, batch, _) = u.dim();
    let n_out = w.w_out.nrows();
    let dir = args.arrays.as_deref().filter(|d| d.join("target.npy").exists());
    let target: Array3<f32> = match dir {
        Some(d) => load(d, "target")?,
        None => Ctrnn::gaussian_input(steps, batch, n_out, 12347),
    };
    if target.dim() != (steps, batch, n_out) {
        return Err(CortecsError::InvalidRequest(format!(
            "target.npy: shape {:?}, expected [{steps}, {batch}, {n_out}]",
            target.shape()
        )));
    }
    let mut g = RateGraph::<f32>::ctrnn(w, cortecs::model::Activation::Tanh, 10.0, 100.0);
    let mut opt = Optimizer::new(OptimizerKind::adam(), 1e-3)?;
    let objective = Objective::Mse { target, mask: None };
    let mut losses = Vec::new();
    let (_, times) = timed(args.warmup, args.iters, || {
        let (loss, _) = train_step(&mut g, &mut opt, u, &objective, &[], Noise::Off)?;
        losses.push(loss.total());
        Ok(())
    })?;
    let (it, lo, hi) = spread(&times);
    let (first, last) = (losses[0], losses[losses.len() - 1]);
    rep.line(format!(
        "  train iteration {:.3} ms (median of {} after {} warm-up; {:.3}-{:.3}), loss {first:.6} -> {last:.6} over {} Adam steps",
        it * 1e3,
        args.iters,
        args.warmup,
        lo * 1e3,
        hi * 1e3,
        losses.len()
    ));
    rep.set("train_ms", round(it * 1e3, 4));
    rep.set("train_ms_min", round(lo * 1e3, 4));
    rep.set("train_ms_max", round(hi * 1e3, 4));
    rep.set("loss_first", first);
    rep.set("loss_last", last);
    rep.set("train_steps", losses.len());
    if let Some(d) = args.arrays.as_deref().filter(|d| d.join("losses.npy").exists()) {
        let reference = cortecs::io::read_npy_f64(&d.join("losses.npy"))?;
        if let Some(&want) = reference.first() {
            let rel = (first - want).abs() / want.abs().max(f64::MIN_POSITIVE);
            rep.line(format!(
                "  first loss {first:.6} vs {want:.6} (losses.npy): relative {rel:e}"
            ));
            rep.set("loss_first_ref", want);
            rep.set("loss_first_rel_diff", rel);
        }
    }
    Ok(())
}
