//! Recording of simulation output to NumPy `.npy` files.
//!
//! Everything here streams: a long run never holds its whole output in
//! memory, and no file ever appears half-written under its final name.
//! Each file is written to `<path>.tmp` first and renamed over `<path>` only
//! when it is complete (after an `fsync`), so a crash, an error or a writer
//! dropped without [`NpyWriter::finish`] leaves any earlier file at `<path>`
//! untouched and removes the temporary file.
//!
//! - [`NpyWriter`] streams rows of a fixed shape into one `.npy` file
//!   (format 1.0, little-endian, C order) and fixes the row count in the
//!   header when finished.
//! - [`SpikeRecorder`] records spikes as (time in ms, neuron index) pairs into
//!   `<name>_spikes_t.npy` (`f64`, ms) and `<name>_spikes_i.npy` (`u32`).
//! - [`StateRecorder`] samples a state variable of chosen neurons every `k`
//!   steps into `<population>_<variable>.npy` (samples x neurons) and
//!   `<population>_<variable>_t.npy` (sample times, ms).
//! - [`write_npy_atomic`] writes a whole array at once (e.g. a weight matrix);
//!   [`write_json_atomic`] writes a pretty JSON summary.
//!
//! Times are in milliseconds (ms) throughout; neuron indices are 0-based
//! indices within their population.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Capacity of the `BufWriter` behind each file, in bytes.
const IO_BUFFER_BYTES: usize = 1 << 16;

/// Number of elements converted to little-endian bytes at a time by
/// [`NpyWriter::append`], which bounds its scratch memory (8 bytes each).
const CONVERT_CHUNK: usize = 1 << 13;

/// Default number of rows (spikes, or state samples) a recorder keeps in
/// memory before handing them to its file writers.
pub const DEFAULT_BUFFER_ROWS: usize = 1 << 16;

/// Smallest total header size (magic, version, length and dict), in bytes,
/// reserved by [`NpyWriter`].
const MIN_RESERVED_HEADER: usize = 128;

/// The `.npy` magic string.
const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Bytes before the header dict: magic (6), version (2), header length (2).
const PREAMBLE: usize = 10;

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

mod sealed {
    /// Restricts [`super::NpyElement`] to the types this module implements it for.
    pub trait Sealed {}
}

/// An element type that can be written to `.npy` files: `f64`, `f32`, `u32`, `i64`, `u64`.
pub trait NpyElement: Copy + sealed::Sealed {
    /// NumPy dtype descriptor, e.g. `"<f8"` for little-endian 8-byte floats.
    const DESCR: &'static str;
    /// Appends the little-endian bytes of `values` to `out`.
    fn extend_le_bytes(values: &[Self], out: &mut Vec<u8>);
}

macro_rules! npy_element {
    ($($t:ty => $descr:literal),* $(,)?) => {$(
        impl sealed::Sealed for $t {}
        impl NpyElement for $t {
            const DESCR: &'static str = $descr;
            fn extend_le_bytes(values: &[Self], out: &mut Vec<u8>) {
                out.reserve(std::mem::size_of_val(values));
                for v in values {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
    )*};
}

npy_element!(f64 => "<f8", f32 => "<f4", u32 => "<u4", i64 => "<i8", u64 => "<u8");

/// The header dict for `descr` and `shape`, e.g.
/// `{'descr': '<f8', 'fortran_order': False, 'shape': (5, 3), }`.
fn header_dict(descr: &str, shape: &[u64]) -> String {
    let dims: Vec<String> = shape.iter().map(u64::to_string).collect();
    let shape = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}")
}

/// Smallest total header size (preamble, dict, padding and `\n`) that holds
/// `dict` and is a multiple of 64 bytes.
fn padded_total(dict: &str) -> usize {
    (PREAMBLE + dict.len() + 1).div_ceil(64) * 64
}

/// Largest total header size format 1.0 can express, in bytes.
const MAX_TOTAL_HEADER: usize = (u16::MAX as usize + PREAMBLE) / 64 * 64;

/// The complete header (magic to `\n`) holding `dict`, padded with spaces to
/// exactly `total` bytes. `total` must be a multiple of 64, large enough, and
/// at most [`MAX_TOTAL_HEADER`].
fn encode_header(dict: &str, total: usize) -> Vec<u8> {
    debug_assert!(total.is_multiple_of(64) && total > PREAMBLE + dict.len() && total <= MAX_TOTAL_HEADER);
    let header_len = u16::try_from(total - PREAMBLE).expect("header length checked against MAX_TOTAL_HEADER");
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&header_len.to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.resize(total - 1, b' ');
    out.push(b'\n');
    out
}

/// `<path>.tmp`.
fn temp_path(path: &Path) -> PathBuf {
    let mut name: OsString = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

/// A file being written at `<path>.tmp`, renamed to `<path>` by
/// [`TempFile::commit`] and removed if dropped before that.
#[derive(Debug)]
pub(crate) struct TempFile {
    path: PathBuf,
    tmp: PathBuf,
    file: Option<BufWriter<File>>,
}

impl TempFile {
    fn create(path: &Path) -> Res<Self> {
        TempFile::with_capacity(path, IO_BUFFER_BYTES)
    }

    /// Creates `<path>.tmp`, written through a buffer of `bytes` bytes.
    pub(crate) fn with_capacity(path: &Path, bytes: usize) -> Res<Self> {
        let tmp = temp_path(path);
        let file = File::create(&tmp).map_err(io_err(&tmp, "create temporary file"))?;
        Ok(TempFile {
            path: path.to_path_buf(),
            tmp,
            file: Some(BufWriter::with_capacity(bytes, file)),
        })
    }

    /// A placeholder that owns no file and removes nothing when dropped.
    fn detached() -> Self {
        TempFile {
            path: PathBuf::new(),
            tmp: PathBuf::new(),
            file: None,
        }
    }

    /// The buffered temporary file.
    pub(crate) fn writer(&mut self) -> &mut BufWriter<File> {
        self.file.as_mut().expect("TempFile used after commit")
    }

    fn write_all(&mut self, bytes: &[u8]) -> Res<()> {
        let tmp = &self.tmp;
        let w = self.file.as_mut().expect("TempFile used after commit");
        w.write_all(bytes).map_err(io_err(tmp, "write data"))
    }

    /// Flushes, fsyncs, closes and renames the file to its final path.
    pub(crate) fn commit(mut self) -> Res<PathBuf> {
        let writer = self.file.take().expect("TempFile committed twice");
        let file = writer
            .into_inner()
            .map_err(|e| io_err(&self.tmp, "flush data")(e.into_error()))?;
        file.sync_all().map_err(io_err(&self.tmp, "sync data to disk"))?;
        drop(file);
        std::fs::rename(&self.tmp, &self.path).map_err(io_err(&self.path, "rename temporary file into place"))?;
        // The rename is done: nothing left to remove on drop.
        self.tmp = PathBuf::new();
        sync_parent_dir(&self.path);
        Ok(std::mem::take(&mut self.path))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.tmp.as_os_str().is_empty() {
            return;
        }
        if let Some(writer) = self.file.take() {
            // Close without flushing: the buffered data is discarded anyway.
            let (file, _unwritten) = writer.into_parts();
            drop(file);
        }
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// Makes a rename durable by syncing the directory that holds `path` (best effort).
fn sync_parent_dir(path: &Path) {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// A streaming `.npy` writer (format 1.0, little-endian, C order) for arrays
/// of shape `(rows, *row_shape)` whose number of rows is known only at the end.
///
/// Data goes to `<path>.tmp` through a buffer; [`NpyWriter::finish`] writes the
/// final row count into the header and renames the file to `<path>`. Dropping
/// the writer without finishing removes the temporary file and leaves any
/// existing file at `<path>` untouched.
pub struct NpyWriter<T: NpyElement> {
    file: TempFile,
    row_shape: Vec<usize>,
    row_size: usize,
    rows: u64,
    reserved: usize,
    failed: bool,
    scratch: Vec<u8>,
    _element: std::marker::PhantomData<T>,
}

impl<T: NpyElement> std::fmt::Debug for NpyWriter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NpyWriter")
            .field("path", &self.file.path)
            .field("descr", &T::DESCR)
            .field("row_shape", &self.row_shape)
            .field("rows", &self.rows)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl<T: NpyElement> NpyWriter<T> {
    /// Opens `<path>.tmp` for an array of rows of shape `row_shape` (empty for a
    /// 1-D array of scalars) and writes a provisional header of `(0, *row_shape)`,
    /// padded so that any final row count fits.
    ///
    /// Fails if the row shape holds no elements (a zero dimension), if its header
    /// cannot fit in format 1.0, or if the temporary file cannot be created.
    pub fn create(path: impl AsRef<Path>, row_shape: &[usize]) -> Result<Self, RecordError> {
        let path = path.as_ref();
        let row_size = row_shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| invalid(path, format!("row shape {row_shape:?} has too many elements")))?;
        if row_size == 0 {
            return Err(invalid(
                path,
                format!("row shape {row_shape:?} has no elements, so rows cannot be counted"),
            ));
        }
        // Reserve room for the largest possible row count (20 digits).
        let widest = Self::dict(u64::MAX, row_shape);
        let reserved = padded_total(&widest).max(MIN_RESERVED_HEADER);
        if reserved > MAX_TOTAL_HEADER {
            return Err(RecordError::HeaderTooLong {
                path: path.to_path_buf(),
                needed: reserved,
                limit: MAX_TOTAL_HEADER,
            });
        }
        let mut file = TempFile::create(path)?;
        file.write_all(&encode_header(&Self::dict(0, row_shape), reserved))?;
        Ok(NpyWriter {
            file,
            row_shape: row_shape.to_vec(),
            row_size,
            rows: 0,
            reserved,
            failed: false,
            scratch: Vec::new(),
            _element: std::marker::PhantomData,
        })
    }

    fn dict(rows: u64, row_shape: &[usize]) -> String {
        let shape: Vec<u64> = std::iter::once(rows)
            .chain(row_shape.iter().map(|&d| d as u64))
            .collect();
        header_dict(T::DESCR, &shape)
    }

    /// The final path of the file (without `.tmp`).
    pub fn path(&self) -> &Path {
        &self.file.path
    }

    /// Shape of one row.
    pub fn row_shape(&self) -> &[usize] {
        &self.row_shape
    }

    /// Number of values in one row (product of the row shape).
    pub fn row_size(&self) -> usize {
        self.row_size
    }

    /// Number of rows appended so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Size of the header in bytes (magic included); data starts at this offset.
    pub fn header_len(&self) -> usize {
        self.reserved
    }

    /// Appends `values` (whole rows, in C order). Their number must be a
    /// multiple of [`NpyWriter::row_size`]; otherwise nothing is written and an
    /// error is returned. After an I/O error the writer refuses further use.
    pub fn append(&mut self, values: &[T]) -> Result<(), RecordError> {
        if self.failed {
            return Err(RecordError::Poisoned {
                path: self.file.path.clone(),
            });
        }
        if !values.len().is_multiple_of(self.row_size) {
            return Err(RecordError::RowLength {
                path: self.file.path.clone(),
                len: values.len(),
                row_size: self.row_size,
                row_shape: self.row_shape.clone(),
            });
        }
        for chunk in values.chunks(CONVERT_CHUNK) {
            self.scratch.clear();
            T::extend_le_bytes(chunk, &mut self.scratch);
            if let Err(e) = self.file.write_all(&self.scratch) {
                self.failed = true;
                return Err(e);
            }
        }
        self.rows += (values.len() / self.row_size) as u64;
        Ok(())
    }

    /// Writes the final row count into the header, flushes and fsyncs the
    /// file, and renames `<path>.tmp` to `<path>` (replacing any existing file).
    /// Returns the final path. On error the temporary file is removed.
    pub fn finish(mut self) -> Result<PathBuf, RecordError> {
        if self.failed {
            return Err(RecordError::Poisoned {
                path: self.file.path.clone(),
            });
        }
        let dict = Self::dict(self.rows, &self.row_shape);
        if padded_total(&dict) > self.reserved {
            // Cannot happen: room for u64::MAX rows was reserved.
            return Err(RecordError::HeaderTooLong {
                path: self.file.path.clone(),
                needed: padded_total(&dict),
                limit: self.reserved,
            });
        }
        let header = encode_header(&dict, self.reserved);
        let tmp = self.file.tmp.clone();
        self.file
            .writer()
            .seek(SeekFrom::Start(0))
            .map_err(io_err(&tmp, "seek to the header"))?;
        self.file.write_all(&header)?;
        // `commit` consumes the file; `self` then drops with nothing to clean up.
        let file = std::mem::replace(&mut self.file, TempFile::detached());
        file.commit()
    }
}

/// Writes a whole array of shape `shape` (C order) to the `.npy` file `path`
/// through `<path>.tmp` and an atomic rename. An empty `shape` writes a 0-d
/// array (one value). Fails if `data.len()` is not the product of `shape`.
pub fn write_npy_atomic<T: NpyElement>(path: impl AsRef<Path>, shape: &[usize], data: &[T]) -> Result<(), RecordError> {
    let path = path.as_ref();
    let expected = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    if expected != Some(data.len()) {
        return Err(RecordError::ShapeMismatch {
            path: path.to_path_buf(),
            shape: shape.to_vec(),
            expected: expected.unwrap_or(usize::MAX),
            got: data.len(),
        });
    }
    let dims: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let dict = header_dict(T::DESCR, &dims);
    let total = padded_total(&dict);
    if total > MAX_TOTAL_HEADER {
        return Err(RecordError::HeaderTooLong {
            path: path.to_path_buf(),
            needed: total,
            limit: MAX_TOTAL_HEADER,
        });
    }
    let mut file = TempFile::create(path)?;
    file.write_all(&encode_header(&dict, total))?;
    let mut scratch = Vec::new();
    for chunk in data.chunks(CONVERT_CHUNK) {
        scratch.clear();
        T::extend_le_bytes(chunk, &mut scratch);
        file.write_all(&scratch)?;
    }
    file.commit().map(|_| ())
}

/// Writes `value` as pretty-printed JSON (with a final newline) to `path`
/// through `<path>.tmp` and an atomic rename.
pub fn write_json_atomic(path: impl AsRef<Path>, value: &impl Serialize) -> Result<(), RecordError> {
    let path = path.as_ref();
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|source| RecordError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    bytes.push(b'\n');
    let mut file = TempFile::create(path)?;
    file.write_all(&bytes)?;
    file.commit().map(|_| ())
}

/// Writes text to `path` atomically (temporary file, then rename).
pub fn write_text_atomic(path: impl AsRef<Path>, text: &str) -> Result<(), RecordError> {
    let mut file = TempFile::create(path.as_ref())?;
    file.write_all(text.as_bytes())?;
    file.commit().map(|_| ())
}

/// Checks that `name` can be used as part of a file name (no separators, not empty).
fn check_name(dir: &Path, what: &str, name: &str) -> Res<()> {
    let bad = name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']);
    if bad {
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
/// Spikes are kept in memory up to a buffer size (rows), then appended to the
/// files. Nothing appears under the final names before [`SpikeRecorder::finish`];
/// dropping the recorder unfinished removes the temporary files.
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

    fn flush(&mut self) -> Res<()> {
        self.times.append(&self.buf_t)?;
        self.indices.append(&self.buf_i)?;
        self.buf_t.clear();
        self.buf_i.clear();
        Ok(())
    }

    /// Number of spikes recorded so far (written or buffered).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The final paths of the spike-time and neuron-index files.
    pub fn paths(&self) -> [&Path; 2] {
        [self.times.path(), self.indices.path()]
    }

    /// Writes the buffered spikes and finishes both files (times first, then
    /// indices; each is renamed into place atomically, the pair is not).
    pub fn finish(mut self) -> Result<SpikeSummary, RecordError> {
        self.flush()?;
        let t = self.times.finish()?;
        let i = self.indices.finish()?;
        Ok(SpikeSummary {
            count: self.count,
            files: vec![t, i],
        })
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
/// Samples are kept in memory up to a buffer size (rows), then appended to the
/// files. Nothing appears under the final names before [`StateRecorder::finish`];
/// dropping the recorder unfinished removes the temporary files.
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

    fn flush(&mut self) -> Res<()> {
        self.values.append(&self.buf_v)?;
        self.times.append(&self.buf_t)?;
        self.buf_v.clear();
        self.buf_t.clear();
        Ok(())
    }

    /// Writes the buffered samples and finishes both files (values first,
    /// then times; each is renamed into place atomically, the pair is not).
    pub fn finish(mut self) -> Result<StateSummary, RecordError> {
        self.flush()?;
        let v = self.values.finish()?;
        let t = self.times.finish()?;
        Ok(StateSummary {
            samples: self.samples,
            neurons: self.neurons.len(),
            every: self.every,
            files: vec![v, t],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array0, Array1, Array2, Array3, ArrayD};
    use ndarray_npy::read_npy;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh directory under the system temp dir, removed when dropped.
    struct TestDir(PathBuf);

    impl TestDir {
        fn new(tag: &str) -> Self {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!("cortecs-record-{}-{tag}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            TestDir(dir)
        }

        fn path(&self, name: &str) -> PathBuf {
            self.0.join(name)
        }

        /// Names of the files in the directory, sorted.
        fn listing(&self) -> Vec<String> {
            let mut names: Vec<String> = std::fs::read_dir(&self.0)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        }
    }

    impl Drop for TestDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// The header dict of a `.npy` file, checked for magic, version, alignment and padding.
    fn header_of(path: &Path) -> String {
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(&bytes[..6], MAGIC);
        assert_eq!(&bytes[6..8], &[1, 0]);
        let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((PREAMBLE + len) % 64, 0, "header not 64-byte aligned");
        let header = std::str::from_utf8(&bytes[PREAMBLE..PREAMBLE + len]).unwrap();
        assert!(header.ends_with('\n'));
        header.trim_end().to_string()
    }

    fn stream_roundtrip<T>(values: &[T], row_shape: &[usize]) -> (PathBuf, TestDir)
    where
        T: NpyElement,
    {
        let dir = TestDir::new("roundtrip");
        let path = dir.path("a.npy");
        let mut w = NpyWriter::<T>::create(&path, row_shape).unwrap();
        let row = w.row_size();
        // Append in uneven batches of whole rows.
        let mut rest = values;
        let mut batch = 1;
        while !rest.is_empty() {
            let take = (batch * row).min(rest.len());
            w.append(&rest[..take]).unwrap();
            rest = &rest[take..];
            batch += 2;
        }
        assert_eq!(w.rows() as usize, values.len() / row);
        assert_eq!(w.finish().unwrap(), path);
        (path, dir)
    }

    #[test]
    fn f64_1d_and_2d_read_back() {
        let data: Vec<f64> = (0..30).map(|i| i as f64 * 0.5 - 3.0).collect();
        let (p, _d) = stream_roundtrip(&data, &[]);
        let a: Array1<f64> = read_npy(&p).unwrap();
        assert_eq!(a.to_vec(), data);
        assert_eq!(
            header_of(&p),
            "{'descr': '<f8', 'fortran_order': False, 'shape': (30,), }"
        );

        let (p, _d) = stream_roundtrip(&data, &[3]);
        let a: Array2<f64> = read_npy(&p).unwrap();
        assert_eq!(a.shape(), &[10, 3]);
        assert_eq!(a.iter().copied().collect::<Vec<_>>(), data);
        assert_eq!(a[[2, 1]], data[7]);
        assert_eq!(
            header_of(&p),
            "{'descr': '<f8', 'fortran_order': False, 'shape': (10, 3), }"
        );
    }

    #[test]
    fn f32_u32_i64_u64_read_back() {
        let f: Vec<f32> = (0..12).map(|i| i as f32 / 3.0).collect();
        let (p, _d) = stream_roundtrip(&f, &[4]);
        assert!(header_of(&p).contains("'descr': '<f4'"));
        let a: Array2<f32> = read_npy(&p).unwrap();
        assert_eq!(a.shape(), &[3, 4]);
        assert_eq!(a.iter().copied().collect::<Vec<_>>(), f);
        let (p, _d) = stream_roundtrip(&f, &[]);
        let a: Array1<f32> = read_npy(&p).unwrap();
        assert_eq!(a.to_vec(), f);

        let u: Vec<u32> = vec![0, 1, u32::MAX, 7, 8, 9];
        let (p, _d) = stream_roundtrip(&u, &[2]);
        assert!(header_of(&p).contains("'descr': '<u4'"));
        let a: Array2<u32> = read_npy(&p).unwrap();
        assert_eq!(a.shape(), &[3, 2]);
        assert_eq!(a.iter().copied().collect::<Vec<_>>(), u);
        let (p, _d) = stream_roundtrip(&u, &[]);
        let a: Array1<u32> = read_npy(&p).unwrap();
        assert_eq!(a.to_vec(), u);

        let i: Vec<i64> = vec![i64::MIN, -1, 0, 1, i64::MAX, 42];
        let (p, _d) = stream_roundtrip(&i, &[3]);
        assert!(header_of(&p).contains("'descr': '<i8'"));
        let a: Array2<i64> = read_npy(&p).unwrap();
        assert_eq!(a.shape(), &[2, 3]);
        assert_eq!(a.iter().copied().collect::<Vec<_>>(), i);
        let (p, _d) = stream_roundtrip(&i, &[]);
        let a: Array1<i64> = read_npy(&p).unwrap();
        assert_eq!(a.to_vec(), i);

        let w: Vec<u64> = vec![u64::MAX, 0, 3, 4];
        let (p, _d) = stream_roundtrip(&w, &[2, 2]);
        assert!(header_of(&p).contains("'descr': '<u8'"));
        assert!(header_of(&p).contains("'shape': (1, 2, 2)"));
        let a: Array3<u64> = read_npy(&p).unwrap();
        assert_eq!(a.shape(), &[1, 2, 2]);
        assert_eq!(a.iter().copied().collect::<Vec<_>>(), w);
        let (p, _d) = stream_roundtrip(&w, &[]);
        let a: Array1<u64> = read_npy(&p).unwrap();
        assert_eq!(a.to_vec(), w);
    }

    #[test]
    fn empty_stream_has_zero_rows() {
        let dir = TestDir::new("empty");
        let p = dir.path("e.npy");
        let w = NpyWriter::<f64>::create(&p, &[5]).unwrap();
        w.finish().unwrap();
        let a: Array2<f64> = read_npy(&p).unwrap();
        assert_eq!(a.shape(), &[0, 5]);
        let p1 = dir.path("e1.npy");
        NpyWriter::<u32>::create(&p1, &[]).unwrap().finish().unwrap();
        assert_eq!(
            header_of(&p1),
            "{'descr': '<u4', 'fortran_order': False, 'shape': (0,), }"
        );
        let a: Array1<u32> = read_npy(&p1).unwrap();
        assert_eq!(a.len(), 0);
        assert_eq!(dir.listing(), vec!["e.npy", "e1.npy"]);
    }

    #[test]
    fn header_is_aligned_and_reserved() {
        let dir = TestDir::new("header");
        let p = dir.path("h.npy");
        let w = NpyWriter::<f64>::create(&p, &[3]).unwrap();
        assert_eq!(w.header_len(), 128);
        // Data starts right after the header.
        let mut w = w;
        w.append(&[1.0, 2.0, 3.0]).unwrap();
        w.finish().unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(bytes.len(), 128 + 24);
        assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), 118);
        assert_eq!(f64::from_le_bytes(bytes[128..136].try_into().unwrap()), 1.0);
        // The widest possible final header fits in the reserved space.
        for shape in [&[][..], &[3], &[usize::MAX], &[1 << 20, 1 << 20, 1 << 20]] {
            let widest = NpyWriter::<f64>::dict(u64::MAX, shape);
            let w = NpyWriter::<f64>::create(&p, shape).unwrap_or_else(|e| panic!("{e}"));
            assert!(padded_total(&widest) <= w.header_len());
            assert!(w.header_len().is_multiple_of(64));
        }
        // The full header for u64::MAX rows encodes and is aligned.
        let dict = NpyWriter::<u64>::dict(u64::MAX, &[usize::MAX, usize::MAX]);
        let total = padded_total(&dict).max(MIN_RESERVED_HEADER);
        let h = encode_header(&dict, total);
        assert_eq!(h.len() % 64, 0);
        assert_eq!(*h.last().unwrap(), b'\n');
    }

    #[test]
    fn row_count_is_written_into_header() {
        let dir = TestDir::new("rows");
        let p = dir.path("r.npy");
        let mut w = NpyWriter::<i64>::create(&p, &[1]).unwrap();
        let data: Vec<i64> = (0..123_456).collect();
        w.append(&data).unwrap();
        w.finish().unwrap();
        assert_eq!(
            header_of(&p),
            "{'descr': '<i8', 'fortran_order': False, 'shape': (123456, 1), }"
        );
    }

    #[test]
    fn wrong_append_length_is_a_clear_error() {
        let dir = TestDir::new("rowlen");
        let p = dir.path("w.npy");
        let mut w = NpyWriter::<f64>::create(&p, &[2, 3]).unwrap();
        w.append(&[0.0; 6]).unwrap();
        let err = w.append(&[0.0; 7]).unwrap_err();
        assert!(matches!(
            err,
            RecordError::RowLength {
                len: 7,
                row_size: 6,
                ..
            }
        ));
        let msg = err.to_string();
        assert!(msg.contains("w.npy"), "{msg}");
        assert!(
            msg.contains("7 values") && msg.contains("row size 6") && msg.contains("[2, 3]"),
            "{msg}"
        );
        // The writer is still usable and the bad append wrote nothing.
        w.append(&[1.0; 6]).unwrap();
        assert_eq!(w.rows(), 2);
        w.finish().unwrap();
        let a: Array3<f64> = read_npy(&p).unwrap();
        assert_eq!(a.shape(), &[2, 2, 3]);
        assert_eq!(a[[1, 1, 2]], 1.0);
    }

    #[test]
    fn dropped_writer_leaves_no_file_and_keeps_existing() {
        let dir = TestDir::new("drop");
        let p = dir.path("d.npy");
        {
            let mut w = NpyWriter::<f64>::create(&p, &[]).unwrap();
            w.append(&[1.0, 2.0]).unwrap();
            assert!(temp_path(&p).exists());
        }
        assert!(dir.listing().is_empty(), "{:?}", dir.listing());

        write_npy_atomic(&p, &[3], &[7.0f64, 8.0, 9.0]).unwrap();
        let before = std::fs::read(&p).unwrap();
        {
            let mut w = NpyWriter::<f64>::create(&p, &[]).unwrap();
            w.append(&[1.0; 100_000]).unwrap();
        }
        assert_eq!(std::fs::read(&p).unwrap(), before);
        assert_eq!(dir.listing(), vec!["d.npy"]);
    }

    #[test]
    fn finish_replaces_existing_file() {
        let dir = TestDir::new("replace");
        let p = dir.path("x.npy");
        std::fs::write(&p, b"old contents that are not npy at all").unwrap();
        let mut w = NpyWriter::<u32>::create(&p, &[2]).unwrap();
        w.append(&[1, 2, 3, 4]).unwrap();
        // Until finish, the old file is still there.
        assert_eq!(std::fs::read(&p).unwrap(), b"old contents that are not npy at all");
        w.finish().unwrap();
        let a: Array2<u32> = read_npy(&p).unwrap();
        assert_eq!(a, ndarray::array![[1, 2], [3, 4]]);
        assert_eq!(dir.listing(), vec!["x.npy"]);
    }

    #[test]
    fn million_rows_of_two_u32() {
        let dir = TestDir::new("big");
        let p = dir.path("big.npy");
        let mut w = NpyWriter::<u32>::create(&p, &[2]).unwrap();
        let n: u32 = 1_000_000;
        let mut batch = Vec::with_capacity(2 * 1000);
        for start in (0..n).step_by(1000) {
            batch.clear();
            for r in start..start + 1000 {
                batch.extend_from_slice(&[r, r.wrapping_mul(2_654_435_761)]);
            }
            w.append(&batch).unwrap();
        }
        assert_eq!(w.rows(), n as u64);
        w.finish().unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().len(), 128 + 8 * n as u64);
        let a: Array2<u32> = read_npy(&p).unwrap();
        assert_eq!(a.shape(), &[n as usize, 2]);
        for (r, row) in a.outer_iter().enumerate() {
            let r = r as u32;
            assert_eq!((row[0], row[1]), (r, r.wrapping_mul(2_654_435_761)));
        }
    }

    #[test]
    fn unusable_row_shapes_are_rejected() {
        let dir = TestDir::new("badshape");
        let p = dir.path("z.npy");
        let err = NpyWriter::<f64>::create(&p, &[3, 0]).unwrap_err();
        assert!(err.to_string().contains("no elements"), "{err}");
        let err = NpyWriter::<f64>::create(&p, &[1; 30_000]).unwrap_err();
        assert!(matches!(err, RecordError::HeaderTooLong { limit: 65536, .. }), "{err}");
        assert!(err.to_string().contains("z.npy"), "{err}");
        let err = NpyWriter::<f64>::create(&p, &[usize::MAX, 2]).unwrap_err();
        assert!(err.to_string().contains("too many elements"), "{err}");
        assert!(dir.listing().is_empty());
        // The largest row shape that fits still gives a readable file.
        let mut w = NpyWriter::<f64>::create(&p, &[1; 20_000]).unwrap();
        assert!(w.header_len() <= 65536);
        w.append(&[0.5; 20_000]).unwrap();
        w.finish().unwrap();
        let a: ArrayD<f64> = read_npy(&p).unwrap();
        assert_eq!(a.ndim(), 20_001);
        let err = NpyWriter::<f64>::create(dir.path("missing/dir/z.npy"), &[]).unwrap_err();
        assert!(matches!(err, RecordError::Io { .. }));
        assert!(err.to_string().contains("missing/dir/z.npy.tmp"), "{err}");
        assert!(err.to_string().contains("create temporary file"), "{err}");
    }

    #[test]
    fn whole_arrays_at_once() {
        let dir = TestDir::new("whole");
        let p = dir.path("w.npy");
        let data: Vec<f32> = (0..24).map(|i| i as f32).collect();
        write_npy_atomic(&p, &[2, 3, 4], &data).unwrap();
        let a: Array3<f32> = read_npy(&p).unwrap();
        assert_eq!(a.shape(), &[2, 3, 4]);
        assert_eq!(a[[1, 2, 3]], 23.0);
        header_of(&p);

        write_npy_atomic(&p, &[4, 6], &data).unwrap();
        let a: Array2<f32> = read_npy(&p).unwrap();
        assert_eq!(a.shape(), &[4, 6]);

        let p1 = dir.path("one.npy");
        write_npy_atomic(&p1, &[3], &[1u64, 2, 3]).unwrap();
        assert_eq!(read_npy::<_, Array1<u64>>(&p1).unwrap().to_vec(), vec![1, 2, 3]);

        let p0 = dir.path("scalar.npy");
        write_npy_atomic(&p0, &[], &[2.5f64]).unwrap();
        assert!(header_of(&p0).contains("'shape': ()"));
        let s: Array0<f64> = read_npy(&p0).unwrap();
        assert_eq!(s.into_scalar(), 2.5);

        let pe = dir.path("empty.npy");
        write_npy_atomic::<i64>(&pe, &[0, 5], &[]).unwrap();
        let e: ArrayD<i64> = read_npy(&pe).unwrap();
        assert_eq!(e.shape(), &[0, 5]);

        let err = write_npy_atomic(dir.path("bad.npy"), &[2, 3], &[0u32; 5]).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("bad.npy") && msg.contains("[2, 3]") && msg.contains("6 values") && msg.contains("5 were")
        );
        assert_eq!(dir.listing(), vec!["empty.npy", "one.npy", "scalar.npy", "w.npy"]);
    }

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

        let dir = TestDir::new("dropspikes");
        {
            let mut rec = SpikeRecorder::new(&dir.0, "inh").unwrap().with_buffer_rows(2);
            rec.push(1.0, &[1, 2, 3]).unwrap();
        }
        assert!(dir.listing().is_empty(), "{:?}", dir.listing());

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
    fn state_recorder_rejects_bad_arguments_and_cleans_up() {
        let dir = TestDir::new("statebad");
        let err = StateRecorder::new(&dir.0, "exc", "v", vec![], 1).unwrap_err();
        assert!(err.to_string().contains("no neurons"), "{err}");
        let err = StateRecorder::new(&dir.0, "exc", "v", vec![1], 0).unwrap_err();
        assert!(err.to_string().contains("at least 1"), "{err}");
        assert!(err.to_string().contains("exc_v.npy"), "{err}");
        let err = StateRecorder::new(&dir.0, "exc", "a/b", vec![1], 1).unwrap_err();
        assert!(err.to_string().contains("variable name"), "{err}");
        {
            let mut rec = StateRecorder::new(&dir.0, "exc", "v", vec![1, 2], 1).unwrap();
            rec.push(0.0, &[1.0, 2.0]).unwrap();
        }
        assert!(dir.listing().is_empty(), "{:?}", dir.listing());
    }
}
