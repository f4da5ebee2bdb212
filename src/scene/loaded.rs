//! Scenes that start from a checkpoint: `load: "network.ckpt"` (a trained
//! or saved network, with the scene's own populations, projections,
//! recordings and timeline on top), and `cortecs run network.ckpt`, which
//! runs a checkpoint as a scene of its own.

use super::{Located, PopulationDef, ProjectionDef, Scene, ValueDef};
use crate::error::{CortecsError, Result};
use crate::network::Network;
use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

/// True when the file at `path` starts with the checkpoint magic.
pub fn is_checkpoint(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| head == crate::checkpoint::MAGIC)
}

/// The scene text `cortecs run CHECKPOINT` runs: the checkpoint, the spikes
/// of every spiking population and the rates `r` of the first 16 units of
/// every rate population recorded, 1000 ms (`--set timeline.0.ms=...`).
pub fn checkpoint_scene_text(path: &Path, net: &Network) -> String {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let spikes: Vec<String> = net
        .populations
        .iter()
        .filter(|p| matches!(p.state, crate::population::PopulationState::Spiking(_)))
        .map(|p| format!("{:?}", p.name))
        .collect();
    let rates: Vec<String> = net
        .populations
        .iter()
        .filter(|p| p.model.is_rate())
        .map(|p| {
            let n: Vec<String> = (0..p.size.min(16)).map(|i| i.to_string()).collect();
            format!(
                "(population: {:?}, variable: \"r\", neurons: [{}])",
                p.name,
                n.join(", ")
            )
        })
        .collect();
    format!(
        "// `cortecs run {file}`: the checkpoint run as a scene\n(\n    load: {file:?},\n    record: (spikes: [{}], state: [{}]),\n    timeline: [Run(ms: 1000.0)],\n)\n",
        spikes.join(", "),
        rates.join(", ")
    )
}

/// Loads the checkpoint a scene names (relative to the scene's folder):
/// the scene's `dt` and `seed` are the checkpoint's unless the scene writes
/// them; a written `dt` that differs from the checkpoint's is an error
/// (its delays and time constants are in its steps), a written `seed`
/// replaces the network's. `read`: the checkpoint, when the scene is the
/// one [`checkpoint_scene_text`] wrote for it (read already).
pub(super) fn resolve(scene: &mut Scene, path: &Path, text: &str, read: Option<Network>) -> Result<()> {
    let Some(file) = &scene.load else {
        return Ok(());
    };
    let loc = Located { path, text };
    let full = path.parent().unwrap_or(Path::new("")).join(file);
    let mut net = match read {
        Some(net) if full == path => net,
        _ => crate::checkpoint::load(&full).map_err(|e| loc.at_path(&["load"], e.into()))?,
    };
    let tree = super::path::tree(text);
    let written = |field: &str| tree.as_ref().is_some_and(|t| t.find(text, &[field]).is_some());
    if !written("dt") {
        scene.dt = net.dt;
    } else if scene.dt != net.dt {
        let e = CortecsError::param(
            "dt",
            format!(
                "{} ms differs from the checkpoint's {} ms (its delays and time constants are in its steps): leave dt out",
                scene.dt, net.dt
            ),
        );
        return Err(loc.at_path(&["dt"], e));
    }
    if written("seed") {
        net.seed = scene.seed;
    } else {
        scene.seed = net.seed;
    }
    net.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    scene.loaded = Some(Arc::new(net));
    Ok(())
}

impl Scene {
    /// The scene with the loaded network's populations and projections
    /// listed first (as items whose names, sizes, models and ends are the
    /// checkpoint's), for validation; the scene itself without a checkpoint.
    pub(super) fn with_loaded(&self) -> Cow<'_, Scene> {
        let Some(net) = &self.loaded else {
            return Cow::Borrowed(self);
        };
        let mut all = self.clone();
        let pops = net.populations.iter().map(|p| PopulationDef {
            name: p.name.clone(),
            size: p.size,
            model: p.model.clone(),
            structure: crate::space::Structure::None,
            params: Default::default(),
            polarity: Default::default(),
            spike_times: None,
            batch: p.trials(),
            pre_noise: 0.0,
            post_noise: 0.0,
            bias: None,
        });
        all.populations = pops.chain(self.populations.iter().cloned()).collect();
        let projs = net.projections.iter().map(|q| ProjectionDef {
            name: q.name.clone(),
            pre: net.populations[q.pre].name.clone(),
            post: net.populations[q.post].name.clone(),
            strategy: crate::connect::Strategy::AllToAll, // names only: validation reads no strategy
            weight: ValueDef::Number(1.0),
            weight_inh: None,
            delay: None,
            excitatory_ratio: None,
            self_connections: true,
            multapses: false,
            compact: q.compact,
            plasticity: None,
            learning: Vec::new(),
            growth: None,
            pruning: None,
            periodic: None,
            dale: None,
            masks: Default::default(),
        });
        all.projections = projs.chain(self.projections.iter().cloned()).collect();
        Cow::Owned(all)
    }
}

/// The steps x trials x units array an `Input` action plays into a
/// population of `trials` trials, from a `.npy` of steps x units (the same
/// for every trial) or steps x trials x units (all of them, or only trial
/// `pick` of the file, for every trial).
pub(super) fn input_array(path: &Path, trials: usize, pick: Option<usize>) -> Result<ndarray::Array3<f32>> {
    let a = crate::io::read_npy_shaped(path)?;
    let shape = a.shape().to_vec();
    let a = a.mapv(|x| x as f32);
    let bad = || {
        CortecsError::InvalidRequest(format!(
            "{}: an input array is steps x units or steps x trials x units, found shape {shape:?}",
            path.display()
        ))
    };
    let m = match (shape.len(), pick) {
        (2, None) => a.into_dimensionality::<ndarray::Ix2>().map_err(|_| bad())?,
        (2, Some(k)) => {
            return Err(CortecsError::InvalidRequest(format!(
                "{}: trial {k} asked of a steps x units array of shape {shape:?} (no trials axis)",
                path.display()
            )));
        }
        (3, None) => return a.into_dimensionality::<ndarray::Ix3>().map_err(|_| bad()),
        (3, Some(k)) if k < shape[1] => a
            .index_axis(ndarray::Axis(1), k)
            .to_owned()
            .into_dimensionality::<ndarray::Ix2>()
            .map_err(|_| bad())?,
        (3, Some(k)) => {
            return Err(CortecsError::InvalidRequest(format!(
                "{}: trial {k} is out of range ({} trials in the file)",
                path.display(),
                shape[1]
            )));
        }
        _ => return Err(bad()),
    };
    let (steps, units) = m.dim();
    Ok(ndarray::Array3::from_shape_fn((steps, trials, units), |(t, _, i)| {
        m[[t, i]]
    }))
}
