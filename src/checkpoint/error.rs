//! What can go wrong saving or loading a checkpoint; every message names the file.

use std::path::PathBuf;

/// A checkpoint that cannot be saved or loaded. Each message starts with the
/// file's path (`"<path>: ..."`), as [`crate::CortecsError::File`] does.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The projection's spec held Rust closures a checkpoint cannot keep:
    /// its strategy cannot be reapplied.
    #[error(
        "projection '{projection}' was built from a Rust closure ({closures}), which a checkpoint cannot hold; its synapses \
         were restored exactly, but reapplying its strategy needs the closure: set new values in its spec \
         (an expression string stays saveable) and clear `lost_closures`"
    )]
    LostClosures {
        /// The projection.
        projection: String,
        /// The parameters that were closures.
        closures: String,
    },
    /// A pending projection holds a Rust closure, which a checkpoint cannot hold.
    #[error(
        "{path}: cannot save: projection '{projection}' is not built yet and its {param} is a Rust closure, \
         which a checkpoint cannot hold; build it first (Network::build_pending) or give the {param} \
         as an expression string"
    )]
    PendingClosure {
        /// The checkpoint file.
        path: PathBuf,
        /// The pending projection.
        projection: String,
        /// Which parameter is a closure: weight, delay, connection probability, ...
        param: String,
    },
    /// Writing the file failed (temporary file, header, encoding, rename).
    #[error("{path}: cannot save: {message}")]
    Save {
        /// The checkpoint file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// The file cannot be read.
    #[error("{path}: cannot read checkpoint: {message}")]
    Read {
        /// The checkpoint file.
        path: PathBuf,
        /// The operating system's error.
        message: String,
    },
    /// The file is empty.
    #[error("{path}: not a cortecs checkpoint: the file is empty")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The file does not start with [`super::MAGIC`].
    #[error("{path}: not a cortecs checkpoint: it starts with \"{start}\", not the magic \"CORTECS\\0\"")]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// Its first bytes (at most 8), printable ASCII as is, others as `\xNN`.
        start: String,
    },
    /// The file ends inside the header.
    #[error("{path}: truncated checkpoint: the file has {len} bytes, less than the {header}-byte header")]
    TruncatedHeader {
        /// The file.
        path: PathBuf,
        /// Its length in bytes.
        len: usize,
        /// [`super::HEADER_LEN`].
        header: usize,
    },
    /// The file has a format version this build does not read (newer, or an unknown older one).
    #[error(
        "{path}: checkpoint has {} format version {version}; this build of cortecs reads version {reads}",
        if version > reads { "a newer" } else { "an unknown" }
    )]
    Version {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        version: u32,
        /// [`super::FORMAT_VERSION`].
        reads: u32,
    },
    /// The payload is shorter than the header announces.
    #[error(
        "{path}: truncated checkpoint: the header announces a payload of {declared} bytes, the file holds only {have}"
    )]
    TruncatedPayload {
        /// The file.
        path: PathBuf,
        /// Payload bytes the header announces.
        declared: u64,
        /// Payload bytes the file holds.
        have: u64,
    },
    /// The header announces a payload larger than the memory available to load it.
    #[error(
        "{path}: the header announces a payload of {declared} bytes, more than the {available} bytes of memory available: not loaded"
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Payload bytes the header announces.
        declared: u64,
        /// Memory available (bytes).
        available: u64,
    },
    /// Bytes follow the payload.
    #[error("{path}: corrupt checkpoint: {extra} unexpected bytes after the {declared}-byte payload")]
    TrailingBytes {
        /// The file.
        path: PathBuf,
        /// Bytes after the payload.
        extra: u64,
        /// Payload bytes the header announces.
        declared: u64,
    },
    /// The payload does not hash to the header's checksum.
    #[error(
        "{path}: corrupt checkpoint: checksum mismatch (payload hashes to {actual:#018x}, the header says {expected:#018x})"
    )]
    Checksum {
        /// The file.
        path: PathBuf,
        /// FNV-1a 64 of the payload.
        actual: u64,
        /// The checksum in the header.
        expected: u64,
    },
    /// The payload does not decode as a network.
    #[error("{path}: checkpoint payload does not decode (written by an incompatible build?): {message}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// The decoder's error.
        message: String,
    },
    /// The network decodes but does not use the whole payload.
    #[error("{path}: checkpoint payload does not decode: {extra} bytes are left over after the network")]
    LeftOver {
        /// The file.
        path: PathBuf,
        /// Payload bytes not used.
        extra: usize,
    },
    /// The network decodes but a length, index or setting is not one a network can have.
    #[error("{path}: inconsistent checkpoint: {message}")]
    Inconsistent {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the population or projection.
        message: String,
    },
}
