//! Recording of simulation output to NumPy `.npy` files.
//!
//! Everything here streams: a long run never holds its whole output in
//! memory, and no file is ever invalid under its final name. A stream
//! ([`NpyWriter`] and the recorders on it) is created as an empty array and
//! grows by whole rows: each flush writes the new rows and then rewrites the
//! header's row count in place, so a process killed at any moment leaves a
//! loadable file holding every row flushed before the kill. Whole files
//! ([`write_npy_atomic`], [`write_json_atomic`]) are written to `<path>.tmp`,
//! fsynced and renamed over `<path>`, so they appear complete or not at all.
//!
//! - [`NpyWriter`] streams rows of a fixed shape into one `.npy` file
//!   (format 1.0, little-endian, C order), its header counting the rows
//!   flushed so far.
//! - [`SpikeRecorder`] records spikes as (time in ms, neuron index) pairs into
//!   `<name>_spikes_t.npy` (`f64`, ms) and `<name>_spikes_i.npy` (`u32`).
//! - [`StateRecorder`] samples a state variable of chosen neurons every `k`
//!   steps into `<population>_<variable>.npy` (samples x neurons) and
//!   `<population>_<variable>_t.npy` (sample times, ms).
//! - [`plot`] draws PNG charts (labelled axes, bundled font); [`plots`] the
//!   plots of a run (raster, rates, traces, weight histograms and matrices).
//! - [`write_npy_atomic`] writes a whole array at once, [`NpyFile`] one of a
//!   known shape in pieces (a dense weight matrix, block by block, by
//!   [`write_dense_weights`]); [`write_json_atomic`] writes a pretty JSON summary.
//!
//! Times are in milliseconds (ms) throughout; neuron indices are 0-based
//! indices within their population.
//!
//! Neighbours: the atomic temporary-file writes underneath live in
//! [`crate::io`] (which also reads `.npy` files); whole-network checkpoints
//! are [`crate::checkpoint`]; a scene's `record:` section is wired up in
//! `scene`.

mod npy;
pub mod plot;
pub mod plots;
mod recorders;

pub use npy::*;
pub use recorders::*;

use crate::io::AtomicError;
use serde::Serialize;
use std::io;
use std::path::{Path, PathBuf};

/// What went wrong while recording. Every message names the file concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// An I/O operation on a file failed.
    #[error("{}: cannot {action}: {source}", path.display())]
    Io {
        /// The file (or temporary file, or directory) concerned.
        path: PathBuf,
        /// What was being done, e.g. "create temporary file", "write data".
        action: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// [`NpyWriter::append`] got a number of values that is not a whole number of rows.
    #[error(
        "{}: cannot append {len} values: not a multiple of the row size {row_size} (row shape {row_shape:?})",
        path.display()
    )]
    RowLength {
        /// The file being written.
        path: PathBuf,
        /// Number of values given.
        len: usize,
        /// Number of values in one row (product of the row shape).
        row_size: usize,
        /// Shape of one row.
        row_shape: Vec<usize>,
    },
    /// [`write_npy_atomic`] got a data length that does not match the shape.
    #[error("{}: shape {shape:?} holds {expected} values but {got} were given", path.display())]
    ShapeMismatch {
        /// The file that was to be written.
        path: PathBuf,
        /// The shape given.
        shape: Vec<usize>,
        /// Number of values the shape holds (product of the shape).
        expected: usize,
        /// Number of values given.
        got: usize,
    },
    /// [`StateRecorder::push`] got a sample with the wrong number of values.
    #[error("{}: state sample has {got} values, expected {expected} (one per recorded neuron)", path.display())]
    SampleLength {
        /// The state file being written.
        path: PathBuf,
        /// Number of recorded neurons.
        expected: usize,
        /// Number of values given.
        got: usize,
    },
    /// The `.npy` header would not fit in the 65535 bytes format 1.0 allows.
    #[error("{}: .npy header would need {needed} bytes, more than format 1.0 allows ({limit})", path.display())]
    HeaderTooLong {
        /// The file that was to be written.
        path: PathBuf,
        /// Header bytes needed (magic included).
        needed: usize,
        /// Largest possible header, in bytes (magic included).
        limit: usize,
    },
    /// A value could not be serialized to JSON.
    #[error("{}: cannot serialize JSON: {source}", path.display())]
    Json {
        /// The file that was to be written.
        path: PathBuf,
        /// The serializer's error.
        #[source]
        source: serde_json::Error,
    },
    /// A write to this file failed earlier, so the file is incomplete and will not be finished.
    #[error("{}: an earlier write failed; the file is incomplete and was not finished", path.display())]
    Poisoned {
        /// The file concerned.
        path: PathBuf,
    },
    /// An argument is not acceptable (bad name, zero interval, empty row, ...).
    #[error("{}: {message}", path.display())]
    InvalidArgument {
        /// The file that was to be written.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

type Res<T> = std::result::Result<T, RecordError>;

fn io_err(path: &Path, action: &'static str) -> impl FnOnce(io::Error) -> RecordError {
    move |source| RecordError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

fn invalid(path: &Path, message: impl Into<String>) -> RecordError {
    RecordError::InvalidArgument {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

impl From<AtomicError> for RecordError {
    fn from(e: AtomicError) -> Self {
        match e {
            AtomicError::Io { path, action, source } => RecordError::Io { path, action, source },
            AtomicError::Json { path, source } => RecordError::Json { path, source },
        }
    }
}

/// Writes `value` as pretty-printed JSON (with a final newline) to `path`
/// through `<path>.tmp` and an atomic rename ([`crate::io::write_json_atomic`]).
pub fn write_json_atomic(path: impl AsRef<Path>, value: &impl Serialize) -> Result<(), RecordError> {
    Ok(crate::io::write_json_atomic(path, value)?)
}

/// Writes text to `path` atomically (temporary file, then rename; [`crate::io::write_text_atomic`]).
pub fn write_text_atomic(path: impl AsRef<Path>, text: &str) -> Result<(), RecordError> {
    Ok(crate::io::write_text_atomic(path, text)?)
}

/// Streams a store's dense post x pre float32 weight matrix (0 where no
/// synapse is, multapses summed: [`crate::store::SynapseStore::try_to_dense`]'s
/// values) into the `.npy` file `path`, in blocks of whole post rows of at
/// most 16 M values (64 MiB), through `<path>.tmp` and an atomic rename.
/// Fails before writing when the file system holding `path` has less room
/// than the file needs; `owner` names the projection in that message.
pub fn write_dense_weights(path: &Path, store: &crate::store::SynapseStore, owner: &str) -> crate::Result<()> {
    const BLOCK: usize = 1 << 24;
    let shape = [store.n_post as usize, store.n_pre as usize];
    let bytes = 4 * shape[0] as u128 * shape[1] as u128;
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let Some(free) = crate::io::available_disk_bytes(folder)
        && bytes > u128::from(free)
    {
        return Err(crate::CortecsError::InvalidRequest(format!(
            "{owner}: the dense weight matrix ({} x {} float32, {}) needs more than the {} free on the disk of {}",
            shape[0],
            shape[1],
            crate::io::bytes_text(bytes),
            crate::io::bytes_text(u128::from(free)),
            folder.display()
        )));
    }
    let mut file = NpyFile::<f32>::create(path, &shape)?;
    store.dense_row_blocks(BLOCK, |block| file.write(block))?;
    file.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_dir::TestDir;

    #[test]
    fn json_summary() {
        #[derive(Serialize)]
        struct Summary {
            steps: u64,
            spikes: SpikeSummary,
        }
        let dir = TestDir::new("json");
        let p = dir.path("summary.json");
        std::fs::write(&p, "old").unwrap();
        let s = Summary {
            steps: 10,
            spikes: SpikeSummary {
                count: 3,
                files: vec![PathBuf::from("a_spikes_t.npy"), PathBuf::from("a_spikes_i.npy")],
            },
        };
        write_json_atomic(&p, &s).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.ends_with("}\n") && text.contains("\n  \"steps\": 10"), "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["spikes"]["count"], 3);
        assert_eq!(v["spikes"]["files"][1], "a_spikes_i.npy");

        // A value that cannot be serialized leaves the old file alone.
        let mut bad = std::collections::HashMap::new();
        bad.insert(vec![1u8], 1);
        let err = write_json_atomic(&p, &bad).unwrap_err();
        assert!(matches!(err, RecordError::Json { .. }));
        assert!(err.to_string().contains("summary.json"), "{err}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), text);
        assert_eq!(dir.listing(), vec!["summary.json"]);
    }
}
