//! Checkpoints: a whole [`Network`] in one versioned binary file and back,
//! bit-exact.
//!
//! # File format (version 1)
//!
//! | bytes | what |
//! | --- | --- |
//! | 8 | magic `b"CORTECS\0"` |
//! | 4 | format version, `u32` little endian ([`FORMAT_VERSION`]) |
//! | 8 | payload length in bytes, `u64` little endian |
//! | 8 | FNV-1a 64 checksum of the payload ([`checksum`]), `u64` little endian |
//! | n | payload: the network, bincode 2 (`config::standard()`: little endian, varint integers) over serde |
//!
//! # What is saved
//!
//! Everything [`Network::step_once`] and the public API read, so that a run
//! continued after [`load`] is bit-identical to one never interrupted: `dt`,
//! seed, step, `base_dir`, the run-time draw counters (the total and, from
//! format 3, each target's own, [`crate::network::DrawCounts`]), the rounding mode (from format 4,
//! [`crate::network::Rounding`]), the noisy currents (from format 5,
//! [`crate::network::NoiseCurrent`]: population, mean, std, interval; the
//! interval being held is drawn again on load, the same currents); every population whole (name,
//! size, model, parameter arrays, derived constants, positions, polarity,
//! state arrays, external current, Poisson drives and their samplers, spikes
//! of the last step, spike record and count, last spike steps, noise
//! settings, the delay ring and its slots, the per-chunk random streams and
//! the spike scratch); every projection (synapse store with all columns,
//! tombstones and the Dale flag, masks, `recurrent`, `compact`, `rebuilds`,
//! `constrain_pending`, the strategy and the spec it was built from); and the
//! projections still pending. The dense kernel of a rate projection is not
//! stored when it equals the one rebuilt from the store (it always does
//! unless it was edited behind the store's back); otherwise it is stored as
//! is. Not saved: the mirror log (runtime bookkeeping of the ECS mirrors; a
//! loaded network spawns its mirrors afresh).
//!
//! # Rust closures
//!
//! A closure ([`Value::OfIndex`], [`Value::OfPair`], [`Value::OfPosition`],
//! [`Value::OfDistance`], [`ProbabilityFn::Distance`], [`ProbabilityFn::Pair`])
//! cannot be written to a file. Populations are not affected (their values
//! were resolved into arrays when built). A *built* projection's spec is only
//! needed to reapply its strategy later, so a closure there is saved as a
//! marker: its synapses load exactly, the loaded spec holds a placeholder of
//! the same kind (for a value a closure returning NaN, for a connection
//! probability [`ProbabilityFn::Lost`], which [`crate::connect::connect`]
//! refuses), [`Projection::lost_closures`]
//! names the parameters, and [`Projection::check_rebuild`] (which
//! `Network::adjust` calls before `Adjuster::Reapply`, and any other reapply
//! of the strategy must call) refuses with a message saying so. A *pending*
//! projection with a closure cannot be built after loading at all, so
//! [`save`] refuses it with an error naming the projection and the parameter.
//! Everything else in a spec is kept: numbers, distributions, arrays
//! (including ndarray masks and matrices, stored as shape and data), `.npy`
//! paths and expression strings.
//!
//! # Safety of writing and reading
//!
//! [`save`] writes `<path>.tmp` in the same folder, fsyncs it and renames it
//! over `path`, so an existing checkpoint is never half-written; on error the
//! temporary file is removed. [`load`] checks the magic, the version, the
//! length and the checksum before decoding, and then checks every length and
//! index the kernels rely on: no byte sequence makes it panic, and a network
//! it returns can be stepped.
//!
//! # Where the parts live
//!
//! This file holds the header (magic, version, length, checksum), [`save`]
//! and [`load`]; `payload.rs` the serialisable mirrors of the network's types
//! and the spec conversions; `validate.rs` the checks of a decoded network;
//! `error.rs` [`CheckpointError`]. Neighbours: the serde helpers and the
//! atomic temporary file are in [`crate::io`]; the types saved are
//! [`crate::network`]'s, [`crate::store`]'s and [`crate::mask`]'s.

mod error;
mod payload;
mod validate;

pub use error::*;

/// Results of this folder.
pub(crate) type Result<T> = std::result::Result<T, CheckpointError>;

#[cfg(doc)]
use crate::connect::ProbabilityFn;
use crate::io::TempFile;
use crate::network::Network;
#[cfg(doc)]
use crate::param::Value;
#[cfg(doc)]
use crate::projection::Projection;
use payload::{NetworkIn, network_out};
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use validate::into_network;

/// The first 8 bytes of every checkpoint.
pub const MAGIC: [u8; 8] = *b"CORTECS\0";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 5;
/// The oldest format version this build reads (version 1 has no learning
/// section, version 2 no per-target draw counts, version 3 no rounding mode,
/// version 4 no noisy currents).
pub const OLDEST_VERSION: u32 = 1;
/// Bytes before the payload: magic, version, payload length, checksum.
pub const HEADER_LEN: usize = 8 + 4 + 8 + 8;

/// FNV-1a 64 over `bytes`: the checksum of a checkpoint's payload.
pub fn checksum(bytes: &[u8]) -> u64 {
    let mut h = Fnv::default();
    h.update(bytes);
    h.0
}

/// Streaming FNV-1a 64.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn update(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
        self.0 = h;
    }
}

/// Counts and hashes what passes through to the inner writer.
struct Hashing<W> {
    inner: W,
    hash: Fnv,
    len: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

// ---------------------------------------------------------------------------
// Save.

/// Saves `net` to `path` (see the [module docs](self) for the format and
/// what is kept) and returns the number of bytes written. The file is
/// written as `<path>.tmp`, fsynced and renamed over `path`: an existing
/// file at `path` is replaced whole or left untouched.
pub fn save(net: &Network, path: &Path) -> Result<u64> {
    let out = network_out(net, path)?;

    let cannot = |e: &dyn std::fmt::Display| CheckpointError::Save {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let io = |what: &str, e: &dyn std::fmt::Display| CheckpointError::Save {
        path: path.to_path_buf(),
        message: format!("{what}: {e}"),
    };
    // a checkpoint holds finite state only: a NaN is never written to disk
    if let Some(bad) = crate::network::scan_health(&net.populations, net.step, net.dt, 1) {
        return Err(cannot(&format_args!("{bad}; a checkpoint holds finite state only")));
    }
    let mut tmp = TempFile::with_capacity(path, 1 << 20).map_err(|e| cannot(&e))?;
    let mut w = Hashing {
        inner: tmp.writer(),
        hash: Fnv::default(),
        len: 0,
    };
    w.inner
        .write_all(&[0u8; HEADER_LEN])
        .map_err(|e| io("write header", &e))?;
    bincode::serde::encode_into_std_write(&out, &mut w, bincode::config::standard())
        .map_err(|e| io("encode network", &e))?;
    bincode::serde::encode_into_std_write(payload::learning_out(net), &mut w, bincode::config::standard())
        .map_err(|e| io("encode learning", &e))?;
    bincode::serde::encode_into_std_write(&net.draws, &mut w, bincode::config::standard())
        .map_err(|e| io("encode draw counts", &e))?;
    bincode::serde::encode_into_std_write(net.rounding, &mut w, bincode::config::standard())
        .map_err(|e| io("encode rounding", &e))?;
    bincode::serde::encode_into_std_write(&net.noise, &mut w, bincode::config::standard())
        .map_err(|e| io("encode noisy currents", &e))?;
    let (payload_len, sum) = (w.len, w.hash.0);
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(&MAGIC);
    header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    header.extend_from_slice(&payload_len.to_le_bytes());
    header.extend_from_slice(&sum.to_le_bytes());
    // seeking flushes the buffered payload first
    let buf = tmp.writer();
    buf.seek(SeekFrom::Start(0)).map_err(|e| io("write header", &e))?;
    buf.write_all(&header).map_err(|e| io("write header", &e))?;
    tmp.commit().map_err(|e| cannot(&e))?;
    Ok(HEADER_LEN as u64 + payload_len)
}

// ---------------------------------------------------------------------------
// Load.

/// Loads a network saved by [`save`]. A file that is missing, not a
/// checkpoint, of another format version, truncated, corrupt (checksum) or
/// inconsistent is a [`crate::CortecsError::Checkpoint`] naming the path and the
/// problem ([`CheckpointError`]).
pub fn load(path: &Path) -> Result<Network> {
    let bytes = read_bytes(path)?;
    let (payload, version) = check_header(&bytes, path)?;
    let decode_error = |e: bincode::error::DecodeError| CheckpointError::Decode {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let (file, mut used): (NetworkIn, usize) =
        bincode::serde::borrow_decode_from_slice(payload, bincode::config::standard()).map_err(decode_error)?;
    let mut learning = payload::LearningFile::default();
    if version >= 2 {
        let (l, n): (payload::LearningFile, usize) =
            bincode::serde::borrow_decode_from_slice(&payload[used..], bincode::config::standard())
                .map_err(decode_error)?;
        learning = l;
        used += n;
    }
    let mut draws = crate::network::DrawCounts::default();
    if version >= 3 {
        let (d, n): (crate::network::DrawCounts, usize) =
            bincode::serde::decode_from_slice(&payload[used..], bincode::config::standard()).map_err(decode_error)?;
        draws = d;
        used += n;
    }
    let mut rounding = crate::network::Rounding::Exact;
    if version >= 4 {
        let (r, n): (crate::network::Rounding, usize) =
            bincode::serde::decode_from_slice(&payload[used..], bincode::config::standard()).map_err(decode_error)?;
        rounding = r;
        used += n;
    }
    let mut noise: Vec<crate::network::NoiseCurrent> = Vec::new();
    if version >= 5 {
        let (v, n): (Vec<crate::network::NoiseCurrent>, usize) =
            bincode::serde::decode_from_slice(&payload[used..], bincode::config::standard()).map_err(decode_error)?;
        noise = v;
        used += n;
    }
    if used != payload.len() {
        return Err(CheckpointError::LeftOver {
            path: path.to_path_buf(),
            extra: payload.len() - used,
        });
    }
    let mut net = into_network(file, learning, draws).map_err(|message| CheckpointError::Inconsistent {
        path: path.to_path_buf(),
        message,
    })?;
    net.rounding = rounding;
    for n in &noise {
        let name = net.populations.get(n.population).map(|p| p.name.clone());
        // the checks of a new noisy current, on the saved one
        let valid = name
            .ok_or_else(|| {
                format!(
                    "noisy current into population index {} of {}",
                    n.population,
                    net.populations.len()
                )
            })
            .and_then(|name| {
                crate::network::NoiseCurrent::new(&net, &name, n.mean, n.std, n.every)
                    .map_err(|e| format!("noisy current: {e}"))
            });
        valid.map_err(|message| CheckpointError::Inconsistent {
            path: path.to_path_buf(),
            message,
        })?;
    }
    if noise
        .iter()
        .enumerate()
        .any(|(k, n)| noise[..k].iter().any(|m| m.population == n.population))
    {
        return Err(CheckpointError::Inconsistent {
            path: path.to_path_buf(),
            message: "two noisy currents into one population".into(),
        });
    }
    net.noise = noise;
    Ok(net)
}

/// The bytes of a checkpoint file, read only as far as its header allows:
/// a file that is not a checkpoint, of another version, or a stream (a pipe,
/// a device) longer than its header declares is refused after its first
/// bytes instead of being read whole.
fn read_bytes(path: &Path) -> std::result::Result<Vec<u8>, CheckpointError> {
    use std::io::Read;
    let read_error = |e: std::io::Error| CheckpointError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let regular = file.metadata().map_err(read_error)?.is_file();
    let mut bytes = Vec::with_capacity(HEADER_LEN);
    (&file)
        .take(HEADER_LEN as u64)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    // a short, foreign or other-version header is refused here, before the payload is read
    if let Err(e) = check_header(&bytes, path)
        && !matches!(e, CheckpointError::TruncatedPayload { .. })
    {
        return Err(e);
    }
    let declared = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
    // the decoded network takes at least as much memory as its payload
    if let Some(available) = crate::io::available_bytes()
        && declared > available
    {
        return Err(CheckpointError::TooLarge {
            path: path.to_path_buf(),
            declared,
            available,
        });
    }
    bytes
        .try_reserve_exact(declared.min(1 << 30) as usize)
        .map_err(|e| CheckpointError::Read {
            path: path.to_path_buf(),
            message: format!("cannot reserve memory for {declared} bytes: {e}"),
        })?;
    // a regular file is read whole (its length is checked against the header
    // next); a stream no further than one byte past the declared payload
    let limit = if regular { u64::MAX } else { declared.saturating_add(1) };
    (&file).take(limit).read_to_end(&mut bytes).map_err(read_error)?;
    Ok(bytes)
}

/// Checks magic, version, length and checksum; returns the payload and the version.
fn check_header<'a>(bytes: &'a [u8], path: &Path) -> std::result::Result<(&'a [u8], u32), CheckpointError> {
    let path = path.to_path_buf();
    if bytes.is_empty() {
        return Err(CheckpointError::Empty { path });
    }
    let head = &bytes[..bytes.len().min(MAGIC.len())];
    if head != &MAGIC[..head.len()] {
        let shown: String = head
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    (b as char).to_string()
                } else {
                    format!("\\x{b:02x}")
                }
            })
            .collect();
        return Err(CheckpointError::BadMagic { path, start: shown });
    }
    if bytes.len() < HEADER_LEN {
        return Err(CheckpointError::TruncatedHeader {
            path,
            len: bytes.len(),
            header: HEADER_LEN,
        });
    }
    let u32_at = |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
    let u64_at = |o: usize| u64::from(u32_at(o)) | (u64::from(u32_at(o + 4)) << 32);
    let version = u32_at(8);
    if !(OLDEST_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(CheckpointError::Version {
            path,
            version,
            reads: FORMAT_VERSION,
        });
    }
    let declared = u64_at(12);
    let sum = u64_at(20);
    let payload = &bytes[HEADER_LEN..];
    let have = payload.len() as u64;
    if have < declared {
        return Err(CheckpointError::TruncatedPayload { path, declared, have });
    }
    if have > declared {
        return Err(CheckpointError::TrailingBytes {
            path,
            extra: have - declared,
            declared,
        });
    }
    let actual = checksum(payload);
    if actual != sum {
        return Err(CheckpointError::Checksum {
            path,
            actual,
            expected: sum,
        });
    }
    Ok((payload, version))
}

impl Network {
    /// Saves the whole network to `path`; see [`crate::checkpoint::save`].
    pub fn save(&self, path: impl AsRef<Path>) -> Result<u64> {
        save(self, path.as_ref())
    }

    /// Loads a network saved by [`Network::save`]; see [`crate::checkpoint::load`].
    pub fn load(path: impl AsRef<Path>) -> Result<Network> {
        load(path.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header errors read word for word as they did before [`CheckpointError`] existed.
    #[test]
    fn header_errors_keep_their_messages() {
        let path = Path::new("x.ckpt");
        let msg = |bytes: &[u8]| check_header(bytes, path).unwrap_err().to_string();
        assert_eq!(msg(b""), "x.ckpt: not a cortecs checkpoint: the file is empty");
        assert_eq!(
            msg(b"\x89PNG\r\n\x1a\n"),
            "x.ckpt: not a cortecs checkpoint: it starts with \"\\x89PNG\\x0d\\x0a\\x1a\\x0a\", not the magic \"CORTECS\\0\""
        );
        assert_eq!(
            msg(b"CORTECS\0\x01"),
            "x.ckpt: truncated checkpoint: the file has 9 bytes, less than the 28-byte header"
        );
        let header = |version: u32, len: u64, sum: u64| {
            let mut h = MAGIC.to_vec();
            h.extend_from_slice(&version.to_le_bytes());
            h.extend_from_slice(&len.to_le_bytes());
            h.extend_from_slice(&sum.to_le_bytes());
            h
        };
        assert_eq!(
            msg(&header(7, 0, 0)),
            "x.ckpt: checkpoint has a newer format version 7; this build of cortecs reads version 5"
        );
        assert_eq!(
            msg(&header(0, 0, 0)),
            "x.ckpt: checkpoint has an unknown format version 0; this build of cortecs reads version 5"
        );
        assert_eq!(
            msg(&header(1, 5, 0)),
            "x.ckpt: truncated checkpoint: the header announces a payload of 5 bytes, the file holds only 0"
        );
        let mut long = header(1, 0, 0);
        long.extend_from_slice(b"abcd");
        assert_eq!(
            msg(&long),
            "x.ckpt: corrupt checkpoint: 4 unexpected bytes after the 0-byte payload"
        );
        let mut bad = header(1, 2, 0);
        bad.extend_from_slice(b"ab");
        assert_eq!(
            msg(&bad),
            format!(
                "x.ckpt: corrupt checkpoint: checksum mismatch (payload hashes to {:#018x}, the header says 0x0000000000000000)",
                checksum(b"ab")
            )
        );
        let mut good = header(1, 2, checksum(b"ab"));
        good.extend_from_slice(b"ab");
        assert_eq!(check_header(&good, path).unwrap(), (&b"ab"[..], 1));
    }
}
