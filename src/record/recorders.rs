//! Spike and state recorders: buffered rows streamed into pairs of `.npy` files.

use super::{NpyWriter, RecordError, Res, invalid, io_err};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Default number of rows (spikes, or state samples) a recorder keeps in
/// memory before handing them to its file writers.
pub const DEFAULT_BUFFER_ROWS: usize = 1 << 16;

/// Whether `name` can be part of an output file name: not empty, not `.` or
/// `..`, and no `/`, `\\` or NUL (it cannot reach outside the output folder).
pub fn usable_in_file_name(name: &str) -> bool {
    !(name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']))
}

/// Checks that `name` can be used as part of a file name ([`usable_in_file_name`]).
fn check_name(dir: &Path, what: &str, name: &str) -> Res<()> {
    if !usable_in_file_name(name) {
        Err(invalid(
            &dir.join(name),
            format!("{what} name '{name}' cannot be used in a file name"),
        ))
    } else {
        Ok(())
    }
}

fn create_dir(dir: &Path) -> Res<()> {
    std::fs::create_dir_all(dir).map_err(io_err(dir, "create output directory"))
}

/// What a finished [`SpikeRecorder`] wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SpikeSummary {
    /// Number of spikes recorded.
    pub count: u64,
    /// The files written: spike times (`f64`, ms), then neuron indices (`u32`).
    pub files: Vec<PathBuf>,
}

/// Records spikes as (time in ms, neuron index) pairs into
/// `<dir>/<name>_spikes_t.npy` (`f64`, ms) and `<dir>/<name>_spikes_i.npy`
/// (`u32`), both 1-D of the same length.
///
/// Both files exist from [`SpikeRecorder::new`] on and are valid arrays at
/// every moment (see [`NpyWriter`]). Spikes are kept in memory up to a
/// buffer size (rows), then written to both files, which then hold the same
/// number of spikes; [`SpikeRecorder::flush`] and [`SpikeRecorder::sync`]
/// write them earlier. A process killed between the two header updates may
/// leave the times file one flush longer: read `min(len(t), len(i))` spikes.
/// Dropping the recorder unfinished writes what it holds.
#[derive(Debug)]
pub struct SpikeRecorder {
    times: NpyWriter<f64>,
    indices: NpyWriter<u32>,
    buf_t: Vec<f64>,
    buf_i: Vec<u32>,
    buffer_rows: usize,
    count: u64,
}

impl SpikeRecorder {
    /// Starts recording spikes of `name` (e.g. a population) into `dir`, which
    /// is created if missing. Buffers [`DEFAULT_BUFFER_ROWS`] spikes in memory.
    pub fn new(dir: impl AsRef<Path>, name: &str) -> Result<Self, RecordError> {
        let dir = dir.as_ref();
        check_name(dir, "spike recorder", name)?;
        create_dir(dir)?;
        let times = NpyWriter::create(dir.join(format!("{name}_spikes_t.npy")), &[])?;
        let indices = NpyWriter::create(dir.join(format!("{name}_spikes_i.npy")), &[])?;
        Ok(SpikeRecorder {
            times,
            indices,
            buf_t: Vec::new(),
            buf_i: Vec::new(),
            buffer_rows: DEFAULT_BUFFER_ROWS,
            count: 0,
        })
    }

    /// Sets how many spikes are kept in memory before they are written (at least 1).
    pub fn with_buffer_rows(mut self, rows: usize) -> Self {
        self.buffer_rows = rows.max(1);
        self
    }

    /// Records that each neuron in `neurons` spiked at time `t_ms` (ms).
    pub fn push(&mut self, t_ms: f64, neurons: &[u32]) -> Result<(), RecordError> {
        self.buf_i.extend_from_slice(neurons);
        self.buf_t.resize(self.buf_i.len(), t_ms);
        self.count += neurons.len() as u64;
        if self.buf_i.len() >= self.buffer_rows {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the buffered spikes to both files (safe against a killed
    /// process, not against a power loss: see [`SpikeRecorder::sync`]).
    pub fn flush(&mut self) -> Res<()> {
        self.times.append(&self.buf_t)?;
        self.indices.append(&self.buf_i)?;
        self.buf_t.clear();
        self.buf_i.clear();
        self.times.flush()?;
        self.indices.flush()
    }

    /// Writes the buffered spikes and syncs both files to disk.
    pub fn sync(&mut self) -> Res<()> {
        self.flush()?;
        self.times.sync()?;
        self.indices.sync()
    }

    /// Number of spikes recorded so far (written or buffered).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The final paths of the spike-time and neuron-index files.
    pub fn paths(&self) -> [&Path; 2] {
        [self.times.path(), self.indices.path()]
    }

    /// Writes the buffered spikes and finishes (syncs and closes) both files.
    pub fn finish(mut self) -> Result<SpikeSummary, RecordError> {
        self.sync()?;
        Ok(SpikeSummary {
            count: self.count,
            files: vec![self.times.path().to_path_buf(), self.indices.path().to_path_buf()],
        })
    }
}

impl Drop for SpikeRecorder {
    fn drop(&mut self) {
        // best effort: an unfinished recorder writes what it holds
        if !self.buf_t.is_empty() {
            let _ = self.flush();
        }
    }
}

/// What a finished [`StateRecorder`] wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StateSummary {
    /// Number of samples (rows) recorded.
    pub samples: u64,
    /// Number of neurons recorded (columns).
    pub neurons: usize,
    /// Sampling interval, in simulation steps.
    pub every: u64,
    /// The files written: values (samples x neurons, `f64`), then sample times (`f64`, ms).
    pub files: Vec<PathBuf>,
}

/// Samples one state variable of chosen neurons every `every` steps into
/// `<dir>/<population>_<variable>.npy` (shape `(samples, neurons)`, `f64`, in
/// the variable's own unit) and `<dir>/<population>_<variable>_t.npy` (shape
/// `(samples,)`, sample times in ms).
///
/// Both files exist from [`StateRecorder::new`] on and are valid arrays at
/// every moment (see [`NpyWriter`]). Samples are kept in memory up to a
/// buffer size (rows), then written to both files; [`StateRecorder::flush`]
/// and [`StateRecorder::sync`] write them earlier. Dropping the recorder
/// unfinished writes what it holds.
#[derive(Debug)]
pub struct StateRecorder {
    values: NpyWriter<f64>,
    times: NpyWriter<f64>,
    neurons: Vec<u32>,
    every: u64,
    buf_v: Vec<f64>,
    buf_t: Vec<f64>,
    buffer_rows: usize,
    samples: u64,
}

impl StateRecorder {
    /// Starts recording `variable` of `population` for the neurons `neurons`
    /// (indices within the population; columns in this order) every `every`
    /// steps, into `dir`, which is created if missing. Buffers
    /// [`DEFAULT_BUFFER_ROWS`] samples, but at most about that many values,
    /// in memory. Fails if `neurons` is empty or `every` is 0.
    pub fn new(
        dir: impl AsRef<Path>,
        population: &str,
        variable: &str,
        neurons: Vec<u32>,
        every: u64,
    ) -> Result<Self, RecordError> {
        let dir = dir.as_ref();
        check_name(dir, "population", population)?;
        check_name(dir, "variable", variable)?;
        let values_path = dir.join(format!("{population}_{variable}.npy"));
        if neurons.is_empty() {
            return Err(invalid(&values_path, "no neurons chosen to record"));
        }
        if every == 0 {
            return Err(invalid(
                &values_path,
                "sampling interval 'every' must be at least 1 step",
            ));
        }
        create_dir(dir)?;
        let values = NpyWriter::create(values_path, &[neurons.len()])?;
        let times = NpyWriter::create(dir.join(format!("{population}_{variable}_t.npy")), &[])?;
        let buffer_rows = (DEFAULT_BUFFER_ROWS / neurons.len()).max(1);
        Ok(StateRecorder {
            values,
            times,
            neurons,
            every,
            buf_v: Vec::new(),
            buf_t: Vec::new(),
            buffer_rows,
            samples: 0,
        })
    }

    /// Sets how many samples are kept in memory before they are written (at least 1).
    pub fn with_buffer_rows(mut self, rows: usize) -> Self {
        self.buffer_rows = rows.max(1);
        self
    }

    /// Whether step `step` (0-based simulation step) is one to sample: `step % every == 0`.
    pub fn wants(&self, step: u64) -> bool {
        step.is_multiple_of(self.every)
    }

    /// The recorded neurons, in column order.
    pub fn neurons(&self) -> &[u32] {
        &self.neurons
    }

    /// Sampling interval, in steps.
    pub fn every(&self) -> u64 {
        self.every
    }

    /// Number of samples recorded so far (written or buffered).
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// The final paths of the values file and the sample-times file.
    pub fn paths(&self) -> [&Path; 2] {
        [self.values.path(), self.times.path()]
    }

    /// Records one sample taken at time `t_ms` (ms): `values[j]` is the
    /// variable of neuron `neurons()[j]`. Fails if `values` does not have one
    /// value per recorded neuron (nothing is recorded then).
    pub fn push(&mut self, t_ms: f64, values: &[f64]) -> Result<(), RecordError> {
        if values.len() != self.neurons.len() {
            return Err(RecordError::SampleLength {
                path: self.values.path().to_path_buf(),
                expected: self.neurons.len(),
                got: values.len(),
            });
        }
        self.buf_v.extend_from_slice(values);
        self.buf_t.push(t_ms);
        self.samples += 1;
        if self.buf_t.len() >= self.buffer_rows {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the buffered samples to both files (safe against a killed
    /// process, not against a power loss: see [`StateRecorder::sync`]).
    pub fn flush(&mut self) -> Res<()> {
        self.values.append(&self.buf_v)?;
        self.times.append(&self.buf_t)?;
        self.buf_v.clear();
        self.buf_t.clear();
        self.values.flush()?;
        self.times.flush()
    }

    /// Writes the buffered samples and syncs both files to disk.
    pub fn sync(&mut self) -> Res<()> {
        self.flush()?;
        self.values.sync()?;
        self.times.sync()
    }

    /// Writes the buffered samples and finishes (syncs and closes) both files.
    pub fn finish(mut self) -> Result<StateSummary, RecordError> {
        self.sync()?;
        Ok(StateSummary {
            samples: self.samples,
            neurons: self.neurons.len(),
            every: self.every,
            files: vec![self.values.path().to_path_buf(), self.times.path().to_path_buf()],
        })
    }
}

impl Drop for StateRecorder {
    fn drop(&mut self) {
        // best effort: an unfinished recorder writes what it holds
        if !self.buf_t.is_empty() {
            let _ = self.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_dir::TestDir;
    use ndarray::{Array1, Array2};
    use ndarray_npy::read_npy;

    #[test]
    fn spike_recorder_writes_pairs() {
        let dir = TestDir::new("spikes");
        let out = dir.path("out");
        let mut rec = SpikeRecorder::new(&out, "exc").unwrap().with_buffer_rows(3);
        let mut want_t = Vec::new();
        let mut want_i = Vec::new();
        for step in 0..50u32 {
            let t = step as f64 * 0.1;
            let fired: Vec<u32> = (0..step % 4).map(|k| step * 10 + k).collect();
            rec.push(t, &fired).unwrap();
            want_t.extend(std::iter::repeat_n(t, fired.len()));
            want_i.extend_from_slice(&fired);
        }
        rec.push(5.0, &[]).unwrap();
        assert_eq!(rec.count(), want_i.len() as u64);
        assert_eq!(rec.paths()[0], out.join("exc_spikes_t.npy"));
        let summary = rec.finish().unwrap();
        assert_eq!(summary.count, want_i.len() as u64);
        assert_eq!(
            summary.files,
            vec![out.join("exc_spikes_t.npy"), out.join("exc_spikes_i.npy")]
        );
        let t: Array1<f64> = read_npy(&summary.files[0]).unwrap();
        let i: Array1<u32> = read_npy(&summary.files[1]).unwrap();
        assert_eq!(t.to_vec(), want_t);
        assert_eq!(i.to_vec(), want_i);
    }

    #[test]
    fn spike_recorder_without_spikes_and_dropped() {
        let dir = TestDir::new("nospikes");
        let rec = SpikeRecorder::new(&dir.0, "inh").unwrap();
        let s = rec.finish().unwrap();
        assert_eq!(s.count, 0);
        let t: Array1<f64> = read_npy(&s.files[0]).unwrap();
        assert_eq!(t.len(), 0);

        // the files exist, empty, from the start; a dropped recorder writes what it held
        let dir = TestDir::new("dropspikes");
        {
            let mut rec = SpikeRecorder::new(&dir.0, "inh").unwrap().with_buffer_rows(2);
            let t: Array1<f64> = read_npy(dir.path("inh_spikes_t.npy")).unwrap();
            assert_eq!(t.len(), 0);
            rec.push(1.0, &[1, 2, 3]).unwrap();
            rec.push(2.0, &[4]).unwrap();
        }
        assert_eq!(dir.listing(), vec!["inh_spikes_i.npy", "inh_spikes_t.npy"]);
        let t: Array1<f64> = read_npy(dir.path("inh_spikes_t.npy")).unwrap();
        let i: Array1<u32> = read_npy(dir.path("inh_spikes_i.npy")).unwrap();
        assert_eq!(t.to_vec(), vec![1.0, 1.0, 1.0, 2.0]);
        assert_eq!(i.to_vec(), vec![1, 2, 3, 4]);

        for bad in ["", "a/b", "..", "x\\y"] {
            let err = SpikeRecorder::new(&dir.0, bad).unwrap_err();
            assert!(err.to_string().contains("cannot be used in a file name"), "{err}");
        }
    }

    #[test]
    fn state_recorder_samples() {
        let dir = TestDir::new("state");
        let neurons = vec![4, 0, 9];
        let mut rec = StateRecorder::new(&dir.0, "exc", "v", neurons.clone(), 5)
            .unwrap()
            .with_buffer_rows(2);
        assert_eq!(rec.neurons(), &neurons[..]);
        assert_eq!(rec.every(), 5);
        let dt = 0.1;
        let mut want_v = Vec::new();
        let mut want_t = Vec::new();
        for step in 0..23u64 {
            if rec.wants(step) {
                let t = step as f64 * dt;
                let v: Vec<f64> = neurons.iter().map(|&n| -65.0 + n as f64 + t).collect();
                rec.push(t, &v).unwrap();
                want_v.extend_from_slice(&v);
                want_t.push(t);
            }
        }
        assert_eq!(rec.samples(), 5); // steps 0, 5, 10, 15, 20

        let err = rec.push(3.0, &[1.0, 2.0]).unwrap_err();
        assert!(matches!(
            err,
            RecordError::SampleLength {
                expected: 3,
                got: 2,
                ..
            }
        ));
        let msg = err.to_string();
        assert!(
            msg.contains("exc_v.npy") && msg.contains("2 values") && msg.contains("expected 3"),
            "{msg}"
        );
        assert_eq!(rec.samples(), 5);

        let s = rec.finish().unwrap();
        assert_eq!((s.samples, s.neurons, s.every), (5, 3, 5));
        assert_eq!(s.files, vec![dir.path("exc_v.npy"), dir.path("exc_v_t.npy")]);
        let v: Array2<f64> = read_npy(&s.files[0]).unwrap();
        assert_eq!(v.shape(), &[5, 3]);
        assert_eq!(v.iter().copied().collect::<Vec<_>>(), want_v);
        let t: Array1<f64> = read_npy(&s.files[1]).unwrap();
        assert_eq!(t.to_vec(), want_t);
        assert_eq!(dir.listing(), vec!["exc_v.npy", "exc_v_t.npy"]);
    }

    #[test]
    fn state_recorder_rejects_bad_arguments_and_writes_what_it_holds() {
        let dir = TestDir::new("statebad");
        let err = StateRecorder::new(&dir.0, "exc", "v", vec![], 1).unwrap_err();
        assert!(err.to_string().contains("no neurons"), "{err}");
        let err = StateRecorder::new(&dir.0, "exc", "v", vec![1], 0).unwrap_err();
        assert!(err.to_string().contains("at least 1"), "{err}");
        assert!(err.to_string().contains("exc_v.npy"), "{err}");
        let err = StateRecorder::new(&dir.0, "exc", "a/b", vec![1], 1).unwrap_err();
        assert!(err.to_string().contains("variable name"), "{err}");
        assert!(dir.listing().is_empty(), "{:?}", dir.listing());
        {
            let mut rec = StateRecorder::new(&dir.0, "exc", "v", vec![1, 2], 1).unwrap();
            rec.push(0.5, &[1.0, 2.0]).unwrap();
            // buffered samples reach the files on flush, both files together
            let v: Array2<f64> = read_npy(dir.path("exc_v.npy")).unwrap();
            assert_eq!(v.shape(), &[0, 2]);
            rec.flush().unwrap();
            let v: Array2<f64> = read_npy(dir.path("exc_v.npy")).unwrap();
            assert_eq!(v, ndarray::array![[1.0, 2.0]]);
            rec.push(0.6, &[3.0, 4.0]).unwrap();
        }
        // dropped unfinished: what it held is written
        let v: Array2<f64> = read_npy(dir.path("exc_v.npy")).unwrap();
        let t: Array1<f64> = read_npy(dir.path("exc_v_t.npy")).unwrap();
        assert_eq!(v, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(t.to_vec(), vec![0.5, 0.6]);
        assert_eq!(dir.listing(), vec!["exc_v.npy", "exc_v_t.npy"]);
    }
}
