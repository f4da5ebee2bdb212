//! Streaming and whole-array `.npy` writers (format 1.0, little-endian, C order):
//! streams are valid arrays under their final name at every moment, whole
//! arrays appear at once through `<path>.tmp`.

use super::{RecordError, invalid, io_err};
use crate::io::TempFile;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Number of elements converted to little-endian bytes at a time by
/// [`NpyWriter::append`], which bounds its scratch memory (8 bytes each).
const CONVERT_CHUNK: usize = 1 << 13;

/// Smallest total header size (magic, version, length and dict), in bytes,
/// reserved by [`NpyWriter`].
const MIN_RESERVED_HEADER: usize = 128;

/// The `.npy` magic string.
const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Bytes before the header dict: magic (6), version (2), header length (2).
const PREAMBLE: usize = 10;

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

/// A streaming `.npy` writer (format 1.0, little-endian, C order) for arrays
/// of shape `(rows, *row_shape)` whose number of rows grows during a run.
///
/// The file lives under its final name from [`NpyWriter::create`] on, and is
/// a valid `.npy` array at every moment: it appears (through `<path>.tmp` and
/// an atomic rename) as an array of 0 rows, and each [`NpyWriter::flush`]
/// writes the rows appended since the last one and only then rewrites the
/// header's row count in place ([`NpyWriter::sync`] also syncs the rows to
/// disk before the header changes). A process killed at any
/// moment leaves a file whose header counts only rows that are fully on disk
/// (`np.load` reads exactly those; bytes of a chunk whose flush was cut short
/// may follow them). Appended rows are held in memory until a flush, which
/// happens by itself once [`NpyWriter::with_flush_bytes`] bytes are pending.
/// Dropping the writer without [`NpyWriter::finish`] flushes what it holds
/// (best effort), so an error elsewhere loses nothing already recorded.
pub struct NpyWriter<T: NpyElement> {
    path: PathBuf,
    file: Option<File>,
    row_shape: Vec<usize>,
    row_size: usize,
    /// Rows appended (on disk or pending).
    rows: u64,
    /// Rows the header on disk counts.
    durable_rows: u64,
    reserved: usize,
    failed: bool,
    pending: Vec<u8>,
    flush_bytes: usize,
    _element: std::marker::PhantomData<T>,
}

/// Default number of pending bytes at which an [`NpyWriter`] flushes by itself (4 MiB).
pub const DEFAULT_FLUSH_BYTES: usize = 4 << 20;

impl<T: NpyElement> std::fmt::Debug for NpyWriter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NpyWriter")
            .field("path", &self.path)
            .field("descr", &T::DESCR)
            .field("row_shape", &self.row_shape)
            .field("rows", &self.rows)
            .field("durable_rows", &self.durable_rows)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl<T: NpyElement> NpyWriter<T> {
    /// Creates `path` as an array of 0 rows of shape `row_shape` (empty for a
    /// 1-D array of scalars), replacing any file there, with a header padded
    /// so that any row count fits.
    ///
    /// Fails if the row shape holds no elements (a zero dimension), if its header
    /// cannot fit in format 1.0, or if the file cannot be created.
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
        // The empty array appears under the final name in one rename; the
        // handle stays open for the rows that follow.
        let tmp = crate::io::temp_path(path);
        let mut file = File::create(&tmp).map_err(io_err(&tmp, "create temporary file"))?;
        let written = file
            .write_all(&encode_header(&Self::dict(0, row_shape), reserved))
            .and_then(|()| file.sync_data());
        if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_err(path, "create the file")(e));
        }
        crate::io::sync_parent_dir(path);
        Ok(NpyWriter {
            path: path.to_path_buf(),
            file: Some(file),
            row_shape: row_shape.to_vec(),
            row_size,
            rows: 0,
            durable_rows: 0,
            reserved,
            failed: false,
            pending: Vec::new(),
            flush_bytes: DEFAULT_FLUSH_BYTES,
            _element: std::marker::PhantomData,
        })
    }

    /// Sets the number of pending bytes at which [`NpyWriter::append`]
    /// flushes by itself (at least one row).
    pub fn with_flush_bytes(mut self, bytes: usize) -> Self {
        self.flush_bytes = bytes.max(1);
        self
    }

    fn dict(rows: u64, row_shape: &[usize]) -> String {
        let shape: Vec<u64> = std::iter::once(rows)
            .chain(row_shape.iter().map(|&d| d as u64))
            .collect();
        header_dict(T::DESCR, &shape)
    }

    /// The path of the file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Shape of one row.
    pub fn row_shape(&self) -> &[usize] {
        &self.row_shape
    }

    /// Number of values in one row (product of the row shape).
    pub fn row_size(&self) -> usize {
        self.row_size
    }

    /// Number of rows appended so far (flushed or pending).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Number of rows the header on disk counts (those of the last flush).
    pub fn durable_rows(&self) -> u64 {
        self.durable_rows
    }

    /// Size of the header in bytes (magic included); data starts at this offset.
    pub fn header_len(&self) -> usize {
        self.reserved
    }

    fn poisoned(&self) -> RecordError {
        RecordError::Poisoned {
            path: self.path.clone(),
        }
    }

    /// Appends `values` (whole rows, in C order). Their number must be a
    /// multiple of [`NpyWriter::row_size`]; otherwise nothing is appended and
    /// an error is returned. Flushes once enough bytes are pending. After an
    /// I/O error the writer refuses further use.
    pub fn append(&mut self, values: &[T]) -> Result<(), RecordError> {
        if self.failed {
            return Err(self.poisoned());
        }
        if !values.len().is_multiple_of(self.row_size) {
            return Err(RecordError::RowLength {
                path: self.path.clone(),
                len: values.len(),
                row_size: self.row_size,
                row_shape: self.row_shape.clone(),
            });
        }
        for chunk in values.chunks(CONVERT_CHUNK) {
            T::extend_le_bytes(chunk, &mut self.pending);
            if self.pending.len() >= self.flush_bytes {
                // whole rows only: the rest stays pending
                let row_bytes = self.row_size * std::mem::size_of::<T>();
                let keep = self.pending.len() % row_bytes;
                let rows_now = ((self.pending.len() - keep) / row_bytes) as u64;
                self.write_pending(self.pending.len() - keep, rows_now, false)?;
            }
        }
        let total_rows = (values.len() / self.row_size) as u64;
        self.rows += total_rows;
        Ok(())
    }

    /// Writes the first `bytes` pending bytes (`rows` whole rows) after the
    /// data on disk, then rewrites the header to count them; with `sync`, the
    /// data reach the disk before the header changes.
    fn write_pending(&mut self, bytes: usize, rows: u64, sync: bool) -> Result<(), RecordError> {
        let Some(mut file) = self.file.as_ref() else {
            return Err(self.poisoned());
        };
        // the rows the header counts are exactly the data on disk
        let row_bytes = (self.row_size * std::mem::size_of::<T>()) as u64;
        let offset = self.reserved as u64 + self.durable_rows * row_bytes;
        let durable = self.durable_rows + rows;
        let header = encode_header(&Self::dict(durable, &self.row_shape), self.reserved);
        let result = file
            .seek(SeekFrom::Start(offset))
            .and_then(|_| file.write_all(&self.pending[..bytes]))
            .map_err(io_err(&self.path, "write data"))
            .and_then(|()| {
                if sync {
                    file.sync_data().map_err(io_err(&self.path, "sync data to disk"))
                } else {
                    Ok(())
                }
            })
            .and_then(|()| {
                file.seek(SeekFrom::Start(0))
                    .and_then(|_| file.write_all(&header))
                    .map_err(io_err(&self.path, "rewrite the header"))
            });
        if let Err(e) = result {
            self.failed = true;
            return Err(e);
        }
        self.pending.drain(..bytes);
        self.durable_rows = durable;
        Ok(())
    }

    /// Writes every pending row to the file and makes the header count it:
    /// after this the file holds all [`NpyWriter::rows`] rows, and a killed
    /// process loses none of them (the operating system has them; see
    /// [`NpyWriter::sync`] against power loss).
    pub fn flush(&mut self) -> Result<(), RecordError> {
        self.flush_with(false)
    }

    /// [`NpyWriter::flush`], with the rows synced to disk before the header
    /// counts them and the header synced after: durable across a power loss.
    pub fn sync(&mut self) -> Result<(), RecordError> {
        self.flush_with(true)?;
        let file = self.file.as_ref().ok_or_else(|| self.poisoned())?;
        file.sync_data().map_err(io_err(&self.path, "sync data to disk"))
    }

    fn flush_with(&mut self, sync: bool) -> Result<(), RecordError> {
        if self.failed {
            return Err(self.poisoned());
        }
        if self.rows == self.durable_rows {
            return Ok(());
        }
        let rows = self.rows - self.durable_rows;
        self.write_pending(self.pending.len(), rows, sync)
    }

    /// Flushes, syncs the file (header included) and closes it. Returns its path.
    pub fn finish(mut self) -> Result<PathBuf, RecordError> {
        self.flush_with(true)?;
        let file = self.file.take().ok_or_else(|| self.poisoned())?;
        file.sync_all().map_err(io_err(&self.path, "sync data to disk"))?;
        Ok(std::mem::take(&mut self.path))
    }
}

impl<T: NpyElement> Drop for NpyWriter<T> {
    fn drop(&mut self) {
        if self.file.is_some() && !self.failed {
            let _ = self.flush();
        }
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
    let mut file = NpyFile::create(path, shape)?;
    file.write(data)?;
    file.commit()
}

/// A `.npy` file of a known shape written in pieces (C order) through
/// `<path>.tmp`: [`NpyFile::commit`] renames it into place once every value
/// has come; dropped before, the temporary file is removed and `path` is
/// untouched. For arrays too large to hold in memory at once (a dense
/// weight matrix streamed block by block).
pub struct NpyFile<T: NpyElement> {
    path: PathBuf,
    file: TempFile,
    left: u64,
    scratch: Vec<u8>,
    _values: std::marker::PhantomData<T>,
}

impl<T: NpyElement> NpyFile<T> {
    /// Creates `<path>.tmp` with the header of an array of shape `shape`.
    pub fn create(path: impl AsRef<Path>, shape: &[usize]) -> Result<Self, RecordError> {
        let path = path.as_ref();
        let dims: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
        let left = dims
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| RecordError::ShapeMismatch {
                path: path.to_path_buf(),
                shape: shape.to_vec(),
                expected: usize::MAX,
                got: 0,
            })?;
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
        Ok(NpyFile {
            path: path.to_path_buf(),
            file,
            left,
            scratch: Vec::new(),
            _values: std::marker::PhantomData,
        })
    }

    /// Appends the next values (C order); more than the shape holds is an error.
    pub fn write(&mut self, data: &[T]) -> Result<(), RecordError> {
        if data.len() as u64 > self.left {
            return Err(invalid(
                &self.path,
                format!(
                    "{} values more than the array's shape holds",
                    data.len() as u64 - self.left
                ),
            ));
        }
        for chunk in data.chunks(CONVERT_CHUNK) {
            self.scratch.clear();
            T::extend_le_bytes(chunk, &mut self.scratch);
            self.file.write_all(&self.scratch)?;
        }
        self.left -= data.len() as u64;
        Ok(())
    }

    /// Syncs the file and renames it to its path; an error if values are missing.
    pub fn commit(self) -> Result<(), RecordError> {
        if self.left > 0 {
            return Err(invalid(
                &self.path,
                format!("{} values missing for the array's shape", self.left),
            ));
        }
        self.file.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_dir::TestDir;
    use ndarray::{Array0, Array1, Array2, Array3, ArrayD};
    use ndarray_npy::read_npy;

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
    fn dropped_writer_keeps_what_was_appended() {
        let dir = TestDir::new("drop");
        let p = dir.path("d.npy");
        {
            let mut w = NpyWriter::<f64>::create(&p, &[]).unwrap();
            w.append(&[1.0, 2.0]).unwrap();
        }
        assert_eq!(dir.listing(), vec!["d.npy"]);
        let a: Array1<f64> = read_npy(&p).unwrap();
        assert_eq!(a.to_vec(), vec![1.0, 2.0]);
    }

    #[test]
    fn create_replaces_an_existing_file_with_an_empty_array() {
        let dir = TestDir::new("replace");
        let p = dir.path("x.npy");
        std::fs::write(&p, b"old contents that are not npy at all").unwrap();
        let mut w = NpyWriter::<u32>::create(&p, &[2]).unwrap();
        let a: Array2<u32> = read_npy(&p).unwrap();
        assert_eq!(a.shape(), &[0, 2]);
        w.append(&[1, 2, 3, 4]).unwrap();
        w.finish().unwrap();
        let a: Array2<u32> = read_npy(&p).unwrap();
        assert_eq!(a, ndarray::array![[1, 2], [3, 4]]);
        assert_eq!(dir.listing(), vec!["x.npy"]);
    }

    /// The header's row count, the data bytes on disk and the rows they hold.
    fn rows_on_disk(path: &Path, row_bytes: usize) -> (u64, usize) {
        let header = header_of(path);
        let shape = &header[header.find("'shape': (").unwrap() + 10..];
        let rows: u64 = shape[..shape.find([',', ')']).unwrap()].parse().unwrap();
        let len = std::fs::metadata(path).unwrap().len() as usize;
        let header_len = 10 + u16::from_le_bytes(std::fs::read(path).unwrap()[8..10].try_into().unwrap()) as usize;
        (rows, (len - header_len) / row_bytes)
    }

    #[test]
    fn the_file_is_a_valid_array_after_every_flush_and_between() {
        let dir = TestDir::new("stream");
        let p = dir.path("s.npy");
        // 3 f64 per row = 24 bytes; flush by itself once 100 bytes are pending
        let mut w = NpyWriter::<f64>::create(&p, &[3]).unwrap().with_flush_bytes(100);
        let mut want = Vec::new();
        for k in 0..40u32 {
            let row = [k as f64, -(k as f64), 0.5];
            w.append(&row).unwrap();
            want.extend_from_slice(&row);
            let (counted, on_disk) = rows_on_disk(&p, 24);
            // the header never counts a row that is not on disk, and nothing is
            // pending beyond the flush size
            assert_eq!(counted, w.durable_rows());
            assert_eq!(counted as usize, on_disk);
            assert!(w.rows() - w.durable_rows() <= 100 / 24 + 1);
            let a: Array2<f64> = read_npy(&p).unwrap();
            assert_eq!(a.as_slice().unwrap(), &want[..counted as usize * 3]);
            if k % 7 == 0 {
                w.flush().unwrap();
                assert_eq!(w.durable_rows(), k as u64 + 1);
            }
        }
        w.sync().unwrap();
        let a: Array2<f64> = read_npy(&p).unwrap();
        assert_eq!(a.as_slice().unwrap(), &want[..]);
        w.finish().unwrap();
        assert_eq!(dir.listing(), vec!["s.npy"]);
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

    /// An array written in pieces reads back whole; too many values are
    /// refused, too few leave no file (and an existing one untouched).
    #[test]
    fn arrays_in_pieces() {
        let dir = TestDir::new("pieces");
        let p = dir.path("m.npy");
        let data: Vec<f32> = (0..12).map(|i| i as f32 * 0.5).collect();
        let mut f = NpyFile::<f32>::create(&p, &[3, 4]).unwrap();
        for piece in [&data[..4], &data[4..5], &data[5..]] {
            f.write(piece).unwrap();
        }
        assert!(!p.exists(), "not in place before commit");
        f.commit().unwrap();
        let a: Array2<f32> = read_npy(&p).unwrap();
        assert_eq!(a.as_slice().unwrap(), &data[..]);
        header_of(&p);

        let mut f = NpyFile::<f32>::create(&p, &[3, 4]).unwrap();
        f.write(&data).unwrap();
        let e = f.write(&[1.0]).unwrap_err().to_string();
        assert!(e.contains("1 values more than the array's shape holds"), "{e}");
        let mut f = NpyFile::<f32>::create(&p, &[3, 4]).unwrap();
        f.write(&data[..10]).unwrap();
        let e = f.commit().unwrap_err().to_string();
        assert!(e.contains("2 values missing"), "{e}");
        // the first file stands, and no temporary file is left
        assert_eq!(read_npy::<_, Array2<f32>>(&p).unwrap(), a);
        assert!(!dir.path("m.npy.tmp").exists());
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
}
