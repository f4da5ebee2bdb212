//! The payload: serialisable mirrors of the network's types (`*File`, `*Out`/`*In`) and the spec conversions.

use super::{CheckpointError, Result};
use crate::connect::Strategy;
use crate::io::{ArrayFile, array_in, array_out, de_path, de_string};
use crate::mask::Masks;
use crate::network::Network;
use crate::param::{Distribution, Value};
use crate::plasticity::{Growth, Learning, Plastic, Pruning};
use crate::population::Population;
use crate::projection::{MaskSource, MaskSpec, Projection, ProjectionSpec};
use crate::space::Space;
use crate::store::{Major, SynapseStore};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    /// Added in format 3 (appended: older files decode as before).
    Init(crate::param::Init),
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
pub(super) struct SpecFile {
    #[serde(deserialize_with = "de_string")]
    pub(super) name: String,
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
pub(super) enum KernelFile {
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
pub(super) struct ProjectionIn {
    #[serde(deserialize_with = "de_string")]
    pub(super) name: String,
    pub(super) pre: usize,
    pub(super) post: usize,
    pub(super) strategy: Strategy,
    pub(super) store: SynapseStore,
    pub(super) compact: bool,
    pub(super) spec: SpecFile,
    pub(super) kernel: KernelFile,
    pub(super) masks: Masks,
    pub(super) recurrent: bool,
    pub(super) constrain_pending: bool,
    pub(super) rebuilds: u64,
}

/// Format version 2 adds this after the network: the learning rules,
/// growth and pruning of every projection and pending spec, and the
/// learning state (traces, eligibility, modulator, spikes in flight,
/// pruning counters, young synapses) of every built projection.
#[derive(Serialize, Deserialize, Default)]
pub(super) struct LearningFile {
    pub(super) projections: Vec<(SpecLearning, Option<Plastic>)>,
    pub(super) pending: Vec<SpecLearning>,
}

/// The learning part of a projection spec.
#[derive(Serialize, Deserialize, Default)]
pub(super) struct SpecLearning {
    pub(super) rules: Vec<Learning>,
    pub(super) growth: Option<Growth>,
    pub(super) pruning: Option<Pruning>,
}

impl SpecLearning {
    fn of(s: &ProjectionSpec) -> SpecLearning {
        SpecLearning {
            rules: s.learning.clone(),
            growth: s.growth,
            pruning: s.pruning,
        }
    }

    /// Puts the learning part back into `s`.
    pub(super) fn into_spec(self, s: &mut ProjectionSpec) {
        s.learning = self.rules;
        s.growth = self.growth;
        s.pruning = self.pruning;
    }
}

/// The learning section of `net`.
pub(super) fn learning_out(net: &Network) -> LearningFile {
    LearningFile {
        projections: net
            .projections
            .iter()
            .map(|p| (SpecLearning::of(&p.spec), p.plastic.clone()))
            .collect(),
        pending: net.pending.iter().map(SpecLearning::of).collect(),
    }
}

#[derive(Serialize)]
pub(super) struct NetworkOut<'a> {
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
pub(super) struct NetworkIn {
    pub(super) dt: f64,
    pub(super) seed: u64,
    pub(super) step: u64,
    #[serde(deserialize_with = "de_path")]
    pub(super) base_dir: PathBuf,
    pub(super) set_count: u64,
    pub(super) populations: Vec<Population>,
    pub(super) projections: Vec<ProjectionIn>,
    pub(super) pending: Vec<SpecFile>,
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
            return Err(CheckpointError::PendingClosure {
                path: self.path.to_path_buf(),
                projection: projection.to_string(),
                param: param.to_string(),
            });
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
            Value::Init(i) => ValueFile::Init(*i),
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
            learning: _,
            growth: _,
            pruning: _,
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
        Strategy::DistanceProbabilityByType {
            ee, ei, ie, ii, none, ..
        } => [Some(ee), Some(ei), Some(ie), Some(ii), none.as_ref()]
            .into_iter()
            .flatten()
            .find_map(|p| p.closure_kind()),
        _ => None,
    }
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
pub(super) struct SpecReader {
    pub(super) lost: Vec<String>,
}

impl SpecReader {
    fn note(&mut self, param: &str) {
        if !self.lost.iter().any(|p| p == param) {
            self.lost.push(param.to_string());
        }
    }

    /// Notes a strategy whose probability closure was lost.
    pub(super) fn strategy(&mut self, s: &Strategy) {
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
            ValueFile::Init(i) => Value::Init(i),
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

    pub(super) fn spec(&mut self, s: SpecFile) -> std::result::Result<ProjectionSpec, String> {
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
            learning: Vec::new(),
            growth: None,
            pruning: None,
        })
    }
}

// ---------------------------------------------------------------------------
// Dense kernels.

/// The dense post x pre kernel of a post-major store, summed exactly as
/// [`Projection::refresh_kernel`] sums it.
pub(super) fn kernel_from_store(s: &SynapseStore) -> ndarray::Array2<f32> {
    let mut d = ndarray::Array2::<f32>::zeros((s.n_post as usize, s.n_pre as usize));
    for j in 0..s.rows() {
        for k in s.row(j) {
            d[[j, s.minor.get(k) as usize]] += s.weight[k];
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

/// The file form of `net`; a pending projection holding a closure is refused
/// (with the checkpoint's `path` in the message).
pub(super) fn network_out<'a>(net: &'a Network, path: &'a Path) -> Result<NetworkOut<'a>> {
    let Network {
        dt,
        seed,
        step,
        base_dir,
        populations,
        projections,
        pending,
        set_count,
        draws: _,
        inputs,
        noise: _,    // saved after the rounding mode (format version 5)
        rounding: _, // saved after the draw counts (format version 4)
        health: _,   // a choice of the run, not saved
    } = net;
    if let Some(s) = inputs.first() {
        return Err(CheckpointError::Save {
            path: path.to_path_buf(),
            message: format!(
                "an input array plays into '{}' ({} of {} steps left) and a checkpoint does not carry it; save before or after it",
                populations[s.population].name,
                s.data.dim().0 - s.next,
                s.data.dim().0
            ),
        });
    }
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
            plastic: _,
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
    Ok(NetworkOut {
        dt: *dt,
        seed: *seed,
        step: *step,
        base_dir,
        set_count: *set_count,
        populations,
        projections: projection_files,
        pending,
    })
}
