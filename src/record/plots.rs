//! The plots of a run, drawn from what it wrote (so they show what a user
//! would load) and from the network at its end: a spike raster and the
//! population rates of each spike recording, the traces of each state
//! probe, a weight histogram of each projection with E and I apart, and
//! the weight matrix of each dense weight recording. All go into
//! `<out>/plots/`.
//!
//! Recordings are read in chunks, never whole: the raster shows at most the
//! first second and the first 10^6 spikes, the rate curve counts every spike
//! in at most 500 bins, traces keep at most 4000 points per neuron and 8
//! neurons, histograms count at most 10^6 synapses of a projection (every
//! k-th when there are more).

use super::plot::{
    Group, Histogram, LineChart, MatrixCells, MatrixImage, Raster, Series, Trajectory, histogram, line_chart,
    matrix_cells_image, raster, trajectory,
};
use crate::model::{ModelKind, SynapseKind};
use crate::network::Network;
use crate::{CortecsError, Result};
use std::io::Read;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// One spike recording: population and its two files.
#[derive(Clone, Debug)]
pub struct SpikeFiles {
    /// Population.
    pub population: String,
    /// Spike times (`f64`, ms).
    pub times: PathBuf,
    /// Neuron indices (`u32`).
    pub neurons: PathBuf,
}

/// One state probe: population, variable, neurons and its two files.
#[derive(Clone, Debug)]
pub struct StateFiles {
    /// Population.
    pub population: String,
    /// Variable.
    pub variable: String,
    /// The neurons sampled (the columns).
    pub neurons: Vec<u32>,
    /// Values (samples x neurons, `f64`).
    pub values: PathBuf,
    /// Sample times (`f64`, ms).
    pub times: PathBuf,
}

/// What a run recorded, for [`plot_run`].
#[derive(Clone, Debug, Default)]
pub struct RunRecordings {
    /// Spike recordings.
    pub spikes: Vec<SpikeFiles>,
    /// State probes.
    pub states: Vec<StateFiles>,
    /// Projections whose dense weight matrix was recorded.
    pub weights: Vec<String>,
    /// Time recording began (ms).
    pub start_ms: f64,
    /// A closed loop's log (`environment.npy`) and its arena side (cm).
    pub environment: Option<(PathBuf, f64)>,
}

const SIZE: (u32, u32) = (900, 500);
const BLUE: [u8; 3] = [31, 119, 180];
const RED: [u8; 3] = [214, 39, 40];
const PALETTE: [[u8; 3]; 8] = [
    BLUE,
    [255, 127, 14],
    [44, 160, 44],
    RED,
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
];

/// Draws the plots of a run into `<out>/plots/` and returns their paths.
pub fn plot_run(out: &Path, net: &Network, rec: &RunRecordings) -> Result<Vec<PathBuf>> {
    let dir = out.join("plots");
    std::fs::create_dir_all(&dir).map_err(|e| CortecsError::file(&dir, e))?;
    let mut files = Vec::new();
    let mut done = |path: PathBuf, r: std::io::Result<()>| -> Result<()> {
        r.map_err(|e| CortecsError::file(&path, e))?;
        files.push(path);
        Ok(())
    };
    let (t0, t1) = (rec.start_ms, net.time().max(rec.start_ms));
    let mut rates = Vec::new();
    for (k, s) in rec.spikes.iter().enumerate() {
        let n = net.populations[net.population_index(&s.population)?].size;
        let window = (t0, t1.min(t0 + 1000.0));
        let (times, neurons) = read_raster(s, window.1, 1_000_000)?;
        let shown = if window.1 < t1 { " (first second)" } else { "" };
        let r = Raster {
            title: format!("{}: spikes of {n} neurons{shown}", s.population),
            times_ms: times,
            neurons,
            n_neurons: n,
            t_range: window,
        };
        let path = dir.join(format!("{}_raster.png", s.population));
        done(path.clone(), raster(&path, &r, SIZE))?;
        rates.push(Series {
            label: s.population.clone(),
            points: binned_rate(&s.times, n, t0, t1)?,
            rgb: PALETTE[k % PALETTE.len()],
        });
    }
    if !rates.is_empty() {
        let chart = LineChart {
            title: "population rates".into(),
            x_label: "time (ms)".into(),
            y_label: "rate (Hz)".into(),
            series: rates,
            y_range: None,
        };
        let path = dir.join("rates.png");
        done(path.clone(), line_chart(&path, &chart, SIZE))?;
    }
    for s in &rec.states {
        let chart = traces(s)?;
        let path = dir.join(format!("{}_{}.png", s.population, s.variable));
        done(path.clone(), line_chart(&path, &chart, SIZE))?;
    }
    for p in &net.projections {
        let unit = weight_unit(&net.populations[p.post].model);
        let store = &p.store;
        let live = store.live() as usize;
        let every = live.div_ceil(1_000_000).max(1);
        let (mut e, mut i) = (Vec::new(), Vec::new());
        let mut seen = 0usize;
        for (&w, s) in store.weight.iter().zip(store.signs()) {
            if s == 0 {
                continue;
            }
            seen += 1;
            if (seen - 1).is_multiple_of(every) {
                if s > 0 { &mut e } else { &mut i }.push(f64::from(w));
            }
        }
        let sample = if every > 1 {
            format!(", every {every}th of {live}")
        } else {
            String::new()
        };
        let h = Histogram {
            title: format!(
                "{}: {} -> {} weights{sample}",
                p.name, net.populations[p.pre].name, net.populations[p.post].name
            ),
            x_label: format!("weight ({unit})"),
            groups: vec![
                Group {
                    label: "excitatory".into(),
                    values: e,
                    rgb: RED,
                },
                Group {
                    label: "inhibitory".into(),
                    values: i,
                    rgb: BLUE,
                },
            ],
            bins: 60,
        };
        let path = dir.join(format!("{}_weight_histogram.png", p.name));
        done(path.clone(), histogram(&path, &h, SIZE))?;
    }
    if let Some((log, side)) = &rec.environment {
        let (t, d) = environment(log, *side)?;
        let path = dir.join("environment.png");
        done(path.clone(), trajectory(&path, &t, (650, 650)))?;
        let chart = LineChart {
            title: "distance to the light".into(),
            x_label: "time (ms)".into(),
            y_label: "distance (cm)".into(),
            series: vec![Series {
                label: String::new(),
                points: d,
                rgb: BLUE,
            }],
            y_range: None,
        };
        let path = dir.join("environment_distance.png");
        done(path.clone(), line_chart(&path, &chart, SIZE))?;
    }
    for w in &rec.weights {
        let p = net.projection(w)?;
        let (rows, cols) = (p.store.n_post as usize, p.store.n_pre as usize);
        // reduced block by block: no memory for the whole matrix
        let mut cells = MatrixCells::new(rows, cols);
        let Ok(()) = p.store.dense_row_blocks(1 << 24, |block| {
            cells.add_rows(block);
            Ok::<(), std::convert::Infallible>(())
        });
        let m = MatrixImage {
            title: format!("{w}: weights at t = {} ms", net.time()),
            x_label: format!("pre neuron ({})", net.populations[p.pre].name),
            y_label: format!("post neuron ({})", net.populations[p.post].name),
            value_label: format!("weight ({})", weight_unit(&net.populations[p.post].model)),
            rows,
            cols,
            values: Vec::new(),
        };
        let path = dir.join(format!("{w}_weights.png"));
        done(path.clone(), matrix_cells_image(&path, &m, &cells, (700, 600)))?;
    }
    Ok(files)
}

/// Most points an environment plot keeps (a longer log is thinned evenly).
const MAX_PATH_POINTS: usize = 20_000;

/// The vehicle's path with the light positions, and the distance to the
/// light over time, from an environment log (rows of
/// [`crate::env::ENVIRONMENT_COLUMNS`]).
fn environment(log: &Path, side: f64) -> Result<(Trajectory, Vec<(f64, f64)>)> {
    let width = crate::env::ENVIRONMENT_COLUMNS.len();
    let (mut rows, mut row, mut every, mut seen) = (Vec::new(), Vec::with_capacity(width), 1usize, 0usize);
    let mut lights: Vec<(String, (f64, f64))> = Vec::new();
    read_stream::<f64>(log, &mut |chunk| {
        for &v in chunk {
            row.push(v);
            if row.len() < width {
                continue;
            }
            let light = (row[4], row[5]);
            if lights.last().is_none_or(|(_, l)| *l != light) {
                lights.push(("light".into(), light));
            }
            if seen.is_multiple_of(every) {
                rows.push([row[0], row[1], row[2], row[4], row[5]]);
                if rows.len() >= 2 * MAX_PATH_POINTS {
                    // keep every other point and take half as many from now on
                    rows = std::mem::take(&mut rows).into_iter().step_by(2).collect();
                    every *= 2;
                }
            }
            seen += 1;
            row.clear();
        }
        ControlFlow::Continue(())
    })?;
    let t = Trajectory {
        title: format!("vehicle path, {:.0} ms", rows.last().map_or(0.0, |r| r[0] - rows[0][0])),
        side,
        unit: "cm".into(),
        path: rows.iter().map(|r| (r[1], r[2])).collect(),
        marks: lights,
    };
    let d = rows.iter().map(|r| (r[0], (r[1] - r[3]).hypot(r[2] - r[4]))).collect();
    Ok((t, d))
}

/// The unit of a projection's weights onto a population of `model`.
fn weight_unit(model: &ModelKind) -> &'static str {
    match model.synapse() {
        Some(SynapseKind::Delta) => "mV",
        Some(SynapseKind::CurrExp | SynapseKind::CurrAlpha) => "pA",
        Some(SynapseKind::CondExp | SynapseKind::CondAlpha) => "nS",
        None => "a.u.",
    }
}

/// The unit of a state variable, where it has one.
fn state_unit(variable: &str) -> &'static str {
    match variable {
        "v" | "v_init" => "mV",
        "g_e" | "g_i" => "nS",
        "i_syn_e" | "i_syn_i" | "i_e" | "i_i" | "w" | "i_offset" | "current" => "pA",
        _ => "",
    }
}

fn traces(s: &StateFiles) -> Result<LineChart> {
    let cols = s.neurons.len().max(1);
    let shown = cols.min(8);
    let mut times = Vec::new();
    read_stream::<f64>(&s.times, &mut |chunk| {
        times.extend_from_slice(chunk);
        ControlFlow::Continue(())
    })?;
    let stride = times.len().div_ceil(4000).max(1);
    let mut series: Vec<Series> = s.neurons[..shown]
        .iter()
        .enumerate()
        .map(|(k, n)| Series {
            label: format!("neuron {n}"),
            points: Vec::new(),
            rgb: PALETTE[k % PALETTE.len()],
        })
        .collect();
    let mut at = 0usize;
    read_stream::<f64>(&s.values, &mut |chunk| {
        for &v in chunk {
            let (row, col) = (at / cols, at % cols);
            if row % stride == 0 && col < shown && row < times.len() {
                series[col].points.push((times[row], v));
            }
            at += 1;
        }
        ControlFlow::Continue(())
    })?;
    let unit = state_unit(&s.variable);
    let more = if cols > shown {
        format!(" (first {shown} of {cols} neurons)")
    } else {
        String::new()
    };
    Ok(LineChart {
        title: format!("{}: {}{more}", s.population, s.variable),
        x_label: "time (ms)".into(),
        y_label: if unit.is_empty() {
            s.variable.clone()
        } else {
            format!("{} ({unit})", s.variable)
        },
        series,
        y_range: None,
    })
}

/// Spikes up to `t_end` ms, at most `max` of them.
fn read_raster(s: &SpikeFiles, t_end: f64, max: usize) -> Result<(Vec<f64>, Vec<u32>)> {
    let mut times = Vec::new();
    read_stream::<f64>(&s.times, &mut |chunk| {
        for &t in chunk {
            if t > t_end || times.len() >= max {
                return ControlFlow::Break(());
            }
            times.push(t);
        }
        ControlFlow::Continue(())
    })?;
    let mut neurons = Vec::with_capacity(times.len());
    read_stream::<u32>(&s.neurons, &mut |chunk| {
        let take = (times.len() - neurons.len()).min(chunk.len());
        neurons.extend_from_slice(&chunk[..take]);
        if neurons.len() == times.len() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })?;
    times.truncate(neurons.len());
    Ok((times, neurons))
}

/// Rate (Hz per neuron) in at most 500 bins of at least 1 ms, plotted at bin centres.
fn binned_rate(times: &Path, n: usize, t0: f64, t1: f64) -> Result<Vec<(f64, f64)>> {
    let span = (t1 - t0).max(1e-9);
    let bin = (span / 500.0).max(1.0);
    let bins = (span / bin).ceil().max(1.0) as usize;
    let mut counts = vec![0u64; bins];
    read_stream::<f64>(times, &mut |chunk| {
        for &t in chunk {
            counts[(((t - t0) / bin).max(0.0) as usize).min(bins - 1)] += 1;
        }
        ControlFlow::Continue(())
    })?;
    let per_hz = 1000.0 / (bin * n.max(1) as f64);
    Ok(counts
        .iter()
        .enumerate()
        .map(|(k, &c)| (t0 + (k as f64 + 0.5) * bin, c as f64 * per_hz))
        .collect())
}

/// An element of a stream this module reads back.
trait Element: Copy {
    const DESCR: &'static str;
    const SIZE: usize;
    fn from_le(b: &[u8]) -> Self;
}

impl Element for f64 {
    const DESCR: &'static str = "<f8";
    const SIZE: usize = 8;
    fn from_le(b: &[u8]) -> Self {
        f64::from_le_bytes(b.try_into().expect("8 bytes"))
    }
}

impl Element for u32 {
    const DESCR: &'static str = "<u4";
    const SIZE: usize = 4;
    fn from_le(b: &[u8]) -> Self {
        u32::from_le_bytes(b.try_into().expect("4 bytes"))
    }
}

/// Reads the values of a `.npy` stream of `T` in chunks of 8192, handing each
/// to `f` until it breaks or the data end.
fn read_stream<T: Element>(path: &Path, f: &mut dyn FnMut(&[T]) -> ControlFlow<()>) -> Result<()> {
    let err = |m: String| CortecsError::file(path, std::io::Error::new(std::io::ErrorKind::InvalidData, m));
    let file = std::fs::File::open(path).map_err(|e| CortecsError::file(path, e))?;
    let mut r = std::io::BufReader::with_capacity(1 << 16, file);
    let mut pre = [0u8; 10];
    r.read_exact(&mut pre).map_err(|e| CortecsError::file(path, e))?;
    if &pre[..6] != b"\x93NUMPY" || pre[6] != 1 {
        return Err(err("not a version 1.0 .npy stream".into()));
    }
    let mut dict = vec![0u8; usize::from(u16::from_le_bytes([pre[8], pre[9]]))];
    r.read_exact(&mut dict).map_err(|e| CortecsError::file(path, e))?;
    let dict = String::from_utf8_lossy(&dict);
    if !dict.contains(&format!("'descr': '{}'", T::DESCR)) {
        return Err(err(format!("expected dtype {}, header {}", T::DESCR, dict.trim())));
    }
    let mut bytes = vec![0u8; 8192 * T::SIZE];
    let mut values = Vec::with_capacity(8192);
    let mut carry = 0usize;
    loop {
        let got = r.read(&mut bytes[carry..]).map_err(|e| CortecsError::file(path, e))?;
        if got == 0 {
            return Ok(());
        }
        let have = carry + got;
        let whole = have / T::SIZE * T::SIZE;
        values.clear();
        values.extend(bytes[..whole].chunks_exact(T::SIZE).map(T::from_le));
        if f(&values).is_break() {
            return Ok(());
        }
        bytes.copy_within(whole..have, 0);
        carry = have - whole;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_dir::TestDir;
    use crate::record::SpikeRecorder;

    /// 3 neurons, all spiking at 0.5 + 2 j ms for j < 1000 (2 s), and
    /// neuron 2 also at every whole ms of the second second.
    fn spikes(dir: &TestDir) -> SpikeFiles {
        let mut r = SpikeRecorder::new(&dir.0, "p").unwrap().with_buffer_rows(100);
        for step in 0..20_000u32 {
            let t = f64::from(step) * 0.1;
            let mut fired = Vec::new();
            if step % 20 == 5 {
                fired.extend([0, 1, 2]);
            }
            if t >= 1000.0 && step % 10 == 0 && !fired.contains(&2) {
                fired.push(2);
            }
            r.push(t, &fired).unwrap();
        }
        let files = r.finish().unwrap().files;
        SpikeFiles {
            population: "p".into(),
            times: files[0].clone(),
            neurons: files[1].clone(),
        }
    }

    #[test]
    fn the_raster_reads_only_its_window_and_keeps_times_with_their_neurons() {
        let dir = TestDir::new("plots_raster");
        let s = spikes(&dir);
        let (t, n) = read_raster(&s, 100.0, usize::MAX).unwrap();
        // 0.5, 2.5, ..., 98.5 ms: 50 times, 3 neurons each
        assert_eq!(t.len(), 150);
        assert_eq!(n[..6], [0, 1, 2, 0, 1, 2]);
        assert!((t[149] - 98.5).abs() < 1e-9);
        let (t, n) = read_raster(&s, 1e9, 10).unwrap();
        assert_eq!((t.len(), n.len()), (10, 10));
    }

    #[test]
    fn binned_rates_count_every_spike_per_neuron_and_second() {
        let dir = TestDir::new("plots_rate");
        let s = spikes(&dir);
        let r = binned_rate(&s.times, 3, 0.0, 2000.0).unwrap();
        // 500 bins of 4 ms
        assert_eq!(r.len(), 500);
        assert!((r[0].0 - 2.0).abs() < 1e-12);
        // first half: 2 spikes of each neuron per 4 ms bin = 500 Hz
        assert!((r[10].1 - 500.0).abs() < 1e-9, "{:?}", r[10]);
        // second half: neuron 2 also at each whole ms (4 more per bin): 10 spikes / 3 neurons / 4 ms
        assert!((r[400].1 - 10.0 / 3.0 / 0.004).abs() < 1e-9, "{:?}", r[400]);
    }

    #[test]
    fn a_stream_of_another_dtype_is_an_error_naming_the_file() {
        let dir = TestDir::new("plots_dtype");
        let s = spikes(&dir);
        let e = read_stream::<f64>(&s.neurons, &mut |_| ControlFlow::Continue(())).unwrap_err();
        let e = e.to_string();
        assert!(e.contains("p_spikes_i.npy") && e.contains("expected dtype <f8"), "{e}");
    }
}
