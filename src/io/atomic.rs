//! Atomic writes: a file is written as `<path>.tmp`, fsynced and renamed over `<path>`, or removed.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Capacity of the `BufWriter` behind each file, in bytes.
pub(crate) const IO_BUFFER_BYTES: usize = 1 << 16;

/// What went wrong in an atomic write. Every message names the file concerned.
/// `record::RecordError` has a variant of the same text for each.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AtomicError {
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
    /// A value could not be serialized to JSON.
    #[error("{}: cannot serialize JSON: {source}", path.display())]
    Json {
        /// The file that was to be written.
        path: PathBuf,
        /// The serializer's error.
        #[source]
        source: serde_json::Error,
    },
}

/// Makes an [`AtomicError::Io`] for `path` and `action` from an I/O error.
pub(crate) fn io_error(path: &Path, action: &'static str) -> impl FnOnce(io::Error) -> AtomicError {
    move |source| AtomicError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

/// `<path>.tmp`.
pub(crate) fn temp_path(path: &Path) -> PathBuf {
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
    /// Creates `<path>.tmp`, written through a buffer of [`IO_BUFFER_BYTES`].
    pub(crate) fn create(path: &Path) -> Result<Self, AtomicError> {
        TempFile::with_capacity(path, IO_BUFFER_BYTES)
    }

    /// Creates `<path>.tmp`, written through a buffer of `bytes` bytes.
    pub(crate) fn with_capacity(path: &Path, bytes: usize) -> Result<Self, AtomicError> {
        let tmp = temp_path(path);
        let file = File::create(&tmp).map_err(io_error(&tmp, "create temporary file"))?;
        Ok(TempFile {
            path: path.to_path_buf(),
            tmp,
            file: Some(BufWriter::with_capacity(bytes, file)),
        })
    }

    /// The buffered temporary file.
    pub(crate) fn writer(&mut self) -> &mut BufWriter<File> {
        self.file.as_mut().expect("TempFile used after commit")
    }

    /// Writes all of `bytes` to the temporary file.
    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> Result<(), AtomicError> {
        let tmp = &self.tmp;
        let w = self.file.as_mut().expect("TempFile used after commit");
        w.write_all(bytes).map_err(io_error(tmp, "write data"))
    }

    /// Flushes, fsyncs, closes and renames the file to its final path.
    pub(crate) fn commit(mut self) -> Result<PathBuf, AtomicError> {
        let writer = self.file.take().expect("TempFile committed twice");
        let file = writer
            .into_inner()
            .map_err(|e| io_error(&self.tmp, "flush data")(e.into_error()))?;
        file.sync_all().map_err(io_error(&self.tmp, "sync data to disk"))?;
        drop(file);
        std::fs::rename(&self.tmp, &self.path).map_err(io_error(&self.path, "rename temporary file into place"))?;
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
pub(crate) fn sync_parent_dir(path: &Path) {
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

/// Writes `value` as pretty-printed JSON (with a final newline) to `path`
/// through `<path>.tmp` and an atomic rename.
pub fn write_json_atomic(path: impl AsRef<Path>, value: &impl Serialize) -> Result<(), AtomicError> {
    let path = path.as_ref();
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|source| AtomicError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    bytes.push(b'\n');
    let mut file = TempFile::create(path)?;
    file.write_all(&bytes)?;
    file.commit().map(|_| ())
}

/// Writes text to `path` atomically (temporary file, then rename).
pub fn write_text_atomic(path: impl AsRef<Path>, text: &str) -> Result<(), AtomicError> {
    let mut file = TempFile::create(path.as_ref())?;
    file.write_all(text.as_bytes())?;
    file.commit().map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_dir::TestDir;

    #[test]
    fn text_replaces_the_old_file_whole_and_leaves_no_temporary() {
        let dir = TestDir::new("atomic-text");
        let p = dir.path("a.txt");
        std::fs::write(&p, "old").unwrap();
        write_text_atomic(&p, "new text").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new text");
        assert_eq!(dir.listing(), vec!["a.txt"]);
    }

    #[test]
    fn a_dropped_temp_file_is_removed_and_the_old_file_kept() {
        let dir = TestDir::new("atomic-drop");
        let p = dir.path("a.bin");
        std::fs::write(&p, "old").unwrap();
        {
            let mut f = TempFile::create(&p).unwrap();
            f.write_all(b"half").unwrap();
            assert_eq!(f.tmp, dir.path("a.bin.tmp"));
            assert_eq!(f.path, p);
        }
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(dir.listing(), vec!["a.bin"]);
    }

    #[test]
    fn a_missing_folder_is_an_error_naming_the_temporary_file() {
        let dir = TestDir::new("atomic-missing");
        let e = write_text_atomic(dir.path("no/such/x.txt"), "x").unwrap_err();
        assert!(
            matches!(
                e,
                AtomicError::Io {
                    action: "create temporary file",
                    ..
                }
            ),
            "{e}"
        );
        assert!(
            e.to_string().contains("x.txt.tmp: cannot create temporary file: "),
            "{e}"
        );
    }
}
