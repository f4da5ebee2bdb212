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
//! seed, step, `base_dir`, the `set` counter; every population whole (name,
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

#[cfg(doc)]
use crate::connect::ProbabilityFn;
use crate::connect::Strategy;
use crate::constraint::{Masks, Matrix, SignMask};
use crate::error::{CortecsError, Result};
use crate::kernel::NEURON_CHUNK;
use crate::model::{Derived, ModelKind};
use crate::network::Network;
use crate::param::{Distribution, Value};
use crate::population::{Population, PopulationState};
use crate::projection::StoreChanges;
use crate::projection::{Column, Major, REMOVED, SynapseStore};
use crate::projection::{MaskSource, MaskSpec, Projection, ProjectionSpec};
use crate::record::TempFile;
use crate::rng::PoissonTable;
use crate::space::Space;
use serde::de::{Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The first 8 bytes of every checkpoint.
pub const MAGIC: [u8; 8] = *b"CORTECS\0";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
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
// The payload: serialisable mirrors of the network's types.

/// Deserialises a `String` through `deserialize_str`, so that bincode's
/// borrowing decoder checks the length against the input before allocating
/// (its owned `String` path allocates the declared length first).
pub(crate) fn de_string<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E>(self, v: &str) -> std::result::Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_string<E>(self, v: String) -> std::result::Result<String, E> {
            Ok(v)
        }
    }
    d.deserialize_str(V)
}

/// [`de_string`] for paths.
pub(crate) fn de_path<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<PathBuf, D::Error> {
    de_string(d).map(PathBuf::from)
}

/// What kind of Rust closure a spec held (the closure itself is not saved).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum ClosureKind {
    Index,
    Pair,
    Position,
    Distance,
}

#[derive(Serialize, Deserialize)]
enum ValueFile {
    Const(f64),
    Random(Distribution),
    Array(Vec<f64>),
    Npy(#[serde(deserialize_with = "de_path")] PathBuf),
    Expr(#[serde(deserialize_with = "de_string")] String),
    Closure(ClosureKind),
}

/// A dense matrix as shape and row-major data.
#[derive(Serialize, Deserialize)]
struct ArrayFile<T> {
    rows: usize,
    cols: usize,
    data: Vec<T>,
}

/// Serde `with` functions for a matrix field ([`Strategy::FromMatrix`]) in the form of an [`ArrayFile`].
pub(crate) mod matrix {
    use super::{ArrayFile, array_in, array_out};
    use ndarray::Array2;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Writes shape and row-major data.
    pub(crate) fn serialize<S: Serializer>(a: &Array2<f64>, s: S) -> Result<S::Ok, S::Error> {
        array_out(a).serialize(s)
    }

    /// Reads shape and row-major data; they must fit.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Array2<f64>, D::Error> {
        array_in(ArrayFile::deserialize(d)?, "strategy matrix").map_err(serde::de::Error::custom)
    }
}

#[derive(Serialize, Deserialize)]
enum MaskFile {
    Npy(#[serde(deserialize_with = "de_path")] PathBuf),
    Rows(Vec<Vec<f32>>),
    Array(ArrayFile<f32>),
    PerPre(Vec<f32>),
}

#[derive(Serialize, Deserialize)]
struct MaskSpecFile {
    sparsity: Option<MaskFile>,
    ei: Option<MaskFile>,
    plasticity: Option<MaskFile>,
    growth: Option<MaskFile>,
    balance: bool,
}

#[derive(Serialize, Deserialize)]
struct SpecFile {
    #[serde(deserialize_with = "de_string")]
    name: String,
    #[serde(deserialize_with = "de_string")]
    pre: String,
    #[serde(deserialize_with = "de_string")]
    post: String,
    strategy: Strategy,
    weight: ValueFile,
    weight_inh: Option<ValueFile>,
    delay: Option<ValueFile>,
    excitatory_ratio: Option<f64>,
    self_connections: bool,
    multapses: bool,
    compact: bool,
    plasticity: f64,
    space: Space,
    dale: Option<bool>,
    masks: MaskSpecFile,
}

/// The dense kernel of a rate projection.
#[derive(Serialize, Deserialize)]
enum KernelFile {
    /// No dense kernel.
    None,
    /// Rebuilt from the store on load (it equals that bit for bit).
    Rebuild,
    /// Stored as is.
    Stored(ArrayFile<f32>),
}

#[derive(Serialize)]
struct ProjectionOut<'a> {
    name: &'a str,
    pre: usize,
    post: usize,
    strategy: &'a Strategy,
    store: &'a SynapseStore,
    compact: bool,
    spec: SpecFile,
    kernel: KernelFile,
    masks: &'a Masks,
    recurrent: bool,
    constrain_pending: bool,
    rebuilds: u64,
}

#[derive(Deserialize)]
struct ProjectionIn {
    #[serde(deserialize_with = "de_string")]
    name: String,
    pre: usize,
    post: usize,
    strategy: Strategy,
    store: SynapseStore,
    compact: bool,
    spec: SpecFile,
    kernel: KernelFile,
    masks: Masks,
    recurrent: bool,
    constrain_pending: bool,
    rebuilds: u64,
}

#[derive(Serialize)]
struct NetworkOut<'a> {
    dt: f64,
    seed: u64,
    step: u64,
    base_dir: &'a Path,
    set_count: u64,
    populations: &'a [Population],
    projections: Vec<ProjectionOut<'a>>,
    pending: Vec<SpecFile>,
}

#[derive(Deserialize)]
struct NetworkIn {
    dt: f64,
    seed: u64,
    step: u64,
    #[serde(deserialize_with = "de_path")]
    base_dir: PathBuf,
    set_count: u64,
    populations: Vec<Population>,
    projections: Vec<ProjectionIn>,
    pending: Vec<SpecFile>,
}

// ---------------------------------------------------------------------------
// Spec conversion.

/// Converts specs to their file form; `pending` specs refuse closures.
struct SpecWriter<'a> {
    path: &'a Path,
    pending: bool,
}

impl SpecWriter<'_> {
    fn closure<K>(&self, projection: &str, param: &str, kind: K) -> Result<K> {
        if self.pending {
            return Err(CortecsError::file(
                self.path,
                format!(
                    "cannot save: projection '{projection}' is not built yet and its {param} is a Rust closure, \
                     which a checkpoint cannot hold; build it first (Network::build_pending) or give the {param} \
                     as an expression string"
                ),
            ));
        }
        Ok(kind)
    }

    fn value(&self, projection: &str, param: &str, v: &Value) -> Result<ValueFile> {
        Ok(match v {
            Value::Const(c) => ValueFile::Const(*c),
            Value::Random(d) => ValueFile::Random(d.clone()),
            Value::Array(a) => ValueFile::Array(a.to_vec()),
            Value::Npy(p) => ValueFile::Npy(p.clone()),
            Value::Expr(s) => ValueFile::Expr(s.clone()),
            Value::OfIndex(_) => ValueFile::Closure(self.closure(projection, param, ClosureKind::Index)?),
            Value::OfPair(_) => ValueFile::Closure(self.closure(projection, param, ClosureKind::Pair)?),
            Value::OfPosition(_) => ValueFile::Closure(self.closure(projection, param, ClosureKind::Position)?),
            Value::OfDistance(_) => ValueFile::Closure(self.closure(projection, param, ClosureKind::Distance)?),
        })
    }

    fn spec(&self, spec: &ProjectionSpec) -> Result<SpecFile> {
        let ProjectionSpec {
            name,
            pre,
            post,
            strategy,
            weight,
            weight_inh,
            delay,
            excitatory_ratio,
            self_connections,
            multapses,
            compact,
            plasticity,
            space,
            dale,
            masks,
        } = spec;
        let MaskSpec {
            sparsity,
            ei,
            plasticity: plasticity_mask,
            growth,
            balance,
        } = masks;
        let mask = |m: &Option<MaskSource>| m.as_ref().map(mask_out);
        if let Some(kind) = strategy_closure(strategy) {
            self.closure(name, "connection probability", kind)?;
        }
        Ok(SpecFile {
            name: name.clone(),
            pre: pre.clone(),
            post: post.clone(),
            strategy: strategy.clone(),
            weight: self.value(name, "weight", weight)?,
            weight_inh: weight_inh
                .as_ref()
                .map(|v| self.value(name, "weight_inh", v))
                .transpose()?,
            delay: delay.as_ref().map(|v| self.value(name, "delay", v)).transpose()?,
            excitatory_ratio: *excitatory_ratio,
            self_connections: *self_connections,
            multapses: *multapses,
            compact: *compact,
            plasticity: *plasticity,
            space: *space,
            dale: *dale,
            masks: MaskSpecFile {
                sparsity: mask(sparsity),
                ei: mask(ei),
                plasticity: mask(plasticity_mask),
                growth: mask(growth),
                balance: *balance,
            },
        })
    }
}

/// The kind of closure a strategy's probability is (or was), if it is one.
fn strategy_closure(s: &Strategy) -> Option<&str> {
    match s {
        Strategy::DistanceProbability { p, .. } | Strategy::IndexProbability { p } => p.closure_kind(),
        _ => None,
    }
}

fn array_out<T: Copy>(a: &ndarray::Array2<T>) -> ArrayFile<T> {
    ArrayFile {
        rows: a.nrows(),
        cols: a.ncols(),
        data: a.iter().copied().collect(),
    }
}

fn array_in<T>(a: ArrayFile<T>, what: &str) -> std::result::Result<ndarray::Array2<T>, String> {
    ndarray::Array2::from_shape_vec((a.rows, a.cols), a.data)
        .map_err(|e| format!("{what}: a {} x {} matrix does not fit its data ({e})", a.rows, a.cols))
}

fn mask_out(m: &MaskSource) -> MaskFile {
    match m {
        MaskSource::Npy(p) => MaskFile::Npy(p.clone()),
        MaskSource::Rows(r) => MaskFile::Rows(r.clone()),
        MaskSource::Array(a) => MaskFile::Array(array_out(a)),
        MaskSource::PerPre(v) => MaskFile::PerPre(v.clone()),
    }
}

/// Converts file specs back; closures become placeholders, their parameters are noted in `lost`.
struct SpecReader {
    lost: Vec<String>,
}

impl SpecReader {
    fn note(&mut self, param: &str) {
        if !self.lost.iter().any(|p| p == param) {
            self.lost.push(param.to_string());
        }
    }

    /// Notes a strategy whose probability closure was lost.
    fn strategy(&mut self, s: &Strategy) {
        if strategy_closure(s).is_some() {
            self.note("strategy");
        }
    }

    fn value(&mut self, param: &str, v: ValueFile) -> Value {
        match v {
            ValueFile::Const(c) => Value::Const(c),
            ValueFile::Random(d) => Value::Random(d),
            ValueFile::Array(a) => Value::Array(Arc::from(a)),
            ValueFile::Npy(p) => Value::Npy(p),
            ValueFile::Expr(s) => Value::Expr(s),
            ValueFile::Closure(kind) => {
                self.note(param);
                match kind {
                    ClosureKind::Index => Value::of_index(|_| f64::NAN),
                    ClosureKind::Pair => Value::of_pair(|_, _| f64::NAN),
                    ClosureKind::Position => Value::of_position(|_| f64::NAN),
                    ClosureKind::Distance => Value::of_distance(|_| f64::NAN),
                }
            }
        }
    }

    fn spec(&mut self, s: SpecFile) -> std::result::Result<ProjectionSpec, String> {
        let mask = |m: Option<MaskFile>| -> std::result::Result<Option<MaskSource>, String> {
            Ok(match m {
                None => None,
                Some(MaskFile::Npy(p)) => Some(MaskSource::Npy(p)),
                Some(MaskFile::Rows(r)) => Some(MaskSource::Rows(r)),
                Some(MaskFile::Array(a)) => Some(MaskSource::Array(array_in(a, "mask")?)),
                Some(MaskFile::PerPre(v)) => Some(MaskSource::PerPre(v)),
            })
        };
        self.strategy(&s.strategy);
        Ok(ProjectionSpec {
            strategy: s.strategy,
            weight: self.value("weight", s.weight),
            weight_inh: s.weight_inh.map(|v| self.value("weight_inh", v)),
            delay: s.delay.map(|v| self.value("delay", v)),
            excitatory_ratio: s.excitatory_ratio,
            self_connections: s.self_connections,
            multapses: s.multapses,
            compact: s.compact,
            plasticity: s.plasticity,
            space: s.space,
            dale: s.dale,
            masks: MaskSpec {
                sparsity: mask(s.masks.sparsity)?,
                ei: mask(s.masks.ei)?,
                plasticity: mask(s.masks.plasticity)?,
                growth: mask(s.masks.growth)?,
                balance: s.masks.balance,
            },
            name: s.name,
            pre: s.pre,
            post: s.post,
        })
    }
}

// ---------------------------------------------------------------------------
// Dense kernels.

/// The dense post x pre kernel of a post-major store, summed exactly as
/// [`Projection::refresh_kernel`] sums it.
fn kernel_from_store(s: &SynapseStore) -> ndarray::Array2<f32> {
    let mut d = ndarray::Array2::<f32>::zeros((s.n_post as usize, s.n_pre as usize));
    for j in 0..s.rows() {
        for k in s.row(j) {
            d[[j, s.minor[k] as usize]] += s.weight[k];
        }
    }
    d
}

fn kernel_out(p: &Projection) -> KernelFile {
    match &p.dense {
        None => KernelFile::None,
        Some(d) => {
            let same = p.store.major == Major::Post && {
                let rebuilt = kernel_from_store(&p.store);
                rebuilt.dim() == d.dim() && rebuilt.iter().zip(d.iter()).all(|(a, b)| a.to_bits() == b.to_bits())
            };
            if same {
                KernelFile::Rebuild
            } else {
                KernelFile::Stored(array_out(d))
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Save.

/// Saves `net` to `path` (see the [module docs](self) for the format and
/// what is kept) and returns the number of bytes written. The file is
/// written as `<path>.tmp`, fsynced and renamed over `path`: an existing
/// file at `path` is replaced whole or left untouched.
pub fn save(net: &Network, path: &Path) -> Result<u64> {
    let Network {
        dt,
        seed,
        step,
        base_dir,
        populations,
        projections,
        pending,
        set_count,
    } = net;
    let pending_writer = SpecWriter { path, pending: true };
    let pending = pending
        .iter()
        .map(|s| pending_writer.spec(s))
        .collect::<Result<Vec<SpecFile>>>()?;
    let built_writer = SpecWriter { path, pending: false };
    let mut projection_files = Vec::with_capacity(projections.len());
    for p in projections {
        let Projection {
            name,
            pre,
            post,
            strategy,
            store,
            compact,
            spec,
            dense: _,
            masks,
            recurrent,
            constrain_pending,
            changes: _,
            rebuilds,
            lost_closures: _,
        } = p;
        projection_files.push(ProjectionOut {
            name,
            pre: *pre,
            post: *post,
            strategy,
            store,
            compact: *compact,
            spec: built_writer.spec(spec)?,
            kernel: kernel_out(p),
            masks,
            recurrent: *recurrent,
            constrain_pending: *constrain_pending,
            rebuilds: *rebuilds,
        });
    }
    let out = NetworkOut {
        dt: *dt,
        seed: *seed,
        step: *step,
        base_dir,
        set_count: *set_count,
        populations,
        projections: projection_files,
        pending,
    };

    let cannot = |e: &dyn std::fmt::Display| CortecsError::file(path, format!("cannot save: {e}"));
    let io = |what: &str, e: &dyn std::fmt::Display| CortecsError::file(path, format!("cannot save: {what}: {e}"));
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
/// inconsistent is a [`CortecsError::File`] naming the path and the problem.
pub fn load(path: &Path) -> Result<Network> {
    let bytes = std::fs::read(path).map_err(|e| CortecsError::file(path, format!("cannot read checkpoint: {e}")))?;
    let payload = check_header(&bytes).map_err(|m| CortecsError::file(path, m))?;
    let (file, used): (NetworkIn, usize) =
        bincode::serde::borrow_decode_from_slice(payload, bincode::config::standard()).map_err(|e| {
            CortecsError::file(
                path,
                format!("checkpoint payload does not decode (written by an incompatible build?): {e}"),
            )
        })?;
    if used != payload.len() {
        return Err(CortecsError::file(
            path,
            format!(
                "checkpoint payload does not decode: {} bytes are left over after the network",
                payload.len() - used
            ),
        ));
    }
    into_network(file).map_err(|m| CortecsError::file(path, format!("inconsistent checkpoint: {m}")))
}

/// Checks magic, version, length and checksum; returns the payload.
fn check_header(bytes: &[u8]) -> std::result::Result<&[u8], String> {
    if bytes.is_empty() {
        return Err("not a cortecs checkpoint: the file is empty".into());
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
        return Err(format!(
            "not a cortecs checkpoint: it starts with \"{shown}\", not the magic \"CORTECS\\0\""
        ));
    }
    if bytes.len() < HEADER_LEN {
        return Err(format!(
            "truncated checkpoint: the file has {} bytes, less than the {HEADER_LEN}-byte header",
            bytes.len()
        ));
    }
    let u32_at = |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
    let u64_at = |o: usize| u64::from(u32_at(o)) | (u64::from(u32_at(o + 4)) << 32);
    let version = u32_at(8);
    if version != FORMAT_VERSION {
        let which = if version > FORMAT_VERSION {
            "a newer"
        } else {
            "an unknown"
        };
        return Err(format!(
            "checkpoint has {which} format version {version}; this build of cortecs reads version {FORMAT_VERSION}"
        ));
    }
    let declared = u64_at(12);
    let sum = u64_at(20);
    let payload = &bytes[HEADER_LEN..];
    let have = payload.len() as u64;
    if have < declared {
        return Err(format!(
            "truncated checkpoint: the header announces a payload of {declared} bytes, the file holds only {have}"
        ));
    }
    if have > declared {
        return Err(format!(
            "corrupt checkpoint: {} unexpected bytes after the {declared}-byte payload",
            have - declared
        ));
    }
    let actual = checksum(payload);
    if actual != sum {
        return Err(format!(
            "corrupt checkpoint: checksum mismatch (payload hashes to {actual:#018x}, the header says {sum:#018x})"
        ));
    }
    Ok(payload)
}

type Check = std::result::Result<(), String>;

fn ensure(ok: bool, message: impl FnOnce() -> String) -> Check {
    if ok { Ok(()) } else { Err(message()) }
}

fn into_network(f: NetworkIn) -> std::result::Result<Network, String> {
    ensure(f.dt.is_finite() && f.dt > 0.0, || {
        format!("time step {} ms is not > 0", f.dt)
    })?;
    for (what, x) in [("step", f.step), ("set count", f.set_count)] {
        ensure(x <= COUNTER_MAX, || format!("{what} {x} is implausibly large"))?;
    }
    for (i, p) in f.populations.iter().enumerate() {
        check_population(p, f.dt).map_err(|m| format!("population '{}': {m}", p.name))?;
        ensure(!f.populations[..i].iter().any(|q| q.name == p.name), || {
            format!("two populations are called '{}'", p.name)
        })?;
    }
    let mut projections = Vec::with_capacity(f.projections.len());
    let mut kernels = Vec::with_capacity(f.projections.len());
    for q in f.projections {
        let mut reader = SpecReader { lost: Vec::new() };
        let spec = reader
            .spec(q.spec)
            .map_err(|m| format!("projection '{}': {m}", q.name))?;
        reader.strategy(&q.strategy);
        let proj = Projection {
            name: q.name,
            pre: q.pre,
            post: q.post,
            strategy: q.strategy,
            store: q.store,
            compact: q.compact,
            spec,
            dense: None,
            masks: q.masks,
            recurrent: q.recurrent,
            constrain_pending: q.constrain_pending,
            changes: StoreChanges::default(),
            rebuilds: q.rebuilds,
            lost_closures: reader.lost,
        };
        check_projection(&proj, &f.populations).map_err(|m| format!("projection '{}': {m}", proj.name))?;
        ensure(!projections.iter().any(|p: &Projection| p.name == proj.name), || {
            format!("two projections are called '{}'", proj.name)
        })?;
        projections.push(proj);
        kernels.push(q.kernel);
    }
    for (p, kernel) in projections.iter_mut().zip(kernels) {
        let (rows, cols) = (p.store.n_post as usize, p.store.n_pre as usize);
        p.dense = match kernel {
            KernelFile::None => None,
            KernelFile::Rebuild => {
                ensure(p.store.major == Major::Post, || {
                    format!("projection '{}': a dense kernel needs a post-major store", p.name)
                })?;
                let bytes = (rows as u64).saturating_mul(cols as u64).saturating_mul(4);
                if let Some(available) = crate::memory::available_bytes() {
                    ensure(bytes <= available, || {
                        format!(
                            "projection '{}': its dense kernel needs {bytes} bytes, only {available} are available",
                            p.name
                        )
                    })?;
                }
                Some(kernel_from_store(&p.store))
            }
            KernelFile::Stored(a) => {
                ensure(a.rows == rows && a.cols == cols, || {
                    format!(
                        "projection '{}': dense kernel is {} x {}, not post x pre = {rows} x {cols}",
                        p.name, a.rows, a.cols
                    )
                })?;
                Some(array_in(a, "dense kernel")?)
            }
        };
    }
    // spiking posts: the ring must hold every incoming delay
    for (i, pop) in f.populations.iter().enumerate() {
        if let PopulationState::Spiking(_) = pop.state {
            let max = projections
                .iter()
                .filter(|p| p.post == i)
                .map(|p| usize::from(p.store.max_delay()))
                .max()
                .unwrap_or(0);
            ensure(pop.ring.slots() > max, || {
                format!(
                    "population '{}': delay ring has {} slots, too few for a delay of {max} steps",
                    pop.name,
                    pop.ring.slots()
                )
            })?;
        }
    }
    let mut pending = Vec::with_capacity(f.pending.len());
    for s in f.pending {
        let mut reader = SpecReader { lost: Vec::new() };
        let name = s.name.clone();
        let spec = reader
            .spec(s)
            .map_err(|m| format!("pending projection '{name}': {m}"))?;
        ensure(reader.lost.is_empty(), || {
            format!("pending projection '{name}' holds a closure marker")
        })?;
        pending.push(spec);
    }
    Ok(Network {
        dt: f.dt,
        seed: f.seed,
        step: f.step,
        base_dir: f.base_dir,
        populations: f.populations,
        projections,
        pending,
        set_count: f.set_count,
    })
}

/// Counters beyond this cannot come from a run (2^62 steps of 1 µs are 146,000 years).
const COUNTER_MAX: u64 = 1 << 62;

fn lengths(what: &str, got: usize, expected: usize) -> Check {
    ensure(got == expected, || {
        format!("{what} has length {got}, expected {expected}")
    })
}

fn check_population(p: &Population, dt: f64) -> Check {
    let n = p.size;
    ensure(n >= 1 && n <= u32::MAX as usize, || format!("size {n} is out of range"))?;
    let specs = p.model.params();
    lengths("parameter list", p.params.len(), specs.len())?;
    for (spec, values) in specs.iter().zip(&p.params) {
        lengths(spec.name, values.len(), n)?;
        crate::model::check_values(&p.name, spec, values).map_err(|e| e.to_string())?;
    }
    ensure(p.derived.dt.to_bits() == dt.to_bits(), || {
        format!(
            "derived constants are for dt = {} ms, the network's is {dt}",
            p.derived.dt
        )
    })?;
    let d = Derived::new(&p.model, &p.params, dt);
    let pairs: [(&str, usize, usize); 8] = [
        ("dt_over_cm", p.derived.dt_over_cm.len(), d.dt_over_cm.len()),
        ("g_l", p.derived.g_l.len(), d.g_l.len()),
        ("p_mem", p.derived.p_mem.len(), d.p_mem.len()),
        ("r_mem", p.derived.r_mem.len(), d.r_mem.len()),
        ("k_e", p.derived.k_e.len(), d.k_e.len()),
        ("k_i", p.derived.k_i.len(), d.k_i.len()),
        ("ref_steps", p.derived.ref_steps.len(), d.ref_steps.len()),
        ("k_w", p.derived.k_w.len(), d.k_w.len()),
    ];
    for (what, got, expected) in pairs {
        lengths(what, got, expected)?;
    }
    lengths("positions", p.positions.len(), n)?;
    lengths("polarity", p.polarity.len(), n)?;
    lengths("current", p.current.len(), n)?;
    lengths("last_spike", p.last_spike.len(), n)?;
    for (what, x) in [("pre_noise", p.pre_noise), ("post_noise", p.post_noise)] {
        ensure(x.is_finite() && x >= 0.0, || {
            format!("{what} {x} is not a standard deviation")
        })?;
    }
    lengths("drive samplers", p.drive_tables.len(), p.drives.len())?;
    ensure(p.drives.is_empty() || p.model.synapse().is_some(), || {
        "has Poisson drives but takes no input".to_string()
    })?;
    for (drive, table) in p.drives.iter().zip(&p.drive_tables) {
        ensure(
            drive.rate.is_finite() && drive.rate >= 0.0 && drive.weight.is_finite(),
            || format!("drive {drive:?} is invalid"),
        )?;
        ensure(*table == PoissonTable::new(drive.rate * dt * 1e-3), || {
            format!("the sampler of drive {drive:?} does not match its rate")
        })?;
    }
    ensure(p.spike_count <= COUNTER_MAX, || {
        format!("spike count {} is implausibly large", p.spike_count)
    })?;
    let in_range = |v: &[u32]| v.iter().all(|&i| (i as usize) < n);
    ensure(in_range(&p.spikes), || "a spike names a neuron out of range".into())?;
    if let Some(rec) = &p.spike_record {
        ensure(rec.iter().all(|&(_, i)| (i as usize) < n), || {
            "the spike record names a neuron out of range".into()
        })?;
    }
    let chunks = n.div_ceil(NEURON_CHUNK);
    lengths("random streams", p.rngs.len(), chunks)?;
    ensure(p.rngs.iter().all(|r| !r.is_degenerate()), || {
        "a random stream is in its all-zero state".into()
    })?;
    lengths("spike scratch", p.spike_scratch.len(), chunks)?;
    ensure(p.spike_scratch.iter().all(|s| in_range(s)), || {
        "the spike scratch names a neuron out of range".into()
    })?;
    let ring = p.ring.slots().checked_mul(2).and_then(|x| x.checked_mul(n));
    ensure(ring == Some(p.ring.len()), || {
        format!("delay ring has {} entries for {} slots", p.ring.len(), p.ring.slots())
    })?;
    match (&p.model, &p.state) {
        (ModelKind::Rate { .. }, PopulationState::Rate(s)) => {
            ensure(s.batch >= 1, || "batch is 0".into())?;
            let len = n
                .checked_mul(s.batch)
                .ok_or_else(|| format!("batch {} is too large", s.batch))?;
            for (what, v) in [("v", &s.v), ("r", &s.r), ("input", &s.input), ("acc", &s.acc)] {
                lengths(what, v.len(), len)?;
            }
        }
        (ModelKind::PoissonSource, PopulationState::Poisson) => {}
        (ModelKind::SpikeSource, PopulationState::SpikeTimes { steps, next }) => {
            lengths("spike times", steps.len(), n)?;
            lengths("spike positions", next.len(), n)?;
        }
        (
            ModelKind::Lif { .. } | ModelKind::AdEx { .. } | ModelKind::Izhikevich { .. },
            PopulationState::Spiking(s),
        ) => {
            for (what, len) in [
                ("v", s.v.len()),
                ("w", s.w.len()),
                ("g_e", s.g_e.len()),
                ("g_i", s.g_i.len()),
                ("x_e", s.x_e.len()),
                ("x_i", s.x_i.len()),
                ("refractory", s.refractory.len()),
            ] {
                lengths(what, len, n)?;
            }
            ensure(p.ring.slots() >= 1, || "delay ring has no slots".into())?;
        }
        (model, _) => return Err(format!("state does not belong to a {} population", model.name())),
    }
    Ok(())
}

fn check_projection(q: &Projection, pops: &[Population]) -> Check {
    let (Some(pre), Some(post)) = (pops.get(q.pre), pops.get(q.post)) else {
        return Err(format!("population index {} or {} is out of range", q.pre, q.post));
    };
    ensure(q.recurrent == (q.pre == q.post), || "recurrent flag is wrong".into())?;
    ensure(q.rebuilds <= COUNTER_MAX, || {
        format!("rebuild count {} is implausibly large", q.rebuilds)
    })?;
    let rate = post.model.is_rate();
    ensure(pre.model.is_rate() == rate, || {
        format!("connects a {} to a {} population", pre.model.name(), post.model.name())
    })?;
    ensure(rate || matches!(post.state, PopulationState::Spiking(_)), || {
        format!("post population '{}' takes no input", post.name)
    })?;
    let s = &q.store;
    ensure(s.n_pre as usize == pre.size && s.n_post as usize == post.size, || {
        format!(
            "store is {} x {} (pre x post), the populations have {} and {} neurons",
            s.n_pre, s.n_post, pre.size, post.size
        )
    })?;
    let major = if rate { Major::Post } else { Major::Pre };
    ensure(s.major == major, || {
        format!("store rows are {:?}, expected {major:?}", s.major)
    })?;
    let (rows, other) = match s.major {
        Major::Pre => (s.n_pre, s.n_post),
        Major::Post => (s.n_post, s.n_pre),
    };
    let len = s.minor.len();
    lengths("row pointer", s.row_ptr.len(), rows as usize + 1)?;
    ensure(
        s.row_ptr[0] == 0 && s.row_ptr.windows(2).all(|w| w[0] <= w[1]) && s.row_ptr[rows as usize] == len as u64,
        || "row pointer is not a valid compressed-row index".into(),
    )?;
    lengths("weights", s.weight.len(), len)?;
    lengths("signs", s.sign.len(), len)?;
    ensure(s.minor.iter().all(|&m| m < other), || {
        "a synapse index is out of range".into()
    })?;
    ensure(
        (0..rows as usize).all(|r| s.minor[s.row(r)].windows(2).all(|w| w[0] <= w[1])),
        || "a row is not sorted".into(),
    )?;
    ensure(s.sign.iter().all(|x| (-1..=1).contains(x)), || {
        "a sign is not -1, 0 or 1".into()
    })?;
    let removed = s.sign.iter().filter(|&&x| x == REMOVED).count() as u64;
    ensure(s.removed == removed, || {
        format!("counts {} removed synapses, the signs say {removed}", s.removed)
    })?;
    match &s.delay {
        Column::Uniform(d) => ensure(*d >= 1, || "a delay is 0 steps".into())?,
        Column::PerSynapse(v) => {
            lengths("delays", v.len(), len)?;
            ensure(v.iter().all(|&d| d >= 1), || "a delay is 0 steps".into())?;
        }
    }
    if let Column::PerSynapse(v) = &s.plasticity {
        lengths("plasticity factors", v.len(), len)?;
    }
    let (n_post, n_pre) = (post.size, pre.size);
    let cells = n_post.checked_mul(n_pre).ok_or("mask size overflows")?;
    let m = &q.masks;
    if let Some(b) = &m.sparsity {
        ensure(b.rows == n_post && b.cols == n_pre, || {
            "sparsity mask has the wrong shape".into()
        })?;
        lengths("sparsity mask", b.bits.len(), cells.div_ceil(64))?;
    }
    match &m.signs {
        Some(SignMask::PerPre(v)) => {
            lengths("E/I mask", v.len(), n_pre)?;
            ensure(v.iter().all(|&x| x == 1 || x == -1), || {
                "E/I mask entries must be +1 or -1".into()
            })?;
        }
        Some(SignMask::PerSynapse(a)) => {
            check_matrix("E/I mask", a, n_post, n_pre)?;
            ensure(a.data.iter().all(|&x| x == 1 || x == -1), || {
                "E/I mask entries must be +1 or -1".into()
            })?;
        }
        None => {}
    }
    for (what, a) in [("plasticity mask", &m.plasticity), ("growth mask", &m.growth)] {
        if let Some(a) = a {
            check_matrix(what, a, n_post, n_pre)?;
        }
    }
    Ok(())
}

fn check_matrix<T>(what: &str, a: &Matrix<T>, rows: usize, cols: usize) -> Check {
    ensure(a.rows == rows && a.cols == cols, || {
        format!("{what} is {} x {}, expected {rows} x {cols}", a.rows, a.cols)
    })?;
    lengths(what, a.data.len(), rows * cols)
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

impl Projection {
    /// Errs when the strategy of this projection cannot be reapplied because
    /// its spec held Rust closures that a checkpoint could not keep (see
    /// [`Projection::lost_closures`]). Every reapply of the strategy calls it first.
    pub fn check_rebuild(&self) -> Result<()> {
        if self.lost_closures.is_empty() {
            return Ok(());
        }
        Err(CortecsError::InvalidRequest(format!(
            "projection '{}' was built from a Rust closure ({}), which a checkpoint cannot hold; its synapses \
             were restored exactly, but reapplying its strategy needs the closure: set new values in its spec \
             (an expression string stays saveable) and clear `lost_closures`",
            self.name,
            self.lost_closures.join(", ")
        )))
    }
}
