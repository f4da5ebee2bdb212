//! Input and output at the bottom floor: the leaves that know files, bytes and
//! the operating system but no engine type.
//!
//! - `.npy` reading ([`read_npy_f64`], [`read_npy_matrix`], [`read_npy_matrix_f64`]);
//!   `.npy` *writing* is streamed by the recorders and lives in `record`.
//! - Atomic writes: a temporary `<path>.tmp`, fsynced and renamed into place
//!   ([`write_json_atomic`], [`write_text_atomic`]; the crate's `TempFile`).
//! - Serde helpers for the checkpoint payload (`de_string`, `de_path`, the
//!   `matrix` `with` module); the format itself is `checkpoint`'s.
//! - PNG encoding (stored deflate, CRC-32, Adler-32) for mask plots.
//! - Memory probes of the operating system ([`rss_bytes`], [`peak_rss_bytes`],
//!   [`available_bytes`]); the network's memory budget is in `network`.
//!
//! Nothing here imports an engine module; everything above may import this.

mod atomic;
mod de;
mod memory;
mod npy;
mod png;

pub use atomic::*;
pub(crate) use de::*;
pub use memory::*;
pub use npy::*;
pub use png::*;

#[cfg(test)]
pub(crate) mod test_dir;
