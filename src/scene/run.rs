//! Running a scene: its timeline, recordings, weight dumps and `summary.json`.

use super::{Action, Located, Scene, build, parse};
use crate::ecs::{Recorders, ScheduledEdit, Simulation, StageTimers, Timeline};
use crate::error::{CortecsError, Result};
use crate::record::{SpikeRecorder, StateRecorder};
use bevy_ecs::prelude::*;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What a scene run did (also written as `summary.json`).
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The scene file.
    pub scene: PathBuf,
    /// Output folder.
    pub out: PathBuf,
    /// Simulated time (ms).
    pub time_ms: f64,
    /// Build wall-clock time (s).
    pub build_s: f64,
    /// Simulation wall-clock time (s).
    pub run_s: f64,
    /// Per population: name, size, model, spikes, mean rate (Hz).
    pub populations: Vec<(String, usize, String, u64, f64)>,
    /// Per projection: name, strategy, live synapses, excitatory, inhibitory, mean weight.
    pub projections: Vec<(String, String, u64, u64, u64, f64)>,
    /// Store bytes per synapse.
    pub store_bytes_per_synapse: f64,
    /// Files written.
    pub files: Vec<PathBuf>,
    /// Wall-clock seconds per stage of the schedule (build, constrain, compile,
    /// stimulate, integrate, writeback, adjust, record).
    pub stages: Vec<(String, f64)>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "scene {} : {:.1} ms simulated, build {:.3} s, run {:.3} s",
            self.scene.display(),
            self.time_ms,
            self.build_s,
            self.run_s
        )?;
        for (name, size, model, spikes, rate) in &self.populations {
            writeln!(
                f,
                "  population {name:<12} {size:>8} x {model:<20} {spikes:>9} spikes {rate:>8.2} Hz"
            )?;
        }
        for (name, strategy, n, e, i, mean) in &self.projections {
            writeln!(
                f,
                "  projection {name:<12} {strategy:<20} {n:>10} synapses ({e} E, {i} I), mean weight {mean:.4}"
            )?;
        }
        writeln!(f, "  store {:.2} bytes/synapse", self.store_bytes_per_synapse)?;
        let stages: Vec<String> = self.stages.iter().map(|(n, s)| format!("{n} {s:.3}")).collect();
        writeln!(f, "  stages (s): {}", stages.join(", "))?;
        write!(f, "  wrote {} files to {}", self.files.len(), self.out.display())
    }
}

/// Runs a scene file: builds it, runs its timeline, writes recordings and
/// `summary.json` into `out` (default `out/<scene name>`).
pub fn run_file(path: &Path, out: Option<&Path>) -> Result<Summary> {
    let text = std::fs::read_to_string(path).map_err(|e| CortecsError::file(path, e))?;
    let scene = parse(path, &text)?;
    let out = match out {
        Some(o) => o.to_path_buf(),
        None => Path::new("out").join(path.file_stem().unwrap_or_default()),
    };
    run_scene(&scene, path, &text, &out)
}

/// Runs a parsed scene (see [`run_file`]).
pub fn run_scene(scene: &Scene, path: &Path, text: &str, out: &Path) -> Result<Summary> {
    let t0 = Instant::now();
    let mut sim = build(scene, path, text)?;
    let build_s = t0.elapsed().as_secs_f64();
    std::fs::create_dir_all(out).map_err(|e| CortecsError::file(out, e))?;
    let mut spike_recs = Vec::new();
    for name in &scene.record.spikes {
        spike_recs.push((sim.network()?.population_index(name)?, SpikeRecorder::new(out, name)?));
    }
    let mut state_recs = Vec::new();
    for p in &scene.record.state {
        let idx = sim.network()?.population_index(&p.population)?;
        state_recs.push((
            idx,
            p.variable.clone(),
            StateRecorder::new(out, &p.population, &p.variable, p.neurons.clone(), p.every)?,
        ));
    }
    let now = sim.network()?.step;
    let network = sim.network;
    sim.world
        .entity_mut(network)
        .insert((Recorders::new(spike_recs, state_recs, now), Timeline::default()));
    let default_timeline = [Action::Run { ms: 1000.0 }];
    let timeline: &[Action] = if scene.timeline.is_empty() {
        &default_timeline
    } else {
        &scene.timeline
    };
    let loc = Located { path, text };
    let mut files_saved = Vec::new();
    let t1 = Instant::now();
    for action in timeline {
        // edits go on the network's timeline and are applied by the Adjust stage of a tick without steps
        let edit = match action {
            Action::Run { ms } => {
                if !(ms.is_finite() && *ms >= 0.0) {
                    return Err(loc.at("Run", CortecsError::param("Run.ms", format!("must be >= 0, got {ms}"))));
                }
                let steps = (ms / scene.dt).round() as u64;
                // the Record stage samples at the end of each tick: no tick is longer than the shortest interval
                let chunk = on_network::<Recorders>(&mut sim, "recorders")?
                    .min_every()
                    .unwrap_or(1000)
                    .min(1000);
                let mut done = 0;
                while done < steps {
                    let n = chunk.min(steps - done);
                    sim.advance(n)?;
                    done += n;
                    if let Some(e) = on_network::<Recorders>(&mut sim, "recorders")?.error.take() {
                        return Err(e);
                    }
                }
                None
            }
            Action::Set {
                population,
                name,
                value,
                neurons,
            } => Some((
                population,
                ScheduledEdit::Set {
                    population: population.clone(),
                    name: name.clone(),
                    neurons: neurons.clone(),
                    value: value.to_value(),
                },
            )),
            Action::Lesion { projection, pre, post } => Some((
                projection,
                ScheduledEdit::LesionPair {
                    projection: projection.clone(),
                    pre: *pre,
                    post: *post,
                },
            )),
            Action::Adjust {
                projection,
                adjuster,
                filter,
            } => Some((
                projection,
                ScheduledEdit::Adjust {
                    projection: projection.clone(),
                    adjuster: adjuster.clone(),
                    filter: *filter,
                },
            )),
            Action::SetWeights { projection, file } => {
                let net = sim.network()?;
                let s = net.projection(projection).map_err(|e| loc.at(projection, e))?.store();
                let (n_post, n_pre) = (s.n_post as usize, s.n_pre as usize);
                let weights = crate::io::read_npy_matrix(&net.base_dir.join(file), n_post, n_pre)
                    .map_err(|e| loc.at(projection, e.into()))?;
                Some((
                    projection,
                    ScheduledEdit::SetWeights {
                        projection: projection.clone(),
                        weights,
                    },
                ))
            }
            Action::Save { file } => {
                let path = out.join(file);
                sim.save(&path).map_err(|e| loc.at("Save", e))?;
                files_saved.push(path);
                None
            }
            Action::Modulate { projection, value } => {
                let net = sim.network_mut()?;
                net.set_modulator(projection, *value)
                    .map_err(|e| loc.at(projection, e))?;
                None
            }
            Action::SetError { projection, error } => {
                let net = sim.network_mut()?;
                net.set_error(projection, error).map_err(|e| loc.at(projection, e))?;
                None
            }
            Action::Grow { projection } => {
                sim.network_mut()?.grow(projection).map_err(|e| loc.at(projection, e))?;
                None
            }
            Action::Prune { projection } => {
                sim.network_mut()?
                    .prune(projection)
                    .map_err(|e| loc.at(projection, e))?;
                None
            }
            Action::RecordWeights { projection } => {
                let net = sim.network()?;
                let dense = net
                    .projection(projection)
                    .map_err(|e| loc.at(projection, e))?
                    .store
                    .to_dense();
                let ms = net.time();
                let file = out.join(format!("{projection}_weights_{ms}ms.npy"));
                crate::record::write_npy_atomic(
                    &file,
                    &[dense.nrows(), dense.ncols()],
                    dense.as_slice().unwrap_or(&[]),
                )?;
                files_saved.push(file);
                None
            }
            Action::Statistics {
                projection,
                eigenvalues,
                bounds,
            } => {
                let stats = sim
                    .network()?
                    .projection_stats(projection, *eigenvalues, *bounds)
                    .map_err(|e| loc.at(projection, e))?;
                let file = out.join(format!("{projection}_stats_{}.json", stats.step));
                crate::record::write_json_atomic(&file, &stats)?;
                files_saved.push(file);
                None
            }
            Action::Summary => {
                let text = sim.network()?.summary().to_string();
                let file = out.join("summary.txt");
                crate::record::write_text_atomic(&file, &text)?;
                None
            }
        };
        if let Some((owner, edit)) = edit {
            let step = sim.network()?.step;
            on_network::<Timeline>(&mut sim, "timeline")?.at(step, edit);
            sim.advance(0)?;
            if let Some((_, e)) = on_network::<Timeline>(&mut sim, "timeline")?.errors.pop() {
                return Err(loc.at(owner, e));
            }
        }
    }
    sim.sync()?;
    let run_s = t1.elapsed().as_secs_f64();
    let mut files = files_saved;
    let recs = sim.world.entity_mut(network).take::<Recorders>().unwrap_or_default();
    let (spikes, states) = recs.finish()?;
    for s in spikes {
        files.extend(s.files);
    }
    for s in states {
        files.extend(s.files);
    }
    let stages = sim
        .world
        .get_resource::<StageTimers>()
        .map(|t| t.stages().iter().map(|&(n, s)| (n.to_string(), s)).collect())
        .unwrap_or_default();
    let net = sim.network()?;
    for w in &scene.record.weights {
        let dense = net.projection(w)?.store.to_dense();
        let file = out.join(format!("{w}_weights.npy"));
        crate::record::write_npy_atomic(&file, &[dense.nrows(), dense.ncols()], dense.as_slice().unwrap_or(&[]))?;
        files.push(file);
    }
    let seconds = net.time() / 1000.0;
    let mem = crate::network::synapse_memory(net);
    let summary = Summary {
        scene: path.to_path_buf(),
        out: out.to_path_buf(),
        time_ms: net.time(),
        build_s,
        run_s,
        populations: net
            .populations
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.size,
                    p.model.name(),
                    p.spike_count,
                    p.spike_count as f64 / p.size as f64 / seconds.max(1e-12),
                )
            })
            .collect(),
        projections: net
            .projections
            .iter()
            .map(|p| {
                let s = &p.store;
                let e = s.sign.iter().filter(|&&x| x > 0).count() as u64;
                let i = s.sign.iter().filter(|&&x| x < 0).count() as u64;
                let mean = s.weight.iter().map(|&w| f64::from(w)).sum::<f64>() / s.live().max(1) as f64;
                (p.name.clone(), p.strategy.name().to_string(), s.live(), e, i, mean)
            })
            .collect(),
        store_bytes_per_synapse: mem.store_per_synapse(),
        files: files.clone(),
        stages,
    };
    let json = out.join("summary.json");
    crate::record::write_json_atomic(&json, &summary)?;
    let mut summary = summary;
    summary.files.push(json);
    Ok(summary)
}

/// Component `C` of the scene's network entity (`what` names it in the error).
fn on_network<'a, C: Component<Mutability = bevy_ecs::component::Mutable>>(
    sim: &'a mut Simulation,
    what: &str,
) -> Result<Mut<'a, C>> {
    let network = sim.network;
    sim.world
        .get_mut::<C>(network)
        .ok_or_else(|| CortecsError::InvalidRequest(format!("the scene's network entity has lost its {what}")))
}
