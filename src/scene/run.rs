//! Running a scene: its timeline, recordings, weight dumps and `summary.json`.

use super::{Action, Located, Scene, build};
use crate::ecs::{Environment, Recorders, ScheduledEdit, Simulation, StageTimers, Timeline};
use crate::error::{CortecsError, Result};
use crate::record::plots::{RunRecordings, SpikeFiles, StateFiles};
use crate::record::{SpikeRecorder, StateRecorder};
use bevy_ecs::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What a scene run did, written as `summary.json` (a contract: field
/// names are stable; see README "Outputs").
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Summary {
    /// The scene file.
    pub scene: PathBuf,
    /// Output folder.
    pub out: PathBuf,
    /// `complete` (every action ran), `failed` (an action failed) or
    /// `interrupted` (stopped by Ctrl-C or SIGTERM); what ran before is
    /// recorded and written either way.
    pub status: String,
    /// Why the run failed or where it was interrupted (`null` when complete).
    #[serde(default)]
    pub error: Option<String>,
    /// Global seed the run used.
    pub seed: u64,
    /// Worker threads (rayon's pool size).
    pub threads: usize,
    /// Time step (ms).
    pub dt_ms: f64,
    /// Steps simulated.
    pub steps: u64,
    /// Simulated time (ms).
    pub time_ms: f64,
    /// Wall-clock seconds per stage.
    pub timing_s: Timing,
    /// Per population, by name.
    pub populations: BTreeMap<String, PopulationSummary>,
    /// Per projection, by name.
    pub projections: BTreeMap<String, ProjectionSummary>,
    /// Memory use.
    pub memory: MemorySummary,
    /// Files written (recordings, checkpoints, weight dumps).
    pub files: Vec<PathBuf>,
}

/// Wall-clock seconds of a run's stages.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Timing {
    /// Building the network (populations, connection strategies, entities; s).
    pub build: f64,
    /// Running the timeline (s).
    pub simulate: f64,
    /// Per schedule stage: build, constrain, compile, stimulate, integrate, writeback, adjust, record (s).
    pub stages: BTreeMap<String, f64>,
}

/// One population's results.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct PopulationSummary {
    /// Number of neurons.
    pub size: usize,
    /// Model name, e.g. `lif_condexp`.
    pub model: String,
    /// Spikes emitted in the whole run.
    pub spikes: u64,
    /// Mean rate per neuron over the simulated time (Hz).
    pub rate_hz: f64,
}

/// One projection's state at the end of the run.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct ProjectionSummary {
    /// Pre population.
    pub pre: String,
    /// Post population.
    pub post: String,
    /// Connection strategy name.
    pub strategy: String,
    /// Live synapses.
    pub synapses: u64,
    /// Excitatory synapses.
    pub excitatory: u64,
    /// Inhibitory synapses.
    pub inhibitory: u64,
    /// Mean weight of the live synapses (signed).
    pub weight_mean: f64,
    /// Standard deviation of the live synapses' weights.
    pub weight_std: f64,
}

/// Memory use of a run.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct MemorySummary {
    /// Peak resident set size of the process (bytes; `null` where the OS does not say).
    pub peak_rss_bytes: Option<u64>,
    /// Synapse store bytes per live synapse.
    pub bytes_per_synapse: f64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "scene {} : {:.1} ms simulated ({} steps), build {:.3} s, run {:.3} s, {}",
            self.scene.display(),
            self.time_ms,
            self.steps,
            self.timing_s.build,
            self.timing_s.simulate,
            self.status
        )?;
        for (name, p) in &self.populations {
            writeln!(
                f,
                "  population {name:<12} {:>8} x {:<20} {:>9} spikes {:>8.2} Hz",
                p.size, p.model, p.spikes, p.rate_hz
            )?;
        }
        for (name, q) in &self.projections {
            writeln!(
                f,
                "  projection {name:<12} {:<20} {:>10} synapses ({} E, {} I), weight {:.4} +- {:.4}",
                q.strategy, q.synapses, q.excitatory, q.inhibitory, q.weight_mean, q.weight_std
            )?;
        }
        writeln!(f, "  store {:.2} bytes/synapse", self.memory.bytes_per_synapse)?;
        let stages: Vec<String> = self
            .timing_s
            .stages
            .iter()
            .map(|(n, s)| format!("{n} {s:.3}"))
            .collect();
        writeln!(f, "  stages (s): {}", stages.join(", "))?;
        write!(f, "  wrote {} files to {}", self.files.len(), self.out.display())
    }
}

/// Runs a scene file: validates it, builds it, runs its timeline, writes
/// recordings and `summary.json` into `out` (default `out/<scene name>`).
pub fn run_file(path: &Path, out: Option<&Path>) -> Result<Summary> {
    let (scene, text) = super::load(path, &[])?;
    let out = match out {
        Some(o) => o.to_path_buf(),
        None => Path::new("out").join(path.file_stem().unwrap_or_default()),
    };
    run_scene(&scene, path, &text, &out)
}

/// Simulated time (ms) a scene's timeline runs (1000 ms for an empty timeline).
pub fn total_ms(scene: &Scene) -> f64 {
    if scene.timeline.is_empty() {
        return 1000.0;
    }
    scene
        .timeline
        .iter()
        .map(|a| match a {
            Action::Run { ms } => *ms,
            _ => 0.0,
        })
        .sum()
}

/// Runs a parsed scene (see [`run_file`]).
pub fn run_scene(scene: &Scene, path: &Path, text: &str, out: &Path) -> Result<Summary> {
    run_scene_with(scene, path, text, out, &mut |_| ControlFlow::Continue(()))
}

/// Where a run is, reported to [`run_scene_with`]'s callback.
#[derive(Clone, Copy, Debug)]
pub enum Progress {
    /// The network is built (wall-clock seconds it took).
    Built(f64),
    /// Simulated time so far and in all (ms).
    Simulated {
        /// Simulated so far (ms).
        done_ms: f64,
        /// The timeline's whole duration (ms).
        total_ms: f64,
    },
}

/// Longest wall-clock time of one tick the runner aims for (s): how often
/// progress is reported and how soon a stop request is seen.
const TICK_TARGET_S: f64 = 0.1;

/// The dense weight recordings of the end of the run and every
/// `RecordWeights` of the timeline, against the room on the disk of `out`,
/// before anything is simulated (each file is checked again as it is written).
fn check_disk_for_weights(scene: &Scene, path: &Path, text: &str, sim: &Simulation, out: &Path) -> Result<()> {
    let Some(free) = crate::io::available_disk_bytes(out) else {
        return Ok(());
    };
    let net = sim.network()?;
    let dense = |name: &str| {
        net.projection(name)
            .map_or(0, |p| 4 * u128::from(p.store.n_pre) * u128::from(p.store.n_post))
    };
    let at_end = scene
        .record
        .weights
        .iter()
        .enumerate()
        .map(|(k, w)| (dense(w), vec!["record".to_string(), "weights".into(), k.to_string()]));
    // every snapshot stays on disk: all of them count (in memory, one at a time did)
    let snapshots = scene.timeline.iter().enumerate().filter_map(|(k, a)| match a {
        Action::RecordWeights { projection } => Some((
            dense(projection),
            vec!["timeline".to_string(), k.to_string(), "projection".into()],
        )),
        _ => None,
    });
    let parts: Vec<_> = at_end.chain(snapshots).collect();
    let total: u128 = parts.iter().map(|p| p.0).sum();
    let Some((_, at)) = parts.iter().max_by_key(|p| p.0).filter(|_| total > u128::from(free)) else {
        return Ok(());
    };
    let e = CortecsError::InvalidRequest(format!(
        "the dense weight recordings need at least {}, more than the {} free on the disk of {}",
        crate::io::bytes_text(total),
        crate::io::bytes_text(u128::from(free)),
        out.display()
    ));
    let loc = Located { path, text };
    Err(loc.at_path(&at.iter().map(String::as_str).collect::<Vec<_>>(), e))
}

/// Runs a parsed scene (see [`run_file`]), telling `progress` when the
/// network is built and after each simulated chunk (at most 1000 steps and
/// about 0.1 s of wall-clock time). When `progress` answers
/// [`ControlFlow::Break`] after a chunk, the run stops there: recordings and
/// `summary.json` (status `interrupted`) are written and the result is
/// [`CortecsError::Interrupted`]. How steps are chunked does not change results.
pub fn run_scene_with(
    scene: &Scene,
    path: &Path,
    text: &str,
    out: &Path,
    progress: &mut dyn FnMut(Progress) -> ControlFlow<()>,
) -> Result<Summary> {
    super::validate(scene, path, text)?;
    let t0 = Instant::now();
    let mut sim = build(scene, path, text)?;
    let build_s = t0.elapsed().as_secs_f64();
    let mut stop = progress(Progress::Built(build_s)).is_break();
    let total = total_ms(scene);
    let mut done_ms = 0.0;
    std::fs::create_dir_all(out).map_err(|e| CortecsError::file(out, e))?;
    check_disk_for_weights(scene, path, text, &sim, out)?;
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
    let start_step = now;
    let network = sim.network;
    let mut recorders = Recorders::new(spike_recs, state_recs, now);
    if let Some(s) = scene.record.flush_s {
        recorders.flush_every = std::time::Duration::from_secs_f64(s);
    }
    sim.world.entity_mut(network).insert((recorders, Timeline::default()));
    // noisy currents (the scene's, after a checkpoint's own)
    for n in &scene.noise_currents {
        let every = crate::network::whole_steps("noise_currents.dt_ms", n.dt_ms, scene.dt, scene.rounding)?;
        sim.network_mut()?
            .add_noise_current(&n.population, n.mean, n.std, every)?;
    }
    // a closed loop: one tick per frame, so sensors and motors are exchanged every frame
    let frame_steps = match &scene.environment {
        Some(super::EnvironmentDef::Vehicle {
            sensors,
            motors,
            frame_ms,
            body,
        }) => {
            let at = |e| Located { path, text }.at_path(&["environment"], e);
            let steps =
                crate::network::whole_steps("environment.frame_ms", *frame_ms, scene.dt, scene.rounding).map_err(at)?;
            let log = out.join("environment.npy");
            let parts =
                Environment::vehicle(sim.network()?, body.clone(), (sensors, motors), steps, Some(&log)).map_err(at)?;
            sim.world.entity_mut(network).insert(parts);
            Some(steps)
        }
        None => None,
    };
    let default_timeline = [Action::Run { ms: 1000.0 }];
    let timeline: &[Action] = if scene.timeline.is_empty() {
        &default_timeline
    } else {
        &scene.timeline
    };
    let loc = Located { path, text };
    let mut files_saved = Vec::new();
    let mut tick_limit = 1000u64;
    let t1 = Instant::now();
    // the timeline; on an error, what was recorded so far is still written, with status `failed`
    let outcome = (|| -> Result<()> {
        for (index, action) in timeline.iter().enumerate() {
            let index = index.to_string();
            if stop {
                return Err(interrupted(&sim, &index));
            }
            // edits go on the network's timeline and are applied by the Adjust stage of a tick without steps
            let edit = match action {
                Action::Run { ms } => {
                    let steps = crate::network::whole_steps("Run.ms", *ms, scene.dt, scene.rounding)
                        .map_err(|e| loc.at_path(&["timeline", &index, "ms"], e))?;
                    let mut done = 0;
                    while done < steps {
                        if stop {
                            return Err(interrupted(&sim, &index));
                        }
                        // the Record stage samples at the end of each tick: no tick runs past a due sample
                        let now = sim.network()?.step;
                        let due = on_network::<Recorders>(&mut sim, "recorders")?
                            .steps_to_next_sample(now)
                            .unwrap_or(u64::MAX);
                        let frame = frame_steps.map_or(u64::MAX, |f| f - (now - start_step) % f);
                        let n = due.min(tick_limit).min(steps - done).min(frame);
                        let t = Instant::now();
                        sim.advance(n).map_err(|e| loc.at_path(&["timeline", &index], e))?;
                        let per_step = t.elapsed().as_secs_f64() / n as f64;
                        tick_limit = ((TICK_TARGET_S / per_step.max(1e-9)) as u64).clamp(1, 1000);
                        done += n;
                        stop = progress(Progress::Simulated {
                            done_ms: done_ms + done as f64 * scene.dt,
                            total_ms: total,
                        })
                        .is_break();
                        if let Some(e) = on_network::<Recorders>(&mut sim, "recorders")?.error.take() {
                            return Err(e);
                        }
                        if frame_steps.is_some()
                            && let Some(e) = on_network::<Environment>(&mut sim, "environment")?.error.take()
                        {
                            return Err(e);
                        }
                    }
                    done_ms += ms;
                    None
                }
                Action::Set {
                    population,
                    name,
                    value,
                    neurons,
                } => Some((
                    "value",
                    ScheduledEdit::Set {
                        population: population.clone(),
                        name: name.clone(),
                        neurons: neurons.clone(),
                        // `.npy` paths are relative to the scene's folder, as everywhere in a scene
                        value: match value.to_value() {
                            crate::param::Value::Npy(p) => crate::param::Value::Npy(sim.network()?.base_dir.join(p)),
                            v => v,
                        },
                    },
                )),
                Action::Lesion { projection, pre, post } => Some((
                    "projection",
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
                    "adjuster",
                    ScheduledEdit::Adjust {
                        projection: projection.clone(),
                        adjuster: adjuster.clone(),
                        filter: *filter,
                    },
                )),
                Action::SetWeights { projection, file } => {
                    let net = sim.network()?;
                    let s = net
                        .projection(projection)
                        .map_err(|e| loc.at_path(&["timeline", &index], e))?
                        .store();
                    let (n_post, n_pre) = (s.n_post as usize, s.n_pre as usize);
                    let weights = crate::io::read_npy_matrix(&net.base_dir.join(file), n_post, n_pre)
                        .map_err(|e| loc.at_path(&["timeline", &index, "file"], e.into()))?;
                    Some((
                        "file",
                        ScheduledEdit::SetWeights {
                            projection: projection.clone(),
                            weights,
                        },
                    ))
                }
                Action::Learn {
                    projection,
                    learning,
                    plasticity,
                } => {
                    sim.network_mut()?
                        .add_learning(projection, learning.clone(), *plasticity)
                        .map_err(|e| loc.at_path(&["timeline", &index], e))?;
                    None
                }
                Action::Input {
                    population,
                    file,
                    trial,
                } => {
                    let net = sim.network_mut()?;
                    let full = net.base_dir.join(file);
                    let data = super::input_array(&full, net.population(population)?.trials(), *trial)
                        .map_err(|e| loc.at_path(&["timeline", &index, "file"], e))?;
                    net.play_input(population, data)
                        .map_err(|e| loc.at_path(&["timeline", &index, "file"], e))?;
                    None
                }
                Action::SetNoise { population, mean, std } => {
                    sim.network_mut()?
                        .noise_current_mut(population)
                        .and_then(|n| {
                            n.ok_or_else(|| {
                                CortecsError::InvalidRequest(format!("population '{population}' has no noisy current"))
                            })
                        })
                        .and_then(|n| n.set(*mean, *std))
                        .map_err(|e| loc.at_path(&["timeline", &index], e))?;
                    None
                }
                Action::MoveLight { x, y } => {
                    on_network::<Environment>(&mut sim, "environment")?
                        .move_light([*x, *y])
                        .map_err(|e| loc.at_path(&["timeline", &index], e))?;
                    None
                }
                Action::ResetRates => {
                    sim.network_mut()?.reset_rates();
                    None
                }
                Action::Save { file } => {
                    let path = out.join(file);
                    sim.save(&path)
                        .map_err(|e| loc.at_path(&["timeline", &index, "file"], e))?;
                    files_saved.push(path);
                    None
                }
                Action::Modulate { projection, value } => {
                    let net = sim.network_mut()?;
                    net.set_modulator(projection, *value)
                        .map_err(|e| loc.at_path(&["timeline", &index], e))?;
                    None
                }
                Action::SetError { projection, error } => {
                    let net = sim.network_mut()?;
                    net.set_error(projection, error)
                        .map_err(|e| loc.at_path(&["timeline", &index], e))?;
                    None
                }
                Action::Grow { projection } => {
                    sim.network_mut()?
                        .grow(projection)
                        .map_err(|e| loc.at_path(&["timeline", &index], e))?;
                    None
                }
                Action::Prune { projection } => {
                    sim.network_mut()?
                        .prune(projection)
                        .map_err(|e| loc.at_path(&["timeline", &index], e))?;
                    None
                }
                Action::RecordWeights { projection } => {
                    let net = sim.network()?;
                    let ms = net.time();
                    let file = out.join(format!("{projection}_weights_{ms}ms.npy"));
                    net.projection(projection)
                        .and_then(|p| crate::record::write_dense_weights(&file, &p.store, projection))
                        .map_err(|e| loc.at_path(&["timeline", &index], e))?;
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
                        .map_err(|e| loc.at_path(&["timeline", &index], e))?;
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
                    return Err(loc.at_path(&["timeline", &index, owner], e));
                }
            }
        }
        sim.sync()
    })();
    let run_s = t1.elapsed().as_secs_f64();
    let mut files = files_saved;
    let recs = sim.world.entity_mut(network).take::<Recorders>().unwrap_or_default();
    let (spikes, states) = recs.finish()?;
    let spike_files: Vec<Vec<PathBuf>> = spikes.into_iter().map(|s| s.files).collect();
    let state_files: Vec<Vec<PathBuf>> = states.into_iter().map(|s| s.files).collect();
    files.extend(spike_files.iter().chain(&state_files).flatten().cloned());
    let environment_log = match sim.world.entity_mut(network).take::<Environment>() {
        Some(env) => {
            let side = env.vehicle.spec.arena;
            env.finish()?.map(|log| (log, side))
        }
        None => None,
    };
    files.extend(environment_log.iter().map(|(log, _)| log.clone()));
    let stages = sim
        .world
        .get_resource::<StageTimers>()
        .map(|t| t.stages().iter().map(|&(n, s)| (n.to_string(), s)).collect())
        .unwrap_or_default();
    let net = sim.network()?;
    for w in &scene.record.weights {
        let file = out.join(format!("{w}_weights.npy"));
        crate::record::write_dense_weights(&file, &net.projection(w)?.store, w)?;
        files.push(file);
    }
    let mut outcome = outcome;
    if scene.record.plots {
        let rec = RunRecordings {
            spikes: scene
                .record
                .spikes
                .iter()
                .zip(&spike_files)
                .map(|(p, f)| SpikeFiles {
                    population: p.clone(),
                    times: f[0].clone(),
                    neurons: f[1].clone(),
                })
                .collect(),
            states: scene
                .record
                .state
                .iter()
                .zip(&state_files)
                .map(|(p, f)| StateFiles {
                    population: p.population.clone(),
                    variable: p.variable.clone(),
                    neurons: p.neurons.clone(),
                    values: f[0].clone(),
                    times: f[1].clone(),
                })
                .collect(),
            weights: scene.record.weights.clone(),
            start_ms: start_step as f64 * scene.dt,
            environment: environment_log,
        };
        // a plot that cannot be drawn fails the run; what was recorded stays
        match crate::record::plots::plot_run(out, net, &rec) {
            Ok(plots) => files.extend(plots),
            Err(e) => outcome = outcome.and(Err(e)),
        }
    }
    let seconds = net.time() / 1000.0;
    let mem = crate::network::synapse_memory(net);
    let summary = Summary {
        scene: path.to_path_buf(),
        out: out.to_path_buf(),
        status: match &outcome {
            Ok(()) => "complete",
            Err(CortecsError::Interrupted(_)) => "interrupted",
            Err(_) => "failed",
        }
        .into(),
        error: outcome.as_ref().err().map(ToString::to_string),
        seed: scene.seed,
        threads: rayon::current_num_threads(),
        dt_ms: scene.dt,
        steps: net.step,
        time_ms: net.time(),
        timing_s: Timing {
            build: build_s,
            simulate: run_s,
            stages,
        },
        populations: net
            .populations
            .iter()
            .map(|p| {
                let s = PopulationSummary {
                    size: p.size,
                    model: p.model.name(),
                    spikes: p.spike_count,
                    rate_hz: p.spike_count as f64 / p.size as f64 / seconds.max(1e-12),
                };
                (p.name.clone(), s)
            })
            .collect(),
        projections: net
            .projections
            .iter()
            .map(|p| {
                let s = &p.store;
                let w = s.weight_stats(crate::store::SignFilter::Both);
                let q = ProjectionSummary {
                    pre: net.populations[p.pre].name.clone(),
                    post: net.populations[p.post].name.clone(),
                    strategy: p.strategy.name().to_string(),
                    synapses: s.live(),
                    excitatory: s.signs().filter(|&x| x > 0).count() as u64,
                    inhibitory: s.signs().filter(|&x| x < 0).count() as u64,
                    weight_mean: w.mean,
                    weight_std: w.std,
                };
                (p.name.clone(), q)
            })
            .collect(),
        memory: MemorySummary {
            peak_rss_bytes: crate::io::peak_rss_bytes(),
            bytes_per_synapse: mem.store_per_synapse(),
        },
        files: files.clone(),
    };
    let json = out.join("summary.json");
    crate::record::write_json_atomic(&json, &summary)?;
    let mut summary = summary;
    summary.files.push(json);
    outcome.map(|()| summary)
}

/// The error of a run stopped before timeline action `index` finished.
fn interrupted(sim: &Simulation, index: &str) -> CortecsError {
    match sim.network() {
        Ok(net) => CortecsError::Interrupted(format!(
            "interrupted at t = {} ms (step {}), in timeline action {index}",
            net.time(),
            net.step
        )),
        Err(e) => e,
    }
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
